"""Réponses types and the mail that comes in from the CSU mailboxes."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db


class ResponseTemplate(db.Model):
    """A réponse type: national (csu_id NULL, kept by national supervisors) or one CSU's own.

    The body holds placeholders ({prenom}, {nom}, {reference}, {csu}, ...) filled when an agent
    inserts it into a reply or a note; it never holds a link to a voter's account.
    """

    __tablename__ = "response_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    csu_id: Mapped[int | None] = mapped_column(ForeignKey("csu.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    # The guide's situation it answers (a ticket Category value), or None for any.
    category: Mapped[str | None] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))

    csu = relationship("CSU")

    @property
    def is_national(self) -> bool:
        return self.csu_id is None


class InboundStatus(StrEnum):
    CLAIMED = "claimed"  # a fetcher took it; becomes one of the others in the same transaction
    NEW_TICKET = "new_ticket"  # opened a ticket
    JOINED = "joined"  # joined the ticket it answers
    BOUNCE = "bounce"  # a delivery-status notification for one of our mails
    AUTOMATIC = "automatic"  # auto-reply or bulk mail: kept on its ticket, triggers nothing
    SET_ASIDE = "set_aside"  # could not be imported; `reason` says why


INBOUND_STATUS_LABELS = {
    InboundStatus.CLAIMED: "en cours d'import",
    InboundStatus.NEW_TICKET: "nouveau ticket",
    InboundStatus.JOINED: "ajouté à son ticket",
    InboundStatus.BOUNCE: "avis de non-remise",
    InboundStatus.AUTOMATIC: "réponse automatique",
    InboundStatus.SET_ASIDE: "mis de côté",
}


class InboundMessage(db.Model):
    """One message read from a CSU mailbox, imported once: (mailbox, uidvalidity, uid) is unique,
    and the row is inserted before anything is done with the message."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_message_uid"),
        # Every message imported looks for an earlier copy by its Message-ID, and a reply for
        # the message it answers: without it each lookup read the whole table. A hash index on
        # PostgreSQL: equality is all these lookups ask, and a B-tree entry cannot hold a
        # 998-character identifier of non-ASCII text (its rows stop at about 2,700 bytes).
        Index("ix_inbound_message_message_id", "message_id", postgresql_using="hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The mailbox's name in configuration (CSU_MAILBOXES), usually its CSU's code.
    mailbox: Mapped[str] = mapped_column(String(60))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998))
    from_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    size: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default=InboundStatus.CLAIMED)
    reason: Mapped[str | None] = mapped_column(String(500))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    # For a bounce: the mail of ours it reports on.
    outbox_mail_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_mail.id"))

    ticket = relationship("Ticket")

    @property
    def status_label(self) -> str:
        return INBOUND_STATUS_LABELS.get(self.status, self.status)
