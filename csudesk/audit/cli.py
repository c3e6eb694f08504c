"""flask --app csudesk audit ..."""

import sys

import click
from flask.cli import AppGroup

from csudesk.audit.services import verify_chain

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify():
    """Recompute the hash chain; exit status 1 and the first broken entry when tampered."""
    report = verify_chain(lambda n: click.echo(f"\r  {n} entrées vérifiées", nl=False, err=True))
    click.echo("", err=True)
    if report.ok:
        click.echo(f"Journal d'audit intègre : {report.checked} entrées vérifiées.")
        return
    click.echo(
        f"Journal d'audit ROMPU à l'entrée n° {report.broken_id} : {report.reason}"
        f" ({report.checked} entrées intègres avant elle).",
        err=True,
    )
    sys.exit(1)
