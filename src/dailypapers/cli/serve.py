"""``dailypapers serve`` (``dailypapers db …`` lives in cli/db.py)."""

from __future__ import annotations

import ipaddress
import os

import click
import uvicorn

from dailypapers.cli.context import CliContext
from dailypapers.search.engine import SearchEngine
from dailypapers.services.sample import load_sample_if_empty
from dailypapers.settings import DEFAULT_SECRET

WILDCARDS = {"0.0.0.0", "::", ""}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def derived_base_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches ``--host``/``--port`` at."""
    name = "127.0.0.1" if host in WILDCARDS else host
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 literal
    return f"http://{name}:{port}"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="Web worker processes.")
@click.pass_obj
def serve_cmd(ctx: CliContext, host: str, port: int, workers: int) -> None:
    """Migrate the database, load the bundled sample if it is empty, bring the search indexes up
    to date, and serve the site."""
    settings = ctx.settings
    if settings.secret_key == DEFAULT_SECRET and not is_loopback(host):
        raise click.ClickException(
            f"refusing to listen on {host} with the default secret key: anyone could forge sessions "
            "and links. Set DAILYPAPERS_SECRET_KEY (or listen on 127.0.0.1).")
    if "base_url" not in settings.model_fields_set:
        # Feeds, Markdown and confirmation mails must point where this server really answers; the
        # workers read their settings from the environment, so the derived URL goes there.
        os.environ["DAILYPAPERS_BASE_URL"] = derived_base_url(host, port)
        settings = ctx.reload_settings()
        if host in WILDCARDS:
            ctx.err.print(f"links use {settings.base_url}; set DAILYPAPERS_BASE_URL to the address "
                          "visitors use")
    if settings.load_sample:
        with ctx.session() as session:
            loaded = load_sample_if_empty(db=session)
        if loaded is not None:
            ctx.err.print(f"loaded the bundled sample: {loaded.summary()}")
    else:
        ctx.db  # noqa: B018  (migrates)
    # Before any worker starts, so that no first request builds an index (seconds to minutes on
    # a fresh data_dir). Workers load the query model on a thread of their own at startup.
    engine = SearchEngine(settings)
    with ctx.session() as session:
        engine.keyword.catch_up(session)  # waits for a rebuild held by another process
        engine.prepare(session)
    ctx.err.print(f"search indexes up to date ({engine.keyword.num_docs} papers in the keyword index)")
    ctx.err.print(f"serving on http://{host}:{port} (links use {settings.base_url})")
    # X-Forwarded-For/-Proto are believed only from the configured proxies (uvicorn would trust
    # 127.0.0.1 by default, letting anything behind a local proxy choose its own address).
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    uvicorn.run("dailypapers.web.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning", access_log=False,
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
