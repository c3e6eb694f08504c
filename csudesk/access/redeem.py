"""Using a voter's one-time link: activate the account, choose a new password, get a new code.

Each use case checks the input, consumes the link in one atomic UPDATE (SECURITY.md 5: of N
concurrent uses exactly one wins), does what the link was for and appends the audit entry,
in the caller's transaction. The agent's own link is `agents.services.set_password_with_link`.
"""

from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import OneTimeLink
from csudesk.roll import accounts
from csudesk.roll.models import Voter


class LinkAlreadyUsed(ServiceError):
    """Another tab or a concurrent request used the link first."""


def _consume(link: OneTimeLink) -> OneTimeLink:
    used = links.consume_claimed(link)
    if used is None:
        # Read it again: the use that won has committed (PostgreSQL: this statement sees it),
        # and the page says what became of the link.
        db.session.refresh(link)
        raise LinkAlreadyUsed("Ce lien a déjà servi : un lien ne fonctionne qu'une fois.")
    return used


def activate_account(
    actor: Actor, link: OneTimeLink, password: str, confirmation: str, question: str, answer: str
) -> Voter:
    """Create the élections password and the challenge with an activation link."""
    accounts.check_new_password(password, confirmation)
    accounts.check_challenge_input(question, answer)
    used = _consume(link)
    voter = db.session.get(Voter, used.voter_id)
    accounts.activate(voter, password, question, answer)
    audit.record(actor, "portal.activation", voter_id=voter.id, link_id=used.id)
    return voter


def reset_password_with_link(
    actor: Actor, link: OneTimeLink, password: str, confirmation: str
) -> Voter:
    """Choose a new élections password with a password-reset link."""
    accounts.check_new_password(password, confirmation)
    used = _consume(link)
    voter = db.session.get(Voter, used.voter_id)
    accounts.reset_password(voter, password)
    audit.record(actor, "portal.password_reset", voter_id=voter.id, link_id=used.id)
    return voter


def reveal_new_vote_code(actor: Actor, link: OneTimeLink) -> tuple[Voter, str]:
    """Draw a new vote code with a vote-code link; the previous code stops working now."""
    used = _consume(link)
    voter = db.session.get(Voter, used.voter_id)
    code = accounts.new_vote_code(voter, used.id)
    audit.record(actor, "portal.vote_code", voter_id=voter.id, link_id=used.id)
    return voter, code
