"""Sign-up (finished from a mailed link), login/logout, account settings (profile, API tokens)
and password reset."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.mail import MailError, session_from_settings
from dailypapers.services import (
    accounts,
    feed_tokens,
    follows,
    ratelimits,
    sessions,
    signups,
    subscriptions,
)
from dailypapers.services.account_page import account_page as load_account_page
from dailypapers.services.errors import Invalid, ServiceError
from dailypapers.store import User
from dailypapers.web.auth import (
    COOKIE,
    CSRF,
    LOGIN_MESSAGES,
    CurrentUser,
    client_ip,
    limit_by_ip,
    render,
    safe_next,
    set_session_cookie,
)
from dailypapers.web.deps import PathId, get_db

router = APIRouter()
log = logging.getLogger(__name__)
DB = Annotated[Session, Depends(get_db)]
NO_REFERRER = {"Referrer-Policy": "no-referrer"}


def _logged_in(request: Request, token: str, next_url: str | None) -> Response:
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_session_cookie(response, request.app.state.settings, token)
    return response


def _reason(why: str) -> str:
    """The sentence a log-in or sign-up page opens with when another page sent the visitor."""
    return LOGIN_MESSAGES.get(why, "")


@router.get("/signup")
def signup_page(request: Request, next: str = "/", why: str = "") -> Response:
    return render(request, "account/signup.html", {"next": safe_next(next), "form": {},
                                                   "reason": _reason(why), "why": why})


def _mail_signup(app: Any, request: signups.SignupRequest) -> None:
    """Look the address up and mail its next step, after the response has gone out (as a reset
    does): the page answers the same, in the same time, whether or not the address has an account.
    A failure is logged."""
    settings = app.state.settings
    try:
        with app.state.db.session() as db, session_from_settings(settings) as mail:
            signups.send_signup_mail(db=db, mailer=mail, request=request, secret=settings.secret_key,
                                     base_url=settings.base_url, sender=settings.mail_from,
                                     site_name=settings.site_name,
                                     ttl_minutes=settings.signup_link_minutes)
    except (MailError, ServiceError) as exc:
        log.warning("sign-up mail not sent: %s", exc)


@router.post("/signup", dependencies=[*CSRF, limit_by_ip(ratelimits.SIGNUP_IP)])
def signup(request: Request, db: DB, background: BackgroundTasks,
           username: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
           display_name: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    settings = request.app.state.settings
    form = {"username": username, "email": email, "display_name": display_name}
    try:
        with db.begin():
            asked = signups.check_request(db=db, username=username, email=email,
                                          display_name=display_name, next_url=safe_next(next))
            ratelimits.hit(db=db, rule=ratelimits.SIGNUP_EMAIL, subject=asked.email,
                           scale=settings.rate_limit_scale)
    except Invalid as exc:
        return render(request, "account/signup.html",
                      {"error": exc.message, "form": form, "next": safe_next(next)}, status=400)
    background.add_task(_mail_signup, request.app, asked)
    return render(request, "account/message.html", {
        "title": "Check your mail",
        "message": f"We sent a mail to {asked.email}. Open the link in it to choose your password "
        "and finish creating your account. (If that address has an account already, the mail "
        "says so and how to log in.)"})


def _finish_link(request: Request, token: str) -> signups.SignupRequest:
    return signups.read_token(secret=request.app.state.settings.secret_key, token=token,
                              ttl_minutes=request.app.state.settings.signup_link_minutes)


@router.get("/signup/finish/{token}")
def signup_finish_page(request: Request, db: DB, token: str) -> Response:
    try:
        asked = _finish_link(request, token)
    except Invalid as exc:
        return render(request, "account/signup_finish.html", {"error": exc.message, "usable": False},
                      status=400, headers=NO_REFERRER)
    if signups.link_is_used(db=db, request=asked):
        return render(request, "account/signup_finish.html", {"used": True, "usable": False,
                                                             "next": asked.next},
                      status=400, headers=NO_REFERRER)
    return render(request, "account/signup_finish.html",
                  {"token": token, "usable": True, "asked": asked, "username": asked.username},
                  headers=NO_REFERRER)


@router.post("/signup/finish/{token}", dependencies=CSRF)
def signup_finish(request: Request, db: DB, token: str, username: Annotated[str, Form()] = "",
                  password: Annotated[str, Form()] = "") -> Response:
    settings = request.app.state.settings
    try:
        asked = _finish_link(request, token)
    except Invalid as exc:
        return render(request, "account/signup_finish.html", {"error": exc.message, "usable": False},
                      status=400, headers=NO_REFERRER)
    try:
        with db.begin():  # the account and its first session, or neither
            user = signups.finish(db=db, request=asked, username=username, password=password)
            session = sessions.start_session(db=db, user_id=user.id, days=settings.session_days,
                                             replaces=request.cookies.get(COOKIE))
    except Invalid as exc:
        return render(request, "account/signup_finish.html",
                      {"token": token, "usable": True, "asked": asked, "error": exc.message,
                       "username": username or asked.username}, status=400, headers=NO_REFERRER)
    return _logged_in(request, session, asked.next)


@router.get("/login")
def login_page(request: Request, next: str = "/", why: str = "") -> Response:
    return render(request, "account/login.html", {"next": safe_next(next), "login": "",
                                                  "reason": _reason(why), "why": why})


@router.post("/login", dependencies=CSRF)
def login(request: Request, db: DB, login: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    settings = request.app.state.settings
    try:
        _, token = sessions.log_in(db=db, login=login, password=password, ip=client_ip(request),
                                   days=settings.session_days, scale=settings.rate_limit_scale,
                                   replaces=request.cookies.get(COOKIE))
    except Invalid as exc:
        return render(request, "account/login.html",
                      {"error": exc.message, "login": login, "next": safe_next(next)}, status=400)
    return _logged_in(request, token, next)


@router.post("/logout", dependencies=CSRF)
def logout(request: Request, db: DB) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        with db.begin():
            sessions.end_session(db=db, token=token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _account(request: Request, db: Session, user: User, **extra: object) -> dict[str, object]:
    """Everything the account page shows: the member's activity, digest and API tokens."""
    settings = request.app.state.settings
    page = load_account_page(db=db, user_id=user.id)
    manage = None
    if page.subscription is not None and page.subscription.status != "unsubscribed":
        token = subscriptions.manage_token(secret=settings.secret_key, subscription=page.subscription)
        manage = f"/subscriptions/manage?{urlencode({'token': token})}"
    feed_token = feed_tokens.feed_token_of(db=db, user_id=user.id, secret=settings.secret_key)
    feed_url = f"{settings.base_url.rstrip('/')}/feeds/me/{feed_token}.atom" if feed_token else None
    return {"user": user, "page": page, "manage_url": manage,
            "tokens": sessions.list_api_tokens(db=db, user_id=user.id),
            "follows": follows.follows_of(db=db, user_id=user.id), "feed_url": feed_url, **extra}


@router.get("/account")
def account_page(request: Request, db: DB, user: CurrentUser) -> Response:
    return render(request, "account/settings.html", _account(request, db, user))


@router.post("/account/profile", dependencies=CSRF)
def update_profile(request: Request, db: DB, user: CurrentUser,
                   display_name: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        accounts.update_profile(db=db, user_id=user.id, display_name=display_name)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens", dependencies=CSRF)
def create_token(request: Request, db: DB, user: CurrentUser,
                 name: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        _, raw = sessions.create_api_token(db=db, user_id=user.id, name=name)
    # The raw token is shown on this one response only; no-store keeps it out of caches.
    return render(request, "account/settings.html", _account(request, db, user, new_token=raw),
                  headers={"Cache-Control": "no-store"})


@router.post("/account/tokens/{token_id}/revoke", dependencies=CSRF)
def revoke_token(request: Request, db: DB, user: CurrentUser, token_id: PathId) -> Response:
    with db.begin():
        sessions.revoke_api_token(db=db, user_id=user.id, token_id=token_id)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/password", dependencies=CSRF)
def change_password(request: Request, db: DB, user: CurrentUser,
                    current_password: Annotated[str, Form()] = "",
                    new_password: Annotated[str, Form()] = "") -> Response:
    try:
        with db.begin():
            accounts.change_password(db=db, user_id=user.id, current_password=current_password,
                                     new_password=new_password)
            # Every session ended with the old password; this browser gets a fresh one.
            token = sessions.start_session(db=db, user_id=user.id,
                                           days=request.app.state.settings.session_days)
    except Invalid as exc:
        return render(request, "account/settings.html",
                      {**_account(request, db, user), "password_error": exc.message}, status=400)
    response = render(request, "account/message.html", {
        "title": "Password changed", "message": "Your password is changed. Every other session "
        "was logged out and every API token revoked.", "link": "/account"})
    set_session_cookie(response, request.app.state.settings, token)
    return response


@router.get("/account/reset")
def reset_request_page(request: Request) -> Response:
    return render(request, "account/reset_request.html", {})


def _mail_reset(app: Any, address: str) -> None:
    """Look the address up and mail a reset link, after the response has gone out.

    Off the request path, so the page answers in the same time whether or not an account has
    this address (an insert and an SMTP dialogue would otherwise tell). A failure is logged.
    """
    settings = app.state.settings
    try:
        with app.state.db.session() as db, session_from_settings(settings) as mail:
            accounts.send_password_reset(db=db, mailer=mail, email=address,
                                         base_url=settings.base_url, sender=settings.mail_from,
                                         site_name=settings.site_name,
                                         ttl_minutes=settings.password_reset_minutes)
    except (MailError, ServiceError) as exc:
        log.warning("password reset mail not sent: %s", exc)


@router.post("/account/reset", dependencies=[*CSRF, limit_by_ip(ratelimits.RESET_IP)])
def reset_request(request: Request, db: DB, background: BackgroundTasks,
                  email: Annotated[str, Form()] = "") -> Response:
    settings = request.app.state.settings
    try:
        address = accounts.check_email(email)
        with db.begin():
            ratelimits.hit(db=db, rule=ratelimits.RESET_EMAIL, subject=address,
                           scale=settings.rate_limit_scale)
    except Invalid as exc:
        return render(request, "account/reset_request.html", {"error": exc.message, "email": email},
                      status=400)
    background.add_task(_mail_reset, request.app, address)
    return render(request, "account/message.html", {
        "title": "Check your mail",
        "message": "If an account uses that address, we sent it a link to choose a new password."})


@router.get("/account/reset/{token}")
def reset_form(request: Request, db: DB, token: str) -> Response:
    usable = accounts.reset_token_is_usable(db=db, token=token)
    return render(request, "account/reset_form.html", {"token": token, "usable": usable},
                  status=200 if usable else 400, headers=NO_REFERRER)


@router.post("/account/reset/{token}", dependencies=CSRF)
def reset_password(request: Request, db: DB, token: str,
                   password: Annotated[str, Form()] = "") -> Response:
    try:
        with db.begin():
            accounts.reset_password(db=db, token=token, new_password=password)
    except ServiceError as exc:
        return render(request, "account/reset_form.html",
                      {"token": token, "usable": True, "error": exc.message}, status=400,
                      headers=NO_REFERRER)
    return render(request, "account/message.html", {
        "title": "Password changed", "message": "Your password is changed, every session "
        "was logged out and every API token revoked. Log in with the new password.", "link": "/login"})
