"""Everything the desk shows about one voter, loaded in a few queries; never a secret."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from csudesk.access.models import SelfServiceRequest
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


def load_voter(voter_id: int, csu_ids: set[int] | None) -> Voter | None:
    """The voter if in scope (None means every CSU), with what the file page shows."""
    query = (
        select(Voter)
        .where(Voter.id == voter_id)
        .options(
            joinedload(Voter.establishment).joinedload(Establishment.csu),
            joinedload(Voter.csu),
            joinedload(Voter.account),
            joinedload(Voter.vote_code),
            selectinload(Voter.emails),
        )
    )
    if csu_ids is not None:
        query = query.where(Voter.csu_id.in_(csu_ids))
    return db.session.scalar(query)


def voter_tickets(voter: Voter, csu_ids: set[int] | None) -> list[Ticket]:
    """The voter's tickets in scope, newest first, as many as the voter file shows."""
    query = select(Ticket).where(Ticket.voter_id == voter.id)
    if csu_ids is not None:
        query = query.where(Ticket.csu_id.in_(csu_ids))
    return list(
        db.session.scalars(
            query.options(joinedload(Ticket.assigned_agent))
            .order_by(Ticket.id.desc())
            .limit(TICKETS_SHOWN)
        )
    )


def voter_file(voter: Voter, csu_ids: set[int] | None) -> VoterFile:
    """Links with their mail state, tickets in scope and reissues of a loaded voter."""
    links = list(
        db.session.scalars(
            select(OneTimeLink)
            .where(
                OneTimeLink.voter_id == voter.id,
                OneTimeLink.purpose != LinkPurpose.AGENT_PASSWORD,
            )
            .options(joinedload(OneTimeLink.mail))
            .order_by(OneTimeLink.id.desc())
            .limit(LINKS_SHOWN)
        )
    )
    tickets = voter_tickets(voter, csu_ids)
    reissues = list(
        db.session.scalars(
            select(VoteCodeReissue)
            .where(VoteCodeReissue.voter_id == voter.id)
            .order_by(VoteCodeReissue.id.desc())
        )
    )
    # What the voter asked on the public forms and what came of it: the worker records whose
    # address it was; a request still waiting is matched on the voter's addresses of today.
    requests = list(
        db.session.scalars(
            select(SelfServiceRequest)
            .where(
                or_(
                    SelfServiceRequest.voter_id == voter.id,
                    and_(
                        SelfServiceRequest.processed_at.is_(None),
                        SelfServiceRequest.address.in_([e.address for e in voter.emails]),
                    ),
                )
            )
            .order_by(SelfServiceRequest.id.desc())
            .limit(REQUESTS_SHOWN)
        )
    )
    # Replies from the voter's tickets in scope, to a roll address or to where the voter wrote
    # from, with the reference of their ticket.
    reply_query = (
        select(OutboxMail, Ticket.reference)
        .join(Ticket, Ticket.id == OutboxMail.ticket_id)
        .where(OutboxMail.template == "reply", Ticket.voter_id == voter.id)
    )
    if csu_ids is not None:
        reply_query = reply_query.where(Ticket.csu_id.in_(csu_ids))
    replies = list(
        db.session.execute(reply_query.order_by(OutboxMail.id.desc()).limit(REPLIES_SHOWN))
        .tuples()
        .all()
    )
    return VoterFile(voter, links, tickets, reissues, requests, replies=replies)
