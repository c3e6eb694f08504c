"""The CSV export: French spreadsheet format, scope, audit, and constant memory."""

import csv
import gc
import io
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.audit.models import AuditEntry
from csudesk.audit.services import details_of
from csudesk.elections.calendar import PARIS
from csudesk.extensions import db
from csudesk.reporting import export
from csudesk.reporting.export import paris_text
from csudesk.reporting.ticket_log import LogFilter, export_batches
from csudesk.tickets.models import Ticket
from tests.fixtures.factories import AuthActions, csu

from .conftest import LILLE_UAI, VERSAILLES_UAI, status_at, ticket_at

T0 = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)  # 08:30 in Paris (summer time)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_export_content_encoding_scope_and_audit(client, auth, people, make_voter):
    voter = make_voter("Lefèvre", "Chloé", ("chloe.lefevre@ac-lille.fr",), LILLE_UAI)
    other = make_voter("Martin", "Paul", ("paul.martin@ac-versailles.fr",), VERSAILLES_UAI)
    resolved = ticket_at(T0, people.agent_lille, "AC-09", voter=voter)
    status_at(T0 + timedelta(minutes=90), people.agent_lille, resolved, "resolu")
    hostile = ticket_at(
        T0 + timedelta(hours=1),
        people.agent_lille,
        "AC-09",
        "autre",
        channel="formulaire",
        contact_last_name='=HYPERLINK("http://evil.example";"clic")',
        contact_first_name="+33 6 00",
        contact_email="x@example.org",
    )
    ticket_at(T0, people.agent_versailles, "AC-25", voter=other)
    db.session.commit()
    auth.login(people.sup_lille.email)

    response = client.get(
        "/supervision/tickets/export.csv?du=2026-07-01&au=2026-07-01", buffered=True
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="tickets-')
    header, *rows = read_csv(response.data)
    assert header[:4] == ["Référence", "Créé le (heure de Paris)", "Code CSU", "CSU"]
    assert header[-1] == "Délai de résolution (heures)"
    assert [r[0] for r in rows] == [hostile.reference, resolved.reference]
    by_ref = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    first = by_ref[resolved.reference]
    assert first["Créé le (heure de Paris)"] == "01/07/2026 08:30"
    assert first["Résolu le"] == "01/07/2026 10:00"
    assert first["Délai de résolution (heures)"] == "1,5"
    assert (first["Nom"], first["Prénom"], first["Statut"]) == ("Lefèvre", "Chloé", "Résolu")
    assert first["Catégorie"] == "Lien non reçu" and first["Code CSU"] == "AC-09"
    assert first["Créé par"] == "Luc Lille"
    second = by_ref[hostile.reference]
    assert second["Nom"] == '\'=HYPERLINK("http://evil.example";"clic")'
    assert second["Prénom"] == "'+33 6 00"
    assert second["Canal"] == "Formulaire" and second["Délai de résolution (heures)"] == ""

    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export.tickets")
    ).one()
    assert entry.agent_id == people.sup_lille.id
    assert details_of(entry) == {"filters": {"du": "2026-07-01", "au": "2026-07-01"}}


def test_export_of_an_empty_selection_is_a_header(client, auth, people):
    auth.login(people.sup_lille.email)
    response = client.get("/supervision/tickets/export.csv", buffered=True)
    header, *rows = read_csv(response.data)
    assert rows == [] and header[0] == "Référence"


def _bulk_tickets(start: int, count: int, csu_id: int) -> None:
    base = datetime(2026, 6, 1, tzinfo=UTC)
    rows = [
        {
            "reference": f"2026-{n:06d}",
            "csu_id": csu_id,
            "category": "lien_non_recu",
            "channel": "telephone",
            "status": "resolu",
            "contact_last_name": f"Nom{n}",
            "contact_first_name": "Prénom",
            "contact_email": f"contact{n}@example.org",
            "created_at": base + timedelta(seconds=37 * n),
            "updated_at": base + timedelta(seconds=37 * n + 60),
            "resolved_at": base + timedelta(seconds=37 * n + 600),
        }
        for n in range(start, start + count)
    ]
    for i in range(0, len(rows), 5000):
        db.session.execute(insert(Ticket), rows[i : i + 5000])
    db.session.commit()


def _peak_while_streaming(client) -> tuple[int, int]:
    """Peak traced memory while the export streams through the view, and its line count."""
    gc.collect()
    tracemalloc.start()
    try:
        response = client.get("/supervision/tickets/export.csv", buffered=False)
        lines = 0
        for chunk in response.response:
            lines += chunk.count(b"\r\n") if isinstance(chunk, bytes) else chunk.count("\r\n")
        response.close()
        return tracemalloc.get_traced_memory()[1], lines
    finally:
        tracemalloc.stop()


def test_export_memory_does_not_grow_with_the_log(app, people):
    # A plain test client: the body is read chunk by chunk after the view returned, in the
    # request context that stream_with_context keeps (the isolated client's context is gone).
    client = FlaskClient(app, app.response_class, use_cookies=True)
    AuthActions(client).login(people.sup_lille.email)
    lille = csu("AC-09").id
    _bulk_tickets(0, 2_000, lille)
    _peak_while_streaming(client)  # warm-up: compiled statements, templates, pool
    small_peak, small_lines = _peak_while_streaming(client)
    _bulk_tickets(2_000, 18_000, lille)
    large_peak, large_lines = _peak_while_streaming(client)
    assert (small_lines, large_lines) == (2_001, 20_001)
    # Ten times the rows, about the same memory: rows are streamed, never accumulated.
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        (datetime(2026, 3, 29, 0, 59), "29/03/2026 01:59"),  # last minute of winter time
        (datetime(2026, 3, 29, 1, 0), "29/03/2026 03:00"),  # clocks go forward
        (datetime(2026, 10, 25, 0, 59), "25/10/2026 02:59"),  # last minute of summer time
        (datetime(2026, 10, 25, 1, 0), "25/10/2026 02:00"),  # clocks go back
        (datetime(2026, 12, 31, 23, 30), "01/01/2027 00:30"),
    ],
)
def test_paris_times_around_the_clock_changes(utc, shown):
    assert paris_text(utc) == shown


def test_paris_times_match_the_time_zone_database_all_year():
    # More minutes than the cache holds: it is cleared on the way and stays bounded.
    moments = [datetime(2026, 1, 1) + timedelta(minutes=11 * n) for n in range(48_000)]
    expected = [m.replace(tzinfo=UTC).astimezone(PARIS).strftime("%d/%m/%Y %H:%M") for m in moments]
    assert [paris_text(m) for m in moments] == expected
    assert [paris_text(m) for m in reversed(moments)] == expected[::-1]
    assert 0 < len(export._MINUTES) <= export._CACHE_SIZE
    assert paris_text(None) == ""


def test_the_session_writes_normally_after_an_export(app, people):
    _bulk_tickets(0, 3, csu("AC-09").id)
    batches = list(export_batches(LogFilter(), size=2))
    assert [len(batch) for batch in batches] == [2, 1]
    # On PostgreSQL a server-side cursor option left on the connection would refuse this INSERT.
    entry = audit.record(Actor.system(), "export.tickets")
    db.session.commit()
    assert entry.id is not None
