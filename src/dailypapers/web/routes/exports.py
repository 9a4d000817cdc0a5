"""Every listing as a reference file: ``/exports/<the listing's path>.<bib|ris|json>``.

``.bib`` is BibTeX, ``.ris`` RIS and ``.json`` CSL-JSON (services/citations.py). Each route
loads the listing as its page does (up to ``EXPORT_MAX`` papers, in the page's order) and
hands the cards to ``export_response``; the format comes from the ``Format`` dependency. The
search's export lives with the search routes, which own its parameters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dailypapers.services import authors, daily, orgs, papers, trending
from dailypapers.services.citations import FILE_SUFFIXES, MEDIA_TYPES, CitationFormat, build_references
from dailypapers.services.papers import PaperCard
from dailypapers.services.periods import PeriodError, PeriodKind, parse_period
from dailypapers.store.base import utcnow
from dailypapers.web.deps import get_db
from dailypapers.web.rendering import body

router = APIRouter(prefix="/exports", include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
#: A listing exports its first this many papers (a month of daily papers fits).
EXPORT_MAX = 1000
SUFFIX_FORMATS: dict[str, CitationFormat] = {"bib": "bibtex", "ris": "ris", "json": "csl-json"}


def export_format(fmt: str) -> CitationFormat:
    """The ``{fmt}`` path suffix as a citation format; any other suffix is 404."""
    if fmt not in SUFFIX_FORMATS:
        raise HTTPException(404, "exports end in .bib (BibTeX), .ris (RIS) or .json (CSL-JSON)")
    return SUFFIX_FORMATS[fmt]


Format = Annotated[CitationFormat, Depends(export_format)]


def export_response(request: Request, *, cards: Sequence[PaperCard], fmt: CitationFormat,
                    name: str) -> Response:
    """The reference file of ``cards``, downloaded as ``<site>-<name>.<suffix>``."""
    settings = request.app.state.settings
    content = build_references(cards=cards, fmt=fmt, base_url=settings.base_url)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{settings.site_name}-{name}").strip("-.")[:120]
    disposition = f'attachment; filename="{stem or "papers"}.{FILE_SUFFIXES[fmt]}"'
    return body(request, content, MEDIA_TYPES[fmt], headers={"content-disposition": disposition})


def _period(request: Request, db: Session, kind: PeriodKind, slug: str, fmt: CitationFormat) -> Response:
    try:
        period = parse_period(kind, slug)
    except PeriodError as exc:
        raise HTTPException(404, str(exc)) from exc
    view = daily.period_page(db=db, period=period, page_size=EXPORT_MAX)
    return export_response(request, cards=view.cards, fmt=fmt, name=period.slug)


@router.get("/date/{slug}.{fmt}")
def day(request: Request, slug: str, fmt: Format, db: DB) -> Response:
    return _period(request, db, "day", slug, fmt)


@router.get("/week/{slug}.{fmt}")
def week(request: Request, slug: str, fmt: Format, db: DB) -> Response:
    return _period(request, db, "week", slug, fmt)


@router.get("/month/{slug}.{fmt}")
def month(request: Request, slug: str, fmt: Format, db: DB) -> Response:
    return _period(request, db, "month", slug, fmt)


@router.get("/trending.{fmt}")
def trending_export(request: Request, fmt: Format, db: DB) -> Response:
    ranked = trending.trending(db=db, now=utcnow(), limit=EXPORT_MAX)
    return export_response(request, cards=[card for card, _ in ranked.ranked], fmt=fmt, name="trending")


@router.get("/orgs/{handle}.{fmt}")
def org(request: Request, handle: str, fmt: Format, db: DB) -> Response:
    view = orgs.org_page(db=db, handle=handle, page_size=EXPORT_MAX)
    if view is None:
        raise HTTPException(404, f"no organization {handle[:80]!r}")
    return export_response(request, cards=view.cards, fmt=fmt, name=view.org.handle)


@router.get("/authors/{name:path}.{fmt}")
def author(request: Request, name: str, fmt: Format, db: DB) -> Response:
    view = authors.author_page(db=db, name=name, page_size=EXPORT_MAX)
    if view is None:
        raise HTTPException(404, f"no author {name[:80]!r}")
    return export_response(request, cards=view.cards, fmt=fmt, name=view.author.name)


@router.get("/papers/{paper_id:path}.{fmt}")
def paper(request: Request, paper_id: str, fmt: Format, db: DB) -> Response:
    card = papers.get_card(db=db, paper_id=paper_id)
    if card is None:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}")
    return export_response(request, cards=[card], fmt=fmt, name=card.key)
