"""flask --app csudesk directory ..."""

import sys

import click
from flask.cli import AppGroup

from csudesk.csvio import CSVFormatError
from csudesk.directory import services
from csudesk.directory.annuaire import import_annuaire
from csudesk.directory.uai import InvalidUAI
from csudesk.extensions import db

directory_cli = AppGroup("directory", help="The built-in routing directory of CSUs.")


@directory_cli.command("load")
def load():
    """Create or refresh the built-in CSUs and universities (idempotent)."""
    counts = services.load_builtin_directory()
    db.session.commit()
    click.echo(
        "Annuaire intégré chargé : {academie} CSU académiques, {creps} CSU de Creps,"
        " {enseignement_superieur} CSU d'universités, {national} cellule nationale.".format(
            **counts
        )
    )


@directory_cli.command("route")
@click.argument("uai")
def route(uai: str):
    """Print the CSU of an establishment's UAI (exit status 1 when invalid or unroutable)."""
    try:
        found = services.route_uai(uai)
    except (InvalidUAI, services.RoutingError) as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(1)
    csu = found.csu
    click.echo(f"UAI : {found.uai}")
    if found.establishment is not None and found.establishment.name:
        click.echo(f"Établissement : {found.establishment.name}")
    click.echo(f"CSU : {csu.name} [{csu.code}]")
    click.echo(f"Type : {csu.kind_label}")
    click.echo(
        "Règle : établissement doté de sa propre CSU"
        if found.reason == "own_csu"
        else "Règle : CSU de l'académie du préfixe " + found.uai[:3]
    )
    contact = [
        f"courriel {csu.email}" if csu.email else None,
        f"téléphone {csu.phone}" if csu.phone else None,
        f"horaires {csu.hours}" if csu.hours else None,
        f"web {csu.web_url}" if csu.web_url else None,
    ]
    contact = [c for c in contact if c]
    click.echo(
        "Contact : " + ("; ".join(contact) if contact else "non renseigné (directory set-contact)")
    )


@directory_cli.command("import-annuaire")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_annuaire_command(path: str):
    """Name establishments from the public "Annuaire de l'éducation" CSV export."""
    with click.progressbar(length=100, label="Import", file=sys.stderr) as bar:
        state = {"pct": 0}

        def progress(done: int, total: int) -> None:
            pct = int(100 * done / total) if total else 100
            bar.update(pct - state["pct"])
            state["pct"] = pct

        try:
            report = import_annuaire(path, progress)
        except CSVFormatError as exc:
            click.echo(f"\nErreur : {exc}", err=True)
            sys.exit(2)
    click.echo(
        f"{report.rows} lignes lues : {report.created} établissements créés,"
        f" {report.updated} mis à jour, {report.unchanged} inchangés, {report.rejected} rejetées."
    )
    for line, reason in report.rejects:
        click.echo(f"  ligne {line} : {reason}")
    if report.rejected > len(report.rejects):
        click.echo(f"  … et {report.rejected - len(report.rejects)} autres lignes rejetées.")


@directory_cli.command("attach")
@click.argument("uai")
@click.argument("csu_code")
def attach(uai: str, csu_code: str):
    """Give an establishment its own CSU (a Creps, say); its voters move with it."""
    try:
        establishment = services.attach_establishment(uai, csu_code)
    except (InvalidUAI, services.RoutingError) as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{establishment.uai} est rattaché à {establishment.csu.name}.")


@directory_cli.command("set-contact")
@click.argument("csu_code")
@click.option("--email")
@click.option("--phone")
@click.option("--hours")
@click.option("--web", "web_url")
def set_contact(csu_code: str, **channels):
    """Set a CSU's contact channels shown to voters and in mails."""
    try:
        csu = services.set_contact(csu_code, **channels)
    except services.RoutingError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Coordonnées de {csu.name} enregistrées.")


@directory_cli.command("list")
def list_csus():
    """List every CSU with its code."""
    for csu in services.csu_choices():
        click.echo(f"{csu.code:24} {csu.kind_label:45} {csu.name}")
