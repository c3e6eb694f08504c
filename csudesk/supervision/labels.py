"""French wording of the audit trail for supervisors: actions, who acted, and entry details."""

from typing import Any

from csudesk.access.models import KIND_LABELS, OUTCOME_LABELS
from csudesk.agents.models import ROLE_LABELS
from csudesk.conversation.models import INBOUND_STATUS_LABELS
from csudesk.links.models import LINK_PURPOSE_LABELS
from csudesk.tickets.models import CATEGORY_LABELS, CHANNEL_LABELS, STATUS_LABELS

ACTION_LABELS = {
    "auth.login": "Connexion",
    "auth.login_failed": "Échec de connexion",
    "auth.logout": "Déconnexion",
    "voter.lookup": "Recherche d'un électeur par courriel",
    "voter.search": "Recherche d'électeurs par nom",
    "voter.view": "Consultation d'une fiche électeur",
    "ticket.create": "Création d'un ticket",
    "ticket.note": "Note ajoutée à un ticket",
    "ticket.status": "Changement de statut d'un ticket",
    "ticket.transfer": "Transfert d'un ticket",
    "ticket.assign": "Attribution d'un ticket",
    "ticket.reply": "Réponse par courriel depuis un ticket",
    "ticket.mail_in": "Courriel reçu ajouté à un ticket",
    "mail.bounce": "Courriel marqué rejeté (avis de non-remise)",
    "ticket.merge": "Fusion d'un ticket dans un autre",
    "ticket.lookup": "Recherche d'un ticket par sa référence",
    "link.activation": "Envoi d'un lien d'activation",
    "link.password_reset": "Envoi d'un lien de réassort du mot de passe",
    "link.vote_code": "Envoi d'un lien de réassort du code de vote",
    "challenge.check": "Vérification de la réponse au défi",
    "selfservice.lien_non_recu": "Demande en ligne « lien non reçu » traitée",
    "selfservice.mot_de_passe_refuse": "Demande en ligne « mot de passe refusé » traitée",
    "selfservice.code_de_vote": "Demande en ligne de code de vote traitée",
    "portal.activation": "Activation du compte par l'électeur",
    "portal.password_reset": "Nouveau mot de passe choisi par l'électeur",
    "portal.vote_code": "Nouveau code de vote affiché à l'électeur",
    "export.tickets": "Export du journal des tickets",
    "supervision.ticket_view": "Consultation d'un ticket en supervision",
    "supervision.voter_audit_view": "Consultation du journal d'un électeur en supervision",
    "audit.verify": "Vérification de l'intégrité du journal d'audit",
    "agent.create": "Création d'un compte agent",
    "agent.disable": "Désactivation d'un compte agent",
    "agent.enable": "Réactivation d'un compte agent",
    "agent.change": "Changement de rôle ou de cellule d'un agent",
    "agent.password_set": "Mot de passe d'agent défini",
    "agent.password_reset": "Mot de passe d'agent réinitialisé, lien envoyé",
    "response_template.create": "Création d'une réponse type",
    "response_template.update": "Modification d'une réponse type",
    "response_template.deactivate": "Désactivation d'une réponse type",
    "response_template.activate": "Réactivation d'une réponse type",
}
SUFFIX_LABELS = {"duplicate": "doublon ignoré", "refused": "refusé"}
ACTOR_LABELS = {"public": "public", "voter": "électeur", "system": "système"}

# Keys of AuditEntry.details, as the journal names them.
DETAIL_LABELS = {
    "address": "adresse",
    "after": "après",
    "before": "avant",
    "broken_id": "première entrée rompue",
    "changed": "modifié",
    "by": "recherche par",
    "category": "catégorie",
    "channel": "canal",
    "checked": "entrées vérifiées",
    "correct": "réponse correcte",
    "courriel": "courriel",
    "csu": "cellule",
    "email": "courriel",
    "filters": "filtres",
    "first_name": "prénom",
    "found": "trouvé",
    "head": "tête de la chaîne",
    "in_scope": "dans le périmètre",
    "inbound_id": "message reçu n°",
    "mail_id": "courriel n°",
    "mailbox": "boîte aux lettres",
    "result": "suite donnée",
    "status_code": "code d'état",
    "into": "fusionné dans",
    "moved": "tickets fusionnés repris",
    "invalid_form": "formulaire invalide",
    "kind": "demande",
    "last_name": "nom",
    "link_id": "lien n°",
    "noted_head": "tête relevée",
    "ok": "intègre",
    "outcome": "suite donnée",
    "query": "recherche",
    "reason": "motif",
    "request_id": "demande n°",
    "results": "résultats",
    "role": "rôle",
    "template_id": "réponse type n°",
    "title": "titre",
    "to_csu": "vers la cellule",
    "uai": "UAI",
    # The ticket log's filter names, inside "filtres".
    "agent": "agent",
    "au": "au",
    "canal": "canal",
    "categorie": "catégorie",
    "du": "du",
    "statut": "statut",
    "texte": "mots",
}
# Coded values worth translating, per key (anything else is shown as recorded).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "by": {"email": "courriel", "name": "nom", "reference": "référence"},
    "category": dict(CATEGORY_LABELS),
    "categorie": dict(CATEGORY_LABELS),
    "channel": dict(CHANNEL_LABELS),
    "canal": dict(CHANNEL_LABELS),
    "before": dict(STATUS_LABELS),
    "after": dict(STATUS_LABELS),
    "statut": dict(STATUS_LABELS),
    "role": dict(ROLE_LABELS),
    "kind": dict(KIND_LABELS),
    "outcome": dict(OUTCOME_LABELS),
    "invalid_form": {code: label.lower() for code, label in ACTION_LABELS.items()},
    "purpose": dict(LINK_PURPOSE_LABELS),
    "changed": {"title": "titre", "category": "situation", "body": "texte"},
    "result": dict(INBOUND_STATUS_LABELS),
}


def action_label(code: str) -> str:
    """The French label of an audit action; refusals and duplicates say so."""
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    base, _, suffix = code.rpartition(".")
    if base in ACTION_LABELS and suffix in SUFFIX_LABELS:
        return f"{ACTION_LABELS[base]} ({SUFFIX_LABELS[suffix]})"
    return code


def actor_label(actor: str) -> str:
    """Who acted, when it was not an agent."""
    return ACTOR_LABELS.get(actor, actor)


def detail_value(key: str, value: Any) -> str:
    """One recorded value for people: '—' for nothing, oui/non, French for coded values."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dict):
        return " ; ".join(f"{label} : {text}" for label, text in detail_items(value)) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(detail_value(key, v) for v in value) or "—"
    return VALUE_LABELS.get(key, {}).get(str(value), str(value))


def detail_items(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An entry's details as (label, value) pairs, in the order they were recorded."""
    return [
        (DETAIL_LABELS.get(key, key), detail_value(key, value)) for key, value in details.items()
    ]
