"""In a real browser: a réponse type goes in at the cursor (JavaScript on), then preview, send."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.tickets import services as tickets
from tests.fixtures.factories import AGENT_PASSWORD, response_template


def test_agent_answers_with_a_reponse_type_inserted_at_the_cursor(
    live_server, page, make_agent, make_voter
):
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09", "Luc Lille")
    voter = make_voter("Dupont", "Marie", emails=("marie.dupont@ac-lille.fr",))
    ticket = tickets.create_ticket(
        Actor.for_agent(agent), csu=voter.csu, category="autre", channel="telephone", voter=voter
    )
    response_template("Lien non reçu", "un nouveau lien : {lien_lien_non_recu}")
    db.session.commit()
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name=re.compile("Guichet")).wait_for()
    page.goto(f"{live_server.url}/guichet/tickets/{ticket.id}")
    page.get_by_role("link", name="Répondre par courriel").click()
    page.get_by_role("heading", name=re.compile("Répondre par courriel")).wait_for()
    page.wait_for_load_state()  # the deferred script is running: the insertion is in place
    body = page.get_by_label("Votre réponse")
    body.fill("Bonjour Marie, demandez FIN")
    body.evaluate(
        "t => { t.focus(); t.setSelectionRange(t.value.length - 3, t.value.length - 3); }"
    )
    page.get_by_label(re.compile("^Réponse type")).select_option(label="Lien non reçu")
    page.get_by_role("button", name="Insérer").click()
    expected = f"Bonjour Marie, demandez un nouveau lien : {live_server.url}/lien-non-recuFIN"
    assert body.input_value() == expected  # in place, no round trip
    expect(page.locator("[data-insert-status]")).to_have_text("Réponse type insérée.")
    body.fill("Bonjour Marie,\nvoici la page : " + live_server.url + "/lien-non-recu")
    page.get_by_role("button", name="Prévisualiser").click()
    page.get_by_role("heading", name=re.compile("Aperçu de la réponse")).wait_for()
    assert f"[CSU {ticket.reference}] Votre demande d'assistance" in page.content()
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("heading", name=f"Ticket {ticket.reference}").wait_for()
    assert "Réponse mise en file d'envoi" in page.get_by_role("status").first.inner_text()
    db.session.expire_all()
    (mail,) = db.session.scalars(select(OutboxMail)).all()
    assert mail.to_address == "marie.dupont@ac-lille.fr"
    assert '"body": "Bonjour Marie,\\nvoici la page' in mail.context_json
