"""Sign-up by mail against the real server and a real SMTP server (aiosmtpd): the form answers the
same for any address, the mail goes out after the response, and the mailed link finishes the
account once, keeping ``next=`` (issue 10's enumeration probe, issue 13's "next survives")."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from itsdangerous import TimestampSigner

from dailypapers.services import signups
from dailypapers.services.errors import Invalid
from tests.community.conftest import site_with_held_mail
from tests.community.helpers import PASSWORD, csrf_from, log_in, post_form
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_user


def _main_text(html: str) -> str:
    """The page's main content without per-request CSRF tokens and the address typed."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r'value="[0-9a-f]{64}"', "", main).replace("known@example.org", "ADDRESS") \
        .replace("newcomer@example.org", "ADDRESS")


def _mail_text(sink: SmtpSink, address: str) -> str:
    deadline = time.monotonic() + 30
    while not sink.to(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    [mail] = sink.to(address)
    body = mail.message.get_body(("plain",))
    assert body is not None
    return body.get_content()


def _path(text: str, prefix: str) -> str:
    match = re.search(rf"https?://[^/\s]+({re.escape(prefix)}\S*)", text)
    assert match, f"no {prefix} link in {text!r}"
    return match.group(1)


def test_sign_up_answers_the_same_for_any_address_and_the_mail_finishes_it_once(request, tmp_path):
    with site_with_held_mail(request, tmp_path) as (site, sink, release):
        with site.database.session() as db:
            make_user(db, username="known", email="known@example.org")
        http = httpx.Client(base_url=site.url, timeout=20)
        page = "/signup?next=/submit&why=submit"
        answers = [post_form(http, page, "/signup", {"username": name, "email": address,
                                                     "next": "/submit"})
                   for name, address in (("someone", "known@example.org"),
                                         ("newcomer", "newcomer@example.org"))]
        # The SMTP server holds every mail: neither page waited for one, and they are alike.
        assert [a.status_code for a in answers] == [200, 200]
        assert _main_text(answers[0].text) == _main_text(answers[1].text)
        assert "Check your mail" in answers[0].text
        assert sink.messages == []
        release.set()

        known = _mail_text(sink, "known@example.org")
        assert "already has an account" in known and "username is known" in known
        assert _path(known, "/login") == "/login?next=%2Fsubmit"
        assert _path(known, "/account/reset") == "/account/reset"
        assert "/signup/finish/" not in known

        link = _path(_mail_text(sink, "newcomer@example.org"), "/signup/finish/")
        form = http.get(link)
        assert form.status_code == 200 and "newcomer@example.org" in form.text
        assert form.headers["referrer-policy"] == "no-referrer"
        weak = http.post(link, data={"username": "newcomer", "password": "short",
                                     "csrf_token": csrf_from(form.text)}, follow_redirects=False)
        assert weak.status_code == 400 and "at least 10" in weak.text
        made = post_form(http, link, link, {"username": "newcomer", "password": PASSWORD})
        assert (made.status_code, made.headers["location"]) == (303, "/submit")
        assert "newcomer" in http.get("/account").text
        # Single use: the account took the address, so the link creates nothing more.
        again = httpx.Client(base_url=site.url, timeout=20)
        assert again.get(link).status_code == 400 and "used already" in again.get(link).text
        assert post_form(again, "/signup", link, {"username": "other1",
                                                  "password": PASSWORD}).status_code == 400
        assert log_in(again, "other1").status_code == 400
        assert log_in(again, "newcomer").status_code == 303


def test_a_taken_username_is_said_on_the_form_and_a_forged_link_is_refused(site):
    http = httpx.Client(base_url=site.url, timeout=20)
    with site.database.session() as db:
        make_user(db, username="public-name")
    taken = post_form(http, "/signup", "/signup", {"username": "Public-Name",
                                                   "email": "someone-new@example.org"})
    assert taken.status_code == 400 and "that username is taken" in taken.text
    forged = http.get("/signup/finish/not-a-token")
    assert forged.status_code == 400 and "invalid or expired" in forged.text
    assert post_form(http, "/signup", "/signup/finish/not-a-token",
                     {"username": "x1", "password": PASSWORD}).status_code == 400


def test_a_sign_up_link_expires(monkeypatch):
    asked = signups.SignupRequest(email="late@example.org", username="late", display_name="",
                                  next="/")
    made_at = int(time.time()) - 2 * 86400
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: made_at)
        token = signups.make_token(secret="s" * 40, request=asked)
    assert signups.read_token(secret="s" * 40, token=token, ttl_minutes=3 * 1440) == asked
    with pytest.raises(Invalid, match="expired"):
        signups.read_token(secret="s" * 40, token=token, ttl_minutes=1440)
    with pytest.raises(Invalid, match="expired"):
        signups.read_token(secret="t" * 40, token=token, ttl_minutes=3 * 1440)
