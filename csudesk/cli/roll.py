"""flask --app csudesk roll ..."""

import gc
import sys
import time

import click
from flask.cli import AppGroup

from csudesk.csvio import CSVFormatError, ImportReport
from csudesk.roll.generator import generate_roll
from csudesk.roll.import_worker import RollImporter

roll_cli = AppGroup("roll", help="The electoral roll.")


@roll_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--rejects", type=click.Path(dir_okay=False), help="Write every rejected line here.")
def import_command(path: str, rejects: str | None):
    """Import (create or update) voters from a roll CSV; safe to run again."""
    started = time.monotonic()
    reject_file = open(rejects, "w", encoding="utf-8") if rejects else None  # noqa: SIM115

    def progress(done: int, total: int, report: ImportReport) -> None:
        elapsed = time.monotonic() - started
        pct = 100 * done / total if total else 100
        rate = report.rows / elapsed if elapsed else 0
        click.echo(
            f"\r  {pct:5.1f} % — {report.rows:,} lignes, {report.rejected:,} rejetées,"
            f" {rate:,.0f} lignes/s".replace(",", " "),
            nl=False,
            err=True,
        )

    importer = RollImporter(progress)
    if reject_file:
        importer.report.on_reject = lambda line, reason: reject_file.write(f"{line};{reason}\n")
    # What is alive now (modules, the app, the directory) lives as long as the command: out
    # of the collector's sight, its full collections scan only the import's own objects
    # (a quarter of the import's CPU time otherwise, on a 20 000-line roll).
    gc.freeze()
    try:
        report = importer.import_file(path)
    except CSVFormatError as exc:
        click.echo(f"Erreur : {exc}", err=True)
        sys.exit(2)
    finally:
        gc.unfreeze()
        if reject_file:
            reject_file.close()
    click.echo("", err=True)
    elapsed = time.monotonic() - started
    click.echo(
        f"{report.rows} lignes lues en {elapsed:.1f} s : {report.created} électeurs créés,"
        f" {report.updated} mis à jour, {report.unchanged} inchangés,"
        f" {report.rejected} lignes rejetées."
    )
    for line, reason in report.rejects[:50]:
        click.echo(f"  ligne {line} : {reason}")
    if report.rejected > 50:
        more = "dans " + rejects if rejects else "avec --rejects FICHIER pour la liste complète"
        click.echo(f"  … {report.rejected - 50} autres lignes rejetées ({more}).")


@roll_cli.command("generate")
@click.option("--voters", type=click.IntRange(1, 5_000_000), required=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option("--seed", type=int, default=2026, show_default=True)
def generate_command(voters: int, out: str, seed: int):
    """Write a realistic synthetic roll (demos and benchmarks)."""
    with (
        open(out, "w", encoding="utf-8", newline="") as handle,
        click.progressbar(length=voters, label="Génération", file=sys.stderr) as bar,
    ):
        state = {"done": 0}

        def progress(done: int) -> None:
            bar.update(done - state["done"])
            state["done"] = done

        generate_roll(handle, voters, seed, progress)
    click.echo(f"{voters} électeurs écrits dans {out}.")
