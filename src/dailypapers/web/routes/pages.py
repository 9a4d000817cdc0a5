"""HTML pages: thin handlers that call one service function and render a template."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dailypapers.services import daily
from dailypapers.web.deps import get_db

router = APIRouter()
DB = Annotated[Session, Depends(get_db)]


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB) -> Response:
    day = daily.latest_day(db=db)
    if day is None:
        return request.app.state.templates.TemplateResponse(
            request, "daily.html", {"day": None, "entries": [], "prev": None, "next": None})
    return RedirectResponse(f"/papers/date/{day.isoformat()}", status_code=307)


@router.get("/papers/date/{day}", response_class=HTMLResponse)
def daily_page(request: Request, day: str, db: DB) -> Response:
    try:
        when = dt.date.fromisoformat(day)
    except ValueError as exc:
        raise HTTPException(404, "no such day") from exc
    context = {
        "day": when,
        "entries": daily.entries_on(db=db, day=when),
        "prev": daily.previous_day(db=db, day=when),
        "next": daily.next_day(db=db, day=when),
    }
    return request.app.state.templates.TemplateResponse(request, "daily.html", context)
