"""Probes of accounts, sessions, organizations and importers (docs/reliability.md, "Probes")."""

from __future__ import annotations

import io
import json

import pytest

from dailypapers.mail import ConsoleSession
from dailypapers.services import accounts, orgs_admin, ratelimits, sessions
from dailypapers.services.errors import Invalid, RateLimited
from dailypapers.services.imports import import_hf_json, import_jsonl
from dailypapers.store import DailyEntry, Organization, Paper
from dailypapers.store.memberships import ORG_ADMIN, ORG_MEMBER
from tests.factories import make_user

PASSWORD = "correct horse battery"


def _reset_token(db, email: str) -> str:
    out = io.StringIO()
    assert accounts.send_password_reset(db=db, mailer=ConsoleSession(out), email=email,
                                        base_url="https://papers.example.org", sender="a@example.org",
                                        site_name="Daily Papers", ttl_minutes=60)
    return out.getvalue().split("/account/reset/")[1].split()[0]


def _signed_in_everywhere(db, user) -> tuple[str, str]:
    session = sessions.start_session(db=db, user_id=user.id, days=30)
    _, api_token = sessions.create_api_token(db=db, user_id=user.id, name="script")
    db.commit()
    assert sessions.user_for_session(db=db, token=session) is not None
    assert sessions.user_for_api_token(db=db, token=api_token) is not None
    return session, api_token


def test_a_password_reset_revokes_every_api_token_and_session(db):
    user = make_user(db, email="victim@example.org")
    session, api_token = _signed_in_everywhere(db, user)
    accounts.reset_password(db=db, token=_reset_token(db, "victim@example.org"),
                            new_password="a brand new password")
    db.commit()
    assert sessions.user_for_session(db=db, token=session) is None
    assert sessions.user_for_api_token(db=db, token=api_token) is None
    assert sessions.list_api_tokens(db=db, user_id=user.id) == []


def test_a_password_change_revokes_every_api_token_and_session(db):
    user = make_user(db)
    session, api_token = _signed_in_everywhere(db, user)
    with pytest.raises(Invalid, match="current password is wrong"):
        accounts.change_password(db=db, user_id=user.id, current_password="not my password",
                                 new_password="a brand new password")
    assert sessions.user_for_api_token(db=db, token=api_token) is not None  # nothing changed
    accounts.change_password(db=db, user_id=user.id, current_password=PASSWORD,
                             new_password="a brand new password")
    db.commit()
    assert sessions.user_for_session(db=db, token=session) is None
    assert sessions.user_for_api_token(db=db, token=api_token) is None
    assert accounts.authenticate(db=db, login=user.username, password="a brand new password") is not None
    assert accounts.authenticate(db=db, login=user.username, password=PASSWORD) is None


@pytest.mark.parametrize("password", ["1234567890", "qwertyuiop", "Password123", "MANCHESTER",
                                      "1qaz2wsx3edc"])
def test_common_passwords_are_refused_even_when_long_enough(db, password):
    with pytest.raises(Invalid, match="most common"):
        accounts.sign_up(db=db, username="common", email="common@example.org", password=password)
    user = make_user(db)
    with pytest.raises(Invalid, match="most common"):
        accounts.change_password(db=db, user_id=user.id, current_password=PASSWORD, new_password=password)


def test_passwords_need_ten_characters(db):
    with pytest.raises(Invalid, match="at least 10"):
        accounts.sign_up(db=db, username="short", email="short@example.org", password="kT9#vq2!x")
    assert accounts.sign_up(db=db, username="long", email="long@example.org",
                            password="kT9#vq2!xZ").username == "long"


@pytest.mark.parametrize("typed", ["#{id}", "id:{id}", "ID:{id}"])
def test_failed_logins_as_an_account_id_do_not_lock_that_account(db, typed):
    victim = make_user(db)
    name = typed.format(id=victim.id)
    for attempt in range(12):  # from many addresses, so only the per-account key could bite
        with pytest.raises((Invalid, RateLimited)):
            sessions.log_in(db=db, login=name, password="guess", ip=f"198.51.100.{attempt}", days=1)
    user, _ = sessions.log_in(db=db, login=victim.username, password=PASSWORD, ip="192.0.2.1", days=1)
    assert user.id == victim.id


def test_failed_logins_by_username_still_lock_the_account(db):
    victim = make_user(db)
    for attempt in range(10):
        with pytest.raises(Invalid):
            sessions.log_in(db=db, login=victim.username, password="guess", ip=f"198.51.100.{attempt}",
                            days=1)
    with pytest.raises(RateLimited):  # by e-mail too: it is the same account
        sessions.log_in(db=db, login=victim.email, password=PASSWORD, ip="192.0.2.1", days=1)
    assert ratelimits.LOGIN_ACCOUNT.limit == 10


def test_the_last_admin_of_an_organization_cannot_demote_or_remove_themselves(db):
    admin = make_user(db)
    org = orgs_admin.create_org(db=db, user=admin, handle="solo", name="Solo")
    db.commit()
    for attempt in (lambda: orgs_admin.add_member(db=db, actor=admin, handle="solo",
                                                  username=admin.username, role=ORG_MEMBER),
                    lambda: orgs_admin.remove_member(db=db, actor=admin, handle="solo",
                                                     username=admin.username)):
        with pytest.raises(Invalid, match="at least one admin"):
            attempt()
        db.rollback()
        assert orgs_admin.role_in(db=db, org_id=org.id, user_id=admin.id) == ORG_ADMIN
    # With a second admin, stepping down is fine.
    other = make_user(db)
    orgs_admin.add_member(db=db, actor=admin, handle="solo", username=other.username, role=ORG_ADMIN)
    db.commit()
    orgs_admin.add_member(db=db, actor=admin, handle="solo", username=admin.username, role=ORG_MEMBER)
    db.commit()
    assert orgs_admin.role_in(db=db, org_id=org.id, user_id=admin.id) == ORG_MEMBER


BAD_LINKS = ["javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>",
             "JaVaScRiPt:alert(1)", "//evil.example/x", "vbscript:msgbox(1)", "file:///etc/passwd",
             "\x01javascript:alert(1)", "http://", "https://example.org/\nx"]


def test_imported_links_other_than_http_are_dropped_and_reported(db, tmp_path):
    lines = [{"arxiv_id": f"2501.{90000 + n}", "title": f"Linked paper {n}", "github_repo": bad,
              "project_page": "https://ok.example.org/p"} for n, bad in enumerate(BAD_LINKS)]
    lines.append({"arxiv_id": "2501.99999", "title": "Fine paper", "github_repo": "https://github.com/a/b",
                  "project_page": "http://example.org/page"})
    path = tmp_path / "links.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = import_jsonl(db=db, paths=[path])
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (n + 1, "github_repo dropped") for n in range(len(BAD_LINKS))]
    stored = {p.title: (p.github_repo, p.project_page) for p in db.query(Paper)}
    assert len(stored) == len(lines)  # every paper imported, only the field was refused
    assert stored["Fine paper"] == ("https://github.com/a/b", "http://example.org/page")
    assert {repo for repo, _ in stored.values()} == {None, "https://github.com/a/b"}
    assert {page for _, page in stored.values()} == {"https://ok.example.org/p", "http://example.org/page"}


def test_hf_json_links_are_checked_too(db, tmp_path):
    item = {"title": "HF paper", "publishedAt": "2025-01-02T00:00:00.000Z",
            "paper": {"id": "2501.88888", "title": "HF paper", "authors": [],
                      "githubRepo": "https://github.com/x/y", "projectPage": "data:text/html,hi"}}
    path = tmp_path / "daily.json"
    path.write_text(json.dumps([item], indent=1))
    result = import_hf_json(db=db, paths=[path])
    assert [r.reason for r in result.rejected] == [
        "item 1: project_page dropped: only http(s) URLs of at most 500 characters are kept, "
        "not 'data:text/html,hi'"]
    paper = db.query(Paper).one()
    assert (paper.github_repo, paper.project_page) == ("https://github.com/x/y", None)


def test_imported_image_urls_are_kept_only_as_http(db, tmp_path):
    """Avatars, thumbnails and media become <img src> and API fields: http(s) only, like links;
    Hugging Face's site paths for default avatars (/avatars/…) are made absolute on its host."""
    bad = "javascript:alert(1)"
    item = {"title": "Pictured paper", "publishedAt": "2025-01-02T00:00:00.000Z",
            "thumbnail": "data:image/svg+xml,<svg onload=alert(1)>",
            "submittedBy": {"name": "ada", "fullname": "Ada", "avatarUrl": "/avatars/ada.svg"},
            "paper": {"id": "2501.77777", "title": "Pictured paper", "authors": [],
                      "mediaUrls": ["https://cdn.example.org/fig.png", bad, "//evil.example/x.png"],
                      "organization": {"name": "Lab", "fullname": "The Lab", "avatar": bad}}}
    path = tmp_path / "daily.json"
    path.write_text(json.dumps([item], indent=1))
    result = import_hf_json(db=db, paths=[path])
    assert sorted(r.reason.split(":")[1].strip() for r in result.rejected) == [
        "media_urls dropped", "media_urls dropped", "organization avatar dropped", "thumbnail dropped"]
    paper = db.query(Paper).one()
    assert (paper.thumbnail, paper.media_urls) == (None, ["https://cdn.example.org/fig.png"])
    assert db.query(Organization).one().avatar_url is None
    assert db.query(DailyEntry).one().submitter_avatar_url == "https://huggingface.co/avatars/ada.svg"

    line = {"arxiv_id": "2501.66666", "title": "JSONL paper", "submitter_avatar_url": bad,
            "thumbnail": "https://cdn.example.org/t.png", "featured_on": "2025-01-03",
            "submitted_by": "bob"}
    lines = tmp_path / "papers.jsonl"
    lines.write_text(json.dumps(line) + "\n")
    result = import_jsonl(db=db, paths=[lines])
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (1, "submitter_avatar_url dropped")]
    entry = db.query(DailyEntry).join(Paper).filter(Paper.key == "2501.66666").one()
    assert entry.submitter_avatar_url is None
    assert db.query(Paper).filter(Paper.key == "2501.66666").one().thumbnail == "https://cdn.example.org/t.png"
