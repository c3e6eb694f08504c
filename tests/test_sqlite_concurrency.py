"""Read-only units of work: readers never hold SQLite's write lock, writes inside them fail.

The desk's voter file reads the same way (uow.reads_first): while another connection holds
the write lock, its queries run and only its appends wait.

The served-process test is the attack of issue 10 item 3: a supervisor's export that a slow
client downloads must not make a sign-in wait for the write lock and fail with a 500.
"""

import http.client
import socket
import sqlite3
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from csudesk.audit.models import AuditEntry
from csudesk.db import read_only
from csudesk.extensions import db
from csudesk.tickets.models import Ticket
from tests.conftest import ON_POSTGRES
from tests.fixtures.appserver import app_processes
from tests.fixtures.factories import AGENT_PASSWORD, csu

sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's locking")


def bulk_tickets(count: int, csu_id: int) -> None:
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
        for n in range(count)
    ]
    for i in range(0, len(rows), 5000):
        db.session.execute(insert(Ticket), rows[i : i + 5000])
    db.session.commit()


def insert_one_ticket(reference: str, busy_timeout_ms: int | None = None) -> float:
    """Write a ticket on a connection of its own (BEGIN IMMEDIATE); return the seconds it took."""
    started = time.monotonic()
    with db.engine.connect() as connection:
        sqlite = connection.connection.dbapi_connection  # below SQLAlchemy: no autobegin
        if busy_timeout_ms is not None:
            sqlite.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        try:
            with connection.begin():
                connection.execute(
                    insert(Ticket).values(
                        reference=reference,
                        csu_id=csu("AC-09").id,
                        category="autre",
                        channel="telephone",
                        status="nouveau",
                    )
                )
        finally:
            if busy_timeout_ms is not None:
                sqlite.execute("PRAGMA busy_timeout=10000")
    return time.monotonic() - started


def ticket_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket))


@sqlite_only
def test_a_deferred_reader_does_not_block_a_writer_in_wal(app, directory):
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    db.session.commit()
    with read_only() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0  # snapshot taken
        assert insert_one_ticket("2026-000001") < 1  # busy_timeout is 10 s: no wait at all
        # The reader goes on reading its own snapshot, consistent.
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert ticket_count() == 1  # a new unit of work sees the write


@sqlite_only
def test_an_ordinary_transaction_still_takes_the_write_lock(app, directory):
    # Check-then-write services rely on it: two ordinary transactions never interleave.
    assert ticket_count() == 0  # BEGIN IMMEDIATE at this first statement
    with pytest.raises(OperationalError, match="locked"):
        insert_one_ticket("2026-000001", busy_timeout_ms=200)
    db.session.rollback()
    assert ticket_count() == 0


def test_a_write_inside_a_read_only_unit_fails_at_once(app, directory):
    lille = csu("AC-09").id
    db.session.commit()
    with pytest.raises(DBAPIError, match="read-?only"), read_only() as session:
        session.execute(
            insert(Ticket).values(
                reference="2026-000009",
                csu_id=lille,
                category="autre",
                channel="telephone",
                status="nouveau",
            )
        )
    # The next ordinary transaction of the same pooled connection writes normally.
    db.session.execute(
        insert(Ticket).values(
            reference="2026-000010",
            csu_id=lille,
            category="autre",
            channel="telephone",
            status="nouveau",
        )
    )
    db.session.commit()
    assert db.session.scalars(select(Ticket.reference)).all() == ["2026-000010"]


@sqlite_only
def test_a_read_only_unit_reads_with_a_with_clause_and_refuses_driver_sql_writes(app, directory):
    db.session.execute(
        insert(Ticket).values(
            reference="2026-000001",
            csu_id=csu("AC-09").id,
            category="autre",
            channel="telephone",
            status="nouveau",
        )
    )
    db.session.commit()
    with read_only() as session:
        counted = select(func.count()).select_from(Ticket).cte("counted")
        assert session.scalar(select(counted.c[0])) == 1
        assert session.scalar(select(counted.c[0]).union(select(counted.c[0]))) == 1
        for statement in ("DELETE FROM ticket", "PRAGMA user_version = 7"):
            with pytest.raises(OperationalError, match="read-only"):
                session.connection().exec_driver_sql(statement)
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1  # still usable
    assert ticket_count() == 1


def test_read_only_refuses_a_transaction_in_progress(app, directory):
    ticket_count()
    with pytest.raises(RuntimeError, match="commit"), read_only():
        pass
    db.session.rollback()


@sqlite_only
def test_the_voter_page_reads_beside_a_writer_and_waits_only_to_write(client, lille, make_voter):
    voter_id = make_voter("DUPONT", "Marie", emails=("marie.dupont@ac-lille.fr",)).id
    db.session.remove()
    g.pop("_login_user", None)  # the request loads its agent itself, in its reads
    statements: list[str] = []
    refusing_writes: list[bool] = []  # the guard's flag as each statement ran
    waiting_to_write = threading.Event()

    def on_statement(connection, cursor, statement, *args):
        if threading.current_thread() is not page_thread:
            return
        statements.append(statement)
        refusing_writes.append(connection.info.get("csudesk_refusing_writes"))
        if statement == "BEGIN IMMEDIATE":
            waiting_to_write.set()

    answers = []
    page_thread = threading.Thread(
        target=lambda: answers.append(client.get(f"/guichet/electeurs/{voter_id}"))
    )
    holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction, in progress
    event.listen(db.engine, "before_cursor_execute", on_statement)
    try:
        page_thread.start()
        assert waiting_to_write.wait(10), statements
        # Everything the page reads ran while the lock was held; only its appends wait.
        reads = statements[: statements.index("BEGIN IMMEDIATE")]
        assert reads[0] == "BEGIN"  # deferred, and every read after it may not write
        assert refusing_writes[1 : len(reads)] == [True] * (len(reads) - 1)
        assert any("FROM voter" in s for s in reads) and any("FROM agent" in s for s in reads)
        assert not any(s.startswith(("INSERT", "UPDATE", "DELETE")) for s in reads)
        time.sleep(0.2)
        assert page_thread.is_alive() and not answers  # waiting for the lock, not failed
    finally:
        holder.execute("COMMIT")
        holder.close()
        page_thread.join(30)
        event.remove(db.engine, "before_cursor_execute", on_statement)
    assert answers and answers[0].status_code == 200
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (entry.action, entry.voter_id) == ("voter.view", voter_id)


class SmallWindowConnection(http.client.HTTPConnection):
    """A client that reads slowly: a small receive buffer, so the server's writes block."""

    def connect(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))


def sign_in(netloc: str, email: str) -> tuple[int, str | None, float]:
    """POST /connexion; the status, the session cookie and the seconds it took."""
    connection = http.client.HTTPConnection(netloc, timeout=30)
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            "/connexion",
            body=urllib.parse.urlencode({"email": email, "password": AGENT_PASSWORD}),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Sec-Fetch-Site": "same-origin",
            },
        )
        response = connection.getresponse()
        response.read()
        cookie = response.getheader("Set-Cookie")
        return response.status, cookie and cookie.split(";", 1)[0], time.monotonic() - started
    finally:
        connection.close()


@sqlite_only
def test_a_sign_in_succeeds_while_an_export_is_streaming(app, app_config, directory, make_agent):
    tickets = 60_000
    make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina National")
    make_agent("agent.lille@csudesk.test", "agent", "AC-09", "Luc Lille")
    bulk_tickets(tickets, csu("AC-09").id)
    db.session.commit()
    with app_processes(app_config, 1) as (url,):
        netloc = urllib.parse.urlsplit(url).netloc
        status, cookie, _ = sign_in(netloc, "sup.nat@csudesk.test")
        assert status == 302 and cookie
        export = SmallWindowConnection(netloc, timeout=60)
        try:
            export.request(
                "GET",
                "/supervision/tickets/export.csv",
                headers={"Cookie": cookie, "Sec-Fetch-Site": "same-origin"},
            )
            response = export.getresponse()
            assert response.status == 200
            first = response.read(4096)
            assert first.startswith("\ufeffRéférence".encode())
            time.sleep(0.5)  # the server fills the socket buffers, then blocks mid-export

            status, cookie, seconds = sign_in(netloc, "agent.lille@csudesk.test")
            assert (status, bool(cookie)) == (302, True)  # signed in, no 500
            assert seconds < 2, seconds

            rest = response.read()
        finally:
            export.close()
    # What was still to come exceeds every buffer between the two (16 KiB here, 4 MiB at most
    # for the server's socket, one 1000-row chunk): the export's query was still running.
    send_buffer_max = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    assert len(rest) > send_buffer_max + 16_384 + 300_000, len(rest)
    assert (first + rest).count(b"\r\n") == tickets + 1
