"""Two agents, one voter: who else opened the page lately, and a note that asks to confirm."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.tickets.models import TicketEvent
from csudesk.tickets.presence import RecentView
from csudesk.tickets.services import change_status, create_ticket
from tests.conftest import IsolatedClient
from tests.fixtures.factories import AuthActions, csu


def signed_in(app, agent):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    assert AuthActions(client).login(agent.email).status_code == 302
    return client


@pytest.fixture
def desk(app, make_agent, make_voter):
    """Luc and Colin of Lille, each in his own browser, and a ticket of Marie's."""
    luc = make_agent("luc@csudesk.test", "agent", "AC-09", "Luc Lille")
    colin = make_agent("colin@csudesk.test", "agent", "AC-09", "Colin Collègue")
    voter = make_voter()
    ticket = create_ticket(
        Actor.for_agent(luc), csu=csu("AC-09"), category="lien_non_recu",
        channel="telephone", voter=voter,
    )  # fmt: skip
    db.session.commit()
    return luc, colin, voter, ticket, signed_in(app, luc), signed_in(app, colin)


def presence(page: str) -> str | None:
    found = re.search(r'id="presence">(.*?)</p>', page, re.S)
    return " ".join(found.group(1).split()) if found else None


@pytest.mark.parametrize("page", ["ticket", "voter"])
def test_each_agent_sees_the_others_who_opened_the_page_lately(desk, page):
    luc, colin, voter, ticket, luc_browser, colin_browser = desk
    url = f"/guichet/tickets/{ticket.id}" if page == "ticket" else f"/guichet/electeurs/{voter.id}"
    assert presence(luc_browser.get(url).text) is None
    assert presence(colin_browser.get(url).text) == (
        "Également consulté par : Luc Lille (il y a moins d'une minute)"
    )
    # Luc looks again: Colin, not himself; still one row per agent and page.
    assert presence(luc_browser.get(url).text) == (
        "Également consulté par : Colin Collègue (il y a moins d'une minute)"
    )
    assert db.session.scalar(select(func.count()).select_from(RecentView)) == 2
    # Colin's view, 3 minutes old: counted in minutes; past RECENT_VIEW_MINUTES, gone.
    column = RecentView.ticket_id if page == "ticket" else RecentView.voter_id
    for minutes, expected in (
        (3, "Également consulté par : Colin Collègue (il y a 3 min)"),
        (11, None),
    ):
        colin_row, luc_row = (
            db.session.scalar(
                select(RecentView).where(RecentView.agent_id == who.id, column.is_not(None))
            )
            for who in (colin, luc)
        )
        colin_row.seen_at = luc_row.seen_at - timedelta(minutes=minutes, seconds=5)
        db.session.commit()
        assert presence(luc_browser.get(url).text) == expected


def note_form(page: str) -> dict:
    form = page.split('id="note"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input[^>]*name="(derniere_activite)"[^>]*value="(\d+)"', form))


def notes() -> list[str]:
    return list(
        db.session.scalars(
            select(TicketEvent.text).where(TicketEvent.kind == "note").order_by(TicketEvent.id)
        )
    )


def test_a_note_after_someone_elses_change_asks_to_confirm_and_keeps_the_text(desk):
    _, colin, _, ticket, luc_browser, colin_browser = desk
    url = f"/guichet/tickets/{ticket.id}"
    loaded = note_form(luc_browser.get(url).text)
    assert loaded["derniere_activite"].isdigit()
    # Colin adds a note while Luc is writing his.
    assert (
        colin_browser.post(f"{url}/note", data={"text": "J'ai rappelé Marie."}).status_code == 302
    )
    typed = {"text": "Lien renvoyé, à <rappeler>.", **loaded}
    asked = luc_browser.post(f"{url}/note", data=typed)
    assert asked.status_code == 409
    assert "votre note n'est pas encore enregistrée" in asked.text
    assert "Colin Collègue : note « J&#39;ai rappelé Marie. »" in " ".join(asked.text.split())
    assert "Lien renvoyé, à &lt;rappeler&gt;." in asked.text  # still in the box
    assert "Je confirme l&#39;envoi malgré ces changements" in asked.text
    assert notes() == ["J'ai rappelé Marie."]
    shown = re.search(r'name="confirme" value="(\d+)"', asked.text).group(1)
    # Sent again without ticking the box: asked again.
    assert luc_browser.post(f"{url}/note", data=typed).status_code == 409
    # Ticked: saved.
    done = luc_browser.post(f"{url}/note", data={**typed, "confirme": shown})
    assert done.status_code == 302
    assert notes() == ["J'ai rappelé Marie.", "Lien renvoyé, à <rappeler>."]


def test_a_confirmation_covers_only_the_changes_it_showed(desk):
    _, _, _, ticket, luc_browser, colin_browser = desk
    url = f"/guichet/tickets/{ticket.id}"
    loaded = note_form(luc_browser.get(url).text)
    colin_browser.post(f"{url}/note", data={"text": "Premier ajout."})
    typed = {"text": "Ma note.", **loaded}
    shown = re.search(
        r'name="confirme" value="(\d+)"', luc_browser.post(f"{url}/note", data=typed).text
    ).group(1)
    colin_browser.post(f"{url}/statut", data={"status": "en_attente"})
    again = luc_browser.post(f"{url}/note", data={**typed, "confirme": shown})
    assert again.status_code == 409
    page = " ".join(again.text.split())
    assert "Premier ajout." in page and "Ouvert → En attente" in page
    assert notes() == ["Premier ajout."]


def test_a_note_sent_back_for_its_errors_keeps_the_moment_it_was_loaded(desk):
    _, _, _, ticket, luc_browser, colin_browser = desk
    url = f"/guichet/tickets/{ticket.id}"
    loaded = note_form(luc_browser.get(url).text)
    colin_browser.post(f"{url}/note", data={"text": "Entre-temps."})
    empty = luc_browser.post(f"{url}/note", data={"text": " ", **loaded})
    assert empty.status_code == 400 and note_form(empty.text) == loaded
    asked = luc_browser.post(f"{url}/note", data={"text": "Enfin.", **note_form(empty.text)})
    assert asked.status_code == 409 and notes() == ["Entre-temps."]


def test_my_own_changes_ask_nothing(desk):
    _, _, _, ticket, luc_browser, _ = desk
    url = f"/guichet/tickets/{ticket.id}"
    loaded = note_form(luc_browser.get(url).text)
    luc_browser.post(f"{url}/statut", data={"status": "en_attente"})
    done = luc_browser.post(f"{url}/note", data={"text": "Suite.", **loaded})
    assert done.status_code == 302 and notes() == ["Suite."]


def test_the_confirmation_needs_the_csrf_token(desk, app):
    _, colin, _, ticket, luc_browser, _ = desk
    url = f"/guichet/tickets/{ticket.id}"
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = luc_browser.get(url).text
        loaded = note_form(page)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        change_status(Actor.for_agent(colin), ticket, "en_attente")
        forged = luc_browser.post(f"{url}/note", data={"text": "Note.", **loaded, "confirme": 999})
        asked = luc_browser.post(
            f"{url}/note", data={"text": "Note.", "csrf_token": token, **loaded}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert forged.status_code == 400 and asked.status_code == 409
    assert notes() == []
