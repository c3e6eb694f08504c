"""flask --app csudesk mail ..."""

import signal
import socket

import click
from flask import current_app
from flask.cli import AppGroup

from csudesk.access import worker
from csudesk.access.models import OUTCOME_LABELS
from csudesk.mail import worker as sender

mail_cli = AppGroup("mail", help="The mail outbox.")


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
    stop = {"now": False}

    def _stop(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(
        f"Envoi du courrier en continu vers {current_app.config['MAIL_SERVER']}:"
        f"{current_app.config['MAIL_PORT']} (Ctrl+C pour arrêter)."
    )
    sender.run_forever(interval, _print, lambda: stop["now"], before_pass=_process_selfservice)


@mail_cli.command("sink")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8025, show_default=True)
@click.option("--maildir", type=click.Path(file_okay=False), help="Also keep each mail here.")
def sink(host: str, port: int, maildir: str | None):
    """A local SMTP server for the demo: prints each mail's recipient, subject and links."""
    from csudesk.mail.sink import serve

    serve(host, port, maildir)
