"""Subscriptions: double opt-in, signed links, preferences and one-click unsubscribe.

Every link in a mail carries a token signed with ``secret_key`` (itsdangerous) over the
subscription id and its ``token_nonce``. Confirmation tokens expire; the "manage" token (the
preferences page and the unsubscribe link, which must keep working in old mails) does not, but
it dies with its nonce. No token is stored, so a leaked database hands out no working link.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesParser
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from jinja2 import Environment
from sqlalchemy import ScalarSelect, case, null, select
from sqlalchemy.orm import QueryableAttribute, Session

from dailypapers.mail import MailError, MailSession, compose
from dailypapers.services.errors import Invalid, ServiceError
from dailypapers.settings import Settings
from dailypapers.store.base import utcnow
from dailypapers.store.bulk import insert_if_absent
from dailypapers.store.db import use_case
from dailypapers.store.subscriptions import Subscription

MAX_EMAIL = 254  # RFC 5321: 256 octets of path minus the angle brackets
MAX_LOCAL = 64
# A new confirmation mail at most this often per address, so the form cannot flood an inbox.
CONFIRM_RESEND_AFTER = dt.timedelta(minutes=10)

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SubscriptionError(Invalid):
    """Input a person can fix; the message says how, and is safe to show them (HTTP 400)."""


class TokenError(SubscriptionError):
    """A link that is forged, damaged, expired or no longer valid."""


class MailUnavailable(ServiceError):
    """The confirmation mail could not be handed to the mail server (HTTP 503)."""

    status = 503


def normalize_email(raw: str) -> str:
    """The address as we store it: trimmed, domain lower-cased (and IDNA-encoded).

    Raises ``SubscriptionError`` for anything that could not be a single mailbox or that could
    smuggle a header into a mail (CR/LF), before any other check looks at it.
    """
    if len(raw) > MAX_EMAIL + 2:  # checked first: nothing below should work on a 10 kB string
        raise SubscriptionError(f"That address is too long (at most {MAX_EMAIL} characters).")
    if "\r" in raw or "\n" in raw:
        raise SubscriptionError("An e-mail address cannot contain line breaks.")
    address = raw.strip()
    if not address:
        raise SubscriptionError("Please enter your e-mail address.")
    if CONTROL.search(address) or " " in address:
        raise SubscriptionError("An e-mail address cannot contain spaces or control characters.")
    if address.count("@") != 1:
        raise SubscriptionError("An e-mail address has exactly one @, like ada@example.org.")
    local, domain = address.split("@")
    if not local or len(local) > MAX_LOCAL or not _LOCAL.match(local):
        raise SubscriptionError("The part before the @ is not a valid mailbox name.")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise SubscriptionError("The part after the @ is not a valid domain.") from exc
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise SubscriptionError("The part after the @ is not a valid domain.")
    address = f"{local}@{domain}"
    if len(address) > MAX_EMAIL:
        raise SubscriptionError(f"That address is too long (at most {MAX_EMAIL} characters).")
    return address


# --- signed links -------------------------------------------------------------------------

CONFIRM = "confirm"
MANAGE = "manage"


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"dailypapers.subscription.{purpose}")


def _request_stamp(sub: Subscription) -> str:
    """Which confirmation request a confirmation link answers (the newest one is valid)."""
    return sub.confirm_sent_at.isoformat() if sub.confirm_sent_at else ""


def make_token(*, secret: str, subscription: Subscription, purpose: str) -> str:
    payload: list[object] = [subscription.id, subscription.token_nonce]
    if purpose == CONFIRM:
        payload.append(_request_stamp(subscription))
    return _serializer(secret, purpose).dumps(payload)


def _read_token(*, db: Session, secret: str, token: str, purpose: str,
                max_age: dt.timedelta | None = None) -> tuple[Subscription, list[object]]:
    """The subscription a token names, and the token's payload."""
    if not token or len(token) > 500:
        raise TokenError("This link is not valid. Please use the link from your most recent mail.")
    serializer = _serializer(secret, purpose)
    try:
        payload = serializer.loads(token, max_age=int(max_age.total_seconds()) if max_age else None)
    except SignatureExpired as exc:
        raise TokenError("This link has expired. Please subscribe again to get a new one.") from exc
    except BadSignature as exc:
        raise TokenError("This link is not valid. Please use the link from your most recent "
                         "mail.") from exc
    sub_id, nonce = payload[:2] if isinstance(payload, list) and len(payload) >= 2 else (None, None)
    sub = db.get(Subscription, sub_id) if isinstance(sub_id, int) else None
    if sub is None or not isinstance(nonce, str) or not secrets.compare_digest(
            nonce, sub.token_nonce):
        raise TokenError("This link is no longer valid.")
    return sub, payload


def subscription_for_token(*, db: Session, secret: str, token: str) -> Subscription:
    """The subscription of a preferences/unsubscribe link (these never expire)."""
    return _read_token(db=db, secret=secret, token=token, purpose=MANAGE)[0]


# --- the life of a subscription -----------------------------------------------------------

@dataclass
class SubscribeResult:
    subscription: Subscription
    # False when a confirmation mail went out recently (the form must not flood an inbox) or
    # when the address was already confirmed by the account system.
    send_confirmation: bool


def subscribe(*, db: Session, email: str, user_id: int | None = None,
              email_verified: bool = False, now: dt.datetime | None = None) -> SubscribeResult:
    """Record a request to subscribe ``email``; the caller mails the confirmation if asked to.

    The answer does not depend on whether the address was subscribed before, so the form
    cannot be used to probe who reads our digests. ``email_verified`` (an account whose
    address was proven) confirms at once; otherwise the subscription waits for its link.
    """
    now = now or utcnow()
    address = normalize_email(email)
    # Two requests for the same new address at once: one row, and neither fails.
    insert_if_absent(db=db, table=Subscription.__table__, values={
        "email": address, "email_key": address.casefold(), "cadence": "daily", "weekday": 0,
        "send_hour": 8, "timezone": "UTC", "num_papers": 10, "topics": [],
        "token_nonce": secrets.token_hex(16), "failure_count": 0, "created_at": now,
        "updated_at": now})
    sub = db.scalars(select(Subscription).where(
        Subscription.email_key == address.casefold())).one()
    if user_id is not None and sub.user_id is None:
        sub.user_id = user_id
    if email_verified:
        _activate(sub, now)
        db.flush()
        return SubscribeResult(sub, send_confirmation=False)
    recently = (sub.confirm_sent_at is not None
                and now - sub.confirm_sent_at < CONFIRM_RESEND_AFTER)
    if not recently:
        sub.confirm_sent_at = now
    db.flush()
    return SubscribeResult(sub, send_confirmation=not recently)


def request_subscription(*, db: Session, settings: Settings, mailer: MailSession,
                         templates: Environment, email: str, user_id: int | None = None,
                         email_verified: bool = False,
                         now: dt.datetime | None = None) -> SubscribeResult:
    """``subscribe``, then mail the confirmation link when one is due.

    If the mail server refuses, the request is forgotten as far as throttling goes (the next
    try mails at once) and ``MailUnavailable`` says so; the unconfirmed row receives nothing.

    The whole use case: the request is committed before the mail goes out (no connection or
    lock waits on the mail server), so ``db`` must have no transaction open.
    """
    with use_case(db):
        result = subscribe(db=db, email=email, user_id=user_id, email_verified=email_verified,
                           now=now)
    if not result.send_confirmation:
        return result
    sub = result.subscription
    hours = settings.subscription_confirm_hours
    token = confirmation_token(secret=settings.secret_key, subscription=sub)
    context = {"site_name": settings.site_name, "email": sub.email, "hours": hours,
               "confirm_url": f"{settings.base_url.rstrip('/')}/subscribe/confirm?"
                              f"{urlencode({'token': token})}"}
    try:
        mailer.send(compose(
            sender=settings.mail_from, to=sub.email,
            subject=f"Confirm your subscription to {settings.site_name}",
            text=templates.get_template("subscription_confirm.txt").render(context),
            html=templates.get_template("subscription_confirm.html").render(context)))
    except MailError as exc:
        with use_case(db):
            sub.confirm_sent_at = None
        raise MailUnavailable("We could not send the confirmation mail just now; please try "
                              "again in a few minutes.") from exc
    return result


def confirmation_token(*, secret: str, subscription: Subscription) -> str:
    return make_token(secret=secret, subscription=subscription, purpose=CONFIRM)


def manage_token(*, secret: str, subscription: Subscription) -> str:
    return make_token(secret=secret, subscription=subscription, purpose=MANAGE)


def check_confirmation(*, db: Session, secret: str, token: str,
                       max_age: dt.timedelta) -> Subscription:
    """The subscription a confirmation link would confirm (for the page with the button)."""
    sub, payload = _read_token(db=db, secret=secret, token=token, purpose=CONFIRM,
                               max_age=max_age)
    _check_request(sub, payload)
    return sub


def _check_request(sub: Subscription, payload: list[object]) -> None:
    """Until the subscription is active, only the link of the newest request works; so a link
    mailed before the address unsubscribed does not bring it back: only a new request does."""
    if sub.is_active or sub.paused_at is not None or payload[2:] == [_request_stamp(sub)]:
        return
    if sub.unsubscribed_at is not None:
        raise TokenError("You unsubscribed after this link was sent. Please subscribe again "
                         "to get a new one.")
    raise TokenError("A newer confirmation link was sent; please use the most recent mail.")


def confirm(*, db: Session, secret: str, token: str, max_age: dt.timedelta,
            now: dt.datetime | None = None) -> Subscription:
    """Confirm (or re-activate) the subscription of a confirmation link; idempotent.

    Only the link of the newest request can activate (see ``_check_request``).
    """
    sub, payload = _read_token(db=db, secret=secret, token=token, purpose=CONFIRM,
                               max_age=max_age)
    _check_request(sub, payload)
    _activate(sub, now or utcnow())
    db.flush()
    return sub


def _activate(sub: Subscription, now: dt.datetime) -> None:
    if sub.confirmed_at is None or sub.unsubscribed_at is not None:
        sub.confirmed_at = now
    sub.unsubscribed_at = None
    sub.updated_at = now


def unsubscribe(*, db: Session, secret: str, token: str,
                now: dt.datetime | None = None) -> Subscription:
    """Stop every mail to the subscription of a manage link; a second call changes nothing."""
    sub = subscription_for_token(db=db, secret=secret, token=token)
    if sub.unsubscribed_at is None:
        sub.unsubscribed_at = now or utcnow()
        sub.confirm_sent_at = None  # pending confirmation links die with it
        db.flush()
    return sub


def subscription_of_user(*, db: Session, user_id: int) -> Subscription | None:
    return db.scalars(select(Subscription).where(Subscription.user_id == user_id)
                      .order_by(Subscription.id)).first()


_MAIL_TOKEN = re.compile(r"\bunsubscribe\s+([A-Za-z0-9_\-.]+)", re.IGNORECASE)


def unsubscribe_by_mail(*, db: Session, secret: str, raw: bytes) -> str:
    """Unsubscribe from a mail sent to the mailto: ``List-Unsubscribe`` address (its subject is
    "unsubscribe TOKEN"); returns the address that was unsubscribed."""
    message = BytesParser(policy=email_policy.default).parsebytes(raw, headersonly=True)
    match = _MAIL_TOKEN.search(str(message.get("Subject", "")))
    if match is None:
        raise TokenError("The subject of this mail holds no unsubscribe token.")
    return unsubscribe(db=db, secret=secret, token=match.group(1)).email


def digest_status_of_user(*, db: Session, user_id: int) -> str | None:
    """"active" (confirmed, still subscribed), "pending" (waiting for the mail's link) or None."""
    sub = subscription_of_user(db=db, user_id=user_id)
    if sub is None or sub.unsubscribed_at is not None:
        return None
    return "active" if sub.confirmed_at is not None else "pending"


def digest_status_column(user_id: QueryableAttribute[int]) -> ScalarSelect[str | None]:
    """``digest_status_of_user`` as a scalar subquery on ``user_id``, so the signed-in viewer's
    lookup (``sessions.viewer_of_session``) gets it in the same statement as the user."""
    return (select(case((Subscription.unsubscribed_at.is_not(None), null()),
                        (Subscription.confirmed_at.is_not(None), "active"), else_="pending"))
            .where(Subscription.user_id == user_id).order_by(Subscription.id).limit(1)
            .scalar_subquery())
