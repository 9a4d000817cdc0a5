"""The token of a member's private feed (``/feeds/me/<token>.atom``).

The token is HMAC(site secret, nonce): the database keeps only the nonce and the token's
SHA-256, so the account page can show the feed address again while a leaked database alone
opens no feed. Revoking deletes the row (the address answers 404 at once); regenerating draws a
new nonce, so the old address stops working and a new one starts. Changing the site's secret
key ends every feed address too (members regenerate theirs).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dailypapers.store import FeedToken
from dailypapers.store.base import utcnow

#: Longer tokens are not ours: refused before any hashing or lookup.
MAX_TOKEN = 100


def _token(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"feed:{nonce}".encode(), hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token_of(*, db: Session, user_id: int, secret: str) -> str | None:
    """The member's current feed token, or ``None`` when they have none (never made, or revoked)."""
    nonce = db.scalar(select(FeedToken.nonce).where(FeedToken.user_id == user_id))
    return _token(secret, nonce) if nonce else None


def regenerate_feed_token(*, db: Session, user_id: int, secret: str) -> str:
    """A new feed token for the member; any earlier one stops working."""
    nonce = secrets.token_urlsafe(24)
    token = _token(secret, nonce)
    db.execute(delete(FeedToken).where(FeedToken.user_id == user_id))
    db.add(FeedToken(user_id=user_id, nonce=nonce, token_hash=_hash(token), created_at=utcnow()))
    db.flush()
    return token


def revoke_feed_token(*, db: Session, user_id: int) -> None:
    db.execute(delete(FeedToken).where(FeedToken.user_id == user_id))


def user_for_feed_token(*, db: Session, token: str) -> int | None:
    """The member whose feed ``token`` opens, or ``None``."""
    if not token or len(token) > MAX_TOKEN:
        return None
    return db.scalar(select(FeedToken.user_id).where(FeedToken.token_hash == _hash(token)))
