"""Voter lookup at the desk, scope and audit (SECURITY.md 9, 18)."""

import pytest

from csudesk.access import worker
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db


def search_by_email(client, address):
    return client.post("/guichet/recherche", data={"courriel": address})


def test_lookup_by_address_shows_the_voter_file(client, lille, make_voter):
    voter = make_voter(
        "DUPONT", "Marie", emails=("marie.dupont@ac-lille.fr", "m.dupont@ac-lille.fr")
    )
    response = search_by_email(client, " M.Dupont@AC-LILLE.fr")
    # A redirect to the voter file: the address is in no URL, Location included.
    assert response.status_code == 303
    assert response.headers["Location"] == f"/guichet/electeurs/{voter.id}"
    page = client.get(response.headers["Location"]).text
    assert "DUPONT Marie" in page
    assert "marie.dupont@ac-lille.fr" in page and "m.dupont@ac-lille.fr" in page
    assert "Non activé" in page
    assert "Renvoyer le lien d'activation" in page
    entry = db.session.query(AuditEntry).filter_by(action="voter.lookup").one()
    assert (entry.voter_id, entry.agent_id) == (voter.id, lille.id)


def test_activated_voter_file_shows_state_not_secrets(client, lille, make_voter):
    voter = make_voter(activated=True, challenge_answer="Médor le chien")
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    assert "Activé le" in page and "choisie" in page
    assert "Envoyer un lien de réassort du mot de passe" in page
    assert "Médor" not in page and "medor" not in page
    assert voter.account.password_hash not in page
    assert voter.account.challenge_answer_hash not in page


def test_unknown_address_says_so_and_offers_a_ticket(client, lille, directory):
    page = search_by_email(client, "nobody@ac-lille.fr").text
    assert "Aucun électeur avec l'adresse « nobody@ac-lille.fr »" in page
    assert "nouveau?courriel=" not in page
    assert 'href="/guichet/tickets/nouveau?depuis=recherche"' in page
    form = client.get("/guichet/tickets/nouveau?depuis=recherche").text
    assert 'value="nobody@ac-lille.fr"' in form  # prefilled from the session, not the URL


def test_voter_of_another_csu_shows_only_where_to_hand_over(client, lille, make_voter):
    from csudesk.directory.services import set_contact

    set_contact("AC-25", phone="01 30 00 00 00")
    make_voter("MARTIN", "Paul", emails=("paul.martin@ac-versailles.fr",), uai="0783774D")
    page = search_by_email(client, "paul.martin@ac-versailles.fr").text
    assert "relève d'une autre cellule" in page
    assert (
        "relève de la cellule <strong>Académie de Versailles</strong>" in page
        and "01 30 00 00 00" in page
    )
    assert "MARTIN" not in page and "Paul" not in page


def test_url_tampering_gives_404(client, lille, make_voter):
    other = make_voter("MARTIN", "Paul", uai="0783774D")
    assert client.get(f"/guichet/electeurs/{other.id}").status_code == 404
    response = client.post(
        f"/guichet/electeurs/{other.id}/liens/activation",
        data={"activation-address": other.emails[0].address, "activation-ticket": "nouveau"},
    )
    assert response.status_code == 404
    assert (
        client.post(
            f"/guichet/electeurs/{other.id}/defi", data={"challenge-answer": "x"}
        ).status_code
        == 404
    )
    assert client.get(f"/guichet/tickets/nouveau?electeur={other.id}").status_code == 404
    assert client.get("/guichet/electeurs/999999").status_code == 404


def test_national_agent_sees_every_csu(client, make_agent, auth, make_voter):
    other = make_voter("MARTIN", "Paul", uai="0783774D")
    auth.login(make_agent("nat@csudesk.test", "agent", "NATIONAL").email)
    assert client.get(f"/guichet/electeurs/{other.id}").status_code == 200


def test_name_search_within_scope(client, lille, make_voter):
    target = make_voter("LEFÈVRE", "Jérôme")
    make_voter("LEFÈVRE", "Jérôme", uai="0783774D")  # Versailles: out of scope
    page = client.get(
        "/guichet/recherche", query_string={"nom": "lefebvre", "prenom": "jerome"}
    ).text
    assert page.count("/guichet/electeurs/") == 1
    assert f"/guichet/electeurs/{target.id}" in page
    assert db.session.query(AuditEntry).filter_by(action="voter.search").count() == 1


def test_name_search_by_establishment(client, lille, make_voter):
    make_voter("DUPONT", "Marie", uai="0590002G")
    wanted = make_voter("DUPONT", "Marie")
    page = client.get("/guichet/recherche", query_string={"nom": "Dupont", "uai": "0590001f"}).text
    assert page.count("/guichet/electeurs/") == 1 and f"/guichet/electeurs/{wanted.id}" in page


@pytest.mark.parametrize(
    "query,message",
    [
        ({"nom": ""}, "Saisissez le nom."),
        ({"nom": "Dupont", "uai": "0590001A"}, "lettre de contrôle"),
    ],
)
def test_bad_search_input_gets_a_clear_message(client, lille, query, message):
    response = client.get("/guichet/recherche", query_string=query)
    assert response.status_code == 400
    assert message in response.text


@pytest.mark.parametrize("address,message", [("", "Saisissez une adresse."), ("x" * 300, "254")])
def test_bad_address_search_gets_a_clear_message(client, lille, address, message):
    response = search_by_email(client, address)
    assert response.status_code == 400
    assert message in response.text


def test_every_voter_view_is_audited(client, lille, make_voter):
    voter = make_voter()
    client.get(f"/guichet/electeurs/{voter.id}")
    client.get(f"/guichet/electeurs/{voter.id}")
    views = db.session.query(AuditEntry).filter_by(action="voter.view", voter_id=voter.id).all()
    assert len(views) == 2 and all(v.ip == "127.0.0.1" for v in views)


def test_voter_file_lists_the_voters_self_service_requests(client, lille, make_voter):
    """What the voter asked online and what came of it, for the agent on the phone."""
    from csudesk.access import selfservice
    from csudesk.access.models import RequestKind

    voter = make_voter(emails=("marie.dupont@ac-lille.fr", "m.dupont@ac-lille.fr"))
    other = make_voter("MARTIN", "Paul", emails=("paul.martin@ac-lille.fr",))
    selfservice.submit(RequestKind.LINK_NOT_RECEIVED, "m.dupont@ac-lille.fr", "198.51.100.7")
    selfservice.submit(RequestKind.VOTE_CODE, "marie.dupont@ac-lille.fr", "198.51.100.7", True)
    db.session.commit()
    assert worker.process_pending().processed == 2
    selfservice.submit(RequestKind.PASSWORD_REFUSED, "paul.martin@ac-lille.fr", "198.51.100.8")
    db.session.commit()

    page = client.get(f"/guichet/electeurs/{voter.id}").text
    section = page[page.index("Demandes faites en ligne") : page.index('id="titre-tickets"')]
    assert "Lien non reçu" in section and "Lien d&#39;activation envoyé le" in section
    assert "Réassort du code de vote" in section and "Vote fermé le" in section
    assert "Mot de passe refusé" not in section  # another voter's request
    assert "198.51.100.7" not in page  # the requester's IP stays in the audit trail

    page = client.get(f"/guichet/electeurs/{other.id}").text
    assert "Mot de passe refusé" in page and "En attente de traitement" in page


def test_requests_stay_with_the_voter_who_made_them_when_an_address_moves(
    client, lille, make_voter
):
    """A roll address can pass from one voter to another: its past requests do not follow it."""
    from csudesk.access import selfservice
    from csudesk.access.models import RequestKind
    from csudesk.roll.models import VoterEmail

    before = make_voter("DURAND", "Alix", emails=("x.partage@ac-lille.fr",), uai="0751717J")
    after = make_voter("MARTIN", "Paul", emails=("paul.martin@ac-lille.fr",))
    selfservice.submit(RequestKind.LINK_NOT_RECEIVED, "x.partage@ac-lille.fr", "198.51.100.7")
    db.session.commit()
    assert worker.process_pending().processed == 1
    # A later roll gives the address to a voter of the Lille CSU.
    db.session.query(VoterEmail).filter_by(address="x.partage@ac-lille.fr").update(
        {"voter_id": after.id}
    )
    db.session.commit()

    page = client.get(f"/guichet/electeurs/{after.id}").text
    assert "x.partage@ac-lille.fr" in page  # now on this voter's roll addresses
    section = page[page.index("Demandes faites en ligne") : page.index('id="titre-tickets"')]
    assert "Aucune demande en libre-service" in section and "Lien non reçu" not in section
    db.session.expire_all()
    assert [r.voter_id for r in voter_file_requests(before)] == [before.id]


def voter_file_requests(voter):
    from csudesk.desk.voter_file import voter_file

    return voter_file(voter, None).requests
