"""The store: SQLAlchemy 2 typed models, the engine/session factory and Alembic migrations."""

from dailypapers.store.base import Base
from dailypapers.store.daily import DailyEntry
from dailypapers.store.embeddings import Embedding
from dailypapers.store.orgs import Organization
from dailypapers.store.papers import Author, Paper, PaperAuthor

__all__ = ["Base", "Author", "DailyEntry", "Embedding", "Organization", "Paper", "PaperAuthor"]
