"""The main flow in a real browser: find a voter, resend the link, open the mailed link,
set the password, see the voter as activated (mail read from a real SMTP server)."""

import re

import pytest

from csudesk.extensions import db
from csudesk.mail.worker import send_due
from tests.fixtures.factories import AGENT_PASSWORD

pytestmark = pytest.mark.browser


def test_agent_resends_activation_and_voter_activates(
    live_server, page, _browser, make_agent, make_voter, smtp
):
    agent = make_agent("anne.agent@csudesk.test", "agent", "AC-09")
    voter = make_voter(
        "DUPONT", "Marie", emails=("marie.dupont@ac-lille.fr", "m.dupont@ac-lille.fr")
    )
    db.session.commit()

    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name=re.compile("Guichet")).wait_for()

    page.get_by_label("Adresse électronique professionnelle").fill("  M.Dupont@ac-lille.fr ")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    page.get_by_role("heading", name="DUPONT Marie").wait_for()
    assert page.get_by_text("Non activé").is_visible()
    # the DSFR draws the radio on its label: a person clicks the label
    page.locator("label", has_text="m.dupont@ac-lille.fr").first.click()
    assert page.get_by_label("m.dupont@ac-lille.fr").first.is_checked()
    page.get_by_role("button", name="Renvoyer le lien d'activation").click()
    assert (
        "mis en file d'envoi vers m.dupont@ac-lille.fr"
        in page.get_by_role("status").first.inner_text()
    )

    send_due()
    db.session.commit()
    (message,) = smtp.wait_for(1)
    assert message["To"] == "m.dupont@ac-lille.fr"
    url = re.search(
        r"http://\S+/activation/[\w-]+", message.get_body(("plain",)).get_content()
    ).group(0)

    voter_context = _browser.new_context(locale="fr-FR")
    voter_page = voter_context.new_page()
    voter_page.goto(url)
    assert voter_page.url == live_server.url + "/activation"  # the token left the address bar
    voter_page.get_by_label("Nouveau mot de passe « élections »").fill("une longue phrase de passe")
    voter_page.get_by_label("Confirmez le mot de passe").fill("une longue phrase de passe")
    voter_page.get_by_label("Question personnelle (défi)").select_option("animal")
    voter_page.get_by_label("Réponse à la question").fill("Médor")
    voter_page.get_by_role("button", name="Activer mon compte").click()
    voter_page.get_by_role("heading", name="Votre compte électeur est activé").wait_for()
    voter_context.close()

    page.reload()
    assert page.get_by_text(re.compile(r"Activé le \d\d/\d\d/\d{4}")).is_visible()
    assert page.get_by_role("cell", name="utilisé", exact=False).first.is_visible()
    assert voter.id
