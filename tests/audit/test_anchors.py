"""Signed heads outside the database: deleting the newest entries no longer passes verify."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from csudesk.actor import Actor
from csudesk.audit import anchors
from csudesk.audit.services import record, verify_chain
from csudesk.extensions import db
from tests.fixtures.tamper import lift_append_only


def append(count: int) -> None:
    for i in range(count):
        record(Actor.system(), "test.event", number=i)
    db.session.commit()


@pytest.fixture
def anchor_file(app) -> Path:
    return Path(app.config["AUDIT_ANCHOR_PATH"])


def verify_cli(runner, *args: str):
    db.session.commit()  # the command runs in the test's app context, on its session
    return runner.invoke(args=["audit", "verify", *args])


def anchor_cli(runner) -> str:
    db.session.commit()
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    return result.output


def test_untouched_chain_verifies_with_its_anchors(runner, anchor_file):
    append(3)
    assert "Tête ancrée" in anchor_cli(runner)
    append(2)
    anchor_cli(runner)
    assert "Aucune nouvelle entrée" in anchor_cli(runner)  # unchanged head: no new line
    lines = anchor_file.read_text().splitlines()
    assert [line.split()[2] for line in lines] == ["3", "5"]
    ok = verify_cli(runner)
    assert ok.exit_code == 0, ok.output
    assert "5 entrées vérifiées" in ok.output
    assert "2 têtes signées" in ok.output and "entrée n° 5" in ok.output


def test_deleting_the_newest_entries_is_reported_as_a_truncated_tail(runner, anchor_file):
    append(3)
    anchor_cli(runner)
    append(3)
    anchor_cli(runner)
    lift_append_only()  # SQLite: the file's owner; PostgreSQL: the table's owner
    db.session.execute(text("DELETE FROM audit_entry WHERE id >= 5"))
    db.session.commit()
    assert verify_chain().ok  # the chain alone cannot see it
    broken = verify_cli(runner)
    assert broken.exit_code == 1
    assert "ROMPU à l'entrée n° 6" in broken.output
    assert "fin du journal tronquée" in broken.output


def test_an_anchored_entry_with_another_hash_is_reported(app, runner, anchor_file):
    append(4)
    anchor_file.parent.mkdir(parents=True)
    forged_head = anchors.Anchor(4, "ab" * 32, datetime.now(UTC))
    anchor_file.write_text(anchors.sign(forged_head) + "\n")  # signed with the real key
    broken = verify_cli(runner)
    assert broken.exit_code == 1
    assert "entrée n° 4" in broken.output and "empreinte différente de l'ancre" in broken.output


def test_a_forged_anchor_line_is_reported(runner, anchor_file):
    append(2)
    anchor_cli(runner)
    append(2)
    anchor_cli(runner)
    genuine = anchor_file.read_text().splitlines()
    # Someone who truncated the tail "repairs" the last anchor without the audit key.
    lift_append_only()
    db.session.execute(text("DELETE FROM audit_entry WHERE id >= 3"))
    db.session.commit()
    head_hash = db.session.execute(text("SELECT hash FROM audit_entry WHERE id = 2")).scalar()
    marker, moment, _, _, mac = genuine[1].split()
    anchor_file.write_text(f"{genuine[0]}\n{marker} {moment} 2 {head_hash} {mac}\n")
    broken = verify_cli(runner)
    assert broken.exit_code == 1
    assert "Ancre FORGÉE" in broken.output and "ligne 2" in broken.output
    assert "ROMPU" not in broken.output  # the chain up to entry 2 is intact
    anchor_file.write_text(genuine[0] + "\nnot an anchor\n")
    assert "ligne 2" in verify_cli(runner).output


def test_verify_without_anchors_says_so(runner, anchor_file):
    append(1)
    result = verify_cli(runner)
    assert result.exit_code == 0
    assert "aucune ancre" in result.output


def test_anchor_lines_from_syslog_are_read_with_their_header(app, runner, tmp_path):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    try:
        app.config["AUDIT_ANCHOR_SYSLOG"] = f"127.0.0.1:{receiver.getsockname()[1]}"
        append(2)
        anchor_cli(runner)
        message = receiver.recv(4096).decode()
    finally:
        receiver.close()
    assert message.startswith("<")  # a syslog priority, then ident and the line
    assert f"{anchors.MARKER} " in message and " 2 " in message
    copy = tmp_path / "from-syslog.log"
    copy.write_text(message.rstrip("\x00") + "\n")
    ok = verify_cli(runner, "--anchors", str(copy))
    assert ok.exit_code == 0 and "1 têtes signées" in ok.output


def anchored_ids(path: Path, wanted: int) -> list[str]:
    """The entry ids of the file's lines once it has `wanted` lines (10 s at most)."""
    deadline = time.monotonic() + 10
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= wanted:
            break
        time.sleep(0.05)
    return [line.split()[2] for line in lines]


def test_the_watching_worker_anchors_new_heads_until_terminated(app, anchor_file, tmp_path):
    append(2)
    env = {
        **os.environ,
        "CSUDESK_INSTANCE_PATH": str(tmp_path / "instance"),
        "CSUDESK_SECRET_KEY": app.config["SECRET_KEY"],
        "CSUDESK_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "CSUDESK_AUDIT_ANCHOR_PATH": str(anchor_file),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "csudesk", "audit", "anchor"]
        + ["--watch", "--every", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert anchored_ids(anchor_file, 1) == ["2"]
        append(1)
        assert anchored_ids(anchor_file, 2) == ["2", "3"]
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=10)
    assert worker.returncode == 0, err
    assert "toutes les 0.2 s" in out
    assert verify_chain(anchors=anchors.read_anchors().anchors).ok


def test_the_integrity_page_reads_the_anchors_too(runner, client, auth, make_agent, anchor_file):
    supervisor = make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina National")
    auth.login(supervisor.email)
    append(3)
    anchor_cli(runner)
    assert "Journal intègre" in client.post("/supervision/journal/integrite").text
    head = int(anchor_file.read_text().split()[2])
    lift_append_only()
    db.session.execute(text("DELETE FROM audit_entry WHERE id >= :i"), {"i": head - 1})
    db.session.commit()
    page = client.post("/supervision/journal/integrite").text
    assert f"Journal rompu à l'entrée n° {head}<" in page
    assert "fin du journal tronquée" in page
