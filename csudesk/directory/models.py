"""CSUs and establishments: the routing directory."""

from datetime import datetime
from enum import StrEnum

from blinker import Namespace
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db

# Sent with an establishment once it belongs to another CSU (flushed): the roll moves its
# voters (roll/models.py), without the directory knowing about voters.
establishment_moved = Namespace().signal("establishment-moved")


class CSUKind(StrEnum):
    ACADEMIE = "academie"
    CREPS = "creps"
    HIGHER_EDUCATION = "enseignement_superieur"
    NATIONAL = "national"


CSU_KIND_LABELS = {
    CSUKind.ACADEMIE: "CSU académique",
    CSUKind.CREPS: "CSU de Creps",
    CSUKind.HIGHER_EDUCATION: "CSU d'établissement d'enseignement supérieur",
    CSUKind.NATIONAL: "Cellule nationale",
}


class CSU(db.Model):
    """A user-support cell: one per académie, per Creps, per higher-education establishment."""

    __tablename__ = "csu"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    academie_code: Mapped[str | None] = mapped_column(String(3))
    city: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    hours: Mapped[str | None] = mapped_column(String(200))
    web_url: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(300))

    @property
    def kind_label(self) -> str:
        return CSU_KIND_LABELS.get(self.kind, self.kind)

    @property
    def is_national(self) -> bool:
        return self.kind == CSUKind.NATIONAL

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.phone or self.web_url)

    def __repr__(self) -> str:
        return f"<CSU {self.code}>"


class Establishment(db.Model):
    """A workplace identified by its UAI; csu_id is where its staff are routed."""

    __tablename__ = "establishment"
    __table_args__ = (Index("ix_establishment_search_key", "search_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uai: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str | None] = mapped_column(String(80))
    # Normalised "name city uai" for the "Trouver ma CSU" search.
    search_key: Mapped[str] = mapped_column(String(400), default="")
    csu_id: Mapped[int] = mapped_column(ForeignKey("csu.id"), index=True)
    # True when the establishment has its own CSU (university, Creps, or attached by command).
    own_csu: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    csu: Mapped[CSU] = relationship(lazy="joined")

    @property
    def display_name(self) -> str:
        return self.name or f"Établissement {self.uai}"

    def __repr__(self) -> str:
        return f"<Establishment {self.uai}>"


def csu_short_name(name: str) -> str:
    """A CSU's name without the 'CSU — ' the directory puts first, for 'Guichet — …' lines."""
    return name.removeprefix("CSU — ").removeprefix("CSU - ") if name else name
