"""Import of the public "Annuaire de l'éducation" CSV export, to name establishments."""

from collections.abc import Callable

from sqlalchemy import bindparam, insert, select, update

from csudesk.csvio import ImportReport, open_csv
from csudesk.db import utcnow
from csudesk.directory.models import Establishment
from csudesk.directory.services import Router, RoutingError, search_key
from csudesk.directory.uai import InvalidUAI
from csudesk.extensions import db

# Canonical column -> header variants (API field names, CSV labels, older labels).
ANNUAIRE_COLUMNS = {
    "uai": (
        "Identifiant_de_l_etablissement",
        "identifiant de l'établissement",
        "uai",
        "numero_uai",
    ),
    "name": ("Nom_etablissement", "nom de l'établissement", "appellation_officielle"),
    "kind": ("Type_etablissement", "type d'établissement", "libelle_nature"),
    "city": ("Nom_commune", "commune", "libelle_commune"),
}
BATCH = 1000


def import_annuaire(path: str, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Create or rename establishments from the export; idempotent, bad rows reported."""
    source = open_csv(path, ANNUAIRE_COLUMNS, required=("uai", "name"))
    report = ImportReport()
    router = Router()
    batch: dict[str, dict] = {}
    try:
        for line, row in source.rows():
            report.rows += 1
            try:
                uai, csu_id, _ = router.route(row["uai"])
            except (InvalidUAI, RoutingError) as exc:
                report.reject(line, str(exc))
                continue
            if not row["name"]:
                report.reject(line, f"« {uai} » : nom de l'établissement vide.")
                continue
            if uai in batch:
                report.reject(line, f"« {uai} » : déjà présent plus haut dans le fichier.")
                continue
            batch[uai] = {
                "uai": uai,
                "name": row["name"][:200],
                "city": (row.get("city") or "")[:120] or None,
                "kind": (row.get("kind") or "")[:80] or None,
                "csu_id": csu_id,
            }
            if len(batch) >= BATCH:
                _flush(batch, report)
                if progress:
                    progress(source.counter.bytes_read, source.total_bytes)
        _flush(batch, report)
        if progress:
            progress(source.total_bytes, source.total_bytes)
    finally:
        source.close()
    return report


def _flush(batch: dict[str, dict], report: ImportReport) -> None:
    if not batch:
        return
    existing = {
        e.uai: e
        for e in db.session.execute(
            select(
                Establishment.id,
                Establishment.uai,
                Establishment.name,
                Establishment.city,
                Establishment.kind,
            ).where(Establishment.uai.in_(list(batch)))
        )
    }
    now = utcnow()
    new, changed = [], []
    for uai, row in batch.items():
        row["search_key"] = search_key(row["name"], row["city"], uai)
        old = existing.get(uai)
        if old is None:
            new.append({**row, "own_csu": False, "updated_at": now})
        elif (old.name, old.city, old.kind) != (row["name"], row["city"], row["kind"]):
            changed.append(
                {
                    "b_id": old.id,
                    "name": row["name"],
                    "city": row["city"],
                    "kind": row["kind"],
                    "search_key": row["search_key"],
                    "updated_at": now,
                }
            )
        else:
            report.unchanged += 1
    if new:
        db.session.execute(insert(Establishment), new)
    if changed:
        db.session.connection().execute(
            update(Establishment).where(Establishment.id == bindparam("b_id")), changed
        )
    report.created += len(new)
    report.updated += len(changed)
    db.session.commit()
    batch.clear()
