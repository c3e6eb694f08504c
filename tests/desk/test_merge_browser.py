"""In a real browser: open a ticket by its reference, merge its duplicate into it."""

import re

import pytest

from csudesk.extensions import db
from tests.fixtures.browser import sign_in_desk
from tests.fixtures.factories import AGENT_PASSWORD, phone_ticket

pytestmark = pytest.mark.browser


def test_find_a_ticket_by_reference_and_merge_its_duplicate(
    live_server, page, make_agent, make_voter
):
    agent = make_agent("anne.agent@csudesk.test", "agent", "AC-09", "Anne Agent")
    voter = make_voter("DUPONT", "Marie")
    kept = phone_ticket(agent, voter=voter)
    duplicate = phone_ticket(agent, voter=voter)
    db.session.commit()

    sign_in_desk(page, live_server.url, agent.email, AGENT_PASSWORD)

    page.get_by_label("Adresse électronique professionnelle ou référence de ticket").fill(
        f"[CSU {duplicate.reference}]"
    )
    page.get_by_role("button", name="Rechercher", exact=True).click()
    page.get_by_role("heading", name=f"Ticket {duplicate.reference}").wait_for()

    page.get_by_label("Ticket à conserver").select_option(str(kept.id))
    page.get_by_label("Motif de la fusion").fill("Même appel, deux tickets.")
    page.locator("label", has_text="Je confirme : ce ticket sera fermé").click()
    page.screenshot(path="/tmp/deskextras-merge-form.png", full_page=True)
    page.get_by_role("button", name="Fusionner").click()
    page.get_by_role("heading", name=f"Ticket {kept.reference}").wait_for()
    assert f"fusionné dans {kept.reference}" in page.get_by_role("status").first.inner_text()
    assert page.get_by_text(f"ticket fusionné {duplicate.reference}").first.is_visible()

    page.goto(live_server.url + "/guichet/")
    page.get_by_label("Adresse électronique professionnelle ou référence de ticket").fill(
        duplicate.reference
    )
    page.get_by_role("button", name="Rechercher", exact=True).click()
    page.get_by_role("heading", name=f"Ticket {kept.reference}").wait_for()
    page.goto(live_server.url + f"/guichet/tickets/{duplicate.id}")
    page.get_by_role("heading", name=re.compile("Ce ticket a été fusionné dans")).wait_for()
    page.screenshot(path="/tmp/deskextras-merged.png", full_page=True)
    assert page.get_by_role("button", name="Ajouter la note").count() == 0
