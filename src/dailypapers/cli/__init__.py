"""The ``dailypapers`` command line: one group, verb subcommands; each command calls one service."""

from __future__ import annotations

import click

from dailypapers.cli.context import CliContext
from dailypapers.cli.db import db_group
from dailypapers.cli.digests import digest_group
from dailypapers.cli.imports import export_cmd, import_group
from dailypapers.cli.search import catch_up_after_import, embed_cmd, index_group, search_cmd
from dailypapers.cli.serve import serve_cmd
from dailypapers.cli.sync import sync_group
from dailypapers.cli.users import users_group


@click.group()
@click.version_option(package_name="dailypapers")
@click.pass_context
def main(ctx: click.Context) -> None:
    """dailypapers: a self-hostable Daily Papers. The database comes from DAILYPAPERS_DATABASE_URL."""
    ctx.obj = CliContext()
    if ctx.invoked_subcommand in ("import", "sync"):
        ctx.call_on_close(lambda: catch_up_after_import(ctx.obj))


main.add_command(import_group)
main.add_command(export_cmd)
main.add_command(serve_cmd)
main.add_command(db_group)
main.add_command(digest_group)
main.add_command(users_group)
main.add_command(search_cmd)
main.add_command(embed_cmd)
main.add_command(index_group)
main.add_command(sync_group)
