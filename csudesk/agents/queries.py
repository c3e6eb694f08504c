"""Listing the desk accounts: the admin's page and `flask agents list` share one query."""

from collections.abc import Collection

from sqlalchemy import Select, or_, select

from csudesk.agents.models import Agent
from csudesk.directory.models import CSU
from csudesk.extensions import db
from csudesk.text import escape_like


def list_agents(
    csu_ids: Collection[int] | None,
    *,
    text: str = "",
    active: bool | None = None,
    by_code: bool = False,
) -> list[Agent]:
    """Accounts of these CSUs (None: all), matching `text` in name or address, by CSU then
    name (the CLI: by CSU code then address)."""
    query = select(Agent).join(CSU, CSU.id == Agent.csu_id)
    query = (
        query.order_by(CSU.code, Agent.email) if by_code else query.order_by(CSU.name, Agent.name)
    )
    if csu_ids is not None:
        query = query.where(Agent.csu_id.in_(csu_ids))
    if text:
        pattern = f"%{escape_like(text)}%"
        query = query.where(
            or_(Agent.name.ilike(pattern, escape="\\"), Agent.email.ilike(pattern, escape="\\"))
        )
    if active is not None:
        query = query.where(Agent.active.is_(active))
    return list(db.session.scalars(query))


def agents_by_name(csu_ids: Collection[int] | None) -> list[Agent]:
    """Accounts of these CSUs (None: all) by name: a filter's choices."""
    query = select(Agent).order_by(Agent.name, Agent.id)
    if csu_ids is not None:
        query = query.where(Agent.csu_id.in_(csu_ids))
    return list(db.session.scalars(query))


def ids_in_csus(csu_ids: Collection[int]) -> Select:
    """The ids of the accounts of these CSUs, as a subquery (a scope's agents)."""
    return select(Agent.id).where(Agent.csu_id.in_(csu_ids))
