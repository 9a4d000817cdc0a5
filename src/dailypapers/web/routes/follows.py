"""Follows on the site: follow/unfollow buttons (in place with site.js, plain forms without),
the account page's list, and the member's private feed at ``/feeds/me/<token>.atom``.

The private feed is authenticated by its URL alone (feed readers send no cookies), so it is
never kept by a shared cache: a revoked token stops working at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.services import feed_tokens, follows, ratelimits
from dailypapers.services.follows import FollowKind
from dailypapers.services.member_feed import member_feed as private_feed
from dailypapers.web import inplace
from dailypapers.web.auth import CSRF, CurrentUser, Viewed, limit_by_user
from dailypapers.web.deps import get_db
from dailypapers.web.routes.feeds import feed_response
from dailypapers.web.routes.library import private

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
LIMIT = [*CSRF, limit_by_user(ratelimits.LIBRARY_USER)]
Kind = Annotated[FollowKind, Form()]
Target = Annotated[str, Form(min_length=1, max_length=1000)]


Label = Annotated[str, Form(max_length=300)]
Next = Annotated[str, Form()]


def _change(request: Request, db: Session, user_id: int, kind: FollowKind, target: str,
            label: str, next_url: str, *, on: bool) -> Response:
    """Follow or unfollow, then the new button in place, else back to the page."""
    with db.begin():
        if on:
            follows.follow(db=db, user_id=user_id, kind=kind, target=target)
        else:
            follows.unfollow(db=db, user_id=user_id, kind=kind, target=target)
    label = label or target
    box = follows.follow_box(db=db, user_id=user_id, kind=kind, target=target, label=label)
    if not inplace.wants_fragment(request):
        return inplace.back(request, next_url, default="/account#follows")
    said = f"Following {label}." if box.following else f"No longer following {label}."
    return inplace.fragment(request, "library/_follow.html", {"follow": box}, status=said)


@router.post("/follow", dependencies=LIMIT)
def follow(request: Request, db: DB, user: CurrentUser, kind: Kind, target: Target,
           label: Label = "", next: Next = "") -> Response:
    return _change(request, db, user.id, kind, target, label, next, on=True)


@router.post("/unfollow", dependencies=LIMIT)
def unfollow(request: Request, db: DB, user: CurrentUser, kind: Kind, target: Target,
             label: Label = "", next: Next = "") -> Response:
    return _change(request, db, user.id, kind, target, label, next, on=False)


@router.post("/account/feed", dependencies=CSRF)
def regenerate_feed(request: Request, db: DB, user: CurrentUser) -> Response:
    with db.begin():
        feed_tokens.regenerate_feed_token(db=db, user_id=user.id,
                                          secret=request.app.state.settings.secret_key)
    return RedirectResponse("/account#feed", status_code=303)


@router.post("/account/feed/revoke", dependencies=CSRF)
def revoke_feed(request: Request, db: DB, user: CurrentUser) -> Response:
    with db.begin():
        feed_tokens.revoke_feed_token(db=db, user_id=user.id)
    return RedirectResponse("/account#feed", status_code=303)


@router.get("/feeds/me/{token}.{fmt}")
def member_feed(request: Request, token: str, fmt: str, db: DB, viewer: Viewed) -> Response:
    if fmt not in ("rss", "atom"):
        raise HTTPException(404, "feeds end in .rss or .atom")
    user_id = feed_tokens.user_for_feed_token(db=db, token=token)
    if user_id is None:
        raise HTTPException(404, "no such feed (its address may have been revoked)")
    feed = private_feed(db=db, engine=request.app.state.search, user_id=user_id)
    site = request.app.state.settings.site_name
    return private(feed_response(request, title=f"{site}: what you follow",
                                 description="New papers of the authors, organizations and searches "
                                             "you follow.", page_path="/library", cards=feed.cards,
                                 notes=feed.reasons,
                                 fmt="rss" if fmt == "rss" else "atom"))
