"""Merging a duplicate ticket, without HTTP: who may, what it leaves, and the joint history."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.audit.services import details_of
from csudesk.db import clock_at
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.reporting import statistics
from csudesk.tickets import queries
from csudesk.tickets import services as tickets
from csudesk.tickets.merge import merge
from csudesk.tickets.models import Status
from tests.fixtures.factories import csu


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 2, hour, minute, tzinfo=UTC)


@pytest.fixture
def actor(agent):
    return Actor.for_agent(agent, "192.0.2.31")


def open_ticket(actor, when=None, csu_code="AC-09", **fields):
    with clock_at(when or at(8)):
        return tickets.create_ticket(
            actor, csu=csu(csu_code), category="lien_non_recu", channel="telephone", **fields
        )


def test_a_duplicate_of_the_same_voter_joins_the_kept_tickets_history(actor, agent, make_voter):
    voter = make_voter()
    kept = open_ticket(actor, at(8), voter=voter)
    duplicate = open_ticket(actor, at(9), voter=voter)
    with clock_at(at(8, 30)):
        tickets.add_note(actor, kept, "Premier appel.")
    with clock_at(at(9, 15)):
        tickets.add_note(actor, duplicate, "Rappelle pour la même chose.")
    with clock_at(at(10)):
        merge(actor, duplicate, kept, "  Même demande, rappel.  ")
    db.session.commit()

    assert (duplicate.status, duplicate.merged_into_id, duplicate.resolved_at) == (
        Status.MERGED,
        kept.id,
        None,
    )
    assert kept.status == Status.OPEN and kept.merged_into_id is None
    history = queries.ticket_events(kept)
    assert [(e.kind, e.ticket_id) for e in history] == [
        ("created", kept.id),
        ("note", kept.id),
        ("created", duplicate.id),
        ("note", duplicate.id),
        ("merged_into", duplicate.id),
        ("merged_from", kept.id),
    ]
    assert history[-1].text == f"{duplicate.reference} — Même demande, rappel."
    assert history[-2].text == f"{kept.reference} — Même demande, rappel."
    assert {e.ticket.reference for e in history} == {kept.reference, duplicate.reference}
    # The duplicate's own page keeps only its own events.
    assert [e.kind for e in queries.ticket_events(duplicate)] == ["created", "note", "merged_into"]
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.merge"))
    assert (entry.agent_id, entry.ticket_id, entry.voter_id) == (agent.id, duplicate.id, voter.id)
    assert details_of(entry)["into"] == kept.reference
    assert details_of(entry)["before"] == "ouvert"
    # It left the queues and the counts of open tickets.
    assert queries.open_tickets_assigned_to(agent.id) == [kept]
    assert [t.id for t in queries.queue_page({kept.csu_id}, queries.OPEN, 1).tickets] == [kept.id]
    assert [(b.code, b.open) for b in statistics.backlog_by_csu(None)] == [("AC-09", 1)]
    assert queries.merge_candidates(kept) == []


def test_the_same_contact_address_is_compared_normalised(actor):
    kept = open_ticket(actor, contact_email="Marie.Dupont@AC-Lille.fr ")
    duplicate = open_ticket(actor, contact_email="marie.dupont@ac-lille.fr")
    other = open_ticket(actor, contact_email="paul.martin@ac-lille.fr")
    assert queries.merge_candidates(duplicate) == [kept]
    merge(actor, duplicate, kept, "Même adresse.")
    assert duplicate.merged_into_id == kept.id
    with pytest.raises(ServiceError, match="ni le même électeur ni la même adresse"):
        merge(actor, other, kept, "Pas la même personne.")


def test_a_dotless_i_is_not_the_same_address(actor):
    kept = open_ticket(actor, contact_email="mike@ac-lille.fr")
    lookalike = open_ticket(actor, contact_email="m\u0131ke@ac-lille.fr")
    assert queries.merge_candidates(lookalike) == []
    with pytest.raises(ServiceError, match="ni le même électeur"):
        merge(actor, lookalike, kept, "Doublon ?")


def test_tickets_merged_into_a_duplicate_follow_it_into_the_kept_ticket(actor, make_voter):
    voter = make_voter()
    first, second, third = (open_ticket(actor, at(8 + n), voter=voter) for n in range(3))
    merge(actor, first, second, "Doublon.")
    merge(actor, second, third, "Doublon aussi.")
    db.session.commit()
    assert (first.merged_into_id, second.merged_into_id) == (third.id, third.id)
    origins = {e.ticket_id for e in queries.ticket_events(third)}
    assert origins == {first.id, second.id, third.id}
    (entry,) = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "ticket.merge", AuditEntry.ticket_id == second.id)
    )  # fmt: skip
    assert details_of(entry)["moved"] == [first.reference]


@pytest.fixture
def pair(actor, make_voter):
    voter = make_voter()
    return open_ticket(actor, voter=voter), open_ticket(actor, voter=voter)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("itself", "avec lui-même"),
        ("duplicate already merged", "est déjà fusionné"),
        ("kept one merged", "est lui-même fusionné"),
        ("empty reason", "Indiquez le motif"),
        ("long reason", "Le motif dépasse 5000 caractères"),
        ("other voter", "ni le même électeur"),
        ("other cell", "cellules différentes"),
        ("out of scope", "pas dans votre périmètre"),
    ],
)
def test_refused_merges_change_nothing(actor, make_voter, make_agent, pair, case, message):
    kept, duplicate = pair
    reason = "Doublon."
    other = Actor.for_agent(make_agent("v@csudesk.test", "agent", "AC-25", "Vera"))
    if case == "itself":
        duplicate = kept
    elif case == "duplicate already merged":
        third = open_ticket(actor, voter=kept.voter)
        merge(actor, duplicate, third, "Avant.")
    elif case == "kept one merged":
        third = open_ticket(actor, voter=kept.voter)
        merge(actor, kept, third, "Avant.")
    elif case == "empty reason":
        reason = "   "
    elif case == "long reason":
        reason = "x" * 5001
    elif case == "other voter":
        duplicate = open_ticket(actor, voter=make_voter("Martin", "Paul"))
    elif case == "other cell":
        national = Actor.for_agent(make_agent("n@csudesk.test", "agent", "NATIONAL", "Nat"))
        duplicate = open_ticket(national, csu_code="AC-25", voter=kept.voter)
        actor = national
    elif case == "out of scope":
        actor = other
    db.session.commit()
    before = (duplicate.status, duplicate.merged_into_id, len(duplicate.events))
    with pytest.raises(ServiceError, match=message):
        merge(actor, duplicate, kept, reason)
    db.session.rollback()
    assert (duplicate.status, duplicate.merged_into_id, len(duplicate.events)) == before


def test_merged_is_reached_by_merging_only(actor, pair):
    kept, _ = pair
    with pytest.raises(ServiceError, match="la fusion par « Fusionner »"):
        tickets.change_status(actor, kept, Status.MERGED)


def test_events_after_is_what_others_added_since(actor, agent, make_agent, pair):
    kept, _ = pair
    other = Actor.for_agent(make_agent("c@csudesk.test", "agent", "AC-09", "Colin"))
    loaded = queries.latest_event_id(kept)
    tickets.add_note(actor, kept, "La mienne.")
    theirs = tickets.add_note(other, kept, "La sienne.")
    system = tickets.add_event(kept, Actor.system(), "mail_in", "Réponse de l'électeur.")
    db.session.flush()
    assert queries.events_after(kept, loaded, agent.id) == [theirs, system]
    assert queries.events_after(kept, theirs.id, agent.id) == [system]
    assert len(queries.events_after(kept, loaded, None)) == 3
