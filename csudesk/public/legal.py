"""The pages every public service's site owes its users: accessibility, legal notice, data.

On the public blueprint, linked from the footer of every page (the desk's included: it is
business software in a browser, covered by the same obligations). The publisher's and the
controller's details are configuration (LEGAL in csudesk/config.py, overridden per deployment).
"""

from flask import current_app, render_template

from csudesk.public.views import bp


def _page(template: str):
    return render_template(f"public/legal/{template}", legal=current_app.config["LEGAL"])


@bp.get("/accessibilite")
def accessibility():
    """The RGAA accessibility declaration."""
    return _page("accessibility.html")


@bp.get("/mentions-legales")
def legal_notice():
    """Publisher, publication director, host."""
    return _page("legal_notice.html")


@bp.get("/donnees-personnelles")
def personal_data():
    """What is processed, why, on what basis, for whom, how long, and the voter's rights."""
    return _page("personal_data.html")
