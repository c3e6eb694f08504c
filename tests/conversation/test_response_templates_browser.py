"""A supervisor keeps réponses types in chromium: without JavaScript tricks, CSRF on, at 320 px."""

import pytest
from sqlalchemy import select

from csudesk.conversation.models import ResponseTemplate
from csudesk.conversation.response_templates import seed_national
from csudesk.extensions import db
from tests.fixtures.factories import AGENT_PASSWORD

pytestmark = pytest.mark.browser

# Elements that scroll sideways (the CSP forbids Playwright's eval of an expression string).
SCROLLERS = """() => [...document.querySelectorAll('body *')].filter(e => {
  const s = getComputedStyle(e);
  return ['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1
    && e.getClientRects().length;
}).map(e => ({tag: e.tagName, tabindex: e.getAttribute('tabindex'),
  role: e.getAttribute('role'), name: e.getAttribute('aria-label')}))"""


def test_a_csu_supervisor_writes_fixes_and_deactivates_a_template(live_server, page, make_agent):
    supervisor = make_agent("sophie.sup@csudesk.test", "supervisor", "AC-09", "Sophie Lille")
    seed_national()
    db.session.commit()
    url = live_server.url
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(url + "/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(supervisor.email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(url + "/supervision/reponses-types")
    page.get_by_role("link", name="Nouvelle réponse type").click()
    page.get_by_label("Titre").fill("Horaires de la cellule")
    page.get_by_label("Situation").select_option("autre")
    page.get_by_label("Texte").fill("Bonjour {prenom},\n\nNous répondons {horaires}.\n\n{csu}")
    page.get_by_role("button", name="Créer la réponse type").click()
    # Refused on the field, what was typed kept, the placeholders listed beside it.
    error = page.locator("#body-messages")
    error.wait_for()
    assert "Variable inconnue : {horaires}." in error.inner_text()
    assert page.get_by_label("Texte").get_attribute("aria-invalid") == "true"
    assert page.locator("#aide-variables").get_by_text("{csu_horaires}").is_visible()
    text = page.get_by_label("Texte").input_value()
    page.get_by_label("Texte").fill(text.replace("{horaires}", "{csu_horaires}"))
    page.get_by_role("button", name="Créer la réponse type").click()
    page.get_by_role("status").get_by_text(
        "Réponse type « Horaires de la cellule » créée."
    ).wait_for()

    for path in ("/supervision/reponses-types", "/supervision/reponses-types/nouvelle"):
        page.goto(url + path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 320, (path, scroll_width)
        for box in page.evaluate(SCROLLERS):
            assert box["tabindex"] == "0" and box["role"] == "region" and box["name"], box
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url + "/supervision/reponses-types")
    national = page.get_by_role("region", name="Tableau des réponses types nationales")
    assert national.get_by_role("button").count() == 0  # read-only for a cell
    page.get_by_role("button", name="Désactiver « Horaires de la cellule »").click()
    page.get_by_role("status").get_by_text("désactivée").wait_for()
    template = db.session.scalar(
        select(ResponseTemplate).where(ResponseTemplate.title == "Horaires de la cellule")
    )
    assert template.body == "Bonjour {prenom},\n\nNous répondons {csu_horaires}.\n\n{csu}"
    assert not template.active and template.csu.code == "AC-09"
