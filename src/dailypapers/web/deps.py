"""Request-scoped dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
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
