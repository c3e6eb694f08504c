"""flask --app csudesk agents ...: the first administrator and scripted changes."""

from sqlalchemy import select

from csudesk.agents.models import Agent
from csudesk.agents.services import authenticate, find_agent_by_email
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail

PASSWORD = "première phrase de passe"


def test_create_the_first_admin_with_a_typed_password(runner, directory):
    result = runner.invoke(
        args=[
            "agents",
            "create",
            "Admin@Example.gouv.fr",
            "--name",
            "Première Admin",
            "--role",
            "admin",
            "--csu",
            "national",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Compte créé : admin@example.gouv.fr (administrateur, NATIONAL)" in result.output
    assert PASSWORD not in result.output
    agent = authenticate("admin@example.gouv.fr", PASSWORD)
    assert agent is not None and agent.role == "admin"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "agent.create"))
    assert (entry.actor, entry.target_agent_id) == ("system", agent.id)


def test_scripted_changes(runner, make_agent):
    make_agent("luc@csudesk.test", "agent", "AC-09")
    created = runner.invoke(
        args=[
            "agents",
            "create",
            "eve@csudesk.test",
            "--name",
            "Ève",
            "--csu",
            "AC-25",
            "--send-link",
        ]
    )
    assert created.exit_code == 0, created.output
    assert db.session.scalar(select(OutboxMail.to_address)) == "eve@csudesk.test"
    listing = runner.invoke(args=["agents", "list", "--csu", "AC-09"]).output
    assert "luc@csudesk.test" in listing and "eve@csudesk.test" not in listing

    assert runner.invoke(args=["agents", "disable", "luc@csudesk.test"]).exit_code == 0
    assert not find_agent_by_email("luc@csudesk.test").active
    assert "désactivé" in runner.invoke(args=["agents", "list"]).output
    assert runner.invoke(args=["agents", "enable", "luc@csudesk.test"]).exit_code == 0
    moved = runner.invoke(
        args=["agents", "set-role", "luc@csudesk.test", "--role", "supervisor", "--csu", "AC-25"]
    )
    assert moved.exit_code == 0 and "superviseur, AC-25" in moved.output
    before = find_agent_by_email("luc@csudesk.test").session_version
    assert runner.invoke(args=["agents", "reset-password", "luc@csudesk.test"]).exit_code == 0
    luc = find_agent_by_email("luc@csudesk.test")
    assert luc.password_hash is None and luc.session_version == before + 1
    assert (
        db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1))
        == "agent.password_reset"
    )


def test_errors_exit_non_zero_with_a_french_message(runner, make_agent):
    make_agent("luc@csudesk.test", "agent", "AC-09")
    unknown = runner.invoke(args=["agents", "disable", "personne@csudesk.test"])
    assert unknown.exit_code == 1 and "Aucun compte pour personne@csudesk.test" in unknown.output
    bad_csu = runner.invoke(
        args=["agents", "set-role", "luc@csudesk.test", "--role", "agent", "--csu", "AC-99"]
    )
    assert bad_csu.exit_code == 1 and "Cellule inconnue" in bad_csu.output
    twice = runner.invoke(
        args=[
            "agents",
            "create",
            "luc@csudesk.test",
            "--name",
            "Luc",
            "--csu",
            "AC-09",
            "--send-link",
        ]
    )
    assert twice.exit_code == 1 and "Un compte existe déjà" in twice.output
    assert db.session.scalar(select(Agent.name).where(Agent.email == "luc@csudesk.test")) == "luc"
