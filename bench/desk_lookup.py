"""Figure 4: the desk lookup by e-mail, full voter page, as a signed-in agent under load.

The address search is a POST that redirects to the voter file (no address in a URL), so wrk
loads the page the agent lands on, `GET /guichet/electeurs/<id>`, through gunicorn (2 workers,
8 connections), beside bench.anchor_app's bare route (one indexed query, a precompiled
template) in the same set-up. The voters are those of the agent's CSU, cycled through by wrk.
The SQL count covers both requests of a lookup: the POST and the voter file.

The same page is also run beside bench.anchor_voter_page, its same-work anchor (the page's
statements, audit append and template through the raw driver), in the same set-up and with
the same session cookie, and measured in one process (no HTTP, no second worker) with a
profile of where the time goes, beside the same-work anchor in one process. The page is also
served by 1 and by 4 worker processes, beside the audit chain's own ceiling (bench.audit_chain):
whether more processes serve more pages, and how far they are from queueing on the chain.
"""

import cProfile
import os
import pstats
import random
import re
import time
import urllib.parse
from pathlib import Path

from sqlalchemy import func, select

from bench import audit_chain
from bench.harness import Database, Row, count_queries, ensure_account, fmt_int, fmt_ms, per
from bench.http import WORKERS, Browser, gunicorn, wrk
from bench.open_loop import fixed_rate
from csudesk.directory.models import CSU
from csudesk.extensions import db
from csudesk.roll.models import Voter, VoterEmail

FIGURE = "desk lookup by e-mail"
TARGET_SHARE = 0.5
TARGET_P99_SECONDS = 0.025
TARGET_PAGE_SECONDS = 0.003
TARGET_TWO_WORKERS = 1.7
SCALING_WORKERS = (1, 4)  # beside the main run's WORKERS (2)
AUDIT_CHAIN_SECONDS = 5  # each of 6 runs (1, 2, 4 processes, inline then sealer); at most --seconds
WARM_SECONDS = 2
IN_PROCESS_PAGES = 300
PROFILE_ENTRIES = 8
_TOKENS = re.compile(r'value="[A-Za-z0-9._-]{40,}"')
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
        cookie = {"Cookie": browser.cookie_header}
        # Warm, as the scaling runs below are: templates and statement caches loaded.
        wrk(server.url, paths, min(WARM_SECONDS, seconds), database.work / "desk", headers=cookie)
        load = wrk(
            server.url,
            paths,
            seconds,
            database.work / "desk",
            headers=cookie,
        )
        # Requests on a clock at half the maximum wrk just measured: latency at a load the
        # server keeps up with, not at saturation.
        half = load.per_second / 2
        steady = fixed_rate(server.url, paths, half, seconds, headers=cookie)
    scaling = {WORKERS: load.per_second}
    for workers in SCALING_WORKERS:
        with gunicorn(
            "csudesk:create_app()", database.env(), database.work / "desk", workers=workers
        ) as server:
            # Every worker loads its templates and statement caches before the measured run.
            warm = min(WARM_SECONDS, seconds)
            wrk(server.url, paths, warm, database.work / "desk", headers=cookie)
            scaling[workers] = wrk(
                server.url, paths, seconds, database.work / "desk", headers=cookie
            ).per_second
    anchor_paths = ["/electeur?courriel=" + urllib.parse.quote(a) for a in addresses]
    with gunicorn(
        "bench.anchor_app:create_app()", database.anchor_env(), database.work / "anchor-http"
    ) as server:
        anchor = wrk(server.url, anchor_paths, seconds, database.work / "anchor-http")
    with gunicorn(
        "bench.anchor_voter_page:create_app()",
        database.anchor_env(),
        database.work / "anchor-voter-page",
    ) as server:
        same_page = _same_html(page, Browser(server.url), paths[0], browser.cookie_header)
        same = wrk(
            server.url,
            paths,
            seconds,
            database.work / "anchor-voter-page",
            headers=cookie,
        )
        same_steady = fixed_rate(server.url, paths, half, seconds, headers=cookie)
    if load.errors or anchor.errors or same.errors or steady.errors or same_steady.errors:
        raise RuntimeError(
            f"errors under load: app {load.errors}, anchor {anchor.errors},"
            f" same-work anchor {same.errors}; at a fixed rate: app {steady.errors},"
            f" same-work anchor {same_steady.errors}"
        )
    share = per(load.per_second, anchor.per_second)
    same_share = per(load.per_second, same.per_second)
    # A short run (the smoke test's second) times a tenth of the pages.
    pages = IN_PROCESS_PAGES if seconds >= 5 else IN_PROCESS_PAGES // 10
    in_process = in_process_cost(database, paths, browser.cookie_header, pages)
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
            f"{FIGURE}, full voter page beside its same-work anchor: req/s",
            database.name,
            fmt_int(load.per_second),
            fmt_int(same.per_second),
            f"{same_share:.0%}",
            f"≥ {TARGET_SHARE:.0%} of anchor",
            same_share >= TARGET_SHARE,
            f"anchor: the page's statements, audit append and template through the raw driver"
            f" (bench/anchor_voter_page.py), same HTML as the page: {same_page};"
            f" bare route {fmt_int(anchor.per_second)} req/s, same-work anchor"
            f" {per(same.per_second, anchor.per_second):.0%} of it;"
            f" p50 / p99 {fmt_ms(same.p50)} / {fmt_ms(same.p99)}",
        ),
        in_process,
        Row(
            f"{FIGURE}, full voter page with 1 / 2 / 4 worker processes: req/s",
            database.name,
            " / ".join(fmt_int(scaling[n]) for n in sorted(scaling)),
            fmt_int(scaling[1]),
            f"{per(scaling[2], scaling[1]):.2f}× with 2",
            f"2 workers ≥ {TARGET_TWO_WORKERS}× 1",
            per(scaling[2], scaling[1]) >= TARGET_TWO_WORKERS,
            f"anchor: 1 worker; 4 workers {per(scaling[4], scaling[1]):.2f}× 1; wrk shares the"
            f" machine's {os.cpu_count()} cores",
        ),
        *audit_chain.run(database, min(AUDIT_CHAIN_SECONDS, seconds), scaling),
        Row(
            f"{FIGURE}, full voter page: p50 / p99",
            database.name,
            f"{fmt_ms(load.p50)} / {fmt_ms(load.p99)}",
            f"{fmt_ms(anchor.p50)} / {fmt_ms(anchor.p99)}",
            f"{per(load.p99, anchor.p99):.1f}×",
            f"p99 ≤ {TARGET_P99_SECONDS * 1000:.0f} ms",
            load.requests > 0 and load.p99 <= TARGET_P99_SECONDS,
            "wrk's closed loop at saturation: mostly the time a request queues",
        ),
        Row(
            f"{FIGURE}, full voter page at half its maximum, open loop: p50 / p99",
            database.name,
            f"{fmt_ms(steady.p50)} / {fmt_ms(steady.p99)}",
            f"{fmt_ms(same_steady.p50)} / {fmt_ms(same_steady.p99)}",
            f"{steady.p99 / same_steady.p99:.1f}×",
            f"p99 ≤ {TARGET_P99_SECONDS * 1000:.0f} ms",
            steady.p99 <= TARGET_P99_SECONDS,
            f"{half:.0f} req/s offered on a clock (bench/open_loop.py), latency from each"
            f" request's scheduled time; {steady.sent} requests, {steady.late} sent late by the"
            f" generator, max {fmt_ms(steady.max_latency)}; anchor: the same-work anchor at the"
            f" same rate; generator CPU {steady.cpu_per_1000:.2f} s per 1000 requests",
        ),
    ]


def _same_html(page: str, anchor: Browser, path: str, cookie: str) -> str:
    """Whether the same-work anchor serves the page's HTML (CSRF tokens aside): yes or no."""
    anchor.opener.addheaders = [("Cookie", cookie)]
    status, served = anchor.get(path)
    return "yes" if status == 200 and _TOKENS.sub("", served) == _TOKENS.sub("", page) else "NO"


def in_process_cost(database: Database, paths: list[str], cookie: str, count: int) -> Row:
    """The page's own cost: `count` pages through the test client, one process.

    Beside it, the same-work anchor through its own test client. Both as CPU time of this
    process (what a loaded machine changes least; a PostgreSQL server's share is not in it)
    and wall time. A profile of the app's run gives the share of the time under each of its
    heaviest csudesk functions below the view itself.
    """
    app = database.app()
    with app.app_context():
        engine = db.engine
    pages = [paths[i % len(paths)] for i in range(count)]
    try:
        client = _client_with(app.test_client(), cookie)
        _time_pages(client, pages[:20])  # warm: compiled templates, statement caches
        seconds = _time_pages(client, pages)
        profile = cProfile.Profile()
        profile.enable()
        _time_pages(client, pages)
        profile.disable()
    finally:
        engine.dispose()
    previous = {key: os.environ.get(key) for key in database.anchor_env()}
    os.environ.update(database.anchor_env())
    try:
        from bench.anchor_voter_page import create_app as same_work_anchor

        anchor_app = same_work_anchor()
        anchor_client = _client_with(anchor_app.test_client(), cookie)
        try:
            _time_pages(anchor_client, pages[:20])
            anchor_seconds = _time_pages(anchor_client, pages)
        finally:
            anchor_app.extensions["close_anchor_connection"]()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    (cpu, wall), (anchor_cpu, anchor_wall) = (
        (cpu / len(pages), wall / len(pages)) for cpu, wall in (seconds, anchor_seconds)
    )
    return Row(
        f"{FIGURE}, full voter page in one process: time per page",
        database.name,
        f"{fmt_ms(cpu)} CPU, {fmt_ms(wall)} wall",
        f"{fmt_ms(anchor_cpu)} CPU, {fmt_ms(anchor_wall)} wall",
        f"{per(cpu, anchor_cpu):.1f}× CPU",
        f"≤ {TARGET_PAGE_SECONDS * 1000:.0f} ms",
        wall <= TARGET_PAGE_SECONDS,
        f"{len(pages)} pages through the test client (anchor: bench/anchor_voter_page.py);"
        f" profile, share of the page's time under: {_profile_shares(profile)}",
    )


def _client_with(client, cookie: str):
    for pair in cookie.split("; "):
        name, _, value = pair.partition("=")
        client.set_cookie(name, value)
    return client


def _time_pages(client, pages: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of these pages."""
    cpu, wall = time.process_time(), time.perf_counter()
    for path in pages:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in process")
    return time.process_time() - cpu, time.perf_counter() - wall


def _profile_shares(profile: cProfile.Profile) -> str:
    """The heaviest csudesk functions (and the template rendering) by cumulative time, below
    the view and its wrappers (under half of the page each)."""
    stats = pstats.Stats(profile).stats
    total = sum(profile_row[2] for profile_row in stats.values())  # every function's own time
    entries = sorted(
        (
            (cumulative, f"{Path(filename).stem}.{name}")
            for (filename, _, name), (_, _, _, cumulative, _) in stats.items()
            if ("/csudesk/" in filename and "/bench/" not in filename)
            or (name == "render_template" and "flask" in filename)
        ),
        reverse=True,
    )
    shown = [entry for entry in entries if entry[0] < 0.5 * total][:PROFILE_ENTRIES]
    return ", ".join(f"{label} {cumulative / total:.0%}" for cumulative, label in shown)
