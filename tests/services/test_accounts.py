import datetime as dt
import io

import pytest
from sqlalchemy import select, update

from dailypapers.mail import ConsoleSession
from dailypapers.services import accounts, sessions
from dailypapers.services.errors import Invalid, NotFound
from dailypapers.store import PasswordReset, Role
from tests.factories import make_user

PW = "correct horse battery"


def test_sign_up_hashes_with_argon2_and_authenticates_by_name_or_email(db):
    user = accounts.sign_up(db=db, username="Ada", email="Ada@Example.org", password=PW)
    assert user.password_hash.startswith("$argon2id$") and PW not in user.password_hash
    assert user.email == "ada@example.org" and user.role == "member"
    assert accounts.authenticate(db=db, login="ada", password=PW).id == user.id
    assert accounts.authenticate(db=db, login="ADA@example.org", password=PW).id == user.id
    assert accounts.authenticate(db=db, login="ada", password="wrong password!") is None
    assert accounts.authenticate(db=db, login="nobody", password=PW) is None


@pytest.mark.parametrize("field,value,message", [
    ("username", "<script>", "username"),
    ("username", "a", "username"),
    ("username", "' OR 1=1 --", "username"),
    ("email", "not-an-email", "e-mail"),
    ("email", "a@b.c\nBcc: x@y.z", "e-mail"),
    ("password", "short", "at least"),
    ("password", "x" * 300, "at most"),
    ("display_name", "bad\x07bell", "control"),
])
def test_sign_up_rejects_bad_fields_with_a_message(db, field, value, message):
    args = {"username": "grace", "email": "grace@example.org", "password": PW, "display_name": ""}
    args[field] = value
    with pytest.raises(Invalid, match=message):
        accounts.sign_up(db=db, **args)


def test_usernames_and_emails_are_unique_case_insensitively(db):
    make_user(db, username="Grace", email="grace@example.org")
    with pytest.raises(Invalid, match="username is taken"):
        make_user(db, username="grace")
    with pytest.raises(Invalid, match="already has an account"):
        make_user(db, email="GRACE@example.org")


def test_sessions_are_new_tokens_stored_hashed_and_end_at_logout(db):
    user = make_user(db)
    first = sessions.start_session(db=db, user_id=user.id, days=1)
    second = sessions.start_session(db=db, user_id=user.id, days=1, replaces=first)
    assert first != second
    assert sessions.user_for_session(db=db, token=first) is None
    assert sessions.user_for_session(db=db, token=second).id == user.id
    sessions.end_session(db=db, token=second)
    assert sessions.user_for_session(db=db, token=second) is None


def test_api_tokens_are_shown_once_and_revocable(db):
    user = make_user(db)
    row, raw = sessions.create_api_token(db=db, user_id=user.id, name="my script")
    assert raw.startswith("dp_") and row.token_hash != raw and raw.startswith(row.prefix)
    assert sessions.user_for_api_token(db=db, token=raw).id == user.id
    assert sessions.user_for_api_token(db=db, token=raw + "x") is None
    sessions.revoke_api_token(db=db, user_id=user.id, token_id=row.id)
    assert sessions.user_for_api_token(db=db, token=raw) is None
    with pytest.raises(NotFound):
        sessions.revoke_api_token(db=db, user_id=user.id, token_id=row.id)


def _reset_token(db, email: str) -> str:
    out = io.StringIO()
    sent = accounts.send_password_reset(db=db, mailer=ConsoleSession(out), email=email,
                                        base_url="https://papers.example.org", sender="noreply@example.org",
                                        site_name="Daily Papers", ttl_minutes=30)
    assert sent
    text = out.getvalue()
    assert "https://papers.example.org/account/reset/" in text
    return text.split("/account/reset/")[1].split()[0]


def test_password_reset_is_single_use_and_ends_sessions(db):
    user = make_user(db, email="reset@example.org")
    old_session = sessions.start_session(db=db, user_id=user.id, days=1)
    db.commit()
    token = _reset_token(db, "reset@example.org")
    assert db.scalar(select(PasswordReset.token_hash)) != token  # stored hashed
    accounts.reset_password(db=db, token=token, new_password="a brand new password")
    assert accounts.authenticate(db=db, login=user.username, password="a brand new password")
    assert accounts.authenticate(db=db, login=user.username, password=PW) is None
    assert sessions.user_for_session(db=db, token=old_session) is None
    with pytest.raises(Invalid, match="used or expired"):
        accounts.reset_password(db=db, token=token, new_password="yet another password")


def test_password_reset_expires(db):
    make_user(db, email="late@example.org")
    token = _reset_token(db, "late@example.org")
    db.execute(update(PasswordReset).values(expires_at=dt.datetime(2000, 1, 1)))
    db.commit()
    assert not accounts.reset_token_is_usable(db=db, token=token)
    with pytest.raises(Invalid):
        accounts.reset_password(db=db, token=token, new_password="a brand new password")


def test_reset_for_unknown_address_sends_nothing(db):
    out = io.StringIO()
    assert not accounts.send_password_reset(
        db=db, mailer=ConsoleSession(out), email="nobody@example.org", base_url="http://x",
        sender="noreply@example.org", site_name="DP", ttl_minutes=5)
    assert out.getvalue() == ""


def test_create_admin_creates_or_promotes(db):
    admin = accounts.create_admin(db=db, username="root", email="root@example.org", password=PW)
    assert admin.role == Role.ADMIN and admin.is_admin and admin.is_curator
    member = make_user(db, username="lin")
    assert accounts.create_admin(db=db, username="lin", email="x@example.org", password=PW).id == member.id
    assert accounts.set_role(db=db, username="lin", role=Role.CURATOR).role == "curator"


def test_the_test_environment_hashes_cheaply_and_production_rehashes_at_sign_in(db, monkeypatch):
    """Only DAILYPAPERS_ENVIRONMENT=test hashes with weak parameters; a weak hash that reaches a
    production process is replaced by a full-strength one when its owner signs in."""
    monkeypatch.setenv("DAILYPAPERS_ENVIRONMENT", "test")
    weak = accounts.sign_up(db=db, username="weak", email="weak@example.org", password=PW)
    assert "$m=8,t=1,p=1$" in weak.password_hash
    assert accounts.authenticate(db=db, login="weak", password=PW).password_hash == weak.password_hash
    for environment in ("production", "development"):
        monkeypatch.setenv("DAILYPAPERS_ENVIRONMENT", environment)
        assert accounts.hasher() is accounts.PRODUCTION_HASHER
    monkeypatch.delenv("DAILYPAPERS_ENVIRONMENT")
    assert accounts.hasher() is accounts.PRODUCTION_HASHER
    monkeypatch.setenv("DAILYPAPERS_ENVIRONMENT", "production")
    before = weak.password_hash
    assert accounts.authenticate(db=db, login="weak", password="wrong password!") is None
    assert weak.password_hash == before  # a wrong password changes nothing
    assert accounts.authenticate(db=db, login="weak", password=PW).id == weak.id
    assert "$m=65536,t=3,p=4$" in weak.password_hash
    assert not accounts.PRODUCTION_HASHER.check_needs_rehash(weak.password_hash)
    assert accounts.authenticate(db=db, login="weak", password=PW).id == weak.id
    strong = accounts.sign_up(db=db, username="strong", email="strong@example.org", password=PW)
    assert "$m=65536,t=3,p=4$" in strong.password_hash
