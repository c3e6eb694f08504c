"""Desk actions attacked through HTTP: a replayed cookie, double clicks, served processes.

Issue 10 items 4 (the "challenge checked" proof is server-side, one check gives at most one
vote-code link) and 7 (one click, one ticket), on SQLite and PostgreSQL.
"""

import pytest
from sqlalchemy import func, select

from csudesk.audit.models import AuditEntry
from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.mail.models import OutboxMail
from csudesk.roll.models import ChallengeProof, Voter
from csudesk.tickets.models import Ticket, TicketEvent
from tests.fixtures.appserver import app_processes
from tests.fixtures.factories import AGENT_PASSWORD, VOTING
from tests.fixtures.http_browser import Browser, at_once


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def challenge_data(answer: str, ticket: str = "nouveau") -> dict:
    return {
        "challenge-answer": answer,
        "challenge-ticket": ticket,
        "challenge-category": "notice_non_recue",
        "challenge-channel": "telephone",
    }


def link_data(action: str, address: str, ticket: str = "nouveau") -> dict:
    return {
        f"{action}-address": address,
        f"{action}-ticket": ticket,
        f"{action}-category": "lien_non_recu",
        f"{action}-channel": "telephone",
    }


def test_a_cookie_saved_after_a_correct_check_issues_no_second_link(
    client, lille, make_voter, voting, app
):
    """What the attacker did: save the cookie after the check, reissue, replay the cookie."""
    app.config["LINK_DEDUP_SECONDS"] = 0  # the replay comes later than a double click
    voter = make_voter(challenge_answer="Médor")
    address = voter.emails[0].address
    url = f"/guichet/electeurs/{voter.id}"
    assert client.post(f"{url}/defi", data=challenge_data("Médor")).status_code == 302
    saved = client.get_cookie("csudesk_session").value
    ticket = db.session.scalar(select(Ticket))
    sent = client.post(f"{url}/liens/vote_code", data=link_data("vote_code", address, ticket.id))
    assert "mis en file" in client.get(sent.headers["Location"]).text
    assert count(OneTimeLink) == 1
    client.set_cookie("csudesk_session", saved)
    replay = client.post(f"{url}/liens/vote_code", data=link_data("vote_code", address, ticket.id))
    assert "Vérifiez d&#39;abord la réponse" in client.get(replay.headers["Location"]).text
    assert count(OneTimeLink) == 1 and count(OutboxMail) == 1
    checks = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "challenge.check"))
    assert len(list(checks)) == 1
    refused = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "link.vote_code.refused")
    )
    assert len(list(refused)) == 1
    # The page itself shows step 1 again: the proof is spent, whatever the cookie says.
    client.set_cookie("csudesk_session", saved)
    assert "Étape 1" in client.get(url).text


def sign_in(base_url: str, email: str) -> Browser:
    browser = Browser()
    answer = browser.post(base_url, "/connexion", {"email": email, "password": AGENT_PASSWORD})
    assert answer.status == 302 and browser.cookie, answer.status
    return browser


def test_one_check_gives_at_most_one_link_under_concurrent_reissues(
    app, app_config, make_agent, make_voter
):
    voter = make_voter(challenge_answer="Médor")
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09")
    address = voter.emails[0].address
    config = {**app_config, "ELECTION": VOTING, "LINK_DEDUP_SECONDS": 0}
    path = f"/guichet/electeurs/{voter.id}"
    with app_processes(config, 2) as urls:
        browser = sign_in(urls[0], agent.email)
        checked = browser.post(urls[1], f"{path}/defi", challenge_data("Médor"))
        assert checked.status == 302
        saved = browser.cookie
        copies = [Browser(saved) for _ in range(4)]
        answers = at_once(
            [
                lambda n=n, b=b: b.post(
                    urls[n % 2], f"{path}/liens/vote_code", link_data("vote_code", address)
                )
                for n, b in enumerate(copies)
            ]
        )
    assert [a.status for a in answers] == [302] * 4
    assert count(OneTimeLink) == 1 and count(OutboxMail) == 1
    assert count(Ticket) == 2  # the check's ticket and the reissue's, no empty one
    proof = db.session.scalar(select(ChallengeProof))
    assert proof.used_at is not None
    assert proof.link_id == db.session.scalar(select(OneTimeLink.id))


def test_three_concurrent_new_ticket_resends_make_one_ticket(
    app, app_config, make_agent, make_voter
):
    """A triple click on "Renvoyer le lien d'activation" with "new ticket" (item 7)."""
    voter = make_voter()
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09")
    data = link_data("activation", voter.emails[0].address)
    path = f"/guichet/electeurs/{voter.id}/liens/activation"
    with app_processes(app_config, 2) as urls:
        browser = sign_in(urls[0], agent.email)
        answers = at_once(
            [lambda n=n: Browser(browser.cookie).post(urls[n % 2], path, data) for n in range(3)]
        )
    assert [a.status for a in answers] == [302] * 3
    assert (count(OneTimeLink), count(OutboxMail), count(Ticket)) == (1, 1, 1)
    ticket = db.session.scalar(select(Ticket))
    assert db.session.scalar(select(OneTimeLink.ticket_id)) == ticket.id
    duplicates = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "link.activation.duplicate")
    ).all()
    assert len(duplicates) == 2
    assert all(d.ticket_id == ticket.id for d in duplicates)


def test_after_the_dedup_window_new_ticket_opens_a_new_ticket(client, lille, make_voter, app):
    """Joining the earlier ticket is for a double click only, not for a later real request."""
    voter = make_voter()
    data = link_data("activation", voter.emails[0].address)
    client.post(f"/guichet/electeurs/{voter.id}/liens/activation", data=data)
    app.config["LINK_DEDUP_SECONDS"] = 0
    client.post(f"/guichet/electeurs/{voter.id}/liens/activation", data=data)
    assert (count(OneTimeLink), count(Ticket)) == (2, 2)


def desk_failures(voter_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Voter, voter_id).account.desk_challenge_failures


def entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def challenge_events() -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "challenge")
    )


@pytest.mark.parametrize("answer,correct", [("Rex", False), ("Médor", True)])
def test_a_double_click_on_the_challenge_check_makes_one_ticket_and_one_attempt(
    app, app_config, make_agent, make_voter, answer, correct
):
    """Three concurrent "new ticket" checks (a triple click), on two served processes (item 7)."""
    voter = make_voter(challenge_answer="Médor")
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09")
    config = {**app_config, "ELECTION": VOTING}
    path = f"/guichet/electeurs/{voter.id}/defi"
    with app_processes(config, 2) as urls:
        browser = sign_in(urls[0], agent.email)
        answers = at_once(
            [
                lambda n=n: Browser(browser.cookie).post(urls[n % 2], path, challenge_data(answer))
                for n in range(3)
            ]
        )
    assert [a.status for a in answers] == [302] * 3
    assert count(Ticket) == 1 and challenge_events() == 1
    ticket = db.session.scalar(select(Ticket))
    (check,) = entries("challenge.check")
    assert check.ticket_id == ticket.id and f'"correct": {str(correct).lower()}' in check.details
    duplicates = entries("challenge.check.duplicate")
    assert len(duplicates) == 2 and all(d.ticket_id == ticket.id for d in duplicates)
    assert desk_failures(voter.id) == (0 if correct else 1)
    assert count(ChallengeProof) == (1 if correct else 0)


def test_a_second_new_ticket_check_within_seconds_gives_no_free_guess(
    client, lille, make_voter, voting, app
):
    """The joined click checks nothing: a different answer learns nothing, spends nothing."""
    voter = make_voter(challenge_answer="Médor")
    url = f"/guichet/electeurs/{voter.id}"
    first = client.post(f"{url}/defi", data=challenge_data("Rex"))
    assert "Réponse au défi : incorrecte" in client.get(first.headers["Location"]).text
    ticket = db.session.scalar(select(Ticket))
    joined = client.post(f"{url}/defi", data=challenge_data("Médor"))
    page = client.get(joined.headers["Location"]).text
    assert "double clic" in page and "incorrecte" in page and ticket.reference in page
    assert count(Ticket) == 1 and count(ChallengeProof) == 0 and desk_failures(voter.id) == 1
    # Checked again on the ticket the page offers: a real check, counted.
    again = client.post(f"{url}/defi", data=challenge_data("Médor", str(ticket.id)))
    assert "Réponse au défi : correcte" in client.get(again.headers["Location"]).text
    assert count(Ticket) == 1 and count(ChallengeProof) == 1 and desk_failures(voter.id) == 0
    assert len(entries("challenge.check")) == 2 and challenge_events() == 2


def test_a_new_ticket_check_is_joined_only_in_the_window_and_for_the_same_agent(
    app, client, lille, make_agent, make_voter, voting
):
    voter = make_voter(challenge_answer="Médor")
    url = f"/guichet/electeurs/{voter.id}/defi"
    client.post(url, data=challenge_data("Rex"))
    # Another agent's "new ticket" check is its own: a ticket and an attempt.
    other = make_agent("autre.lille@csudesk.test", "agent", "AC-09")
    second = app.test_client()
    signed_in = second.post("/connexion", data={"email": other.email, "password": AGENT_PASSWORD})
    assert signed_in.status_code == 302
    second.post(url, data=challenge_data("Rex"))
    assert count(Ticket) == 2 and desk_failures(voter.id) == 2
    # Past the window, the first agent's "new ticket" is a new ticket too.
    app.config["LINK_DEDUP_SECONDS"] = 0
    client.post(url, data=challenge_data("Rex"))
    assert count(Ticket) == 3 and desk_failures(voter.id) == 3
    assert len(entries("challenge.check")) == 3 and not entries("challenge.check.duplicate")
