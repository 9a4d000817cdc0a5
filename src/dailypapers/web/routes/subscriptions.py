"""Subscribing to digests: the form behind the banner, the confirmation, preferences, one-click
unsubscribe (RFC 8058) and the Atom feed of a topic. None of it needs an account: the signed
token of a link is the authority, so these forms carry no CSRF token of their own."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment
from sqlalchemy.orm import Session

from dailypapers.mail import session_from_settings
from dailypapers.services import subscription_preferences as prefs_of
from dailypapers.services import subscriptions as subs
from dailypapers.services import topics
from dailypapers.services.digests import mail_templates
from dailypapers.services.errors import ServiceError
from dailypapers.settings import Settings
from dailypapers.services.ratelimits import Rule
from dailypapers.web.auth import get_viewer, limit_by_ip
from dailypapers.web.deps import get_db, templates_of
from dailypapers.web.rendering import body

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]
TOKEN = Annotated[str, Query(max_length=500)]
# Beyond the per-address throttle of confirmation mails: one client cannot mail many addresses.
SUBSCRIBE_IP = Rule("subscribe-ip", 20, 3600, "Too many subscription requests from your address.")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _mail_templates(request: Request) -> Environment:
    state = request.app.state
    if getattr(state, "mail_templates", None) is None:
        state.mail_templates = mail_templates()
    return state.mail_templates  # type: ignore[no-any-return]


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    context = {"site_name": _settings(request).site_name, **context}
    return templates_of(request).TemplateResponse(request, name, context,
                                                        status_code=status)


def _notice(request: Request, heading: str, message: str, *, status: int = 200,
            error: bool = False, **extra: Any) -> Response:
    return _render(request, "subscription_notice.html",
                   {"heading": heading, "message": message, "error": error, **extra}, status)


def _link_error(request: Request, exc: ServiceError) -> Response:
    return _notice(request, "This link does not work", exc.message, status=exc.status, error=True,
                   show_subscribe=True)


def _manage_url(request: Request, sub: Any) -> str:
    token = subs.manage_token(secret=_settings(request).secret_key, subscription=sub)
    base = _settings(request).base_url.rstrip("/")
    return f"{base}/subscriptions/manage?{urlencode({'token': token})}"


def _member(request: Request) -> Any:
    """The logged-in member, if any (accounts are optional for subscribing)."""
    return get_viewer(request).user


@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_page(request: Request) -> Response:
    member = _member(request)
    return _render(request, "subscribe.html",
                   {"email": "", "member_email": member.email if member else None})


@router.post("/subscribe", response_class=HTMLResponse, dependencies=[limit_by_ip(SUBSCRIBE_IP)])
def subscribe_submit(request: Request, db: DB,
                     email: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    settings = _settings(request)
    member = _member(request)
    # A member's one click: their own address, linked to their account. Accounts do not prove
    # their address, so it is still confirmed by mail like any other.
    own = member is not None and email.strip().casefold() == member.email.casefold()
    try:
        with session_from_settings(settings) as mail:
            subs.request_subscription(db=db, settings=settings, mailer=mail,
                                      templates=_mail_templates(request), email=email,
                                      user_id=member.id if own else None)
    except subs.SubscriptionError as exc:
        return _render(request, "subscribe.html",
                       {"error": exc.message, "email": email[:254],
                        "member_email": member.email if member else None}, status=400)
    except ServiceError as exc:
        return _notice(request, "Please try again later", exc.message, status=exc.status,
                       error=True)
    return _notice(request, "Check your inbox",
                   "We sent a confirmation link to that address (if we did so recently, use that "
                   "mail). Nothing else is sent until you confirm.")


@router.get("/subscribe/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, db: DB, token: TOKEN = "") -> Response:
    settings = _settings(request)
    try:
        sub = subs.check_confirmation(db=db, secret=settings.secret_key, token=token,
                                      max_age=dt.timedelta(hours=settings.subscription_confirm_hours))
    except subs.TokenError as exc:
        return _link_error(request, exc)
    return _render(request, "subscription_confirm.html", {"email": sub.email, "token": token})


@router.post("/subscribe/confirm", response_class=HTMLResponse)
def confirm_submit(request: Request, db: DB,
                   token: Annotated[str, Form(max_length=500)] = "") -> Response:
    settings = _settings(request)
    try:
        with db.begin():
            sub = subs.confirm(db=db, secret=settings.secret_key, token=token,
                               max_age=dt.timedelta(hours=settings.subscription_confirm_hours))
    except subs.TokenError as exc:
        return _link_error(request, exc)
    return _notice(request, "You are subscribed",
                   f"Trending papers will go to {sub.email}. Choose how often and add topics:",
                   manage_url=_manage_url(request, sub))


def _timezone_groups() -> list[tuple[str, list[str]]]:
    """IANA zones grouped by region for the picker ("Europe" → Europe/Berlin, …); UTC first."""
    groups: dict[str, list[str]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        region, _, rest = name.partition("/")
        if not rest or region in {"Etc", "SystemV", "US", "Canada", "Brazil", "Chile", "Mexico"}:
            continue  # aliases of zones listed under their region
        groups.setdefault(region, []).append(name)
    return [("Universal", ["UTC"]), *groups.items()]


def _manage(request: Request, sub: Any, token: str, *, prefs: Any = None, notice: str = "",
            error: str = "", status: int = 200) -> Response:
    prefs = prefs or prefs_of.preferences_of(sub)
    base = _settings(request).base_url
    return _render(request, "subscription_manage.html", {
        "email": sub.email, "status": sub.status, "token": token, "prefs": prefs,
        "member": sub.user_id is not None,
        "notice": notice, "error": error, "weekdays": WEEKDAYS,
        "timezone_groups": _timezone_groups(),
        "max_papers": prefs_of.MAX_PAPERS, "max_topics": prefs_of.MAX_TOPICS,
        "feeds": [(t, topics.feed_url(base=base, query=t)) for t in prefs.topics],
    }, status)


@router.get("/subscriptions/manage", response_class=HTMLResponse, name="manage_page")
def manage_page(request: Request, db: DB, token: TOKEN = "") -> Response:
    try:
        sub = subs.subscription_for_token(db=db, secret=_settings(request).secret_key, token=token)
    except subs.TokenError as exc:
        return _link_error(request, exc)
    return _manage(request, sub, token)


@router.post("/subscriptions/manage", response_class=HTMLResponse)
def manage_submit(request: Request, db: DB,
                  token: Annotated[str, Form(max_length=500)] = "",
                  cadence: Annotated[str, Form(max_length=20)] = "",
                  weekday: Annotated[str, Form(max_length=5)] = "0",
                  send_hour: Annotated[str, Form(max_length=5)] = "8",
                  timezone: Annotated[str, Form(max_length=100)] = "UTC",
                  num_papers: Annotated[str, Form(max_length=5)] = "10",
                  topics_text: Annotated[str, Form(alias="topics", max_length=5000)] = "",
                  kind: Annotated[str, Form(max_length=20)] = "trending") -> Response:
    secret = _settings(request).secret_key
    try:
        with db.begin():
            sub = subs.subscription_for_token(db=db, secret=secret, token=token)
    except subs.TokenError as exc:
        return _link_error(request, exc)
    try:
        prefs = prefs_of.parse_preferences(cadence=cadence, weekday=weekday, send_hour=send_hour,
                                       timezone=timezone, num_papers=num_papers,
                                       topics=topics_text, kind=kind)
        with db.begin():
            sub = prefs_of.update_preferences(db=db, secret=secret, token=token, preferences=prefs)
    except subs.SubscriptionError as exc:
        return _manage(request, sub, token, error=exc.message, status=400)
    return _manage(request, sub, token, notice="Saved.")


@router.get("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(request: Request, db: DB, token: TOKEN = "") -> Response:
    try:
        sub = subs.subscription_for_token(db=db, secret=_settings(request).secret_key, token=token)
    except subs.TokenError as exc:
        return _link_error(request, exc)
    return _render(request, "unsubscribe.html", {
        "email": sub.email, "token": token, "already": sub.unsubscribed_at is not None,
        "manage_url": _manage_url(request, sub)})


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe_submit(request: Request, db: DB, token: TOKEN = "") -> Response:
    """The RFC 8058 one-click endpoint (mail clients POST ``List-Unsubscribe=One-Click`` to the
    URL of the header) and the button of the page; no redirect, no cookie, idempotent."""
    try:
        with db.begin():
            sub = subs.unsubscribe(db=db, secret=_settings(request).secret_key, token=token)
    except subs.TokenError as exc:
        return _link_error(request, exc)
    return _notice(request, "You are unsubscribed",
                   f"No more digests go to {sub.email}.", show_subscribe=True)


@router.get("/topics/feed.atom", include_in_schema=False)
def topic_feed(request: Request, db: DB,
               q: Annotated[str, Query(max_length=1000)] = "") -> Response:
    try:
        content, updated = topics.topic_feed(db=db, settings=_settings(request),
                                             engine=request.app.state.search, query=q)
    except subs.SubscriptionError as exc:
        return Response(exc.message + "\n", status_code=400, media_type="text/plain")
    # Like every feed: an ETag and Last-Modified, so readers polling it get 304s.
    return body(request, content, "application/atom+xml; charset=utf-8", last_modified=updated)
