"""Contact tickets on the agent side: the right CSU's queue, the voter file linked, text escaped."""

import re
import time

import pytest
from sqlalchemy import select

from csudesk.extensions import db
from csudesk.public import antiabuse
from csudesk.tickets.models import Ticket
from tests.fixtures.factories import AGENT_PASSWORD

HOSTILE = "<script>alert('csu')</script><img src=x onerror=alert(1)>"


def contact(client, **overrides):
    data = {
        "email": "marie.dupont@ac-lille.fr",
        "last_name": "Dupont",
        "first_name": "Marie",
        "uai": "0590001F",
        "category": "mot_de_passe_refuse",
        "message": "Mon mot de passe est refusé.",
        "consent": "y",
        "started": antiabuse.opened_token(time.time() - 60),
        **overrides,
    }
    db.session.commit()
    response = client.post("/nous-ecrire", data=data)
    assert response.status_code == 303
    client.get(response.location)
    return db.session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def test_agent_of_the_roll_csu_sees_the_ticket_with_the_voter_file(
    client, auth, make_voter, make_agent
):
    voter = make_voter("DUPONT", "Marie", emails=("marie.dupont@ac-lille.fr",), uai="0590001F")
    ticket = contact(client, uai="0783774D")  # typed Versailles; the roll says Lille
    make_agent("anne@csudesk.test", "agent", "AC-09")
    auth.login("anne@csudesk.test")
    queue = client.get("/guichet/tickets").text
    assert ticket.reference in queue and "DUPONT" in queue and "Formulaire" in queue
    page = client.get(f"/guichet/tickets/{ticket.id}").text
    assert f'href="/guichet/electeurs/{voter.id}"' in page
    assert "Mon mot de passe est refusé." in page
    # The address the caller wrote from, searched at the desk (a POST), opens the same file.
    found = client.post("/guichet/recherche", data={"courriel": "Marie.Dupont@ac-lille.fr"})
    assert (found.status_code, found.headers["Location"]) == (303, f"/guichet/electeurs/{voter.id}")
    voter_file = client.get(found.headers["Location"])
    assert voter_file.status_code == 200 and "DUPONT" in voter_file.text


def test_agent_of_another_csu_does_not_see_it(client, auth, make_voter, make_agent):
    make_voter(emails=("marie.dupont@ac-lille.fr",), uai="0590001F")
    ticket = contact(client, uai="0783774D")
    make_agent("victor@csudesk.test", "agent", "AC-25")
    auth.login("victor@csudesk.test")
    assert ticket.reference not in client.get("/guichet/tickets").text
    assert client.get(f"/guichet/tickets/{ticket.id}").status_code == 404


def test_unroutable_establishment_reaches_the_national_queue(client, auth, make_agent):
    ticket = contact(client, email="x@example.org", uai="1340004B")
    make_agent("nadia@csudesk.test", "supervisor", "NATIONAL")
    auth.login("nadia@csudesk.test")
    queue = client.get("/guichet/tickets").text  # the national queue by default
    assert ticket.reference in queue and "x@example.org" in queue


@pytest.mark.parametrize("on_roll", [True, False])
def test_typed_html_is_escaped_in_the_agent_view(client, auth, make_voter, make_agent, on_roll):
    if on_roll:
        make_voter(emails=("marie.dupont@ac-lille.fr",), uai="0590001F")
    ticket = contact(
        client,
        last_name="<b>Dupont</b>",
        first_name="<i>Marie</i>",
        message=f"Bonjour {HOSTILE}\n<a href='javascript:alert(2)'>ici</a>",
    )
    make_agent("anne@csudesk.test", "agent", "AC-09")
    auth.login("anne@csudesk.test")
    for url in ("/guichet/tickets", f"/guichet/tickets/{ticket.id}", "/guichet/"):
        page = client.get(url).text
        for raw in ("<script>", "<img src=x", "<b>Dupont", "<i>Marie", "<a href='javascript"):
            assert raw not in page, (url, raw)
    page = client.get(f"/guichet/tickets/{ticket.id}").text
    assert "&lt;script&gt;alert(&#39;csu&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;Dupont&lt;/b&gt;" in page


@pytest.mark.browser
def test_voter_writes_and_an_agent_of_the_right_csu_finds_the_ticket(
    live_server, page, _browser, make_voter, make_agent, app
):
    app.config["CONTACT_MIN_FILL_SECONDS"] = 1
    voter = make_voter("DUPONT", "Marie", emails=("marie.dupont@ac-lille.fr",), uai="0590001F")
    agent = make_agent("anne.agent@csudesk.test", "agent", "AC-09")
    make_agent("victor@csudesk.test", "agent", "AC-25")
    db.session.commit()

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Écrire à ma CSU").click()
    page.get_by_label("Adresse de messagerie professionnelle").fill("Marie.Dupont@ac-lille.fr")
    page.get_by_role("textbox", name="Nom", exact=True).fill("Dupont")
    page.get_by_label("Prénom").fill("Marie")
    page.get_by_label("Code UAI de votre établissement d'affectation").fill("0590001F")
    page.get_by_label("Votre difficulté").select_option(label="Lien non reçu")
    page.get_by_label("Votre message").fill(
        "Je n'ai jamais reçu le lien. Mon code est ABCD-EF23-GHJK-LMN4 <b>merci</b>"
    )
    page.get_by_text("J'accepte d'être recontacté").click()
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Envoyer ma demande").click()
    page.get_by_role("heading", name="Votre demande est envoyée").wait_for()
    reference = re.search(r"\d{4}-\d{6}", page.get_by_role("status").inner_text()).group(0)

    agent_context = _browser.new_context(locale="fr-FR")
    desk = agent_context.new_page()
    desk.set_default_timeout(10_000)
    desk.goto(live_server.url + "/connexion")
    desk.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    desk.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    desk.get_by_role("button", name="Se connecter").click()
    desk.get_by_role("heading", name=re.compile("Guichet")).wait_for()
    desk.goto(live_server.url + "/guichet/tickets")
    row = desk.get_by_role("row").filter(has_text=reference)
    assert "Formulaire" in row.inner_text() and "Lien non reçu" in row.inner_text()
    row.get_by_role("link", name=reference).click()
    desk.get_by_role("heading", name=f"Ticket {reference}").wait_for()
    message = desk.locator("blockquote").inner_text()
    assert "ABCD-EF23" not in message and "[code masqué]" in message
    assert "<b>merci</b>" in message  # shown as text, not as markup
    desk.get_by_role("link", name="DUPONT Marie").click()
    desk.get_by_role("heading", name="DUPONT Marie").wait_for()
    assert desk.url.endswith(f"/guichet/electeurs/{voter.id}")
    agent_context.close()
