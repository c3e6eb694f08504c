"""Response headers on every GET route of the URL map, error pages included (SECURITY.md 16).

Each GET route is fetched by the audience it belongs to (anonymous, agent, supervisor, admin)
with real values, and every response is checked: CSP with object-src, base-uri and
frame-ancestors 'none', nosniff, a Referrer-Policy (no-referrer on link landings), no-store
on signed-in pages, and the session cookie's flags with the default (Secure) configuration.
HSTS is checked on a request forwarded over HTTPS by the one trusted proxy.
"""

import pytest
from werkzeug.routing import IntegerConverter

from csudesk import create_app
from tests.fixtures.factories import AGENT_PASSWORD
from tests.fixtures.pages import GET_RULES, build_url, header_problems
from tests.fixtures.world import build_world, new_client

AUDIENCE = {"desk": "agent", "supervision": "supervisor", "admin": "admin"}
LANDINGS = {"portal", "agent_password"}  # the blueprints that receive a mailed token


@pytest.fixture
def app_config(app_config):
    del app_config["SESSION_COOKIE_SECURE"]  # the default: Secure
    app_config["TRUSTED_PROXIES"] = 1
    return app_config


@pytest.fixture
def world(app, make_agent, make_voter):
    return build_world(app, make_agent, make_voter)


def url_values(rule, world) -> list[dict]:
    ids = {"voter_id": world.voter.id, "ticket_id": world.ticket.id}
    ids["agent_id"] = world.target_agent.id
    ids["template_id"] = world.response_template.id
    by_endpoint = {
        "portal.activation_landing": {"token": [world.tokens["activation"]]},
        "portal.password_reset_landing": {"token": [world.tokens["password_reset"]]},
        "portal.vote_code_landing": {"token": [world.tokens["vote_code"]]},
        "agent_password.land": {"token": [world.tokens["agent_password"]]},
        "public.request_received": {"slug": ["lien-non-recu", "code-de-vote"]},
        "public.establishment_csu": {"uai": ["0590001F"]},
        "static": {"filename": ["csudesk.css"]},
    }
    choices = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            assert name in ids, f"<{name}> of {rule.endpoint}: add a value"
            choices[name] = [ids[name]]
        else:
            assert name in by_endpoint.get(rule.endpoint, {}), f"<{name}> of {rule.endpoint}"
            choices[name] = by_endpoint[rule.endpoint][name]
    combos = [{}]
    for name, values in choices.items():
        combos = [{**c, name: v} for c in combos for v in values]
    return combos


def test_every_get_route_and_error_page_carries_the_headers(world):
    problems, seen = [], set()
    landings_first = sorted(GET_RULES, key=lambda rule: "token" not in rule._converters)
    for rule in landings_first:
        blueprint = rule.endpoint.partition(".")[0] if "." in rule.endpoint else None
        who = AUDIENCE.get(blueprint, "anonymous")
        client = world.clients[who]
        for values in url_values(rule, world):
            url = build_url(rule, values)
            response = client.get(url, buffered=True)
            response.close()
            seen.add((who, response.status_code // 100))
            problems += header_problems(
                response, url, signed_in=who != "anonymous", landing=blueprint in LANDINGS
            )
            # The token-free page a landing redirects to is a landing page too.
            if blueprint in LANDINGS and response.status_code in (302, 303):
                follow = client.get(response.location)
                problems += header_problems(
                    follow, response.location, signed_in=False, landing=True
                )
    # Error pages: unknown page, wrong method, refused role, bad request; signed in or not.
    errors = [
        ("anonymous", "/nulle-part", 404),
        ("agent", "/guichet/nulle-part", 404),
        ("agent", f"/guichet/electeurs/{2**31}", 404),
        ("agent", "/admin/agents", 403),
        ("supervisor", "/admin/agents", 403),
        ("agent", "/supervision/", 403),
        ("anonymous", "/deconnexion", 405),
    ]
    for who, url, status in errors:
        response = world.clients[who].get(url)
        assert response.status_code == status, (who, url, response.status_code)
        assert '<html lang="fr"' in response.text, url
        problems += header_problems(response, url, signed_in=who != "anonymous", landing=False)
    bad = world.clients["agent"].post("/guichet/recherche", data={"courriel": "a\x00b"})
    assert bad.status_code == 400
    problems += header_problems(bad, "POST nul byte", signed_in=True, landing=False)
    assert {("anonymous", 2), ("agent", 2), ("supervisor", 2), ("admin", 2)} <= seen
    assert problems == []


def test_hsts_only_over_https_through_the_trusted_proxy(app):
    client = new_client(app)
    forwarded = client.get("/", headers={"X-Forwarded-Proto": "https"})
    hsts = forwarded.headers.get("Strict-Transport-Security", "")
    assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 31536000
    assert "Strict-Transport-Security" not in client.get("/").headers
    # Two hops claimed, one trusted: ProxyFix reads the last one only.
    two = client.get("/", headers={"X-Forwarded-Proto": "http, https"})
    assert "Strict-Transport-Security" in two.headers


def test_hsts_is_not_faked_without_a_trusted_proxy(app_config):
    app_config["TRUSTED_PROXIES"] = 0
    app = create_app(app_config)
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_session_cookie_at_sign_in_is_secure_httponly_lax(app, make_agent):
    agent = make_agent()
    client = new_client(app)
    response = client.post(
        "/connexion",
        data={"email": agent.email, "password": AGENT_PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 302
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if "csudesk_session=" in c]
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax"} <= flags, cookie
    assert not any(f.startswith(("expires", "max-age")) for f in flags), cookie  # no remember-me
    assert not [c for c in response.headers.getlist("Set-Cookie") if "remember" in c.lower()]
