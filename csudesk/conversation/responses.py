"""Réponses types at the desk: which ones an agent may insert, and filling their placeholders.

Keeping them (the management pages, the seed) is csudesk/conversation/response_templates.py.
Filling is a regular-expression substitution of known names only, never `str.format`: a body
is text written by a supervisor, and `format` would run what it reads ("{ticket.voter}",
"{x[0]}", "{0:>999999}"), raise on a stray brace, or read attributes it was never meant to.
Anything that is not exactly a known name between braces stays as typed.
"""

import re
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, select

from csudesk.conversation.models import ResponseTemplate
from csudesk.extensions import db
from csudesk.text import fold
from csudesk.tickets.models import Ticket

# Name → what it becomes (the management page lists them beside the form).
PLACEHOLDERS = {
    "prenom": "le prénom de l'électeur",
    "nom": "le nom de l'électeur",
    "reference": "la référence du ticket (par exemple 2026-000116)",
    "csu": "le nom de la cellule qui répond",
    "csu_courriel": "l'adresse électronique de la cellule",
    "csu_telephone": "le numéro de téléphone de la cellule",
    "csu_horaires": "les horaires de la cellule",
    "lien_lien_non_recu": "l'adresse de la page « Je n'ai pas reçu mon lien » de ce site",
    "lien_mot_de_passe": "l'adresse de la page « Mon mot de passe est refusé » de ce site",
    "lien_code_de_vote": "l'adresse de la page de réassort du code de vote de ce site",
    "lien_trouver_ma_csu": "l'adresse de la page « Trouver ma cellule » de ce site",
}

# The public self-service pages the link placeholders name (public/views.py).
PAGE_ENDPOINTS = {
    "lien_lien_non_recu": "public.link_not_received",
    "lien_mot_de_passe": "public.password_refused",
    "lien_code_de_vote": "public.vote_code",
    "lien_trouver_ma_csu": "public.find_csu",
}

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def available_for(csu_id: int) -> list[ResponseTemplate]:
    """The active réponses types an agent of this CSU may insert: the CSU's own first, then
    the national ones, each group by title."""
    rows = db.session.scalars(
        select(ResponseTemplate).where(
            ResponseTemplate.active.is_(True),
            or_(ResponseTemplate.csu_id == csu_id, ResponseTemplate.csu_id.is_(None)),
        )
    )
    return sorted(rows, key=lambda t: (t.csu_id is None, fold(t.title), t.title, t.id))


def site_url(endpoint: str) -> str:
    """An absolute URL of this site built from BASE_URL (never from a request's Host)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, force_external=True)


def values_for(ticket: Ticket) -> dict[str, str]:
    """What each placeholder becomes for this ticket. A detail nobody recorded (a caller's
    first name, the cell's phone) is left out: its placeholder stays in the text for the agent
    to complete, and a reply still holding one is refused (conversation/replies.py)."""
    voter, csu = ticket.voter, ticket.csu
    values = {
        "prenom": voter.first_name if voter else ticket.contact_first_name,
        "nom": voter.last_name if voter else ticket.contact_last_name,
        "reference": ticket.reference,
        "csu": csu.name,
        "csu_courriel": csu.email,
        "csu_telephone": csu.phone,
        "csu_horaires": csu.hours,
    }
    values.update({name: site_url(endpoint) for name, endpoint in PAGE_ENDPOINTS.items()})
    return {name: value for name, value in values.items() if value and value.strip()}


def fill(body: str, ticket: Ticket, *, values: dict[str, str] | None = None) -> str:
    """The body with its placeholders filled for this ticket; anything else stays as typed.

    One pass: a filled value (a name a voter typed on the contact form, say "{reference}") is
    never read again for placeholders. `values` (values_for(ticket)) saves filling several.
    """
    values = values_for(ticket) if values is None else values
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def filled_for(ticket: Ticket) -> list[tuple[ResponseTemplate, str]]:
    """The réponses types the ticket's agents may insert, each with its body filled."""
    values = values_for(ticket)
    return [(t, fill(t.body, ticket, values=values)) for t in available_for(ticket.csu_id)]


def unfilled(text: str) -> list[str]:
    """The known placeholders still in a text ("{prenom}"), in order, once each."""
    return list(
        dict.fromkeys(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(1) in PLACEHOLDERS)
    )
