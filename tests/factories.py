"""One factory per noun: ``make_paper(db, **overrides)``."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.services.catalog_import import import_records
from dailypapers.sources.records import Org, PaperRecord
from dailypapers.store import Paper, User

_ids = itertools.count(1)


def make_record(**overrides: Any) -> PaperRecord:
    n = next(_ids)
    values: dict[str, Any] = {
        "arxiv_id": f"2501.{n:05d}",
        "title": f"Test paper number {n}",
        "abstract": f"Abstract of test paper {n}.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "published_at": dt.datetime(2025, 1, 1, 12, 0),
        "featured_on": dt.date(2025, 1, 2),
        "upvotes": 1,
    }
    values.update(overrides)
    if isinstance(values.get("organization"), tuple):
        values["organization"] = Org(*values["organization"])
    return PaperRecord(**values)


def make_paper(db: Session, **overrides: Any) -> Paper:
    record = make_record(**overrides)
    import_records(db=db, records=[record])
    return db.scalars(select(Paper).where(Paper.key == record.public_key())).one()


def make_user(db: Session, **overrides: Any) -> User:
    """A member account; the password is ``correct horse battery`` unless overridden."""
    from dailypapers.services.accounts import sign_up
    from dailypapers.store import Role

    n = next(_ids)
    values: dict[str, Any] = {"username": f"user{n}", "email": f"user{n}@example.org",
                              "password": "correct horse battery", "display_name": ""}
    role = overrides.pop("role", Role.MEMBER)
    values.update(overrides)
    user = sign_up(db=db, role=Role(role), **values)
    db.commit()  # services never commit: the factory is the use case here
    return user


def make_subscription(db: Session, **overrides: Any):  # -> Subscription
    """A digest subscription, confirmed (active) unless ``confirmed=False``."""
    import secrets

    from dailypapers.store.base import utcnow
    from dailypapers.store.subscriptions import Subscription

    n = next(_ids)
    confirmed = overrides.pop("confirmed", True)
    email = overrides.pop("email", f"reader{n}@example.org")
    values: dict[str, Any] = {
        "email": email, "email_key": email.casefold(), "cadence": "daily", "weekday": 0,
        "send_hour": 8, "timezone": "UTC", "num_papers": 10, "topics": [],
        "token_nonce": secrets.token_hex(16), "failure_count": 0,
        "confirmed_at": utcnow() if confirmed else None,
    }
    values.update(overrides)
    sub = Subscription(**values)
    db.add(sub)
    db.commit()
    return sub
