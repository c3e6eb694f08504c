"""Desk accounts: agents, supervisors and administrators, each attached to one CSU."""

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csudesk.db import UTCDateTime, utcnow
from csudesk.directory.models import CSU
from csudesk.extensions import db


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_LABELS = {Role.AGENT: "agent", Role.SUPERVISOR: "superviseur", Role.ADMIN: "administrateur"}
ROLE_RANK = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


class Agent(UserMixin, db.Model):
    """A person working at a CSU desk. An agent of the national CSU sees every CSU."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.AGENT)
    csu_id: Mapped[int] = mapped_column(ForeignKey("csu.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by logout, disabling, role/scope and password changes: older sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    csu: Mapped[CSU] = relationship(lazy="joined")

    # Flask-Login: the session stores "id:version" so a bumped version invalidates it.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_national(self) -> bool:
        return self.csu.is_national

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def __repr__(self) -> str:
        return f"<Agent {self.email}>"
