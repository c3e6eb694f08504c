"""The load balancer's health check: GET /sante (alias /healthz), JSON, no sign-in.

It answers with three facts and nothing else: whether the database answers, whether the shared
Redis of the rate limits answers, and the outbox's backlog (mail not yet handed to the SMTP
server, and the age of the oldest). One indexed query and one PING, each with a short timeout:
cheap enough to be polled every few seconds by each balancer. With AUDIT_SEALING "sealer", a
fourth: the audit entries waiting for the sealer, and the age of the oldest (one more query, on
the partial index of the unsealed entries): a stopped sealer shows there before `audit verify`
reports it.

Status codes: 503 when the database does not answer (this process cannot serve); 200 otherwise.
Redis down gives 200 with `"status": "degraded"`: every process then keeps its own rate-limit
counters (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) and still serves, so taking all of them out of
the balancer would turn a Redis outage into a full one. A growing backlog is for the monitoring
to alert on (the sender is a separate service), not a reason to stop sending traffic here.
"""

import logging

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from csudesk.audit.models import AuditEntry
from csudesk.audit.services import SEALER, sealing
from csudesk.db import utcnow
from csudesk.extensions import db, limiter
from csudesk.mail.models import MailStatus, OutboxMail

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 0.5
BACKLOG_STATUSES = (MailStatus.PENDING, MailStatus.SENDING)


def _outbox_backlog() -> dict:
    count, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMail.created_at)).where(
            OutboxMail.status.in_(BACKLOG_STATUSES)
        )
    ).one()
    age = None if oldest is None else max(0, int((utcnow() - oldest).total_seconds()))
    return {"pending": count, "oldest_pending_seconds": age}


def _audit_backlog() -> dict:
    count, oldest = db.session.execute(
        select(func.count(), func.min(AuditEntry.at)).where(AuditEntry.seal_seq.is_(None))
    ).one()
    age = None if oldest is None else max(0, int((utcnow() - oldest).total_seconds()))
    return {"unsealed": count, "oldest_unsealed_seconds": age}


def _redis_url() -> str | None:
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or ""
    if uri.startswith(("redis://", "rediss://")):
        return uri
    if uri.startswith("redis+unix://"):
        return "unix://" + uri[len("redis+unix://") :]
    return None


def _redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per process, with short timeouts."""
    clients = current_app.extensions.setdefault("csudesk_health_redis", {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            retry_on_timeout=False,
        )
    return clients[url]


def _redis_state() -> str:
    """The shared Redis: ok, unavailable, or not configured (memory:// is per process)."""
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or ""
    if not uri.startswith("redis"):
        return "not configured"
    url = _redis_url()
    try:
        if url is None:  # sentinel or cluster: the limiter's own storage knows how to reach it
            return "ok" if limiter.storage.check() else "unavailable"
        _redis_client(url).ping()
    except (redis.RedisError, OSError) as error:
        log.warning("health: Redis unavailable (%s)", type(error).__name__)
        return "unavailable"
    return "ok"


@bp.get("/sante")
@bp.get("/healthz")
@limiter.exempt
def health():
    body: dict = {"status": "ok", "database": "ok"}
    code = 200
    try:
        body["outbox"] = _outbox_backlog()
        if sealing() == SEALER:
            body["audit"] = _audit_backlog()
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("health: database unavailable (%s)", type(error).__name__)
        body.update(status="error", database="error", outbox=None)
        code = 503
    body["redis"] = _redis_state()
    if code == 200 and body["redis"] == "unavailable":
        body["status"] = "degraded"
    response = jsonify(body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response
