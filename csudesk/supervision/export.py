"""The ticket log as CSV for a French spreadsheet: UTF-8 with BOM, ';', Paris times."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from csudesk.elections.calendar import paris
from csudesk.tickets.models import CATEGORY_LABELS, CHANNEL_LABELS, STATUS_LABELS

BOM = "\ufeff"
HEADER = [
    "Référence",
    "Créé le (heure de Paris)",
    "Code CSU",
    "CSU",
    "Catégorie",
    "Canal",
    "Statut",
    "Identifiant électeur",
    "Nom",
    "Prénom",
    "Courriel de contact",
    "Créé par",
    "Attribué à",
    "Dernière modification",
    "Résolu le",
    "Délai de résolution (heures)",
]
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return paris(value).strftime("%d/%m/%Y %H:%M")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _hours(created_at: datetime, resolved_at: datetime | None) -> str:
    if resolved_at is None:
        return ""
    return f"{(resolved_at - created_at).total_seconds() / 3600:.1f}".replace(".", ",")


def ticket_line(row) -> list[str]:
    (
        reference,
        created_at,
        csu_code,
        csu_name,
        category,
        channel,
        status,
        roll_id,
        last_name,
        first_name,
        contact_email,
        contact_last_name,
        contact_first_name,
        creator,
        assignee,
        updated_at,
        resolved_at,
    ) = row
    return [
        _cell(reference),
        _cell(created_at),
        _cell(csu_code),
        _cell(csu_name),
        _cell(CATEGORY_LABELS.get(category, category)),
        _cell(CHANNEL_LABELS.get(channel, channel)),
        _cell(STATUS_LABELS.get(status, status)),
        _cell(roll_id),
        _cell(last_name or contact_last_name),
        _cell(first_name or contact_first_name),
        _cell(contact_email),
        _cell(creator),
        _cell(assignee),
        _cell(updated_at),
        _cell(resolved_at),
        _hours(created_at, resolved_at),
    ]


def csv_chunks(rows: Iterable) -> Iterator[str]:
    """BOM and header, then the rows, ROWS_PER_CHUNK at a time: memory does not grow."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow(ticket_line(row))
        pending += 1
        if pending == ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()
