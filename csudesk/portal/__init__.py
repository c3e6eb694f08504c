"""The landings of the voters' one-time links (activation, password, vote code)."""

from csudesk.portal.views import bp

__all__ = ["bp"]
