"""The self-service worker: looks the roll up for each stored request and applies the desk's
rules (SECURITY.md 13: nothing of it runs in the voter's request).

It runs outside any request and owns its transactions: one per request processed.
"""

import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from csudesk.access import services as access
from csudesk.access.models import Outcome, RequestKind, SelfServiceRequest
from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.db import utcnow
from csudesk.elections.calendar import election
from csudesk.extensions import db
from csudesk.roll import accounts
from csudesk.roll.models import Voter
from csudesk.roll.services import voter_by_address

log = logging.getLogger(__name__)
BATCH = 50


@dataclass
class ProcessReport:
    processed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def process_pending(batch: int = BATCH) -> ProcessReport:
    """Handle the oldest unprocessed requests, each in its own transaction."""
    report = ProcessReport()
    ids = list(
        db.session.scalars(
            select(SelfServiceRequest.id)
            .where(SelfServiceRequest.processed_at.is_(None))
            .order_by(SelfServiceRequest.id)
            .limit(batch)
        )
    )
    db.session.commit()
    for request_id in ids:
        outcome = _process_one(request_id)
        if outcome is not None:
            report.processed += 1
            report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
    return report


def _claim(request_id: int) -> SelfServiceRequest | None:
    """The row if still unprocessed; another worker holding it is skipped (PostgreSQL)."""
    query = select(SelfServiceRequest).where(
        SelfServiceRequest.id == request_id, SelfServiceRequest.processed_at.is_(None)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def _process_one(request_id: int) -> str | None:
    row = _claim(request_id)
    if row is None:
        db.session.commit()
        return None
    actor = Actor("public", None, row.ip)
    voter_id = None
    try:
        voter = voter_by_address(row.address)
        voter_id = voter.id if voter is not None else None
        outcome, reason = _handle(actor, row, voter)
    except Exception:
        db.session.rollback()
        log.exception("self-service request %s failed", request_id)
        row = db.session.get(SelfServiceRequest, request_id)
        voter, outcome, reason = None, Outcome.ERROR, None
    row.processed_at = utcnow()
    row.outcome = outcome
    row.voter_id = voter_id
    details = {"request_id": row.id, "kind": row.kind, "outcome": outcome}
    if reason:
        details["reason"] = reason
    if voter is None:
        details["address"] = row.address
    audit.record(actor, f"selfservice.{row.kind}", voter_id=voter.id if voter else None, **details)
    db.session.commit()
    return outcome


def _handle(actor: Actor, row: SelfServiceRequest, voter: Voter | None) -> tuple[str, str | None]:
    """Apply the desk's rules to one request; returns (outcome, French reason if refused)."""
    if row.kind == RequestKind.VOTE_CODE and not election().voting_open(utcnow()):
        return Outcome.VOTING_CLOSED, None
    if voter is None:
        return Outcome.UNKNOWN_ADDRESS, None
    activated = voter.account is not None and voter.account.is_activated
    try:
        if row.kind == RequestKind.VOTE_CODE:
            access.lock_for_challenge(voter)
            # The wait is judged at the time the request was made: answers sent in a burst,
            # or during a wait and processed after it, are refused rather than counted.
            access.ensure_challenge_checkable(voter, accounts.PUBLIC, at=row.created_at)
            accounts.count_challenge_attempt(voter, bool(row.answer_ok), accounts.PUBLIC)
            if not row.answer_ok:
                audit.record(actor, "challenge.check", voter_id=voter.id, correct=False)
                return Outcome.WRONG_ANSWER, None
            audit.record(actor, "challenge.check", voter_id=voter.id, correct=True)
            result = access.request_vote_code_reissue(actor, voter, row.address)
            sent = Outcome.VOTE_CODE_SENT
        elif activated:
            # "Lien non reçu" from an activated account and "mot de passe refusé" both need
            # a new password: the reset link.
            result = access.send_password_reset_link(actor, voter, row.address)
            sent = Outcome.PASSWORD_RESET_SENT
        else:
            # Never activated: there is no password to reset, the activation link creates one.
            result = access.resend_activation_link(actor, voter, row.address)
            sent = Outcome.ACTIVATION_SENT
    except access.ActionRefused as exc:
        return Outcome.REFUSED, str(exc)
    return (Outcome.DUPLICATE if result.duplicate else sent), None
