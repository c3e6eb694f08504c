"""French error pages; bad input never reaches the user as a 500, and no handler raises.

A handler that raised would turn a 400 into a 500 (SECURITY.md 17): every page is rendered
inside a guard that falls back to a plain French text page, and nothing here reads the body.
"""

import logging

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from csudesk.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Requête incorrecte", "La demande n'a pas pu être lue. Revenez en arrière et réessayez."),
    403: ("Accès refusé", "Votre compte ne permet pas d'ouvrir cette page."),
    404: ("Page introuvable", "Cette page n'existe pas ou n'est pas dans votre périmètre."),
    405: ("Méthode non permise", "Cette action ne peut pas être faite de cette façon."),
    413: ("Envoi trop volumineux", "Les données envoyées dépassent la taille permise."),
    429: (
        "Trop de demandes",
        "Vous avez fait trop de demandes en peu de temps. Patientez avant de réessayer.",
    ),
    500: (
        "Erreur du service",
        "Une erreur inattendue s'est produite ; rien n'a été enregistré."
        " Réessayez dans un instant.",
    ),
}
CSRF_MESSAGE = (
    "Le formulaire a expiré ou n'a pas été envoyé depuis cette page."
    " Rechargez la page, puis envoyez-le de nouveau."
)


def register_errorhandlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)


def error_page(code: int, detail: str | None = None):
    """The French page for `code`; a plain text page if even the template fails."""
    title, text = MESSAGES.get(code, (f"Erreur {code}", ""))
    try:
        return render_template(
            "errors/error.html", code=code, title=title, text=detail or text
        ), code
    except Exception:
        log.exception("error page %s could not be rendered", code)
        return plain_page(code, title, detail or text)


def plain_page(code: int, title: str, text: str) -> Response:
    body = f"<!doctype html><html lang=fr><title>{escape(title)}</title><h1>{escape(title)}</h1>"
    return Response(f"{body}<p>{escape(text)}</p></html>", code, mimetype="text/html")


def guarded(handler, code: int, detail: str | None = None):
    """Run a blueprint's own error handler; if it raises, the plain French page instead."""
    try:
        return handler()
    except Exception:
        log.exception("error handler for %s failed", code)
        _rollback()
        return error_page(code, detail)


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        log.exception("rollback after a failed request failed")


def _csrf_error(error):
    return error_page(400, CSRF_MESSAGE)


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    return error_page(error.code)


def _server_error(error):
    _rollback()
    return error_page(500)
