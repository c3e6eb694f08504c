"""Blueprint registration (one blueprint per audience) and what every page's layout needs."""

import os

from flask import Flask, current_app

from csudesk.db import utcnow
from csudesk.elections.calendar import election, paris


def register_blueprints(app: Flask) -> None:
    from csudesk.admin.views import bp as admin_bp
    from csudesk.auth.agent_password import bp as agent_password_bp
    from csudesk.auth.views import bp as auth_bp
    from csudesk.desk import actions, tickets, views  # noqa: F401 - routes on desk_bp
    from csudesk.desk.blueprint import bp as desk_bp
    from csudesk.health import bp as health_bp
    from csudesk.portal.views import bp as portal_bp
    from csudesk.public import legal  # noqa: F401 - routes on public_bp
    from csudesk.public.views import bp as public_bp
    from csudesk.supervision import dashboard, journal  # noqa: F401 - routes on supervision_bp
    from csudesk.supervision import tickets as supervision_tickets  # noqa: F401
    from csudesk.supervision.blueprint import bp as supervision_bp

    for blueprint in (
        public_bp,
        auth_bp,
        desk_bp,
        portal_bp,
        supervision_bp,
        admin_bp,
        agent_password_bp,
        health_bp,
    ):
        app.register_blueprint(blueprint)
    # The DSFR files are installed by `make dsfr` (npm); without them pages stay usable.
    app.extensions["dsfr_available"] = os.path.exists(
        os.path.join(app.static_folder or "", "dsfr", "dsfr.min.css")
    )
    app.context_processor(_layout_context)
    app.add_template_filter(_paris_filter, "paris")
    app.add_template_filter(_nombre_filter, "nombre")
    app.add_template_filter(plural, "pluriel")
    app.add_template_filter(csu_short_name, "csu_court")
    app.add_template_filter(error_title, "error_title")


def _layout_context() -> dict:
    cal = election()
    return {
        "dsfr_available": current_app.extensions["dsfr_available"],
        "election": cal,
        "vote_phase": cal.phase(utcnow()),  # the desk's notice (templates/desk/_vote_phase.html)
    }


def _paris_filter(value, fmt: str = "%d/%m/%Y à %H:%M") -> str:
    """A UTC datetime shown in Paris time."""
    return paris(value).strftime(fmt) if value else ""


def _nombre_filter(value) -> str:
    """French thousands separator (narrow no-break space)."""
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """The French word for a count: 0 and 1 take the singular ('0 ticket', '2 tickets')."""
    if abs(count) < 2:
        return singular
    if plural_form is not None:
        return plural_form
    return singular if singular.endswith(("s", "x", "z")) else singular + "s"


def csu_short_name(name: str) -> str:
    """A CSU's name without the 'CSU — ' the directory puts first, for 'Guichet — …' lines."""
    return name.removeprefix("CSU — ").removeprefix("CSU - ") if name else name


def error_title(title: str, error_state) -> str:
    """A page title, with "Erreur — " first when the page shows errors (and does not say so)."""
    title = " ".join(title.split())
    return f"Erreur — {title}" if error_state and not title.startswith("Erreur") else title
