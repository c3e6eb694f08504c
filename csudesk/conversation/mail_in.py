"""What one message read from a CSU mailbox does: join its ticket, open one, or mark a bounce.

The fetcher (csudesk/conversation/fetcher.py) inserts the message's InboundMessage row first,
then calls process() in the same transaction and commits; process() never commits.
"""

from csudesk.conversation.models import InboundMessage, InboundStatus


def process(raw: bytes, inbound: InboundMessage, mailbox_csu_code: str) -> None:
    """Import `raw` (the message as read from IMAP), filling `inbound`'s fields and status.

    Scaffolding until the import is written: every message is set aside with its reason.
    """
    inbound.status = InboundStatus.SET_ASIDE
    inbound.reason = "import des messages entrants pas encore en place"
