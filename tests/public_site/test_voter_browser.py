"""A voter in a real browser with JavaScript switched off: self-service and contact form."""

import re

import pytest
from sqlalchemy import select

from csudesk.directory.services import set_contact, upsert_establishment
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.selfservice import services as selfservice
from csudesk.tickets.models import Ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def no_js_page(_browser):
    context = _browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_voter_asks_for_a_new_link_without_javascript(make_voter, live_server, no_js_page):
    page = no_js_page
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Recevoir un nouveau lien").click()
    page.get_by_label("Adresse de messagerie professionnelle").fill("marie.dupont@ac-lille")
    page.get_by_role("button", name="Recevoir un nouveau lien").click()
    assert (
        "Saisissez une adresse électronique complète"
        in page.locator("#email-messages").inner_text()
    )
    page.get_by_label("Adresse de messagerie professionnelle").fill("marie.dupont@ac-lille.fr")
    page.get_by_role("button", name="Recevoir un nouveau lien").click()
    assert page.get_by_role("heading", name="Demande enregistrée").is_visible()
    assert "marie.dupont@ac-lille.fr" in page.get_by_role("status").inner_text()
    assert selfservice.process_pending().processed == 1
    mail = db.session.scalar(select(OutboxMail))
    assert (mail.to_address, mail.voter_id) == ("marie.dupont@ac-lille.fr", voter.id)


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
    page.get_by_label("Adresse de messagerie professionnelle").fill("paul.martin@ac-versailles.fr")
    page.get_by_role("textbox", name="Nom", exact=True).fill("Martin")
    page.get_by_label("Prénom").fill("Paul")
    page.get_by_label("Nom ou ville de l'établissement").fill("andré chénier")
    page.get_by_role("button", name="Rechercher l'établissement").click()
    page.get_by_text("Nouveau collège André Chénier (Mantes-la-Jolie)").click()  # DSFR radio
    assert page.get_by_label(re.compile("Nouveau collège André Chénier")).is_checked()
    # Nothing typed is lost by the search step.
    assert page.get_by_role("textbox", name="Nom", exact=True).input_value() == "Martin"
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
