"""Delivery-status notifications mark our mail "rejetée", on the voter file and the ticket."""

import pytest
from sqlalchemy import select, update

from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.conversation.bounces import UNMATCHED
from csudesk.conversation.models import InboundStatus
from csudesk.extensions import db
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.mail.verp import bounce_address, mail_id_of_bounce_address
from csudesk.mail.worker import send_due
from csudesk.tickets.models import Status, Ticket, TicketEvent
from csudesk.tickets.services import change_status, create_ticket
from tests.fixtures.inbound import dsn, receive

ADDRESS = "marie@ac-lille.fr"
BOUNCES = "retours@csudesk.example"


@pytest.fixture
def app_config(app_config):
    app_config["MAIL_BOUNCE_ADDRESS"] = BOUNCES
    return app_config


@pytest.fixture
def sent(make_voter, agent):
    """A link mail of a waiting ticket, accepted by the SMTP server."""
    voter = make_voter(emails=(ADDRESS,))
    actor = Actor.for_agent(agent)
    ticket = create_ticket(
        actor, csu=voter.csu, category="lien_non_recu", channel="telephone", voter=voter
    )
    resend_activation_link(actor, voter, ADDRESS, ticket)
    change_status(actor, ticket, Status.WAITING)
    mail = db.session.scalar(select(OutboxMail))
    db.session.execute(
        update(OutboxMail).values(status=MailStatus.SENT, smtp_response="250 OK queued as test")
    )
    db.session.commit()
    db.session.refresh(mail)
    return mail


def ticket_kinds(ticket_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(TicketEvent.kind)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.id)
        )
    )


def test_a_bounce_to_the_verp_address_marks_the_mail_rejected(sent):
    inbound = receive(dsn(to=bounce_address(sent.id)))
    db.session.refresh(sent)
    assert sent.status == MailStatus.BOUNCED and sent.bounced_at is not None
    assert sent.status_label == "rejetée : adresse inconnue"
    assert (inbound.status, inbound.outbox_mail_id) == (InboundStatus.BOUNCE, sent.id)
    event = db.session.scalar(select(TicketEvent).where(TicketEvent.kind == "bounce"))
    assert (event.ticket_id, event.mail_id) == (sent.ticket_id, sent.id)
    assert event.text.startswith(f"Courriel à {ADDRESS} rejeté : adresse inconnue")
    ticket = db.session.get(Ticket, sent.ticket_id)
    assert ticket.status == Status.WAITING  # never reopened
    assert len(db.session.scalars(select(Ticket)).all()) == 1  # never opened
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mail.bounce"))
    assert (entry.actor, entry.voter_id, entry.ticket_id) == ("system", sent.voter_id, ticket.id)
    assert db.session.scalar(select(OutboxMail).where(OutboxMail.id != sent.id)) is None


def test_a_forged_verp_address_matches_nothing(sent):
    genuine = bounce_address(sent.id)
    mac = genuine.split("-")[-1].split("@")[0]
    forged = genuine.replace(mac, "0" * 8 if mac != "0" * 8 else "1" * 8)
    assert mail_id_of_bounce_address(forged) is None
    other = genuine.replace(f"+{sent.id}-", f"+{sent.id + 1}-")
    assert mail_id_of_bounce_address(other) is None
    inbound = receive(dsn(to=forged))
    db.session.refresh(sent)
    assert sent.status == MailStatus.SENT
    assert (inbound.status, inbound.reason, inbound.outbox_mail_id) == (
        InboundStatus.BOUNCE,
        UNMATCHED,
        None,
    )
    assert ticket_kinds(sent.ticket_id)[-1] == "status"


def test_a_bounce_is_matched_by_the_returned_message_id(sent, app):
    app.config["MAIL_BOUNCE_ADDRESS"] = None
    receive(dsn(to="ne-pas-repondre@csudesk.example", original_message_id=sent.message_id))
    db.session.refresh(sent)
    assert sent.status == MailStatus.BOUNCED


def test_the_returned_message_itself_is_read_too(sent):
    receive(dsn(original_message_id=sent.message_id, returned="message"))
    db.session.refresh(sent)
    assert sent.status == MailStatus.BOUNCED


@pytest.mark.parametrize(
    ("status", "diagnostic", "reason"),
    [
        ("5.1.1", "smtp; 550 5.1.1 User unknown", "adresse inconnue"),
        ("5.2.2", "smtp; 552 5.2.2 Mailbox full", "boîte pleine"),
        ("4.2.2", "smtp; 452 4.2.2 Over quota", "boîte pleine"),
        (
            "5.7.1",
            "smtp; 550 5.7.1 Message refused as spam",
            "refusé par le serveur destinataire (5.7.1 ; 550 5.7.1 Message refused as spam)",
        ),
    ],
)
def test_the_reason_says_why_in_french(sent, status, diagnostic, reason):
    receive(dsn(to=bounce_address(sent.id), status=status, diagnostic=diagnostic))
    db.session.refresh(sent)
    assert (sent.status, sent.bounce_reason) == (MailStatus.BOUNCED, reason)


def test_a_long_diagnostic_is_truncated(sent):
    receive(dsn(to=bounce_address(sent.id), status="5.0.0", diagnostic="smtp; 550 " + "x" * 900))
    db.session.refresh(sent)
    assert len(sent.bounce_reason) < 200 and sent.bounce_reason.endswith("…)")


def test_a_delayed_notice_is_noted_but_does_not_reject(sent):
    inbound = receive(dsn(to=bounce_address(sent.id), action="delayed", status="4.4.1"))
    db.session.refresh(sent)
    assert sent.status == MailStatus.SENT and sent.bounce_reason is None
    assert inbound.status == InboundStatus.BOUNCE and inbound.outbox_mail_id == sent.id
    assert "retardée" in inbound.reason
    assert "bounce" not in ticket_kinds(sent.ticket_id)


def test_a_second_notice_for_the_same_mail_adds_nothing(sent):
    receive(dsn(to=bounce_address(sent.id)))
    second = receive(dsn(to=bounce_address(sent.id)))
    assert "déjà marqué rejeté" in second.reason
    assert ticket_kinds(sent.ticket_id).count("bounce") == 1


def test_a_notice_for_a_mail_still_waiting_to_leave_is_ignored(sent):
    db.session.execute(update(OutboxMail).values(status=MailStatus.PENDING))
    db.session.commit()
    inbound = receive(dsn(to=bounce_address(sent.id)))
    db.session.refresh(sent)
    assert sent.status == MailStatus.PENDING and "jamais remis" in inbound.reason


def test_a_notice_matching_nothing_opens_no_ticket(app, directory):
    inbound = receive(dsn(original_message_id="<inconnu@ailleurs.example>"))
    assert (inbound.status, inbound.reason) == (InboundStatus.BOUNCE, UNMATCHED)
    assert db.session.scalar(select(Ticket)) is None


def test_a_mailer_daemon_text_without_report_opens_no_ticket(app, directory):
    raw = (
        b"From: MAILER-DAEMON@vieux.example\r\nTo: retours@csudesk.example\r\n"
        b"Subject: failure notice\r\n\r\nSorry, I couldn't deliver your message.\r\n"
    )
    inbound = receive(raw)
    assert inbound.status == InboundStatus.BOUNCE and "hors norme" in inbound.reason
    assert db.session.scalar(select(Ticket)) is None


def test_mail_leaves_with_its_verp_envelope_sender(make_voter, smtp):
    voter = make_voter(emails=(ADDRESS,))
    resend_activation_link(Actor.system(), voter, ADDRESS)
    db.session.commit()
    assert send_due().sent == 1
    mail = db.session.scalar(select(OutboxMail))
    (envelope,) = smtp.handler.envelopes
    assert envelope.mail_from == bounce_address(mail.id)
    assert envelope.mail_from.startswith(f"retours+{mail.id}-")
    assert mail_id_of_bounce_address(envelope.mail_from) == mail.id
    assert smtp.messages[0]["From"].addresses[0].addr_spec == "ne-pas-repondre@csudesk.example"


def test_without_a_bounce_address_mail_leaves_from_its_sender(make_voter, smtp, app):
    app.config["MAIL_BOUNCE_ADDRESS"] = None
    voter = make_voter(emails=(ADDRESS,))
    resend_activation_link(Actor.system(), voter, ADDRESS)
    db.session.commit()
    assert send_due().sent == 1
    assert smtp.handler.envelopes[0].mail_from == "ne-pas-repondre@csudesk.example"


def test_the_voter_file_and_the_ticket_show_the_rejection(client, lille, sent):
    receive(dsn(to=bounce_address(sent.id)))
    voter_page = client.get(f"/guichet/electeurs/{sent.voter_id}").text
    assert "rejetée : adresse inconnue" in voter_page
    assert "250 OK" not in voter_page
    ticket_page = client.get(f"/guichet/tickets/{sent.ticket_id}").text
    assert "courriel rejetée : adresse inconnue" in ticket_page
    assert f"Courriel à {ADDRESS} rejeté : adresse inconnue" in ticket_page
