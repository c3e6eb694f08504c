"""Every agent action and every sign-in writes who, what, which voter, when and from where
(SECURITY.md 18), walked through HTTP.

The action codes come from the code: every `audit.record(actor, "<code>")` of the package is
read (AST), and each code must be produced by the walk below or be listed as one that only a
voter, the public or the system writes. Each client comes through the one trusted proxy
from its own address, so "from where" is the client's address, not the proxy's.
"""

import ast
import re
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.conversation.models import ResponseTemplate
from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.mail.worker import send_due
from csudesk.tickets import services as tickets
from csudesk.tickets.models import Ticket
from tests.conftest import IsolatedClient
from tests.fixtures.factories import AGENT_PASSWORD, VOTING, csu
from tests.fixtures.world import SAME_ORIGIN

PACKAGE = Path(__file__).resolve().parents[2] / "csudesk"
# Codes that no desk account writes: the voter on a link page, the public forms' worker, the
# generated demo activity. Reviewed: each is audited by the tests of its own feature.
NOT_BY_AGENTS = {
    r"portal\.[a-z_.]+",
    "portal.activation",  # the voter's own uses of a link (access/redeem.py)
    "portal.password_reset",
    "portal.vote_code",
    r"selfservice\.[a-z_.]+",
    "auth.login_failed",  # a failed sign-in has no agent yet: checked below as "public"
    "ticket.mail_in",  # mail that comes in (conversation/mail_in.py), tests/conversation
    "mail.bounce",  # a delivery-status notification (conversation/bounces.py), tests/conversation
}
# audit.record() calls whose code is a parameter, and the functions that pass it.
INDIRECT = {("views.py", "audit_action")}
INDIRECT_CALLERS = {"voter_page"}
PROXY = "10.0.0.1"
IPS = {"agent": "198.51.100.7", "supervisor": "198.51.100.8", "admin": "198.51.100.9"}


def code_patterns(code: ast.expr) -> set[str]:
    """A literal, an f-string (its fields match any word) or `a if cond else b`."""
    if isinstance(code, ast.Constant) and isinstance(code.value, str):
        return {re.escape(code.value)}
    if isinstance(code, ast.JoinedStr):
        return {
            "".join(
                re.escape(part.value) if isinstance(part, ast.Constant) else r"[a-z_.]+"
                for part in code.values
            )
        }
    if isinstance(code, ast.IfExp):
        return code_patterns(code.body) | code_patterns(code.orelse)
    return set()


def recorded_codes() -> set[str]:
    """The action argument of every audit.record() call, as a regex (f-strings: any word)."""
    codes = set()
    for path in PACKAGE.rglob("*.py"):
        if "demo" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and len(node.args) >= 2):
                continue
            func = node.func
            if not (isinstance(func, ast.Attribute) and func.attr == "record"):
                continue
            if not (isinstance(func.value, ast.Name) and func.value.id == "audit"):
                continue
            arg = node.args[1]
            if isinstance(arg, ast.Name) and (path.name, arg.id) in INDIRECT:
                continue  # its values are collected from the callers below
            patterns = code_patterns(arg)
            assert patterns, f"{path}:{node.lineno}: audit code is not a literal"
            codes |= patterns
        # Callers of a function that records the code it is given.
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in INDIRECT_CALLERS:
                for value in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(value, ast.Constant) and re.fullmatch(
                        r"[a-z_]+\.[a-z_.]+", str(value.value)
                    ):
                        codes |= code_patterns(value)
    return codes


@pytest.fixture
def app_config(app_config):
    app_config.update(TRUSTED_PROXIES=1, ELECTION=VOTING)
    return app_config


def client_from(app, ip: str):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.environ_base.update(
        SAME_ORIGIN, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"203.0.113.250, {ip}"
    )
    return client


def sign_in(app, email, ip):
    client = client_from(app, ip)
    response = client.post("/connexion", data={"email": email, "password": AGENT_PASSWORD})
    assert response.status_code == 302 and "/connexion" not in response.location
    return client


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 302, 303)), response.text[:500]
    assert "/connexion" not in (response.location or "")
    return response


def link(client, voter, action, ticket="nouveau"):
    return client.post(
        f"/guichet/electeurs/{voter.id}/liens/{action}",
        data={
            f"{action}-address": voter.emails[0].address,
            f"{action}-ticket": ticket,
            f"{action}-category": "lien_non_recu",
            f"{action}-channel": "telephone",
        },
    )


def test_every_agent_action_is_audited_with_who_what_voter_when_where(
    app, make_agent, make_voter, smtp
):
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09", "Luc Lille")
    supervisor = make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina")
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL", "Ada")
    colleague = make_agent("collegue@csudesk.test", "agent", "AC-09", "Colin")
    fresh = make_voter("Durand", "Paul", emails=("paul.durand@ac-lille.fr",))
    active = make_voter("Dupont", "Marie", emails=("marie.dupont@ac-lille.fr",), activated=True)
    coded = make_voter("Petit", "Jean", emails=("jean.petit@ac-lille.fr",), challenge_answer="Rex")
    started = utcnow()
    first_id = db.session.scalar(select(db.func.coalesce(db.func.max(AuditEntry.id), 0)))
    expected = []  # (action, agent, voter or None)

    failed = client_from(app, IPS["agent"]).post(
        "/connexion", data={"email": agent.email, "password": "pas le bon mot de passe"}
    )
    assert failed.status_code == 400
    desk = sign_in(app, agent.email, IPS["agent"])
    expected.append(("auth.login", agent, None))
    ok(desk.post("/guichet/recherche", data={"courriel": active.emails[0].address}))
    expected.append(("voter.lookup", agent, active))
    ok(desk.post("/guichet/recherche", data={"courriel": "personne@ac-lille.fr"}))
    expected.append(("voter.lookup", agent, None))
    ok(desk.get("/guichet/recherche?nom=Dupont&prenom=Marie"))
    expected.append(("voter.search", agent, None))
    ok(desk.get(f"/guichet/electeurs/{active.id}"))
    expected.append(("voter.view", agent, active))
    ok(link(desk, fresh, "activation"))
    expected.append(("link.activation", agent, fresh))
    ok(link(desk, fresh, "activation"))  # a double click
    expected.append(("link.activation.duplicate", agent, fresh))
    ok(link(desk, active, "password_reset"))
    expected.append(("link.password_reset", agent, active))
    ok(link(desk, coded, "vote_code"))  # no challenge checked yet: refused
    expected.append(("link.vote_code.refused", agent, coded))
    check = {
        "challenge-answer": "rex",
        "challenge-ticket": "nouveau",
        "challenge-category": "notice_non_recue",
        "challenge-channel": "telephone",
    }
    ok(desk.post(f"/guichet/electeurs/{coded.id}/defi", data=check))
    expected += [("ticket.create", agent, coded), ("challenge.check", agent, coded)]
    ok(desk.post(f"/guichet/electeurs/{coded.id}/defi", data=check))  # a double click
    expected.append(("challenge.check.duplicate", agent, coded))
    ticket = db.session.scalar(select(Ticket).where(Ticket.voter_id == coded.id))
    ok(link(desk, coded, "vote_code", ticket=str(ticket.id)))
    expected.append(("link.vote_code", agent, coded))
    url = f"/guichet/tickets/{ticket.id}"
    ok(desk.get(url))
    ok(desk.post(f"{url}/note", data={"text": "Rappeler demain."}))
    expected.append(("ticket.note", agent, coded))
    ok(desk.post(f"{url}/statut", data={"status": "en_attente"}))
    expected.append(("ticket.status", agent, coded))
    reply = {"to": coded.emails[0].address, "body": "Votre notice part.", "etape": "envoyer"}
    ok(desk.post(f"{url}/repondre", data=reply))
    expected.append(("ticket.reply", agent, coded))
    ok(desk.post("/guichet/recherche", data={"courriel": ticket.reference}))
    expected.append(("ticket.lookup", agent, coded))
    twin = tickets.create_ticket(
        Actor.system(), csu=csu("AC-09"), category="lien_non_recu", channel="telephone",
        voter=coded,
    )  # fmt: skip
    db.session.commit()
    merged = {"fusion-into": str(ticket.id), "fusion-reason": "Doublon.", "fusion-confirm": "y"}
    ok(desk.post(f"/guichet/tickets/{twin.id}/fusion", data=merged))
    expected.append(("ticket.merge", agent, coded))
    queued = tickets.create_ticket(
        Actor.system(), csu=csu("AC-09"), category="lien_non_recu", channel="courriel",
        voter=fresh,
    )  # fmt: skip
    db.session.commit()
    ok(desk.post(f"/guichet/tickets/{queued.id}/prendre"))
    expected.append(("ticket.assign", agent, fresh))
    ok(desk.post(f"{url}/transfert", data={"csu": csu("AC-25").id, "reason": "Mutée."}))
    expected.append(("ticket.transfer", agent, coded))
    ok(
        desk.post(
            f"/guichet/tickets/nouveau?electeur={active.id}",
            data={"category": "identifiant_inconnu", "channel": "telephone", "note": "Appel."},
        )
    )
    expected += [("ticket.create", agent, active), ("ticket.note", agent, active)]
    assert desk.post("/deconnexion").status_code == 302
    expected.append(("auth.logout", agent, None))

    sup = sign_in(app, supervisor.email, IPS["supervisor"])
    expected.append(("auth.login", supervisor, None))
    export = sup.get("/supervision/tickets/export.csv", buffered=True)
    ok(export, 200)
    assert export.data
    expected.append(("export.tickets", supervisor, None))
    ok(sup.get(f"/supervision/tickets/{ticket.id}"), 200)
    expected.append(("supervision.ticket_view", supervisor, coded))
    ok(sup.get(f"/supervision/journal?electeur={coded.id}"), 200)
    expected.append(("supervision.voter_audit_view", supervisor, coded))
    ok(sup.post("/supervision/journal/integrite", data={}), 200)
    expected.append(("audit.verify", supervisor, None))
    reply = {"owner": "national", "title": "Accusé", "category": "", "body": "Bonjour {prenom},"}
    ok(sup.post("/supervision/reponses-types/nouvelle", data=reply))
    template_url = "/supervision/reponses-types/" + str(
        db.session.scalar(select(ResponseTemplate.id).where(ResponseTemplate.title == "Accusé"))
    )
    ok(sup.post(template_url, data={**reply, "body": "Bonjour {prenom} {nom},"}))
    ok(sup.post(f"{template_url}/etat", data={"actif": "0"}))
    ok(sup.post(f"{template_url}/etat", data={"actif": "1"}))
    expected += [
        (f"response_template.{done}", supervisor, None)
        for done in ("create", "update", "deactivate", "activate")
    ]

    adm = sign_in(app, admin.email, IPS["admin"])
    expected.append(("auth.login", admin, None))
    ok(
        adm.post(
            "/admin/agents/nouveau",
            data={
                "email": "nouveau@csudesk.test",
                "name": "Nouveau",
                "role": "agent",
                "csu": csu("AC-09").id,
            },
        )  # fmt: skip
    )
    expected += [("agent.create", admin, None), ("agent.password_reset", admin, None)]
    ok(adm.post(f"/admin/agents/{colleague.id}/activation", data={"actif": "0"}))
    expected.append(("agent.disable", admin, None))
    ok(adm.post(f"/admin/agents/{colleague.id}/activation", data={"actif": "1"}))
    expected.append(("agent.enable", admin, None))
    ok(
        adm.post(
            f"/admin/agents/{colleague.id}/role",
            data={"role": "supervisor", "csu": csu("AC-09").id},
        )
    )
    expected.append(("agent.change", admin, None))
    ok(adm.post(f"/admin/agents/{colleague.id}/mot-de-passe"))
    expected.append(("agent.password_reset", admin, None))
    # The colleague chooses the new password through the mailed link.
    send_due()
    body = next(
        m.get_body(("plain",)).get_content()
        for m in smtp.wait_for(4)
        if str(m["To"]) == colleague.email
    )
    path = re.search(r"/agent/mot-de-passe/[\w-]+", body).group(0)
    browser = client_from(app, IPS["agent"])
    landed = browser.get(path)
    new_password = "une nouvelle phrase de passe assez longue"
    chosen = browser.post(landed.location, data={"password": new_password,
                                                 "confirmation": new_password})  # fmt: skip
    assert chosen.status_code == 302
    expected.append(("agent.password_set", colleague, None))
    finished = utcnow()

    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.id > first_id).order_by(AuditEntry.id)
    ).all()
    staff = [e for e in entries if e.actor == "agent"]
    # Every entry a desk account wrote: who, when (aware UTC, now) and from where.
    for entry in staff:
        assert entry.agent_id is not None, entry.action
        assert entry.at.tzinfo is not None and entry.at.utcoffset() == timedelta(0)
        assert entry.at.tzinfo == UTC or entry.at.utcoffset() == timedelta(0)
        assert started - timedelta(seconds=1) <= entry.at <= finished + timedelta(seconds=1)
        who = {agent.id: "agent", supervisor.id: "supervisor", admin.id: "admin"}
        assert entry.ip == IPS[who.get(entry.agent_id, "agent")], (entry.action, entry.ip)
    # Each action of the walk: its entry names the agent and the voter.
    got = [(e.action, e.agent_id, e.voter_id) for e in staff]
    missing = [
        (action, who.email, voter and voter.id)
        for action, who, voter in expected
        if (action, who.id, voter.id if voter else None) not in got
    ]
    assert missing == []
    # The failed sign-in: no agent, but when and from where.
    (failure,) = [e for e in entries if e.action == "auth.login_failed"]
    assert failure.actor == "public" and failure.ip == IPS["agent"]
    # Every code the package records is produced here, or reviewed as not an agent's.
    codes = recorded_codes()
    assert len(codes) >= 25
    produced = {e.action for e in entries}
    uncovered = sorted(
        code
        for code in codes
        if not any(re.fullmatch(code, action) for action in produced)
        and code.replace("\\", "") not in NOT_BY_AGENTS
        and code not in NOT_BY_AGENTS
    )
    assert uncovered == []
