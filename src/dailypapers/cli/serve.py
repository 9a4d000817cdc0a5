"""``dailypapers serve`` (``dailypapers db …`` lives in cli/db.py)."""

from __future__ import annotations

import click
import uvicorn

from dailypapers.cli.context import CliContext
from dailypapers.search.engine import SearchEngine
from dailypapers.services.sample import load_sample_if_empty


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="Web worker processes.")
@click.pass_obj
def serve_cmd(ctx: CliContext, host: str, port: int, workers: int) -> None:
    """Migrate the database, load the bundled sample if it is empty, bring the search indexes up
    to date, and serve the site."""
    if ctx.settings.load_sample:
        with ctx.session() as session:
            loaded = load_sample_if_empty(db=session)
        if loaded is not None:
            ctx.err.print(f"loaded the bundled sample: {loaded.summary()}")
    else:
        ctx.db  # noqa: B018  (migrates)
    # Before any worker starts, so that no first request builds an index (seconds to minutes on
    # a fresh data_dir). Workers load the query model on a thread of their own at startup.
    engine = SearchEngine(ctx.settings)
    with ctx.session() as session:
        engine.keyword.catch_up(session)  # waits for a rebuild held by another process
        engine.prepare(session)
    ctx.err.print(f"search indexes up to date ({engine.keyword.num_docs} papers in the keyword index)")
    ctx.err.print(f"serving on http://{host}:{port}")
    uvicorn.run("dailypapers.web.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning", access_log=False)
