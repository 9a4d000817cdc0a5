"""Accounts: sign-up, password checks (argon2id), roles and password reset by mailed token.

Nothing here commits (the caller's ``with db.begin():`` does) except ``send_password_reset``,
which commits the reset token before it mails the link, so no connection waits on SMTP.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dailypapers.mail import MailError, MailSession, compose
from dailypapers.mail.message import check_address
from dailypapers.services.errors import Invalid, NotFound
from dailypapers.store import ApiToken, LoginSession, PasswordReset, Role, User
from dailypapers.store.base import utcnow
from dailypapers.store.db import use_case

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")
MIN_PASSWORD = 10
# argon2 happily hashes megabytes; refusing huge inputs keeps a login from being a CPU bomb.
MAX_PASSWORD = 256
# argon2-cffi's defaults (RFC 9106 low-memory: 64 MiB, 3 passes, 4 lanes): ~0.24 s of CPU a hash.
PRODUCTION_HASHER = PasswordHasher()
# The test suite signs up and signs in thousands of times; at the production cost the hashes were
# the largest share of its CPU. Only a process whose environment says DAILYPAPERS_ENVIRONMENT=test
# uses these (a .env file or anything else hashes at full strength), and a weak hash that reaches
# a production process is replaced at its next sign-in (``check_needs_rehash`` in authenticate).
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def hasher() -> PasswordHasher:
    """The password hasher of this process (read at each use: tests switch the environment)."""
    return TEST_HASHER if os.environ.get("DAILYPAPERS_ENVIRONMENT") == "test" else PRODUCTION_HASHER


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the account does not exist, so both cases cost the same time.
    Made on first use, not at import (an argon2 hash is ~0.24 s of CPU every process would pay)."""
    return hasher.hash("dailypapers-no-such-account")


def token_digest(token: str) -> str:
    """How secrets (session ids, API and reset tokens) are stored: SHA-256 hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_text(value: str, *, field: str, max_len: int) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise Invalid(f"{field} may not contain control characters")
    if len(text) > max_len:
        raise Invalid(f"{field} may be at most {max_len} characters")
    return text


def check_username(username: str) -> str:
    name = username.strip()
    if not USERNAME.match(name):
        raise Invalid("a username has 2–40 letters, digits, '-' or '_', starting with a letter or digit")
    return name


def check_display_name(display_name: str) -> str:
    return _clean_text(display_name, field="display name", max_len=100)


def check_email(email: str) -> str:
    try:
        addr = check_address(email.strip())
    except MailError as exc:
        raise Invalid("enter a valid e-mail address") from exc
    if "<" in addr or len(addr) > 254:
        raise Invalid("enter a bare e-mail address such as ada@example.org")
    return addr.lower()


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of real leaks, as zxcvbn ships them (lower case).

    Loaded on first use (a few MB), not at import time.
    """
    # zxcvbn ships no type information.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"a password has at most {MAX_PASSWORD} characters")
    if password.casefold() in _common_passwords():
        raise Invalid("that password is one of the most common ones (it is tried first by anyone "
                      "guessing); choose another")
    return password


def sign_up(*, db: Session, username: str, email: str, password: str, display_name: str = "",
            role: Role = Role.MEMBER) -> User:
    """Create an account; ``Invalid`` says which field is wrong or already taken."""
    name = check_username(username)
    addr = check_email(email)
    check_password(password)
    shown = check_display_name(display_name)
    taken = db.execute(select(User.username_key, User.email).where(
        or_(User.username_key == name.casefold(), User.email == addr))).first()
    if taken is not None:
        raise Invalid("that username is taken" if taken[0] == name.casefold()
                      else "that e-mail address already has an account")
    user = User(username=name, username_key=name.casefold(), email=addr, display_name=shown,
                password_hash=hasher().hash(password), role=role.value)
    db.add(user)
    try:
        db.flush()
    except IntegrityError as exc:  # a concurrent sign-up took the name or address
        raise Invalid("that username or e-mail address is taken") from exc
    return user


def find_user(*, db: Session, login: str) -> User | None:
    """The account named by a username or an e-mail address (case-insensitive)."""
    value = login.strip()
    if "@" in value:
        return db.scalar(select(User).where(User.email == value.lower()))
    return db.scalar(select(User).where(User.username_key == value.casefold()))


def authenticate(*, db: Session, login: str, password: str) -> User | None:
    """The active user whose password matches, or None (taking the same time either way)."""
    user = find_user(db=db, login=login)
    hashing = hasher()
    stored = user.password_hash if user is not None else _dummy_hash(hashing)
    try:
        hashing.verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if hashing.check_needs_rehash(stored):
        user.password_hash = hashing.hash(password)
        db.flush()
    return user


def set_role(*, db: Session, username: str, role: Role) -> User:
    user = find_user(db=db, login=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    user.role = role.value
    db.flush()
    return user


def create_admin(*, db: Session, username: str, email: str, password: str) -> User:
    """A new admin account, or an existing account (same username) promoted to admin."""
    existing = find_user(db=db, login=username)
    if existing is not None:
        return set_role(db=db, username=username, role=Role.ADMIN)
    return sign_up(db=db, username=username, email=email, password=password, role=Role.ADMIN)


def update_profile(*, db: Session, user_id: int, display_name: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    user.display_name = check_display_name(display_name)
    db.flush()
    return user


def send_password_reset(*, db: Session, mailer: MailSession, email: str, base_url: str, sender: str,
                        site_name: str, ttl_minutes: int) -> bool:
    """Mail a single-use reset link if an account has this address; say nothing otherwise.

    Returns whether a mail was sent (for tests and logs, never for the page: that would tell
    strangers which addresses have accounts).
    """
    addr = check_email(email)
    with use_case(db):
        user = db.scalar(select(User).where(User.email == addr, User.is_active.is_(True)))
        if user is None:
            return False
        token = secrets.token_urlsafe(32)
        now = utcnow()
        db.add(PasswordReset(user_id=user.id, token_hash=token_digest(token), created_at=now,
                             expires_at=now + dt.timedelta(minutes=ttl_minutes)))
    link = f"{base_url.rstrip('/')}/account/reset/{token}"
    text = (f"Hello {user.username},\n\nsomeone (hopefully you) asked to reset the password of your "
            f"{site_name} account. Open this link within {ttl_minutes} minutes to choose a new one:"
            f"\n\n{link}\n\nIf it was not you, ignore this mail; your password stays as it is.\n")
    mailer.send(compose(sender=sender, to=user.email, subject=f"Reset your {site_name} password",
                        text=text))
    return True


def reset_password(*, db: Session, token: str, new_password: str) -> User:
    """Use a reset token once: set the new password and end every session of the account."""
    check_password(new_password)
    now = utcnow()
    row = db.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise Invalid("this reset link is invalid, used or expired; ask for a new one")
    # The conditional UPDATE makes the token single-use even under two simultaneous submits.
    claimed = db.execute(update(PasswordReset).where(
        PasswordReset.id == row.id, PasswordReset.used_at.is_(None)).values(used_at=now))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Invalid("this reset link is invalid, used or expired; ask for a new one")
    user = db.get(User, row.user_id)
    assert user is not None  # FK with ON DELETE CASCADE
    _replace_password(db, user, new_password)
    return user


def _replace_password(db: Session, user: User, new_password: str) -> None:
    """Set a new password and end everything the old one opened: every login session, every API
    token and every unused reset link (whoever knew the old password may have made some)."""
    user.password_hash = hasher().hash(new_password)
    db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.execute(update(PasswordReset).where(PasswordReset.user_id == user.id,
                                           PasswordReset.used_at.is_(None)).values(used_at=utcnow()))


def change_password(*, db: Session, user_id: int, current_password: str, new_password: str) -> User:
    """Change a password knowing the current one; ends every session and revokes every API token
    of the account (the caller starts a new session for the browser that asked)."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    try:
        hasher().verify(user.password_hash, current_password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError) as exc:
        raise Invalid("the current password is wrong") from exc
    check_password(new_password)
    _replace_password(db, user, new_password)
    return user


def reset_token_is_usable(*, db: Session, token: str) -> bool:
    row = db.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_digest(token)))
    return row is not None and row.used_at is None and row.expires_at > utcnow()


def list_users(*, db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username_key)))
