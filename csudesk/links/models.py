"""One-time links sent by mail: activation, password reset, vote-code reissue, agent password."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db


class LinkPurpose(StrEnum):
    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"
    VOTE_CODE = "vote_code"
    AGENT_PASSWORD = "agent_password"


LINK_PURPOSE_LABELS = {
    LinkPurpose.ACTIVATION: "lien d'activation",
    LinkPurpose.PASSWORD_RESET: "lien de réassort du mot de passe",
    LinkPurpose.VOTE_CODE: "lien de réassort du code de vote",
    LinkPurpose.AGENT_PASSWORD: "lien de mot de passe agent",
}


class LinkState(StrEnum):
    PENDING = "pending"  # waiting for the outbox to send it
    LIVE = "live"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


LINK_STATE_LABELS = {
    LinkState.PENDING: "en attente d'envoi",
    LinkState.LIVE: "en attente d'utilisation",
    LinkState.USED: "utilisé",
    LinkState.EXPIRED: "expiré",
    LinkState.REVOKED: "révoqué",
}


class OneTimeLink(db.Model):
    """A link whose token exists in clear only in the mail; the row keeps its SHA-256.

    The token is drawn by the outbox sender when the mail leaves, so no clear token is
    ever stored, and the lifetime starts when the voter can actually receive it.
    """

    __tablename__ = "one_time_link"
    __table_args__ = (Index("ix_one_time_link_voter_purpose", "voter_id", "purpose", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("voter.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    requested_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    channel: Mapped[str] = mapped_column(String(20))  # desk, self_service, admin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    mail: Mapped["OutboxMail | None"] = relationship(  # noqa: F821
        back_populates="link", uselist=False
    )

    def state(self, now: datetime | None = None) -> LinkState:
        now = now or utcnow()
        if self.used_at is not None:
            return LinkState.USED
        if self.revoked_at is not None:
            return LinkState.REVOKED
        if self.expires_at is None:
            return LinkState.PENDING
        if self.expires_at <= now:
            return LinkState.EXPIRED
        return LinkState.LIVE

    @property
    def state_label(self) -> str:
        return LINK_STATE_LABELS[self.state()]

    @property
    def purpose_label(self) -> str:
        return LINK_PURPOSE_LABELS.get(self.purpose, self.purpose)
