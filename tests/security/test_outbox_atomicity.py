"""The action and its mail row commit together, or neither does (SECURITY.md 20).

The failure is real and comes from the database: a trigger refuses the action's audit entry,
which every action appends last, after its ticket, link and mail rows were written in the
same transaction. Through HTTP, the agent gets the French error page (no stack trace) and
none of those rows is committed; the worker's self-service request ends as an error with no
link or mail either. Once the trigger is gone the same request goes through, so the trigger
is what failed it.
"""

import pytest
from sqlalchemy import func, select, text

from csudesk.access import worker
from csudesk.access.models import SelfServiceRequest
from csudesk.agents.models import Agent
from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.mail.models import OutboxMail
from csudesk.tickets.models import Ticket, TicketEvent
from tests.conftest import ON_POSTGRES
from tests.fixtures.pages import header_problems
from tests.fixtures.world import new_client, sign_in

SQLITE_TRIGGER = """
CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_entry
WHEN NEW.action IN ('link.activation', 'agent.password_reset')
BEGIN SELECT RAISE(ABORT, 'forced failure of the audit append'); END
"""
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.action IN ('link.activation', 'agent.password_reset') THEN
        RAISE EXCEPTION 'forced failure of the audit append';
    END IF;
    RETURN NEW;
END;
$$
"""
PG_TRIGGER = (
    "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_entry"
    " FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"
)


@pytest.fixture
def app_config(app_config):
    # What production does with an unexpected error: the error page, not a re-raise.
    app_config["PROPAGATE_EXCEPTIONS"] = False
    return app_config


@pytest.fixture
def failing_audit(app):
    """Make the database refuse some audit entries; returns a function that lifts it."""
    statements = [PG_FUNCTION, PG_TRIGGER] if ON_POSTGRES else [SQLITE_TRIGGER]
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()
    state = {"on": True}

    def lift():
        if state["on"]:
            db.session.rollback()
            db.session.execute(
                text("DROP TRIGGER test_refuse_audit" + (" ON audit_entry" if ON_POSTGRES else ""))
            )
            if ON_POSTGRES:
                db.session.execute(text("DROP FUNCTION test_refuse_audit()"))
            db.session.commit()
            state["on"] = False

    yield lift
    lift()


def counts() -> dict[str, int]:
    db.session.commit()
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Ticket, TicketEvent, OneTimeLink, OutboxMail)
    }


def french_error_page(response) -> None:
    assert response.status_code == 500
    assert '<html lang="fr"' in response.text
    assert (
        "rien n&#39;a été enregistré" in response.text or "rien n'a été enregistré" in response.text
    )
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    assert "forced failure" not in response.text and "psycopg" not in response.text
    # The 500 page carries the same headers as every other signed-in page (SECURITY.md 16);
    # these tests run with the test config's non-Secure cookie.
    problems = header_problems(
        response, "500 page", signed_in=True, landing=False, secure_cookie=False
    )
    assert problems == []


def test_a_desk_action_whose_audit_fails_commits_no_ticket_link_or_mail(
    app, make_agent, make_voter, failing_audit
):
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09")
    voter = make_voter("Durand", "Paul", emails=("paul.durand@ac-lille.fr",))
    desk = sign_in(app, agent.email)
    before = counts()
    data = {
        "activation-address": "paul.durand@ac-lille.fr",
        "activation-ticket": "nouveau",
        "activation-category": "lien_non_recu",
        "activation-channel": "telephone",
    }
    failed = desk.post(f"/guichet/electeurs/{voter.id}/liens/activation", data=data)
    french_error_page(failed)
    assert counts() == before
    # The desk still works for this agent, and the same request passes once the trigger goes.
    assert desk.get(f"/guichet/electeurs/{voter.id}").status_code == 200
    failing_audit()
    done = desk.post(f"/guichet/electeurs/{voter.id}/liens/activation", data=data)
    assert done.status_code == 302
    after = counts()
    assert after["ticket"] == before["ticket"] + 1
    assert after["one_time_link"] == before["one_time_link"] + 1
    assert after["outbox_mail"] == before["outbox_mail"] + 1


def test_an_admin_password_link_whose_audit_fails_changes_nothing(app, make_agent, failing_audit):
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL")
    target = make_agent("cible@csudesk.test", "agent", "AC-09")
    old = (target.password_hash, target.session_version)
    client = sign_in(app, admin.email)
    before = counts()
    failed = client.post(f"/admin/agents/{target.id}/mot-de-passe")
    french_error_page(failed)
    assert counts() == before
    db.session.expire_all()
    target = db.session.get(Agent, target.id)
    assert (target.password_hash, target.session_version) == old  # password and sessions kept


def test_a_self_service_request_whose_audit_fails_sends_nothing(app, make_voter, failing_audit):
    voter = make_voter("Blanc", "Anne", emails=("anne.blanc@ac-lille.fr",))
    public = new_client(app)
    assert public.post("/lien-non-recu", data={"email": voter.emails[0].address}).status_code == 303
    before = counts()
    worker.process_pending()
    assert counts() == before
    (row,) = db.session.scalars(select(SelfServiceRequest)).all()
    assert row.outcome == "error" and row.processed_at is not None
