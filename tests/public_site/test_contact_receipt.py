"""The contact receipt tells no voter the wrong cell, and reads the same on and off the roll.

A voter on the roll in Lille who types a Versailles establishment gets a Lille ticket: the
receipt must not present Versailles as the cell handling it, nor name Lille (that would say the
address is on the roll, SECURITY.md 13). It gives the typed establishment's cell as a contact,
and that cell's desk does hand such a caller over to the cell that has the ticket.
"""

import html

import pytest
from sqlalchemy import select

from csudesk.directory.services import set_contact
from csudesk.extensions import db
from csudesk.tickets.models import Ticket
from tests.fixtures.forms import contact_form_data as form_data

LILLE_UAI = "0590001F"  # académie de Lille
VERSAILLES_UAI = "0783774D"  # académie de Versailles
ON_ROLL = "marie.dupont@ac-lille.fr"


def flat(response) -> str:
    return html.unescape(" ".join(response.text.split()))


@pytest.fixture
def contacts(directory):
    set_contact("AC-09", email="csu@ac-lille.example", phone="03 20 00 00 00", hours="9 h – 17 h")
    set_contact("AC-25", email="csu@ac-versailles.example", phone="01 30 00 00 00")
    db.session.commit()


def write(client, email: str, uai: str) -> tuple[Ticket, str]:
    """Send the form; return the ticket and the receipt's text with its reference blanked."""
    db.session.commit()
    response = client.post("/nous-ecrire", data=form_data(email=email, uai=uai))
    assert response.status_code == 303
    receipt = client.get(response.location)
    assert receipt.status_code == 200
    db.session.expire_all()
    ticket = db.session.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(1)).one()
    body = flat(receipt)
    assert ticket.reference in body
    return ticket, body.replace(ticket.reference, "REF")


def test_a_roll_voter_of_another_cell_is_not_told_the_wrong_cell(client, make_voter, contacts):
    make_voter(emails=(ON_ROLL,), uai=LILLE_UAI)
    ticket, body = write(client, ON_ROLL, VERSAILLES_UAI)
    assert ticket.csu.code == "AC-09"  # the roll's cell can act on the account: it has the ticket
    # The receipt does not present the typed establishment's cell as the one handling it...
    assert "la cellule de soutien à contacter est" not in body
    assert (
        "Votre demande est transmise à la cellule de soutien aux utilisateurs chargée de votre"
        " dossier : si votre adresse figure sur la liste électorale, c'est la cellule de"
        " l'établissement où vous y êtes inscrit ; sinon, c'est celle de l'établissement que vous"
        " avez indiqué." in body
    )
    # ... gives it as a contact that will hand the voter over ...
    assert f"Établissement indiqué : {VERSAILLES_UAI}" in body
    assert "csu@ac-versailles.example" in body and "01 30 00 00 00" in body
    assert "elle vous indiquera la cellule qui traite votre demande" in body
    # ... and never names the roll's cell (the address being on the roll stays unsaid).
    assert "Lille" not in body.split('id="contenu"')[1].split('id="pied-de-page"')[0]
    assert "ac-lille.example" not in body and "03 20 00 00 00" not in body


def test_the_receipt_reads_the_same_in_every_case(client, make_voter, contacts):
    make_voter(emails=(ON_ROLL,), uai=LILLE_UAI)
    make_voter("Martin", "Paul", emails=("paul.martin@ac-versailles.fr",), uai=VERSAILLES_UAI)
    cases = {
        "on the roll, another cell": ON_ROLL,
        "on the roll, the typed establishment's cell": "paul.martin@ac-versailles.fr",
        "not on the roll": "inconnu.total@ac-versailles.fr",
    }
    receipts = {}
    for case, address in cases.items():
        ticket, body = write(client, address, VERSAILLES_UAI)
        receipts[case] = (ticket.csu.code, body)
    assert [code for code, _ in receipts.values()] == ["AC-09", "AC-25", "AC-25"]
    bodies = {body for _, body in receipts.values()}
    assert len(bodies) == 1


def test_the_contact_cell_hands_the_caller_over_to_the_cell_with_the_ticket(
    client, make_voter, make_agent, auth, contacts
):
    """What the receipt promises: the typed establishment's cell points to the right one."""
    make_voter(emails=(ON_ROLL,), uai=LILLE_UAI)
    ticket, _ = write(client, ON_ROLL, VERSAILLES_UAI)
    make_agent("agent.versailles@csudesk.test", "agent", "AC-25")
    make_agent("agent.lille@csudesk.test", "agent", "AC-09")

    auth.login("agent.versailles@csudesk.test")
    searched = client.post("/guichet/recherche", data={"courriel": ON_ROLL})
    assert searched.status_code == 200  # another cell's voter: no file, only where to send them
    answer = flat(searched)
    assert "Cet électeur relève d'une autre cellule" in answer
    assert "Académie de Lille" in answer and "03 20 00 00 00" in answer
    assert client.get(f"/guichet/tickets/{ticket.id}").status_code == 404
    auth.logout()

    auth.login("agent.lille@csudesk.test")
    page = flat(client.get(f"/guichet/tickets/{ticket.id}"))
    assert ticket.reference in page
