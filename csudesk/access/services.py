"""The voter actions, shared by the desk (agents) and the voters' self-service."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.audit.models import AuditEntry
from csudesk.db import utcnow
from csudesk.elections.calendar import election, paris
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import LINK_PURPOSE_LABELS, LinkPurpose, OneTimeLink
from csudesk.mail.services import NotOnRoll, enqueue_voter_mail, roll_address_of
from csudesk.roll import accounts
from csudesk.roll.models import Voter
from csudesk.tickets.models import Ticket
from csudesk.tickets.services import add_event


class ActionRefused(ServiceError):
    """The action does not apply now; the message is French and says why."""


NO_PROOF = "Vérifiez d'abord la réponse de l'électeur à son défi (étape 1)."


@dataclass(frozen=True)
class IssueResult:
    link: OneTimeLink
    duplicate: bool  # True when an identical request seconds ago already produced this link


def _fmt(dt: datetime) -> str:
    return paris(dt).strftime("%d/%m/%Y à %H:%M")


def csu_contact(voter: Voter) -> dict[str, str | None]:
    csu = voter.csu
    return {
        "name": csu.name,
        "email": csu.email,
        "phone": csu.phone,
        "hours": csu.hours,
        "web_url": csu.web_url,
    }


def lock_voter(voter: Voter) -> None:
    """Serialise actions on one voter (PostgreSQL row lock; SQLite already runs one writer).

    Take it before anything is created for the action (a ticket included): a double click's
    second request then sees what the first one committed. FOR NO KEY UPDATE, not FOR UPDATE:
    rows that reference the voter (an audit entry, a ticket) take FOR KEY SHARE on it, which
    must not wait for this lock; otherwise a request appending to the audit chain (after a
    refusal's rollback) and one holding the voter lock wait for each other (a deadlock).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Voter.id).where(Voter.id == voter.id).with_for_update(key_share=True)
        )


_lock_voter = lock_voter


def recent_request_ticket(voter: Voter, purpose: LinkPurpose, address: str) -> Ticket | None:
    """The open ticket of the identical link asked seconds ago (a double click), if any.

    A second "new ticket" click then joins the first click's ticket instead of opening an
    empty one: one click, one ticket (issue 10 item 7). Call it with the voter locked.
    """
    try:
        address = roll_address_of(voter, address)
    except NotOnRoll:
        return None
    link = links.recent_duplicate(voter.id, purpose, address)
    if link is None or link.ticket_id is None:
        return None
    ticket = db.session.get(Ticket, link.ticket_id)
    if ticket is None or ticket.voter_id != voter.id or not ticket.is_open:
        return None
    return ticket


def _issue(
    actor: Actor,
    voter: Voter,
    purpose: LinkPurpose,
    address: str,
    ticket: Ticket | None,
    needs_proof: bool = False,
) -> IssueResult:
    _lock_voter(voter)
    try:
        address = roll_address_of(voter, address)
    except NotOnRoll as exc:
        raise ActionRefused(str(exc)) from exc
    duplicate = links.recent_duplicate(voter.id, purpose, address)
    if duplicate is not None:
        audit.record(
            actor,
            f"link.{purpose}.duplicate",
            voter_id=voter.id,
            ticket_id=ticket.id if ticket else None,
            link_id=duplicate.id,
        )
        return IssueResult(duplicate, True)
    count, oldest = links.links_in_last_hour(voter.id)
    limit = current_app.config["LINKS_PER_VOTER_PER_HOUR"]
    if count >= limit:
        raise ActionRefused(
            f"Limite atteinte : {limit} liens envoyés à cet électeur en une heure. Nouvel envoi"
            f" possible à partir du {_fmt(oldest + timedelta(hours=1))} (heure de Paris)."
        )
    proof = None
    if needs_proof:
        proof = accounts.spend_challenge_proof(voter, actor.agent_id)
        if proof is None:
            raise ActionRefused(NO_PROOF)
    links.revoke_live_links(purpose=purpose, voter_id=voter.id)
    link = links.new_link(
        purpose=purpose,
        voter_id=voter.id,
        address=address,
        ticket_id=ticket.id if ticket else None,
        requested_by_agent_id=actor.agent_id,
        channel="desk" if actor.kind == "agent" else "self_service",
    )
    if proof is not None:
        proof.link_id = link.id
    enqueue_voter_mail(
        voter,
        address,
        purpose,
        {
            "first_name": voter.first_name,
            "last_name": voter.last_name,
            "election": election().name,
            "ttl_hours": current_app.config["LINK_TTL_HOURS"][purpose],
            "csu": csu_contact(voter),
        },
        link_id=link.id,
        ticket_id=ticket.id if ticket else None,
    )
    if ticket is not None:
        add_event(
            ticket,
            actor,
            "action",
            f"{LINK_PURPOSE_LABELS[purpose]} envoyé à {address}",
            link_id=link.id,
        )
    audit.record(
        actor,
        f"link.{purpose}",
        voter_id=voter.id,
        ticket_id=ticket.id if ticket else None,
        link_id=link.id,
        address=address,
    )
    return IssueResult(link, False)


def resend_activation_link(
    actor: Actor, voter: Voter, address: str, ticket: Ticket | None = None
) -> IssueResult:
    """Send a new activation link (revokes earlier ones) when the account is not activated."""
    account = voter.account
    if account is not None and account.is_activated:
        raise ActionRefused(
            f"Le compte est déjà activé (le {_fmt(account.activated_at)}) : envoyez plutôt"
            " un lien de réassort du mot de passe."
        )
    return _issue(actor, voter, LinkPurpose.ACTIVATION, address, ticket)


def send_password_reset_link(
    actor: Actor, voter: Voter, address: str, ticket: Ticket | None = None
) -> IssueResult:
    """Send a password-reset link ("réassort du mot de passe élections") to an activated account."""
    account = voter.account
    if account is None or not account.is_activated:
        raise ActionRefused(
            "Le compte n'est pas encore activé : renvoyez plutôt le lien d'activation."
        )
    return _issue(actor, voter, LinkPurpose.PASSWORD_RESET, address, ticket)


def ensure_voting_open() -> None:
    cal = election()
    if not cal.voting_open(utcnow()):
        raise ActionRefused(
            "Le réassort du code de vote n'est possible que pendant le vote, du"
            f" {_fmt(cal.vote_opens)} au {_fmt(cal.vote_closes)} (heure de Paris)."
        )


def lock_for_challenge(voter: Voter) -> None:
    """Lock the voter, then read the attempt count as it is now: parallel checks of the same
    voter's answer wait here, so the attempt limit holds (PostgreSQL; SQLite runs one writer)."""
    lock_voter(voter)
    if voter.account is not None:
        db.session.refresh(voter.account)


def ensure_challenge_set(voter: Voter) -> None:
    account = voter.account
    if account is None or not account.is_activated or not account.has_challenge:
        raise ActionRefused(
            "Le compte n'est pas activé : aucune question défi n'a été choisie."
            " Renvoyez d'abord le lien d'activation."
        )


def ensure_challenge_checkable(voter: Voter, channel: str, at: datetime | None = None) -> None:
    """The account has a challenge and this channel's wait, if any, is over at `at` (now)."""
    ensure_challenge_set(voter)
    locked = accounts.challenge_locked_until(voter, channel, at)
    if locked is not None:
        raise ActionRefused(
            "Trop de réponses incorrectes : prochaine vérification possible à partir du"
            f" {_fmt(locked)} (heure de Paris)."
        )


def check_challenge_answer(
    actor: Actor, voter: Voter, answer: str, ticket: Ticket | None = None
) -> bool:
    """Say whether the caller's answer to the challenge is right (the desk's check).

    Wrong answers make the next desk check wait (progressively); the public form's attempts
    are counted apart. A right answer gives the agent one proof, spent by the reissue.
    """
    ensure_voting_open()
    lock_for_challenge(voter)
    ensure_challenge_checkable(voter, accounts.DESK)
    ok = accounts.verify_challenge(voter, answer)
    accounts.count_challenge_attempt(voter, ok, accounts.DESK)
    if ok and actor.agent_id is not None:
        accounts.grant_challenge_proof(voter, actor.agent_id)
    if ticket is not None:
        add_event(
            ticket,
            actor,
            "challenge",
            "Réponse au défi vérifiée : " + ("correcte" if ok else "incorrecte"),
        )
    audit.record(
        actor,
        "challenge.check",
        voter_id=voter.id,
        ticket_id=ticket.id if ticket else None,
        correct=ok,
    )
    return ok


@dataclass(frozen=True)
class RecentCheck:
    ticket: Ticket
    correct: bool


def recent_check_in_new_ticket(
    actor: Actor, voter: Voter, category: str, channel: str
) -> RecentCheck | None:
    """This agent's check of this voter's answer made seconds ago in a ticket it opened then.

    A second "new ticket" click of the same check form (a double click) joins that check: it
    neither opens a ticket nor counts an attempt (issue 10 item 7). It does not check its own
    answer either, so it tells nothing more than the first check did: no free guess. The window
    is LINK_DEDUP_SECONDS from the first check; a check on the ticket the page then offers by
    default is a real new check. Call it with the voter locked (lock_voter).
    """
    if actor.agent_id is None:
        return None
    since = utcnow() - timedelta(seconds=current_app.config["LINK_DEDUP_SECONDS"])
    entry = db.session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.voter_id == voter.id,
            AuditEntry.action == "challenge.check",
            AuditEntry.agent_id == actor.agent_id,
            AuditEntry.at >= since,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None or entry.ticket_id is None:
        return None
    ticket = db.session.get(Ticket, entry.ticket_id)
    if (
        ticket is None
        or not ticket.is_open
        or ticket.voter_id != voter.id
        or ticket.created_by_agent_id != actor.agent_id
        or ticket.created_at < since
        or (ticket.category, ticket.channel) != (category, channel)
    ):
        return None
    return RecentCheck(ticket, json.loads(entry.details).get("correct") is True)


def join_recent_check(actor: Actor, voter: Voter, check: RecentCheck) -> None:
    """Trace the double click (SECURITY.md 18); nothing else is written."""
    audit.record(
        actor,
        "challenge.check.duplicate",
        voter_id=voter.id,
        ticket_id=check.ticket.id,
        correct=check.correct,
    )


def request_vote_code_reissue(
    actor: Actor, voter: Voter, address: str, ticket: Ticket | None = None
) -> IssueResult:
    """Send a vote-code reissue link once the challenge answer was checked.

    An agent spends the proof of its own correct check (server-side, one link per check); the
    self-service worker checks the answer in the same transaction just before.
    """
    ensure_voting_open()
    ensure_challenge_set(voter)
    return _issue(
        actor, voter, LinkPurpose.VOTE_CODE, address, ticket, needs_proof=actor.kind == "agent"
    )
