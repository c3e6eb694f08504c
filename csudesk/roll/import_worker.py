"""Streaming, idempotent import of the electoral roll CSV (format in README.md)."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from csudesk.csvio import ImportReport, open_csv
from csudesk.db import utcnow
from csudesk.directory.models import Establishment
from csudesk.directory.services import Router, RoutingError, search_key
from csudesk.directory.uai import InvalidUAI
from csudesk.extensions import db
from csudesk.roll.bulk import among, bulk_insert, reserve_ids, select_among
from csudesk.roll.checks import find_invisible, is_valid_roll_email, line_digest
from csudesk.roll.indexes import drop_secondary_indexes, ensure_indexes
from csudesk.roll.models import Voter, VoterEmail
from csudesk.roll.services import name_key, name_phonetic, parse_delivery
from csudesk.text import normalize_email

ROLL_COLUMNS = {
    "roll_id": ("identifiant", "identifiant_electeur", "id_electeur", "roll_id"),
    "last_name": ("nom", "nom_usage", "nom_de_famille", "last_name"),
    "first_name": ("prenom", "first_name"),
    "emails": ("courriels", "courriel", "adresses", "emails", "email"),
    "uai": ("uai", "uai_affectation", "code_uai"),
    "delivery": ("remise_notice", "notice", "mode_remise_notice", "delivery"),
}
BATCH = 5000
MAX_EMAILS = 5
_EMAIL_SPLIT = re.compile(r"[|,\s]+")
_LINE_BREAK = re.compile(r"\r\n|[\r\n]")  # what ends a line for csv (newline="")
FIELD_LABELS = {
    "roll_id": "identifiant",
    "last_name": "nom",
    "first_name": "prénom",
    "emails": "courriels",
    "uai": "uai",
    "delivery": "remise_notice",
}


@dataclass
class _Row:
    line: int
    roll_id: str
    last_name: str
    first_name: str
    emails: list[str]
    uai: str
    csu_id: int
    delivery: str
    digest: int


class RollImporter:
    """Reads the file in batches of BATCH lines; each batch is one transaction.

    Memory holds one batch, the establishment table and one bit per voter already on the
    roll, whatever the file size. A voter is met twice in the file when its id is above the
    largest id at the start (created by this run) or its bit is set (seen by this run).
    A line whose digest is its voter's stored one is counted unchanged without being parsed
    or written. A first load into an empty roll builds the secondary indexes after the rows.
    """

    def __init__(self, progress: Callable[[int, int, ImportReport], None] | None = None):
        self.progress = progress
        self.report = ImportReport()
        self.router = Router()
        self.establishments: dict[str, int] = dict(
            db.session.execute(select(Establishment.uai, Establishment.id)).tuples().all()
        )
        self.run = (db.session.scalar(select(func.max(Voter.import_run))) or 0) + 1
        self.last_old_id = db.session.scalar(select(func.max(Voter.id))) or 0
        self.seen = bytearray(self.last_old_id // 8 + 1)

    def import_file(self, path: str) -> ImportReport:
        source = open_csv(
            path, ROLL_COLUMNS, required=("roll_id", "last_name", "first_name", "emails", "uai")
        )
        try:
            ensure_indexes()
            first_load = self.last_old_id == 0
            try:
                if first_load:
                    drop_secondary_indexes()
                self._read(source)
            finally:
                if first_load:
                    # Also when a batch failed or the import was interrupted: the rows
                    # committed so far are a roll the desk reads through these indexes.
                    db.session.rollback()
                    ensure_indexes()
        finally:
            source.close()
        return self.report

    def _read(self, source) -> None:
        names = source.names
        batch: list[tuple[int, tuple[str, ...]]] = []
        for record in source.records():
            self.report.rows += 1
            batch.append(record)
            if len(batch) >= BATCH:
                self._import_batch(names, batch)
                batch = []
                if self.progress:
                    self.progress(source.counter.bytes_read, source.total_bytes, self.report)
        self._import_batch(names, batch)
        if self.progress:
            self.progress(source.total_bytes, source.total_bytes, self.report)

    def _import_batch(self, names: list[str], batch: list[tuple[int, tuple[str, ...]]]) -> None:
        unchanged = self._unchanged_lines(names, batch) if self.last_old_id else set()
        self.report.unchanged += len(unchanged)
        rows = []
        for line, values in batch:
            if line not in unchanged:
                row = self._parse(line, dict(zip(names, values, strict=True)))
                if row is not None:
                    rows.append(row)
        self._write(rows)

    def _unchanged_lines(
        self, names: list[str], batch: list[tuple[int, tuple[str, ...]]]
    ) -> set[int]:
        """Lines whose digest is the one stored with their voter, marked seen.

        Only a voter's first line in the batch can be one: a later line with the same
        identifier goes through the checks and is refused there as a duplicate.
        """
        key = names.index("roll_id")
        stored = {
            roll_id: (voter_id, digest)
            for roll_id, voter_id, digest in select_among(
                Voter.__table__,
                "roll_id",
                ("roll_id", "id", "row_digest"),
                [values[key] for _, values in batch],
            )
        }
        unchanged: set[int] = set()
        met: set[str] = set()
        for line, values in batch:
            roll_id = values[key]
            if roll_id in met:
                continue
            met.add(roll_id)
            found = stored.get(roll_id)
            if found is None or found[1] != line_digest(values) or self._already_seen(found[0]):
                continue
            self._mark_seen(found[0])
            unchanged.add(line)
        return unchanged

    def _already_seen(self, voter_id: int) -> bool:
        """Whether this run created or read this voter already."""
        if voter_id > self.last_old_id:
            return True
        return bool(self.seen[voter_id >> 3] & (1 << (voter_id & 7)))

    def _mark_seen(self, voter_id: int) -> None:
        self.seen[voter_id >> 3] |= 1 << (voter_id & 7)

    def _parse(self, line: int, raw: dict[str, str]) -> _Row | None:
        reject = self.report.reject
        # A quoted field may hold line breaks: csv numbers the record by its last line, the
        # person fixing the file looks for its first.
        if find_invisible("".join(raw.values())):
            line -= sum(len(_LINE_BREAK.findall(value)) for value in raw.values())
            reject(line, _invisible_characters(raw))
            return None
        roll_id = raw["roll_id"]
        if not roll_id or len(roll_id) > 40:
            reject(line, "identifiant électeur vide ou trop long (40 caractères au plus)")
            return None
        last_name, first_name = raw["last_name"], raw["first_name"]
        if not last_name or not first_name:
            reject(line, f"{roll_id} : nom et prénom sont obligatoires")
            return None
        if len(last_name) > 100 or len(first_name) > 100:
            reject(line, f"{roll_id} : nom ou prénom trop long (100 caractères au plus)")
            return None
        emails: list[str] = []
        for part in _EMAIL_SPLIT.split(raw["emails"]):
            if not part:
                continue
            address = normalize_email(part)
            if not is_valid_roll_email(address):
                reject(line, f"{roll_id} : adresse électronique invalide « {part} »")
                return None
            if address not in emails:
                emails.append(address)
        if not emails:
            reject(line, f"{roll_id} : aucune adresse électronique professionnelle")
            return None
        if len(emails) > MAX_EMAILS:
            reject(line, f"{roll_id} : plus de {MAX_EMAILS} adresses")
            return None
        try:
            uai, csu_id, _ = self.router.route(raw["uai"])
        except (InvalidUAI, RoutingError) as exc:
            reject(line, f"{roll_id} : {exc}")
            return None
        delivery = parse_delivery(raw.get("delivery", ""))
        if delivery is None:
            reject(
                line,
                f"{roll_id} : mode de remise de la notice « {raw.get('delivery', '')} » inconnu"
                " (attendu : travail ou domicile)",
            )
            return None
        return _Row(
            line,
            roll_id,
            last_name,
            first_name,
            emails,
            uai,
            csu_id,
            delivery,
            line_digest(raw.values()),
        )

    def _write(self, batch: list[_Row]) -> None:
        if not batch:
            return
        rows = self._drop_duplicates_in_batch(batch)
        existing = {
            r.roll_id: r
            for r in db.session.execute(
                select(
                    Voter.id,
                    Voter.roll_id,
                    Voter.last_name,
                    Voter.first_name,
                    Voter.establishment_id,
                    Voter.notice_delivery,
                    Voter.row_digest,
                ).where(among(Voter.roll_id, [r.roll_id for r in rows]))
            )
        }
        owners = dict(
            db.session.execute(
                select(VoterEmail.address, VoterEmail.voter_id).where(
                    among(VoterEmail.address, [a for r in rows for a in r.emails])
                )
            )
            .tuples()
            .all()
        )
        self._create_missing_establishments(rows)
        now = utcnow()
        to_insert: list[_Row] = []
        to_update: list[dict] = []
        redigested: dict[int, int] = {}
        kept: list[tuple[_Row, int | None]] = []
        for row in rows:
            old = existing.get(row.roll_id)
            if old is not None and self._already_seen(old.id):
                self.report.reject(row.line, f"{row.roll_id} : identifiant déjà vu plus haut")
                continue
            voter_id = old.id if old is not None else None
            taken = [a for a in row.emails if owners.get(a, voter_id) != voter_id]
            if taken:
                self.report.reject(
                    row.line,
                    f"{row.roll_id} : adresse déjà attribuée à un autre électeur « {taken[0]} »",
                )
                continue
            kept.append((row, voter_id))
            establishment_id = self.establishments[row.uai]
            if old is None:
                to_insert.append(row)
                continue
            self._mark_seen(old.id)
            if old.row_digest != row.digest:
                redigested[old.id] = row.digest
            if (old.last_name, old.first_name, old.establishment_id, old.notice_delivery) != (
                row.last_name,
                row.first_name,
                establishment_id,
                row.delivery,
            ):
                redigested.pop(old.id, None)
                to_update.append(
                    {
                        "b_id": old.id,
                        **self._voter_fields(row),
                        "row_digest": row.digest,
                        "import_run": self.run,
                        "updated_at": now,
                    }
                )
        new_ids = self._insert_voters(to_insert, now)
        connection = db.session.connection()
        if to_update:
            connection.execute(update(Voter).where(Voter.id == bindparam("b_id")), to_update)
        if redigested:
            # The line changed (its addresses, or only its spelling: case, spaces): the next
            # import of this same line must find its digest.
            connection.execute(
                update(Voter).where(Voter.id == bindparam("b_id")),
                [{"b_id": i, "row_digest": digest} for i, digest in redigested.items()],
            )
        emails_changed = self._sync_emails(kept, new_ids)
        updated_ids = {u["b_id"] for u in to_update} | emails_changed
        self.report.created += len(to_insert)
        self.report.updated += len(updated_ids)
        self.report.unchanged += len(kept) - len(to_insert) - len(updated_ids)
        db.session.commit()

    def _drop_duplicates_in_batch(self, batch: list[_Row]) -> list[_Row]:
        seen_ids: set[str] = set()
        seen_emails: set[str] = set()
        rows = []
        for row in batch:
            if row.roll_id in seen_ids:
                self.report.reject(row.line, f"{row.roll_id} : identifiant déjà vu plus haut")
                continue
            dup = next((a for a in row.emails if a in seen_emails), None)
            if dup:
                self.report.reject(
                    row.line, f"{row.roll_id} : adresse « {dup} » déjà vue plus haut"
                )
                continue
            seen_ids.add(row.roll_id)
            seen_emails.update(row.emails)
            rows.append(row)
        return rows

    def _voter_fields(self, row: _Row) -> dict:
        return {
            "last_name": row.last_name,
            "first_name": row.first_name,
            "last_name_key": name_key(row.last_name),
            "first_name_key": name_key(row.first_name),
            "name_phonetic": name_phonetic(row.last_name),
            "establishment_id": self.establishments[row.uai],
            "csu_id": row.csu_id,
            "notice_delivery": row.delivery,
        }

    def _create_missing_establishments(self, rows: list[_Row]) -> None:
        missing = {r.uai: r.csu_id for r in rows if r.uai not in self.establishments}
        if not missing:
            return
        now = utcnow()
        db.session.execute(
            insert(Establishment),
            [
                {
                    "uai": uai,
                    "csu_id": csu_id,
                    "own_csu": False,
                    "search_key": search_key(None, None, uai),
                    "updated_at": now,
                }
                for uai, csu_id in missing.items()
            ],
        )
        self.establishments.update(
            db.session.execute(
                select(Establishment.uai, Establishment.id).where(
                    among(Establishment.uai, list(missing))
                )
            )
            .tuples()
            .all()
        )

    def _insert_voters(self, rows: list[_Row], now) -> dict[str, int]:
        if not rows:
            return {}
        # Ids are reserved first so that the insert needs no RETURNING: in parameter order,
        # RETURNING makes SQLAlchemy send one statement per row on SQLite.
        ids = reserve_ids(Voter.__table__, len(rows))
        bulk_insert(
            Voter.__table__,
            [
                {
                    "id": voter_id,
                    "roll_id": row.roll_id,
                    **self._voter_fields(row),
                    "row_digest": row.digest,
                    "import_run": self.run,
                    "created_at": now,
                    "updated_at": now,
                }
                for voter_id, row in zip(ids, rows, strict=True)
            ],
        )
        return {row.roll_id: voter_id for voter_id, row in zip(ids, rows, strict=True)}

    def _sync_emails(
        self, kept: list[tuple[_Row, int | None]], new_ids: dict[str, int]
    ) -> set[int]:
        """Make each voter's addresses those of the file; return ids of existing voters changed."""
        existing_ids = [voter_id for _, voter_id in kept if voter_id is not None]
        current: dict[int, list[str]] = {}
        if existing_ids:
            for voter_id, address in db.session.execute(
                select(VoterEmail.voter_id, VoterEmail.address)
                .where(among(VoterEmail.voter_id, existing_ids))
                .order_by(VoterEmail.voter_id, VoterEmail.position)
            ):
                current.setdefault(voter_id, []).append(address)
        changed: set[int] = set()
        stale: list[int] = []
        fresh: list[dict] = []
        for row, voter_id in kept:
            if voter_id is None:
                voter_id = new_ids[row.roll_id]
            elif current.get(voter_id, []) == row.emails:
                continue
            else:
                changed.add(voter_id)
                stale.append(voter_id)
            fresh.extend(
                {"voter_id": voter_id, "address": address, "position": position}
                for position, address in enumerate(row.emails)
            )
        if stale:
            db.session.execute(delete(VoterEmail).where(among(VoterEmail.voter_id, stale)))
        if fresh:
            bulk_insert(VoterEmail.__table__, fresh)
        return changed


def _invisible_characters(raw: dict[str, str]) -> str | None:
    """The French reason a line is refused for a line break or an invisible character, if any.

    The reason names the field and the character's code point, never the character itself:
    it goes to the terminal and to a file of one reject per line.
    """
    for name, value in raw.items():
        bad = find_invisible(value)
        if bad is None:
            continue
        field = FIELD_LABELS.get(name, name)
        roll_id = raw["roll_id"]
        who = "" if name == "roll_id" or find_invisible(roll_id) else f"{roll_id} : "
        if bad.group() in "\r\n":
            return (
                f"{who}retour à la ligne dans le champ « {field} » : une valeur tient sur une ligne"
            )
        return (
            f"{who}caractère invisible non permis (U+{ord(bad.group()):04X}) dans le champ"
            f" « {field} » : retapez la valeur"
        )
    return None


def import_roll(
    path: str, progress: Callable[[int, int, ImportReport], None] | None = None
) -> ImportReport:
    """Import a roll file (see RollImporter)."""
    return RollImporter(progress).import_file(path)
