"""flask --app csudesk audit ..."""

import contextlib
import signal
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from csudesk.audit import anchors as anchoring
from csudesk.audit import sealer
from csudesk.audit.services import BadHead, parse_head, verify_chain
from csudesk.db import read_only
from csudesk.elections.calendar import paris

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option(
    "--head",
    metavar="NUMÉRO:EMPREINTE",
    help="A head noted earlier: it must still be in the chain (deletions at the end).",
)
@click.option(
    "--anchors",
    "anchors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Signed heads to check (default: AUDIT_ANCHOR_PATH, written by `audit anchor`).",
)
def verify(head: str | None, anchors_path: Path | None):
    """Recompute the hash chain and check the signed heads; exit status 1 when tampered."""
    try:
        noted = parse_head(head) if head else None
    except BadHead as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(2)
    anchor_file = anchoring.read_anchors(anchors_path)
    with read_only():  # on SQLite, the application keeps writing meanwhile
        report = verify_chain(
            lambda n: click.echo(f"\r  {n} entrées vérifiées", nl=False, err=True),
            noted,
            anchor_file.anchors,
        )
    click.echo("", err=True)
    failed = False
    for number in anchor_file.bad_lines:
        click.echo(
            f"Ancre FORGÉE ou altérée : ligne {number} de {anchor_file.path} (signature invalide).",
            err=True,
        )
        failed = True
    if not report.ok:
        click.echo(
            f"Journal d'audit ROMPU à l'entrée n° {report.broken_id} : {report.reason}"
            f" ({report.checked} entrées intègres avant elle).",
            err=True,
        )
        sys.exit(1)
    if failed:
        sys.exit(1)
    click.echo(f"Journal d'audit intègre : {report.checked} entrées vérifiées.")
    if report.waiting:
        click.echo(
            f"{report.waiting} entrées récentes attendent leur scellement (moins de"
            f" {current_app.config['AUDIT_SEAL_MAX_DELAY']} s) : elles seront vérifiées ensuite."
        )
    latest = anchor_file.latest
    if latest is not None:
        click.echo(
            f"Ancres : {len(anchor_file.anchors)} têtes signées retrouvées dans le journal"
            f" (dernière : entrée n° {latest.entry_id},"
            f" {paris(latest.at).strftime('%d/%m/%Y %H:%M')})."
        )
    else:
        click.echo(
            f"Attention : aucune ancre dans {anchor_file.path} ; la suppression des dernières"
            " entrées ne peut pas être détectée (lancez `flask --app csudesk audit anchor"
            " --watch`).",
            err=True,
        )
    if report.head:
        click.echo(f"Tête de la chaîne, à noter hors de la base : {report.head}")


@audit_cli.command("anchor")
@click.option("--watch", is_flag=True, help="Keep anchoring until stopped (SIGTERM, Ctrl-C).")
@click.option(
    "--every",
    type=click.FloatRange(min=0.1),
    default=60,
    show_default=True,
    help="Seconds between two heads with --watch.",
)
def anchor(watch: bool, every: float):
    """Append the signed head of the chain to AUDIT_ANCHOR_PATH (and syslog when set)."""
    writer = anchoring.AnchorWriter()
    try:
        if not watch:
            written = writer.write()
            if written is None:
                click.echo("Aucune nouvelle entrée depuis la dernière ancre.")
            else:
                click.echo(
                    f"Tête ancrée dans {writer.path} : {written.entry_id}:{written.entry_hash}"
                )
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        click.echo(f"Ancrage de la tête toutes les {every:g} s dans {writer.path}.")
        with contextlib.suppress(KeyboardInterrupt):
            anchoring.watch(writer, every, stop)
    finally:
        writer.close()


@audit_cli.command("seal")
@click.option("--watch", is_flag=True, help="Keep sealing until stopped (SIGTERM, Ctrl-C).")
@click.option(
    "--every",
    type=click.FloatRange(min=0.05),
    default=1,
    show_default=True,
    help="Seconds between two rounds with --watch.",
)
def seal(watch: bool, every: float):
    """Chain the entries written unsealed (AUDIT_SEALING = "sealer"); one sealer at a time."""
    if not watch:
        report = sealer.seal_all()
        click.echo(f"{report.sealed} entrées scellées.")
        if report.refused:
            click.echo(
                f"Entrées NON scellées, empreinte invalide (écrites hors de csudesk) :"
                f" {', '.join(map(str, report.refused))}.",
                err=True,
            )
            sys.exit(1)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"Scellement des nouvelles entrées du journal toutes les {every:g} s.")
    with contextlib.suppress(KeyboardInterrupt):
        sealer.watch(every, stop)
