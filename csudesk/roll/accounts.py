"""Voter portal account state: password, challenge ("défi") and vote code, hashes only."""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app

from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.passwords import hash_secret, verify_secret
from csudesk.roll.models import VoteCode, VoteCodeReissue, Voter, VoterAccount
from csudesk.text import fold

CHALLENGE_QUESTIONS = {
    "animal": "Quel était le nom de votre premier animal de compagnie ?",
    "ecole": "Quel est le nom de votre école primaire ?",
    "ville_mere": "Dans quelle ville est née votre mère ?",
    "ami": "Quel est le prénom de votre meilleur ami ou amie d'enfance ?",
    "livre": "Quel est le titre de votre livre préféré ?",
    "rue": "Dans quelle rue habitiez-vous à dix ans ?",
}
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MIN_ANSWER_LENGTH = 3
MAX_ANSWER_LENGTH = 100
VOTE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class AccountError(ValueError):
    """Input refused on a link page; the message is French, `field` names the form field."""

    def __init__(self, message: str, field: str = "password"):
        super().__init__(message)
        self.field = field


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"Le mot de passe ne peut dépasser {MAX_PASSWORD_LENGTH} caractères.")


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
    account.challenge_failures = 0
    account.challenge_locked_until = None
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


def challenge_locked_until(voter: Voter):
    account = voter.account
    if account and account.challenge_locked_until and account.challenge_locked_until > utcnow():
        return account.challenge_locked_until
    return None


def verify_challenge(voter: Voter | None, answer: str) -> bool:
    """Compare an answer with the stored slow hash (a decoy hash when there is none)."""
    stored = voter.account.challenge_answer_hash if voter and voter.account else None
    return verify_secret(stored, normalize_answer(answer))


def count_challenge_attempt(voter: Voter, ok: bool) -> None:
    """Reset the failure count on success; lock the check after too many failures."""
    account = account_of(voter)
    if ok:
        account.challenge_failures = 0
        return
    account.challenge_failures += 1
    if account.challenge_failures >= current_app.config["CHALLENGE_MAX_ATTEMPTS"]:
        account.challenge_failures = 0
        account.challenge_locked_until = utcnow() + timedelta(
            minutes=current_app.config["CHALLENGE_LOCK_MINUTES"]
        )
    db.session.flush()


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").upper().encode()).hexdigest()


def new_vote_code(voter: Voter, link_id: int | None) -> str:
    """Replace the voter's vote code; the clear code is returned once and stored nowhere."""
    raw = "".join(secrets.choice(VOTE_CODE_ALPHABET) for _ in range(16))
    code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
    now = utcnow()
    state = voter.vote_code
    if state is None:
        state = voter.vote_code = VoteCode(voter_id=voter.id, reissue_count=0)
        db.session.add(state)
    state.code_hash = _hash_code(code)
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
    return secrets.compare_digest(state.code_hash, _hash_code(code))
