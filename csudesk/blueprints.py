"""Blueprint registration (one blueprint per audience) and what every page's layout needs."""

import os

from flask import Flask, current_app

from csudesk.db import utcnow
from csudesk.elections.calendar import election


def register_blueprints(app: Flask) -> None:
    from csudesk.admin import bp as admin_bp
    from csudesk.auth.agent_password import bp as agent_password_bp
    from csudesk.auth.views import bp as auth_bp
    from csudesk.desk import bp as desk_bp
    from csudesk.health import bp as health_bp
    from csudesk.portal import bp as portal_bp
    from csudesk.public import bp as public_bp
    from csudesk.supervision import bp as supervision_bp

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


def _layout_context() -> dict:
    cal = election()
    return {
        "dsfr_available": current_app.extensions["dsfr_available"],
        "election": cal,
        "vote_phase": cal.phase(utcnow()),  # the desk's notice (templates/desk/_vote_phase.html)
    }
