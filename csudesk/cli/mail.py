"""flask --app csudesk mail ..."""

import signal
import socket

import click
from flask import current_app
from flask.cli import AppGroup

from csudesk.access import worker
from csudesk.access.models import OUTCOME_LABELS
from csudesk.extensions import db
from csudesk.mail import worker as sender

mail_cli = AppGroup("mail", help="The mail outbox and the CSU mailboxes.")


def _print(report: sender.SendReport) -> None:
    if report.handled or report.uncertain:
        click.echo(
            f"{report.sent} envoyés, {report.retried} à réessayer, {report.failed} en échec,"
            f" {report.cancelled} annulés, {report.uncertain} incertains"
        )
    for error in report.errors:
        click.echo(f"  {error}", err=True)


def _process_selfservice() -> int:
    """The voters' self-service requests become outbox mail before each sending pass."""
    report = worker.process_pending()
    if report.processed:
        done = ", ".join(
            f"{count} {OUTCOME_LABELS.get(outcome, outcome)}"
            for outcome, count in report.outcomes.items()
        )
        click.echo(f"{report.processed} demandes en libre-service traitées ({done})")
    return report.processed


@mail_cli.command("send")
@click.option("--watch", is_flag=True, help="Keep running and send mail as it arrives.")
@click.option("--interval", type=float, default=2.0, show_default=True, help="Idle poll, seconds.")
def send(watch: bool, interval: float):
    """Process self-service requests, then deliver due mail through SMTP, with retries."""
    socket.setdefaulttimeout(current_app.config["MAIL_TIMEOUT_SECONDS"])
    if not watch:
        # Drain what is due now; stop at the first pass that had nothing to do or hit errors.
        while True:
            processed = _process_selfservice()
            report = sender.send_due()
            _print(report)
            if (report.handled == 0 and not processed) or report.retried or report.failed:
                return
    should_stop = _stop_on_signals()
    click.echo(
        f"Envoi du courrier en continu vers {current_app.config['MAIL_SERVER']}:"
        f"{current_app.config['MAIL_PORT']} (Ctrl+C pour arrêter)."
    )
    sender.run_forever(interval, _print, should_stop, before_pass=_process_selfservice)


def _stop_on_signals():
    """A callable that says whether SIGTERM or SIGINT came (the --watch loops end on it)."""
    stop = {"now": False}

    def _stop(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return lambda: stop["now"]


@mail_cli.command("sink")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8025, show_default=True)
@click.option("--maildir", type=click.Path(file_okay=False), help="Also keep each mail here.")
def sink(host: str, port: int, maildir: str | None):
    """A local SMTP server for the demo: prints each mail's recipient, subject and links."""
    from csudesk.mail.sink import serve

    serve(host, port, maildir)


@mail_cli.command("fetch")
@click.option("--watch", is_flag=True, help="Keep running and fetch again every --every seconds.")
@click.option("--every", type=click.FloatRange(min=1), default=60, show_default=True)
@click.option("--mailbox", "name", help="Only this mailbox (its name in CSU_MAILBOXES).")
def fetch(watch: bool, every: float, name: str | None):
    """Import the new messages of the CSU mailboxes (CSU_MAILBOXES), each once."""
    from csudesk.conversation import fetcher
    from csudesk.conversation.mailboxes import MailboxConfigError, load_mailboxes

    try:
        mailboxes = load_mailboxes(current_app.config["CSU_MAILBOXES"], current_app.instance_path)
    except MailboxConfigError as exc:
        raise click.ClickException(f"configuration des boîtes aux lettres :\n{exc}") from exc
    if name is not None:
        mailboxes = [mailbox for mailbox in mailboxes if mailbox.name == name]
        if not mailboxes:
            raise click.ClickException(f"aucune boîte {name!r} dans CSU_MAILBOXES.")
    if not mailboxes:
        click.echo("Aucune boîte aux lettres configurée (CSU_MAILBOXES) : rien à relever.")
        return
    problems = fetcher.unknown_csus(mailboxes)
    db.session.rollback()
    if problems:
        raise click.ClickException("\n".join(problems))
    if not watch:
        failed = False
        for report in fetcher.fetch_all(mailboxes, _progress()):
            _print_fetch(report, quiet=False)
            failed = failed or bool(report.errors)
        if failed:
            raise click.exceptions.Exit(1)
        return
    should_stop = _stop_on_signals()
    click.echo(
        f"Relève de {len(mailboxes)} boîte(s) toutes les {every:g} s (Ctrl+C pour arrêter) : "
        + ", ".join(f"{mailbox.name} ({mailbox.where})" for mailbox in mailboxes)
    )
    last_errors: dict[str, list[str]] = {}
    fetcher.run_forever(
        mailboxes,
        every,
        lambda report: _print_fetch(report, quiet=True, last_errors=last_errors),
        should_stop,
        _progress(),
    )


FETCH_PROGRESS_EVERY = 500


def _progress():
    """A line every FETCH_PROGRESS_EVERY messages of a long pass (a mailbox's first one)."""
    printed = {}

    def progress(report) -> None:
        done = report.imported + report.set_aside
        step = done // FETCH_PROGRESS_EVERY
        if step > printed.get(report.mailbox, 0):
            printed[report.mailbox] = step
            click.echo(f"{report.mailbox} : {done} messages enregistrés…")

    return progress


def _print_fetch(report, quiet: bool, last_errors: dict | None = None) -> None:
    """One line per mailbox; in --watch only when it read something, and a mailbox's error
    only when it is not the one of its previous pass (a server down for an hour: one line)."""
    if report.fetched or not quiet:
        click.echo(
            f"{report.mailbox} : {report.fetched} lus, {report.imported} importés,"
            f" {report.set_aside} mis de côté, {report.skipped} déjà pris par une autre relève"
        )
    if last_errors is not None:
        if last_errors.get(report.mailbox) == report.errors:
            return
        if not report.errors and report.mailbox in last_errors:
            click.echo(f"  {report.mailbox} : de nouveau relevée sans erreur.", err=True)
        last_errors[report.mailbox] = report.errors
    for error in report.errors:
        click.echo(f"  {report.mailbox} : {error}", err=True)
