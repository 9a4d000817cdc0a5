"""Request-scoped dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The route's session. async: creating a session does no I/O, and FastAPI runs a plain
    generator dependency in worker threads (two round trips per request); a session still
    holding a connection is closed in a worker thread, since that may talk to the database."""
    session = request.app.state.db.session()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


def templates_of(request: Request) -> Jinja2Templates:
    """The app's templates (``app.state`` is untyped: this gives them their type back)."""
    templates = request.app.state.templates
    assert isinstance(templates, Jinja2Templates)
    return templates
