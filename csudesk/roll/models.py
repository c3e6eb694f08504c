"""The electoral roll: voters, their work addresses, portal account and vote-code state."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csudesk.db import UTCDateTime, utcnow
from csudesk.directory.models import CSU, Establishment, establishment_moved
from csudesk.extensions import db


class NoticeDelivery(StrEnum):
    AT_WORK = "travail"
    POSTED = "domicile"


NOTICE_DELIVERY_LABELS = {
    NoticeDelivery.AT_WORK: "remise sur le lieu de travail contre émargement",
    NoticeDelivery.POSTED: "envoyée à l'adresse postale",
}


class Voter(db.Model):
    """One person on the roll.

    csu_id copies establishment.csu_id so that scoped lookups use one index.
    """

    __tablename__ = "voter"
    __table_args__ = (
        Index("ix_voter_csu_last_name_key", "csu_id", "last_name_key"),
        Index("ix_voter_csu_name_phonetic", "csu_id", "name_phonetic"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roll_id: Mapped[str] = mapped_column(String(40), unique=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    # Accent-free lower-case forms and a French phonetic key of the last name, for name search.
    last_name_key: Mapped[str] = mapped_column(String(100))
    first_name_key: Mapped[str] = mapped_column(String(100))
    name_phonetic: Mapped[str] = mapped_column(String(40))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    csu_id: Mapped[int] = mapped_column(ForeignKey("csu.id"))
    notice_delivery: Mapped[str] = mapped_column(String(10))
    # Last roll import run that created or changed this voter.
    import_run: Mapped[int] = mapped_column(Integer, default=0)
    # Digest of the roll line this voter was last written from (csudesk.roll.checks): a
    # re-import skips the lines whose digest is the stored one, without parsing or writing.
    row_digest: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the import when a field really changes (no onupdate).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    establishment: Mapped[Establishment] = relationship()
    csu: Mapped[CSU] = relationship()
    emails: Mapped[list["VoterEmail"]] = relationship(
        back_populates="voter", order_by="VoterEmail.position", cascade="all, delete-orphan"
    )
    account: Mapped["VoterAccount | None"] = relationship(back_populates="voter")
    vote_code: Mapped["VoteCode | None"] = relationship(back_populates="voter")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def notice_delivery_label(self) -> str:
        return NOTICE_DELIVERY_LABELS.get(self.notice_delivery, self.notice_delivery)

    def __repr__(self) -> str:
        return f"<Voter {self.roll_id}>"


class VoterEmail(db.Model):
    """A work address on the roll, normalised (NFKC, lower-case, ASCII), unique across voters."""

    __tablename__ = "voter_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("voter.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    voter: Mapped[Voter] = relationship(back_populates="emails")


class VoterAccount(db.Model):
    """Portal account state. The hashes never leave the services; pages show dates and flags."""

    __tablename__ = "voter_account"

    voter_id: Mapped[int] = mapped_column(
        ForeignKey("voter.id", ondelete="CASCADE"), primary_key=True
    )
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    challenge_question: Mapped[str | None] = mapped_column(String(40))
    challenge_answer_hash: Mapped[str | None] = mapped_column(String(200))
    challenge_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Wrong answers in a row and the wait they impose, counted apart for the public
    # self-service form and for the desk: a stranger typing answers online cannot hold up the
    # check the voter asks of an agent on the phone (issue 10 item 9).
    challenge_failures: Mapped[int] = mapped_column(Integer, default=0)
    challenge_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    desk_challenge_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    desk_challenge_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    voter: Mapped[Voter] = relationship(back_populates="account")

    @property
    def is_activated(self) -> bool:
        return self.activated_at is not None

    @property
    def has_challenge(self) -> bool:
        return self.challenge_answer_hash is not None


class VoteCode(db.Model):
    """Current vote code of a voter, as a hash; a reissue replaces it."""

    __tablename__ = "vote_code"

    voter_id: Mapped[int] = mapped_column(
        ForeignKey("voter.id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[str | None] = mapped_column(String(128))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reissue_count: Mapped[int] = mapped_column(Integer, default=0)
    last_reissued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    voter: Mapped[Voter] = relationship(back_populates="vote_code")


class VoteCodeReissue(db.Model):
    """One vote-code reissue ("réassort du code de vote"), when the new code was shown."""

    __tablename__ = "vote_code_reissue"

    id: Mapped[int] = mapped_column(primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("voter.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("one_time_link.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChallengeProof(db.Model):
    """An agent's correct check of a voter's challenge answer: it allows one vote-code link.

    Kept here, not in the agent's session cookie (a saved copy of a cookie could be replayed):
    the reissue spends it in one UPDATE (`used_at IS NULL AND expires_at > now`, one row), in
    the transaction that issues the link, so one check gives at most one link.
    """

    __tablename__ = "challenge_proof"
    __table_args__ = (Index("ix_challenge_proof_voter_agent", "voter_id", "agent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("voter.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("one_time_link.id"))


@establishment_moved.connect
def _voters_follow_their_establishment(establishment: Establishment) -> None:
    """A voter's csu_id is its establishment's: when the establishment moves, its voters do."""
    db.session.execute(
        update(Voter)
        .where(Voter.establishment_id == establishment.id)
        .values(csu_id=establishment.csu_id)
    )
