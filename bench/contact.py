"""Figure 5: contact form submissions per second, beside a bare POST in the same set-up.

`POST /nous-ecrire` through gunicorn (2 workers) and wrk (8 connections), with everything a
real submission goes through: CSRF token, honeypot, signed opening time, the rate limits per
address and per client IP in a shared Redis (memory:// per worker when Redis is not reachable),
routing, the ticket, its event and the audit entry, the receipt in the session, the redirect.

Visitors first open the form over HTTP (one GET each, as a browser does): each keeps its session
cookie, CSRF token and signed opening time, and the bench waits out the minimum fill time
before wrk starts. Every submission has its own address (most on the roll, the rest unknown to
it) and comes from one of many client IPs through one trusted proxy (X-Forwarded-For), as
behind the production reverse proxy. The per-address and per-IP limits are raised for this run
only (RAISED_LIMIT): a time-bounded load cannot know in advance how often it will reuse an
address. The anchor is bench.anchor_app's bare POST, sent the same bodies and headers.
"""

import random
import re
import socket
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select

from bench.harness import Database, Row, count_queries, fmt_int, fmt_ms
from bench.http import CONNECTIONS, Browser, gunicorn, wrk
from csudesk.directory.models import Establishment
from csudesk.extensions import db
from csudesk.public import antiabuse
from csudesk.roll.models import Voter, VoterEmail
from csudesk.text import fold
from csudesk.tickets.models import CATEGORY_LABELS, Channel, Ticket

FIGURE = "contact form submissions"
TARGET_PER_SECOND = 150
SUBMISSIONS = 3000  # distinct forms wrk cycles through
ROLL_SHARE = 0.8  # the rest write from an address the roll does not know
VISITORS = 64  # sessions opened by a GET before the load
CLIENT_IPS = 1000
RAISED_LIMIT = "1000000 per hour"
REDIS_URL = "redis://127.0.0.1:6379/0"
_STARTED = re.compile(r'name="started"[^>]*value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

FIRST_NAMES = ("Camille", "Nathalie", "Sophie", "Julien", "Karim", "Isabelle", "Thomas", "Léa")
LAST_NAMES = ("Martin", "Bernard", "Moreau", "Lefèvre", "N'Diaye", "Dubois", "Garcia", "Roux")
MESSAGES = (
    "Bonjour, je n'ai toujours pas reçu le courriel d'activation de mon compte électeur. "
    "J'ai vérifié mes courriers indésirables. Pouvez-vous me le renvoyer ? Merci.",
    "Bonjour,\nmon mot de passe est refusé depuis ce matin alors que je l'ai changé hier. "
    "Mon mot de passe : Soleil2022! ne fonctionne plus. Cordialement.",
    "Je suis affecté(e) depuis la rentrée dans un autre établissement et mon identifiant "
    "électeur semble inconnu. Mon ancien établissement était à Lille. Que dois-je faire ?",
    "Bonjour, je n'ai pas reçu ma notice de vote ni mon code de vote. "
    "Je suis en congé jusqu'au 5 décembre, joignable au 06 12 34 56 78 de 14h30-17h.",
    "Bonsoir, le lien reçu le 28/11 a expiré avant que je puisse l'ouvrir. "
    "Pourriez-vous m'en envoyer un nouveau ? Merci d'avance pour votre aide.",
)


@dataclass(frozen=True)
class Submission:
    email: str
    last_name: str
    first_name: str
    uai: str
    category: str
    message: str
    ip: str

    def fields(self, csrf_token: str, started: str) -> dict[str, str]:
        """The form as the browser sends it when the voter presses "Envoyer"."""
        return {
            "csrf_token": csrf_token,
            "started": started,
            "action": "send",
            "email": self.email,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "uai": self.uai,
            "search": "",
            "category": self.category,
            "message": self.message,
            "consent": "y",
            "website": "",
        }


def _roll_writers(count: int, rng: random.Random) -> list[tuple[str, str, str, str]]:
    """(address, last name, first name, UAI) of `count` voters drawn across the roll."""
    low, high = db.session.execute(select(func.min(Voter.id), func.max(Voter.id))).one()
    ids = rng.sample(range(low, high + 1), min(count, high - low + 1))
    writers = []
    for start in range(0, len(ids), 500):
        writers += db.session.execute(
            select(VoterEmail.address, Voter.last_name, Voter.first_name, Establishment.uai)
            .join(Voter, Voter.id == VoterEmail.voter_id)
            .join(Establishment, Establishment.id == Voter.establishment_id)
            .where(Voter.id.in_(ids[start : start + 500]))
        ).all()
    return [tuple(w) for w in writers]


def prepare(count: int = SUBMISSIONS, seed: int = 5) -> list[Submission]:
    """`count` forms: voters of the roll writing in, and people the roll does not know."""
    rng = random.Random(seed)
    writers = _roll_writers(round(count * ROLL_SHARE), rng)
    uais = list(db.session.scalars(select(Establishment.uai).order_by(Establishment.id)))
    db.session.rollback()
    categories = list(CATEGORY_LABELS)
    ips = [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(1, CLIENT_IPS + 1)]
    submissions = []
    for index in range(count):
        if writers and index < round(count * ROLL_SHARE):
            address, last, first, uai = writers[index % len(writers)]
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local = fold(f"{first} {last}").replace(" ", ".")
            address = f"{local}.{index}@ac-inconnue.fr"
            uai = rng.choice(uais)
        submissions.append(
            Submission(
                email=address,
                last_name=last,
                first_name=first,
                uai=uai,
                category=rng.choice(categories),
                message=rng.choice(MESSAGES),
                ip=rng.choice(ips),
            )
        )
    rng.shuffle(submissions)
    return submissions


def rate_limit_storage() -> str:
    """Redis, shared by the workers as in production, when it answers; else memory://."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return REDIS_URL
    except OSError:
        return "memory://"


@contextmanager
def rate_limit_config() -> Iterator[dict[str, str]]:
    """Limits raised for the run, in a key prefix of its own, deleted afterwards."""
    storage = rate_limit_storage()
    prefix = f"csudesk-bench-{uuid.uuid4().hex[:12]}"
    try:
        yield {
            "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_KEY_PREFIX": prefix,
            "RATELIMIT_PUBLIC_PER_ADDRESS": RAISED_LIMIT,
            "RATELIMIT_PUBLIC_PER_IP": RAISED_LIMIT,
            "TRUSTED_PROXIES": "1",
        }
    finally:
        if storage.startswith("redis://"):
            import redis

            client = redis.Redis.from_url(storage)
            try:
                keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
                for start in range(0, len(keys), 500):
                    client.delete(*keys[start : start + 500])
            finally:
                client.close()


def submission_query_count(database: Database, submission: Submission, limits: dict) -> int:
    """SQL statements behind one accepted submission (BEGIN aside), through the test client.

    Limits in memory: Flask-Limiter keeps the key prefix of the first app a process builds,
    so an in-process app would count in Redis under another prefix than the run's.
    """
    app = database.app(WTF_CSRF_ENABLED=False, **{**limits, "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        engine = db.engine
        started = antiabuse.opened_token(time.time() - 60)
    client = app.test_client()
    try:
        with count_queries(engine) as statements:
            response = client.post(
                "/nous-ecrire",
                data=submission.fields("", started),
                headers={"X-Forwarded-For": submission.ip},
            )
    finally:
        engine.dispose()
    if response.status_code != 303:
        raise RuntimeError(f"the contact form answered {response.status_code}, not 303")
    return sum(1 for statement in statements if not statement.startswith("BEGIN"))


def open_forms(base_url: str, count: int) -> list[tuple[str, str, str]]:
    """(cookie, CSRF token, signed opening time) of `count` visitors who opened the form."""
    visitors = []
    for _ in range(count):
        browser = Browser(base_url)
        status, page = browser.get("/nous-ecrire")
        csrf, started = _CSRF.search(page), _STARTED.search(page)
        if status != 200 or csrf is None or started is None:
            raise RuntimeError(f"the contact form page did not offer its tokens ({status})")
        visitors.append((browser.cookie_header, csrf.group(1), started.group(1)))
    return visitors


def _form_tickets() -> int:
    count = db.session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.channel == Channel.FORM)
    )
    db.session.rollback()
    return count


def run(database: Database, seconds: float) -> list[Row]:
    """wrk posting valid forms to the app, then the same bodies to the bare POST."""
    with database.app_context() as app:
        submissions = prepare()
        min_fill = app.config["CONTACT_MIN_FILL_SECONDS"]
    with rate_limit_config() as limits:
        queries = submission_query_count(database, submissions[0], limits)
        work = database.work / "contact"
        with gunicorn("csudesk:create_app()", database.env(**limits), work) as server:
            visitors = open_forms(server.url, VISITORS)
            # The newest form was opened just now: wait from here, or on a loaded machine the
            # last visitors' forms would be refused as sent too fast (400).
            opened = time.monotonic()
            bodies, headers = [], []
            for index, submission in enumerate(submissions):
                cookie, csrf, started = visitors[index % len(visitors)]
                bodies.append(urllib.parse.urlencode(submission.fields(csrf, started)))
                headers.append({"Cookie": cookie, "X-Forwarded-For": submission.ip})
            time.sleep(max(0.0, min_fill + 1 - (time.monotonic() - opened)))
            with database.app_context():
                before = _form_tickets()
            load = wrk(
                server.url,
                ["/nous-ecrire"] * len(bodies),
                seconds,
                work,
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                bodies=bodies,
                request_headers=headers,
            )
        with database.app_context():
            created = _form_tickets() - before
    with gunicorn(
        "bench.anchor_app:create_app()", database.anchor_env(), database.work / "anchor-post"
    ) as server:
        anchor = wrk(
            server.url,
            ["/formulaire"] * len(bodies),
            seconds,
            database.work / "anchor-post",
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            bodies=bodies,
            request_headers=headers,
        )
    if load.errors or anchor.errors:
        raise RuntimeError(f"errors under load: app {load.errors}, anchor {anchor.errors}")
    # Requests still in flight when wrk stops may commit without being counted by wrk.
    if not load.requests <= created <= load.requests + CONNECTIONS:
        raise RuntimeError(f"wrk counted {load.requests} submissions, {created} tickets made")
    storage = "Redis" if limits["RATELIMIT_STORAGE_URI"].startswith("redis") else "memory://"
    return [
        Row(
            f"{FIGURE}/s (routing, ticket, audit)",
            database.name,
            fmt_int(load.per_second),
            fmt_int(anchor.per_second),
            f"{load.per_second / anchor.per_second:.0%}",
            f"≥ {TARGET_PER_SECOND}/s",
            load.per_second >= TARGET_PER_SECOND,
            f"{created} tickets in {load.seconds:.0f} s; p50 / p99 {fmt_ms(load.p50)} /"
            f" {fmt_ms(load.p99)} (anchor {fmt_ms(anchor.p50)} / {fmt_ms(anchor.p99)});"
            f" {queries} SQL statements per submission; limits per address and per IP raised"
            f" to {RAISED_LIMIT} for this run, checked in {storage}",
        )
    ]
