"""Keeping the réponses types: who may change which, what a body may hold, the national seed.

National réponses types (csu_id NULL) are kept by the national supervisors; a CSU's own by that
CSU's supervisors (and the national ones). None is ever deleted: a réponse type that no longer
fits is deactivated, and every change leaves an audit entry. Filling one into a reply or a note
is csudesk/conversation/responses.py.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.agents.models import Agent, Role
from csudesk.agents.services import in_scope, scope_csu_ids
from csudesk.audit import services as audit
from csudesk.conversation.models import ResponseTemplate
from csudesk.conversation.responses import PLACEHOLDERS
from csudesk.directory.models import CSU
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.links.services import LINK_PATHS
from csudesk.tickets.models import Category

TITLE_MAX = 120
BODY_MAX = 5000

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# Segments of the one-time link landings (/activation/<token>, /mot-de-passe/<token>, ...).
_LANDING_SEGMENTS = tuple(
    sorted({path.strip("/").rsplit("/", 1)[-1] for path in LINK_PATHS.values()})
)
_LANDING_IN_PATH = re.compile(
    r"(?:^|/)(?:" + "|".join(map(re.escape, _LANDING_SEGMENTS)) + r")(?:/|$)"
)
_HOST_THEN_PATH = re.compile(r"^[\w-]+(?:\.[\w-]+)+(?::\d+)?(/.*)$")
_EDGE_PUNCTUATION = "()[]<>\"'«».,;:!?"


def valid_names() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def _path_of(token: str) -> str | None:
    """The path of a URL-like word of a body ("https://h/p", "h.example/p", "/p"), else None."""
    token = token.strip(_EDGE_PUNCTUATION)
    if "://" in token:
        return urlsplit(token).path
    if token.startswith("/"):
        return token
    found = _HOST_THEN_PATH.match(token)
    return found.group(1) if found else None


def links_to_an_account(body: str) -> bool:
    """Whether the body holds an address of a one-time link page (an account's link)."""
    for token in body.split():
        path = _path_of(token)
        if path is None:
            continue
        path = re.sub(r"/{2,}", "/", unquote(path).lower())
        if _LANDING_IN_PATH.search(path):
            return True
    return False


def _clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ServiceError("Donnez un titre à la réponse type.", field="title")
    if len(title) > TITLE_MAX:
        raise ServiceError(f"Le titre tient en {TITLE_MAX} caractères au plus.", field="title")
    return title


def _clean_body(body: str | None) -> str:
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ServiceError("Écrivez le texte de la réponse type.", field="body")
    if len(body) > BODY_MAX:
        raise ServiceError(
            f"Le texte tient en {BODY_MAX} caractères au plus ({len(body)} saisis).", field="body"
        )
    unknown = [n for n in dict.fromkeys(_PLACEHOLDER.findall(body)) if n not in PLACEHOLDERS]
    if unknown:
        shown = ", ".join("{" + name + "}" for name in unknown)
        raise ServiceError(
            f"Variable inconnue : {shown}. Variables possibles : {valid_names()}.", field="body"
        )
    if "{" in _PLACEHOLDER.sub("", body) or "}" in _PLACEHOLDER.sub("", body):
        raise ServiceError(
            "Une accolade est seule : les accolades ne servent qu'aux variables, comme {prenom}.",
            field="body",
        )
    if links_to_an_account(body):
        raise ServiceError(
            "Le texte contient l'adresse d'un lien à usage unique (activation, mot de passe, code"
            " de vote) : une réponse type ne porte jamais le lien d'un compte. Utilisez les"
            " variables des pages du site, comme {lien_lien_non_recu}, ou faites envoyer le lien"
            " depuis la fiche de l'électeur.",
            field="body",
        )
    return body


def _clean_category(category: str | None) -> str | None:
    if not category:
        return None
    if category not in {c.value for c in Category}:
        raise ServiceError("Choisissez une situation de la liste.", field="category")
    return category


def can_manage(agent: Agent, csu_id: int | None) -> bool:
    """Whether this account may create or change réponses types of this CSU (None: national)."""
    if not agent.active or not agent.has_role(Role.SUPERVISOR):
        return False
    if csu_id is None:
        return agent.is_national
    return in_scope(agent, csu_id)


def can_read(agent: Agent, template: ResponseTemplate) -> bool:
    """Supervisors read the national réponses types and those of their scope."""
    if not agent.has_role(Role.SUPERVISOR):
        return False
    return template.csu_id is None or in_scope(agent, template.csu_id)


def _check_may_manage(actor: Actor, csu_id: int | None) -> None:
    if actor.kind == "system":  # the command line: the operator's own hand
        return
    if actor.agent is None or not can_manage(actor.agent, csu_id):
        raise ServiceError(
            "Seuls les superviseurs nationaux modifient les réponses types nationales."
            if csu_id is None
            else "Seuls les superviseurs de cette cellule modifient ses réponses types."
        )


def _csu_code(csu_id: int | None) -> str:
    if csu_id is None:
        return "NATIONAL"
    return db.session.get(CSU, csu_id).code


def _check_title_free(title: str, csu_id: int | None, template_id: int | None = None) -> None:
    query = select(ResponseTemplate.id, ResponseTemplate.title).where(
        ResponseTemplate.csu_id.is_(None) if csu_id is None else ResponseTemplate.csu_id == csu_id
    )
    wanted = title.casefold()
    for other_id, other_title in db.session.execute(query):
        if other_id != template_id and other_title.casefold() == wanted:
            raise ServiceError(
                "Une réponse type porte déjà ce titre"
                + (" parmi les réponses nationales." if csu_id is None else " dans cette cellule.")
                + " Choisissez-en un autre (ou réactivez l'ancienne).",
                field="title",
            )


def create_template(
    actor: Actor,
    *,
    csu: CSU | None,
    title: str,
    body: str,
    category: str | None = None,
) -> ResponseTemplate:
    """A new réponse type, national (csu None) or of one CSU, active at once."""
    if csu is not None and csu.is_national:
        csu = None  # the national cell's réponses types are the national ones
    csu_id = csu.id if csu is not None else None
    _check_may_manage(actor, csu_id)
    title = _clean_title(title)
    body = _clean_body(body)
    category = _clean_category(category)
    _check_title_free(title, csu_id)
    template = ResponseTemplate(
        csu_id=csu_id,
        title=title,
        category=category,
        body=body,
        active=True,
        updated_by_agent_id=actor.agent_id,
    )
    db.session.add(template)
    db.session.flush()
    audit.record(
        actor,
        "response_template.create",
        template_id=template.id,
        csu=_csu_code(csu_id),
        title=title,
    )
    return template


def update_template(
    actor: Actor,
    template: ResponseTemplate,
    *,
    title: str,
    body: str,
    category: str | None = None,
) -> list[str]:
    """Change the title, situation or text; returns what changed (nothing: nothing recorded)."""
    _check_may_manage(actor, template.csu_id)
    title = _clean_title(title)
    body = _clean_body(body)
    category = _clean_category(category)
    _check_title_free(title, template.csu_id, template.id)
    changed = [
        name
        for name, value in (("title", title), ("category", category), ("body", body))
        if getattr(template, name) != value
    ]
    if not changed:
        return []
    template.title, template.category, template.body = title, category, body
    template.updated_by_agent_id = actor.agent_id
    db.session.flush()
    audit.record(
        actor,
        "response_template.update",
        template_id=template.id,
        csu=_csu_code(template.csu_id),
        title=title,
        changed=changed,
    )
    return changed


def set_template_active(actor: Actor, template: ResponseTemplate, active: bool) -> bool:
    """Deactivate (hidden from the desk, kept) or reactivate; False when already so."""
    _check_may_manage(actor, template.csu_id)
    if template.active == active:
        return False
    template.active = active
    template.updated_by_agent_id = actor.agent_id
    db.session.flush()
    audit.record(
        actor,
        "response_template.activate" if active else "response_template.deactivate",
        template_id=template.id,
        csu=_csu_code(template.csu_id),
        title=template.title,
    )
    return True


@dataclass
class ForManagement:
    """What a supervisor's page lists: the national réponses types, then each CSU's."""

    national: list[ResponseTemplate]
    per_csu: list[tuple[CSU, list[ResponseTemplate]]]

    def __iter__(self):
        return iter((self.national, self.per_csu))


def templates_for_management(actor: Actor | Agent, csu_id: int | None = None) -> ForManagement:
    """The national réponses types and those of the CSUs in the account's scope (or `csu_id`),
    active and deactivated, by title."""
    agent = actor.agent if isinstance(actor, Actor) else actor
    national = list(
        db.session.scalars(
            select(ResponseTemplate)
            .where(ResponseTemplate.csu_id.is_(None))
            .order_by(ResponseTemplate.title, ResponseTemplate.id)
        )
    )
    query = (
        select(ResponseTemplate)
        .join(CSU, CSU.id == ResponseTemplate.csu_id)
        .order_by(CSU.kind, CSU.name, ResponseTemplate.title, ResponseTemplate.id)
    )
    scope = scope_csu_ids(agent)
    if scope is not None:
        query = query.where(ResponseTemplate.csu_id.in_(scope))
    if csu_id is not None:
        query = query.where(ResponseTemplate.csu_id == csu_id)
    per_csu: list[tuple[CSU, list[ResponseTemplate]]] = []
    for template in db.session.scalars(query):
        if not per_csu or per_csu[-1][0].id != template.csu_id:
            per_csu.append((template.csu, []))
        per_csu[-1][1].append(template)
    return ForManagement(national, per_csu)


def editors_of(templates: list[ResponseTemplate]) -> dict[int, Agent]:
    """The accounts that last changed these réponses types, by id."""
    ids = {t.updated_by_agent_id for t in templates if t.updated_by_agent_id is not None}
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(select(Agent).where(Agent.id.in_(ids)))}


_SIGNATURE = """

Cordialement,

La cellule de soutien aux utilisateurs
{csu}"""

# The voter guide's four situations, and an acknowledgement: (title, category, body).
NATIONAL_SEED: list[tuple[str, str | None, str]] = [
    (
        "Lien d'activation non reçu",
        Category.LINK_NOT_RECEIVED,
        """Bonjour {prenom} {nom},

Vous n'avez pas reçu le message contenant votre lien à usage unique pour activer votre compte \
électeur.

Vous pouvez recevoir un nouveau lien dès maintenant sur la page {lien_lien_non_recu} : \
renseignez votre identifiant électeur, qui est votre adresse de messagerie professionnelle. Si \
vous disposez de plusieurs adresses de messagerie professionnelle, vous pouvez les essayer. Vous \
recevrez alors automatiquement sur cette adresse un message avec votre nouveau lien à usage \
unique. Cliquer sur ce lien activera votre compte électeur.

Si la difficulté persiste, répondez simplement à ce message en rappelant la référence \
{reference}."""
        + _SIGNATURE,
    ),
    (
        "Identifiant inconnu ou invalide",
        Category.UNKNOWN_IDENTIFIER,
        """Bonjour {prenom} {nom},

Votre identifiant électeur est votre adresse de messagerie professionnelle : celle sur laquelle \
vous avez reçu le message contenant le lien à usage unique qui permet d'activer votre compte \
électeur.

Si vous disposez de plusieurs adresses de messagerie professionnelle, utilisez celle qui a reçu \
ce message. Si vous ne le retrouvez pas, vous pouvez recevoir un nouveau lien sur la page \
{lien_lien_non_recu}.

Si la difficulté persiste, répondez simplement à ce message en rappelant la référence \
{reference}."""
        + _SIGNATURE,
    ),
    (
        "Mot de passe refusé",
        Category.PASSWORD_REFUSED,
        """Bonjour {prenom} {nom},

Votre mot de passe élections est refusé : vous pouvez en créer un nouveau.

Sur le portail élections, après avoir saisi votre identifiant électeur, cliquez sur « Besoin du \
réassort de votre mot de passe élections ». Vous pouvez aussi en faire la demande sur la page \
{lien_mot_de_passe}.

Vous recevrez sur votre adresse de messagerie professionnelle un nouveau message contenant un \
lien à usage unique : cliquez sur ce lien pour atteindre la page de création de votre nouveau \
mot de passe élections.

Si la difficulté persiste, répondez simplement à ce message en rappelant la référence \
{reference}."""
        + _SIGNATURE,
    ),
    (
        "Notice ou code de vote non reçu",
        Category.NOTICE_NOT_RECEIVED,
        """Bonjour {prenom} {nom},

Votre notice de vote, remise en main propre sur votre lieu de travail contre émargement ou \
envoyée à votre adresse postale, contient votre code de vote, indispensable pour vous \
authentifier à votre espace de vote.

Si vous ne disposez pas de votre notice, vous pouvez demander le réassort de votre code de vote \
à partir de l'ouverture du scrutin, depuis votre espace de vote dans le portail élections ou sur \
la page {lien_code_de_vote}. Il vous sera demandé votre adresse de messagerie professionnelle et \
la réponse à la question personnelle (« défi ») choisie lors de l'activation de votre compte.

Si la difficulté persiste, répondez simplement à ce message en rappelant la référence \
{reference}."""
        + _SIGNATURE,
    ),
    (
        "Accusé de réception",
        None,
        """Bonjour {prenom} {nom},

Nous avons bien reçu votre demande, enregistrée sous la référence {reference}. La cellule de \
soutien aux utilisateurs l'étudie et vous répondra dans les meilleurs délais.

Pour compléter votre demande, répondez simplement à ce message en conservant la référence \
{reference} dans l'objet."""
        + _SIGNATURE,
    ),
]


def seed_national(actor: Actor | None = None) -> int:
    """Create the national réponses types of the guide missing by title; returns how many.

    An existing one (changed or deactivated since) is left as it is.
    """
    actor = actor or Actor.system()
    existing = {
        title.casefold()
        for title in db.session.scalars(
            select(ResponseTemplate.title).where(ResponseTemplate.csu_id.is_(None))
        )
    }
    created = 0
    for title, category, body in NATIONAL_SEED:
        if title.casefold() in existing:
            continue
        create_template(actor, csu=None, title=title, body=body, category=category)
        created += 1
    return created
