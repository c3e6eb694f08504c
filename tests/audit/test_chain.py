"""The hash-chained audit trail against edits, deletions and insertions made with raw SQL."""

import pytest
from sqlalchemy import text

from csudesk.actor import Actor
from csudesk.audit.services import GENESIS, record, verify_chain
from csudesk.extensions import db
from tests.fixtures.sql import count_queries
from tests.fixtures.tamper import lift_append_only, slip_into_chain


@pytest.fixture
def chain(app):
    actor = Actor("system", None, "127.0.0.1")
    for i in range(5):
        record(actor, "test.event", number=i)
    db.session.commit()


def test_chain_is_linked_and_verifies(chain):
    rows = db.session.execute(text("SELECT id, prev_hash, hash FROM audit_entry ORDER BY id")).all()
    assert rows[0].prev_hash == GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))
    report = verify_chain()
    assert report.ok and report.checked == 5


def test_edit_is_detected(chain):
    lift_append_only()
    db.session.execute(text("UPDATE audit_entry SET details = '{\"number\": 9}' WHERE id = 3"))
    db.session.commit()
    report = verify_chain()
    assert (report.ok, report.broken_id, report.checked) == (False, 3, 2)


def test_deletion_is_detected(chain):
    lift_append_only()
    db.session.execute(text("DELETE FROM audit_entry WHERE id = 2"))
    db.session.commit()
    assert verify_chain().broken_id == 3


def test_insertion_is_detected(chain):
    lift_append_only()
    forged = slip_into_chain(2)
    db.session.commit()
    assert verify_chain().broken_id == forged  # third in the chain, id 6


def test_a_row_inserted_outside_the_chain_is_detected(chain):
    db.session.execute(
        text(
            "INSERT INTO audit_entry (at, actor, action, details)"
            " VALUES ('2026-01-01 00:00:00', 'system', 'forged', '{}')"
        )
    )
    db.session.commit()
    report = verify_chain()
    assert (report.broken_id, report.checked) == (6, 5)
    assert "hors de l'application" in report.reason


def test_cli_exit_status(runner, chain):
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "5 entrées vérifiées" in ok.output
    lift_append_only()
    db.session.execute(text("UPDATE audit_entry SET action = 'x' WHERE id = 4"))
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert "entrée n° 4" in broken.output


def test_deleting_the_newest_entries_is_caught_with_a_noted_head(chain):
    report = verify_chain()
    assert report.head_id == 5 and len(report.head_hash) == 64
    lift_append_only()
    db.session.execute(text("DELETE FROM audit_entry WHERE id >= 4"))
    db.session.commit()
    assert verify_chain().ok  # the chain alone cannot see it
    caught = verify_chain(noted_head=(report.head_id, report.head_hash))
    assert (caught.ok, caught.broken_id) == (False, 5)
    assert "supprimées" in caught.reason


def test_noted_head_with_another_fingerprint_is_caught(chain):
    assert not verify_chain(noted_head=(3, "a" * 64)).ok


def test_every_append_logs_the_head(app, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="csudesk.audit")
    entry = record(Actor("system", None, None), "test.event")
    assert f"audit {entry.id} {entry.hash}" in caplog.text


def test_cli_prints_the_head_and_checks_a_noted_one(runner, chain):
    ok = runner.invoke(args=["audit", "verify"])
    head = ok.output.rsplit(": ", 1)[1].strip()
    assert head.startswith("5:")
    lift_append_only()
    db.session.execute(text("DELETE FROM audit_entry WHERE id = 5"))
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify", "--head", head])
    assert broken.exit_code == 1 and "supprimées" in broken.output
    assert runner.invoke(args=["audit", "verify", "--head", "nope"]).exit_code == 2


def test_a_second_append_in_one_transaction_reads_no_head(app):
    """The transaction that sealed the head holds the lock until its commit: its next entry
    chains to the one it wrote without asking the database again (one INSERT)."""
    actor = Actor("system", None, None)
    first = record(actor, "test.event", number=1)
    with count_queries() as statements:
        second = record(actor, "test.event", number=2)
    assert [s.split()[0] for s in statements] == ["INSERT"]
    assert (second.seal_seq, second.prev_hash) == (first.seal_seq + 1, first.hash)
    db.session.commit()
    with count_queries() as statements:
        record(actor, "test.event", number=3)  # a new transaction: the head read again
    assert sum("FROM audit_entry" in s for s in statements) == 1
    db.session.commit()
    assert verify_chain().checked == 3


def test_an_append_undone_with_its_savepoint_leaves_no_gap(app):
    """What a rolled-back savepoint wrote is gone, and so is the head it sealed: the next
    entry chains to the last one still there."""
    actor = Actor("system", None, None)
    kept = record(actor, "test.event", number=1)
    savepoint = db.session.begin_nested()
    record(actor, "test.event", number=2)
    savepoint.rollback()
    after = record(actor, "test.event", number=3)
    with db.session.begin_nested():  # released: what it wrote stays, and so does its head
        inside = record(actor, "test.event", number=4)
    last = record(actor, "test.event", number=5)
    db.session.commit()
    assert (after.seal_seq, after.prev_hash) == (kept.seal_seq + 1, kept.hash)
    assert (last.seal_seq, last.prev_hash) == (inside.seal_seq + 1, inside.hash)
    report = verify_chain()
    assert report.ok and report.checked == 4


def test_a_failed_transaction_does_not_lend_its_head(app):
    actor = Actor("system", None, None)
    kept = record(actor, "test.event", number=1)
    db.session.commit()
    record(actor, "test.event", number=2)
    db.session.rollback()
    after = record(actor, "test.event", number=3)
    db.session.commit()
    assert after.prev_hash == kept.hash
    assert verify_chain().ok
