"""Each state of a page has its own title; an error state's title starts with "Erreur"."""

import re

import pytest


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.text, re.S).group(1).strip()


@pytest.fixture
def public_states(client, directory):
    return {
        "home": (client.get("/"), False),
        "find": (client.get("/trouver-ma-csu"), False),
        "find_uai": (client.get("/trouver-ma-csu?q=0590001F"), False),
        "find_bad_uai": (client.get("/trouver-ma-csu?q=1234567X"), True),
        "find_none": (client.get("/trouver-ma-csu?q=zzzqqqxx"), False),
        "link": (client.get("/lien-non-recu"), False),
        "link_error": (client.post("/lien-non-recu", data={"email": "pas une adresse"}), True),
        "contact": (client.get("/nous-ecrire"), False),
        "contact_error": (client.post("/nous-ecrire", data={"action": "send"}), True),
        "login": (client.get("/connexion"), False),
        "login_error": (client.post("/connexion", data={"email": "x@y.fr", "password": "z"}), True),
        "not_found": (client.get("/pas-de-page-ici"), True),
    }


def test_public_and_sign_in_states_have_distinct_titles(public_states):
    titles = {k: title(r) for k, (r, _) in public_states.items()}
    assert len(set(titles.values())) == len(titles), titles
    for key, (_, is_error) in public_states.items():
        assert titles[key].startswith("Erreur") == is_error, (key, titles[key])
    assert titles["find_none"].startswith("Aucun établissement trouvé")


def test_supervision_states_have_distinct_titles(client, auth, make_agent):
    sup = make_agent("sup@csudesk.test", "supervisor", "NATIONAL", "Nina National")
    auth.login(sup.email)
    states = {
        "dashboard": (client.get("/supervision/"), False),
        "dashboard_period": (client.get("/supervision/?du=2026-11-01&au=2026-11-05"), False),
        "dashboard_error": (client.get("/supervision/?du=2026-11-05&au=2026-11-01"), True),
        "journal": (client.get("/supervision/journal"), False),
        "journal_search": (client.get("/supervision/journal?action=auth.login"), False),
        "journal_error": (client.get("/supervision/journal?du=1999-01-01"), True),
        "journal_unknown": (
            client.post(
                "/supervision/journal", data={"courriel": "x@ac-lille.fr"}, follow_redirects=True
            ),
            False,
        ),
        "tickets": (client.get("/supervision/tickets"), False),
        "tickets_error": (client.get("/supervision/tickets?du=pas-une-date"), True),
        "verify": (client.get("/supervision/journal/integrite"), False),
        "verify_ok": (client.post("/supervision/journal/integrite", data={}), False),
        "verify_error": (
            client.post("/supervision/journal/integrite", data={"tete": "n'importe quoi"}),
            True,
        ),
    }
    titles = {k: title(r) for k, (r, _) in states.items()}
    assert len(set(titles.values())) == len(titles), titles
    for key, (response, is_error) in states.items():
        assert titles[key].startswith("Erreur") == is_error, (key, titles[key])
        assert (response.status_code == 400) == is_error, (key, response.status_code)
