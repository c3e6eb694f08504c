"""The home page: the four situations of the voter guide, the calendar, where to go."""

import html

import pytest

CALENDAR = {
    "name": "Élections professionnelles 2026",
    "portal_opens": "2026-10-15T09:00",
    "vote_opens": "2026-12-03T09:00",
    "vote_closes": "2026-12-10T17:00",
}


def text(response) -> str:
    return html.unescape(" ".join(response.text.split()))


def test_four_situations_with_what_to_do(client, directory, app):
    app.config["ELECTION"] = CALENDAR
    page = client.get("/")
    assert page.status_code == 200
    body = text(page)
    for heading in (
        "1. Je n'ai pas reçu le message avec mon lien à usage unique",
        "2. Je ne connais pas mon identifiant, ou il est refusé",
        "3. Mon mot de passe est refusé",
        "4. Je n'ai pas reçu ma notice de vote (code de vote)",
    ):
        assert f'<h3 class="fr-card__title">{heading}</h3>' in body
    assert (
        "Votre identifiant électeur est <strong>votre adresse de messagerie professionnelle" in body
    )
    for url in ("/lien-non-recu", "/mot-de-passe-refuse", "/reassort-code-de-vote"):
        assert f'href="{url}"' in body
    assert body.count('href="/trouver-ma-csu"') >= 3  # nav, help section, footer
    assert body.count('href="/nous-ecrire"') >= 2


def test_calendar_comes_from_the_configuration(client, directory, app):
    app.config["ELECTION"] = CALENDAR
    body = text(client.get("/"))
    assert "Assistance aux électeurs — Élections professionnelles 2026" in body
    assert "le 15/10/2026 à 09 h 00" in body
    assert "Ouverture du vote électronique : le 03/12/2026 à 09 h 00" in body
    assert "Clôture du vote : le 10/12/2026 à 17 h 00" in body


@pytest.mark.parametrize(
    ("calendar", "expected", "vote_code"),
    [
        (
            {"portal_opens": "2090-10-15T09:00", "vote_opens": "2090-12-03T09:00",
             "vote_closes": "2090-12-10T17:00"},
            "Le portail élections ouvre le 15/10/2090 à 09 h 00",
            "sera possible à partir du 03/12/2090 à 09 h 00",
        ),
        (
            {"portal_opens": "2020-10-15T09:00", "vote_opens": "2090-12-03T09:00",
             "vote_closes": "2090-12-10T17:00"},
            "Le portail élections est ouvert : activez votre compte dès maintenant.",
            "sera possible à partir du 03/12/2090 à 09 h 00",
        ),
        (
            {"portal_opens": "2020-10-15T09:00", "vote_opens": "2020-12-03T09:00",
             "vote_closes": "2090-12-10T17:00"},
            "Le vote est ouvert jusqu'au 10/12/2090 à 17 h 00",
            "Obtenir un nouveau code de vote",
        ),
        (
            {"portal_opens": "2020-10-15T09:00", "vote_opens": "2020-12-03T09:00",
             "vote_closes": "2020-12-10T17:00"},
            "Le vote est clos depuis le 10/12/2020 à 17 h 00",
            "le réassort du code de vote n'est plus possible",
        ),
    ],
)  # fmt: skip
def test_each_phase_of_the_election(client, directory, app, calendar, expected, vote_code):
    app.config["ELECTION"] = {"name": "Test", **calendar}
    body = text(client.get("/"))
    assert expected in body
    assert vote_code in body


def test_navigation_lists_the_voters_pages(client, directory):
    body = text(client.get("/mot-de-passe-refuse"))
    nav = body.split('id="navigation-principale"')[1].split("</nav>")[0]
    for label in (
        "Accueil",
        "Lien non reçu",
        "Mot de passe refusé",
        "Code de vote",
        "Trouver ma CSU",
        "Écrire à ma CSU",
    ):
        assert f">{label}</a>" in nav
    assert 'href="/mot-de-passe-refuse" aria-current="page"' in nav


@pytest.mark.parametrize(
    "url", ["/", "/lien-non-recu", "/mot-de-passe-refuse", "/reassort-code-de-vote", "/nous-ecrire"]
)
def test_pages_have_one_main_heading_and_labelled_fields(client, directory, url):
    page = client.get(url).text
    assert page.count("<h1") == 1
    for chunk in page.split("<input")[1:]:
        attributes = chunk.split(">")[0]
        if 'type="hidden"' in attributes or 'type="radio"' in attributes:
            continue
        field_id = attributes.split('id="')[1].split('"')[0]
        assert f'for="{field_id}"' in page


def test_the_default_calendar_is_the_2026_round(client, directory, app):
    import csudesk.config as defaults

    app.config["ELECTION"] = defaults.ELECTION
    body = text(client.get("/"))
    assert "Élections professionnelles 2026 — cellules de soutien aux utilisateurs" in body
    assert "Assistance aux électeurs — Élections professionnelles 2026" in body
    assert "Ouverture du portail élections et envoi des liens d'activation : le 15/10/2026" in body
    assert "Ouverture du vote électronique : le 03/12/2026 à 09 h 00" in body
    assert "Clôture du vote : le 10/12/2026 à 17 h 00" in body
    assert "2022" not in body
