"""What a digest says: the trending papers in the site's order, links, headers, the period."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy.orm import Session

from dailypapers.services import digests, trending
from dailypapers.services.digests import DigestPeriod, due_period
from dailypapers.services.subscriptions import SubscriptionError
from dailypapers.settings import Settings
from tests.digests.helpers import DAY, PERIOD, deliveries, featured_papers, run
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_paper, make_subscription


def test_digest_lists_the_sites_trending_order_with_links_and_headers(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    papers = featured_papers(db, [5, 40, 12, 1, 30])
    old = make_paper(db, upvotes=500, featured_on=DAY - dt.timedelta(days=30))  # out of window
    sub = make_subscription(db, email="ada@example.org", num_papers=4)
    summary = run(db, settings)
    assert (summary.sent, summary.error) == (1, None)
    [mail] = smtp_sink.messages
    msg = mail.message
    assert mail.to == "ada@example.org" and msg["To"] == "ada@example.org"
    assert msg["From"] == "Daily Papers <digest@example.org>"
    assert msg["Subject"] == "Daily Papers: today's trending papers · Thu, Jan 2, 2025"

    # The same ranking as the site: the trending service's order, cut at num_papers.
    expected = [card.key for card, _ in trending.trending(
        db=db, now=dt.datetime(2025, 1, 3), limit=4).ranked]
    assert expected == [papers[i].key for i in (1, 4, 2, 0)]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    text_links = re.findall(r"https://papers\.example\.org/papers/([\w.\-]+)", text)
    html_links = re.findall(r'href="https://papers\.example\.org/papers/([\w.\-]+)"', html)
    assert text_links == expected and html_links == expected
    assert old.key not in text and papers[3].key not in text
    assert 'style="' in html and "<script" not in html.lower()

    # RFC 8058: an https one-click URL and a mailto, plus the POST marker — as plain header
    # lines on the wire (an RFC 2047-encoded List-Unsubscribe is ignored by mail clients).
    head = mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert re.search(r"^List-Unsubscribe: <https://papers\.example\.org/unsubscribe\?token=[\w.\-]+>, "
                     r"<mailto:digest@example\.org\?subject=unsubscribe%20[\w.\-]+>\r?$", head, re.M)
    assert re.search(r"^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$", head, re.M)
    unsub = msg["List-Unsubscribe"]
    https, mailto = re.findall(r"<([^>]+)>", unsub)
    assert https.startswith("https://papers.example.org/unsubscribe?token=")
    assert mailto.startswith("mailto:digest@example.org?subject=unsubscribe%20")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = parse_qs(urlparse(https).query)["token"][0]
    assert token in mailto
    assert https in html and https in text  # the visible link too
    assert "/subscriptions/manage?token=" in text

    [row] = deliveries(db)
    assert (row.status, row.period, row.subscription_id) == ("sent", PERIOD, sub.id)
    assert row.paper_keys == expected and row.message_id == msg["Message-ID"]


def test_papers_already_sent_are_skipped_next_time(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    first = featured_papers(db, [50, 40, 30])
    make_subscription(db, email="ada@example.org", num_papers=2)
    run(db, settings, "daily:2025-01-02")
    later = featured_papers(db, [20], day=DAY + dt.timedelta(days=1))
    run(db, settings, "daily:2025-01-03")
    assert len(smtp_sink.messages) == 2
    second = smtp_sink.messages[1].message
    text = second.get_body(("plain",)).get_content()
    assert first[0].key not in text and first[1].key not in text
    assert first[2].key in text and later[0].key in text
    assert "Fri, Jan 3, 2025" in second["Subject"]
    # Nothing new left: no mail at all, and the outbox says why.
    summary = run(db, settings, "daily:2025-01-06")
    assert summary.sent == 0 and summary.skipped == 1 and len(smtp_sink.messages) == 2
    assert deliveries(db)[-1].last_error == "nothing new to send"


def test_weekly_subject_names_the_week(db: Session, settings: Settings,
                                       smtp_sink: SmtpSink) -> None:
    featured_papers(db, [3])
    make_subscription(db, email="ada@example.org", cadence="weekly", weekday=4)
    make_subscription(db, email="daily@example.org", cadence="daily")
    summary = run(db, settings, "weekly:2025-W01")
    assert summary.sent == 1
    [mail] = smtp_sink.messages
    assert mail.to == "ada@example.org"
    assert mail.message["Subject"] == ("Daily Papers: this week's trending papers · "
                                       "Week 1, Dec 30 – Jan 5, 2025")


def test_due_period_follows_the_subscribers_clock() -> None:
    # 2025-01-06 is a Monday. 07:30 UTC is 08:30 in Paris and 02:30 in New York.
    now = dt.datetime(2025, 1, 6, 7, 30)
    paris = due_period(cadence="daily", weekday=0, send_hour=8, timezone="Europe/Paris", now=now)
    assert paris == DigestPeriod("daily", digests.containing("day", dt.date(2025, 1, 6)))
    assert due_period(cadence="daily", weekday=0, send_hour=8, timezone="America/New_York",
                      now=now) is None
    # Daily digests skip the weekend.
    saturday = dt.datetime(2025, 1, 4, 12)
    assert due_period(cadence="daily", weekday=0, send_hour=8, timezone="UTC", now=saturday) is None
    # Weekly ones go out from the chosen day on, and catch up later in the same ISO week.
    for day, due in ((2, False), (3, True), (5, True)):  # Wed before Thu, Thu, Sat
        when = dt.datetime(2025, 1, 6 + day, 9)
        found = due_period(cadence="weekly", weekday=3, send_hour=8, timezone="UTC", now=when)
        assert (found is not None) == due
        if found:
            assert found.key == "weekly:2025-W02"


def test_period_parsing() -> None:
    assert DigestPeriod.parse("2025-11-20").key == "daily:2025-11-20"
    assert DigestPeriod.parse("2025-W47").key == "weekly:2025-W47"
    assert DigestPeriod.parse("weekly:2025-W47").period.start == dt.date(2025, 11, 17)
    for bad in ("daily:2025-13-01", "weekly:2025-11-20", "monthly:2025-11", "yesterday"):
        with pytest.raises(SubscriptionError, match="daily:YYYY-MM-DD"):
            DigestPeriod.parse(bad)
