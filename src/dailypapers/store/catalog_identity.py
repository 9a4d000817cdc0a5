"""CatalogIdentity: one row naming this database with a random id, written when it is migrated.

The search indexes live in files beside the database (``data_dir/search``) and record the id of
the catalog they were built from. A database deleted and created again at the same URL gets a new
id, so an index left from the old one is rebuilt instead of answering with papers the new
database does not hold (the URL alone cannot tell them apart). A copy of the database (a backup
restored, a template cloned) keeps its id: it is the same catalog.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.selectable import ScalarSelect

from dailypapers.store.base import Base


class CatalogIdentity(Base):
    __tablename__ = "catalog_identity"

    # Always 1: the table holds one row.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    catalog_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


def catalog_id_column() -> ScalarSelect[str]:
    """The catalog's id as a scalar subquery, to be read in the same round trip as other values
    (the search indexes ask it with their ``max(modified_at)`` before every query)."""
    return select(CatalogIdentity.catalog_id).where(CatalogIdentity.id == 1).scalar_subquery()
