"""The desk's search box opens a ticket by its reference, within the agent's scope only."""

import re

import pytest
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.audit.services import details_of
from csudesk.extensions import db
from csudesk.tickets import queries
from csudesk.tickets.merge import merge
from csudesk.tickets.models import Ticket
from tests.fixtures.factories import phone_ticket
from tests.fixtures.forms import contact_form_data


def search(client, text: str):
    return client.post("/guichet/recherche", data={"courriel": text})


@pytest.mark.parametrize(
    ("typed", "reference"),
    [
        ("2026-000116", "2026-000116"),
        ("  2026-000116 ", "2026-000116"),
        ("2026 - 000116", "2026-000116"),
        ("2026\u2013000116", "2026-000116"),
        ("CSU 2026-000116", "2026-000116"),
        ("csu2026-000116", "2026-000116"),
        ("[CSU 2026-000116]", "2026-000116"),
        ("[ CSU 2026-000116 ]", "2026-000116"),
        ("2026000116", "2026-000116"),
        ("2026-00116", None),  # a digit short
        ("2026-0001160", None),
        ("marie.dupont@ac-lille.fr", None),
        ("CSU", None),
        ("Re: [CSU 2026-000116] votre demande", None),
    ],
)
def test_what_reads_as_a_reference(typed, reference):
    assert queries.parse_reference(typed) == reference


def test_the_contact_receipt_reference_opens_the_ticket_at_the_routed_desk(
    client, auth, make_agent, directory
):
    # Not on the roll, a Versailles establishment: the ticket goes to Versailles (AC-25).
    sent = client.post("/nous-ecrire", data=contact_form_data())
    assert sent.status_code == 303
    receipt = client.get(sent.location).text
    reference = re.search(r"\b\d{4}-\d{6}\b", receipt).group(0)
    versailles = make_agent("agent.versailles@csudesk.test", "agent", "AC-25", "Vera")
    auth.login(versailles.email)
    found = search(client, f"[CSU {reference}]")
    assert found.status_code == 303
    ticket = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
    assert ticket.csu.code == "AC-25"
    assert found.location == f"/guichet/tickets/{ticket.id}"
    page = client.get(found.location)
    assert page.status_code == 200 and f"Ticket {reference}" in page.text
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.lookup"))
    assert (entry.agent_id, entry.ticket_id) == (versailles.id, ticket.id)
    assert details_of(entry)["in_scope"] is True


def same_page(html: str, reference: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", html.replace(reference, "REF"))


def test_another_cells_ticket_answers_as_an_unknown_reference(client, lille, make_agent):
    versailles = make_agent("agent.versailles@csudesk.test", "agent", "AC-25", "Vera")
    theirs = phone_ticket(versailles, "AC-25")
    year = theirs.reference[:4]
    unknown = f"{year}-999999"
    outside = search(client, theirs.reference)
    missing = search(client, unknown)
    assert (outside.status_code, missing.status_code) == (404, 404)
    assert "Aucun ticket de votre périmètre avec la référence" in outside.text
    # Nothing tells the two apart but the reference typed (and the CSRF tokens, which carry
    # the second they were signed in).
    assert same_page(outside.text, theirs.reference) == same_page(missing.text, unknown)
    # The page, reached directly, is no way round.
    assert client.get(f"/guichet/tickets/{theirs.id}").status_code == 404
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ticket.lookup").order_by(AuditEntry.id)
    ).all()
    assert [(details_of(e)["found"], details_of(e)["in_scope"]) for e in entries] == [
        (True, False),
        (False, False),
    ]
    assert entries[0].voter_id is None


def test_an_address_is_still_looked_up_as_an_address(client, lille, make_voter):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    found = search(client, " Marie.Dupont@ac-lille.fr ")
    assert found.status_code == 303 and found.location == f"/guichet/electeurs/{voter.id}"


def test_a_merged_tickets_reference_opens_the_kept_ticket_with_a_notice(client, lille, make_voter):
    voter = make_voter()
    kept = phone_ticket(lille, voter=voter)
    duplicate = phone_ticket(lille, voter=voter)
    merge(Actor.for_agent(lille), duplicate, kept, "Même appel, deux tickets.")
    db.session.commit()
    found = search(client, duplicate.reference)
    assert found.status_code == 303 and found.location == f"/guichet/tickets/{kept.id}"
    page = client.get(found.location).text
    assert f"Le ticket {duplicate.reference} a été fusionné dans {kept.reference}" in page


def test_the_reference_search_needs_the_csrf_token(client, lille, app):
    ticket = phone_ticket(lille)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        forged = search(client, ticket.reference)
        assert forged.status_code == 400
        page = client.get("/guichet/").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        found = client.post(
            "/guichet/recherche", data={"courriel": ticket.reference, "csrf_token": token}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert found.status_code == 303 and found.location == f"/guichet/tickets/{ticket.id}"
    lookups = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.lookup"))
    assert len(lookups.all()) == 1
