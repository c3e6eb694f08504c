"""Import every model so metadata, migrations and create_all see the whole schema."""

from csudesk.access.models import SelfServiceRequest
from csudesk.agents.models import Agent
from csudesk.audit.models import AuditEntry
from csudesk.conversation.models import InboundMessage, ResponseTemplate
from csudesk.directory.models import CSU, Establishment
from csudesk.links.models import OneTimeLink
from csudesk.mail.models import OutboxMail
from csudesk.roll.models import VoteCode, VoteCodeReissue, Voter, VoterAccount, VoterEmail
from csudesk.tickets.models import Ticket, TicketEvent
from csudesk.tickets.presence import RecentView

__all__ = [
    "CSU",
    "Agent",
    "AuditEntry",
    "Establishment",
    "InboundMessage",
    "OneTimeLink",
    "OutboxMail",
    "RecentView",
    "ResponseTemplate",
    "SelfServiceRequest",
    "Ticket",
    "TicketEvent",
    "VoteCode",
    "VoteCodeReissue",
    "Voter",
    "VoterAccount",
    "VoterEmail",
]
