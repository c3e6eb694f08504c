"""The three actions through the desk, each with its ticket (issue 3)."""

import re

from sqlalchemy import select

from csudesk.access import worker
from csudesk.audit.models import AuditEntry
from csudesk.audit.services import details_of
from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.mail.worker import send_due
from csudesk.roll.models import Voter
from csudesk.tickets.models import Ticket, TicketEvent
from tests.fixtures.desk import challenge, post_link


def test_resend_activation_creates_ticket_link_mail_and_audit(client, lille, make_voter, smtp):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr", "m.dupont@ac-lille.fr"))
    response = post_link(client, voter, "activation", "m.dupont@ac-lille.fr")
    assert response.status_code == 302 and response.headers["Location"].endswith("#confirmation")
    page = client.get(response.headers["Location"]).text
    assert "mis en file d&#39;envoi vers m.dupont@ac-lille.fr" in page
    ticket = db.session.scalar(select(Ticket))
    assert (ticket.voter_id, ticket.csu.code, ticket.channel, ticket.assigned_agent_id) == (
        voter.id,
        "AC-09",
        "telephone",
        lille.id,
    )
    link = db.session.scalar(select(OneTimeLink))
    assert (link.address, link.ticket_id, link.requested_by_agent_id) == (
        "m.dupont@ac-lille.fr",
        ticket.id,
        lille.id,
    )
    assert db.session.scalar(select(OutboxMail)).status == MailStatus.PENDING
    assert "en attente d&#39;envoi" in page
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert "ticket.create" in actions and "link.activation" in actions
    send_due()
    assert smtp.wait_for(1)[0]["To"] == "m.dupont@ac-lille.fr"
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    assert "remis au serveur de messagerie" in page
    assert "en attente d&#39;utilisation" in page


def test_action_joins_an_open_ticket_picked_by_the_agent(client, lille, make_voter):
    voter = make_voter()
    post_link(client, voter, "activation")
    ticket = db.session.scalar(select(Ticket))
    client.application.config["LINK_DEDUP_SECONDS"] = 0
    post_link(client, voter, "activation", ticket=str(ticket.id))
    assert db.session.query(Ticket).count() == 1
    kinds = [e.kind for e in db.session.query(TicketEvent).filter_by(ticket_id=ticket.id)]
    assert kinds.count("action") == 2


def test_address_not_on_the_roll_cannot_be_posted(client, lille, make_voter):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    response = post_link(client, voter, "activation", "attacker@evil.example")
    assert response.status_code == 400
    assert "N&#39;est pas un choix valide." in response.text
    assert db.session.query(OutboxMail).count() == 0
    # The voter file came back with the error: that showing is audited like any other.
    entry = db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
    assert (entry.action, entry.voter_id) == ("voter.view", voter.id)
    assert details_of(entry) == {"invalid_form": "link.activation"}


def test_refused_action_says_why_and_is_audited(client, lille, make_voter):
    voter = make_voter(activated=True)
    response = post_link(client, voter, "activation")
    page = client.get(response.headers["Location"]).text
    assert "Le compte est déjà activé" in page
    assert db.session.query(Ticket).count() == 0  # nothing half-done
    refused = db.session.query(AuditEntry).filter_by(action="link.activation.refused").one()
    assert refused.voter_id == voter.id and "déjà activé" in refused.details


def test_password_reset_for_an_activated_account(client, lille, make_voter, smtp):
    voter = make_voter(activated=True)
    post_link(client, voter, "password_reset")
    send_due()
    (message,) = smtp.wait_for(1)
    assert "réassort de votre mot de passe" in message["Subject"]
    assert "http://csudesk.test/mot-de-passe/" in message.get_body(("plain",)).get_content()


def test_double_click_sends_one_mail(client, lille, make_voter, smtp):
    voter = make_voter()
    first = post_link(client, voter, "activation")
    second = post_link(client, voter, "activation")
    assert first.status_code == second.status_code == 302
    assert "aucun nouvel envoi (double clic)" in client.get(second.headers["Location"]).text
    send_due()
    assert len(smtp.messages) == 1
    assert db.session.query(OneTimeLink).count() == 1


def test_hourly_limit_has_a_clear_message(client, lille, make_voter, app):
    app.config["LINK_DEDUP_SECONDS"] = 0
    voter = make_voter()
    for _ in range(5):
        post_link(client, voter, "activation")
    response = post_link(client, voter, "activation")
    assert "Limite atteinte : 5 liens" in client.get(response.headers["Location"]).text


def test_smtp_down_never_fails_the_action(client, lille, make_voter, smtp):
    smtp.stop()
    voter = make_voter()
    response = post_link(client, voter, "activation")
    assert response.status_code == 302
    report = send_due()
    assert report.retried == 1
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    assert "en file d&#39;attente" in page and "nouvelle tentative le" in page


def test_vote_code_reissue_outside_voting_window(client, lille, make_voter):
    voter = make_voter(challenge_answer="Médor")
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    assert "Possible uniquement pendant le vote" in page
    response = client.post(
        f"/guichet/electeurs/{voter.id}/defi",
        data={
            "challenge-answer": "Médor",
            "challenge-ticket": "nouveau",
            "challenge-category": "notice_non_recue",
            "challenge-channel": "telephone",
        },
    )
    assert "pendant le vote" in client.get(response.headers["Location"]).text


def test_vote_code_reissue_needs_the_challenge_first(client, lille, make_voter, voting, smtp):
    voter = make_voter(challenge_answer="Médor le chien")
    refused = post_link(client, voter, "vote_code")
    assert "Vérifiez d&#39;abord la réponse" in client.get(refused.headers["Location"]).text
    wrong = challenge(client, voter, "Rex")
    page = client.get(wrong.headers["Location"]).text
    assert "Réponse au défi : incorrecte." in page
    assert "Médor" not in page
    right = challenge(client, voter, "medor le chien")
    page = client.get(right.headers["Location"]).text
    assert "Réponse au défi : correcte" in page
    assert "Étape 2" in page
    ticket = db.session.scalar(select(Ticket).order_by(Ticket.id.desc()))
    sent = post_link(client, voter, "vote_code", ticket=str(ticket.id))
    assert (
        "réassort du code de vote mis en file" in client.get(sent.headers["Location"]).text.lower()
    )
    send_due()
    (message,) = smtp.wait_for(1)
    assert "/code-de-vote/" in message.get_body(("plain",)).get_content()
    checks = db.session.query(AuditEntry).filter_by(action="challenge.check").all()
    assert [c.details for c in checks] == ['{"correct": false}', '{"correct": true}']
    # the verification is spent by the reissue
    assert "Étape 1" in client.get(f"/guichet/electeurs/{voter.id}").text


def test_challenge_attempts_are_limited(client, lille, make_voter, voting):
    voter = make_voter(challenge_answer="Médor")
    for _ in range(3):
        challenge(client, voter, "Rex")
    blocked = challenge(client, voter, "Médor")
    assert "Trop de réponses incorrectes" in client.get(blocked.headers["Location"]).text


def test_responses_never_carry_the_token(client, lille, make_voter, smtp):
    voter = make_voter()
    post_link(client, voter, "activation")
    send_due()
    token = re.search(
        r"/activation/([\w-]+)", smtp.wait_for(1)[0].get_body(("plain",)).get_content()
    ).group(1)
    link = db.session.scalar(select(OneTimeLink))
    for url in (
        f"/guichet/electeurs/{voter.id}",
        f"/guichet/tickets/{link.ticket_id}",
        "/guichet/tickets",
        "/guichet/",
    ):
        body = client.get(url).text
        assert token not in body and link.token_hash not in body


def test_mailed_link_uses_base_url_not_the_host_header(client, make_agent, auth, make_voter, smtp):
    evil = "http://evil.example"
    auth.login(make_agent().email, base_url=evil)
    voter = make_voter()
    response = client.post(
        f"/guichet/electeurs/{voter.id}/liens/activation",
        data={
            "activation-address": voter.emails[0].address,
            "activation-ticket": "nouveau",
            "activation-category": "lien_non_recu",
            "activation-channel": "telephone",
        },
        base_url=evil,
        headers={"X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 302
    send_due()
    body = smtp.wait_for(1)[0].get_body(("plain",)).get_content()
    assert "http://csudesk.test/activation/" in body
    assert "evil.example" not in body


def test_parallel_challenge_checks_respect_the_attempt_limit(
    make_voter, make_agent, app_config, voting
):
    """10 wrong answers at once: 3 are checked, the others find the check locked."""
    import threading

    from csudesk import create_app
    from csudesk.access import services as access
    from csudesk.actor import Actor
    from csudesk.roll.models import Voter
    from tests.fixtures.factories import VOTING

    voter_id = make_voter(challenge_answer="Médor").id
    agent_id = make_agent().id
    db.session.commit()
    app = create_app({**app_config, "ELECTION": VOTING})
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def check(answer):
        with app.app_context():
            from csudesk.agents.models import Agent

            actor = Actor.for_agent(db.session.get(Agent, agent_id))
            voter = db.session.get(Voter, voter_id)
            db.session.commit()  # end the read: on SQLite it holds the write lock
            barrier.wait()
            try:
                outcome = (
                    "right" if access.check_challenge_answer(actor, voter, answer) else "wrong"
                )
                db.session.commit()
            except access.ActionRefused:
                db.session.rollback()
                outcome = "locked"
            with lock:
                outcomes.append(outcome)
            db.session.remove()

    threads = [threading.Thread(target=check, args=("Rex",)) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        db.engine.dispose()
    assert sorted(outcomes) == ["locked"] * 7 + ["wrong"] * 3


def test_empty_challenge_answer_comes_back_audited(client, lille, make_voter, voting):
    voter = make_voter(challenge_answer="Médor")
    response = challenge(client, voter, "")
    assert response.status_code == 400 and "titre-etat" in response.text  # the voter file
    entry = db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
    assert (entry.action, entry.voter_id) == ("voter.view", voter.id)
    assert details_of(entry) == {"invalid_form": "challenge.check"}


def test_a_strangers_wrong_answers_online_do_not_lock_the_desk_check(
    client, lille, make_voter, voting, app
):
    """Issue 10 item 9: the public form and the desk count wrong answers apart."""

    voter = make_voter(challenge_answer="Médor")
    address = voter.emails[0].address
    app.config["RATELIMIT_PUBLIC_PER_ADDRESS"] = "100 per hour"
    for guess in ("Rex", "Félix", "Milou", "Idéfix"):
        posted = client.post("/reassort-code-de-vote", data={"email": address, "answer": guess})
        assert posted.status_code == 303
    assert worker.process_pending().processed == 4
    db.session.expire_all()
    account = db.session.get(Voter, voter.id).account
    assert account.challenge_locked_until is not None  # the public form now waits
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    assert "Étape 1" in page and "Trop de réponses incorrectes" not in page
    checked = challenge(client, voter, "Médor")
    assert "Réponse au défi : correcte" in client.get(checked.headers["Location"]).text


def test_wrong_answers_at_the_desk_make_the_next_check_wait(client, lille, make_voter, voting):
    """No lock-out for 30 minutes after 3 answers: a wait that grows with each wrong one."""
    from datetime import timedelta

    from csudesk.db import utcnow

    voter = make_voter(challenge_answer="Médor")
    for _ in range(3):
        challenge(client, voter, "Rex")
    refused = challenge(client, voter, "Médor")
    page = client.get(refused.headers["Location"]).text
    assert "Trop de réponses incorrectes : prochaine vérification possible" in page
    db.session.expire_all()
    account = db.session.get(Voter, voter.id).account
    wait = account.desk_challenge_locked_until - utcnow()
    assert timedelta(seconds=50) < wait <= timedelta(minutes=1)
    assert account.challenge_locked_until is None  # the public count is untouched
    account.desk_challenge_locked_until = utcnow() - timedelta(seconds=1)  # a minute later
    db.session.commit()
    challenge(client, voter, "Rex")
    db.session.expire_all()
    account = db.session.get(Voter, voter.id).account
    assert account.desk_challenge_locked_until - utcnow() > timedelta(minutes=1, seconds=50)
    account.desk_challenge_locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    right = challenge(client, voter, "Médor")
    assert "Réponse au défi : correcte" in client.get(right.headers["Location"]).text
