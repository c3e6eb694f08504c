"""The whole conversation in a real browser, with a real SMTP server and a real Dovecot:
a voter writes through the contact form; the agent finds the ticket by the receipt's reference
and answers with a réponse type; the voter's answer, arriving in the CSU mailbox, joins the
ticket and puts it back to "Ouvert"; the agent resolves it."""

import re
from email.message import EmailMessage

from sqlalchemy import select

from csudesk.conversation import fetcher
from csudesk.conversation.mailboxes import parse_mailbox
from csudesk.conversation.response_templates import seed_national
from csudesk.directory.services import set_contact, upsert_establishment
from csudesk.extensions import db
from csudesk.mail.worker import send_due
from csudesk.tickets.models import Status, Ticket
from tests.fixtures.factories import AGENT_PASSWORD

VOTER = "paul.martin@ac-versailles.fr"
CSU_ADDRESS = "csu@ac-versailles.example"


def test_contact_form_reply_with_a_reponse_type_answer_by_mail_then_resolved(
    directory, live_server, page, _browser, app, make_agent, smtp, imap
):
    app.config["CONTACT_MIN_FILL_SECONDS"] = 1
    upsert_establishment("0783774D", name="Collège André Chénier", city="Mantes-la-Jolie")
    set_contact("AC-25", email=CSU_ADDRESS, phone="01 30 83 44 44", hours="9 h – 17 h")
    agent = make_agent("agent.versailles@csudesk.test", "agent", "AC-25", "Lucie Versailles")
    seed_national()
    db.session.commit()

    # The voter writes.
    voter = _browser.new_context(locale="fr-FR").new_page()
    voter.goto(live_server.url + "/nous-ecrire")
    voter.get_by_label("Nom ou ville de l'établissement").fill("andré chénier")
    voter.get_by_role("button", name="Rechercher l'établissement").click()
    voter.get_by_text("Collège André Chénier (Mantes-la-Jolie)").click()
    voter.get_by_label("Adresse de messagerie professionnelle").fill(VOTER)
    voter.get_by_role("textbox", name="Nom", exact=True).fill("Martin")
    voter.get_by_label("Prénom").fill("Paul")
    voter.get_by_label("Votre difficulté").select_option(label="Lien non reçu")
    voter.get_by_label("Votre message").fill("Je n'ai jamais reçu le lien d'activation.")
    voter.get_by_text("J'accepte d'être recontacté").click()
    voter.wait_for_timeout(1100)
    voter.get_by_role("button", name="Envoyer ma demande").click()
    voter.get_by_role("heading", name="Votre demande est envoyée").wait_for()
    reference = re.search(r"\d{4}-\d{6}", voter.get_by_role("status").inner_text()).group(0)

    # The agent finds it by the reference the voter was told to keep, and answers.
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name=re.compile("Guichet")).wait_for()
    search = page.get_by_role("textbox", name=re.compile("ou référence de ticket"))
    search.fill(f"[CSU {reference}]")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    page.get_by_role("heading", name=f"Ticket {reference}").wait_for()
    page.get_by_role("link", name="Répondre par courriel").click()
    page.locator("label", has_text=VOTER).first.click()
    page.get_by_label(re.compile("^Réponse type")).select_option(label="Lien d'activation non reçu")
    page.get_by_role("button", name="Insérer").click()
    body = page.get_by_label("Votre réponse")
    assert "Bonjour Paul Martin" in body.input_value()
    assert f"{live_server.url}/lien-non-recu" in body.input_value()
    page.get_by_role("button", name="Prévisualiser").click()
    page.get_by_role("heading", name=re.compile("Aperçu de la réponse")).wait_for()
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("heading", name=f"Ticket {reference}").wait_for()
    assert "En attente" in page.content()

    send_due()
    db.session.commit()
    (sent,) = smtp.wait_for(1)
    assert sent["To"] == VOTER
    assert sent["Reply-To"] == CSU_ADDRESS
    assert f"[CSU {reference}]" in sent["Subject"]
    assert "Bonjour Paul Martin" in sent.get_body(("plain",)).get_content()

    # The voter answers from their mail client; the answer reaches the CSU mailbox.
    answer = EmailMessage()
    answer["From"] = f"Paul Martin <{VOTER}>"
    answer["To"] = CSU_ADDRESS
    answer["Subject"] = f"Re: {sent['Subject']}"
    answer["Message-ID"] = "<reponse-paul@ac-versailles.fr>"
    answer["In-Reply-To"] = sent["Message-ID"]
    answer["References"] = sent["Message-ID"]
    answer.set_content("Merci, le nouveau lien est bien arrivé mais il a expiré.\n")
    imap.append(bytes(answer))
    mailbox = parse_mailbox("AC-25", imap.config(csu="AC-25"), instance_path=None, environ={})
    report = fetcher.fetch_mailbox(mailbox)
    assert report.imported == 1

    page.reload()
    page.get_by_role("heading", name=f"Ticket {reference}").wait_for()
    history = page.locator("#historique").inner_text()
    assert "le nouveau lien est bien arrivé mais il a expiré" in history
    assert VOTER in history
    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
    assert ticket.status == Status.OPEN
    db.session.rollback()  # the test's read ends before the browser writes

    page.get_by_label("Statut").select_option(label="Résolu")
    page.get_by_role("button", name="Changer le statut").click()
    page.get_by_role("heading", name=f"Ticket {reference}").wait_for()
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == Status.RESOLVED
