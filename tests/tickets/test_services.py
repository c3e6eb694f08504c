"""The tickets domain without HTTP: rules, history, scope, and the queries the desk reads."""

import pytest

from csudesk.actor import Actor
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.tickets import queries
from csudesk.tickets import services as tickets
from csudesk.tickets.models import Status
from tests.fixtures.factories import csu


@pytest.fixture
def actor(agent):
    return Actor.for_agent(agent, "192.0.2.30")


def open_ticket(actor, voter=None, csu_code="AC-09"):
    return tickets.create_ticket(
        actor, csu=csu(csu_code), category="lien_non_recu", channel="telephone", voter=voter
    )


def test_a_new_ticket_is_referenced_assigned_and_has_its_first_event(actor, agent, make_voter):
    ticket = open_ticket(actor, make_voter())
    assert ticket.reference == f"{ticket.created_at.year}-{ticket.id:06d}"
    assert ticket.assigned_agent_id == agent.id and ticket.status == Status.OPEN
    assert [e.kind for e in queries.ticket_events(ticket)] == ["created"]
    assert queries.open_tickets_assigned_to(agent.id) == [ticket]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a, t: tickets.add_note(a, t, "   "), "La note est vide"),
        (lambda a, t: tickets.add_note(a, t, "x" * 5001), "dépasse 5000"),
        (lambda a, t: tickets.change_status(a, t, "transfere"), "Statut inconnu"),
        (lambda a, t: tickets.transfer(a, t, csu("AC-25"), " "), "motif"),
        (lambda a, t: tickets.transfer(a, t, csu("AC-09"), "même"), "déjà dans cette CSU"),
    ],
)
def test_refused_changes_raise_the_one_service_error(actor, change, message):
    ticket = open_ticket(actor)
    with pytest.raises(ServiceError, match=message):
        change(actor, ticket)


def test_history_status_and_transfer_leave_the_scope(actor, agent):
    ticket = open_ticket(actor)
    tickets.add_note(actor, ticket, "Rappel demain matin.")
    tickets.change_status(actor, ticket, Status.WAITING)
    tickets.transfer(actor, ticket, csu("AC-25"), "Affecté à Versailles")
    db.session.commit()
    assert [e.kind for e in queries.ticket_events(ticket)] == [
        "created",
        "note",
        "status",
        "transfer",
    ]
    assert ticket.status == Status.TRANSFERRED and ticket.assigned_agent_id is None
    assert tickets.get_ticket_in_scope(actor, ticket.id) is None  # Lille no longer sees it
    assert queries.open_tickets_assigned_to(agent.id) == []


def test_the_queue_pages_and_filters_by_status(actor):
    first, second = open_ticket(actor), open_ticket(actor)
    tickets.change_status(actor, first, Status.RESOLVED)
    lille = {csu("AC-09").id}
    assert queries.queue_page(lille, queries.OPEN, 1).tickets == [second]
    resolved = queries.queue_page(lille, Status.RESOLVED, 1)
    assert resolved.tickets == [first] and resolved.total == 1 and resolved.pages == 1
    assert queries.queue_page({csu("AC-25").id}, queries.OPEN, 1).total == 0


def test_an_action_joins_only_an_open_ticket_of_the_same_voter(actor, make_voter):
    voter, other = make_voter(), make_voter("Martin", "Paul")
    ticket = open_ticket(actor, voter)
    assert queries.open_ticket_of_voter(ticket.id, voter.id) == ticket
    assert queries.open_ticket_of_voter(ticket.id, other.id) is None
    tickets.change_status(actor, ticket, Status.RESOLVED)
    assert queries.open_ticket_of_voter(ticket.id, voter.id) is None
