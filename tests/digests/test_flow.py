"""The whole path against a real server process, a real SMTP server and the real CLI:
subscribe → confirmation mail → confirm → ``digest send`` → one-click unsubscribe → nothing more.
Bad input over HTTP changes nothing and sends nothing."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.services import subscriptions as subs
from dailypapers.settings import Settings
from dailypapers.store.subscriptions import Subscription
from tests.digests.helpers import DAY, featured_papers
from tests.digests.smtp_sink import SmtpSink
from tests.server import settings_env


def _send(settings: Settings, base_url: str, period: str) -> subprocess.CompletedProcess[str]:
    env = settings_env(settings.model_copy(update={"base_url": base_url}))
    return subprocess.run([sys.executable, "-m", "dailypapers", "digest", "send",
                           "--period", period], env=env, capture_output=True, text=True,
                          timeout=300)


def _link(text: str, path: str) -> str:
    match = re.search(rf"(http://127\.0\.0\.1:\d+{re.escape(path)}\?token=[\w.\-]+)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


def test_subscribe_confirm_digest_unsubscribe(db: Session, settings: Settings,
                                              smtp_sink: SmtpSink, live_server: str) -> None:
    papers = featured_papers(db, [3, 30, 10])
    client = httpx.Client(base_url=live_server, timeout=30, follow_redirects=True)
    page = client.get("/")
    assert 'href="/subscribe"' in page.text  # the banner
    form = client.get("/subscribe")
    assert form.status_code == 200 and 'name="email"' in form.text

    sent = client.post("/subscribe", data={"email": "Ada@Example.org"})
    assert sent.status_code == 200 and "Check your inbox" in sent.text
    [confirmation] = smtp_sink.messages
    assert confirmation.to == "Ada@example.org"
    assert confirmation.message["Subject"] == "Confirm your subscription to Daily Papers"
    confirm_url = _link(confirmation.message.get_body(("plain",)).get_content(), "/subscribe/confirm")

    # Unconfirmed: a digest run sends it nothing.
    early = _send(settings, live_server, "daily:2025-01-02")
    assert early.returncode == 0, early.stderr
    assert "0 queued, 0 sent" in early.stderr and len(smtp_sink.messages) == 1

    landing = client.get(confirm_url)
    assert landing.status_code == 200 and "Confirm my subscription" in landing.text
    token = re.search(r'name="token" value="([^"]+)"', landing.text).group(1)  # type: ignore[union-attr]
    confirmed = client.post("/subscribe/confirm", data={"token": token})
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text

    run = _send(settings, live_server, "daily:2025-01-02")
    assert run.returncode == 0, run.stderr
    assert "1 queued, 1 sent" in run.stderr
    digest = smtp_sink.messages[-1]
    msg = digest.message
    assert digest.to == "Ada@example.org" and len(smtp_sink.messages) == 2
    assert "Thu, Jan 2, 2025" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    links = re.findall(rf"{re.escape(live_server)}/papers/([\w.\-]+)", text)
    assert links == [papers[1].key, papers[2].key, papers[0].key]
    for key in links:  # every paper links to its page, and the page is there
        paper_page = client.get(f"/papers/{key}")
        assert paper_page.status_code == 200
    https, mailto = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
    assert https.startswith(f"{live_server}/unsubscribe?token=") and mailto.startswith("mailto:")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    manage = client.get(_link(text, "/subscriptions/manage"))
    assert manage.status_code == 200 and "status-active" in manage.text

    # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" to the header's URL, with
    # no cookie and no other token; twice is the same as once.
    for _ in range(2):
        gone = httpx.post(https, content=b"List-Unsubscribe=One-Click", timeout=30,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert gone.status_code == 200 and "You are unsubscribed" in gone.text
    db.expire_all()
    assert db.scalars(select(Subscription)).one().status == "unsubscribed"

    featured_papers(db, [50], day=DAY + dt.timedelta(days=1))
    after = _send(settings, live_server, "daily:2025-01-03")
    assert after.returncode == 0, after.stderr
    assert "0 queued, 0 sent" in after.stderr and len(smtp_sink.messages) == 2


def _expired_token(secret: str, sub: Subscription) -> str:
    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 49 * 3600

    serializer = URLSafeTimedSerializer(secret, salt="dailypapers.subscription.confirm",
                                        signer=LongAgo)
    return serializer.dumps([sub.id, sub.token_nonce, ""])


@pytest.mark.parametrize("email, message", [
    ("ada@example.org\r\nBcc: everyone@example.org", "line breaks"),
    ("ada@example.org@example.net", "exactly one @"),
    ("a" * 10_000 + "@example.org", "too long"),
])
def test_bad_addresses_over_http_store_and_send_nothing(
        db: Session, settings: Settings, smtp_sink: SmtpSink, live_server: str,
        email: str, message: str) -> None:
    reply = httpx.post(f"{live_server}/subscribe", data={"email": email}, timeout=30)
    assert reply.status_code == 400 and message in reply.text
    assert db.scalar(select(func.count()).select_from(Subscription)) == 0
    assert smtp_sink.messages == []


def test_forged_and_expired_links_are_refused(db: Session, settings: Settings,
                                              smtp_sink: SmtpSink, live_server: str) -> None:
    sub = subs.subscribe(db=db, email="ada@example.org").subscription
    good = subs.manage_token(secret=settings.secret_key, subscription=sub)
    forged = URLSafeTimedSerializer("guessed-secret", salt="dailypapers.subscription.manage"
                                    ).dumps([sub.id, sub.token_nonce])
    expired = _expired_token(settings.secret_key, sub)
    client = httpx.Client(base_url=live_server, timeout=30)
    for method, path, data in (
            ("POST", f"/unsubscribe?token={forged}", None),
            ("POST", f"/unsubscribe?token={good[:-2]}xx", None),
            ("GET", f"/subscriptions/manage?token={forged}", None),
            ("POST", "/subscribe/confirm", {"token": forged}),
            ("GET", f"/subscribe/confirm?token={expired}", None),
            ("POST", "/subscribe/confirm", {"token": expired})):
        reply = client.request(method, path, data=data)
        assert reply.status_code == 400, (method, path)
        assert "This link" in reply.text and ("not valid" in reply.text or "expired" in reply.text)
    assert "expired" in client.get(f"/subscribe/confirm?token={expired}").text
    db.expire_all()
    sub = db.scalars(select(Subscription)).one()
    assert sub.confirmed_at is None and sub.unsubscribed_at is None
    assert smtp_sink.messages == []


def test_topic_feed_is_atom(db: Session, settings: Settings, live_server: str) -> None:
    featured_papers(db, [5], title="Diffusion models for protein design")
    featured_papers(db, [9], title="A survey of retrieval augmented generation")
    feed = httpx.get(f"{live_server}/topics/feed.atom", params={"q": "diffusion"}, timeout=60)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert "Diffusion models for protein design" in feed.text
    assert "retrieval augmented" not in feed.text
    empty = httpx.get(f"{live_server}/topics/feed.atom", params={"q": "  "}, timeout=30)
    assert empty.status_code == 400


def test_smtp_down_while_subscribing_is_a_clear_503_and_a_retry_mails_at_once(
        db: Session, settings: Settings, smtp_sink: SmtpSink, live_server: str) -> None:
    smtp_sink.stop()
    down = httpx.post(f"{live_server}/subscribe", data={"email": "ada@example.org"}, timeout=60)
    assert down.status_code == 503 and "could not send the confirmation mail" in down.text
    smtp_sink.start()
    again = httpx.post(f"{live_server}/subscribe", data={"email": "ada@example.org"}, timeout=60)
    assert again.status_code == 200
    assert [m.to for m in smtp_sink.messages] == ["ada@example.org"]
    db.expire_all()
    assert db.scalars(select(Subscription)).one().status == "unconfirmed"
