"""Rate limits on the public forms: per address, per client IP, shared by every process."""

import http.client
import logging
import subprocess
import time
import urllib.parse
import uuid
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import func, select

from csudesk.access.models import SelfServiceRequest
from csudesk.extensions import db
from csudesk.public import antiabuse
from csudesk.tickets.models import Ticket
from tests.fixtures.appserver import app_processes
from tests.fixtures.factories import AuthActions
from tests.fixtures.smtp import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"

# The counters live in Redis or in memory; the database engine plays no part in them.
pytestmark = pytest.mark.engine_neutral


def from_ip(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def stored_requests() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(SelfServiceRequest))


def contact_data(email: str, **overrides) -> dict:
    return {
        "email": email,
        "last_name": "Dupont",
        "first_name": "Marie",
        "uai": "0783774D",
        "category": "autre",
        "message": "Mon message ne doit pas se perdre.",
        "consent": "y",
        "started": antiabuse.opened_token(time.time() - 60),
        **overrides,
    }


def test_per_address_limit_across_ips_and_forms(client, directory):
    address = "marie.dupont@ac-lille.fr"
    statuses = [
        client.post(
            "/lien-non-recu", data={"email": address}, **from_ip(f"192.0.2.{i}")
        ).status_code
        for i in range(3)
    ]
    statuses += [
        client.post("/mot-de-passe-refuse", data={"email": address.upper()}, **from_ip("192.0.2.9"))
        .status_code
        for _ in range(2)
    ]  # fmt: skip
    assert statuses == [303] * 5
    refused = client.post("/lien-non-recu", data={"email": address}, **from_ip("192.0.2.77"))
    assert refused.status_code == 429
    page = " ".join(refused.text.split())
    assert "Trop de demandes" in page and "Patientez une heure" in page
    assert f'value="{address}"' in page  # what was typed comes back
    assert "Trouver ma CSU" in page or "trouvez les coordonnées" in page
    contact = client.post("/nous-ecrire", data=contact_data(address), **from_ip("192.0.2.78"))
    assert contact.status_code == 429
    assert "Mon message ne doit pas se perdre.</textarea>" in contact.text
    assert stored_requests() == 5
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    other = client.post(
        "/lien-non-recu", data={"email": "paul@ac-lille.fr"}, **from_ip("192.0.2.77")
    )
    assert other.status_code == 303


def test_per_ip_limit_across_addresses(client, directory, app):
    app.config["RATELIMIT_PUBLIC_PER_IP"] = "3 per hour"
    for i in range(3):
        response = client.post("/lien-non-recu", data={"email": f"p{i}@ac-lille.fr"})
        assert response.status_code == 303
    refused = client.post("/mot-de-passe-refuse", data={"email": "p9@ac-lille.fr"})
    assert refused.status_code == 429
    assert "Trop de demandes" in refused.text
    assert client.post(
        "/lien-non-recu", data={"email": "p9@ac-lille.fr"}, **from_ip("198.51.100.1")
    ).status_code == 303  # fmt: skip
    assert stored_requests() == 4


def test_vote_code_form_is_limited_too(client, directory, app, voting):
    app.config["RATELIMIT_PUBLIC_PER_ADDRESS"] = "2 per hour"
    data = {"email": "marie@ac-lille.fr", "answer": "Médor"}
    statuses = [client.post("/reassort-code-de-vote", data=data).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    assert stored_requests() == 2


def test_searches_do_not_use_up_the_submissions(client, directory, app):
    app.config["RATELIMIT_PUBLIC_PER_ADDRESS"] = "1 per hour"
    app.config["RATELIMIT_PUBLIC_PER_IP"] = "1 per hour"
    for _ in range(5):
        assert client.get("/nous-ecrire", query_string={"recherche": "paris"}).status_code == 200
    sent = client.post("/nous-ecrire", data=contact_data("marie@ac-lille.fr"))
    assert sent.status_code == 303


def test_the_search_has_its_own_limit(client, directory, app):
    app.config["RATELIMIT_SEARCH"] = "3 per minute"
    statuses = [
        client.get("/nous-ecrire", query_string={"recherche": f"lycée {i}"}).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/trouver-ma-csu", query_string={"q": "paris"}).status_code == 429
    assert client.get("/nous-ecrire").status_code == 200  # the form itself is not a search
    assert client.get("/trouver-ma-csu", **from_ip("198.51.100.3")).status_code == 200


VOTING = {
    "name": "Test",
    "portal_opens": "2020-01-01T00:00",
    "vote_opens": "2020-01-02T00:00",
    "vote_closes": "2099-01-01T00:00",
}


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/lien-non-recu", {"email": "marie.dupont@ac-lille.fr"}),
        ("/mot-de-passe-refuse", {"email": "marie.dupont@ac-lille.fr"}),
        ("/reassort-code-de-vote", {"email": "marie.dupont@ac-lille.fr", "answer": "Pas Médor"}),
    ],
)
def test_action_search_does_not_bypass_the_limits(client, directory, app, path, data, voting):
    """Issue 10 item 1: 7 POSTs with action=search for one address, as the attacker sent."""
    statuses = [
        client.post(path, data={**data, "action": "search"}, **from_ip(f"192.0.2.{i}")).status_code
        for i in range(7)
    ]
    assert statuses == [303] * 5 + [429] * 2
    assert stored_requests() == 5


def test_contact_posts_marked_as_searches_count_too(client, directory):
    statuses = [
        client.post(
            "/nous-ecrire",
            data=contact_data("marie@ac-lille.fr", action="search", search="paris"),
            **from_ip(f"192.0.2.{i}"),
        ).status_code
        for i in range(7)
    ]
    assert statuses == [303] * 5 + [429] * 2
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 5


def test_two_hundred_voters_behind_one_address_are_all_served(client, directory, app, voting):
    """Issue 10 item 10: a school or a rectorate behind one NAT address, default limits."""
    school = from_ip("203.0.113.20")
    statuses = []
    for i in range(200):
        address = f"enseignant.{i}@ac-lille.fr"
        if i % 4 == 0:
            response = client.post("/nous-ecrire", data=contact_data(address), **school)
        elif i % 4 == 1:
            data = {"email": address, "answer": "Médor"}
            response = client.post("/reassort-code-de-vote", data=data, **school)
        elif i % 4 == 2:
            response = client.post("/mot-de-passe-refuse", data={"email": address}, **school)
        else:
            response = client.post("/lien-non-recu", data={"email": address}, **school)
        statuses.append(response.status_code)
    assert statuses == [303] * 200
    assert stored_requests() == 150
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 50


def test_pages_themselves_are_not_limited(client, directory, app):
    app.config["RATELIMIT_PUBLIC_PER_IP"] = "1 per hour"
    for _ in range(3):
        assert client.get("/lien-non-recu").status_code == 200


def post(base_url: str, path: str, data: dict) -> int:
    """POST a form to a server process; the status, redirects not followed."""
    connection = http.client.HTTPConnection(urllib.parse.urlsplit(base_url).netloc, timeout=10)
    try:
        connection.request(
            "POST",
            path,
            body=urllib.parse.urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def limited_statuses(app_config: dict, storage: str, prefix: str) -> list[int]:
    """Six posts of one address alternating between two processes (limit: 5 per hour)."""
    config = {**app_config, "RATELIMIT_STORAGE_URI": storage, "RATELIMIT_KEY_PREFIX": prefix}
    with app_processes(config, 2) as urls:
        return [
            post(urls[i % 2], "/lien-non-recu", {"email": "marie.dupont@ac-lille.fr"})
            for i in range(6)
        ]


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the shared Redis, removed afterwards."""
    prefix = f"csudesk-public-test-{uuid.uuid4().hex}"
    yield prefix
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


def test_two_processes_share_the_limit_through_redis(app, app_config, directory, redis_prefix):
    assert limited_statuses(app_config, REDIS_URL, redis_prefix) == [303] * 5 + [429]
    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*"))
    assert keys  # the counters really live in Redis, under this prefix
    assert not any(b"marie" in key for key in keys)  # an HMAC of the address, not the address


def test_memory_storage_would_multiply_the_limit(app, app_config, directory):
    assert limited_statuses(app_config, "memory://", "unused") == [303] * 6


@contextmanager
def redis_server(port: int):
    """A redis-server of the test's own, on `port`, without persistence."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        connection = redis.Redis(port=port)
        for _ in range(100):
            try:
                if connection.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield connection
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_port(app_config):
    port = free_port()
    app_config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{port}/0"
    return port


def test_losing_redis_keeps_serving_and_says_so(redis_port, app, client, make_agent, caplog):
    """Issue 10 item 11: Redis lost, the forms still answer, the log and supervisors know."""
    caplog.set_level(logging.WARNING, logger="csudesk.ratelimits")
    supervisor = make_agent("sup@csudesk.test", "supervisor", "NATIONAL")
    office = app.test_client()
    address = {"email": "marie.dupont@ac-lille.fr"}
    with redis_server(redis_port) as connection:
        assert AuthActions(office).login(supervisor.email).status_code == 302
        assert client.post("/lien-non-recu", data=address).status_code == 303
        assert connection.keys("*public-form-address*")  # counted in the shared Redis
        assert "Limites de demandes non partagées" not in office.get("/supervision/").text
    assert not caplog.records
    # Redis is gone: supervisors see it before any voter's request runs into it...
    dashboard = " ".join(office.get("/supervision/").text.split())
    assert "Limites de demandes non partagées" in dashboard
    assert "chaque processus compte les demandes de son côté" in dashboard
    warnings = [r.getMessage() for r in caplog.records if r.name == "csudesk.ratelimits"]
    assert any("unreachable" in m and f"127.0.0.1:{redis_port}" in m for m in warnings)
    # ... and the voter is still served, counted in this process only.
    assert client.post("/lien-non-recu", data=address).status_code == 303
    assert "Limites de demandes non partagées" in office.get("/supervision/").text
    statuses = [client.post("/lien-non-recu", data=address).status_code for _ in range(5)]
    assert statuses == [303] * 4 + [429]  # the limit still holds, per process
    # A sign-in (its delays use the same storage) still works.
    assert AuthActions(app.test_client()).login(supervisor.email).status_code == 302
    assert len([r for r in caplog.records if r.name == "csudesk.ratelimits"]) == 1  # said once
    app.config["RATELIMIT_RECHECK_SECONDS"] = 0.5
    with redis_server(redis_port):
        time.sleep(0.6)
        assert client.post("/lien-non-recu", data={"email": "paul@ac-lille.fr"}).status_code == 303
        assert "Limites de demandes non partagées" not in office.get("/supervision/").text
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_sign_in_delays_are_shared_by_every_process(redis_port, app_config, make_agent):
    """The per-account wait set in one process holds in the other (Redis, SECURITY.md 14)."""
    agent = make_agent("anne.agent@csudesk.test", "agent", "AC-09")
    with redis_server(redis_port) as connection, app_processes(app_config, 2) as urls:
        guess = {"email": agent.email, "password": "not the password"}
        statuses = [post(urls[i % 2], "/connexion", guess) for i in range(5)]
        assert statuses == [400, 400, 400, 400, 429]  # the 4th failure set a wait, seen by both
        keys = b" ".join(connection.keys("*"))
        assert b"login-wait" in keys and b"anne" not in keys
