"""Curator tools for one paper: feature/unfeature on a day, fix metadata, merge a duplicate."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.services import curation
from dailypapers.services.errors import Invalid
from dailypapers.web.auth import CSRF, Curator, render
from dailypapers.web.deps import get_db

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid("the day must be YYYY-MM-DD") from exc


@router.get("/papers/{key:path}/curate")
def curate_page(request: Request, key: str, db: DB, user: Curator) -> Response:
    paper, entry = curation.curation_view(db=db, user=user, paper_key=key)
    return render(request, "community/curate.html", {"paper": paper, "entry": entry})


@router.post("/papers/{key:path}/feature", dependencies=CSRF)
def feature(key: str, db: DB, user: Curator, day: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        entry = curation.feature(db=db, user=user, paper_key=key, day=_day(day))
    return RedirectResponse(f"/papers/date/{entry.day.isoformat()}", status_code=303)


@router.post("/papers/{key:path}/unfeature", dependencies=CSRF)
def unfeature(key: str, db: DB, user: Curator) -> Response:
    with db.begin():
        curation.unfeature(db=db, user=user, paper_key=key)
    return RedirectResponse(f"/papers/{key}/curate", status_code=303)


@router.post("/papers/{key:path}/metadata", dependencies=CSRF)
def fix_metadata(key: str, db: DB, user: Curator, title: Annotated[str, Form()] = "",
                 abstract: Annotated[str, Form()] = "", authors: Annotated[str, Form()] = "",
                 github_repo: Annotated[str, Form()] = "",
                 project_page: Annotated[str, Form()] = "") -> Response:
    with db.begin():
        paper = curation.fix_metadata(db=db, user=user, paper_key=key, title=title, abstract=abstract,
                                      authors=authors.splitlines() if authors.strip() else None,
                                      github_repo=github_repo, project_page=project_page)
    return RedirectResponse(f"/papers/{paper.key}", status_code=303)


@router.post("/papers/{key:path}/merge", dependencies=CSRF)
def merge(key: str, db: DB, user: Curator, duplicate: Annotated[str, Form()] = "") -> Response:
    """Merge the paper ``duplicate`` (a key) into this one."""
    with db.begin():
        kept = curation.merge(db=db, user=user, keep_key=key, drop_key=duplicate.strip())
    return RedirectResponse(f"/papers/{kept.key}", status_code=303)
