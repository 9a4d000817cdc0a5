"""Request-scoped dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Form, Path, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session


def get_db(request: Request) -> Iterator[Session]:
    """The route's session. A plain generator on purpose: FastAPI closes it on its own one-thread
    exit limiter, so a finished request gives its connection back even while every worker thread
    is taken by requests waiting for one. (An async version that closed the session through the
    worker-thread pool deadlocked that way under a burst of writers until the pool timed out: 503s.)"""
    with request.app.state.db.session() as session:
        yield session


def templates_of(request: Request) -> Jinja2Templates:
    """The app's templates (``app.state`` is untyped: this gives them their type back)."""
    templates = request.app.state.templates
    assert isinstance(templates, Jinja2Templates)
    return templates


# The largest id the databases store (ids are INTEGER: 32-bit on PostgreSQL): a larger number
# names nothing, and handing one past 2**63 to the driver raises (OverflowError on SQLite)
# instead of finding nothing. Ids from clients are checked against it (422 when out of range).
MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id.")]
FormId = Annotated[int | None, Form(ge=1, le=MAX_ID)]
