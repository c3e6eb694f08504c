"""The SQL behind the lookup page stays a fixed, small number of statements (issue 6).

`make bench` reports the same count beside the page's requests/s. The counted request starts
as a real one does, with an empty session and no agent loaded: the test's app context would
otherwise keep both from earlier requests and hide the queries that load them.
"""

import pytest
from flask import g

from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.tickets.services import create_ticket
from tests.conftest import ON_POSTGRES
from tests.fixtures.sql import count_queries

# The lookup is a POST (agent, the address's voter id, audit chain head and entry; PostgreSQL
# adds the audit chain's lock) that redirects to the voter file (agent, voter file: voter with
# its account and addresses in one statement, links with their mail, tickets, vote-code
# reissues, self-service requests, replies sent from its tickets, the agent's challenge proof;
# the other agents who opened the file lately and the upsert of this view; then the audit head
# and entry, and the lock on PostgreSQL). On SQLite the page's reads run in a deferred
# transaction (uow.reads_first), its writes in a second one: no statement more.
LOOKUP_POST_STATEMENTS = 5 if ON_POSTGRES else 4
VOTER_PAGE_STATEMENTS = 13 if ON_POSTGRES else 12
ADDRESS = "marie.dupont@ac-lille.fr"


def _fresh_request():
    db.session.remove()
    g.pop("_login_user", None)  # Flask-Login keeps the agent on the test's app context


def _statements_of_lookup(client) -> tuple[list[str], list[str]]:
    _fresh_request()
    with count_queries() as posted:
        found = client.post("/guichet/recherche", data={"courriel": ADDRESS})
    assert found.status_code == 303
    _fresh_request()
    with count_queries() as shown:
        response = client.get(found.headers["Location"])
    assert response.status_code == 200 and "DUPONT Marie" in response.text
    return tuple(
        [s for s in statements if not s.startswith("BEGIN")] for statements in (posted, shown)
    )


@pytest.mark.parametrize("history", [0, 4])
def test_lookup_page_runs_a_fixed_number_of_statements(client, lille, make_voter, history):
    voter = make_voter("DUPONT", "Marie", emails=(ADDRESS, "m.dupont@ac-lille.fr"))
    agent = Actor.for_agent(lille)
    for n in range(history):
        ticket = create_ticket(
            agent, csu=voter.csu, voter=voter, category="lien_non_recu", channel="telephone"
        )
        resend_activation_link(agent, voter, (ADDRESS, "m.dupont@ac-lille.fr")[n % 2], ticket)
        db.session.commit()
    posted, shown = _statements_of_lookup(client)
    assert (len(posted), len(shown)) == (LOOKUP_POST_STATEMENTS, VOTER_PAGE_STATEMENTS), (
        posted,
        shown,
    )
    # A flag pragma (query_only, say) would expire every statement SQLite had compiled.
    assert not any(s.startswith("PRAGMA") for s in posted + shown)


def test_lookup_page_renders_after_its_transaction_ends(client, lille, make_voter):
    """No query while the template renders: the transaction (and SQLite's lock) is already over."""
    from sqlalchemy import event

    voter_id = make_voter("DUPONT", "Marie", emails=(ADDRESS,)).id
    db.session.remove()
    g.pop("_login_user", None)
    events: list[str] = []

    def on_statement(*args):
        events.append("statement")

    def on_commit(connection):
        events.append("commit")

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    try:
        response = client.get(f"/guichet/electeurs/{voter_id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)
        event.remove(db.engine, "commit", on_commit)
    assert response.status_code == 200
    # On SQLite the reads end first (their snapshot), then the page view and audit entry.
    assert events.count("commit") == (1 if ON_POSTGRES else 2)
    assert events[-1] == "commit"
