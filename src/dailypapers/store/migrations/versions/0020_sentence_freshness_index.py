"""sentence embeddings: index (model, created_at) for similar papers' freshness check

Similar papers are kept per paper and catalog version (services/similar.py); the version includes
the newest ``sentence_embeddings.created_at`` of the model, asked on every paper page. Without an
index that is a scan of the table (a row per paper: 1M rows at 1M papers); ``embeddings`` has had
the same index since 0008.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sentence_embeddings', schema=None) as batch_op:
        batch_op.create_index('ix_sentence_embeddings_model_created_at', ['model', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sentence_embeddings', schema=None) as batch_op:
        batch_op.drop_index('ix_sentence_embeddings_model_created_at')
