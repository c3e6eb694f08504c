"""The three support actions, shared by the desk (agents) and the voters' self-service."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.db import utcnow
from csudesk.elections.calendar import election, paris
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import LINK_PURPOSE_LABELS, LinkPurpose, OneTimeLink
from csudesk.mail.services import NotOnRoll, enqueue_voter_mail, roll_address_of
from csudesk.roll import accounts
from csudesk.roll.models import Voter
from csudesk.tickets.models import Ticket
from csudesk.tickets.services import add_event


class ActionRefused(Exception):
    """The action does not apply now; the message is French and says why."""


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


def _lock_voter(voter: Voter) -> None:
    """Serialise actions on one voter (PostgreSQL row lock; SQLite already runs one writer)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Voter.id).where(Voter.id == voter.id).with_for_update())


def _issue(
    actor: Actor, voter: Voter, purpose: LinkPurpose, address: str, ticket: Ticket | None
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
    links.revoke_live_links(purpose=purpose, voter_id=voter.id)
    link = links.new_link(
        purpose=purpose,
        voter_id=voter.id,
        address=address,
        ticket_id=ticket.id if ticket else None,
        requested_by_agent_id=actor.agent_id,
        channel="desk" if actor.kind == "agent" else "self_service",
    )
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
    _lock_voter(voter)
    if voter.account is not None:
        db.session.refresh(voter.account)


def ensure_challenge_checkable(voter: Voter) -> None:
    account = voter.account
    if account is None or not account.is_activated or not account.has_challenge:
        raise ActionRefused(
            "Le compte n'est pas activé : aucune question défi n'a été choisie."
            " Renvoyez d'abord le lien d'activation."
        )
    locked = accounts.challenge_locked_until(voter)
    if locked is not None:
        raise ActionRefused(
            f"Trop de réponses incorrectes : vérification bloquée jusqu'au {_fmt(locked)}."
        )


def check_challenge_answer(
    actor: Actor, voter: Voter, answer: str, ticket: Ticket | None = None
) -> bool:
    """Say whether the caller's answer to the challenge is right; attempts are limited."""
    ensure_voting_open()
    lock_for_challenge(voter)
    ensure_challenge_checkable(voter)
    ok = accounts.verify_challenge(voter, answer)
    accounts.count_challenge_attempt(voter, ok)
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


def request_vote_code_reissue(
    actor: Actor, voter: Voter, address: str, ticket: Ticket | None = None
) -> IssueResult:
    """Send a vote-code reissue link; the caller has checked the challenge answer first."""
    ensure_voting_open()
    ensure_challenge_checkable(voter)
    return _issue(actor, voter, LinkPurpose.VOTE_CODE, address, ticket)
