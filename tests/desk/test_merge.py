"""Merging at the desk: the form on the ticket page, the merged ticket's page, the kept one's."""

import re

import pytest
from sqlalchemy import select

from csudesk.extensions import db
from csudesk.tickets.models import Status, Ticket, TicketEvent
from tests.fixtures.factories import AuthActions, phone_ticket


@pytest.fixture
def three(lille, make_voter):
    """Two tickets of one voter, one of another voter, all in Lille."""
    voter = make_voter()
    kept = phone_ticket(lille, voter=voter)
    duplicate = phone_ticket(lille, voter=voter)
    unrelated = phone_ticket(lille, voter=make_voter("Martin", "Paul"))
    return kept, duplicate, unrelated


def merge_data(kept: Ticket, **overrides) -> dict:
    data = {"into": str(kept.id), "reason": "Le même appel, noté deux fois.", "confirm": "y"}
    return {f"fusion-{name}": value for name, value in (data | overrides).items()}


def test_the_form_offers_the_same_voters_open_tickets_only(client, three):
    kept, duplicate, unrelated = three
    page = client.get(f"/guichet/tickets/{duplicate.id}").text
    assert "Fusionner avec un autre ticket" in page
    form = page.split('id="fusion"', 1)[1].split("</section>", 1)[0]
    offered = re.findall(r'<option[^>]*value="(\d+)"', form)
    assert offered == [str(kept.id)]
    assert unrelated.reference not in form
    lone = client.get(f"/guichet/tickets/{unrelated.id}").text
    assert "Aucun autre ticket ouvert de cette cellule ne concerne le même électeur" in lone


def test_merging_redirects_to_the_kept_ticket_which_shows_both_histories(client, three):
    kept, duplicate, _ = three
    client.post(f"/guichet/tickets/{duplicate.id}/note", data={"text": "Note du doublon."})
    response = client.post(f"/guichet/tickets/{duplicate.id}/fusion", data=merge_data(kept))
    assert response.status_code == 303
    assert response.location == f"/guichet/tickets/{kept.id}"
    db.session.expire_all()
    assert (duplicate.status, duplicate.merged_into_id) == (Status.MERGED, kept.id)
    page = client.get(response.location).text
    assert f"Ticket {duplicate.reference} fusionné dans {kept.reference}." in page
    assert "Note du doublon." in page
    assert f"ticket fusionné {duplicate.reference}" in page
    assert "fusion d'un doublon dans ce ticket" in page
    # The merged ticket's page points to the kept one and offers no action any more.
    merged = client.get(f"/guichet/tickets/{duplicate.id}").text
    assert "Ce ticket a été fusionné dans" in merged
    assert f'href="/guichet/tickets/{kept.id}">{kept.reference}</a>' in merged
    for form in ("/note", "/statut", "/transfert", "/fusion", "/prendre"):
        assert f'action="/guichet/tickets/{duplicate.id}{form}' not in merged


def test_a_note_posted_to_a_ticket_merged_meanwhile_is_shown_back(client, three, lille):
    kept, duplicate, _ = three
    loaded = client.get(f"/guichet/tickets/{duplicate.id}").text
    assert 'name="derniere_activite"' in loaded
    assert (
        client.post(f"/guichet/tickets/{duplicate.id}/fusion", data=merge_data(kept)).status_code
        == 303
    )
    notes = db.session.scalar(select(db.func.count()).where(TicketEvent.kind == "note"))
    late = client.post(f"/guichet/tickets/{duplicate.id}/note", data={"text": "Rappeler <lundi>."})
    assert late.status_code == 409
    assert "Votre texte n'a pas été enregistré" in late.text
    assert "Rappeler &lt;lundi&gt;." in late.text
    assert db.session.scalar(select(db.func.count()).where(TicketEvent.kind == "note")) == notes
    for path, data in (("statut", {"status": "ouvert"}), ("prendre", {})):
        assert client.post(f"/guichet/tickets/{duplicate.id}/{path}", data=data).status_code == 409
    db.session.expire_all()
    assert duplicate.status == Status.MERGED


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"confirm": ""}, "Cochez la case pour confirmer la fusion."),
        ({"reason": " "}, "Indiquez le motif de la fusion."),
        ({"into": ""}, "Choisissez le ticket."),
    ],
)
def test_a_refused_merge_keeps_what_was_typed(client, three, overrides, message):
    kept, duplicate, _ = three
    data = merge_data(kept, **overrides)
    response = client.post(f"/guichet/tickets/{duplicate.id}/fusion", data=data)
    assert response.status_code == 400
    assert message in response.text
    if data["fusion-reason"].strip():
        assert data["fusion-reason"] in response.text
    db.session.expire_all()
    assert duplicate.status == Status.OPEN


def test_another_voters_or_another_cells_ticket_is_no_choice(client, three, make_agent):
    kept, duplicate, unrelated = three
    theirs = phone_ticket(make_agent("v@csudesk.test", "agent", "AC-25", "Vera"), "AC-25")
    for target in (unrelated, theirs):
        response = client.post(f"/guichet/tickets/{duplicate.id}/fusion", data=merge_data(target))
        assert response.status_code == 400
    # Another cell's ticket as the duplicate: 404, as every page of it.
    assert (
        client.post(f"/guichet/tickets/{theirs.id}/fusion", data=merge_data(kept)).status_code
        == 404
    )
    db.session.expire_all()
    assert {t.status for t in (duplicate, unrelated, theirs)} == {Status.OPEN}


def test_the_merge_needs_the_csrf_token(client, three, app):
    kept, duplicate, _ = three
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        forged = client.post(f"/guichet/tickets/{duplicate.id}/fusion", data=merge_data(kept))
        assert forged.status_code == 400
        page = client.get(f"/guichet/tickets/{duplicate.id}").text
        form = page.split('id="fusion"', 1)[1]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        done = client.post(
            f"/guichet/tickets/{duplicate.id}/fusion",
            data={**merge_data(kept), "csrf_token": token},
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert done.status_code == 303


def test_supervision_shows_the_joint_history_and_the_merged_status(client, three, supervisor):
    kept, duplicate, _ = three
    client.post(f"/guichet/tickets/{duplicate.id}/fusion", data=merge_data(kept))
    auth = AuthActions(client)
    auth.logout()
    auth.login(supervisor.email)
    page = client.get(f"/supervision/tickets/{kept.id}").text
    assert f"ticket fusionné {duplicate.reference}" in page
    assert "Le même appel, noté deux fois." in page
    log = client.get("/supervision/tickets?statut=fusionne").text
    assert '<option selected value="fusionne">Fusionné</option>' in log or (
        'value="fusionne"' in log and "Fusionné" in log
    )
    assert duplicate.reference in log and kept.reference not in log
    export = client.get("/supervision/tickets/export.csv?statut=fusionne", buffered=True)
    text = export.data.decode("utf-8-sig")
    assert duplicate.reference in text and ";Fusionné;" in text
