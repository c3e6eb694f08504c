"""The support actions as services, without HTTP."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from csudesk.access.services import (
    ActionRefused,
    check_challenge_answer,
    request_vote_code_reissue,
    resend_activation_link,
    send_password_reset_link,
)
from csudesk.actor import Actor
from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import LinkState, OneTimeLink
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.mail.worker import send_due
from csudesk.roll import accounts
from csudesk.roll.models import ChallengeProof
from tests.fixtures.factories import VOTING
from tests.fixtures.smtp import text_of


@pytest.fixture
def agent_actor(make_agent):
    return Actor.for_agent(make_agent(), "192.0.2.1")


def token_from(message) -> str:
    import re

    return re.search(r"/activation/([A-Za-z0-9_-]+)", text_of(message)).group(1)


def test_activation_link_goes_to_the_roll_address_and_opens_once(make_voter, agent_actor, smtp):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    result = resend_activation_link(agent_actor, voter, " Marie.Dupont@ac-lille.fr ")
    db.session.commit()
    assert result.link.state() == LinkState.PENDING
    report = send_due()
    assert report.sent == 1
    (message,) = smtp.wait_for(1)
    assert message["To"] == "marie.dupont@ac-lille.fr"
    assert "http://csudesk.test/activation/" in text_of(message)
    token = token_from(message)
    db.session.refresh(result.link)
    assert result.link.token_hash == links.hash_token(token)
    assert token not in result.link.token_hash
    link = links.claimed_link(links.session_claim(token, "activation"), "activation")
    assert links.consume_claimed(link) is not None
    assert links.consume_claimed(link) is None
    assert links.state_of(link) == "used"


def test_address_not_on_the_roll_is_refused(make_voter, agent_actor):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    other = make_voter(emails=("paul@ac-lille.fr",))
    with pytest.raises(ActionRefused, match="liste électorale"):
        resend_activation_link(agent_actor, voter, "attacker@example.com")
    with pytest.raises(ActionRefused):
        resend_activation_link(agent_actor, voter, "paul@ac-lille.fr")
    assert other.id
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_double_click_gives_one_link_and_one_mail(make_voter, agent_actor, smtp):
    voter = make_voter()
    address = voter.emails[0].address
    first = resend_activation_link(agent_actor, voter, address)
    second = resend_activation_link(agent_actor, voter, address)
    db.session.commit()
    assert second.duplicate and second.link.id == first.link.id
    send_due()
    assert len(smtp.messages) == 1


def test_new_link_revokes_older_and_its_unsent_mail_is_cancelled(
    make_voter, agent_actor, smtp, app
):
    app.config["LINK_DEDUP_SECONDS"] = 0
    voter = make_voter(emails=("a@ac-lille.fr", "b@ac-lille.fr"))
    first = resend_activation_link(agent_actor, voter, "a@ac-lille.fr")
    second = resend_activation_link(agent_actor, voter, "b@ac-lille.fr")
    db.session.commit()
    db.session.refresh(first.link)
    assert first.link.state() == LinkState.REVOKED
    report = send_due()
    assert (report.sent, report.cancelled) == (1, 1)
    assert smtp.messages[0]["To"] == "b@ac-lille.fr"
    assert second.link.id != first.link.id


def test_per_voter_hourly_limit(make_voter, agent_actor, app):
    app.config["LINK_DEDUP_SECONDS"] = 0
    voter = make_voter(emails=("a@ac-lille.fr",))
    for _ in range(5):
        resend_activation_link(agent_actor, voter, "a@ac-lille.fr")
    with pytest.raises(ActionRefused, match="Limite atteinte : 5 liens"):
        resend_activation_link(agent_actor, voter, "a@ac-lille.fr")


def test_activation_refused_when_activated_and_reset_refused_when_not(make_voter, agent_actor):
    fresh = make_voter()
    done = make_voter(activated=True)
    with pytest.raises(ActionRefused, match="déjà activé"):
        resend_activation_link(agent_actor, done, done.emails[0].address)
    with pytest.raises(ActionRefused, match="pas encore activé"):
        send_password_reset_link(agent_actor, fresh, fresh.emails[0].address)
    assert (
        send_password_reset_link(agent_actor, done, done.emails[0].address).link.purpose
        == "password_reset"
    )


def test_vote_code_reissue_only_while_voting(make_voter, agent_actor, app):
    voter = make_voter(challenge_answer="Médor")
    with pytest.raises(ActionRefused, match="pendant le vote"):
        request_vote_code_reissue(agent_actor, voter, voter.emails[0].address)
    app.config["ELECTION"] = VOTING
    assert check_challenge_answer(agent_actor, voter, "Médor") is True
    assert (
        request_vote_code_reissue(agent_actor, voter, voter.emails[0].address).link.purpose
        == "vote_code"
    )


def test_an_agent_reissue_spends_the_proof_of_one_correct_check(
    make_voter, make_agent, agent_actor, app, voting
):
    """The proof is a row: one correct check gives one link, to the agent who checked."""
    app.config["LINK_DEDUP_SECONDS"] = 0
    voter = make_voter(challenge_answer="Médor")
    address = voter.emails[0].address
    with pytest.raises(ActionRefused, match="Vérifiez d'abord"):
        request_vote_code_reissue(agent_actor, voter, address)
    assert check_challenge_answer(agent_actor, voter, "Médor") is True
    other = Actor.for_agent(make_agent("autre@csudesk.test"), "192.0.2.2")
    with pytest.raises(ActionRefused, match="Vérifiez d'abord"):
        request_vote_code_reissue(other, voter, address)  # another agent's proof is not theirs
    first = request_vote_code_reissue(agent_actor, voter, address)
    db.session.commit()
    proof = db.session.scalar(select(ChallengeProof))
    assert (proof.agent_id, proof.voter_id, proof.link_id) == (
        agent_actor.agent_id,
        voter.id,
        first.link.id,
    )
    assert proof.used_at is not None
    with pytest.raises(ActionRefused, match="Vérifiez d'abord"):
        request_vote_code_reissue(agent_actor, voter, address)
    assert db.session.scalar(select(func.count()).select_from(OneTimeLink)) == 1


def test_a_proof_expires(make_voter, agent_actor, app, voting):
    voter = make_voter(challenge_answer="Médor")
    assert check_challenge_answer(agent_actor, voter, "Médor") is True
    db.session.execute(update(ChallengeProof).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(ActionRefused, match="Vérifiez d'abord"):
        request_vote_code_reissue(agent_actor, voter, voter.emails[0].address)


def test_challenge_check_is_normalised_and_limited(make_voter, agent_actor, app, voting):
    voter = make_voter(challenge_answer="Médor le chien")
    assert check_challenge_answer(agent_actor, voter, "  medor LE   chien!") is True
    assert check_challenge_answer(agent_actor, voter, "Rex") is False
    assert check_challenge_answer(agent_actor, voter, "Rex") is False
    assert check_challenge_answer(agent_actor, voter, "Rex") is False
    with pytest.raises(ActionRefused, match="Trop de réponses incorrectes"):
        check_challenge_answer(agent_actor, voter, "Médor le chien")


def _wait_over(voter, channel):
    """Let this channel's current wait end, as if its time had passed."""
    column = "desk_challenge_locked_until" if channel == accounts.DESK else "challenge_locked_until"
    setattr(voter.account, column, utcnow() - timedelta(seconds=1))
    db.session.flush()


def _wait_minutes(voter, channel) -> float:
    until = accounts.challenge_locked_until(voter, channel)
    return round((until - utcnow()).total_seconds() / 60) if until else 0


def test_wrong_answers_make_the_next_check_wait_longer_and_longer(
    make_voter, agent_actor, app, voting
):
    """No wait for the first wrong answers, then 1, 2, 4 ... minutes, at most 30."""
    voter = make_voter(challenge_answer="Médor")
    waits = []
    for _ in range(9):
        assert check_challenge_answer(agent_actor, voter, "Rex") is False
        waits.append(_wait_minutes(voter, accounts.DESK))
        _wait_over(voter, accounts.DESK)
    assert waits == [0, 0, 1, 2, 4, 8, 16, 30, 30]
    assert check_challenge_answer(agent_actor, voter, "Médor") is True
    assert voter.account.desk_challenge_failures == 0  # a right answer starts again from zero
    assert check_challenge_answer(agent_actor, voter, "Rex") is False
    assert _wait_minutes(voter, accounts.DESK) == 0


def test_public_wrong_answers_do_not_hold_up_the_desk(make_voter, agent_actor, app, voting):
    """Anyone can type answers online: that count is the public form's, not the desk's."""
    voter = make_voter(challenge_answer="Médor")
    for _ in range(5):
        accounts.count_challenge_attempt(voter, False, accounts.PUBLIC)
    assert accounts.challenge_locked_until(voter, accounts.PUBLIC) is not None
    assert accounts.challenge_locked_until(voter, accounts.DESK) is None
    assert check_challenge_answer(agent_actor, voter, "Médor") is True
    # ... and the desk's right answer does not clear the public count either.
    assert voter.account.challenge_failures == 5


def test_new_vote_code_replaces_the_previous(make_voter):
    voter = make_voter(activated=True)
    first = accounts.new_vote_code(voter, None)
    assert accounts.check_vote_code(voter, first)
    second = accounts.new_vote_code(voter, None)
    assert not accounts.check_vote_code(voter, first)
    assert accounts.check_vote_code(voter, second.lower())
    assert voter.vote_code.reissue_count == 2
    assert first not in voter.vote_code.code_hash


def test_expired_link_cannot_be_consumed(make_voter, agent_actor, smtp):
    voter = make_voter()
    result = resend_activation_link(agent_actor, voter, voter.emails[0].address)
    db.session.commit()
    send_due()
    token = token_from(smtp.wait_for(1)[0])
    link = db.session.get(OneTimeLink, result.link.id)
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    claimed = links.claimed_link(links.session_claim(token, "activation"), "activation")
    assert links.consume_claimed(claimed) is None
    assert links.state_of(claimed) == "expired"
    assert links.session_claim(token, "password_reset") is None
    assert db.session.get(OutboxMail, 1).status == MailStatus.SENT
