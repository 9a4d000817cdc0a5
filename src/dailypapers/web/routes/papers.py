"""Paper pages (HTML and Markdown), organization pages and author pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.services import authors, collections, follows, orgs, papers
from dailypapers.services.paper_page import paper_page as load_paper_page
from dailypapers.web.auth import Viewed
from dailypapers.web.deps import get_db
from dailypapers.services.paper_markdown import paper_markdown
from dailypapers.web.rendering import JSON, Alternate, body, feed_alternates, render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")]
PAGE_SIZE = 60


def _card(db: Session, paper_id: str) -> papers.PaperCard:
    card = papers.get_card(db=db, paper_id=paper_id)
    if card is None:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}")
    return card


@router.get("/orgs/{handle}")
def org_page(request: Request, handle: str, viewer: Viewed, db: DB, page: Page = 1) -> Response:
    view = orgs.org_page(db=db, handle=handle, page=page - 1, page_size=PAGE_SIZE,
                         viewer_id=viewer.user.id if viewer.user else None)
    if view is None:
        raise HTTPException(404, f"no organization {handle[:80]!r}")
    viewer.preload_votes(db=db, paper_ids=[card.id for card in view.cards])
    follow = follows.follow_box(db=db, user_id=viewer.user.id if viewer.user else None, kind="org",
                                target=view.org.handle, label=view.org.name)
    alternates = feed_alternates(f"/feeds/orgs/{view.org.handle}", f"Papers of {view.org.name}")
    return render(request, "listing.html", {"org": view.org, "view": view, "base": request.url.path,
                                            "follow": follow}, alternates=alternates, db=db)


@router.get("/authors/{name:path}")
def author_page(request: Request, name: str, viewer: Viewed, db: DB, page: Page = 1) -> Response:
    view = authors.author_page(db=db, name=name, page=page - 1, page_size=PAGE_SIZE)
    if view is None:
        raise HTTPException(404, f"no author {name[:80]!r}")
    viewer.preload_votes(db=db, paper_ids=[card.id for card in view.cards])
    follow = follows.follow_box(db=db, user_id=viewer.user.id if viewer.user else None,
                                kind="author", target=view.author.name, label=view.author.name)
    return render(request, "listing.html", {"author": view.author, "view": view,
                                            "base": request.url.path, "follow": follow}, db=db)


# "{paper_id:path}" admits old-style arXiv ids (hep-th/9901001); the .md route must come first.
@router.get("/papers/{paper_id:path}.md")
def paper_md(request: Request, paper_id: str, db: DB) -> Response:
    card = _card(db, paper_id)
    text = paper_markdown(card, base_url=request.app.state.settings.base_url)
    return body(request, text, "text/markdown; charset=utf-8",
                alternates=[Alternate(f"/papers/{card.key}", "text/html", card.title)])


@router.get("/papers/{paper_id:path}")
def paper_page(request: Request, paper_id: str, viewer: Viewed, db: DB) -> Response:
    if paper_id.endswith("/") and paper_id.strip("/"):
        # A pasted hf.co address with a trailing slash (/papers/2401.01234/, /papers/trending/,
        # /papers/date/2025-11-20/): the same address without it (a path, so never off-site).
        target = f"/papers/{paper_id.strip('/')}"
        query = request.url.query
        return RedirectResponse(f"{target}?{query}" if query else target, status_code=301)
    page = load_paper_page(db=db, engine=request.app.state.search, memo=request.app.state.similar,
                           paper_id=paper_id)
    if page is None:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}")
    card = page.card
    if not page.canonical:  # 2401.01234v2, arXiv:2401.01234 → the one address of the page
        return RedirectResponse(f"/papers/{card.key}", status_code=301)
    viewer.preload_votes(db=db, paper_ids=[card.id])
    panel = (None if viewer.user is None
             else collections.paper_panel(db=db, user_id=viewer.user.id, paper_id=card.id))
    alternates = [Alternate(f"/api/papers/{card.key}", JSON, "This paper (JSON)"),
                  Alternate(f"/papers/{card.key}.md", "text/markdown", "This paper (Markdown)")]
    return render(request, "paper.html", {"card": card, "threads": page.threads,
                                          "similar": page.similar, "reasons": page.reasons, "panel": panel},
                  alternates=alternates, db=db)
