"""No secret reaches an agent's screen, a log or the database in clear (SECURITY.md 1, 4, 6, 8)."""

import logging
import re

import pytest
from sqlalchemy import text

from csudesk.extensions import db
from csudesk.gunicorn_conf import RedactTokens
from csudesk.mail.sender import send_due
from tests.desk.test_actions import challenge, post_link
from tests.fixtures.factories import VOTING

PASSWORD = "ma phrase de passe secrète"
ANSWER = "Mistigri le chat"


def test_secrets_appear_nowhere_but_in_the_mail_and_the_voter_page(
    client, app, lille, make_voter, smtp, caplog
):
    caplog.set_level(logging.DEBUG)
    app.config["ELECTION"] = VOTING
    app.config["LINK_DEDUP_SECONDS"] = 0
    voter = make_voter("DUPONT", "Marie", emails=("marie.dupont@ac-lille.fr",))
    agent_pages = []

    def agent_get(url):
        response = client.get(url)
        agent_pages.append(response.text)
        return response

    # 1. activation link through the desk, then the voter activates in another browser
    post_link(client, voter, "activation")
    send_due()
    token1 = re.search(
        r"/activation/([\w-]+)", smtp.wait_for(1)[0].get_body(("plain",)).get_content()
    ).group(1)
    voter_browser = app.test_client()
    voter_browser.get(f"/activation/{token1}")
    voter_browser.post(
        "/activation",
        data={
            "password": PASSWORD,
            "confirmation": PASSWORD,
            "question": "animal",
            "answer": ANSWER,
        },
    )
    # 2. the agent checks the challenge answer and sends a vote-code link
    challenge(client, voter, ANSWER)
    agent_get(f"/guichet/electeurs/{voter.id}")
    post_link(client, voter, "vote_code", ticket=str(_ticket_id()))
    send_due()
    token2 = re.search(
        r"/code-de-vote/([\w-]+)", smtp.wait_for(2)[1].get_body(("plain",)).get_content()
    ).group(1)
    voter_browser.get(f"/code-de-vote/{token2}")
    shown = voter_browser.post("/code-de-vote")
    code = re.search(r'<p class="csu-code"[^>]*>([A-Z0-9-]+)</p>', shown.text).group(1)

    for url in (
        f"/guichet/electeurs/{voter.id}",
        f"/guichet/tickets/{_ticket_id()}",
        "/guichet/tickets",
        "/guichet/",
    ):
        agent_get(url)
    # The address search (a POST, issue 10 item 8), followed to the voter file it opens.
    found = client.post("/guichet/recherche", data={"courriel": "Marie.Dupont@ac-lille.fr"})
    assert found.status_code == 303
    assert found.headers["Location"] == f"/guichet/electeurs/{voter.id}"
    agent_pages.append(found.text)
    voter_file = agent_get(found.headers["Location"])
    assert voter_file.status_code == 200 and "DUPONT" in voter_file.text
    assert "marie.dupont@ac-lille.fr" in voter_file.text  # the page swept is the voter's file

    secrets = {
        "token 1": token1,
        "token 2": token2,
        "password": PASSWORD,
        "challenge answer": ANSWER,
        "vote code": code,
    }
    # csudesk's own log lines (aiosmtpd's "mail.log" is the receiving server, which sees the mail)
    logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert any(r.name.startswith("mail.log") for r in caplog.records)  # logging was captured
    stored = "\n".join(
        str(value)
        for table in (
            "audit_entry",
            "outbox_mail",
            "ticket_event",
            "one_time_link",
            "voter_account",
            "vote_code",
            "ticket",
        )
        for row in db.session.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
        for value in row
    )
    for name, secret in secrets.items():
        for place, haystack in (
            ("agent pages", "\n".join(agent_pages)),
            ("logs", logs),
            ("database", stored),
        ):
            assert secret not in haystack, f"{name} found in {place}"
            assert secret.lower() not in haystack.lower(), f"{name} found in {place}"
    assert "Mistigri" not in stored and "mistigri" not in stored


def _ticket_id() -> int:
    return db.session.execute(text("SELECT max(id) FROM ticket")).scalar()


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
