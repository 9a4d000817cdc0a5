"""``dailypapers mcp``: the MCP server over stdio, for assistants that start it as a subprocess."""

from __future__ import annotations

import anyio
import click

from dailypapers.cli.context import CliContext
from dailypapers.mcp.server import Tools, build_server
from dailypapers.search.engine import SearchEngine


@click.command("mcp")
@click.option("--token", envvar="DAILYPAPERS_MCP_TOKEN", default=None, show_envvar=True,
              help="A member's API token (made at /account) for the personal tools for_you and "
                   "save_paper; prefer the environment variable, which other users cannot see in ps.")
@click.pass_obj
def mcp_cmd(ctx: CliContext, /, token: str | None) -> None:
    """Serve the MCP tools over standard input and output (for an assistant's MCP client config)."""
    settings = ctx.settings
    database = ctx.db  # migrates
    # Standard output is the protocol: everything said here goes to standard error.
    engine = SearchEngine(settings)
    with database.session() as session:
        engine.keyword.catch_up(session)  # as serve does: no first call builds an index
        engine.prepare(session)
    engine.warm_model_in_background()
    ctx.err.print(f"dailypapers MCP server on stdio ({engine.keyword.num_docs} papers; "
                  f"personal tools {'on' if token else 'off: no DAILYPAPERS_MCP_TOKEN'})")
    server = build_server(Tools(settings=settings, database=database, engine=engine, token=token or None))
    try:
        anyio.run(server.run_stdio_async)
    finally:
        engine.stop()
        database.dispose()
