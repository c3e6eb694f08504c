"""The SQL behind the lookup page stays a fixed, small number of statements (issue 6).

`make bench` reports the same count beside the page's requests/s. The counted request starts
as a real one does, with an empty session and no agent loaded: the test's app context would
otherwise keep both from earlier requests and hide the queries that load them.
"""

import pytest
from flask import g

from bench.harness import count_queries
from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.support.services import resend_activation_link
from csudesk.tickets.services import create_ticket
from tests.conftest import ON_POSTGRES

# Agent, voter and addresses, audit chain head and entry, voter file (voter and addresses,
# links with their mail, tickets, vote-code reissues); PostgreSQL adds the audit chain's lock.
LOOKUP_PAGE_STATEMENTS = 11 if ON_POSTGRES else 10
ADDRESS = "marie.dupont@ac-lille.fr"


def _statements_of_lookup(client) -> list[str]:
    db.session.remove()
    g.pop("_login_user", None)  # Flask-Login keeps the agent on the test's app context
    with count_queries() as statements:
        response = client.get("/guichet/recherche", query_string={"courriel": ADDRESS})
    assert response.status_code == 200 and "DUPONT Marie" in response.text
    return [s for s in statements if not s.startswith("BEGIN")]


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
    assert len(_statements_of_lookup(client)) == LOOKUP_PAGE_STATEMENTS
