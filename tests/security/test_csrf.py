"""CSRF protection on every POST, with the real token flow, and no GET changes a row
(SECURITY.md 12). The endpoints come from the app's URL map, not from a list of words: a new
route is covered, or the test says which URL value or audience it lacks."""

import re

import pytest
from flask_wtf.csrf import CSRFError
from werkzeug.routing import IntegerConverter

from csudesk.extensions import csrf
from tests.fixtures.factories import AGENT_PASSWORD
from tests.fixtures.pages import GET_RULES, URL_MAP, audience, build_url
from tests.fixtures.world import AUDIT_TABLE, build_world, changed_tables, csrf_token_in, snapshot

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CHANGING_RULES = sorted(
    (rule for rule in URL_MAP.iter_rules() if rule.methods - SAFE_METHODS),
    key=lambda rule: rule.rule,
)
# GET requests may append audit entries (SECURITY.md 18: a lookup, an export is audited);
# no other table may gain, lose or change a row.
APPENDABLE_ON_GET = {AUDIT_TABLE}
# The presence line's record of who opened a ticket or a voter file, rewritten on each view: a
# trace of reading, like the audit trail, not a change of anything the desk acts on.
VIEW_TRACES = {"recent_view"}


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_login_without_token_is_refused_in_french(client, make_agent):
    agent = make_agent()
    response = client.post("/connexion", data={"email": agent.email, "password": AGENT_PASSWORD})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.text


def test_desk_action_needs_the_token(client, make_agent, make_voter):
    agent = make_agent()
    voter = make_voter()
    login_page = client.get("/connexion").text
    client.post(
        "/connexion",
        data={"email": agent.email, "password": AGENT_PASSWORD, "csrf_token": token_of(login_page)},
    )
    data = {
        "activation-address": voter.emails[0].address,
        "activation-ticket": "nouveau",
        "activation-category": "lien_non_recu",
        "activation-channel": "telephone",
    }
    forged = client.post(f"/guichet/electeurs/{voter.id}/liens/activation", data=data)
    assert forged.status_code == 400
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    token = re.search(r'name="activation-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    done = client.post(
        f"/guichet/electeurs/{voter.id}/liens/activation",
        data={**data, "activation-csrf_token": token},
    )
    assert done.status_code == 302


def test_logout_needs_the_token(client, make_agent):
    agent = make_agent()
    login_page = client.get("/connexion").text
    client.post(
        "/connexion",
        data={"email": agent.email, "password": AGENT_PASSWORD, "csrf_token": token_of(login_page)},
    )
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/guichet/").status_code == 200


def url_values(rule, world) -> list[dict]:
    """Real values for the rule's URL arguments, one dict per URL to try: integer ids by
    argument name (any endpoint), other converters by endpoint."""
    ids = {
        "voter_id": [world.voter.id],
        "ticket_id": [world.ticket.id],
        "agent_id": [world.target_agent.id],
        "template_id": [world.response_template.id],
    }
    by_endpoint = {
        "portal.activation_landing": {"token": [world.tokens["activation"]]},
        "portal.password_reset_landing": {"token": [world.tokens["password_reset"]]},
        "portal.vote_code_landing": {"token": [world.tokens["vote_code"]]},
        "agent_password.land": {"token": [world.tokens["agent_password"]]},
        "public.request_received": {
            "slug": ["lien-non-recu", "mot-de-passe-refuse", "code-de-vote"]
        },
        "public.establishment_csu": {"uai": ["0590001F", "0751717J"]},
        "desk.send_link": {"action": ["activation", "password_reset", "vote_code"]},
        "static": {"filename": ["csudesk.css"]},
    }
    choices = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values = ids.get(name)
        else:
            values = by_endpoint.get(rule.endpoint, {}).get(name)
        assert values, f"no value for <{name}> of {rule.endpoint} ({rule.rule}): add one"
        choices[name] = values
    combos = [{}]
    for name, values in choices.items():
        combos = [{**combo, name: value} for combo in combos for value in values]
    return combos


def query_strings(endpoint: str, world) -> list[str]:
    """The page as linked (no query), then the filters and searches its forms send."""
    address = world.voter.emails[0].address
    extra = {
        "desk.search": [
            f"courriel={address}",
            "nom=Dupont&prenom=Marie",
            "nom=dupont&uai=0590001F",
        ],
        "desk.queue": ["statut=tous", "statut=ouverts&page=2", "csu=AC-09"],
        "supervision.dashboard": ["du=2026-11-01&au=2026-12-31", "csu=AC-09"],
        "supervision.audit_log": [
            f"courriel={address}",
            f"electeur={world.voter.id}",
            "action=auth.login&du=2026-01-01",
        ],
        "supervision.ticket_log": [f"courriel={address}", "statut=ouvert&texte=Rappeler"],
        "supervision.export_tickets": ["du=2026-01-01&au=2026-12-31", f"courriel={address}"],
        "admin.agent_list": ["q=lille", "etat=inactif"],
        "public.find_csu": ["q=lille", "q=0590001F"],
    }
    return ["", *extra.get(endpoint, [])]


@pytest.fixture
def world(app, make_agent, make_voter):
    return build_world(app, make_agent, make_voter)


@pytest.fixture
def csrf_refusals(monkeypatch):
    """The CSRF errors the real protection raises (observed, not replaced)."""
    raised = []
    real = csrf.protect

    def observed(*args, **kwargs):
        try:
            real(*args, **kwargs)
        except CSRFError as error:
            raised.append(error.description)
            raise

    monkeypatch.setattr(csrf, "protect", observed)
    return raised


def test_the_map_has_the_routes_these_tests_are_about():
    """A sanity check that the derived lists are not empty or missing a whole audience."""
    endpoints = {rule.endpoint for rule in CHANGING_RULES}
    assert {"auth.login", "auth.logout", "public.contact", "portal.vote_code"} <= endpoints
    assert {audience(rule) for rule in CHANGING_RULES} == {
        "anonymous",
        "agent",
        "supervisor",
        "admin",
    }
    assert {audience(rule) for rule in GET_RULES} == {"anonymous", "agent", "supervisor", "admin"}


@pytest.mark.engine_neutral  # Flask-WTF refuses before the view runs a query
@pytest.mark.parametrize(
    ("rule", "method"),
    [(rule, method) for rule in CHANGING_RULES for method in sorted(rule.methods - SAFE_METHODS)],
    ids=lambda value: getattr(value, "endpoint", value),
)
def test_every_changing_endpoint_refuses_a_request_without_csrf_token(
    world, csrf_refusals, rule, method
):
    """Signed in as who may use it, with real ids: no token, a French 400 and no row changed."""
    client = world.clients[audience(rule)]
    for values in url_values(rule, world):
        url = build_url(rule, values)
        before = snapshot()
        csrf_refusals.clear()
        refused = client.open(url, method=method, data={"motif": "x"})
        assert refused.status_code == 400, (url, refused.status_code)
        assert csrf_refusals == ["The CSRF token is missing."], url
        assert '<html lang="fr"' in refused.text, url
        assert changed_tables(before, snapshot(), set()) == {}, url
        # The same request with the session's token passes the protection (so the refusal
        # above is the token's doing, not the sign-in's or the ids').
        token = _session_token(client)
        csrf_refusals.clear()
        client.open(url, method=method, data={}, headers={"X-CSRFToken": token})
        assert csrf_refusals == [], url


def _session_token(client) -> str:
    """A valid token for this client's session, as a page of the app renders it."""
    for page in ("/guichet/", "/connexion", "/nous-ecrire"):
        token = csrf_token_in(client.get(page).text)
        if token:
            return token
    raise AssertionError("no page gave a CSRF token")


@pytest.mark.parametrize("who", ["anonymous", "agent", "supervisor", "admin"])
def test_no_get_changes_a_row(world, who):
    """Every GET endpoint with valid values and its forms' filters: only audit entries appear.

    Landings come first so that the token-free link pages find their link in the session.
    """
    client = world.clients[who]
    landings_first = sorted(GET_RULES, key=lambda rule: not rule._converters.get("token"))
    problems, owned = [], 0
    for rule in landings_first:
        for values in url_values(rule, world):
            for query in query_strings(rule.endpoint, world):
                url = build_url(rule, values) + (f"?{query}" if query else "")
                before = snapshot()
                response = client.get(url, buffered=True)  # the export streams
                response.close()  # a static file is served from an open file
                changes = changed_tables(before, snapshot(), APPENDABLE_ON_GET)
                changes = {t: c for t, c in changes.items() if t not in VIEW_TRACES}
                if changes:
                    problems.append(f"GET {url} as {who} changed {changes}")
                if response.status_code >= 500:
                    problems.append(f"GET {url} as {who}: {response.status_code}")
                if audience(rule) == who:
                    owned += 1
                    # With valid values the owner gets the page, or a redirect that is not
                    # to the sign-in page (a link landing, a receipt already shown).
                    refused = response.status_code >= 400 or (response.location or "").startswith(
                        "/connexion"
                    )
                    if refused:
                        problems.append(f"GET {url} as {who}: {response.status_code}")
    assert owned, f"no GET endpoint belongs to {who}"
    assert problems == []
