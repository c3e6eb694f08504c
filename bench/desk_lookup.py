"""Figure 4: the desk lookup by e-mail, full voter page, as a signed-in agent under load.

The address search is a POST that redirects to the voter file (no address in a URL), so wrk
loads the page the agent lands on, `GET /guichet/electeurs/<id>`, through gunicorn (2 workers,
8 connections), beside bench.anchor_app's bare route (one indexed query, a precompiled
template) in the same set-up. The voters are those of the agent's CSU, cycled through by wrk.
The SQL count covers both requests of a lookup: the POST and the voter file.
"""

import random
import urllib.parse
from pathlib import Path

from sqlalchemy import func, select

from bench.harness import Database, Row, count_queries, ensure_account, fmt_int, fmt_ms
from bench.http import Browser, gunicorn, wrk
from csudesk.directory.models import CSU
from csudesk.extensions import db
from csudesk.roll.models import Voter, VoterEmail

FIGURE = "desk lookup by e-mail"
TARGET_SHARE = 0.5
TARGET_P99_SECONDS = 0.025
AGENT_EMAIL = "agent.bench@csudesk.example"
AGENT_PASSWORD = "bench agent passphrase, not a secret"
ADDRESSES = 500


def prepare(seed: int = 4) -> tuple[str, list[str]]:
    """An agent of the largest CSU, and addresses of its voters to look up."""
    csu_id = db.session.scalar(
        select(Voter.csu_id).group_by(Voter.csu_id).order_by(func.count().desc()).limit(1)
    )
    ensure_account(
        AGENT_EMAIL, "Agent de mesure", "agent", db.session.get(CSU, csu_id), AGENT_PASSWORD
    )
    addresses = list(
        db.session.scalars(
            select(VoterEmail.address)
            .join(Voter, Voter.id == VoterEmail.voter_id)
            .where(Voter.csu_id == csu_id)
            .order_by(VoterEmail.id)
            .limit(ADDRESSES * 10)
        )
    )
    db.session.commit()
    return AGENT_EMAIL, random.Random(seed).sample(addresses, min(ADDRESSES, len(addresses)))


def page_query_count(database: Database, address: str) -> int:
    """SQL statements behind one lookup page (BEGIN aside), through the test client.

    No app context is held around the requests, so each starts as a real one does: empty
    session, no agent loaded yet.
    """
    app = database.app(WTF_CSRF_ENABLED=False)
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    client.post("/connexion", data={"email": AGENT_EMAIL, "password": AGENT_PASSWORD})
    try:
        with count_queries(engine) as statements:
            found = client.post("/guichet/recherche", data={"courriel": address})
            response = client.get(found.headers.get("Location", "/guichet/"))
    finally:
        engine.dispose()
    if found.status_code != 303 or response.status_code != 200:
        raise RuntimeError(f"lookup answered {found.status_code}, then {response.status_code}")
    return sum(1 for statement in statements if not statement.startswith("BEGIN"))


def run(database: Database, work: Path, seconds: float) -> list[Row]:
    """wrk against the desk page, then against the anchor, on the roll already loaded."""
    with database.app_context():
        agent_email, addresses = prepare()
    queries = page_query_count(database, addresses[0])
    with database.app_context():
        voter_ids = dict(
            db.session.execute(
                select(VoterEmail.address, VoterEmail.voter_id).where(
                    VoterEmail.address.in_(addresses)
                )
            ).all()
        )
        db.session.commit()
    paths = [f"/guichet/electeurs/{voter_ids[a]}" for a in addresses]
    with gunicorn("csudesk:create_app()", database.env(), database.work / "desk") as server:
        browser = Browser(server.url)
        browser.post_form("/connexion", {"email": agent_email, "password": AGENT_PASSWORD})
        status, page = browser.get(paths[0])
        if status != 200 or addresses[0] not in page:
            raise RuntimeError(f"signed-in lookup did not show the voter page ({status})")
        load = wrk(
            server.url,
            paths,
            seconds,
            database.work / "desk",
            headers={"Cookie": browser.cookie_header},
        )
    anchor_paths = ["/electeur?courriel=" + urllib.parse.quote(a) for a in addresses]
    with gunicorn(
        "bench.anchor_app:create_app()", database.anchor_env(), database.work / "anchor-http"
    ) as server:
        anchor = wrk(server.url, anchor_paths, seconds, database.work / "anchor-http")
    if load.errors or anchor.errors:
        raise RuntimeError(f"errors under load: app {load.errors}, anchor {anchor.errors}")
    share = load.per_second / anchor.per_second
    return [
        Row(
            f"{FIGURE}, full voter page: req/s",
            database.name,
            fmt_int(load.per_second),
            fmt_int(anchor.per_second),
            f"{share:.0%}",
            f"≥ {TARGET_SHARE:.0%} of anchor",
            share >= TARGET_SHARE,
            f"{queries} SQL queries per page; {load.requests} requests in {load.seconds:.0f} s",
        ),
        Row(
            f"{FIGURE}, full voter page: p50 / p99",
            database.name,
            f"{fmt_ms(load.p50)} / {fmt_ms(load.p99)}",
            f"{fmt_ms(anchor.p50)} / {fmt_ms(anchor.p99)}",
            f"{load.p99 / anchor.p99:.1f}×",
            f"p99 ≤ {TARGET_P99_SECONDS * 1000:.0f} ms",
            load.p99 <= TARGET_P99_SECONDS,
        ),
    ]
