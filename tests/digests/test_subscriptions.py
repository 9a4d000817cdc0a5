"""Subscriptions: address validation, double opt-in tokens, preferences, unsubscribe."""

from __future__ import annotations

import datetime as dt

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.services import subscription_preferences as preferences
from dailypapers.services import subscriptions as subs
from dailypapers.store.subscriptions import Subscription

SECRET = "test-secret"
DAY = dt.timedelta(days=1)


def _count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Subscription)) or 0


@pytest.mark.parametrize("raw, why", [
    ("ada@example.org\r\nBcc: victim@example.org", "line breaks"),
    ("ada@example.org\n", "line breaks"),
    ("ada@@example.org", "exactly one @"),
    ("ada@example.org@evil.example", "exactly one @"),
    ("no-at-sign.example.org", "exactly one @"),
    ("a" * 10_000 + "@example.org", "too long"),
    ("ada@localhost", "domain"),
    ("ada@exa mple.org", "spaces"),
    (".ada@example.org", "mailbox"),
    ("", "enter your"),
])
def test_bad_addresses_are_refused_and_store_nothing(db: Session, raw: str, why: str) -> None:
    with pytest.raises(subs.SubscriptionError, match=why):
        subs.subscribe(db=db, email=raw)
    assert _count(db) == 0


def test_addresses_are_normalized_and_one_per_mailbox(db: Session) -> None:
    first = subs.subscribe(db=db, email="  Ada.Lovelace+papers@Example.ORG ")
    assert first.subscription.email == "Ada.Lovelace+papers@example.org"
    assert first.send_confirmation
    again = subs.subscribe(db=db, email="ada.lovelace+papers@example.org")
    assert again.subscription.id == first.subscription.id
    assert not again.send_confirmation  # throttled: a confirmation went out a moment ago
    later = subs.subscribe(db=db, email="ada.lovelace+papers@example.org",
                           now=first.subscription.confirm_sent_at + dt.timedelta(minutes=11))
    assert later.send_confirmation
    assert _count(db) == 1


def test_unicode_domains_are_stored_as_idna(db: Session) -> None:
    sub = subs.subscribe(db=db, email="ada@bücher.example").subscription
    assert sub.email == "ada@xn--bcher-kva.example"


def test_confirmation_link_confirms_once_and_expires(db: Session) -> None:
    sub = subs.subscribe(db=db, email="ada@example.org").subscription
    assert sub.status == "unconfirmed"
    token = subs.confirmation_token(secret=SECRET, subscription=sub)
    confirmed = subs.confirm(db=db, secret=SECRET, token=token, max_age=DAY)
    assert confirmed.status == "active"
    first_confirmed_at = confirmed.confirmed_at
    subs.confirm(db=db, secret=SECRET, token=token, max_age=DAY)  # idempotent
    assert confirmed.confirmed_at == first_confirmed_at
    with pytest.raises(subs.TokenError, match="expired"):
        subs.confirm(db=db, secret=SECRET, token=token, max_age=dt.timedelta(seconds=-1))


def test_forged_and_foreign_tokens_are_refused(db: Session) -> None:
    sub = subs.subscribe(db=db, email="ada@example.org").subscription
    good = subs.confirmation_token(secret=SECRET, subscription=sub)
    forged = URLSafeTimedSerializer("not-our-secret", salt="dailypapers.subscription.confirm"
                                    ).dumps([sub.id, sub.token_nonce])
    manage = subs.manage_token(secret=SECRET, subscription=sub)
    for token in (forged, good[:-3] + "AAA", manage, "", "x" * 600):
        with pytest.raises(subs.TokenError):
            subs.confirm(db=db, secret=SECRET, token=token, max_age=DAY)
    # A confirmation token does not work as an unsubscribe/preferences token either.
    with pytest.raises(subs.TokenError):
        subs.unsubscribe(db=db, secret=SECRET, token=good)
    db.refresh(sub)
    assert sub.confirmed_at is None and sub.unsubscribed_at is None


def test_rotating_the_nonce_revokes_links(db: Session) -> None:
    sub = subs.subscribe(db=db, email="ada@example.org").subscription
    manage = subs.manage_token(secret=SECRET, subscription=sub)
    sub.token_nonce = "0" * 32
    db.commit()
    with pytest.raises(subs.TokenError, match="no longer valid"):
        subs.subscription_for_token(db=db, secret=SECRET, token=manage)


def test_unsubscribe_is_idempotent_and_old_confirmations_do_not_revive(db: Session) -> None:
    t0 = dt.datetime(2025, 1, 1, 8)
    sub = subs.subscribe(db=db, email="ada@example.org", now=t0).subscription
    old_confirm = subs.confirmation_token(secret=SECRET, subscription=sub)
    subs.confirm(db=db, secret=SECRET, token=old_confirm, max_age=DAY * 10_000)
    manage = subs.manage_token(secret=SECRET, subscription=sub)
    first = subs.unsubscribe(db=db, secret=SECRET, token=manage)
    when = first.unsubscribed_at
    assert first.status == "unsubscribed"
    assert subs.unsubscribe(db=db, secret=SECRET, token=manage).unsubscribed_at == when
    with pytest.raises(subs.TokenError, match="unsubscribed after"):
        subs.confirm(db=db, secret=SECRET, token=old_confirm, max_age=DAY * 10_000)
    # Subscribing again sends a fresh link at once (no throttle after an unsubscribe) …
    again = subs.subscribe(db=db, email="ada@example.org")
    assert again.send_confirmation and again.subscription.status == "unsubscribed"
    # … and only that link re-activates.
    fresh = subs.confirmation_token(secret=SECRET, subscription=again.subscription)
    assert subs.confirm(db=db, secret=SECRET, token=fresh, max_age=DAY).status == "active"


def test_verified_member_address_is_active_at_once(db: Session) -> None:
    result = subs.subscribe(db=db, email="member@example.org", user_id=7, email_verified=True)
    assert not result.send_confirmation
    assert result.subscription.status == "active" and result.subscription.user_id == 7


def test_preferences_are_validated_and_saved(db: Session) -> None:
    sub = subs.subscribe(db=db, email="ada@example.org").subscription
    token = subs.manage_token(secret=SECRET, subscription=sub)
    prefs = preferences.parse_preferences(cadence="weekly", weekday="4", send_hour="7",
                                   timezone="Europe/Paris", num_papers="5",
                                   topics="diffusion models\n\n  Diffusion   Models \nretrieval")
    assert prefs.topics == ("diffusion models", "retrieval")
    sub.paused_at, sub.failure_count = dt.datetime(2025, 1, 1), 3
    db.commit()
    saved = preferences.update_preferences(db=db, secret=SECRET, token=token, preferences=prefs)
    assert (saved.cadence, saved.weekday, saved.send_hour, saved.timezone, saved.num_papers,
            saved.topics) == ("weekly", 4, 7, "Europe/Paris", 5, ["diffusion models", "retrieval"])
    assert saved.paused_at is None and saved.failure_count == 0


@pytest.mark.parametrize("field, value, message", [
    ("cadence", "hourly", "daily or weekly"),
    ("weekday", "7", "Weekday"),
    ("send_hour", "noon", "Send hour"),
    ("timezone", "Mars/Olympus_Mons", "Unknown time zone"),
    ("timezone", "../../etc/passwd", "Unknown time zone"),
    ("num_papers", "0", "Number of papers"),
    ("topics", "\n".join(f"topic {i}" for i in range(6)), "At most 5 topics"),
    ("topics", "x" * 201, "at most 200"),
])
def test_bad_preferences_name_the_field(field: str, value: str, message: str) -> None:
    raw = {"cadence": "daily", "weekday": "0", "send_hour": "8", "timezone": "UTC",
           "num_papers": "10", "topics": ""}
    raw[field] = value
    with pytest.raises(subs.SubscriptionError, match=message):
        preferences.parse_preferences(**raw)


def test_unsubscribe_by_mail_reads_the_token_from_the_subject(db: Session) -> None:
    sub = subs.subscribe(db=db, email="ada@example.org").subscription
    token = subs.manage_token(secret=SECRET, subscription=sub)
    raw = (f"From: ada@example.org\r\nTo: digest@example.org\r\n"
           f"Subject: unsubscribe {token}\r\n\r\n").encode()
    assert subs.unsubscribe_by_mail(db=db, secret=SECRET, raw=raw) == "ada@example.org"
    assert sub.status == "unsubscribed"
    with pytest.raises(subs.TokenError):
        subs.unsubscribe_by_mail(db=db, secret=SECRET, raw=b"Subject: hello\r\n\r\n")
