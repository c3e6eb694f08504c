"""The ticket log as CSV for a French spreadsheet: UTF-8 with BOM, ';', Paris times."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

from csudesk.db import read_only
from csudesk.elections.calendar import paris
from csudesk.reporting.ticket_log import LogFilter, export_batches
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
_FORMULA_START = frozenset("=+-@\t\r")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value[0] in _FORMULA_START else value


# Bounded caches (cleared when full, so memory stays flat): Paris's UTC offset by UTC hour
# (it only changes on the hour), and the text of each UTC minute, since the log is read in time
# order and a busy campaign has several tickets a minute.
_OFFSETS: dict[int, timedelta] = {}
_MINUTES: dict[int, str] = {}
_CACHE_SIZE = 20_000  # two years of hours, two weeks of minutes


def _remember(cache: dict, key: int, value):
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def paris_text(moment: datetime | None) -> str:
    """A naive UTC datetime as Paris time to the minute, "31/12/2026 08:30".

    Up to three per exported row: cached, and built from integers when not, several times
    faster than astimezone() and strftime() on each.
    """
    if moment is None:
        return ""
    hour = moment.toordinal() * 24 + moment.hour
    minute = hour * 60 + moment.minute
    text = _MINUTES.get(minute)
    if text is None:
        offset = _OFFSETS.get(hour)
        if offset is None:
            on_the_hour = moment.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
            offset = _remember(_OFFSETS, hour, paris(on_the_hour).utcoffset())
        local = moment + offset
        text = f"{local.day:02}/{local.month:02}/{local.year} {local.hour:02}:{local.minute:02}"
        _remember(_MINUTES, minute, text)
    return text


def _hours(created_at: datetime, resolved_at: datetime | None) -> str:
    if resolved_at is None:
        return ""
    return f"{(resolved_at - created_at).total_seconds() / 3600:.1f}".replace(".", ",")


def ticket_line(row) -> list[str]:
    """One CSV line from a row of ticket_log.export_query (naive UTC datetimes)."""
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
        _text(reference),
        paris_text(created_at),
        _text(csu_code),
        _text(csu_name),
        _text(CATEGORY_LABELS.get(category, category)),
        _text(CHANNEL_LABELS.get(channel, channel)),
        _text(STATUS_LABELS.get(status, status)),
        _text(roll_id),
        _text(last_name or contact_last_name),
        _text(first_name or contact_first_name),
        _text(contact_email),
        _text(creator),
        _text(assignee),
        paris_text(updated_at),
        paris_text(resolved_at),
        _hours(created_at, resolved_at),
    ]


def csv_chunks(batches: Iterable[Sequence]) -> Iterator[str]:
    """BOM and header, then one chunk per batch of rows: memory does not grow with the log."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    yield BOM + buffer.getvalue()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(map(ticket_line, batch))
        yield buffer.getvalue()


def csv_stream(log_filter: LogFilter) -> Iterator[str]:
    """The response body of an export: the CSV of the filtered log, read without the write lock.

    The body is produced while the client downloads, for as long as it takes: its query runs in
    a read-only unit of work (csudesk.db.read_only), so on SQLite sign-ins and desk actions go
    on meanwhile. The view commits its audit entry before returning this generator.
    """
    with read_only():
        yield from csv_chunks(export_batches(log_filter))
