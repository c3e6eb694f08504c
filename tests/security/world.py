"""A populated csudesk for the proving tests: one account per audience, signed in through the
real login form, a voter file, a ticket, a réponse type and a live one-time link of every purpose.

Everything is built through the services (no row is written by hand), and every table is
read back as a whole by `snapshot()` so a test can say which rows a request changed.
"""

import re
from dataclasses import dataclass, field

from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from csudesk.access import services as access
from csudesk.actor import Actor
from csudesk.agents import services as agents
from csudesk.audit.models import AuditEntry
from csudesk.conversation.response_templates import create_template
from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import LinkPurpose
from csudesk.tickets import services as tickets
from tests.conftest import IsolatedClient
from tests.fixtures.factories import AGENT_PASSWORD, csu

AUDIT_TABLE = AuditEntry.__tablename__
# Browsers send it on every request; the desk may refuse cross-site navigations (SECURITY 12).
SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin"}
_TOKEN = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')
_TOKEN_ANY_ORDER = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')


@dataclass
class World:
    agent: object
    supervisor: object
    admin: object
    target_agent: object
    voter: object
    new_voter: object
    ticket: object
    tokens: dict[str, str]
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    response_template: object = None


def csrf_token_in(page: str) -> str | None:
    found = _TOKEN.search(page) or _TOKEN_ANY_ORDER.search(page)
    return found.group(1) if found else None


def new_client(app) -> FlaskClient:
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.environ_base.update(SAME_ORIGIN)
    return client


def sign_in(app, email: str) -> FlaskClient:
    """A client signed in through the login form, CSRF token included when it is enabled."""
    client = new_client(app)
    data = {"email": email, "password": AGENT_PASSWORD}
    token = csrf_token_in(client.get("/connexion").text)
    if token:
        data["csrf_token"] = token
    response = client.post("/connexion", data=data)
    assert response.status_code == 302, response.text
    return client


def build_world(app, make_agent, make_voter) -> World:
    """Accounts of each role, two voters, a ticket and live links; clients for each audience."""
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09", "Luc Lille")
    supervisor = make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina National")
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL", "Ada Admin")
    target = make_agent("cible@csudesk.test", "agent", "AC-09", "Cyril Cible")
    voter = make_voter(
        "Dupont", "Marie", emails=("marie.dupont@ac-lille.fr",), challenge_answer="Médor"
    )
    new_voter = make_voter("Durand", "Paul", emails=("paul.durand@ac-lille.fr",))
    actor = Actor.for_agent(agent, "192.0.2.10")
    ticket = tickets.create_ticket(
        actor, csu=csu("AC-09"), category="lien_non_recu", channel="telephone", voter=voter
    )
    tickets.add_note(actor, ticket, "Rappeler l'électrice demain.")
    now = utcnow()
    activation = access.resend_activation_link(actor, new_voter, "paul.durand@ac-lille.fr")
    reset = access.send_password_reset_link(actor, voter, "marie.dupont@ac-lille.fr")
    vote_code = links.new_link(
        purpose=LinkPurpose.VOTE_CODE,
        voter_id=voter.id,
        address="marie.dupont@ac-lille.fr",
        requested_by_agent_id=agent.id,
        channel="desk",
    )
    agent_password = agents.reset_password(Actor.for_agent(admin, "192.0.2.11"), target)
    tokens = {
        LinkPurpose.ACTIVATION: links.draw_token(activation.link, now),
        LinkPurpose.PASSWORD_RESET: links.draw_token(reset.link, now),
        LinkPurpose.VOTE_CODE: links.draw_token(vote_code, now),
        LinkPurpose.AGENT_PASSWORD: links.draw_token(agent_password, now),
    }
    reply = create_template(Actor.system(), csu=None, title="Accusé", body="Bonjour {prenom},")
    db.session.commit()
    world = World(agent, supervisor, admin, target, voter, new_voter, ticket, tokens)
    world.response_template = reply
    world.clients = {
        "anonymous": new_client(app),
        "agent": sign_in(app, agent.email),
        "supervisor": sign_in(app, supervisor.email),
        "admin": sign_in(app, admin.email),
    }
    return world


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table in the database (not only the models': migrations may add)."""
    db.session.commit()
    names = sorted(inspect(db.engine).get_table_names())
    return {
        name: sorted(
            (tuple(row) for row in db.session.execute(text(f'SELECT * FROM "{name}"'))),  # noqa: S608
            key=repr,
        )
        for name in names
    }


def changed_tables(before: dict, after: dict, appendable: set[str]) -> dict[str, str]:
    """Tables whose rows differ; a table in `appendable` may only gain rows."""
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old == new:
            continue
        if name in appendable and set(old) <= set(new):
            continue
        gone = [row for row in old if row not in new]
        added = [row for row in new if row not in old]
        changes[name] = f"{len(gone)} rows changed or deleted, {len(added)} new or changed"
    return changes
