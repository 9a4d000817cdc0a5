"""Who is asking: login-session cookies, CSRF tokens, and the auth dependencies of the routes.

- The ``dp_session`` cookie holds a random token (HttpOnly, SameSite=Lax, Secure when the site
  is served over https). A logged-in browser's token is a row in ``login_sessions``; any other
  token is an anonymous one, minted only when a page renders a form, so cacheable pages set no
  cookie. Login always issues a new token, so a token planted before login is never promoted.
- The CSRF token of a form is HMAC(secret_key, cookie token): forms carry it as ``csrf_token``
  (scripts may send ``X-CSRF-Token``) and every state-changing HTML route checks it.
- The write JSON API authenticates with ``Authorization: Bearer <API token>`` only: it never
  reads the cookie, so it needs no CSRF token and cannot be driven by another site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from jinja2 import pass_context
from sqlalchemy.orm import Session

from dailypapers.services import library, ratelimits, sessions, votes
from dailypapers.services.errors import Forbidden, RateLimited, ServiceError
from dailypapers.settings import Settings
from dailypapers.store import User
from dailypapers.web import inplace
from dailypapers.web.deps import templates_of

COOKIE = "dp_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Why a page sent someone to log in, by the last segment of the path that asked: the login page
# says it in words (``?why=``; unknown values are ignored there).
LOGIN_REASONS = {"upvote": "upvote", "unvote": "upvote", "save": "library", "unsave": "library",
                 "read": "library", "note": "library", "follow": "follow", "unfollow": "follow",
                 "library": "library", "import": "library", "comments": "comment", "submit": "submit",
                 "account": "account", "edit": "comment", "delete": "comment"}
LOGIN_MESSAGES = {
    "upvote": "Log in or sign up to upvote papers.",
    "comment": "Log in or sign up to join the discussion.",
    "submit": "Log in or sign up to submit a paper; it will be featured today with your name.",
    "account": "Log in to see your account.",
    "library": "Log in or sign up to keep papers in your library.",
    "follow": "Log in or sign up to follow authors, organizations and searches.",
    "members": "Log in to manage organizations.",
}


class CsrfFailed(Exception):
    """A state-changing request without a valid CSRF token."""


class LoginRequired(Exception):
    """The page needs a logged-in user."""


class ApiUnauthorized(Exception):
    """The API call needs a valid bearer token."""


class Viewer:
    """The person behind a request: their user (or None), cookie token and CSRF token.

    The login session is looked up once, when first needed: on the route's own session when the
    route hands it over (``preload_votes``, ``resolve``; ``render`` does it before closing it),
    so a page costs one connection checkout and one statement for its viewer; otherwise (forms,
    error pages, ``require_user``) on a short session of its own.
    """

    def __init__(self, *, request: Request, token: str | None) -> None:
        self.request = request
        self._cookie = token  # the token the browser sent (``_token`` may be minted later)
        self._token = token
        self._resolved = token is None
        self._user: User | None = None
        self._digest: str | None = None
        self._csrf: str | None = None
        self._csrf_field: Markup | None = None
        self._voted: set[int] | None = None
        self._saved: set[int] | None = None

    def resolve(self, db: Session | None = None) -> None:
        """Look the cookie's login session up, on ``db`` when given; once per request."""
        if self._resolved:
            return
        self._resolved = True
        token = self._cookie or ""
        if db is not None:
            found = sessions.viewer_of_session(db=db, token=token)
        else:
            with self.request.app.state.db.session() as own:
                found = sessions.viewer_of_session(db=own, token=token)
        if found is not None:
            self._user, self._digest = found

    @property
    def user(self) -> User | None:
        self.resolve()
        return self._user

    @property
    def digest(self) -> str | None:
        """The member's digest: "active", "pending" or None (the header banner depends on it)."""
        self.resolve()
        return self._digest

    @property
    def settings(self) -> Settings:
        return self.request.app.state.settings  # type: ignore[no-any-return]

    @property
    def token(self) -> str:
        """The cookie token; minted (and set on the response by the middleware) when missing."""
        if self._token is None:
            self._token = secrets.token_urlsafe(32)
            self.request.state.dp_new_token = self._token
        return self._token

    @property
    def subscribed(self) -> bool:
        return self.digest == "active"

    @property
    def csrf_token(self) -> str:
        # Once per request: a page of cards has a vote form (and so a CSRF field) on every card.
        if self._csrf is None:
            self._csrf = csrf_for(self.settings.secret_key, self.token)
        return self._csrf

    @property
    def csrf_field(self) -> Markup:
        """The hidden form field of the CSRF token (built once: every card has two forms)."""
        if self._csrf_field is None:
            self._csrf_field = Markup('<input type="hidden" name="{}" value="{}">').format(
                CSRF_FIELD, escape(self.csrf_token))
        return self._csrf_field

    def upvoted(self, paper_id: int) -> bool:
        """Whether the viewer upvoted the paper, among the papers the route preloaded.

        Never queries: a template asking about a paper its route did not preload is a bug in
        that route (templates must not load data while rendering), so it fails loudly.
        """
        if self.user is None:
            return False
        if self._voted is None:
            raise RuntimeError("the route did not call Viewer.preload_votes before rendering votes")
        return paper_id in self._voted

    def saved(self, paper_id: int) -> bool:
        """Whether the paper is in the viewer's library, among the papers the route preloaded
        (``preload_votes`` loads both; like ``upvoted``, it never queries)."""
        if self.user is None:
            return False
        if self._saved is None:
            raise RuntimeError("the route did not call Viewer.preload_votes before rendering saves")
        return paper_id in self._saved

    def preload_votes(self, *, db: Session, paper_ids: Iterable[int]) -> None:
        """Load the viewer's votes and saved papers among a page's papers (one query each, on
        the route's session)."""
        self.resolve(db)
        if self._user is not None:
            ids = list(paper_ids)
            self._voted = votes.upvoted_among(db=db, user_id=self._user.id, paper_ids=ids)
            self._saved = library.saved_among(db=db, user_id=self._user.id, paper_ids=ids)


def csrf_for(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{token}".encode(), hashlib.sha256).hexdigest()


def get_viewer(request: Request) -> Viewer:
    """The request's viewer, one per request; no I/O (its login session is looked up when
    first needed, see ``Viewer``)."""
    cached = getattr(request.state, "dp_viewer", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    viewer = Viewer(request=request, token=request.cookies.get(COOKIE) or None)
    request.state.dp_viewer = viewer
    return viewer


async def _viewer(request: Request) -> Viewer:
    # Async because it does no I/O: FastAPI runs a sync dependency on a worker thread, a round
    # trip through the thread pool per request for nothing.
    return get_viewer(request)


def require_user(request: Request) -> User:
    user = get_viewer(request).user
    if user is None:
        raise LoginRequired()
    return user


def require_curator(request: Request) -> User:
    user = require_user(request)
    if not user.is_curator:
        raise Forbidden("only curators can do this")
    return user


def require_admin(request: Request) -> User:
    user = require_user(request)
    if not user.is_admin:
        raise Forbidden("only admins can do this")
    return user


def api_user(request: Request) -> User:
    """The user of a bearer API token; the cookie is deliberately ignored."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiUnauthorized("send Authorization: Bearer <API token> (create one at /account)")
    with request.app.state.db.session() as db:
        user = sessions.user_for_api_token(db=db, token=value.strip())
    if user is None:
        raise ApiUnauthorized("unknown or revoked API token")
    return user


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request whose CSRF token does not match its cookie."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    cookie = request.cookies.get(COOKIE)
    secret = request.app.state.settings.secret_key
    if not cookie or not sent or not hmac.compare_digest(sent, csrf_for(secret, cookie)):
        raise CsrfFailed()


Viewed = Annotated[Viewer, Depends(_viewer)]
CurrentUser = Annotated[User, Depends(require_user)]
Curator = Annotated[User, Depends(require_curator)]
Admin = Annotated[User, Depends(require_admin)]
ApiUser = Annotated[User, Depends(api_user)]
CSRF = [Depends(csrf_protect)]


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(COOKIE, token, max_age=settings.session_days * 86400, path="/",
                        httponly=True, samesite="lax", secure=settings.uses_https)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirect targets (no ``//evil.example`` or ``https://…``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


class SessionCookieMiddleware:
    """Sets the cookie of a token minted while rendering a form for a visitor who had none."""

    def __init__(self, app: Any, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        has_cookie = any(k == b"cookie" and COOKIE.encode() in v for k, v in scope["headers"])

        async def send_with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                if has_cookie:
                    # A page seen with a session cookie may show its viewer's name and votes:
                    # no shared cache may keep it.
                    headers = message["headers"]
                    control = b",".join(v for k, v in headers if k.lower() == b"cache-control")
                    if b"no-store" not in control:
                        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                        headers.append((b"cache-control", b"private, no-cache"))
                    message["headers"] = [*headers, (b"vary", b"Cookie")]
                token = scope.get("state", {}).get("dp_new_token")
                if token:
                    probe = Response()
                    set_session_cookie(probe, self.settings, token)
                    cookie = probe.headers["set-cookie"].encode("latin-1")
                    message["headers"] = [*message["headers"], (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str, *, link: str | None = None,
           headers: dict[str, str] | None = None) -> Response:
    if inplace.wants_fragment(request):
        return inplace.error(status, message)
    if _wants_json(request):
        body: dict[str, Any] = {"error": message}
        if link:
            body["url"] = link
        return JSONResponse(body, status_code=status, headers=headers)
    return templates_of(request).TemplateResponse(
        request, "community/error.html", {"status": status, "message": message, "link": link},
        status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Wire the session cookie, the template helpers and the error pages into an app."""
    settings: Settings = app.state.settings
    app.add_middleware(SessionCookieMiddleware, settings=settings)
    templates = app.state.templates

    @pass_context
    def csrf_input(context: Any) -> Markup:
        return get_viewer(context["request"]).csrf_field

    templates.env.globals["csrf_input"] = csrf_input
    templates.context_processors.append(lambda request: {"viewer": get_viewer(request)})

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return _error(request, exc.status, exc.message, link=getattr(exc, "link", None),
                      headers=headers)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return _error(request, 403, "The form's security token is missing or wrong. Reload the "
                                    "page and try again.")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return _error(request, 401, "log in first")
        if request.method == "GET":
            back = request.url.path
        else:  # a POST route cannot be returned to; go back to the page the form was on
            referer = urlsplit(request.headers.get("referer", ""))
            back = referer.path if referer.netloc == request.url.netloc else "/"
        why = LOGIN_REASONS.get(request.url.path.rsplit("/", 1)[-1], "")
        target = f"/login?next={quote(safe_next(back))}" + (f"&why={why}" if why else "")
        if inplace.wants_fragment(request):
            return inplace.error(401, "Log in to do that.", login=target)
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(ApiUnauthorized)
    async def _api_unauthorized(request: Request, exc: ApiUnauthorized) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="dailypapers"'})


def limit_by_ip(rule: ratelimits.Rule) -> Any:
    """A dependency counting one event per request against ``rule`` for the client address."""

    def dependency(request: Request) -> None:
        # Its own transaction: the event counts even if the route then fails or is refused.
        with request.app.state.db.session() as db, db.begin():
            ratelimits.hit(db=db, rule=rule, subject=client_ip(request),
                           scale=request.app.state.settings.rate_limit_scale)

    return Depends(dependency)


def limit_by_user(rule: ratelimits.Rule, *, api: bool = False) -> Any:
    """A dependency counting one event per request against ``rule`` for the acting user."""

    def dependency(request: Request) -> None:
        user = api_user(request) if api else require_user(request)
        with request.app.state.db.session() as db, db.begin():
            ratelimits.hit(db=db, rule=rule, subject=f"#{user.id}",
                           scale=request.app.state.settings.rate_limit_scale)

    return Depends(dependency)


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return templates_of(request).TemplateResponse(
        request, name, context or {}, status_code=status, headers=headers)
