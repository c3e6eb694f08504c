"""The outbox sender against a real SMTP server, up and down."""

from datetime import timedelta

from sqlalchemy import select, update

from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.mail.worker import backoff, send_due


def queue_one(make_voter, address="marie@ac-lille.fr"):
    voter = make_voter(emails=(address,))
    result = resend_activation_link(Actor.system(), voter, address)
    db.session.commit()
    return result.link


def mail_row() -> OutboxMail:
    db.session.expire_all()
    return db.session.scalar(select(OutboxMail))


def test_smtp_down_keeps_the_mail_and_retries_later(make_voter, smtp):
    link = queue_one(make_voter)
    smtp.stop()
    report = send_due()
    assert (report.sent, report.retried) == (0, 1)
    row = mail_row()
    assert row.status == MailStatus.PENDING and row.attempts == 1
    assert "injoignable" in row.smtp_response
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    smtp.start()
    assert send_due().sent == 0  # not due yet: backoff
    db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert send_due().sent == 1
    row = mail_row()
    assert row.status == MailStatus.SENT and row.attempts == 2
    assert row.smtp_response.startswith("250")
    db.session.refresh(link)
    assert link.sent_at is not None and link.expires_at > utcnow()
    assert len(smtp.messages) == 1


def test_sent_mail_is_never_sent_again(make_voter, smtp):
    queue_one(make_voter)
    assert send_due().sent == 1
    assert send_due().handled == 0
    assert len(smtp.messages) == 1


def test_sender_that_died_mid_send_leaves_an_uncertain_mail(make_voter, smtp, app):
    queue_one(make_voter)
    db.session.execute(
        update(OutboxMail).values(
            status=MailStatus.SENDING, last_attempt_at=utcnow() - timedelta(hours=1)
        )
    )
    db.session.commit()
    report = send_due()
    assert report.uncertain == 1 and report.sent == 0
    assert mail_row().status == MailStatus.UNCERTAIN
    assert smtp.messages == []


def test_permanent_refusal_fails_at_once(make_voter, smtp):
    queue_one(make_voter)
    smtp.handler.reply = "550 mailbox unavailable"
    report = send_due()
    assert report.failed == 1
    row = mail_row()
    assert row.status == MailStatus.FAILED and row.smtp_response.startswith("550")


def test_temporary_refusal_is_retried(make_voter, smtp):
    queue_one(make_voter)
    smtp.handler.reply = "451 try again later"
    assert send_due().retried == 1
    assert mail_row().status == MailStatus.PENDING


def test_mail_to_an_address_removed_from_the_roll_is_cancelled(make_voter, smtp):
    from csudesk.roll.models import VoterEmail

    queue_one(make_voter)
    db.session.execute(update(VoterEmail).values(address="moved@ac-lille.fr"))
    db.session.commit()
    assert send_due().cancelled == 1
    assert smtp.messages == []


def test_mail_is_french_plain_and_html_with_the_csu_contact(make_voter, smtp):
    from csudesk.directory.services import set_contact

    set_contact("AC-09", email="csu@ac-lille.example", phone="03 20 00 00 00")
    db.session.commit()
    queue_one(make_voter)
    send_due()
    (message,) = smtp.wait_for(1)
    assert "lien d'activation" in message["Subject"]
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (plain, html):
        assert "csu@ac-lille.example" in body and "03 20 00 00 00" in body
        assert "http://csudesk.test/activation/" in body
    assert message["Message-ID"].startswith("<outbox-1.")


def test_backoff_grows_and_is_capped():
    assert backoff(1) < backoff(2) < backoff(3)
    assert backoff(30) == timedelta(hours=1)


class SlowAnswer:
    """Keeps the mail, then answers DATA too late for the sender's timeout."""

    def __init__(self):
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.received += 1
        await asyncio.sleep(2)
        return "250 OK"


def test_lost_answer_to_data_is_uncertain_never_resent(make_voter, app):
    from aiosmtpd.controller import Controller

    from tests.fixtures.smtp import free_port

    handler, port = SlowAnswer(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config["MAIL_TIMEOUT_SECONDS"] = 0.5
        app.extensions["mail"].port = port
        queue_one(make_voter)
        first = send_due()
        db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
        db.session.commit()
        second = send_due()
    finally:
        controller.stop()
        controller.loop.close()
    assert (first.uncertain, first.retried, second.handled) == (1, 0, 0)
    row = mail_row()
    assert row.status == MailStatus.UNCERTAIN and "perdue" in row.smtp_response
    assert handler.received == 1


def test_each_mail_is_serialised_once_and_sent_as_built(make_voter, smtp, monkeypatch):
    from flask_mail import Message

    from csudesk.mail import worker

    built = []

    def counting_compose(**parts):
        built.append(worker_compose(**parts))
        return built[-1]

    def no_second_serialisation(self):
        raise AssertionError("a Flask-Mail Message was serialised")

    worker_compose = worker.compose
    monkeypatch.setattr(worker, "compose", counting_compose)
    monkeypatch.setattr(Message, "as_bytes", no_second_serialisation)
    queue_one(make_voter, "marie@ac-lille.fr")
    queue_one(make_voter, "paul@ac-lille.fr")
    assert send_due().sent == 2
    smtp.wait_for(2)
    assert len(built) == 2
    assert [envelope.content for envelope in smtp.handler.envelopes] == [
        mail.content for mail in built
    ]
