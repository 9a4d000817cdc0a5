"""``create_app(settings)``: the FastAPI application, with no import-time side effects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dailypapers.mcp import http as mcp_http
from dailypapers.services.digest_scheduler import DigestScheduler
from dailypapers.services.similar import SimilarMemo
from dailypapers.services.sync_schedule import SyncScheduler
from dailypapers.settings import Settings
from dailypapers.store.db import Database, web_pool
from dailypapers.web.caching import PageCache
from dailypapers.web.compression import Compress
from dailypapers.web.errors import install_error_handlers
from dailypapers.web.methods import HeadAsGet
from dailypapers.web.openapi import install as install_openapi
from dailypapers.web.rendering import make_templates, precompile_templates
from dailypapers.web.routes import api, arxiv_new, docs, exports, feeds, pages, papers
from dailypapers.web.routes import search as search_routes
from dailypapers.web.security import BodyLimit, RejectNul, SecurityHeaders
from dailypapers.web import auth
from dailypapers.web.routes import accounts, comments, curation, orgs_admin, submit, votes
from dailypapers.web.routes import follows, foryou, library, library_import
from dailypapers.web.routes import subscriptions as subscription_routes

HERE = Path(__file__).parent


def create_app(settings: Settings, database: Database | None = None, *,
               warm_model: bool = False) -> FastAPI:
    """Build the app. The database must already be migrated (``serve`` and the tests do it).

    ``warm_model`` (``serve`` sets it) loads the search query model on a thread at startup, so
    no request waits for it; otherwise the first search that needs it loads it.
    """
    db = database or Database(settings.database_url, **web_pool(
        settings.database_url, threads=settings.web_threads, timeout=settings.db_pool_timeout))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes and dependencies run on anyio's thread pool: its size is what the
        # connection pool was sized for (web_pool), so requests queue for a thread, not a
        # connection.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        # Off by default; cron/systemd timers run `dailypapers digest send` instead.
        _app.state.digest_scheduler = DigestScheduler.start_if_enabled(settings=settings, database=db)
        # Each period of DAILYPAPERS_SYNC_SCHEDULE and the retry of kept submissions
        # (DAILYPAPERS_SUBMISSION_RETRY_SECONDS); one worker at a time runs each, by lease.
        _app.state.sync_scheduler = SyncScheduler.start_if_enabled(
            settings=settings, database=db, engine=_app.state.search)
        if warm_model:
            _app.state.search.warm_model_in_background()
        async with mcp_http.running(_app):
            yield
        _app.state.search.stop()
        for scheduler in (_app.state.digest_scheduler, _app.state.sync_scheduler):
            if scheduler is not None:
                scheduler.stop()
        if database is None:
            db.dispose()

    app = FastAPI(title=settings.site_name, version="0.1.0", lifespan=lifespan,
                  description=docs.DESCRIPTION, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.db = db
    app.state.templates = make_templates(settings)
    app.state.similar = SimilarMemo()  # a paper page's similar papers, per catalog version
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    install_error_handlers(app)
    docs.install(app)
    app.include_router(pages.router)
    app.include_router(feeds.router)
    app.include_router(exports.router)
    app.include_router(subscription_routes.router)
    # Community: accounts, votes, submissions, curation, organizations, comments.
    auth.install(app)
    for community in (accounts, votes, submit, curation, orgs_admin, comments, arxiv_new, library,
                      library_import, follows, foryou):
        app.include_router(community.router)
    search_routes.install(app)  # before the "{paper_id:path}" catch-alls below
    # Last: their "{paper_id:path}" catch-alls would shadow /api/papers/search, /papers/{id}/...
    app.include_router(api.router)
    app.include_router(papers.router)
    # The MCP server (POST /mcp): the same services for assistants, see docs/mcp.md.
    mcp_http.install(app, settings=settings, database=db, engine=app.state.search)
    install_openapi(app)  # after every router: the document describes the JSON API only
    # Outermost: a cache hit skips everything inside (session cookie, routing, database).
    app.add_middleware(PageCache, max_bytes=settings.page_cache_megabytes * 2**20,
                       max_seconds=settings.page_cache_seconds)
    # Outside the cache: compresses what the cache did not (its hits come compressed already).
    app.add_middleware(Compress)
    app.add_middleware(RejectNul)
    app.add_middleware(SecurityHeaders, remote_images=settings.remote_images, hsts=settings.uses_https)
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)  # outermost: before anything reads
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (each worker process builds its own app from the env)."""
    settings = Settings()
    app = create_app(settings, warm_model=True)
    precompile_templates(app.state.templates, settings)
    return app
