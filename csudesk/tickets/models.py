"""Tickets: every contact with a voter, with its full event history."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db


class Category(StrEnum):
    LINK_NOT_RECEIVED = "lien_non_recu"
    UNKNOWN_IDENTIFIER = "identifiant_inconnu"
    PASSWORD_REFUSED = "mot_de_passe_refuse"
    NOTICE_NOT_RECEIVED = "notice_non_recue"
    OTHER = "autre"


CATEGORY_LABELS = {
    Category.LINK_NOT_RECEIVED: "Lien non reçu",
    Category.UNKNOWN_IDENTIFIER: "Identifiant inconnu ou invalide",
    Category.PASSWORD_REFUSED: "Mot de passe refusé",
    Category.NOTICE_NOT_RECEIVED: "Notice de vote ou code de vote non reçu",
    Category.OTHER: "Autre",
}


class Channel(StrEnum):
    PHONE = "telephone"
    EMAIL = "courriel"
    FORM = "formulaire"
    DESK = "accueil"


CHANNEL_LABELS = {
    Channel.PHONE: "Téléphone",
    Channel.EMAIL: "Courriel",
    Channel.FORM: "Formulaire",
    Channel.DESK: "Accueil",
}


class Status(StrEnum):
    OPEN = "ouvert"
    WAITING = "en_attente"
    RESOLVED = "resolu"
    TRANSFERRED = "transfere"
    MERGED = "fusionne"  # a duplicate: its history is shown on the ticket it was merged into


STATUS_LABELS = {
    Status.OPEN: "Ouvert",
    Status.WAITING: "En attente",
    Status.RESOLVED: "Résolu",
    Status.TRANSFERRED: "Transféré",
    Status.MERGED: "Fusionné",
}
# A transferred ticket waits in the receiving CSU's queue: it is still open.
OPEN_STATUSES = (Status.OPEN, Status.WAITING, Status.TRANSFERRED)


class Ticket(db.Model):
    """A contact with a voter (or a would-be voter), owned by one CSU."""

    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_csu_status_created", "csu_id", "status", "created_at"),
        Index("ix_ticket_agent_status", "assigned_agent_id", "status"),
        # Keyset pagination of the supervision log: (created_at, id), alone or per CSU.
        Index("ix_ticket_created_id", "created_at", "id"),
        Index("ix_ticket_csu_created_id", "csu_id", "created_at", "id"),
        # The tickets merged into one (its history on the ticket page): the few that are.
        Index(
            "ix_ticket_merged_into",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
            sqlite_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    csu_id: Mapped[int] = mapped_column(ForeignKey("csu.id"))
    voter_id: Mapped[int | None] = mapped_column(
        ForeignKey("voter.id", ondelete="SET NULL"), index=True
    )
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    created_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    category: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=Status.OPEN)
    # Contact details as given by the caller or the form (the roll is the voter_id link).
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_last_name: Mapped[str | None] = mapped_column(String(100))
    contact_first_name: Mapped[str | None] = mapped_column(String(100))
    contact_uai: Mapped[str | None] = mapped_column(String(8))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))

    csu = relationship("CSU")
    voter = relationship("Voter")
    assigned_agent = relationship("Agent", foreign_keys=[assigned_agent_id])
    created_by_agent = relationship("Agent", foreign_keys=[created_by_agent_id])
    merged_into = relationship("Ticket", remote_side=[id], foreign_keys=[merged_into_id])
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketEvent(db.Model):
    """One line of a ticket's history: creation, note, status change, action, transfer."""

    __tablename__ = "ticket_event"
    # The log's agent filter and the per-agent statistics.
    __table_args__ = (Index("ix_ticket_event_agent_at", "agent_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str | None] = mapped_column(Text)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("one_time_link.id"))
    from_csu_id: Mapped[int | None] = mapped_column(ForeignKey("csu.id"))
    to_csu_id: Mapped[int | None] = mapped_column(ForeignKey("csu.id"))
    # A reply sent from the ticket (kind "reply"), a mail that came in (kind "mail_in").
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_mail.id"), index=True)
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id"), index=True
    )

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    agent = relationship("Agent")
    link = relationship("OneTimeLink")
    mail = relationship("OutboxMail")
    inbound_message = relationship("InboundMessage")
