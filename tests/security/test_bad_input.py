"""Bad input never gives a 500 (SECURITY.md 17): odd digits, huge ids, far dates, NUL bytes."""

import pytest


@pytest.mark.parametrize(
    "url",
    [
        "/trouver-ma-csu?q=¹²³⁴⁵⁶⁷A",
        "/trouver-ma-csu/¹²³⁴⁵⁶⁷A",
        "/trouver-ma-csu?q=a%00b",
    ],
)
def test_public_pages(client, directory, url):
    assert client.get(url).status_code in (200, 400, 404)


@pytest.mark.parametrize(
    "url",
    [
        "/guichet/electeurs/99999999999999999999",
        "/guichet/tickets/99999999999999999999",
        "/guichet/tickets?page=99999999999999999999",
        "/guichet/tickets?page=²",
        "/guichet/tickets/nouveau?electeur=99999999999999999999",
        "/guichet/recherche?nom=X&uai=¹²³⁴⁵⁶⁷A",
        "/guichet/recherche?courriel=a%00b@x.fr",
        "/guichet/tickets?csu=AC%00",
    ],
)
def test_desk_pages(client, lille, url):
    assert client.get(url).status_code in (200, 400, 404)


@pytest.mark.parametrize(
    "url",
    [
        "/supervision/tickets?agent=²",
        "/supervision/journal?agent=²",
        "/supervision/journal?electeur=²",
        "/supervision/journal?apres=²",
        "/supervision/?du=0001-01-01&au=0001-01-02",
        "/supervision/tickets?au=9999-12-31",
        "/supervision/tickets?du=0001-01-01",
        "/supervision/tickets/99999999999999999999",
        "/supervision/tickets?texte=a%00",
        "/admin/agents/99999999999999999999",
        "/admin/agents?q=%00",
    ],
)
def test_supervision_pages(client, make_agent, auth, url):
    auth.login(make_agent("admin@csudesk.test", "admin", "NATIONAL").email)
    assert client.get(url).status_code in (200, 400, 404)


def test_nul_byte_in_login_is_a_clear_refusal(client, directory):
    response = client.post("/connexion", data={"email": "a\x00b@x.fr", "password": "x"})
    assert response.status_code == 400
    assert "Requête incorrecte" in response.text
