"""Sign-up confirmed by mail: the form tells no stranger whether an address has an account.

The form checks only what is public or typed: the username (usernames are shown on every
comment, so "taken" may be said), the shape of the address and the display name. Whether the
address already has an account is looked up off the request path, and only the mail to that
address tells: either a link that finishes the account (the password is chosen there), or a note
that the address has an account, with links to log in and to reset the password.

The link is an itsdangerous token signed with ``secret_key`` over (address, username, display
name, next): nothing is stored until it is used, it expires after ``signup_link_minutes``, and it
works once, because the account it creates takes the address (unique) and a second use finds it
taken. Nothing here commits except ``send_signup_mail``, which only reads before it mails.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from dailypapers.mail import MailSession, compose
from dailypapers.services.accounts import (
    check_display_name,
    check_email,
    check_password,
    check_username,
    sign_up,
)
from dailypapers.services.errors import Invalid
from dailypapers.store import User
from dailypapers.store.db import use_case

SALT = "dailypapers.signup"
# The page a finished sign-up goes to; longer targets are dropped (the link must stay short).
MAX_NEXT = 500
EXPIRED = "this sign-up link is invalid or expired; sign up again for a new one"


@dataclass(frozen=True)
class SignupRequest:
    email: str
    username: str
    display_name: str
    next: str


def _username_taken(db: Session, name: str) -> bool:
    return db.scalar(select(User.id).where(User.username_key == name.casefold())) is not None


def check_request(*, db: Session, username: str, email: str, display_name: str,
                  next_url: str) -> SignupRequest:
    """The sign-up form's answer: ``Invalid`` for a malformed field or a taken username, never
    for an address that has an account (that is only said in the mail to the address)."""
    name = check_username(username)
    addr = check_email(email)
    shown = check_display_name(display_name)
    if _username_taken(db, name):
        raise Invalid("that username is taken")
    return SignupRequest(email=addr, username=name, display_name=shown,
                         next=next_url if len(next_url) <= MAX_NEXT else "/")


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def make_token(*, secret: str, request: SignupRequest) -> str:
    return _serializer(secret).dumps([request.email, request.username, request.display_name,
                                      request.next])


def read_token(*, secret: str, token: str, ttl_minutes: int) -> SignupRequest:
    """The request a mailed link carries; ``Invalid`` if forged, damaged or expired."""
    try:
        payload = _serializer(secret).loads(token, max_age=ttl_minutes * 60)
    except (SignatureExpired, BadSignature) as exc:
        raise Invalid(EXPIRED) from exc
    if not (isinstance(payload, list) and len(payload) == 4
            and all(isinstance(part, str) for part in payload)):
        raise Invalid(EXPIRED)
    email, username, display_name, next_url = payload
    return SignupRequest(email=email, username=username, display_name=display_name, next=next_url)


def link_is_used(*, db: Session, request: SignupRequest) -> bool:
    """Whether the address already has an account (the link was used, or never could be)."""
    return db.scalar(select(User.id).where(User.email == request.email)) is not None


def send_signup_mail(*, db: Session, mailer: MailSession, request: SignupRequest, secret: str,
                     base_url: str, sender: str, site_name: str, ttl_minutes: int) -> bool:
    """Mail the address its next step: a link that finishes the account, or, when the address
    already has one, a note with links to log in and to reset the password.

    Returns whether the finishing link was sent (for tests and logs, never for the page).
    """
    with use_case(db):
        existing = db.scalar(select(User.username).where(User.email == request.email))
    base = base_url.rstrip("/")
    if existing is not None:
        login = f"{base}/login?{urlencode({'next': request.next})}"
        text = (f"Hello {existing},\n\nsomeone (hopefully you) tried to sign up at {site_name} with "
                f"this address, which already has an account: its username is {existing}.\n\n"
                f"Log in here:\n\n{login}\n\nForgot your password? Choose a new one here:\n\n"
                f"{base}/account/reset\n\nIf it was not you, ignore this mail; nothing changed.\n")
        mailer.send(compose(sender=sender, to=request.email,
                            subject=f"You already have a {site_name} account", text=text))
        return False
    link = f"{base}/signup/finish/{make_token(secret=secret, request=request)}"
    text = (f"Hello {request.username},\n\nsomeone (hopefully you) asked to create a {site_name} "
            f"account with this address. Open this link within {_duration(ttl_minutes)} to choose "
            f"your password and finish:\n\n{link}\n\nIf it was not you, ignore this mail; no "
            f"account is made without the link.\n")
    mailer.send(compose(sender=sender, to=request.email,
                        subject=f"Finish creating your {site_name} account", text=text))
    return True


def _duration(minutes: int) -> str:
    if minutes % 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return "an hour" if hours == 1 else f"{hours} hours"


def finish(*, db: Session, request: SignupRequest, username: str, password: str) -> User:
    """Create the account a link asked for, once: ``Invalid`` if the address has an account
    already (the link was used) or a field is wrong (``username`` may differ from the request's,
    in case another member took it meanwhile)."""
    if link_is_used(db=db, request=request):
        raise Invalid("this sign-up link was used already: the account exists, log in")
    check_password(password)
    return sign_up(db=db, username=username or request.username, email=request.email,
                   password=password, display_name=request.display_name)
