"""The RGAA declaration, the legal notice and the personal-data page, linked from every page."""

import html

import pytest


def text(response) -> str:
    return html.unescape(" ".join(response.text.split()))


def footer(response) -> str:
    return text(response).split('id="pied-de-page"')[1]


def test_accessibility_declaration(client):
    page = client.get("/accessibilite")
    assert page.status_code == 200
    body = text(page)
    assert page.text.count("<h1") == 1
    assert "<title>Déclaration d'accessibilité — " in body
    for part in (
        "est <strong>partiellement conforme</strong> avec le référentiel général d'amélioration"
        " de l'accessibilité (RGAA), version 4.1.2",
        "<h3>Non-conformités</h3>",
        "<h3>Dérogations pour charge disproportionnée</h3>",
        "auto-évaluation menée le 1<sup>er</sup> décembre 2026",  # date and method of the check
        "axe-core",
        "<h3>Pages du site ayant fait l'objet de la vérification</h3>",
        "Cette déclaration a été établie le 1<sup>er</sup> décembre 2026.",
        'href="mailto:accessibilite-elections@education.example"',  # reporting a barrier
        "Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07",
        "09 69 39 00 00",
    ):
        assert part in body
    assert "critère 10.11" in body  # each defect found names the criterion


def test_personal_data_page(client, app):
    app.config["LEGAL"] = {
        **app.config["LEGAL"],
        "controller": "Rectorat de démonstration",
        "dpo_email": "dpd@rectorat.example",
        "tickets_retention": "six mois après la proclamation des résultats",
    }
    page = client.get("/donnees-personnelles")
    assert page.status_code == 200
    body = text(page)
    for heading in (
        "Responsable du traitement",
        "Pourquoi ces données sont traitées",
        "Base légale",
        "Destinataires",
        "Durée de conservation",
        "Vos droits",
    ):
        assert f"<h2>{heading}</h2>" in body
    assert "Rectorat de démonstration" in body  # the controller comes from the configuration
    assert 'href="mailto:dpd@rectorat.example"' in body
    assert "six mois après la proclamation des résultats" in body
    assert "Journal d'audit des actions des agents : deux ans au moins" in body
    assert "article 6, paragraphe 1, point e" in " ".join(body.split())
    assert "CNIL" in body


def test_legal_notice(client, app):
    app.config["LEGAL"] = {**app.config["LEGAL"], "host": "Hébergeur Démo SAS"}
    body = text(client.get("/mentions-legales"))
    for heading in ("Éditeur du site", "Directeur de la publication", "Hébergement"):
        assert f"<h2>{heading}</h2>" in body
    assert "Hébergeur Démo SAS" in body
    assert "Ministère de l'Éducation nationale" in body


LINKS = (
    '<a class="fr-footer__bottom-link" href="/accessibilite">Accessibilité : partiellement'
    " conforme</a>",
    '<a class="fr-footer__bottom-link" href="/mentions-legales">Mentions légales</a>',
    '<a class="fr-footer__bottom-link" href="/donnees-personnelles">Données personnelles</a>',
)


@pytest.mark.parametrize("url", ["/", "/nous-ecrire", "/connexion", "/nulle-part"])
def test_footer_of_public_pages_links_the_three_pages(client, directory, url):
    response = client.get(url)
    for link in LINKS:
        assert link in footer(response)


def test_footer_of_desk_and_supervision_pages(client, make_agent, auth):
    make_agent("superviseur@csudesk.test", "supervisor", "AC-09")
    auth.login("superviseur@csudesk.test")
    for url in ("/guichet/", "/supervision/"):
        response = client.get(url)
        assert response.status_code == 200
        for link in LINKS:
            assert link in footer(response)


def test_the_current_page_is_marked_in_the_footer(client):
    bottom = footer(client.get("/mentions-legales"))
    assert 'href="/mentions-legales" aria-current="page"' in bottom
    assert bottom.count('aria-current="page"') == 1
