"""A reply as a real SMTP server receives it: sender, Reply-To, subject, thread, both parts."""

from email.utils import parseaddr

from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.conversation.replies import send_reply
from csudesk.extensions import db
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.mail.worker import send_due
from csudesk.tickets import services as tickets
from csudesk.tickets.models import Channel
from tests.fixtures.factories import csu, inbound_mail
from tests.fixtures.smtp import text_of

BODY = "Bonjour Marie,\n\nVotre lien est reparti ce matin.\nÀ bientôt <ou pas> & merci."


def test_the_reply_leaves_from_the_csu_in_the_voters_thread(agent, make_voter, smtp):
    lille = csu("AC-09")
    lille.email, lille.phone = "csu-elections@ac-lille.fr", "03 20 15 60 00"
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    ticket = tickets.create_ticket(
        Actor("public"), csu=lille, category="lien_non_recu", channel=Channel.FORM, voter=voter,
        contact_email="marie.dupont@ac-lille.fr",
    )  # fmt: skip
    db.session.commit()
    inbound_mail(ticket, "marie.dupont@ac-lille.fr", "Lien jamais reçu", "<q1@ac-lille.fr>")
    send_reply(
        Actor.for_agent(agent), ticket, to="marie.dupont@ac-lille.fr", body=BODY, resolve=False
    )
    db.session.commit()
    assert send_due().sent == 1
    (message,) = smtp.messages
    row = db.session.scalar(select(OutboxMail))
    assert row.status == MailStatus.SENT
    assert parseaddr(message["From"]) == (lille.name, "csu-elections@ac-lille.fr")
    assert message["Reply-To"] == "csu-elections@ac-lille.fr"
    assert message["To"] == "marie.dupont@ac-lille.fr"
    assert message["Subject"] == f"[CSU {ticket.reference}] Re: Lien jamais reçu"
    assert message["Message-ID"] == row.message_id
    assert message["In-Reply-To"] == "<q1@ac-lille.fr>"
    assert message["References"] == "<q1@ac-lille.fr>"
    text = text_of(message).replace("\r\n", "\n")
    assert text.startswith(BODY + "\n\n-- \n" + lille.name + "\n")
    assert "Téléphone : 03 20 15 60 00" in text
    assert "N'y répondez pas" not in text and "répondez à ce message" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<p>Bonjour Marie,</p>" in html
    assert (
        "<p>Votre lien est reparti ce matin.<br>À bientôt &lt;ou pas&gt; &amp; merci.</p>" in html
    )
    assert smtp.handler.envelopes[0].rcpt_tos == ["marie.dupont@ac-lille.fr"]


def test_without_a_csu_address_the_reply_leaves_from_the_site_and_says_where_to_write(
    agent, make_voter, smtp
):
    voter = make_voter(emails=("paul.durand@ac-lille.fr",))
    ticket = tickets.create_ticket(
        Actor.for_agent(agent), csu=csu("AC-09"), category="autre", channel="telephone",
        voter=voter,
    )  # fmt: skip
    db.session.commit()
    send_reply(
        Actor.for_agent(agent), ticket, to="paul.durand@ac-lille.fr", body="Bonjour.", resolve=True
    )
    db.session.commit()
    assert send_due().sent == 1
    (message,) = smtp.messages
    assert parseaddr(message["From"])[1] == "ne-pas-repondre@csudesk.example"
    assert message["Reply-To"] is None and message["In-Reply-To"] is None
    assert message["Subject"] == f"[CSU {ticket.reference}] Votre demande d'assistance"
    assert "http://csudesk.test/nous-ecrire" in text_of(message)
