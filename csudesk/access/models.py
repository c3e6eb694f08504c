"""Self-service requests from the public forms, processed by the worker, not by the request."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db


class RequestKind(StrEnum):
    LINK_NOT_RECEIVED = "lien_non_recu"
    PASSWORD_REFUSED = "mot_de_passe_refuse"
    VOTE_CODE = "code_de_vote"


class Outcome:
    """What the worker did with a request (stored on the row and in the audit entry)."""

    ACTIVATION_SENT = "activation_sent"
    PASSWORD_RESET_SENT = "password_reset_sent"
    VOTE_CODE_SENT = "vote_code_sent"
    DUPLICATE = "duplicate"  # an identical link left seconds ago: no second mail
    REFUSED = "refused"  # a support rule said no (limit, lock, not activated...)
    UNKNOWN_ADDRESS = "unknown_address"
    WRONG_ANSWER = "wrong_answer"
    VOTING_CLOSED = "voting_closed"
    ERROR = "error"


OUTCOME_LABELS = {
    Outcome.ACTIVATION_SENT: "lien d'activation envoyé",
    Outcome.PASSWORD_RESET_SENT: "lien de mot de passe envoyé",
    Outcome.VOTE_CODE_SENT: "lien de code de vote envoyé",
    Outcome.DUPLICATE: "doublon d'une demande récente",
    Outcome.REFUSED: "refusé par les règles du guichet",
    Outcome.UNKNOWN_ADDRESS: "adresse hors liste",
    Outcome.WRONG_ANSWER: "réponse au défi inexacte",
    Outcome.VOTING_CLOSED: "vote fermé",
    Outcome.ERROR: "erreur",
}


KIND_LABELS = {
    RequestKind.LINK_NOT_RECEIVED: "lien non reçu",
    RequestKind.PASSWORD_REFUSED: "mot de passe refusé",
    RequestKind.VOTE_CODE: "réassort du code de vote",
}


class SelfServiceRequest(db.Model):
    """What a voter asked on a public form.

    The form only stores this row, whatever the address, so the answer page, its status and
    its timing cannot tell whether the address is on the roll (SECURITY.md 13); the worker
    then looks the roll up and issues the link. No secret is stored: for the vote-code case the
    challenge answer was checked in the request, against a decoy hash for unknown addresses.
    """

    __tablename__ = "selfservice_request"
    __table_args__ = (
        Index("ix_selfservice_request_pending", "processed_at", "id"),
        # The voter file lists the voter's requests, newest first.
        Index("ix_selfservice_request_voter_id", "voter_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    answer_ok: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(40))
    # Set by the worker: the voter who owned the address then (an address can move on the roll).
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("voter.id", ondelete="SET NULL"))

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def outcome_label(self) -> str:
        if self.processed_at is None:
            return "en attente de traitement"
        return OUTCOME_LABELS.get(self.outcome, self.outcome or "traitée")
