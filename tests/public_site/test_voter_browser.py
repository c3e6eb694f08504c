"""A voter in a real browser with JavaScript switched off: self-service and contact form."""

import re

import pytest
from sqlalchemy import select

from csudesk.access import worker
from csudesk.directory.services import set_contact, upsert_establishment
from csudesk.extensions import db
from csudesk.mail.worker import send_due
from csudesk.roll.models import Voter
from csudesk.tickets.models import Ticket
from tests.fixtures.smtp import text_of

pytestmark = pytest.mark.browser


@pytest.fixture
def no_js_page(_browser):
    context = _browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_voter_gets_a_new_link_and_activates_alone_without_javascript(
    make_voter, live_server, no_js_page, smtp
):
    page = no_js_page
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Recevoir un nouveau lien").click()
    page.get_by_label("Adresse de messagerie professionnelle").fill("marie.dupont@ac-lille")
    page.get_by_role("button", name="Recevoir un nouveau lien").click()
    assert "adresse électronique complète" in page.locator("#email-messages").inner_text()
    page.get_by_label("Adresse de messagerie professionnelle").fill("marie.dupont@ac-lille.fr")
    page.get_by_role("button", name="Recevoir un nouveau lien").click()
    assert page.get_by_role("heading", name="Demande enregistrée").is_visible()
    assert "marie.dupont@ac-lille.fr" in page.get_by_role("status").inner_text()

    # What `flask --app csudesk mail send --watch` does in the background.
    assert worker.process_pending().processed == 1
    assert send_due().sent == 1
    (message,) = smtp.wait_for(1)
    assert message["To"] == "marie.dupont@ac-lille.fr"
    url = re.search(r"http://\S+/activation/[\w-]+", text_of(message)).group(0)
    page.goto(url)
    page.get_by_label("Nouveau mot de passe « élections »").fill("une longue phrase de passe")
    page.get_by_label("Confirmez le mot de passe").fill("une longue phrase de passe")
    page.get_by_label("Question personnelle (défi)").select_option("animal")
    page.get_by_label("Réponse à la question").fill("Médor")
    page.get_by_role("button", name="Activer mon compte").click()
    page.get_by_role("heading", name="Votre compte électeur est activé").wait_for()
    db.session.expire_all()
    assert db.session.get(Voter, voter.id).account.is_activated


def test_voter_writes_to_the_csu_finding_the_establishment_by_name(
    directory, live_server, no_js_page, app
):
    page = no_js_page
    app.config["CONTACT_MIN_FILL_SECONDS"] = 1
    upsert_establishment("0783774D", name="Nouveau collège André Chénier", city="Mantes-la-Jolie")
    set_contact("AC-25", email="csu@ac-versailles.example")
    db.session.commit()

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Écrire à ma cellule de soutien").first.click()
    # The search (a GET of its own) comes first on the page: nothing is typed before it.
    page.get_by_label("Nom ou ville de l'établissement").fill("andré chénier")
    page.get_by_role("button", name="Rechercher l'établissement").click()
    assert page.get_by_label("Nom ou ville de l'établissement").input_value() == "andré chénier"
    page.get_by_text("Nouveau collège André Chénier (Mantes-la-Jolie)").click()  # DSFR radio
    assert page.get_by_label(re.compile("Nouveau collège André Chénier")).is_checked()
    page.get_by_label("Adresse de messagerie professionnelle").fill("paul.martin@ac-versailles.fr")
    page.get_by_role("textbox", name="Nom", exact=True).fill("Martin")
    page.get_by_label("Prénom").fill("Paul")
    page.get_by_label("Votre difficulté").select_option(label="Mot de passe refusé")
    page.get_by_label("Votre message").fill("Mon mot de passe : Azerty2026! est refusé.")
    page.get_by_text("J'accepte d'être recontacté").click()
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Envoyer ma demande").click()

    assert page.get_by_role("heading", name="Votre demande est envoyée").is_visible()
    reference = re.search(r"\d{4}-\d{6}", page.get_by_role("status").inner_text()).group(0)
    assert page.get_by_role("heading", name="CSU — Académie de Versailles").is_visible()
    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.reference, ticket.csu.code, ticket.contact_uai) == (
        reference,
        "AC-25",
        "0783774D",
    )
    assert "Azerty2026" not in ticket.message
