"""Agent administration, for administrators."""

from csudesk.admin.views import bp

__all__ = ["bp"]
