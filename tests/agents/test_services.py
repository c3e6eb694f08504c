"""Desk accounts' use cases without HTTP: signing in and out."""

from sqlalchemy import select

from csudesk.agents.services import record_sign_in, record_sign_out
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db


def test_a_sign_in_stamps_the_account_and_is_audited(make_agent):
    agent = make_agent()
    assert agent.last_login_at is None
    record_sign_in(agent, "192.0.2.7")
    db.session.commit()
    assert agent.last_login_at is not None
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.action, entry.agent_id, entry.ip) == ("auth.login", agent.id, "192.0.2.7")


def test_a_sign_out_ends_every_session_and_is_audited(make_agent):
    agent = make_agent()
    version = agent.session_version
    record_sign_out(agent, "192.0.2.7")
    db.session.commit()
    assert agent.session_version == version + 1
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.action, entry.agent_id) == ("auth.logout", agent.id)
