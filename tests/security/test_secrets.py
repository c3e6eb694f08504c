"""No secret reaches an agent's screen, a log or the database in clear (SECURITY.md 1, 4, 6, 8).

The secrets are made by the real flows (desk actions, link landings, self-service requests
processed by the worker, the contact form, an agent's own password link) and captured where
they legitimately appear: the mail to the voter, the page that shows the new vote code, what
the person typed. Then every page of every audience is fetched (the URL map's GET routes with
every id, then every same-site link they show, pagination included), every log record and
every mail to an agent address is read, and no secret may appear, nor its SHA-256.
"""

import hashlib
import html
import logging
import re
import time
from urllib.parse import quote

import pytest
from sqlalchemy import select, text

from csudesk.access import worker
from csudesk.agents.models import Agent
from csudesk.conversation.models import ResponseTemplate
from csudesk.conversation.response_templates import seed_national
from csudesk.extensions import db
from csudesk.gunicorn_conf import RedactTokens
from csudesk.mail.worker import send_due
from csudesk.public import antiabuse
from csudesk.roll.models import Voter
from csudesk.tickets.models import Ticket
from tests.fixtures.desk import challenge, post_link
from tests.fixtures.factories import csu, running_calendar
from tests.fixtures.pages import GET_RULES, audience, build_url
from tests.fixtures.smtp import text_of
from tests.fixtures.world import new_client, sign_in

PASSWORD = "ma phrase de passe secrète"
NEW_PASSWORD = "une autre phrase bien longue"
SELF_SERVICE_PASSWORD = "troisième phrase choisie seule"
ANSWER = "Mistigri le chat"
WRONG_DESK_ANSWER = "Rex le chien du voisin"
WRONG_PUBLIC_ANSWER = "Félix le chat noir"
AGENT_NEW_PASSWORD = "agent phrase de passe toute neuve"
# What each audience may open; anything else the crawler finds is another audience's.
AREAS = {
    "agent": ("/guichet",),
    "supervisor": ("/guichet", "/supervision"),
    "admin": ("/guichet", "/supervision", "/admin"),
}
MAX_PAGES = 400
_HREF = re.compile(r'href="(/[^"#]*)')


def token_in(message, path: str) -> str:
    return re.search(rf"/{path}/([\w-]+)", text_of(message)).group(1)


def deliver(smtp, path: str) -> tuple[str, object]:
    """Send what the outbox holds; the token of the one new mail's link, and the mail."""
    before = len(smtp.messages)
    assert send_due().sent == 1
    message = smtp.wait_for(before + 1)[before]
    return token_in(message, path), message


def land_and_post(app, path: str, token: str, data: dict):
    """The voter's browser: follow the link, then send the token-free page's form."""
    browser = new_client(app)
    assert browser.get(f"/{path}/{token}").status_code == 302
    return browser.post(f"/{path}", data=data)


def shown_vote_code(response) -> str:
    assert response.status_code == 200, response.text
    return re.search(r'<p class="csu-code"[^>]*>([A-Z0-9-]+)</p>', response.text).group(1)


def variants(secret: str) -> set[str]:
    """The ways a secret could be written down: as typed, case-folded, without the code's
    dashes, HTML- or URL-escaped, and the SHA-256 hex of each."""
    forms = {secret, secret.replace("-", ""), html.escape(secret), quote(secret)}
    forms |= {f.lower() for f in forms} | {f.upper() for f in forms}
    return forms | {hashlib.sha256(f.encode()).hexdigest() for f in forms}


def crawl(client, who: str, ids: dict[str, list[int]]) -> dict[str, str]:
    """Every page `who` can reach: the map's GET routes of its areas with every id, then
    every link of its areas they show."""
    queue = []
    for rule in GET_RULES:
        if audience(rule) == "anonymous" or not rule.rule.startswith(AREAS[who]):
            continue
        names = list(rule.arguments)
        assert all(n in ids for n in names), f"{rule.endpoint}: no ids for {names}"
        combos = [{}]
        for name in names:
            combos = [{**c, name: value} for c in combos for value in ids[name]]
        queue += [build_url(rule, combo) for combo in combos]
    pages: dict[str, str] = {}
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if url in pages:
            continue
        response = client.get(url, buffered=True)
        assert response.status_code < 500, url
        pages[url] = response.get_data(as_text=True)
        for link in _HREF.findall(pages[url]):
            link = html.unescape(link)
            if link.startswith(AREAS[who]) and link not in pages:
                queue.append(link)
    assert len(pages) < MAX_PAGES, "the crawl did not finish"
    return pages


@pytest.fixture
def running(app):
    app.config["ELECTION"] = running_calendar()
    app.config["LINK_DEDUP_SECONDS"] = 0
    app.config["LINKS_PER_VOTER_PER_HOUR"] = 100


def test_no_secret_on_any_page_log_or_agent_mail(
    app, running, make_agent, make_voter, smtp, caplog
):
    caplog.set_level(logging.DEBUG)
    secrets: dict[str, str] = {}
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL", "Ada Admin")
    supervisor = make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina National")
    marie = make_voter("Dupont", "Marie", emails=("marie.dupont@ac-lille.fr",))
    paul = make_voter("Durand", "Paul", emails=("paul.durand@ac-lille.fr",))

    # 0. An admin creates an agent, who chooses a password through the mailed link.
    admin_client = sign_in(app, admin.email)
    created = admin_client.post(
        "/admin/agents/nouveau",
        data={"email": "agent.lille@ac-lille.fr", "name": "Luc Lille", "role": "agent",
              "csu": csu("AC-09").id},
    )  # fmt: skip
    assert created.status_code == 302
    agent_token, _ = deliver(smtp, "agent/mot-de-passe")
    chosen = land_and_post(
        app,
        "agent/mot-de-passe",
        agent_token,
        {"password": AGENT_NEW_PASSWORD, "confirmation": AGENT_NEW_PASSWORD},
    )
    assert chosen.status_code == 302
    secrets |= {"agent link token": agent_token, "agent password": AGENT_NEW_PASSWORD}
    desk = new_client(app)
    signed = desk.post(
        "/connexion", data={"email": "agent.lille@ac-lille.fr", "password": AGENT_NEW_PASSWORD}
    )
    assert signed.status_code == 302

    # 1. Activation link sent from the desk; Marie activates with a password and an answer.
    assert post_link(desk, marie, "activation").status_code == 302
    token, _ = deliver(smtp, "activation")
    activated = land_and_post(
        app,
        "activation",
        token,
        {"password": PASSWORD, "confirmation": PASSWORD, "question": "animal", "answer": ANSWER},
    )
    assert activated.status_code == 200 and "activé" in activated.text
    secrets |= {"activation token": token, "password": PASSWORD, "answer": ANSWER}

    # 2. Password reset link from the desk; Marie chooses another password.
    assert post_link(desk, marie, "password_reset").status_code == 302
    token, _ = deliver(smtp, "mot-de-passe")
    reset = land_and_post(
        app, "mot-de-passe", token, {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    )
    assert reset.status_code == 200
    secrets |= {"reset token": token, "new password": NEW_PASSWORD}

    # 3. Vote-code reissue at the desk: the right answer, the link, the code; then a wrong
    # answer (after, so that a delay or lock it may bring cannot stop the flow).
    assert challenge(desk, marie, ANSWER).status_code == 302
    ticket_id = db.session.scalar(select(Ticket.id).order_by(Ticket.id.desc()))
    assert post_link(desk, marie, "vote_code", ticket=str(ticket_id)).status_code == 302
    token, _ = deliver(smtp, "code-de-vote")
    code = shown_vote_code(land_and_post(app, "code-de-vote", token, {}))
    assert challenge(desk, marie, WRONG_DESK_ANSWER).status_code < 500
    secrets |= {"desk vote-code token": token, "vote code": code, "wrong desk answer":
                WRONG_DESK_ANSWER}  # fmt: skip

    # 4. Self-service requests, processed by the worker.
    public = new_client(app)
    assert public.post("/lien-non-recu", data={"email": paul.emails[0].address}).status_code == 303
    assert worker.process_pending().processed == 1
    token, _ = deliver(smtp, "activation")
    land_and_post(
        app,
        "activation",
        token,
        {"password": SELF_SERVICE_PASSWORD, "confirmation": SELF_SERVICE_PASSWORD,
         "question": "ecole", "answer": "Jules Ferry"},
    )  # fmt: skip
    secrets |= {"self-service activation token": token, "paul's password": SELF_SERVICE_PASSWORD,
                "paul's answer": "Jules Ferry"}  # fmt: skip
    address = marie.emails[0].address
    assert public.post("/mot-de-passe-refuse", data={"email": address}).status_code == 303
    assert worker.process_pending().processed == 1
    token, _ = deliver(smtp, "mot-de-passe")
    secrets["self-service reset token"] = token  # mailed, never used
    for answer in (ANSWER, WRONG_PUBLIC_ANSWER):  # the wrong one last, as above
        sent = public.post("/reassort-code-de-vote", data={"email": address, "answer": answer})
        assert sent.status_code == 303
    assert worker.process_pending().processed == 2
    token, _ = deliver(smtp, "code-de-vote")
    second_code = shown_vote_code(land_and_post(app, "code-de-vote", token, {}))
    secrets |= {"self-service vote-code token": token, "second vote code": second_code,
                "wrong public answer": WRONG_PUBLIC_ANSWER}  # fmt: skip

    # 5. The contact form, with a password, the codes and the answer typed in the message.
    message = (
        f"Bonjour, mon mot de passe : {NEW_PASSWORD}. J'ai essayé le code {second_code} et"
        f" l'ancien {code.replace('-', ' ')} sans succès. Ma réponse : {ANSWER}. Merci"
    )
    contact = public.post(
        "/nous-ecrire",
        data={"email": address, "last_name": "Dupont", "first_name": "Marie", "uai": "0590001F",
              "category": "autre", "message": message, "consent": "y",
              "started": antiabuse.opened_token(time.time() - 60), "action": "send"},
    )  # fmt: skip
    assert contact.status_code == 303, contact.text
    assert "Bonjour, mon mot de passe" in db.session.scalar(
        select(Ticket.message).where(Ticket.channel == "formulaire")
    )

    # Every page of every audience (the réponses types' too).
    seed_national()
    db.session.commit()
    ids = {
        "template_id": list(db.session.scalars(select(ResponseTemplate.id))),
        "voter_id": list(db.session.scalars(select(Voter.id))),
        "ticket_id": list(db.session.scalars(select(Ticket.id))),
        "agent_id": list(db.session.scalars(select(Agent.id))),
    }
    pages = {
        **{f"agent {u}": p for u, p in crawl(desk, "agent", ids).items()},
        **{f"supervisor {u}": p for u, p in crawl(sign_in(app, supervisor.email),
                                                    "supervisor", ids).items()},
        **{f"admin {u}": p for u, p in crawl(admin_client, "admin", ids).items()},
    }  # fmt: skip
    found = desk.post("/guichet/recherche", data={"courriel": address})
    assert found.status_code == 303 and "/guichet/electeurs/" in found.location
    pages["agent search, then the voter file"] = desk.get(found.location).get_data(as_text=True)
    for must_see in ("/supervision/tickets/export.csv", "/supervision/journal", "/admin/agents"):
        assert any(must_see in url for url in pages), must_see
    assert any(marie.last_name in page for page in pages.values())  # the pages are real

    agent_addresses = set(db.session.scalars(select(Agent.email)))
    agent_mails = {
        f"mail {i} to {m['To']}": m.as_string() + text_of(m)
        for i, m in enumerate(smtp.messages)
        if m["To"] in agent_addresses
    }
    assert agent_mails  # the agent's password mail
    logs = {
        f"log {i} {r.name}": logging.Formatter().format(r)
        for i, r in enumerate(caplog.records)
        if not r.name.startswith("mail.log")  # aiosmtpd: the receiving server sees the mail
    }
    assert logs

    places = {**pages, **logs, **agent_mails}
    found = []
    for name, secret in secrets.items():
        for form in variants(secret):
            for place, haystack in places.items():
                if (
                    name == "agent link token"
                    and place.startswith("mail")
                    and ("agent.lille@ac-lille.fr" in place)
                ):
                    continue  # the agent's own link, in the mail to the agent
                if form.lower() in haystack.lower():
                    found.append(f"{name} ({form!r}) in {place}")
    assert found == []

    # In the database, the secrets exist only as slow or SHA-256 hashes.
    stored = "\n".join(
        str(value)
        for table in db.metadata.sorted_tables
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')).all()  # noqa: S608
        for value in row
    ).lower()
    for name, secret in secrets.items():
        assert secret.lower() not in stored, f"{name} stored in clear"
        assert secret.replace("-", "").lower() not in stored, f"{name} stored in clear"


def test_a_password_typed_in_the_email_field_is_kept_nowhere(app, make_agent, caplog):
    caplog.set_level(logging.DEBUG)
    supervisor = make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina National")
    typed = "CorrectHorseBatteryStaple42"
    refused = new_client(app).post("/connexion", data={"email": typed, "password": "x" * 12})
    assert refused.status_code in (200, 400)
    journal = sign_in(app, supervisor.email).get("/supervision/journal").text
    stored = "\n".join(
        str(value)
        for table in db.metadata.sorted_tables
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')).all()  # noqa: S608
        for value in row
    )
    logs = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    for place, haystack in (("journal", journal), ("database", stored), ("logs", logs)):
        assert typed.lower() not in haystack.lower(), place


@pytest.mark.parametrize(
    "line",
    [
        "GET /activation/AbC-123_xyz HTTP/1.1",
        "GET /mot-de-passe/AbC-123_xyz HTTP/1.1",
        "GET /code-de-vote/AbC-123_xyz HTTP/1.1",
        "GET /agent/mot-de-passe/AbC-123_xyz?x=1 HTTP/1.1",
    ],
)
def test_access_log_drops_link_tokens(line):
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s", None, None)
    record.args = {"r": line, "U": line.split()[1]}
    RedactTokens().filter(record)
    assert "AbC-123_xyz" not in record.getMessage()
    assert "AbC-123_xyz" not in record.args["U"]
    assert "[jeton masqué]" in record.getMessage()


def test_gunicorn_workers_filter_their_access_log():
    from csudesk import gunicorn_conf

    access, heads = logging.getLogger("gunicorn.access"), logging.getLogger("csudesk.audit")
    before, level = list(access.filters), heads.level
    try:
        gunicorn_conf.post_fork(None, None)
        assert any(isinstance(f, RedactTokens) for f in access.filters)
        assert heads.getEffectiveLevel() == logging.INFO
    finally:
        access.filters[:] = before
        heads.setLevel(level)
