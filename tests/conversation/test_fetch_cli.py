"""flask --app csudesk mail fetch: the command, and the local Maildir source of the demo."""

import os
import threading

import pytest
from sqlalchemy import select

from csudesk.conversation import fetcher, mail_in
from csudesk.conversation.mailboxes import parse_mailbox
from csudesk.conversation.models import InboundMessage, InboundStatus
from csudesk.devtools.dovecot import free_port
from csudesk.extensions import db
from tests.fixtures.imap import message


@pytest.fixture
def process(monkeypatch):
    """Stands for mail_in.process: marks each message imported, notes its uid."""
    seen = []

    def process(raw, inbound, mailbox_csu_code):
        seen.append((inbound.mailbox, inbound.uid))
        inbound.status = InboundStatus.NEW_TICKET

    monkeypatch.setattr(mail_in, "process", process)
    return seen


def statuses(mailbox: str) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(InboundMessage.status)
            .where(InboundMessage.mailbox == mailbox)
            .order_by(InboundMessage.id)
        )
    )


def test_fetch_reads_every_mailbox_and_says_what_it_did(app, directory, runner, imap, process):
    imap.append(message(1), message(2))
    port = free_port()
    app.config["CSU_MAILBOXES"] = {
        "AC-09": imap.config(),
        "AC-25": {**imap.config(csu="AC-25"), "port": port},
    }

    result = runner.invoke(args=["mail", "fetch"])

    assert result.exit_code == 1  # one mailbox could not be read
    assert result.stdout.splitlines() == [
        "AC-09 : 2 lus, 2 importés, 0 mis de côté, 0 déjà pris par une autre relève",
        "AC-25 : 0 lus, 0 importés, 0 mis de côté, 0 déjà pris par une autre relève",
    ]
    assert result.stderr == (
        f"  AC-25 : imap://127.0.0.1:{port}/INBOX : connexion refusée (aucun serveur IMAP à"
        " cette adresse ?).\n"
    )
    assert imap.server.password not in result.output

    again = runner.invoke(args=["mail", "fetch", "--mailbox", "AC-09"])
    assert again.exit_code == 0, again.output
    assert again.output == (
        "AC-09 : 0 lus, 0 importés, 0 mis de côté, 0 déjà pris par une autre relève\n"
    )


def test_a_long_pass_says_how_far_it_is(app, directory, runner, imap, process, monkeypatch):
    from csudesk.cli import mail as mail_cli

    imap.append(*(message(n) for n in range(1, 8)))
    app.config["CSU_MAILBOXES"] = {"AC-09": imap.config()}
    monkeypatch.setattr(fetcher, "COMMIT_EVERY", 2)
    monkeypatch.setattr(mail_cli, "FETCH_PROGRESS_EVERY", 3)

    result = runner.invoke(args=["mail", "fetch"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "AC-09 : 4 messages enregistrés…",
        "AC-09 : 6 messages enregistrés…",
        "AC-09 : 7 lus, 7 importés, 0 mis de côté, 0 déjà pris par une autre relève",
    ]


def test_a_configuration_mistake_stops_the_command_before_any_mailbox(
    app, directory, runner, imap, process
):
    imap.append(message(1))
    app.config["CSU_MAILBOXES"] = {
        "AC-09": imap.config(),
        "AC-25": {**imap.config(csu="AC-25"), "security": "ssl"},
    }

    result = runner.invoke(args=["mail", "fetch"])

    assert result.exit_code == 1
    assert "Error: configuration des boîtes aux lettres :" in result.stderr
    assert "CSU_MAILBOXES['AC-25'] : \"security\" vaut" in result.stderr
    assert process == []


def test_an_unknown_csu_or_mailbox_name_is_refused(app, directory, runner, imap, process):
    app.config["CSU_MAILBOXES"] = {"AC-99": imap.config(csu="AC-99")}

    unknown_csu = runner.invoke(args=["mail", "fetch"])
    unknown_name = runner.invoke(args=["mail", "fetch", "--mailbox", "AC-25"])

    assert unknown_csu.exit_code == 1
    assert "CSU_MAILBOXES['AC-99'] : la CSU 'AC-99' n'est pas dans l'annuaire." in (
        unknown_csu.stderr
    )
    assert unknown_name.exit_code == 1
    assert "aucune boîte 'AC-25' dans CSU_MAILBOXES." in unknown_name.stderr


def test_no_mailbox_configured_is_said_plainly(app, runner):
    result = runner.invoke(args=["mail", "fetch", "--watch"])

    assert result.exit_code == 0
    assert result.output == (
        "Aucune boîte aux lettres configurée (CSU_MAILBOXES) : rien à relever.\n"
    )


def test_watch_says_an_error_once_until_it_changes(
    app, directory, runner, imap, process, monkeypatch
):
    import signal

    imap.append(message(1))
    port = free_port()
    app.config["CSU_MAILBOXES"] = {
        "AC-09": imap.config(),
        "AC-25": {**imap.config(csu="AC-25"), "port": port},
    }
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # the test process keeps its own
    run_forever = fetcher.run_forever
    passes = []

    def three_passes(mailboxes, every, on_report, should_stop, progress):
        def counted(report):
            passes.append(report.mailbox)
            on_report(report)

        run_forever(mailboxes, 0.01, counted, lambda: len(passes) >= 6, progress)

    monkeypatch.setattr(fetcher, "run_forever", three_passes)

    result = runner.invoke(args=["mail", "fetch", "--watch", "--every", "5"])

    assert result.exit_code == 0, result.output
    assert passes == ["AC-09", "AC-25"] * 3
    assert result.stdout.splitlines() == [
        "Relève de 2 boîte(s) toutes les 5 s (Ctrl+C pour arrêter) : AC-09"
        f" (imap://127.0.0.1:{imap.server.port}/INBOX), AC-25 (imap://127.0.0.1:{port}/INBOX)",
        "AC-09 : 1 lus, 1 importés, 0 mis de côté, 0 déjà pris par une autre relève",
    ]
    assert result.stderr.count("connexion refusée") == 1


def test_watch_fetches_again_until_told_to_stop(app, imap, process):
    imap.append(message(1))
    mailbox = parse_mailbox("AC-09", imap.config(), None, environ={})
    reports = []

    def on_report(report):
        reports.append(report)
        if len(reports) == 1:
            imap.append(message(2))

    fetcher.run_forever([mailbox], 0.1, on_report, should_stop=lambda: len(reports) >= 3)

    assert [report.fetched for report in reports] == [1, 1, 0]


def write_maildir_message(maildir, sub: str, name: str, raw: bytes) -> None:
    folder = maildir / sub
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(raw)


def test_a_maildir_is_read_once_even_when_its_files_move(app, tmp_path, process):
    maildir = tmp_path / "demo-mailbox-AC-09"
    write_maildir_message(maildir, "new", "1764583200.M1P1.demo", message(1))
    write_maildir_message(maildir, "cur", "1764583201.M2P1.demo:2,S", message(2))
    (maildir / "tmp").mkdir()
    write_maildir_message(maildir, "tmp", "1764583202.M3P1.demo", message(3))  # being delivered
    mailbox = parse_mailbox("AC-09", {"csu": "AC-09", "maildir": maildir.name}, tmp_path, {})

    first = fetcher.fetch_mailbox(mailbox)
    # A mail client moves the first file to cur/ and flags it: the same message.
    os.rename(
        maildir / "new" / "1764583200.M1P1.demo", maildir / "cur" / "1764583200.M1P1.demo:2,S"
    )
    write_maildir_message(maildir, "new", "1764583203.M4P1.demo", message(4))
    second = fetcher.fetch_mailbox(mailbox)

    assert (first.fetched, first.imported, first.errors) == (2, 2, [])
    assert (second.fetched, second.imported) == (1, 1)
    assert process == [
        ("AC-09", fetcher.maildir_uid("1764583200.M1P1.demo")),
        ("AC-09", fetcher.maildir_uid("1764583201.M2P1.demo")),
        ("AC-09", fetcher.maildir_uid("1764583203.M4P1.demo")),
    ]
    rows = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert {row.uidvalidity for row in rows} == {0}
    assert all(0 < row.uid < 2**62 for row in rows)


def test_a_large_maildir_file_is_set_aside_and_a_missing_folder_is_an_error(app, tmp_path, process):
    app.config["INBOUND_MAX_BYTES"] = 2048
    maildir = tmp_path / "boite"
    write_maildir_message(maildir, "new", "1.big.demo", message(1, body="é" * 4000))
    mailbox = parse_mailbox("AC-09", {"csu": "AC-09", "maildir": "boite"}, tmp_path, {})
    missing = parse_mailbox("AC-25", {"csu": "AC-25", "maildir": "absente"}, tmp_path, {})

    report = fetcher.fetch_mailbox(mailbox)
    broken = fetcher.fetch_mailbox(missing)

    assert (report.fetched, report.set_aside, process) == (1, 1, [])
    row = db.session.scalars(select(InboundMessage)).one()
    assert row.reason.startswith("message de 9 Ko, au-delà de la limite de 2 Ko")
    assert row.subject == "Demande 1"
    assert broken.errors == [f"Maildir {tmp_path / 'absente'} : dossier introuvable."]


def test_two_fetchers_on_one_maildir_import_each_file_once(app, tmp_path, process, monkeypatch):
    maildir = tmp_path / "boite"
    for number in range(1, 9):
        write_maildir_message(maildir, "new", f"{number}.M{number}.demo", message(number))
    mailbox = parse_mailbox("AC-09", {"csu": "AC-09", "maildir": "boite"}, tmp_path, {})
    both_listed = threading.Barrier(2, timeout=20)
    maildir_uid = fetcher.maildir_uid
    listed = threading.local()

    def after_the_listing(name):
        if not getattr(listed, "done", False):
            listed.done = True
            both_listed.wait()
        return maildir_uid(name)

    monkeypatch.setattr(fetcher, "maildir_uid", after_the_listing)
    db.session.commit()
    reports = []

    def run():
        with app.app_context():
            reports.append(fetcher.fetch_mailbox(mailbox))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(report.imported for report in reports) == 8
    assert sum(report.skipped for report in reports) == 8
    assert len(process) == 8
    assert statuses("AC-09") == [InboundStatus.NEW_TICKET] * 8
