"""``dailypapers users …``: create admins, set roles, list accounts, issue API tokens."""

from __future__ import annotations

import click

from dailypapers.cli.context import CliContext
from dailypapers.services import accounts, sessions
from dailypapers.services.errors import ServiceError
from dailypapers.store import Role


@click.group("users")
def users_group() -> None:
    """Manage user accounts."""


@users_group.command("create-admin")
@click.option("--username", required=True, help="Login name of the admin (created or promoted).")
@click.option("--email", required=True, help="E-mail address of a new account.")
@click.password_option("--password", envvar="DAILYPAPERS_ADMIN_PASSWORD",
                       help="Password of a new account (prompted; or DAILYPAPERS_ADMIN_PASSWORD).")
@click.pass_obj
def create_admin_cmd(ctx: CliContext, username: str, email: str, password: str) -> None:
    """Create an admin account, or make an existing account an admin."""
    with ctx.session() as db:
        try:
            with db.begin():
                user = accounts.create_admin(db=db, username=username, email=email,
                                             password=password)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"{user.username} is an admin")


@users_group.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.pass_obj
def set_role_cmd(ctx: CliContext, username: str, role: str) -> None:
    """Give USERNAME the role member, curator or admin."""
    with ctx.session() as db:
        try:
            with db.begin():
                user = accounts.set_role(db=db, username=username, role=Role(role))
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"{user.username} is now a {user.role}")


@users_group.command("list")
@click.pass_obj
def list_cmd(ctx: CliContext) -> None:
    """Print every account: username, role, e-mail."""
    with ctx.session() as db:
        for user in accounts.list_users(db=db):
            click.echo(f"{user.username}\t{user.role}\t{user.email}")


@users_group.command("create-token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="Label of the token.")
@click.pass_obj
def create_token_cmd(ctx: CliContext, username: str, name: str) -> None:
    """Print a new API token for USERNAME (shown once)."""
    with ctx.session() as db, db.begin():
        user = accounts.find_user(db=db, login=username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        _, raw = sessions.create_api_token(db=db, user_id=user.id, name=name)
    click.echo(raw)
