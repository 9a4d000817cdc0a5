"""The ``dailypapers`` command line: one group, verb subcommands; each command calls one service.

Commands are imported when they run, not when the program starts: ``dailypapers --help`` (or a
mistyped command) must not load SQLAlchemy, the web app and the search engine first (1 s here).
The listing of ``--help`` therefore comes from ``COMMANDS`` below; tests/cli/test_cli.py checks
that each line equals the command's own help.
"""

from __future__ import annotations

import importlib

import click

#: name → (module:attribute, the command's one-line help as ``--help`` lists it).
COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("dailypapers.cli.db:db_group", "Database maintenance."),
    "digest": ("dailypapers.cli.digests:digest_group",
               "Digests of trending papers for the confirmed subscribers."),
    "embed": ("dailypapers.cli.search:embed_cmd",
              "Compute missing or stale paper vectors (resumable: stop any time, run again to go on)."),
    "export": ("dailypapers.cli.imports:export_cmd",
               "Write every paper as JSON Lines to PATH (default: standard output)."),
    "import": ("dailypapers.cli.imports:import_group",
               "Import papers from files; a second run of the same files changes nothing."),
    "index": ("dailypapers.cli.search:index_group",
              "Search index maintenance (indexes live under DAILYPAPERS_DATA_DIR and follow the database)."),
    "mcp": ("dailypapers.cli.mcp:mcp_cmd",
            "Serve the MCP tools over standard input and output (for an assistant's MCP client config)."),
    "search": ("dailypapers.cli.search:search_cmd",
               "Search papers by keywords and meaning, and print a table of results."),
    "serve": ("dailypapers.cli.serve:serve_cmd",
              ("Migrate the database, load the bundled sample if it is empty, bring the search indexes "
               "up to date, and serve the site.")),
    "submissions": ("dailypapers.cli.submissions:submissions_group",
                    "Member submissions kept for later when arXiv could not be reached."),
    "sync": ("dailypapers.cli.sync:sync_group",
             "Pull papers from upstream sources (resumable: a rerun after a crash goes on where it stopped)."),
    "users": ("dailypapers.cli.users:users_group", "Manage user accounts."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (see the module docstring)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name][0].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup)
@click.version_option(package_name="dailypapers")
@click.pass_context
def main(ctx: click.Context) -> None:
    """dailypapers: a self-hostable Daily Papers. The database comes from DAILYPAPERS_DATABASE_URL."""
    from dailypapers.cli.context import CliContext

    ctx.obj = CliContext()
    if ctx.invoked_subcommand in ("import", "sync"):
        from dailypapers.cli.search import catch_up_after_import

        ctx.call_on_close(lambda: catch_up_after_import(ctx.obj))

