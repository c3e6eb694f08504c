"""Blueprint registration (one blueprint per audience) and what every page's layout needs."""

import os

from flask import Flask, current_app

from csudesk.elections.calendar import election, paris


def register_blueprints(app: Flask) -> None:
    from csudesk.auth.views import bp as auth_bp
    from csudesk.desk import actions, tickets, views  # noqa: F401 - routes on desk_bp
    from csudesk.desk.blueprint import bp as desk_bp
    from csudesk.portal.views import bp as portal_bp
    from csudesk.public.views import bp as public_bp

    for blueprint in (public_bp, auth_bp, desk_bp, portal_bp):
        app.register_blueprint(blueprint)
    # The DSFR files are installed by `make dsfr` (npm); without them pages stay usable.
    app.extensions["dsfr_available"] = os.path.exists(
        os.path.join(app.static_folder or "", "dsfr", "dsfr.min.css")
    )
    app.context_processor(_layout_context)
    app.add_template_filter(_paris_filter, "paris")
    app.add_template_filter(_nombre_filter, "nombre")


def _layout_context() -> dict:
    return {"dsfr_available": current_app.extensions["dsfr_available"], "election": election()}


def _paris_filter(value, fmt: str = "%d/%m/%Y à %H:%M") -> str:
    """A UTC datetime shown in Paris time."""
    return paris(value).strftime(fmt) if value else ""


def _nombre_filter(value) -> str:
    """French thousands separator (narrow no-break space)."""
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)
