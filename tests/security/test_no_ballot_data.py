"""csudesk holds no ballot data and nothing that links a person to a vote (SECURITY.md 7).

The schema is read twice, from the models' metadata and from a database built by the
migrations, and compared with the list below, reviewed column by column: a new table or
column fails here until someone has looked at it and added it. Every name is also checked
against a deny-list of words that would mean a ballot, a choice, a list voted for, a
candidate or the time a vote was cast. The audit entries' detail keys and the mail contexts
written by a populated csudesk go through the same deny-list.
"""

import json
import re

from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, select, text

from csudesk import create_app
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from tests.conftest import ON_POSTGRES, POSTGRES_URL
from tests.fixtures.world import build_world

# Reviewed on 2026-12-01: what each table holds, and why none of it is a vote.
REVIEWED = {
    # CSU directory: support cells and their contact details.
    "csu": {
        "id", "code", "kind", "name", "academie_code", "city", "email", "phone", "hours",
        "web_url", "source",
    },
    "agent": {
        "id", "email", "name", "password_hash", "role", "csu_id", "active", "session_version",
        "created_at", "last_login_at", "password_changed_at",
    },
    "establishment": {
        "id", "uai", "name", "city", "kind", "search_key", "csu_id", "own_csu", "updated_at",
    },
    # The electoral roll: who may vote and where they are posted, not what or whether they voted.
    "voter": {
        "id", "roll_id", "last_name", "first_name", "last_name_key", "first_name_key",
        "name_phonetic", "establishment_id", "csu_id", "notice_delivery", "import_run",
        "row_digest", "created_at", "updated_at",
    },
    "voter_email": {"id", "voter_id", "address", "position"},
    # Credentials to reach the voting portal (hashes), never what is done with them.
    "voter_account": {
        "voter_id", "activated_at", "password_hash", "password_set_at", "challenge_question",
        "challenge_answer_hash", "challenge_set_at", "challenge_failures",
        "challenge_locked_until", "desk_challenge_failures", "desk_challenge_locked_until",
    },
    # The vote code is the credential printed on the notice: its hash and when it was issued.
    "vote_code": {"voter_id", "code_hash", "issued_at", "reissue_count", "last_reissued_at"},
    "vote_code_reissue": {"id", "voter_id", "link_id", "at"},
    "challenge_proof": {
        "id", "voter_id", "agent_id", "created_at", "expires_at", "used_at", "link_id",
    },
    "one_time_link": {
        "id", "purpose", "token_hash", "voter_id", "agent_id", "address", "ticket_id",
        "requested_by_agent_id", "channel", "created_at", "sent_at", "expires_at", "used_at",
        "revoked_at",
    },
    "outbox_mail": {
        "id", "to_address", "template", "context_json", "status", "attempts", "next_attempt_at",
        "last_attempt_at", "sent_at", "smtp_response", "voter_id", "agent_id", "link_id",
        "ticket_id", "created_at", "message_id", "sender_csu_id", "in_reply_to", "references",
        "bounced_at", "bounce_reason",
    },
    "selfservice_request": {
        "id", "kind", "address", "ip", "answer_ok", "created_at", "processed_at", "outcome",
        "voter_id",
    },
    "ticket": {
        "id", "reference", "csu_id", "voter_id", "assigned_agent_id", "created_by_agent_id",
        "category", "channel", "status", "contact_email", "contact_last_name",
        "contact_first_name", "contact_uai", "message", "created_at", "updated_at",
        "resolved_at", "merged_into_id",
    },
    "ticket_event": {
        "id", "ticket_id", "at", "agent_id", "kind", "text", "link_id", "from_csu_id",
        "to_csu_id", "mail_id", "inbound_message_id",
    },
    # Réponses types: texts agents insert into replies; no voter data.
    "response_template": {
        "id", "csu_id", "title", "category", "body", "active", "created_at", "updated_at",
        "updated_by_agent_id",
    },
    # Mail read from the CSU mailboxes: headers and what became of it; the text is on the ticket.
    "inbound_message": {
        "id", "mailbox", "uidvalidity", "uid", "message_id", "from_address", "subject",
        "sent_at", "fetched_at", "size", "status", "reason", "ticket_id", "outbox_mail_id",
    },
    "audit_entry": {
        "id", "at", "actor", "agent_id", "action", "voter_id", "ticket_id", "target_agent_id",
        "ip", "details", "nonce", "mac", "seal_seq", "prev_hash", "hash",
    },
    # Who opened which ticket page or voter file lately (the desk's presence line).
    "recent_view": {"id", "agent_id", "ticket_id", "voter_id", "seen_at"},
}  # fmt: skip
# Words (name parts, English and French) that would hold a ballot, a choice, a list or
# candidate voted for, a participation mark or the time of a vote.
DENIED = re.compile(
    r"(^|_)(ballots?|bulletins?|choices?|choix|chosen|candidates?|candidats?|lists?|listes?"
    r"|slates?|unions?|syndicats?|organisations?|partys?|parties|preferences?|votes?|voted"
    r"|voting|has_voted|a_vote|emargements?|emarge|participations?|scrutins?|results?"
    r"|resultats?|tally|casts?|cast_at|urne|suffrages?)(_|$)"
)
# "vote_code" is the credential printed on the notice, reviewed above; no other use of "vote".
ALLOWED = re.compile(r"vote_code")


def denied(name: str) -> bool:
    return bool(DENIED.search(ALLOWED.sub("credential", name.lower())))


def test_the_deny_list_catches_what_it_is_for():
    for bad in ("ballot", "voted_at", "choice_id", "liste_votee", "has_voted", "candidate",
                "vote", "vote_cast_at", "emargement", "union_id", "bulletin"):  # fmt: skip
        assert denied(bad), bad
    for good in ("vote_code", "vote_code_reissue", "code_hash", "issued_at", "voter_id", "at"):
        assert not denied(good), good


def schema_of_metadata() -> dict[str, set[str]]:
    return {t.name: {c.name for c in t.columns} for t in db.metadata.sorted_tables}


def schema_of_database(engine) -> dict[str, set[str]]:
    inspector = inspect(engine)
    return {
        name: {c["name"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }


def check(schema: dict[str, set[str]]) -> None:
    assert set(schema) == set(REVIEWED), "a table appeared or went: review it for ballot data"
    for table, columns in schema.items():
        assert columns == REVIEWED[table], f"{table}: review {columns ^ REVIEWED[table]}"
        assert not denied(table), table
        assert [c for c in columns if denied(c)] == [], table


def test_the_models_hold_no_ballot_data(app):
    check(schema_of_metadata())


def test_the_migrated_database_holds_no_ballot_data(app_config, tmp_path):
    if ON_POSTGRES:
        base, name = POSTGRES_URL.rsplit("/", 1)
        name = f"{name}_ballot_check"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"{base}/{name}"
    else:
        url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    try:
        migrated = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})
        with migrated.app_context():
            upgrade()
            check(schema_of_database(db.engine))
            db.engine.dispose()
    finally:
        if ON_POSTGRES:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v)}
    return set()


def test_stored_details_and_mail_contexts_name_no_vote(app, make_agent, make_voter, smtp):
    """The free-form JSON columns: what a populated csudesk writes in them."""
    build_world(app, make_agent, make_voter)
    details = db.session.scalars(select(AuditEntry.details)).all()
    contexts = db.session.scalars(select(OutboxMail.context_json)).all()
    assert details and contexts
    keys = set().union(*(keys_of(json.loads(d or "{}")) for d in details + contexts))
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert keys and [k for k in keys if denied(k)] == []
    assert [a for a in actions if denied(a.replace(".", "_"))] == []
