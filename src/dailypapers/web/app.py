"""``create_app(settings)``: the FastAPI application, with no import-time side effects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dailypapers.settings import Settings
from dailypapers.store.db import Database
from dailypapers.web.routes import pages

HERE = Path(__file__).parent


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """Build the app. The database must already be migrated (``serve`` and the tests do it)."""
    db = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if database is None:
            db.dispose()

    app = FastAPI(title=settings.site_name, version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (each worker process builds its own app from the env)."""
    return create_app(Settings())
