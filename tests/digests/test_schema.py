"""Migration 0004 creates exactly what the Subscription and Delivery models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dailypapers.store import Base
from dailypapers.store.db import Database


def test_migration_matches_the_models(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diff if any(t in repr(d) for t in ("'subscriptions'", "'deliveries'",
                                                          "subscriptions.", "deliveries."))]
    assert ours == []
