"""CSU scope and role checks, walked from the URL map (SECURITY.md 9).

Every desk, supervision and admin route with an id in its path is called, with every method it
takes, by an account of CSU A (Lille) with the ids of CSU B's (Versailles) objects: the answer
is a 404, the page names nothing of B, and no row but audit entries changes. Every admin route
refuses an agent and a supervisor. A new route with an id, or a new kind of id, makes the test
fail until it is given its values here.
"""

import pytest
from werkzeug.routing import IntegerConverter

from csudesk import create_app
from csudesk.actor import Actor
from csudesk.conversation.response_templates import create_template
from csudesk.extensions import db
from csudesk.tickets import services as tickets
from tests.conftest import base_config
from tests.fixtures.factories import csu
from tests.fixtures.world import AUDIT_TABLE, changed_tables, sign_in, snapshot

URL_MAP = create_app(base_config("sqlite://", 25)).url_map
STAFF = ("desk", "supervision", "admin")
ID_RULES = sorted(
    (
        rule
        for rule in URL_MAP.iter_rules()
        if rule.endpoint.partition(".")[0] in STAFF
        and any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ),
    key=lambda rule: rule.rule,
)
ADMIN_RULES = sorted(
    (rule for rule in URL_MAP.iter_rules() if rule.endpoint.startswith("admin.")),
    key=lambda rule: rule.rule,
)
ROLE_OF_BLUEPRINT = {"desk": "agent", "supervision": "supervisor", "admin": "admin"}
# Other path arguments than ids, by endpoint.
OTHER_VALUES = {"desk.send_link": {"action": ["activation", "password_reset", "vote_code"]}}


def form_data(endpoint: str, world: dict, values: dict) -> dict:
    """What a real form would post: enough for a lenient view to act on B's object."""
    voter_b = world["voter_b"]
    lille = csu("AC-09").id
    forms = {
        "desk.check_challenge": {
            "challenge-answer": "Rex",
            "challenge-ticket": "nouveau",
            "challenge-category": "notice_non_recue",
            "challenge-channel": "telephone",
        },
        "desk.send_link": {
            f"{values.get('action')}-address": voter_b.emails[0].address,
            f"{values.get('action')}-ticket": "nouveau",
            f"{values.get('action')}-category": "lien_non_recu",
            f"{values.get('action')}-channel": "telephone",
        },
        "desk.add_note": {"text": "note glissée"},
        "desk.reply": {"to": voter_b.emails[0].address, "body": "glissée", "etape": "envoyer"},
        "desk.insert_note_response": {"text": "note glissée", "reponse_type": "1"},
        "desk.take": {},
        "desk.change_status": {"status": "resolu"},
        "desk.transfer": {"csu": lille, "reason": "ramené à Lille"},
        "supervision.response_template": {"title": "Prise", "category": "", "body": "x"},
        "supervision.set_response_template_active": {"actif": "0"},
        "desk.merge_ticket": {
            "fusion-into": "1",
            "fusion-reason": "fusion glissée",
            "fusion-confirm": "y",
        },
        "admin.set_active": {"actif": "0"},
        "admin.reset_password": {},
        "admin.change_role": {"role": "admin", "csu": lille},
        "admin.new_agent": {
            "email": "intrus@csudesk.test",
            "name": "Intrus",
            "role": "admin",
            "csu": lille,
        },
    }
    assert endpoint in forms, f"{endpoint}: say what its form posts"
    return forms[endpoint]


@pytest.fixture
def world(app, make_agent, make_voter):
    """CSU A (Lille) accounts of each role; CSU B (Versailles) voter, ticket and agent."""
    people = {
        "agent": make_agent("agent.lille@csudesk.test", "agent", "AC-09", "Luc Lille"),
        "supervisor": make_agent("sup.lille@csudesk.test", "supervisor", "AC-09", "Sam Lille"),
        "admin": make_agent("admin.lille@csudesk.test", "admin", "AC-09", "Ada Lille"),
        "agent_b": make_agent("agent.vers@csudesk.test", "agent", "AC-25", "Véra Versailles"),
        "colleague": make_agent("collegue@csudesk.test", "agent", "AC-09", "Colin Collègue"),
    }
    voter_b = make_voter(
        "Versaillais", "Hortense", emails=("hortense.v@ac-versailles.fr",), uai="0783774D",
        challenge_answer="Rex",
    )  # fmt: skip
    ticket_b = tickets.create_ticket(
        Actor.system(), csu=csu("AC-25"), category="lien_non_recu", channel="telephone",
        voter=voter_b,
    )  # fmt: skip
    tickets.add_note(Actor.system(), ticket_b, "Secret de Versailles")
    template_b = create_template(
        Actor.system(), csu=csu("AC-25"), title="Secret de Versailles", body="Bonjour {prenom},"
    )
    db.session.commit()
    assert voter_b.csu_id == csu("AC-25").id
    clients = {role: sign_in(app, people[role].email) for role in ("agent", "supervisor", "admin")}
    return {
        **people,
        "voter_b": voter_b,
        "ticket_b": ticket_b,
        "template_b": template_b,
        "clients": clients,
    }


def combos(rule, ids: dict) -> list[dict]:
    choices = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            assert name in ids, f"<{name}> of {rule.endpoint}: which object of CSU B is it?"
            choices[name] = [ids[name]]
        else:
            choices[name] = OTHER_VALUES[rule.endpoint][name]
    result = [{}]
    for name, values in choices.items():
        result = [{**c, name: v} for c in result for v in values]
    return result


def test_the_walk_covers_each_staff_blueprint():
    blueprints = {rule.endpoint.partition(".")[0] for rule in ID_RULES}
    assert blueprints == set(STAFF)
    assert {"POST"} <= {m for rule in ID_RULES for m in rule.methods}


def test_ids_of_another_csu_give_404_on_every_route(world):
    ids = {
        "voter_id": world["voter_b"].id,
        "ticket_id": world["ticket_b"].id,
        "agent_id": world["agent_b"].id,
        "template_id": world["template_b"].id,
    }
    secrets_of_b = ("Versaillais", "Hortense", "hortense.v", "Véra", "agent.vers", "Secret de")
    problems, calls = [], 0
    for rule in ID_RULES:
        client = world["clients"][ROLE_OF_BLUEPRINT[rule.endpoint.partition(".")[0]]]
        for values in combos(rule, ids):
            url = URL_MAP.bind("csudesk.test").build(rule.endpoint, values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = form_data(rule.endpoint, world, values) if method == "POST" else None
                before = snapshot()
                response = client.open(url, method=method, data=data, buffered=True)
                calls += 1
                if response.status_code != 404:
                    problems.append(f"{method} {url}: {response.status_code}")
                leaked = [s for s in secrets_of_b if s in response.text]
                if leaked:
                    problems.append(f"{method} {url} shows {leaked}")
                changes = changed_tables(before, snapshot(), {AUDIT_TABLE})
                if changes:
                    problems.append(f"{method} {url} changed {changes}")
    assert calls >= 15
    assert problems == []


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_admin_pages_refuse_agents_and_supervisors(world, who):
    """With ids of their own CSU (the colleague's account): refused, nothing shown or changed."""
    ids = {"agent_id": world["colleague"].id}
    client = world["clients"][who]
    problems = []
    for rule in ADMIN_RULES:
        for values in combos(rule, ids):
            url = URL_MAP.bind("csudesk.test").build(rule.endpoint, values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = form_data(rule.endpoint, world, values) if method == "POST" else None
                before = snapshot()
                response = client.open(url, method=method, data=data, buffered=True)
                if response.status_code not in (403, 404):
                    problems.append(f"{who} {method} {url}: {response.status_code}")
                if "collegue@csudesk.test" in response.text or "Colin" in response.text:
                    problems.append(f"{who} {method} {url} shows the account")
                if '<html lang="fr"' not in response.text:
                    problems.append(f"{who} {method} {url}: not the French error page")
                changes = changed_tables(before, snapshot(), {AUDIT_TABLE})
                if changes:
                    problems.append(f"{who} {method} {url} changed {changes}")
    assert problems == []


def test_supervision_pages_refuse_an_agent(world):
    client = world["clients"]["agent"]
    rules = [
        r
        for r in URL_MAP.iter_rules()
        if r.endpoint.startswith("supervision.") and "GET" in r.methods
    ]
    ids = {"ticket_id": world["ticket_b"].id, "template_id": world["template_b"].id}
    statuses = {}
    for rule in rules:
        for values in combos(rule, ids):
            url = URL_MAP.bind("csudesk.test").build(rule.endpoint, values)
            response = client.get(url, buffered=True)
            statuses[url] = response.status_code
            assert "Secret de" not in response.text
    assert statuses and set(statuses.values()) == {403}, statuses


def test_ids_of_another_csu_in_query_strings_and_form_fields_are_refused(world, make_voter):
    """The same attack through a query string or a posted field, not the path."""
    agent, supervisor, admin = (world["clients"][k] for k in ("agent", "supervisor", "admin"))
    voter_b, ticket_b = world["voter_b"], world["ticket_b"]
    voter_a = make_voter("Lillois", "Alain", emails=("alain@ac-lille.fr",))
    b_address = voter_b.emails[0].address
    secrets_of_b = ("Versaillais", "Hortense", "Véra", "agent.vers", "Secret de")
    gets = [
        (agent, f"/guichet/tickets/nouveau?electeur={voter_b.id}", {404}),
        (supervisor, f"/supervision/journal?electeur={voter_b.id}", {404}),
        (supervisor, f"/supervision/journal?agent={world['agent_b'].id}", {404}),
        (supervisor, f"/supervision/tickets?agent={world['agent_b'].id}", {404}),
        (supervisor, "/supervision/?csu=AC-25", {404}),
        (supervisor, "/supervision/tickets?csu=AC-25", {404}),
        (supervisor, "/supervision/tickets/export.csv?csu=AC-25", {404}),
        # An address in a URL is not searched any more: a redirect without it.
        (supervisor, f"/supervision/journal?courriel={b_address}", {303}),
        (supervisor, f"/supervision/tickets?courriel={b_address}", {303}),
        (agent, "/guichet/tickets?csu=AC-25", {200, 404}),
        (admin, "/admin/agents?q=vers", {200}),
    ]
    problems = []
    for client, url, allowed in gets:
        response = client.get(url, buffered=True)
        if response.status_code not in allowed:
            problems.append(f"GET {url}: {response.status_code}")
        leaked = [s for s in secrets_of_b if s in response.text]
        if leaked:
            problems.append(f"GET {url} shows {leaked}")
    for path in ("/supervision/journal", "/supervision/tickets"):
        # The address filter is posted, then shown under an opaque key: nothing of B's either.
        response = supervisor.post(path, data={"courriel": b_address}, follow_redirects=True)
        if response.status_code != 200:
            problems.append(f"POST {path} (address filter): {response.status_code}")
        leaked = [s for s in secrets_of_b if s in response.text]
        if leaked:
            problems.append(f"POST {path} (address filter) shows {leaked}")
    lille, versailles = csu("AC-09").id, csu("AC-25").id
    link_form = {
        "activation-address": voter_a.emails[0].address,
        "activation-ticket": "nouveau",
        "activation-category": "lien_non_recu",
        "activation-channel": "telephone",
    }
    posts = [
        (
            agent,
            f"/guichet/tickets/nouveau?electeur={voter_b.id}",
            {"category": "identifiant_inconnu", "channel": "telephone"},
        ),
        (
            agent,
            f"/guichet/electeurs/{voter_a.id}/liens/activation",
            {**link_form, "activation-ticket": str(ticket_b.id)},
        ),
        (
            agent,
            f"/guichet/electeurs/{voter_a.id}/liens/activation",
            {**link_form, "activation-address": b_address},
        ),
        (
            admin,
            f"/admin/agents/{world['colleague'].id}/role",
            {"role": "agent", "csu": versailles},
        ),
        (
            admin,
            "/admin/agents/nouveau",
            {"email": "n@csudesk.test", "name": "N", "role": "agent", "csu": versailles},
        ),
        (
            admin,
            "/admin/agents/nouveau",
            {"email": "n@csudesk.test", "name": "N", "role": "admin", "csu": csu("NATIONAL").id},
        ),
    ]
    for client, url, data in posts:
        before = snapshot()
        response = client.post(url, data=data)
        if response.status_code not in (400, 404):
            problems.append(f"POST {url} {data}: {response.status_code}")
        changes = changed_tables(before, snapshot(), {AUDIT_TABLE})
        if changes:
            problems.append(f"POST {url} {data} changed {changes}")
    assert lille != versailles
    assert problems == []
