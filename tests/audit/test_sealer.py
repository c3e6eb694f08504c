"""AUDIT_SEALING "sealer": requests write their entries unsealed, `audit seal` chains them.

The same guarantees as the inline chain (edits, deletions and insertions are caught), plus
two of its own: a row the application did not write is never sealed, and an entry left
unsealed longer than AUDIT_SEAL_MAX_DELAY is reported.
"""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.audit.sealer import seal_all
from csudesk.audit.services import GENESIS, record, verify_chain
from csudesk.db import clock_at, utcnow
from csudesk.extensions import db
from tests.conftest import ON_POSTGRES
from tests.fixtures.sql import count_queries
from tests.fixtures.tamper import lift_append_only, slip_into_chain

ACTOR = Actor("system", None, "127.0.0.1")


@pytest.fixture
def app_config(app_config):
    app_config["AUDIT_SEALING"] = "sealer"
    return app_config


def append(count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        record(ACTOR, "test.event", number=number)
    db.session.commit()


def places() -> list[tuple[int, int | None]]:
    return db.session.execute(
        select(AuditEntry.id, AuditEntry.seal_seq).order_by(AuditEntry.id)
    ).all()


def test_a_request_appends_without_the_chain_lock_and_the_sealer_chains(app):
    with count_queries() as statements:
        record(ACTOR, "test.event", number=0)
    db.session.commit()
    statements = [s for s in statements if not s.startswith("BEGIN")]
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO audit_entry")
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.seal_seq, entry.prev_hash, entry.hash) == (None, None, None)
    assert len(entry.mac) == 64
    waiting = verify_chain()
    assert (waiting.ok, waiting.checked, waiting.waiting) == (True, 0, 1)
    db.session.commit()
    said = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert said.exit_code == 0 and "1 entrées récentes attendent leur scellement" in said.output

    append(4, start=1)
    assert seal_all().sealed == 5
    db.session.expire_all()
    rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seal_seq)).all()
    assert [r.seal_seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))
    report = verify_chain()
    assert (report.ok, report.checked, report.waiting, report.head_id) == (True, 5, 0, 5)
    assert seal_all().sealed == 0  # nothing left


def test_inline_and_sealed_entries_make_one_chain(app):
    append(2)
    app.config["AUDIT_SEALING"] = "inline"
    append(1, start=2)  # sealed at once, after nothing: the two waiting ones come after it
    app.config["AUDIT_SEALING"] = "sealer"
    append(2, start=3)
    seal_all()
    app.config["AUDIT_SEALING"] = "inline"
    append(1, start=5)
    assert places() == [(1, 2), (2, 3), (3, 1), (4, 4), (5, 5), (6, 6)]
    report = verify_chain()
    assert (report.ok, report.checked, report.waiting) == (True, 6, 0)


def test_a_row_the_application_did_not_write_is_never_sealed(app, runner):
    append(2)
    db.session.execute(
        text(
            "INSERT INTO audit_entry (at, actor, action, details, mac)"
            " VALUES (:at, 'system', 'forged', '{}', :mac)"
        ),
        {"at": utcnow().replace(tzinfo=None), "mac": "a" * 64},
    )
    db.session.commit()
    append(1, start=2)
    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 1
    assert "3 entrées scellées" in result.output and "empreinte invalide" in result.output
    assert places() == [(1, 1), (2, 2), (3, None), (4, 3)]
    report = verify_chain()
    assert (report.ok, report.broken_id, report.checked) == (False, 3, 3)
    assert "hors de l'application" in report.reason


def test_a_copy_of_an_entry_is_refused_by_the_database(app):
    append(2)
    columns = "at, actor, agent_id, action, voter_id, ticket_id, ip, details, nonce, mac"
    with pytest.raises(IntegrityError):
        db.session.execute(
            text(
                f"INSERT INTO audit_entry ({columns})"  # noqa: S608 - constant column list
                f" SELECT {columns} FROM audit_entry WHERE id = 1"
            )
        )
    db.session.rollback()
    assert seal_all().sealed == 2 and verify_chain().checked == 2


@pytest.mark.parametrize(
    "half_sealed",
    [
        "seal_seq, prev_hash, hash) VALUES (:at, 'system', 'x', '{}', NULL, :g, :g)",
        "seal_seq, prev_hash, hash) VALUES (:at, 'system', 'x', '{}', 7, NULL, :g)",
    ],
)
def test_a_half_sealed_row_is_refused_by_the_database(app, half_sealed):
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("INSERT INTO audit_entry (at, actor, action, details, " + half_sealed),
            {"at": utcnow().replace(tzinfo=None), "g": GENESIS},
        )
    db.session.rollback()


def test_an_entry_changed_before_its_seal_is_refused(app):
    append(3)
    lift_append_only()
    db.session.execute(text("UPDATE audit_entry SET action = 'x' WHERE id = 2"))
    db.session.commit()
    report = seal_all()
    assert (report.sealed, report.refused) == (2, [2])
    assert verify_chain().broken_id == 2


def test_an_entry_waiting_longer_than_the_delay_is_reported(app):
    with clock_at(utcnow() - timedelta(seconds=app.config["AUDIT_SEAL_MAX_DELAY"] + 5)):
        append(1)
    append(1, start=1)
    report = verify_chain()
    assert (report.ok, report.broken_id) == (False, 1)
    assert "audit seal --watch" in report.reason
    seal_all()
    assert verify_chain().ok


def test_edits_deletions_and_insertions_of_sealed_entries_are_caught(app):
    append(5)
    seal_all()
    lift_append_only()
    db.session.execute(text("UPDATE audit_entry SET details = '{}' WHERE id = 2"))
    db.session.commit()
    assert verify_chain().broken_id == 2


def test_a_deleted_sealed_entry_breaks_the_chain(app):
    append(5)
    seal_all()
    lift_append_only()
    db.session.execute(text("DELETE FROM audit_entry WHERE id = 3"))
    db.session.commit()
    assert verify_chain().broken_id == 4


def test_an_entry_slipped_into_the_sealed_chain_breaks_it(app):
    append(4)
    seal_all()
    lift_append_only()
    forged = slip_into_chain(2)
    db.session.commit()
    assert verify_chain().broken_id == forged


def test_the_database_lets_only_a_seal_through(app):
    append(1)
    seal = "UPDATE audit_entry SET seal_seq = 1, prev_hash = :g, hash = :g"
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(seal + ", action = 'x' WHERE id = 1"), {"g": GENESIS})
    db.session.rollback()
    db.session.execute(text(seal + " WHERE id = 1"), {"g": GENESIS})
    db.session.commit()  # the seal itself (a wrong hash here, which verify reports)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE audit_entry SET seal_seq = 2 WHERE id = 1"))
    db.session.rollback()
    assert verify_chain().broken_id == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite's write lock commits in id order")
def test_an_entry_committed_after_a_later_one_is_sealed_after_it(app):
    record(ACTOR, "test.event", number=0)  # id 1, its request not committed yet
    sealed_meanwhile = []

    def another_request_then_the_sealer():
        with app.app_context():  # a session of its own
            append(1, start=1)  # id 2, committed
            sealed_meanwhile.append(seal_all().sealed)

    other = threading.Thread(target=another_request_then_the_sealer)
    other.start()
    other.join()
    db.session.commit()
    assert sealed_meanwhile == [1] and seal_all().sealed == 1
    assert places() == [(1, 2), (2, 1)]
    assert verify_chain().ok


def test_requests_of_several_threads_and_the_sealer_make_one_chain(app):
    per_thread, threads = 40, 3
    failures: list[BaseException] = []

    def requests():
        try:
            with app.app_context():
                for n in range(per_thread):
                    record(ACTOR, "test.event", number=n)
                    db.session.commit()
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    workers = [threading.Thread(target=requests) for _ in range(threads)]
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers):
        seal_all()
        db.session.remove()
    for worker in workers:
        worker.join()
    seal_all()
    assert not failures
    report = verify_chain()
    assert (report.ok, report.checked, report.waiting) == (True, per_thread * threads, 0)
