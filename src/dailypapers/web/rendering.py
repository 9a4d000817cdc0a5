"""How routes answer: a template page or a JSON/feed body, with caching and alternate links.

One context feeds both the HTML page and its ``.json`` twin; ``Link: <…>; rel="alternate"``
headers (and ``<link rel="alternate">`` in the page head) point from one to the other and to the
feeds.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from email.utils import format_datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemBytecodeCache
from markupsafe import Markup
from sqlalchemy.orm import Session

from dailypapers.settings import Settings
from dailypapers.web import formatting
from dailypapers.web.auth import get_viewer
from dailypapers.web.caching import etag_for, not_modified, public_cache_control
from dailypapers.web.compression import compressible, negotiate
from dailypapers.web.deps import templates_of

TEMPLATES = Path(__file__).parent / "templates"
JSON = "application/json"


@dataclass(frozen=True)
class Alternate:
    href: str
    type: str
    title: str


def make_templates(settings: Settings) -> Jinja2Templates:
    """The page templates. Cards and search hits are macros of one module (``_macros.html``)
    that each page imports once (an ``{% include %}`` per card cost a template lookup, a new
    context and a fresh import of the macros for every card: most of a page's render time).

    In production, compiled templates are kept in a bytecode cache under ``data_dir``, and each
    ``serve`` worker compiles them all at startup (``precompile_templates``): no request waits
    for a template to compile, and the workers after the first only unmarshal code.
    """
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.trim_blocks = True
    env.lstrip_blocks = True
    # Templates only change with a deploy outside development: skip a stat() per render.
    env.auto_reload = settings.environment == "development"
    env.filters.update(math=formatting.readable_math, plain=formatting.strip_math,
                       linked=formatting.linked_abstract, compact=formatting.compact_number,
                       urlencode=formatting.urlencode,
                       long_date=formatting.long_date, plural=formatting.plural)
    env.globals.update(site_name=settings.site_name, base_url=settings.base_url.rstrip("/"),
                       remote_images=settings.remote_images)
    bodies, boxes = CardBodies(env), Boxes(env)
    env.globals.update(card_body=bodies, boxes=boxes, viewer_card=Cards(bodies, boxes))
    if settings.environment == "production":
        cache = settings.data_dir / "cache" / "templates"
        cache.mkdir(parents=True, exist_ok=True)
        env.bytecode_cache = FileSystemBytecodeCache(str(cache))
    return templates


class CardBodies:
    """The body of a paper card (``card_body_html`` of ``_macros.html``), rendered once per
    distinct card and kept, most recently used first, up to ``size`` cards.

    The key is the whole ``PaperCard`` value (every field the body shows, as the request's own
    query just read it) and the rank, and the body shows nothing else (no viewer, no request;
    ``remote_images`` is fixed per process): a changed title, count, author or organization is
    another key, so what is kept is never stale, in any worker, on either database, and nothing
    has to be invalidated. The parts that depend on the viewer (the vote and save boxes) are
    rendered per request. Rendering the body was most of a card's cost (escaping, the math
    filter, dates, five macro calls); a page of cards still runs all of its queries.
    """

    def __init__(self, env: Environment, size: int = 2048) -> None:
        self._env = env
        self._render = functools.lru_cache(maxsize=size)(self._body)

    def _body(self, card: Any, rank: int | None) -> Markup:
        return self._env.get_template("_macros.html").module.card_body_html(card, rank)  # type: ignore[attr-defined,no-any-return]

    def __call__(self, card: Any, rank: int | None = None) -> Markup:
        try:
            return self._render(card, rank)
        except TypeError:  # an unhashable value (a list where a tuple was expected): no memo
            return self._body(card, rank)


class Boxes:
    """The vote and save boxes of cards (``vote_box_html`` / ``save_box_html`` of
    ``_macros.html``), rendered once per distinct set of arguments and kept, most recently used
    first, up to ``size`` of each.

    The arguments are everything a box shows: the paper's key, count (and title, for the save
    box's label), whether the viewer is signed in and whether they voted or saved it, as the
    request just loaded them; so a kept box is never stale and a member's own vote is always
    theirs. The CSRF field, the one per-viewer part, is a slot filled for each request.
    """

    SLOT = "<!--csrf-->"  # cannot come from data: keys and titles are escaped

    def __init__(self, env: Environment, size: int = 4096) -> None:
        self._env = env
        self._vote = functools.lru_cache(maxsize=size)(self._vote_html)
        self._save = functools.lru_cache(maxsize=size)(self._save_html)

    def _macro(self, name: str) -> Any:
        return getattr(self._env.get_template("_macros.html").module, name)

    def _vote_html(self, key: str, upvotes: int, voted: bool, member: bool, large: bool) -> str:
        return str(self._macro("vote_box_html")(key, upvotes, voted, member, large, Markup(self.SLOT)))

    def _save_html(self, key: str, title: Any, saved: bool, member: bool) -> str:
        return str(self._macro("save_box_html")(key, title, saved, member, Markup(self.SLOT)))

    def vote(self, key: str, upvotes: int, voted: bool, member: bool, large: bool, csrf: str) -> Markup:
        return Markup(self._vote(key, upvotes, bool(voted), member, bool(large)).replace(self.SLOT, str(csrf)))

    def save(self, key: str, title: Any, saved: bool, member: bool, csrf: str) -> Markup:
        return Markup(self._save(key, title, bool(saved), member).replace(self.SLOT, str(csrf)))


class Cards:
    """A whole card for a viewer (the ``card`` macro of ``_macros.html`` with a viewer): its
    vote and save boxes (``Boxes``) and its body (``CardBodies``) in one call from the template.
    The frame below is the macro's own markup (its branch without a viewer keeps it)."""

    def __init__(self, bodies: CardBodies, boxes: Boxes) -> None:
        self._bodies = bodies
        self._boxes = boxes

    def __call__(self, viewer: Any, card: Any, rank: int | None = None) -> Markup:
        member = viewer.user is not None
        csrf = str(viewer.csrf_field) if member else ""
        vote = self._boxes.vote(card.key, card.upvotes, viewer.upvoted(card.id), member, False, csrf)
        save = self._boxes.save(card.key, card.title, viewer.saved(card.id), member, csrf)
        body = self._bodies(card, rank)
        return Markup(f'<article class="card" aria-labelledby="t-{int(card.id)}">\n  <div class="card-side">\n'
                      f'    {vote}\n    {save}\n  </div>\n  {body}\n</article>')


def precompile_templates(templates: Jinja2Templates, settings: Settings) -> int:
    """Compile every page template now, through the production bytecode cache (the first worker
    to start fills it, the others and later restarts unmarshal); returns how many (0 outside
    production, where templates compile on first use)."""
    if settings.environment != "production":
        return 0
    names = templates.env.list_templates(extensions=["html"])
    for name in names:
        templates.env.get_template(name)
    return len(names)


def feed_alternates(path: str, title: str) -> list[Alternate]:
    """The RSS and Atom links of the feed at ``path`` (without extension)."""
    return [Alternate(f"{path}.rss", "application/rss+xml", f"{title} (RSS)"),
            Alternate(f"{path}.atom", "application/atom+xml", f"{title} (Atom)")]


def _link_header(alternates: Sequence[Alternate]) -> str:
    return ", ".join(f'<{a.href}>; rel="alternate"; type="{a.type}"' for a in alternates)


def _cache(response: Response, settings: Settings) -> None:
    if settings.page_cache_seconds > 0:
        response.headers["cache-control"] = public_cache_control(settings.page_cache_seconds)
    else:
        response.headers["cache-control"] = "no-cache"


def render(request: Request, template: str, context: Mapping[str, Any], *, status: int = 200,
           alternates: Sequence[Alternate] = (), db: Session | None = None) -> Response:
    """A template page; 200 pages may be shared by caches for ``page_cache_seconds``.

    ``db``, the request's session, is closed before rendering: the context holds plain data by
    then (routes load comments, similar papers and the viewer's votes up front; templates never
    query), so the connection goes back to the pool for the whole render. The viewer's login
    session is looked up on it first, if the route has not done so already.
    """
    if db is not None:
        get_viewer(request).resolve(db)
        db.close()
    settings: Settings = request.app.state.settings
    all_alternates = [*alternates, *feed_alternates("/feeds/latest", "Latest daily papers")]
    response = templates_of(request).TemplateResponse(
        request, template, {**context, "alternates": all_alternates}, status_code=status)
    if status == 200:
        _cache(response, settings)
        response.headers["link"] = _link_header(all_alternates)
    return response


def body(request: Request, content: bytes | str, media_type: str, *,
         alternates: Sequence[Alternate] = (), headers: Mapping[str, str] | None = None,
         db: Session | None = None, last_modified: dt.datetime | None = None) -> Response:
    """A JSON, feed or Markdown body; public data, so any origin may read it.

    It carries an ETag (and ``Last-Modified`` when given, naive UTC) and answers a matching
    conditional GET with 304 even when the page cache is off or bypassed. ``db``, the request's
    session, is closed here, in the route's worker thread.
    """
    if db is not None:
        db.close()
    raw = content.encode() if isinstance(content, str) else content
    validators = {"etag": etag_for(raw).decode()}
    if last_modified is not None:
        validators["last-modified"] = format_datetime(last_modified.replace(tzinfo=dt.UTC), usegmt=True)
    conditions = [request.headers.get(h) for h in ("if-none-match", "if-modified-since")]
    if request.method in ("GET", "HEAD") and not_modified(
            if_none_match=conditions[0].encode("latin-1") if conditions[0] is not None else None,
            if_modified_since=conditions[1].encode("latin-1") if conditions[1] is not None else None,
            etag=validators["etag"].encode(), last_modified=validators.get("last-modified", "").encode()
            or None):
        if negotiate(request.headers.get("accept-encoding", "").encode("latin-1")) is not None and \
                compressible([(b"content-type", media_type.encode())], len(raw)):
            # The 304 carries the validator the 200 would have: web/compression.py weakens the
            # ETag of a compressed copy, and cannot tell from an empty 304 that it would have.
            validators["etag"] = "W/" + validators["etag"]
        response = Response(status_code=304, headers={**dict(headers or {}), **validators})
    else:
        response = Response(content=raw, media_type=media_type,
                            headers={**dict(headers or {}), **validators})
    response.headers["access-control-allow-origin"] = "*"
    _cache(response, request.app.state.settings)
    if alternates:
        response.headers["link"] = _link_header(alternates)
    return response
