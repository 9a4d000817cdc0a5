"""``dailypapers digest …``: send the due digests (for cron or a systemd timer), and take
unsubscribe requests that arrive by mail."""

from __future__ import annotations

import sys

import click

from dailypapers.cli.context import CliContext
from dailypapers.mail.session import session_from_settings
from dailypapers.services import outbox
from dailypapers.services.digests import DigestPeriod
from dailypapers.services.subscriptions import SubscriptionError, unsubscribe_by_mail


@click.group("digest")
def digest_group() -> None:
    """Digests of trending papers for the confirmed subscribers."""


@digest_group.command("send")
@click.option("--period", default=None, metavar="PERIOD",
              help="Send this period to every active subscriber of its cadence, whatever their "
                   "hour: daily:YYYY-MM-DD or weekly:YYYY-Www. Default: what is due now in each "
                   "subscriber's time zone.")
@click.option("--dry-run", is_flag=True,
              help="Compose the digests that are due and report them; store and send nothing.")
@click.pass_obj
def send_cmd(ctx: CliContext, period: str | None, dry_run: bool) -> None:
    """Queue the digests that are due and send every queued one; safe to run again at any time
    (each subscriber gets at most one digest per period). Exits 1 when the SMTP server is
    unavailable; whatever was not sent stays queued for the next run."""
    try:
        chosen = DigestPeriod.parse(period) if period else None
    except SubscriptionError as exc:
        raise click.BadParameter(exc.message, param_hint="--period") from exc
    settings = ctx.settings
    with ctx.session() as db:
        if dry_run:
            summary = outbox.preview_digests(db=db, settings=settings, period=chosen)
            for subject in summary.subjects:
                ctx.err.print(f"would send {subject}", highlight=False)
        else:
            with ctx.progress("sending digests", None) as bar:
                task = bar.add_task("sending digests", total=None)
                summary = outbox.send_digests(
                    db=db, settings=settings, mail=session_from_settings(settings), period=chosen,
                    on_total=lambda n: bar.update(task, total=n),
                    on_progress=lambda n: bar.advance(task, n))
    ctx.err.print(summary.line(), highlight=False)
    if summary.error:
        ctx.err.print(f"[red]error:[/red] {summary.error}", highlight=False)
        raise SystemExit(1)


@digest_group.command("unsubscribe-mail")
@click.pass_obj
def unsubscribe_mail_cmd(ctx: CliContext) -> None:
    """Read one mail on standard input (an MTA pipe for the mailto: List-Unsubscribe address)
    and unsubscribe the subscription whose token is in its subject."""
    raw = sys.stdin.buffer.read(1_000_000)
    with ctx.session() as db:
        try:
            with db.begin():
                email = unsubscribe_by_mail(db=db, secret=ctx.settings.secret_key, raw=raw)
        except SubscriptionError as exc:
            raise click.ClickException(exc.message) from exc
    ctx.err.print(f"unsubscribed {email}", highlight=False)
