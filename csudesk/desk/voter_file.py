"""Everything the desk shows about one voter, loaded in a few queries; never a secret."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import joinedload

from csudesk.access.models import SelfServiceRequest
from csudesk.agents.models import Agent
from csudesk.db import utcnow
from csudesk.directory.models import Establishment
from csudesk.extensions import db
from csudesk.links.models import LinkPurpose, OneTimeLink
from csudesk.mail.models import OutboxMail
from csudesk.roll.models import VoteCodeReissue, Voter
from csudesk.tickets.models import Ticket

LINKS_SHOWN = 20
TICKETS_SHOWN = 50
REQUESTS_SHOWN = 10
REPLIES_SHOWN = 20


@dataclass
class VoterFile:
    voter: Voter
    links: list[OneTimeLink]
    tickets: list[Ticket]
    reissues: list[VoteCodeReissue]
    requests: list[SelfServiceRequest] = field(default_factory=list)
    replies: list[tuple[OutboxMail, str]] = field(default_factory=list)  # (mail, reference)
    now: datetime = field(default_factory=utcnow)

    @property
    def account(self):
        return self.voter.account

    @property
    def activated(self) -> bool:
        return self.account is not None and self.account.is_activated

    @property
    def open_tickets(self) -> list[Ticket]:
        return [t for t in self.tickets if t.is_open]


def _in_scope(query, csu_column):
    """The query, and its variant limited to the CSUs bound as `csu_ids`."""
    return query, query.where(csu_column.in_(bindparam("csu_ids", expanding=True)))


# The page's statements are built once: a statement object keeps its cache key, so a request
# pays neither their construction nor their cache key, only their bound values (the voter,
# the scope). The emails come in the voter's own statement (one or two rows per voter).
_VOTER = _in_scope(
    select(Voter)
    .where(Voter.id == bindparam("voter_id"))
    .options(
        joinedload(Voter.establishment).joinedload(Establishment.csu),
        joinedload(Voter.csu),
        joinedload(Voter.account),
        joinedload(Voter.vote_code),
        joinedload(Voter.emails),
    ),
    Voter.csu_id,
)
_TICKETS = _in_scope(
    select(Ticket)
    .where(Ticket.voter_id == bindparam("voter_id"))
    # The file shows the assigned agent's name: not the agent's CSU, which Agent joins.
    .options(joinedload(Ticket.assigned_agent).lazyload(Agent.csu))
    .order_by(Ticket.id.desc())
    .limit(TICKETS_SHOWN),
    Ticket.csu_id,
)
_LINKS = (
    select(OneTimeLink)
    .where(
        OneTimeLink.voter_id == bindparam("voter_id"),
        OneTimeLink.purpose != LinkPurpose.AGENT_PASSWORD,
    )
    .options(joinedload(OneTimeLink.mail))
    .order_by(OneTimeLink.id.desc())
    .limit(LINKS_SHOWN)
)
_REISSUES = (
    select(VoteCodeReissue)
    .where(VoteCodeReissue.voter_id == bindparam("voter_id"))
    .order_by(VoteCodeReissue.id.desc())
)
# What the voter asked on the public forms and what came of it: the worker records whose
# address it was; a request still waiting is matched on the voter's addresses of today.
_REQUESTS = (
    select(SelfServiceRequest)
    .where(
        or_(
            SelfServiceRequest.voter_id == bindparam("voter_id"),
            and_(
                SelfServiceRequest.processed_at.is_(None),
                SelfServiceRequest.address.in_(bindparam("addresses", expanding=True)),
            ),
        )
    )
    .order_by(SelfServiceRequest.id.desc())
    .limit(REQUESTS_SHOWN)
)
# Replies from the voter's tickets in scope, to a roll address or to where the voter wrote
# from, with the reference of their ticket.
_REPLIES = _in_scope(
    select(OutboxMail, Ticket.reference)
    .join(Ticket, Ticket.id == OutboxMail.ticket_id)
    .where(OutboxMail.template == "reply", Ticket.voter_id == bindparam("voter_id"))
    .order_by(OutboxMail.id.desc())
    .limit(REPLIES_SHOWN),
    Ticket.csu_id,
)


def _scoped(statements: tuple, csu_ids: set[int] | None, **params):
    """The statement of the pair that fits the scope, with its bound values."""
    if csu_ids is None:
        return statements[0], params
    return statements[1], {**params, "csu_ids": sorted(csu_ids)}


def load_voter(voter_id: int, csu_ids: set[int] | None) -> Voter | None:
    """The voter if in scope (None means every CSU), with what the file page shows."""
    return (
        db.session.execute(*_scoped(_VOTER, csu_ids, voter_id=voter_id))
        .unique()
        .scalar_one_or_none()
    )


def voter_tickets(voter: Voter, csu_ids: set[int] | None) -> list[Ticket]:
    """The voter's tickets in scope, newest first, as many as the voter file shows."""
    return list(db.session.scalars(*_scoped(_TICKETS, csu_ids, voter_id=voter.id)))


def voter_file(voter: Voter, csu_ids: set[int] | None) -> VoterFile:
    """Links with their mail state, tickets in scope and reissues of a loaded voter."""
    mine = {"voter_id": voter.id}
    links = list(db.session.scalars(_LINKS, mine))
    tickets = voter_tickets(voter, csu_ids)
    reissues = list(db.session.scalars(_REISSUES, mine))
    requests = list(
        db.session.scalars(_REQUESTS, {**mine, "addresses": [e.address for e in voter.emails]})
    )
    replies = list(db.session.execute(*_scoped(_REPLIES, csu_ids, **mine)).tuples().all())
    return VoterFile(voter, links, tickets, reissues, requests, replies=replies)
