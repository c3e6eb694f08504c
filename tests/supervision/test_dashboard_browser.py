"""A supervisor reads the dashboard in a real browser, then drills down to yesterday's log."""

import os
from datetime import timedelta

import pytest

from csudesk import demo
from csudesk.db import utcnow
from csudesk.elections.calendar import paris_day
from csudesk.extensions import db

pytestmark = pytest.mark.browser


def test_dashboard_then_yesterdays_tickets(app, live_server, page):
    demo.seed_demo(voters=2000, seed=11)
    db.session.commit()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(
        "superviseur.lille@csudesk.example"
    )
    page.get_by_label("Mot de passe").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Supervision").first.click()

    assert page.get_by_role("heading", name="Alertes").is_visible()
    chart = page.locator("#graphique-jours")
    assert chart.is_visible() and chart.bounding_box()["width"] > 300
    assert page.locator("#graphique-jours rect").count() > 5
    assert page.locator("#graphique-actions rect").count() >= 3
    # The same figures as a table, which a screen reader gets instead of the drawing.
    assert page.locator("figure.csu-chart").first.get_attribute("aria-hidden") == "true"
    assert page.get_by_role("table", name="Actions des agents, par type").is_visible()
    assert page.get_by_text("Bruno Lefort").first.is_visible()
    if os.environ.get("CSUDESK_SCREENSHOTS"):
        page.screenshot(path=os.environ["CSUDESK_SCREENSHOTS"] + "/dashboard.png", full_page=True)

    today = paris_day(utcnow())
    yesterday = today - timedelta(days=2 if today.weekday() == 0 else 1)
    page.get_by_role("link", name="Journal des tickets").click()
    page.get_by_label("Du", exact=False).and_(page.locator("#du")).fill(yesterday.isoformat())
    page.get_by_label("Au (inclus)").fill(yesterday.isoformat())
    page.get_by_role("button", name="Filtrer").click()
    assert page.get_by_role("status").inner_text().endswith("correspondant aux filtres.")
    rows = page.locator("table tbody tr")
    assert rows.count() > 0
    assert yesterday.strftime("%d/%m/%Y") in rows.first.inner_text()
    if os.environ.get("CSUDESK_SCREENSHOTS"):
        page.screenshot(path=os.environ["CSUDESK_SCREENSHOTS"] + "/tickets.png", full_page=True)
    rows.first.get_by_role("link").click()
    assert page.get_by_role("heading", name="Historique").is_visible()
    assert errors == []
    # Let the last static requests finish before the live server stops (they use the database).
    page.wait_for_load_state("networkidle")
