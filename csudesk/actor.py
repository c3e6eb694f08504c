"""Who is acting: passed explicitly to services so they never read the request."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csudesk.agents.models import Agent


@dataclass(frozen=True)
class Actor:
    kind: str  # "agent", "voter", "public", "system"
    agent: "Agent | None" = None
    ip: str | None = None

    @classmethod
    def for_agent(cls, agent: "Agent", ip: str | None = None) -> "Actor":
        return cls("agent", agent, ip)

    @classmethod
    def system(cls) -> "Actor":
        return cls("system")

    @property
    def agent_id(self) -> int | None:
        return self.agent.id if self.agent is not None else None
