"""French error pages; bad input never reaches the user as a 500."""

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from csudesk.extensions import db

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


def register_errorhandlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)


def _render(code: int, detail: str | None = None):
    title, text = MESSAGES.get(code, (f"Erreur {code}", ""))
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def _csrf_error(error):
    return _render(
        400,
        "Le formulaire a expiré ou n'a pas été envoyé depuis cette page."
        " Rechargez la page, puis envoyez-le de nouveau.",
    )


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    return _render(error.code)


def _server_error(error):
    db.session.rollback()
    return _render(500)
