"""mail fetch against a real Dovecot: each message imported once, whatever happens.

What a message does once fetched is mail_in.process's business: these tests put a recording
stand-in in its place, so that they check the fetcher's promises only (called once per
message, inside the fetcher's transaction; raising sets the message aside).
"""

import base64
import imaplib
import threading

import pytest
from sqlalchemy import select

from csudesk.conversation import fetcher, mail_in
from csudesk.conversation.mailboxes import parse_mailbox
from csudesk.conversation.models import InboundMessage, InboundStatus
from csudesk.devtools.dovecot import free_port
from csudesk.extensions import db
from tests.fixtures.imap import message


class Recorder:
    """Stands for mail_in.process: notes each call and marks the row imported."""

    def __init__(self):
        self.calls: list[tuple[int, bytes, str]] = []
        self.lock = threading.Lock()
        self.fail_on: dict[int, BaseException] = {}

    def __call__(self, raw: bytes, inbound: InboundMessage, mailbox_csu_code: str) -> None:
        with self.lock:
            self.calls.append((inbound.uid, raw, mailbox_csu_code))
        if inbound.uid in self.fail_on:
            # Work done before the failure must be undone with it.
            db.session.add(
                InboundMessage(mailbox="half-done", uidvalidity=1, uid=inbound.uid, size=0)
            )
            db.session.flush()
            raise self.fail_on[inbound.uid]
        inbound.status = InboundStatus.NEW_TICKET
        inbound.subject = (
            raw.split(b"Subject: ", 1)[-1].split(b"\r\n", 1)[0].decode(errors="replace")
        )

    @property
    def uids(self) -> list[int]:
        return [uid for uid, _raw, _csu in self.calls]


class Killed(BaseException):
    """The fetcher's process dies (nothing after it runs, as with kill -9)."""


@pytest.fixture
def process(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(mail_in, "process", recorder)
    return recorder


def mailbox_of(imap, name: str = "AC-09", **extra):
    return parse_mailbox(name, imap.config(**extra), instance_path=None, environ={})


def rows(mailbox: str = "AC-09") -> list[InboundMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.mailbox == mailbox)
            .order_by(InboundMessage.uidvalidity, InboundMessage.uid)
        )
    )


def test_new_messages_are_imported_once_and_left_unread_on_the_server(app, imap, process):
    sent = [message(n) for n in range(1, 6)]
    uids = imap.append(*sent)
    mailbox = mailbox_of(imap)

    report = fetcher.fetch_mailbox(mailbox)

    assert (report.fetched, report.imported, report.skipped, report.set_aside) == (5, 5, 0, 0)
    assert report.errors == []
    assert process.calls == [(uid, raw, "AC-09") for uid, raw in zip(uids, sent, strict=True)]
    found = rows()
    assert [(row.uid, row.status, row.subject) for row in found] == [
        (uid, InboundStatus.NEW_TICKET, f"Demande {n}") for n, uid in enumerate(uids, 1)
    ]
    assert {row.size for row in found} == {len(raw) for raw in sent}
    assert found[0].message_id == "<test-1@ac-lille.fr>"

    again = fetcher.fetch_mailbox(mailbox)
    assert (again.fetched, again.imported, again.errors) == (0, 0, [])

    # Only the messages that came since are read.
    imap.append(message(6), message(7))
    later = fetcher.fetch_mailbox(mailbox)
    assert (later.fetched, later.imported) == (2, 2)
    assert process.uids == [*uids, uids[-1] + 1, uids[-1] + 2]

    client = imap.connect()
    client.select("INBOX", readonly=True)
    _status, flags = client.uid("FETCH", "1:*", "(FLAGS)")
    client.logout()
    assert len(flags) == 7
    assert not any(b"\\Seen" in line or b"\\Deleted" in line for line in flags)


def test_a_large_mailbox_is_searched_a_window_of_uids_at_a_time(app, imap, process, monkeypatch):
    imap.append(*(message(n) for n in range(1, 6)))
    monkeypatch.setattr(fetcher, "SEARCH_WINDOW", 2)
    searches = []
    uid = imaplib.IMAP4.uid

    def recording_uid(client, command, *args):
        if command == "SEARCH":
            searches.append(args)
        return uid(client, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", recording_uid)

    report = fetcher.fetch_mailbox(mailbox_of(imap))

    assert (report.imported, report.errors) == (5, [])
    assert searches == [("UID 1:2",), ("UID 3:4",), ("UID 5:5",)]
    assert process.uids == [1, 2, 3, 4, 5]


def test_a_failing_message_is_set_aside_with_its_reason_and_the_others_go_on(app, imap, process):
    imap.append(*(message(n) for n in range(1, 6)))
    process.fail_on[3] = ValueError("charset inconnu")
    mailbox = mailbox_of(imap)

    report = fetcher.fetch_mailbox(mailbox)

    assert (report.fetched, report.imported, report.set_aside) == (5, 4, 1)
    assert report.errors == ["message 3 : ValueError"]
    third = rows()[2]
    assert third.status == InboundStatus.SET_ASIDE
    assert third.reason == "erreur pendant l'import (ValueError) : charset inconnu"
    # The fetcher noted what the headers say, for the person who looks at it.
    assert (third.subject, third.from_address) == ("Demande 3", "marie.dupont@ac-lille.fr")
    assert third.message_id == "<test-3@ac-lille.fr>"
    # What process() had written before raising is gone with its savepoint.
    assert rows("half-done") == []
    assert [row.status for row in rows()].count(InboundStatus.NEW_TICKET) == 4

    process.fail_on.clear()
    again = fetcher.fetch_mailbox(mailbox)
    assert again.fetched == 0
    assert process.uids == [1, 2, 3, 4, 5]


def test_a_fetcher_killed_mid_batch_loses_and_duplicates_nothing(app, imap, process):
    imap.append(*(message(n) for n in range(1, 26)))
    mailbox = mailbox_of(imap)
    process.fail_on[13] = Killed()

    with pytest.raises(Killed):
        fetcher.fetch_mailbox(mailbox)
    db.session.rollback()
    # What was committed stays (every COMMIT_EVERY messages); the open transaction is gone.
    assert fetcher.COMMIT_EVERY == 10
    assert [row.uid for row in rows()] == list(range(1, 11))

    process.fail_on.clear()
    report = fetcher.fetch_mailbox(mailbox)

    assert (report.fetched, report.imported) == (15, 15)
    # Messages 11 to 13 read again: they were never committed.
    assert process.uids == [*range(1, 14), *range(11, 26)]
    assert [(row.uid, row.status) for row in rows()] == [
        (uid, InboundStatus.NEW_TICKET) for uid in range(1, 26)
    ]
    assert rows("half-done") == []


def test_two_fetchers_at_once_import_each_message_once(app, imap, process, monkeypatch):
    count = 12
    imap.append(*(message(n) for n in range(1, count + 1)))
    mailbox = mailbox_of(imap)
    # Both have searched (last UID 0, the same twelve messages) before either imports one.
    both_searched = threading.Barrier(2, timeout=20)
    fetch_batch = fetcher._fetch_batch

    def after_the_search(*args, **kwargs):
        both_searched.wait()
        return fetch_batch(*args, **kwargs)

    monkeypatch.setattr(fetcher, "_fetch_batch", after_the_search)
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

    assert len(reports) == 2
    assert [report.errors for report in reports] == [[], []]
    assert sum(report.fetched for report in reports) == 2 * count
    # Each message: imported by one fetcher, found taken by the other.
    assert sum(report.imported for report in reports) == count
    assert sum(report.skipped for report in reports) == count
    assert sorted(process.uids) == list(range(1, count + 1))
    assert [row.uid for row in rows()] == list(range(1, count + 1))


def test_a_renumbered_folder_is_read_again_without_importing_twice(app, imap, process):
    imap.append(message(1), message(2), folder="Archives")
    mailbox = mailbox_of(imap, folder="Archives")
    assert fetcher.fetch_mailbox(mailbox).imported == 2
    # The server rebuilds the folder: new UIDVALIDITY, UIDs from 1 again.
    client = imap.connect()
    assert client.delete("Archives")[0] == "OK"
    client.logout()
    imap.append(message(1), message(2), message(3), folder="Archives")

    report = fetcher.fetch_mailbox(mailbox)

    assert (report.fetched, report.imported, report.set_aside) == (3, 1, 2)
    found = rows()
    assert len({row.uidvalidity for row in found}) == 2
    renumbered = [row for row in found if row.uidvalidity == found[-1].uidvalidity]
    assert [(row.uid, row.status) for row in renumbered] == [
        (1, InboundStatus.SET_ASIDE),
        (2, InboundStatus.SET_ASIDE),
        (3, InboundStatus.NEW_TICKET),
    ]
    assert renumbered[0].reason.startswith("déjà importé : le serveur a renuméroté le dossier")
    assert process.uids == [1, 2, 3]  # only the new one reached the import


def test_a_message_over_the_limit_is_set_aside_with_its_headers(app, app_config, imap, process):
    app.config["INBOUND_MAX_BYTES"] = 4096
    big = message(2, body="x" * 8000)
    imap.append(message(1), big, message(3))

    report = fetcher.fetch_mailbox(mailbox_of(imap))

    assert (report.fetched, report.imported, report.set_aside) == (3, 2, 1)
    assert process.uids == [1, 3]
    second = rows()[1]
    assert second.status == InboundStatus.SET_ASIDE
    assert second.size == len(big)
    assert second.reason == (
        "message de 9 Ko, au-delà de la limite de 4 Ko : non lu, à consulter dans la boîte"
        " elle-même"
    )
    assert (second.subject, second.message_id) == ("Demande 2", "<test-2@ac-lille.fr>")


def test_a_ten_megabyte_attachment_reaches_the_import_whole(app, imap, process):
    attachment = base64.encodebytes(b"\x89PNG" + b"\x00\x17" * (5 * 1024 * 1024)).replace(
        b"\n", b"\r\n"
    )
    raw = (
        b"From: marie.dupont@ac-lille.fr\r\nSubject: Capture\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nVoici la capture.\r\n--b\r\n"
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + attachment
        + b"--b--\r\n"
    )
    imap.append(raw)

    report = fetcher.fetch_mailbox(mailbox_of(imap))

    assert (report.imported, report.set_aside) == (1, 0)
    assert process.calls[0][1] == raw
    assert rows()[0].size == len(raw) > 13 * 1024 * 1024


def test_garbage_is_handed_to_the_import_as_it_came(app, imap, process):
    garbage = b"\xff\xfe pas un message \x80\x81 sans en-t\xeates"
    imap.append(garbage, message(2))

    report = fetcher.fetch_mailbox(mailbox_of(imap))

    assert report.errors == []
    assert report.imported == 2
    assert process.calls[0][1] == garbage


def test_an_unreachable_mailbox_does_not_stop_the_others(app, imap, process):
    imap.append(message(1))
    port = free_port()  # nothing listens there
    down = parse_mailbox(
        "AC-25",
        {**imap.config(csu="AC-25"), "port": port},
        instance_path=None,
        environ={},
    )

    reports = list(fetcher.fetch_all([down, mailbox_of(imap)]))

    assert reports[0].errors == [
        f"imap://127.0.0.1:{port}/INBOX : connexion refusée (aucun serveur IMAP à cette adresse ?)."
    ]
    assert (reports[1].imported, reports[1].errors) == (1, [])


def test_a_refused_password_is_a_clear_error_that_does_not_show_it(app, imap, process):
    mailbox = parse_mailbox(
        "AC-09", {**imap.config(), "password": "mauvais-secret"}, None, environ={}
    )

    report = fetcher.fetch_mailbox(mailbox)

    (error,) = report.errors
    assert error.startswith(f"imap://127.0.0.1:{imap.server.port}/INBOX : identifiants refusés")
    assert "mauvais-secret" not in error


def test_a_missing_folder_is_a_clear_error(app, imap, process):
    report = fetcher.fetch_mailbox(mailbox_of(imap, folder="Nulle part"))

    (error,) = report.errors
    assert "dossier 'Nulle part' introuvable" in error


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_check_the_certificate(app, imap, process, security):
    imap.append(message(1))

    assert fetcher.fetch_mailbox(mailbox_of(imap, security=security)).imported == 1

    entry = imap.config(security=security)
    del entry["ca_file"]  # the system's authorities do not know the test's certificate
    report = fetcher.fetch_mailbox(parse_mailbox("AC-09", entry, None, environ={}))
    (error,) = report.errors
    assert error.endswith(" : certificat TLS refusé (self-signed certificate).")
