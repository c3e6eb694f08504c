"""Tickets at the desk: creation, notes, status, transfer, queue, scope."""

from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.tickets.models import Ticket, TicketEvent
from csudesk.tickets.services import create_ticket
from tests.fixtures.factories import csu


def new_ticket(client, **data):
    form = {"category": "identifiant_inconnu", "channel": "telephone", **data}
    return client.post("/guichet/tickets/nouveau", data=form)


def test_ticket_for_a_caller_not_on_the_roll(client, lille):
    response = new_ticket(
        client,
        contact_email="inconnu@ac-lille.fr",
        contact_last_name="Inconnu",
        note="A changé d'académie en septembre.",
    )
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.voter_id, ticket.csu.code, ticket.contact_email) == (
        None,
        "AC-09",
        "inconnu@ac-lille.fr",
    )
    page = client.get(response.headers["Location"]).text
    assert "A changé d&#39;académie en septembre." in page
    assert "non trouvé sur la liste" in page


def test_note_status_and_history(client, lille, make_voter):
    voter = make_voter()
    response = new_ticket(client)
    ticket_url = response.headers["Location"]
    ticket_id = int(ticket_url.rsplit("/", 1)[1])
    client.post(f"{ticket_url}/note", data={"text": "Rappeler <b>demain</b>"})
    client.post(f"{ticket_url}/statut", data={"status": "resolu"})
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.status == "resolu" and ticket.resolved_at is not None
    page = client.get(ticket_url).text
    assert "Rappeler &lt;b&gt;demain&lt;/b&gt;" in page
    assert "Ouvert → Résolu" in page
    kinds = [
        e.kind
        for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id))
    ]
    assert kinds == ["created", "note", "status"]
    assert voter.id


def test_empty_note_is_refused_without_losing_the_page(client, lille):
    ticket_url = new_ticket(client).headers["Location"]
    response = client.post(f"{ticket_url}/note", data={"text": "   "})
    assert response.status_code == 400
    assert "La note est vide." in response.text


def test_transfer_moves_the_ticket_out_of_scope(client, lille, make_voter):
    ticket_url = new_ticket(client).headers["Location"]
    versailles = csu("AC-25")
    response = client.post(
        f"{ticket_url}/transfert",
        data={"csu": versailles.id, "reason": "Affecté à Versailles depuis la rentrée."},
    )
    assert response.headers["Location"] == "/guichet/tickets"
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.csu_id, ticket.status, ticket.assigned_agent_id) == (
        versailles.id,
        "transfere",
        None,
    )
    assert client.get(ticket_url).status_code == 404
    transfer = db.session.scalar(select(TicketEvent).where(TicketEvent.kind == "transfer"))
    assert transfer.text == "Affecté à Versailles depuis la rentrée."


def test_transfer_needs_a_reason(client, lille):
    ticket_url = new_ticket(client).headers["Location"]
    response = client.post(f"{ticket_url}/transfert", data={"csu": csu("AC-25").id, "reason": ""})
    assert response.status_code == 400 and "Indiquez le motif." in response.text


def test_queue_shows_own_csu_only(client, lille, make_voter):
    system = Actor.system()
    create_ticket(
        system,
        csu=csu("AC-09"),
        category="autre",
        channel="courriel",
        contact_email="a@ac-lille.fr",
    )
    other = create_ticket(
        system,
        csu=csu("AC-25"),
        category="autre",
        channel="courriel",
        contact_email="b@ac-versailles.fr",
    )
    db.session.commit()
    page = client.get("/guichet/tickets").text
    assert "a@ac-lille.fr" in page and "b@ac-versailles.fr" not in page
    assert client.get(f"/guichet/tickets/{other.id}").status_code == 404
    assert client.post(f"/guichet/tickets/{other.id}/note", data={"text": "x"}).status_code == 404
    assert (
        client.post(f"/guichet/tickets/{other.id}/statut", data={"status": "resolu"}).status_code
        == 404
    )


def test_my_open_tickets_on_the_home_page(client, lille):
    new_ticket(client, contact_email="mine@ac-lille.fr")
    assert "mine@ac-lille.fr" in client.get("/guichet/").text


def test_take_a_ticket_from_the_queue(client, lille, make_agent, auth):
    ticket = create_ticket(Actor.system(), csu=csu("AC-09"), category="autre", channel="formulaire")
    db.session.commit()
    client.post(f"/guichet/tickets/{ticket.id}/prendre")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).assigned_agent_id == lille.id


def test_national_agent_picks_the_csu_queue(client, make_agent, auth):
    create_ticket(
        Actor.system(),
        csu=csu("NATIONAL"),
        category="autre",
        channel="formulaire",
        contact_email="nat@x.fr",
    )
    create_ticket(
        Actor.system(),
        csu=csu("AC-25"),
        category="autre",
        channel="formulaire",
        contact_email="ver@x.fr",
    )
    db.session.commit()
    auth.login(make_agent("nat@csudesk.test", "agent", "NATIONAL").email)
    national = client.get("/guichet/tickets").text
    assert "nat@x.fr" in national and "ver@x.fr" not in national
    assert "ver@x.fr" in client.get("/guichet/tickets?csu=AC-25").text
    assert client.get("/guichet/tickets?csu=NOPE").status_code == 404
