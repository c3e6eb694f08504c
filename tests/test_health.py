"""The load balancer's health check: database, Redis, outbox backlog, and nothing else."""

import subprocess
import time
from datetime import timedelta

import pytest
import redis

from csudesk import create_app
from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.mail.models import MailStatus, OutboxMail
from tests.fixtures.smtp import free_port
from tests.fixtures.sql import recorded_sql

KEYS = {"status", "database", "redis", "outbox"}


@pytest.fixture
def redis_server():
    """A redis-server of this test's own, on a free port; the test may stop it."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    client.close()
    yield process, f"redis://127.0.0.1:{port}/0"
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def mail(status: str, minutes_ago: int) -> OutboxMail:
    return OutboxMail(
        to_address="marie.dupont@ac-lille.fr",
        template="activation",
        status=status,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )


def test_reports_database_and_outbox_backlog(app, client):
    db.session.add_all(
        [
            mail(MailStatus.PENDING, 12),
            mail(MailStatus.SENDING, 3),
            mail(MailStatus.SENT, 60),
            mail(MailStatus.FAILED, 90),
        ]
    )
    db.session.commit()
    with recorded_sql() as statements:
        response = client.get("/sante")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == KEYS
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["redis"] == "not configured"  # memory:// in the tests
    assert body["outbox"]["pending"] == 2
    assert 12 * 60 <= body["outbox"]["oldest_pending_seconds"] < 13 * 60
    assert len([s for s in statements if not s.startswith("BEGIN")]) == 1  # cheap: one query
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_empty_outbox_and_alias(client):
    body = client.get("/healthz").get_json()
    assert body["outbox"] == {"pending": 0, "oldest_pending_seconds": None}


def test_with_the_sealer_the_audit_backlog_is_reported(app, client):
    from csudesk.actor import Actor
    from csudesk.audit.sealer import seal_all
    from csudesk.audit.services import record
    from csudesk.db import clock_at

    app.config["AUDIT_SEALING"] = "sealer"
    with clock_at(utcnow() - timedelta(minutes=2)):
        record(Actor.system(), "test.event")
    record(Actor.system(), "test.event")
    db.session.commit()
    body = client.get("/sante").get_json()
    assert set(body) == KEYS | {"audit"} and body["status"] == "ok"
    assert body["audit"]["unsealed"] == 2
    assert 120 <= body["audit"]["oldest_unsealed_seconds"] < 180
    seal_all()
    assert client.get("/sante").get_json()["audit"] == {
        "unsealed": 0,
        "oldest_unsealed_seconds": None,
    }


@pytest.mark.parametrize("database", ["sqlite, missing folder", "postgresql, closed port"])
def test_database_down_is_503_and_says_nothing_more(app_config, tmp_path, database):
    if database.startswith("sqlite"):
        uri = f"sqlite:///{tmp_path / 'no-such-folder' / 'csudesk.sqlite3'}"
    else:
        uri = f"postgresql://csudesk@127.0.0.1:{free_port()}/no-such-folder"  # the plain form
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": uri})
    response = app.test_client().get("/sante")
    assert response.status_code == 503
    body = response.get_json()
    assert body == {
        "status": "error",
        "database": "error",
        "outbox": None,
        "redis": "not configured",
    }
    assert "no-such-folder" not in response.text and "127.0.0.1" not in response.text
    with app.app_context():
        db.engine.dispose()


def test_redis_ok_then_down(app, app_config, redis_server):
    process, url = redis_server
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": url})
    client = app.test_client()
    up = client.get("/sante")
    assert (up.status_code, up.get_json()["redis"], up.get_json()["status"]) == (200, "ok", "ok")
    process.terminate()
    process.wait(timeout=10)
    started = time.monotonic()
    down = client.get("/sante")
    assert time.monotonic() - started < 3
    assert down.status_code == 200  # every process still serves, limits kept per process
    assert down.get_json()["redis"] == "unavailable"
    assert down.get_json()["status"] == "degraded"
    assert down.get_json()["database"] == "ok"
    with app.app_context():
        db.engine.dispose()


def test_redis_on_a_closed_port(app, app_config):
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0"})
    body = app.test_client().get("/healthz").get_json()
    assert (body["redis"], body["status"]) == ("unavailable", "degraded")
    with app.app_context():
        db.engine.dispose()
