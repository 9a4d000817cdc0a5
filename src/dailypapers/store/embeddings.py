"""Embedding: one vector per (paper, model), with the hash of the text it was computed from;
SentenceEmbedding: the vectors of its abstract sentences."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dailypapers.store.base import Base, utcnow


class Embedding(Base):
    __tablename__ = "embeddings"
    # (model, created_at): "the newest vector of this model" without a scan (migration 0008).
    __table_args__ = (UniqueConstraint("paper_id", "model"),
                      Index("ix_embeddings_model_created_at", "model", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    # float32 little-endian bytes; the PostgreSQL backend mirrors them into a pgvector column.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SentenceEmbedding(Base):
    """The vectors of one paper's abstract sentences for one model (issue 15: sentence-level
    matching), all in one row: similar papers read a candidate's sentences in one lookup."""

    __tablename__ = "sentence_embeddings"
    # (model, created_at): similar papers' freshness check on every paper page (migration 0020).
    __table_args__ = (UniqueConstraint("paper_id", "model"),
                      Index("ix_sentence_embeddings_model_created_at", "model", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    # search.sentences.sentences_hash of the split: recomputed exactly when the sentences change.
    content_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    dim: Mapped[int] = mapped_column(Integer)
    # count × dim float16 little-endian (half of float32; CSFCube NDCG%20 equal to 2 decimals).
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
