"""French wording of audit actions, for the supervision pages."""

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
    "link.activation": "Envoi d'un lien d'activation",
    "link.password_reset": "Envoi d'un lien de réassort du mot de passe",
    "link.vote_code": "Envoi d'un lien de réassort du code de vote",
    "challenge.check": "Vérification de la réponse au défi",
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
}
SUFFIX_LABELS = {"duplicate": "doublon ignoré", "refused": "refusé"}


def action_label(code: str) -> str:
    """The French label of an audit action; refusals and duplicates say so."""
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    base, _, suffix = code.rpartition(".")
    if base in ACTION_LABELS and suffix in SUFFIX_LABELS:
        return f"{ACTION_LABELS[base]} ({SUFFIX_LABELS[suffix]})"
    return code
