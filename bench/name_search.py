"""Figure 2: name search within one académie, typo- and accent-tolerant, beside an exact prefix.

The measured call is `roll.services.search_voters_by_name` as the desk makes it (the académie
agent's scope, up to 20 voters with their establishment). The anchor is the same question
without tolerance through the raw driver: the voters whose folded last name starts with the
typed one, on the (csu_id, last_name_key) index, 20 rows with their establishment.
"""

import random
import time

from sqlalchemy import func, select

from bench.harness import Database, Row, fmt_ms, percentile
from csudesk.extensions import db
from csudesk.roll.models import Voter
from csudesk.roll.services import search_voters_by_name
from csudesk.text import fold

FIGURE = "name search in one académie"
TARGET_P95_SECONDS = 0.050
WARM_UP = 5
ANCHOR_SQL = (
    "SELECT v.id, v.last_name, v.first_name, e.uai, e.name FROM voter v"
    " JOIN establishment e ON e.id = v.establishment_id"
    " WHERE v.csu_id = {p} AND v.last_name_key >= {p} AND v.last_name_key < {p}"
    " ORDER BY v.last_name_key, v.first_name_key LIMIT 20"
)


def typed_forms(last_name: str, first_name: str, rng: random.Random) -> tuple[str, str]:
    """What an agent types from a caller's dictation: as written, no accents, or one typo."""
    style = rng.randrange(4)
    if style == 0:
        return last_name, first_name
    if style == 1:
        return fold(last_name), fold(first_name)
    if style == 2 and len(last_name) > 4:
        cut = rng.randrange(1, len(last_name) - 1)
        return last_name[:cut] + last_name[cut + 1 :], first_name
    return last_name.lower(), ""


def _sample(csu_id: int, queries: int, rng: random.Random) -> list[tuple[int, str, str]]:
    """Voters of the CSU to look for, each with the name as typed."""
    voters = db.session.execute(
        select(Voter.id, Voter.last_name, Voter.first_name)
        .where(Voter.csu_id == csu_id)
        .order_by(Voter.id)
        .limit(queries * 20)
    ).all()
    return [
        (voter_id, *typed_forms(last, first, rng))
        for voter_id, last, first in rng.sample(voters, min(queries, len(voters)))
    ]


def _largest_csu() -> tuple[int, int]:
    return db.session.execute(
        select(Voter.csu_id, func.count())
        .group_by(Voter.csu_id)
        .order_by(func.count().desc())
        .limit(1)
    ).one()


def _time_app(csu_id: int, typed: list[tuple[int, str, str]]) -> tuple[list[float], int]:
    """Latency of each search, and how many typed with a first name returned the voter sought.

    A last name alone may have more homonyms in the académie than one page shows.
    """
    latencies, found = [], 0
    for index, (voter_id, last, first) in enumerate([*typed[:WARM_UP], *typed]):
        started = time.perf_counter()
        matches = search_voters_by_name(last, first, csu_ids={csu_id})
        for match in matches:
            match.voter.establishment.name  # noqa: B018 - what the results page reads
        elapsed = time.perf_counter() - started
        db.session.rollback()  # one request, one session: nothing cached across searches
        if index >= WARM_UP:
            latencies.append(elapsed)
            found += bool(first) and voter_id in {match.voter.id for match in matches}
    return latencies, found


def _time_anchor(
    database: Database, csu_id: int, typed: list[tuple[int, str, str]]
) -> tuple[list[float], int]:
    connection = database.raw_connect()
    sql = ANCHOR_SQL.format(p="?" if database.is_sqlite else "%s")
    latencies, found = [], 0
    try:
        cursor = connection.cursor()
        for index, (voter_id, last, _first) in enumerate([*typed[:WARM_UP], *typed]):
            started = time.perf_counter()
            key = fold(last)
            cursor.execute(sql, (csu_id, key, key + "\uffff"))
            rows = cursor.fetchall()
            elapsed = time.perf_counter() - started
            if index >= WARM_UP:
                latencies.append(elapsed)
                found += voter_id in {row[0] for row in rows}
        connection.rollback()
    finally:
        connection.close()
    return latencies, found


def run(database: Database, queries: int, seed: int = 6) -> list[Row]:
    """p50/p95 of `queries` searches on the roll already loaded (figure 1 leaves it there)."""
    with database.app_context():
        csu_id, voters_in_csu = _largest_csu()
        typed = _sample(csu_id, queries, random.Random(seed))
        app_latencies, app_found = _time_app(csu_id, typed)
    anchor_latencies, anchor_found = _time_anchor(database, csu_id, typed)
    with_first_name = sum(1 for _, _, first in typed if first)
    p95 = percentile(app_latencies, 95)
    anchor_p95 = percentile(anchor_latencies, 95)
    size = f"{voters_in_csu:,}".replace(",", " ")
    return [
        Row(
            f"{FIGURE} ({size} voters), p50 / p95",
            database.name,
            f"{fmt_ms(percentile(app_latencies, 50))} / {fmt_ms(p95)}",
            f"{fmt_ms(percentile(anchor_latencies, 50))} / {fmt_ms(anchor_p95)}",
            f"{p95 / anchor_p95:.1f}×",
            f"p95 ≤ {TARGET_P95_SECONDS * 1000:.0f} ms",
            p95 <= TARGET_P95_SECONDS,
            f"{len(typed)} searches; typed with a first name, the voter sought is in the"
            f" results {app_found}/{with_first_name} (anchor, exact prefix, last name only:"
            f" {anchor_found}/{len(typed)})",
        )
    ]
