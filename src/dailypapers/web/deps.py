"""Request-scoped dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread

from fastapi import Form, Path, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The route's session. Async because creating a session does no I/O, so FastAPI does not
    run it on a worker thread (for a sync generator that is two trips through the thread pool
    per request, in and out).

    Routes that render or answer through ``rendering`` have closed it by the time it comes back
    here; one that has not (an error, a route that keeps it open) still holds a connection, and
    closing it (a rollback) is I/O: that runs on a worker thread under a limiter of its own, as
    FastAPI closes sync generators, never waiting for a token of the shared pool. Closing through
    the shared pool deadlocked under a burst of writers: every worker thread was taken by requests
    waiting for a connection that only a close could free, until the pool timed out (503s)."""
    session = request.app.state.db.session()
    try:
        yield session
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()  # holds no connection: nothing to give back, no I/O


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
