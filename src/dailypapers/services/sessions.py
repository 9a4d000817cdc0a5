"""Login sessions and API tokens: random secrets handed to the client, stored as hashes.

Nothing here commits except ``log_in``, which is a whole use case: its failed attempts must
count even though the attempt itself fails.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from dailypapers.services import ratelimits, subscriptions
from dailypapers.services.accounts import authenticate, find_user, token_digest
from dailypapers.services.errors import Invalid, NotFound
from dailypapers.store import ApiToken, LoginSession, User
from dailypapers.store.base import utcnow
from dailypapers.store.db import use_case

API_TOKEN_PREFIX = "dp_"


def start_session(*, db: Session, user_id: int, days: int, replaces: str | None = None) -> str:
    """A fresh session token for a user who just proved who they are.

    A new random token is issued on every login (the session id is never carried over, so a
    token planted in the browser before login is worthless); ``replaces`` ends the old session.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    if replaces:
        db.execute(delete(LoginSession).where(LoginSession.token_hash == token_digest(replaces)))
    db.execute(delete(LoginSession).where(LoginSession.user_id == user_id,
                                          LoginSession.expires_at <= now))
    db.add(LoginSession(token_hash=token_digest(token), user_id=user_id, created_at=now,
                        expires_at=now + dt.timedelta(days=days)))
    user = db.get(User, user_id)
    if user is not None:
        user.last_login_at = now
    db.flush()
    return token


def user_for_session(*, db: Session, token: str) -> User | None:
    if not token:
        return None
    return db.scalar(
        select(User).join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == token_digest(token), LoginSession.expires_at > utcnow(),
               User.is_active.is_(True)))


# The signed-in viewer of every page: built once (a fresh statement per request cost more to
# build and to match to SQLAlchemy's compiled cache than to run), values bound per call.
_VIEWER = (select(User, subscriptions.digest_status_column(User.id))
           .join(LoginSession, LoginSession.user_id == User.id)
           .where(LoginSession.token_hash == bindparam("token_hash"),
                  LoginSession.expires_at > bindparam("now"), User.is_active.is_(True)))


def viewer_of_session(*, db: Session, token: str) -> tuple[User, str | None] | None:
    """The user of a live login session and their digest status (``digest_status_of_user``), in
    one statement; ``None`` for an unknown, expired or ended session or a deactivated user."""
    if not token:
        return None
    row = db.execute(_VIEWER, {"token_hash": token_digest(token), "now": utcnow()}).first()
    return (row[0], row[1]) if row is not None else None


def end_session(*, db: Session, token: str) -> None:
    db.execute(delete(LoginSession).where(LoginSession.token_hash == token_digest(token)))


def create_api_token(*, db: Session, user_id: int, name: str) -> tuple[ApiToken, str]:
    """A new API token; the raw value is returned once and never stored."""
    label = " ".join(name.split())[:100]
    if not label:
        raise Invalid("give the token a name, e.g. the script that will use it")
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user_id, name=label, prefix=raw[:10], token_hash=token_digest(raw))
    db.add(row)
    db.flush()
    return row, raw


def list_api_tokens(*, db: Session, user_id: int) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def revoke_api_token(*, db: Session, user_id: int, token_id: int) -> None:
    gone = db.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("no such token")


def user_for_api_token(*, db: Session, token: str) -> User | None:
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    return db.scalar(
        select(User).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_digest(token), User.is_active.is_(True)))


def log_in(*, db: Session, login: str, password: str, ip: str, days: int, scale: float = 1.0,
           replaces: str | None = None) -> tuple[User, str]:
    """Check a password under the login throttles and start a session; returns (user, token).

    Failed attempts count against both the account name and the client address (10 per
    15 minutes each, scaled by ``scale``); once over, even the right password gets
    ``RateLimited`` until the limit frees up, so guessing cannot continue.

    The whole use case: it opens (and commits) its own transaction, so ``db`` must have none;
    a failed attempt is counted in it before ``Invalid`` is raised.
    """
    typed = login.strip()[:254] or "-"
    with use_case(db):
        found = find_user(db=db, login=typed)
        # Count by account, however it was named (username or e-mail); unknown names by the text.
        # The two kinds of key live in separate namespaces: a typed "#171" (or "id:171") must
        # never count against account 171 — anyone could lock any account out by its id.
        account = f"id:{found.id}" if found is not None else f"name:{typed}"
        ratelimits.check(db=db, rule=ratelimits.LOGIN_ACCOUNT, subject=account, scale=scale)
        ratelimits.check(db=db, rule=ratelimits.LOGIN_IP, subject=ip, scale=scale)
        user = authenticate(db=db, login=typed, password=password)
        if user is not None:
            ratelimits.reset(db=db, rule=ratelimits.LOGIN_ACCOUNT, subject=account)
            return user, start_session(db=db, user_id=user.id, days=days, replaces=replaces)
        ratelimits.hit(db=db, rule=ratelimits.LOGIN_ACCOUNT, subject=account, scale=scale)
        ratelimits.hit(db=db, rule=ratelimits.LOGIN_IP, subject=ip, scale=scale)
    raise Invalid("wrong username or password")
