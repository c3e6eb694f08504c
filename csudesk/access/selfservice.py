"""Self-service, the request side: the public forms store a request for the worker.

Nothing here reads the roll except the vote-code answer check, which runs the same query and
the same slow hash (a decoy one) whatever the address. Everything that depends on the roll
happens in `access.worker.process_pending()`, outside the voter's request (SECURITY.md 13).
"""

from csudesk.access.models import RequestKind, SelfServiceRequest
from csudesk.extensions import db
from csudesk.roll import accounts
from csudesk.roll.services import voter_by_address
from csudesk.text import normalize_email


def vote_code_answer_ok(address: str, answer: str) -> bool:
    """Check a challenge answer in the request: same query and hash cost for any address.

    What the result is worth is decided by the worker: it counts the attempt on the public
    channel only (the desk's check keeps its own count) and ignores answers sent while that
    channel's progressive wait runs, so guessing online neither succeeds faster nor blocks
    the agents.
    """
    return accounts.verify_challenge(voter_by_address(address), answer)


def submit(
    kind: RequestKind, address: str, ip: str | None, answer_ok: bool | None = None
) -> SelfServiceRequest:
    """Store one request for the worker; nothing here depends on the roll."""
    row = SelfServiceRequest(
        kind=kind, address=normalize_email(address)[:254], ip=ip, answer_ok=answer_ok
    )
    db.session.add(row)
    db.session.flush()
    return row
