"""Supervision: the dashboard, the ticket log and its export, the audit journal, the réponses
types."""

from csudesk.supervision import (  # noqa: F401, E402 - the routes on bp
    dashboard,
    journal,
    response_templates,
    tickets,
)
from csudesk.supervision.blueprint import bp

__all__ = ["bp"]
