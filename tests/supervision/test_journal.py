"""The audit trail pages: by voter and by agent within the scope, Paris times, chain check."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from csudesk.audit import services as audit
from csudesk.audit.models import AuditEntry
from csudesk.db import clock_at
from csudesk.extensions import db
from tests.fixtures.tamper import lift_append_only, slip_into_chain

from .conftest import LILLE_UAI, VERSAILLES_UAI, actor_of, filter_by_post


@pytest.fixture
def trail(people, make_voter):
    marie = make_voter("Dupont", "Marie", ("marie.dupont@ac-lille.fr",), LILLE_UAI)
    paul = make_voter("Martin", "Paul", ("paul.martin@ac-versailles.fr",), VERSAILLES_UAI)
    with clock_at(datetime(2026, 1, 15, 12, 0, tzinfo=UTC)):  # 13:00 in Paris (winter)
        audit.record(actor_of(people.agent_lille), "voter.view", voter_id=marie.id)
    with clock_at(datetime(2026, 7, 15, 12, 0, tzinfo=UTC)):  # 14:00 in Paris (summer)
        audit.record(actor_of(people.sup_nat), "voter.view", voter_id=marie.id)
        audit.record(actor_of(people.agent_versailles), "voter.view", voter_id=paul.id)
        audit.record(actor_of(people.agent_versailles), "link.activation", voter_id=paul.id)
    db.session.commit()
    return marie, paul


def rows(response) -> list[str]:
    body = response.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in body.split("</tr>")][
        :-1
    ]


def test_who_looked_at_this_voter_and_when(client, auth, people, trail):
    marie, _ = trail
    auth.login(people.sup_lille.email)
    response = filter_by_post(
        client, "/supervision/journal", {"courriel": "Marie.Dupont@ac-lille.fr"}
    )
    assert response.status_code == 200
    found = rows(response)
    assert len(found) == 2
    assert "15/07/2026 14:00:00 Nina National NATIONAL Consultation d'une fiche électeur" in (
        found[0].replace("&#39;", "'")
    )
    assert "15/01/2026 13:00:00 Luc Lille AC-09" in found[1]
    assert "192.0.2.10" in found[1]
    # The first search is now in the voter's trail too: supervisors' reading is traced.
    again = rows(client.get(f"/supervision/journal?electeur={marie.id}"))
    assert len(again) == 3 and "Sophie Lille" in again[0] and "en supervision" in again[0]


def test_other_csus_voters_and_agents_stay_hidden(client, auth, people, trail):
    _, paul = trail
    auth.login(people.sup_lille.email)
    everything = client.get("/supervision/journal").text
    assert "Vera Versailles" not in everything and "Martin Paul" not in everything
    assert "Luc Lille" in everything and "Nina National" in everything
    hidden = filter_by_post(
        client, "/supervision/journal", {"courriel": "paul.martin@ac-versailles.fr"}
    )
    assert "Aucun électeur de votre périmètre" in hidden.text
    assert client.get(f"/supervision/journal?electeur={paul.id}").status_code == 404
    assert client.get(f"/supervision/journal?agent={people.agent_versailles.id}").status_code == 404


def test_by_agent_and_action_for_the_national_supervisor(client, auth, people, trail):
    auth.login(people.sup_nat.email)
    by_agent = rows(client.get(f"/supervision/journal?agent={people.agent_versailles.id}"))
    # What the agent did, and what was done to the account (its creation).
    assert [("Vera Versailles" in r, "compte agent" in r) for r in by_agent] == [
        (True, False),
        (True, False),
        (False, True),
    ]
    links = rows(client.get("/supervision/journal?action=link.activation"))
    assert len(links) == 1 and "Envoi d'un lien d'activation" in links[0].replace("&#39;", "'")
    period = rows(client.get("/supervision/journal?du=2026-01-15&au=2026-01-15"))
    assert len(period) == 1 and "Luc Lille" in period[0]


def test_journal_pages_by_id(app, client, auth, people, trail):
    app.config["PAGE_SIZE"] = 2
    auth.login(people.sup_nat.email)
    first = client.get("/supervision/journal")
    ids = [int(r.split()[0]) for r in rows(first)]
    older = re.search(r'href="([^"]*apres=\d+[^"]*)"', first.text).group(1).replace("&amp;", "&")
    second = [int(r.split()[0]) for r in rows(client.get(older))]
    assert ids == sorted(ids, reverse=True) and second and max(second) < min(ids)


def _forge_insertion(ids: list[int]) -> int:
    return slip_into_chain(ids[1])


def _edit_details(ids: list[int]) -> int:
    db.session.execute(
        text("UPDATE audit_entry SET details = '{\"n\": 9}' WHERE id = :i"), {"i": ids[2]}
    )
    return ids[2]


def _edit_time(ids: list[int]) -> int:
    db.session.execute(
        text("UPDATE audit_entry SET at = '2020-01-01 00:00:00' WHERE id = :i"), {"i": ids[3]}
    )
    return ids[3]


def _delete(ids: list[int]) -> int:
    db.session.execute(text("DELETE FROM audit_entry WHERE id = :i"), {"i": ids[1]})
    return ids[2]


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_edit_details, "le contenu de l&#39;entrée a été modifié"),
        (_edit_time, "le contenu de l&#39;entrée a été modifié"),
        (_delete, "supprimée, insérée ou modifiée"),
        # The forger can copy the previous hash, not compute the keyed one.
        (_forge_insertion, "le contenu de l&#39;entrée a été modifié"),
    ],
)
def test_verify_page_names_the_first_broken_entry(client, auth, people, tamper, reason):
    auth.login(people.sup_lille.email)
    assert "Vérifier le journal" in client.get("/supervision/journal/integrite").text
    count = len(db.session.scalars(select(AuditEntry.id)).all())
    intact = client.post("/supervision/journal/integrite")
    assert "Journal intègre" in intact.text and f"{count} entrées vérifiées" in intact.text
    ids = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
    lift_append_only()  # as the table's owner: the application cannot
    broken = tamper(ids)
    db.session.commit()
    response = client.post("/supervision/journal/integrite")
    assert response.status_code == 200
    assert f"Journal rompu à l'entrée n° {broken}<" in response.text
    assert reason in response.text
    checks = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "audit.verify").order_by(AuditEntry.at)
    ).all()
    assert [audit.details_of(e)["ok"] for e in checks] == [True, False]
    assert audit.details_of(checks[-1])["broken_id"] == broken


def test_verify_needs_a_csrf_token_when_csrf_is_on(app, client, auth, people):
    auth.login(people.sup_lille.email)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/supervision/journal/integrite").status_code == 400


def test_verify_page_catches_deleted_newest_entries_with_a_noted_head(client, auth, people):
    import re

    auth.login(people.sup_lille.email)
    page = client.post("/supervision/journal/integrite").text
    head = re.search(r'<code class="csu-mono">(\d+:[0-9a-f]{64})</code>', page).group(1)
    head_id = int(head.split(":")[0])
    lift_append_only()
    db.session.execute(text("DELETE FROM audit_entry WHERE id >= :i"), {"i": head_id})
    db.session.commit()
    assert "Journal intègre" in client.post("/supervision/journal/integrite").text
    caught = client.post("/supervision/journal/integrite", data={"tete": head})
    assert f"Journal rompu à l'entrée n° {head_id}<" in caught.text
    assert "des entrées ont été supprimées" in caught.text
    bad = client.post("/supervision/journal/integrite", data={"tete": "12:xyz"})
    assert bad.status_code == 400 and "64 caractères" in bad.text


def test_lookup_of_another_csus_voter_does_not_name_it_in_the_journal(
    client, auth, people, make_voter
):
    from csudesk.audit.services import record

    other = make_voter("MARTIN", "Paulin", uai="0783774D")  # Versailles
    record(actor_of(people.agent_lille), "voter.lookup", voter_id=other.id, in_scope=False)
    db.session.commit()
    auth.login(people.sup_lille.email)
    page = client.get("/supervision/journal").text
    assert "Paulin" not in page
    assert "électeur d&#39;une autre cellule" in page or "électeur d'une autre cellule" in page
    auth.logout()
    auth.login(people.sup_nat.email)
    assert "Paulin" in client.get("/supervision/journal").text
