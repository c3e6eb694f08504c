"""The mail outbox: rows written in the same transaction as the action that needs them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db


class MailStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after OUTBOX_MAX_ATTEMPTS or a permanent refusal
    CANCELLED = "cancelled"  # its link was revoked or used before it left
    UNCERTAIN = "uncertain"  # a sender died mid-send: never resent automatically
    BOUNCED = "bounced"  # accepted, then returned by a delivery-status notification (RFC 3464)


MAIL_STATUS_LABELS = {
    MailStatus.PENDING: "en file d'attente",
    MailStatus.SENDING: "en cours d'envoi",
    MailStatus.SENT: "remis au serveur de messagerie",
    MailStatus.FAILED: "échec d'envoi",
    MailStatus.CANCELLED: "annulé (lien remplacé)",
    MailStatus.UNCERTAIN: "état incertain",
    MailStatus.BOUNCED: "rejetée",
}


class OutboxMail(db.Model):
    """A mail to send. Holds a template name and a secret-free context; rendered at send time."""

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(60))
    context_json: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(12), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    smtp_response: Mapped[str | None] = mapped_column(String(500))
    voter_id: Mapped[int | None] = mapped_column(
        ForeignKey("voter.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("one_time_link.id"), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Conversation: the Message-ID the mail leaves with (set when queued, so that a reply or a
    # bounce can name it before it is sent), the CSU it speaks for (From/Reply-To), threading.
    message_id: Mapped[str | None] = mapped_column(String(250), unique=True)
    sender_csu_id: Mapped[int | None] = mapped_column(ForeignKey("csu.id"))
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    # A delivery-status notification came back for it (status BOUNCED).
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_reason: Mapped[str | None] = mapped_column(String(500))

    link: Mapped["OneTimeLink | None"] = relationship(back_populates="mail")  # noqa: F821

    @property
    def status_label(self) -> str:
        if self.status == MailStatus.BOUNCED and self.bounce_reason:
            return f"rejetée : {self.bounce_reason}"
        return MAIL_STATUS_LABELS.get(self.status, self.status)
