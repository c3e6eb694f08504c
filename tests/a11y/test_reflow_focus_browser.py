"""Reflow at 320 px, focus after an action, skip links and scroll regions, in chromium."""

import pytest

from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.tickets.services import add_note, create_ticket
from tests.fixtures.factories import AGENT_PASSWORD

pytestmark = pytest.mark.browser

# A long address without a break opportunity, as rolls have them.
LONG = "marie-christine.delafontaine-dupont-aignan@ac-lille.fr"

# A function, not an expression: the CSP (script-src 'self') forbids Playwright's eval.
FOCUSED_CONFIRMATION = (
    "() => document.activeElement && document.activeElement.id === 'confirmation'"
)

# Elements that scroll sideways, and whether a keyboard user can reach them.
SCROLLERS = """() => [...document.querySelectorAll('body *')].filter(e => {
  const s = getComputedStyle(e);
  return ['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1
    && e.getClientRects().length;
}).map(e => ({tag: e.tagName, tabindex: e.getAttribute('tabindex'),
  role: e.getAttribute('role'),
  name: e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')}))"""


@pytest.fixture
def desk(live_server, page, make_agent, make_voter):
    agent = make_agent("anne.agent@csudesk.test", "agent", "AC-09", "Anne Agent")
    voter = make_voter("DELAFONTAINE", "Marie-Christine", emails=(LONG, "mc.d@ac-lille.fr"))
    voter_activated = make_voter("LONGUENOM", "Jean", emails=(LONG.replace("marie", "jean"),))
    ticket = create_ticket(
        Actor.for_agent(agent, "127.0.0.1"),
        csu=voter.csu,
        category="lien_non_recu",
        channel="telephone",
        voter=voter,
    )
    db.session.commit()
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Guichet — Académie de Lille").wait_for()
    return live_server.url, voter, voter_activated, ticket, agent


def test_voter_file_and_ticket_page_reflow_at_320_px(desk, page):
    url, voter, other, ticket, agent = desk
    # a link in the table too, so that the wide table is there
    page.goto(f"{url}/guichet/electeurs/{voter.id}")
    page.locator("label", has_text="mc.d@ac-lille.fr").first.click()
    page.get_by_role("button", name="Renvoyer le lien d'activation").click()
    page.get_by_role("status").first.wait_for()
    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        for path in (
            f"/guichet/electeurs/{voter.id}",
            f"/guichet/electeurs/{other.id}",
            f"/guichet/tickets/{ticket.id}",
            "/guichet/tickets",
        ):
            page.goto(url + path)
            for summary in page.locator("details > summary").all():
                summary.click()  # the ticket choices folded under the one-press form
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= width, (path, width, scroll_width)
            # What scrolls sideways is a table region a keyboard can reach, and it is named.
            for box in page.evaluate(SCROLLERS):
                assert box["tabindex"] == "0" and box["role"] == "region" and box["name"], (
                    path,
                    width,
                    box,
                )
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{url}/guichet/electeurs/{voter.id}")
    region = page.get_by_role("region", name="Tableau des liens envoyés")
    region.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert region.evaluate("e => e.scrollLeft") > 0
    assert page.get_by_text(LONG).first.is_visible()


def test_focus_goes_to_the_confirmation_after_an_action(desk, page):
    url, voter, _, ticket, _ = desk
    page.goto(f"{url}/guichet/electeurs/{voter.id}")
    page.locator("label", has_text="mc.d@ac-lille.fr").first.click()
    page.get_by_role("button", name="Renvoyer le lien d'activation").click()
    page.get_by_role("status").first.wait_for()
    assert page.url.endswith("#confirmation")
    page.wait_for_function(FOCUSED_CONFIRMATION)
    message = page.locator("#confirmation")
    assert "mis en file d'envoi vers mc.d@ac-lille.fr" in message.inner_text()
    assert message.is_visible() and message.evaluate(
        "e => e.getBoundingClientRect().top >= 0 && e.getBoundingClientRect().bottom <= innerHeight"
    )
    # A redirect to another fragment (#historique): csudesk.js moves focus to the message.
    page.goto(f"{url}/guichet/tickets/{ticket.id}")
    page.get_by_label("Ajouter une note").fill("Rappel demain matin")
    page.get_by_role("button", name="Ajouter la note").click()
    page.wait_for_function(FOCUSED_CONFIRMATION)
    assert "Note ajoutée" in page.locator("#confirmation").inner_text()


def test_skip_link_to_the_menu_goes_somewhere_at_320_and_1280_px(desk, page):
    url = desk[0]
    for width, target in ((320, "menu-bouton"), (1280, "navigation-principale")):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(url + "/guichet/")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        link = page.evaluate("document.activeElement.textContent.trim()")
        assert link == "Aller au menu"
        page.keyboard.press("Enter")
        assert page.locator(f"#{target}").is_visible()
        if target == "menu-bouton":
            assert page.evaluate("document.activeElement.id") == "menu-bouton"
            page.keyboard.press("Enter")  # the menu opens: its links are reachable
            assert page.get_by_role("link", name="File des tickets").first.is_visible()


def test_dashboard_and_journal_regions_are_keyboard_scrollable(
    live_server, page, make_agent, make_voter
):
    from datetime import UTC, datetime

    from csudesk.db import clock_at

    sup = make_agent("sup@csudesk.test", "supervisor", "NATIONAL", "Nina National")
    agent = make_agent("luc@csudesk.test", "agent", "AC-09", "Luc Lille")
    voter = make_voter()
    with clock_at(datetime(2026, 11, 20, 9, tzinfo=UTC)):
        ticket = create_ticket(
            Actor.for_agent(agent, "192.0.2.1"),
            csu=voter.csu,
            category="autre",
            channel="telephone",
            voter=voter,
        )
        add_note(Actor.for_agent(agent, "192.0.2.1"), ticket, "Rappel")
    db.session.commit()
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(sup.email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    for path in (
        "/supervision/?du=2026-11-01&au=2026-11-30",
        "/supervision/journal",
        "/supervision/tickets",
        f"/supervision/tickets/{ticket.id}",
    ):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
        boxes = page.evaluate(SCROLLERS)
        assert boxes, path  # at 320 px these tables do scroll
        for box in boxes:
            assert box["tabindex"] == "0" and box["role"] == "region" and box["name"], (path, box)
    page.goto(live_server.url + "/supervision/?du=2026-11-01&au=2026-11-30")
    days = page.get_by_role("region", name="Tableau des tickets ouverts par jour")
    assert days.locator("tbody tr").first.inner_text().startswith("20/11/2026")


def test_a_page_without_confirmation_keeps_focus_where_it_was(live_server, page):
    # The contact form has a field named "message": nothing may jump to it on load.
    page.goto(live_server.url + "/nous-ecrire")
    page.wait_for_load_state("load")
    page.wait_for_timeout(100)
    assert page.evaluate("document.activeElement === document.body")
    assert page.locator("#confirmation").count() == 0
