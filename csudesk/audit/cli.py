"""flask --app csudesk audit ..."""

import sys

import click
from flask.cli import AppGroup

from csudesk.audit.services import BadHead, parse_head, verify_chain

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option(
    "--head",
    metavar="NUMÉRO:EMPREINTE",
    help="A head noted earlier: it must still be in the chain (deletions at the end).",
)
def verify(head: str | None):
    """Recompute the hash chain; exit status 1 and the first broken entry when tampered."""
    try:
        noted = parse_head(head) if head else None
    except BadHead as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(2)
    report = verify_chain(
        lambda n: click.echo(f"\r  {n} entrées vérifiées", nl=False, err=True), noted
    )
    click.echo("", err=True)
    if report.ok:
        click.echo(f"Journal d'audit intègre : {report.checked} entrées vérifiées.")
        if report.head:
            click.echo(f"Tête de la chaîne, à noter hors de la base : {report.head}")
        return
    click.echo(
        f"Journal d'audit ROMPU à l'entrée n° {report.broken_id} : {report.reason}"
        f" ({report.checked} entrées intègres avant elle).",
        err=True,
    )
    sys.exit(1)
