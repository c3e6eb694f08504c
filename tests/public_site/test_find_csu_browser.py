"""A voter finds their CSU in a real browser (Debian's chromium through Playwright)."""

import pytest

from csudesk.directory.services import set_contact, upsert_establishment
from csudesk.extensions import db

pytestmark = pytest.mark.browser


def test_voter_finds_csu_by_city_then_by_uai(directory, live_server, page):
    upsert_establishment("0770934X", name="Lycée polyvalent Léonard de Vinci", city="Melun")
    set_contact("AC-24", email="csu@ac-creteil.example", hours="9 h – 17 h")
    db.session.commit()

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Trouver ma CSU").first.click()
    page.get_by_label("Code UAI, nom ou ville de l'établissement").fill("melun")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Lycée polyvalent Léonard de Vinci").click()
    assert page.get_by_role("heading", name="CSU — Académie de Créteil").is_visible()
    assert page.get_by_role("link", name="csu@ac-creteil.example").is_visible()

    page.get_by_label("Code UAI, nom ou ville de l'établissement").fill("0751234A")
    page.get_by_role("button", name="Rechercher").click()
    assert page.get_by_role("alert").inner_text().startswith("Code UAI non reconnu")
