"""Replies from a ticket without HTTP: recipients, what the text may hold, thread, outbox, audit."""

import json

import pytest
from sqlalchemy import delete, select

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.conversation.replies import (
    ReplyRefused,
    check_body,
    prepare_reply,
    reply_recipients,
    send_reply,
)
from csudesk.extensions import db
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.mail.worker import send_due
from csudesk.roll.models import VoterEmail
from csudesk.tickets import services as tickets
from csudesk.tickets.models import Channel, Status
from tests.fixtures.factories import csu, inbound_mail

ROLL = "marie.dupont@ac-lille.fr"
OTHER_ROLL = "m.dupont@ac-lille.fr"


@pytest.fixture
def actor(agent):
    return Actor.for_agent(agent, "192.0.2.40")


@pytest.fixture
def voter(make_voter):
    return make_voter(emails=(ROLL, OTHER_ROLL))


def phone_ticket(actor, voter=None, **contact):
    ticket = tickets.create_ticket(
        actor, csu=csu("AC-09"), category="autre", channel="telephone", voter=voter, **contact
    )
    db.session.commit()
    return ticket


def form_ticket(voter=None, email="marie.perso@laposte.net"):
    """A ticket the public contact form opened (no agent created it)."""
    ticket = tickets.create_ticket(
        Actor("public"),
        csu=csu("AC-09"),
        category="lien_non_recu",
        channel=Channel.FORM,
        voter=voter,
        contact_email=email,
        contact_first_name="Marie",
        contact_last_name="Dupont",
    )
    db.session.commit()
    return ticket


def outbox() -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_recipients_are_the_roll_the_contact_form_and_the_mails_that_came_in(voter):
    ticket = form_ticket(voter, email="Marie.Perso@LaPoste.net")
    inbound_mail(ticket, "marie.autre@gmail.com", "Mon lien", "<a1@gmail.com>")
    inbound_mail(ticket, ROLL, "Re: mon lien", "<a2@ac-lille.fr>")  # a roll address: once
    recipients = reply_recipients(ticket)
    assert [address for address, _ in recipients] == [
        ROLL,
        OTHER_ROLL,
        "marie.perso@laposte.net",
        "marie.autre@gmail.com",
    ]
    labels = dict(recipients)
    assert labels[ROLL] == "adresse de la liste électorale"
    assert labels["marie.perso@laposte.net"] == "adresse donnée sur le formulaire de contact"
    assert labels["marie.autre@gmail.com"].startswith("adresse d'où est venu le courriel du ")


def test_an_address_an_agent_noted_on_a_phone_ticket_is_never_a_recipient(actor, voter):
    ticket = phone_ticket(actor, voter, contact_email="dictee@gmail.com")
    assert [a for a, _ in reply_recipients(ticket)] == [ROLL, OTHER_ROLL]
    with pytest.raises(ReplyRefused) as refused:
        send_reply(actor, ticket, to="dictee@gmail.com", body="Bonjour.", resolve=False)
    assert refused.value.field == "to"
    assert outbox() == []


@pytest.mark.parametrize(
    "typed",
    ["pirate@example.org", "MARIE.DUPONT@ac-lille.fr\r\nBcc: x@example.org", "", "marie.dupont"],
)
def test_an_address_not_offered_is_refused_and_nothing_is_queued(actor, voter, typed):
    ticket = phone_ticket(actor, voter)
    with pytest.raises(ReplyRefused) as refused:
        send_reply(actor, ticket, to=typed, body="Bonjour.", resolve=False)
    assert refused.value.field == "to"
    db.session.rollback()
    assert outbox() == []
    assert [e.kind for e in ticket.events] == ["created"]


def test_an_offered_address_matches_after_normalisation(actor, voter):
    ticket = phone_ticket(actor, voter)
    send_reply(actor, ticket, to=" Marie.Dupont@AC-Lille.fr ", body="Bonjour.", resolve=False)
    assert [m.to_address for m in outbox()] == [ROLL]


def test_a_roll_address_removed_is_refused_then_cancelled_if_already_queued(actor, voter, smtp):
    ticket = phone_ticket(actor, voter)
    send_reply(actor, ticket, to=OTHER_ROLL, body="Bonjour.", resolve=False)
    db.session.commit()
    db.session.execute(delete(VoterEmail).where(VoterEmail.address == OTHER_ROLL))
    db.session.commit()
    with pytest.raises(ReplyRefused):
        send_reply(actor, ticket, to=OTHER_ROLL, body="Autre chose.", resolve=False)
    db.session.rollback()
    report = send_due()
    assert report.cancelled == 1 and smtp.messages == []
    (mail,) = outbox()
    assert mail.status == MailStatus.CANCELLED
    assert mail.smtp_response == "adresse retirée de la liste électorale"


def test_a_reply_queues_its_mail_notes_it_audits_it_and_the_ticket_waits(actor, agent, voter):
    ticket = phone_ticket(actor, voter)
    event = send_reply(actor, ticket, to=ROLL, body="  Bonjour,\r\nc'est fait.  ", resolve=False)
    db.session.commit()
    (mail,) = outbox()
    assert (event.kind, event.text, event.mail_id, event.agent_id) == (
        "reply",
        "Bonjour,\nc'est fait.",
        mail.id,
        agent.id,
    )
    assert (mail.template, mail.to_address, mail.voter_id, mail.ticket_id) == (
        "reply",
        ROLL,
        voter.id,
        ticket.id,
    )
    assert mail.sender_csu_id == ticket.csu_id and mail.status == MailStatus.PENDING
    assert mail.message_id.startswith(f"<outbox-{mail.id}.") and mail.message_id.endswith(">")
    assert mail.in_reply_to is None and mail.references is None
    context = json.loads(mail.context_json)
    assert context["topic"] == "Votre demande d'assistance" and context["reference"]
    assert ticket.status == Status.WAITING
    assert [e.kind for e in ticket.events] == ["created", "reply", "status"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.reply"))
    assert (entry.agent_id, entry.voter_id, entry.ticket_id) == (agent.id, voter.id, ticket.id)
    assert json.loads(entry.details) == {"mail_id": mail.id}


def test_resolve_after_sending(actor, voter):
    ticket = phone_ticket(actor, voter)
    send_reply(actor, ticket, to=ROLL, body="Tout est réglé.", resolve=True)
    assert ticket.status == Status.RESOLVED and ticket.resolved_at is not None


def test_a_reply_to_the_contact_form_address_leaves_though_it_is_not_on_the_roll(
    actor, voter, smtp
):
    ticket = form_ticket(voter, email="marie.perso@laposte.net")
    send_reply(actor, ticket, to="marie.perso@laposte.net", body="Bonjour.", resolve=False)
    db.session.commit()
    (mail,) = outbox()
    assert (mail.to_address, mail.voter_id, mail.ticket_id) == (
        "marie.perso@laposte.net",
        None,
        ticket.id,
    )
    assert send_due().sent == 1
    assert smtp.messages[0]["To"] == "marie.perso@laposte.net"


def test_a_reply_answers_the_last_mail_that_came_in_with_its_subject(actor, voter):
    ticket = form_ticket(None, email="marie.perso@laposte.net")
    first = inbound_mail(ticket, "marie.perso@laposte.net", "Mon lien", "<m1@laposte.net>")
    inbound_mail(
        ticket,
        "marie.perso@laposte.net",
        f"RE: Re : [CSU {ticket.reference}] Mon lien\r\n toujours pas",
        "<m2@laposte.net>",
    )
    send_reply(actor, ticket, to="marie.perso@laposte.net", body="Voici.", resolve=False)
    (mail,) = outbox()
    assert mail.voter_id is None  # not a roll address: the person's own
    assert (mail.in_reply_to, mail.references) == (
        "<m2@laposte.net>",
        "<m1@laposte.net> <m2@laposte.net>",
    )
    assert json.loads(mail.context_json)["topic"] == "Re: Mon lien toujours pas"
    # Answering the first message explicitly: the thread up to it.
    send_reply(
        actor, ticket, to="marie.perso@laposte.net", body="Autre.", resolve=False,
        in_reply_to_event=first,
    )  # fmt: skip
    assert (outbox()[1].in_reply_to, outbox()[1].references) == (
        "<m1@laposte.net>",
        "<m1@laposte.net>",
    )


def test_without_mail_in_a_reply_follows_our_last_reply(actor, voter):
    ticket = phone_ticket(actor, voter)
    send_reply(actor, ticket, to=ROLL, body="Premier.", resolve=False)
    send_reply(actor, ticket, to=ROLL, body="Second.", resolve=False)
    first, second = outbox()
    assert (second.in_reply_to, second.references) == (first.message_id, first.message_id)
    assert json.loads(second.context_json)["topic"] == "Votre demande d'assistance"


def test_an_event_of_another_ticket_is_not_a_message_to_answer(actor, voter):
    ticket, other = phone_ticket(actor, voter), form_ticket()
    foreign = inbound_mail(other, "marie.perso@laposte.net", "Autre", "<x@laposte.net>")
    with pytest.raises(ReplyRefused):
        send_reply(
            actor, ticket, to=ROLL, body="Bonjour.", resolve=False, in_reply_to_event=foreign
        )


def test_a_double_click_sends_one_reply(actor, voter):
    ticket = phone_ticket(actor, voter)
    first = send_reply(actor, ticket, to=ROLL, body="Bonjour.", resolve=False)
    db.session.commit()
    again = send_reply(actor, ticket, to=ROLL, body="Bonjour.", resolve=False)
    assert again.id == first.id and len(outbox()) == 1


def test_transferred_merged_and_out_of_scope_tickets_are_refused(actor, voter, make_agent):
    ticket = phone_ticket(actor, voter)
    kept = phone_ticket(actor, voter)
    ticket.status, ticket.merged_into_id = Status.MERGED, kept.id
    db.session.commit()
    with pytest.raises(ReplyRefused, match=f"fusionné dans le ticket {kept.reference}"):
        send_reply(actor, ticket, to=ROLL, body="Bonjour.", resolve=False)
    db.session.rollback()
    moved = phone_ticket(actor, voter)
    tickets.transfer(actor, moved, csu("AC-02"), "Mutée.")
    db.session.commit()
    versailles = Actor.for_agent(make_agent("agent.aix@csudesk.test", "agent", "AC-02"))
    with pytest.raises(ReplyRefused, match="transféré"):
        send_reply(versailles, moved, to=ROLL, body="Bonjour.", resolve=False)
    with pytest.raises(ReplyRefused, match="périmètre"):
        send_reply(versailles, kept, to=ROLL, body="Bonjour.", resolve=False)
    db.session.rollback()
    assert outbox() == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("   ", "Écrivez votre réponse"),
        ("x" * 5001, "dépasse 5000"),
        ("Bonjour {prenom},", "Complétez ou retirez {prenom}"),
        ("Cliquez : http://csudesk.test/activation/" + "a" * 43, "lien à usage unique"),
        ("Voici : csudesk.test/code-de-vote/AbCdEfGhIjKlMnOpQrSt", "lien à usage unique"),
        ("Jeton https://x.example/p/Zk3vQ9-aB7_cD1eF2gH3iJ4kL5mN6oP7qR8", "jeton"),
        ("Votre code est ABCD-EFGH-JKLM-NPQR.", "code de vote"),
        ("Votre code : abcd efgh jkmn pqrs", "code de vote"),
        ("Essayez Soleil2022! pour voir", "« Soleil2022! » ressemble"),
    ],
)
def test_what_a_reply_may_not_hold(body, says):
    with pytest.raises(ReplyRefused, match=says) as refused:
        check_body(body)
    assert refused.value.field == "body"


@pytest.mark.parametrize(
    "body",
    [
        "Pour changer votre mot de passe : ouvrez la page http://csudesk.test/mot-de-passe-refuse"
        " et suivez les étapes.",
        "Votre mot de passe élections est personnel : ne le donnez à personne.",
        "Votre demande 2026-000116 du 03/12/2026 (14h30-17h) : écrivez à csu@ac-lille.fr,"
        " UAI 0590001F, tél. 03 20 15 60 00.",
        "Vous pouvez recevoir un nouveau lien sur la page http://csudesk.test/lien-non-recu :"
        " renseignez votre identifiant électeur.",
    ],
)
def test_ordinary_help_passes(body):
    assert check_body(body) == body


def test_the_preview_is_the_mail_as_it_will_leave(actor, voter):
    ticket = phone_ticket(actor, voter)
    ticket.csu.email, ticket.csu.phone = "csu@ac-lille.fr", "03 20 15 60 00"
    draft = prepare_reply(actor, ticket, to=ROLL, body="Bonjour Marie & Paul <ok>,\nC'est fait.")
    assert draft.subject == f"[CSU {ticket.reference}] Votre demande d'assistance"
    assert draft.text.startswith("Bonjour Marie & Paul <ok>,\nC'est fait.\n\n-- \n")
    assert "Téléphone : 03 20 15 60 00" in draft.text and "répondez à ce message" in draft.text
    assert "Bonjour Marie &amp; Paul &lt;ok&gt;,<br>C&#39;est fait." in draft.html
    assert outbox() == []
