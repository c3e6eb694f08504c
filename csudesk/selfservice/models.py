"""Self-service requests from the public forms, processed by the worker, not by the request."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db


class RequestKind(StrEnum):
    LINK_NOT_RECEIVED = "lien_non_recu"
    PASSWORD_REFUSED = "mot_de_passe_refuse"
    VOTE_CODE = "code_de_vote"


class SelfServiceRequest(db.Model):
    """What a voter asked on a public form.

    The form only stores this row, whatever the address, so the answer page, its status and
    its timing cannot tell whether the address is on the roll (SECURITY.md 13); the worker
    then looks the roll up and issues the link. No secret is stored: for the vote-code case the
    challenge answer was checked in the request, against a decoy hash for unknown addresses.
    """

    __tablename__ = "selfservice_request"
    __table_args__ = (Index("ix_selfservice_request_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    answer_ok: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(40))
