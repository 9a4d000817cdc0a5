"""A member's digest can be "For you" (then trending): through the same outbox, with the reason
for each paper, and the choice is theirs on the preferences page (members only)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy.orm import Session

from dailypapers.search.embedder import store_vectors
from dailypapers.services import recommend, subscription_preferences, votes
from dailypapers.services.subscription_preferences import parse_preferences
from dailypapers.services.subscriptions import SubscriptionError, manage_token
from dailypapers.settings import Settings
from tests.digests.helpers import DAY, PERIOD, deliveries, run
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_paper, make_subscription, make_user


def paper(db, vector, **overrides):
    p = make_paper(db, featured_on=overrides.pop("day", DAY), **overrides)
    store_vectors(db=db, model=recommend.DEFAULT_MODEL, rows=[(p.id, "h", np.asarray(vector, dtype=np.float32))])
    db.commit()
    return p


def test_a_for_you_digest_lists_the_members_papers_first_with_reasons(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    kept = paper(db, [1, 0, 0], day=DAY - dt.timedelta(days=20), title="Kept on graph transformers")
    mine = paper(db, [0.95, 0.05, 0], title="Close to what Ada keeps", upvotes=0)
    loud = [paper(db, [0, 0, 1], title=f"Loud paper {i}", upvotes=100 - i) for i in range(8)]
    ada = make_user(db, username="ada")
    votes.upvote(db=db, user_id=ada.id, paper_key=kept.key)
    db.commit()
    make_subscription(db, email="ada@example.org", user_id=ada.id, kind="for_you", num_papers=2)
    make_subscription(db, email="bob@example.org", num_papers=2)  # trending, as before
    summary = run(db, settings)
    assert (summary.sent, summary.error) == (2, None)
    mails = {m.to: m.message for m in smtp_sink.messages}
    ada_mail, bob_mail = mails["ada@example.org"], mails["bob@example.org"]
    assert ada_mail["Subject"] == "Daily Papers: today's papers for you · Thu, Jan 2, 2025"
    assert bob_mail["Subject"] == "Daily Papers: today's trending papers · Thu, Jan 2, 2025"
    text = ada_mail.get_body(("plain",)).get_content()
    assert text.startswith("Daily Papers · Papers for you · Thu, Jan 2, 2025")
    # For you: Ada's nearest paper first (then the day's next best), then the rest of trending
    assert text.index("FOR YOU") < text.index(mine.title) < text.index("TRENDING") < text.index("Loud paper 1")
    assert "Close to “Kept on graph transformers” in your library" in text
    html = ada_mail.get_body(("html",)).get_content()
    assert "For you" in html and "Close to “Kept on graph transformers” in your library" in html
    assert mine.title not in bob_mail.get_body(("plain",)).get_content()
    rows = {r.subscription_id: r for r in deliveries(db)}
    ada_row = next(r for r in rows.values() if mine.key in r.paper_keys)
    # For you's two (the day's nearest), then trending's papers not already listed
    assert ada_row.paper_keys[0] == mine.key and ada_row.period == PERIOD
    assert ada_row.paper_keys[2:] == [p.key for p in loud[1:3]]  # trending: num_papers (at most 5) more, none twice


def test_for_you_is_a_members_choice(db: Session, settings: Settings) -> None:
    ada = make_user(db, username="ada")
    member = make_subscription(db, email="ada@example.org", user_id=ada.id)
    guest = make_subscription(db, email="guest@example.org")
    prefs = parse_preferences(cadence="daily", weekday=0, send_hour=8, timezone="UTC", num_papers=5,
                              topics="", kind="for_you")
    saved = subscription_preferences.update_preferences(
        db=db, secret=settings.secret_key, token=manage_token(secret=settings.secret_key, subscription=member),
        preferences=prefs)
    db.commit()
    assert saved.kind == "for_you" and subscription_preferences.preferences_of(saved).kind == "for_you"
    with pytest.raises(SubscriptionError):
        subscription_preferences.update_preferences(
            db=db, secret=settings.secret_key, token=manage_token(secret=settings.secret_key, subscription=guest),
            preferences=prefs)
    db.rollback()
    assert guest.kind == "trending"
    with pytest.raises(SubscriptionError):
        parse_preferences(cadence="daily", weekday=0, send_hour=8, timezone="UTC", num_papers=5, topics="",
                          kind="everything")
