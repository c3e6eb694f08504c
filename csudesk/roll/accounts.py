"""Voter portal account state: password, challenge ("défi") and vote code, hashes only."""

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select, update

from csudesk.db import utcnow
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.passwords import check_password_policy, hash_secret, verify_secret
from csudesk.roll.models import ChallengeProof, VoteCode, VoteCodeReissue, Voter, VoterAccount
from csudesk.text import fold

CHALLENGE_QUESTIONS = {
    "animal": "Quel était le nom de votre premier animal de compagnie ?",
    "ecole": "Quel est le nom de votre école primaire ?",
    "ville_mere": "Dans quelle ville est née votre mère ?",
    "ami": "Quel est le prénom de votre meilleur ami ou amie d'enfance ?",
    "livre": "Quel est le titre de votre livre préféré ?",
    "rue": "Dans quelle rue habitiez-vous à dix ans ?",
}
MIN_ANSWER_LENGTH = 3
MAX_ANSWER_LENGTH = 100
VOTE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
# Where a challenge answer is typed: each place has its own count of wrong answers.
PUBLIC = "public"  # the self-service form /reassort-code-de-vote, open to anyone
DESK = "desk"  # an agent, on the phone with the caller
CHANNELS = (PUBLIC, DESK)


class AccountError(ServiceError):
    """Input refused on a link page; the message is French, `field` names the form field."""

    field = "password"


def normalize_answer(answer: str) -> str:
    """Answers compare without case, accents, punctuation or extra spaces."""
    return fold(answer)


def account_of(voter: Voter) -> VoterAccount:
    if voter.account is None:
        voter.account = VoterAccount(voter_id=voter.id)
        db.session.add(voter.account)
    return voter.account


def check_new_password(password: str, confirmation: str) -> None:
    if password != confirmation:
        raise AccountError("Les deux mots de passe saisis sont différents.")
    check_password_policy(password)


def check_challenge_input(question: str, answer: str) -> None:
    if question not in CHALLENGE_QUESTIONS:
        raise AccountError("Choisissez une question défi dans la liste.", "question")
    if not MIN_ANSWER_LENGTH <= len(normalize_answer(answer)) <= MAX_ANSWER_LENGTH:
        raise AccountError(
            f"La réponse au défi doit compter de {MIN_ANSWER_LENGTH} à {MAX_ANSWER_LENGTH}"
            " lettres ou chiffres.",
            "answer",
        )


def activate(voter: Voter, password: str, question: str, answer: str) -> None:
    """First password and challenge; the account counts as activated from now."""
    account = account_of(voter)
    now = utcnow()
    account.password_hash = hash_secret(password)
    account.password_set_at = now
    account.challenge_question = question
    account.challenge_answer_hash = hash_secret(normalize_answer(answer))
    account.challenge_set_at = now
    for channel in CHANNELS:
        _set_attempts(account, channel, 0, None)
    if account.activated_at is None:
        account.activated_at = now
    db.session.flush()


def reset_password(voter: Voter, password: str) -> None:
    account = account_of(voter)
    account.password_hash = hash_secret(password)
    account.password_set_at = utcnow()
    db.session.flush()


def check_voter_password(voter: Voter, password: str) -> bool:
    return verify_secret(voter.account.password_hash if voter.account else None, password)


def _attempts(account: VoterAccount, channel: str) -> tuple[int, datetime | None]:
    if channel == DESK:
        return account.desk_challenge_failures or 0, account.desk_challenge_locked_until
    if channel == PUBLIC:
        return account.challenge_failures or 0, account.challenge_locked_until
    raise ValueError(f"unknown challenge channel {channel!r}")


def _set_attempts(
    account: VoterAccount, channel: str, failures: int, until: datetime | None
) -> None:
    if channel == DESK:
        account.desk_challenge_failures, account.desk_challenge_locked_until = failures, until
    elif channel == PUBLIC:
        account.challenge_failures, account.challenge_locked_until = failures, until
    else:
        raise ValueError(f"unknown challenge channel {channel!r}")


def challenge_delay(failures: int) -> timedelta:
    """The wait after `failures` wrong answers in a row: none for the first few, then doubling.

    With the defaults: no wait after one or two, then 1, 2, 4, 8, 16 and at most 30 minutes.
    """
    config = current_app.config
    beyond = failures - config["CHALLENGE_MAX_ATTEMPTS"]
    if beyond < 0:
        return timedelta(0)
    minutes = config["CHALLENGE_FIRST_DELAY_MINUTES"] * 2 ** min(beyond, 16)
    return timedelta(minutes=min(minutes, config["CHALLENGE_LOCK_MINUTES"]))


def challenge_locked_until(voter: Voter, channel: str, at: datetime | None = None):
    """When the next check of this channel is possible, if it has to wait at `at` (now)."""
    account = voter.account
    if account is None:
        return None
    _, until = _attempts(account, channel)
    if until is not None and until > (at or utcnow()):
        return until
    return None


def verify_challenge(voter: Voter | None, answer: str) -> bool:
    """Compare an answer with the stored slow hash (a decoy hash when there is none)."""
    stored = voter.account.challenge_answer_hash if voter and voter.account else None
    return verify_secret(stored, normalize_answer(answer))


def count_challenge_attempt(voter: Voter, ok: bool, channel: str) -> None:
    """A right answer clears this channel's count; a wrong one adds to it and sets the wait."""
    account = account_of(voter)
    if ok:
        _set_attempts(account, channel, 0, None)
    else:
        failures = _attempts(account, channel)[0] + 1
        delay = challenge_delay(failures)
        _set_attempts(account, channel, failures, utcnow() + delay if delay else None)
    db.session.flush()


def grant_challenge_proof(voter: Voter, agent_id: int) -> ChallengeProof:
    """Record an agent's correct check; it replaces this agent's unspent proof for the voter."""
    now = utcnow()
    db.session.execute(
        delete(ChallengeProof).where(
            ChallengeProof.voter_id == voter.id,
            ChallengeProof.agent_id == agent_id,
            ChallengeProof.used_at.is_(None),
        )
    )
    proof = ChallengeProof(
        voter_id=voter.id,
        agent_id=agent_id,
        created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["CHALLENGE_PROOF_MINUTES"]),
    )
    db.session.add(proof)
    db.session.flush()
    return proof


# Built once (every voter file page asks): a statement object keeps its cache key. On the
# table's columns, not the model's: a Core statement skips the ORM's work for one id.
_PROOFS = ChallengeProof.__table__.c
_LIVE_PROOF = (
    select(_PROOFS.id)
    .where(
        _PROOFS.voter_id == bindparam("voter_id"),
        _PROOFS.agent_id == bindparam("agent_id"),
        _PROOFS.used_at.is_(None),
        _PROOFS.expires_at > bindparam("now"),
    )
    .order_by(_PROOFS.id.desc())
    .limit(1)
)


def _live_proof_id(voter_id: int, agent_id: int, now: datetime):
    # A Core statement does not autoflush: a proof granted or spent in this session counts.
    db.session.flush()
    return db.session.scalar(_LIVE_PROOF, {"voter_id": voter_id, "agent_id": agent_id, "now": now})


def has_challenge_proof(voter_id: int, agent_id: int) -> bool:
    """True while this agent holds an unspent, unexpired proof for this voter (read only)."""
    return _live_proof_id(voter_id, agent_id, utcnow()) is not None


def spend_challenge_proof(voter: Voter, agent_id: int) -> ChallengeProof | None:
    """Spend the agent's proof in one UPDATE that changes exactly one row, or return None.

    Of two requests carrying the same proof (a replayed cookie, a double click), the second
    finds `used_at` set: on PostgreSQL it waits for the first's row lock, then re-checks.
    """
    now = utcnow()
    proof_id = _live_proof_id(voter.id, agent_id, now)
    if proof_id is None:
        return None
    changed = db.session.execute(
        update(ChallengeProof)
        .where(
            ChallengeProof.id == proof_id,
            ChallengeProof.used_at.is_(None),
            ChallengeProof.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return None
    return db.session.get(ChallengeProof, proof_id, populate_existing=True)


def _normalize_code(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def new_vote_code(voter: Voter, link_id: int | None) -> str:
    """Replace the voter's vote code; the clear code is returned once and stored nowhere."""
    raw = "".join(secrets.choice(VOTE_CODE_ALPHABET) for _ in range(16))
    code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
    now = utcnow()
    state = voter.vote_code
    if state is None:
        state = voter.vote_code = VoteCode(voter_id=voter.id, reissue_count=0)
        db.session.add(state)
    state.code_hash = hash_secret(_normalize_code(code))  # argon2id, as challenge answers
    state.issued_at = now
    state.reissue_count = (state.reissue_count or 0) + 1
    state.last_reissued_at = now
    db.session.add(VoteCodeReissue(voter_id=voter.id, link_id=link_id, at=now))
    db.session.flush()
    return code


def check_vote_code(voter: Voter, code: str) -> bool:
    """True when this is the voter's current vote code (used by the voting side and tests)."""
    state = voter.vote_code
    if state is None or state.code_hash is None:
        return False
    return verify_secret(state.code_hash, _normalize_code(code))
