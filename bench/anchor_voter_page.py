"""The voter page's same-work anchor: its statements, its audit append, its template, raw.

GET /guichet/electeurs/<id> does what csudesk's voter page does, with the raw driver (sqlite3
or psycopg, one connection per worker) and nothing between it and the database: the agent's
session check (the signed session cookie csudesk set, the agent row, its version, the idle
and absolute limits, seen_at written back), the voter with its establishment, CSU, account
and vote code, its addresses, links with their mail, tickets in scope, reissues, self-service
requests and the challenge-proof check; then the same audit append, sealed inline (chain
head by place, a nonce and the entry's MAC, the chain's HMAC-SHA256 with the app's key, INSERT,
under the advisory lock on PostgreSQL) in the same transaction
(BEGIN IMMEDIATE on SQLite, as csudesk's); then, after the commit, templates/desk/voter.html
itself rendered by Flask's Jinja with the context it reads (plain objects, and form fields
that render the HTML WTForms renders, with the CSRF token signed once per request).

At start only, it reads from csudesk what is configuration, not work: the URL rules (so that
url_for builds the same links), the calendar, link lifetimes, labels and the template filters.

    gunicorn 'bench.anchor_voter_page:create_app()'   # BENCH_ANCHOR_KIND=sqlite|postgresql,
                                                     # BENCH_ANCHOR_TARGET, CSUDESK_SECRET_KEY
"""

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from flask import Flask, abort, g, render_template, request, session
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup

GENESIS = "0" * 64
CHAIN_LOCK = 7_274_201  # csudesk.audit.services._CHAIN_LOCK
NEW_TICKET = "nouveau"
DEFAULT_CATEGORY = {
    "activation": "lien_non_recu",
    "password_reset": "mot_de_passe_refuse",
    "vote_code": "notice_non_recue",
    "challenge": "notice_non_recue",
}
OPEN_STATUSES = ("ouvert", "en_attente", "transfere")
ROLE_RANK = {"agent": 0, "supervisor": 1, "admin": 2}

AGENT_SQL = (
    "SELECT a.id, a.name, a.role, a.active, a.session_version, a.csu_id, c.name, c.code, c.kind"
    " FROM agent a LEFT OUTER JOIN csu c ON c.id = a.csu_id WHERE a.id = {p}"
)
VOTER_SQL = (
    "SELECT v.id, v.roll_id, v.last_name, v.first_name, v.notice_delivery, v.csu_id,"
    " e.uai, e.name, e.city, c.name, acc.voter_id, acc.activated_at, acc.password_set_at,"
    " acc.challenge_answer_hash, acc.desk_challenge_locked_until, vc.voter_id"
    " FROM voter v LEFT OUTER JOIN establishment e ON e.id = v.establishment_id"
    " LEFT OUTER JOIN csu ec ON ec.id = e.csu_id LEFT OUTER JOIN csu c ON c.id = v.csu_id"
    " LEFT OUTER JOIN voter_account acc ON acc.voter_id = v.id"
    " LEFT OUTER JOIN vote_code vc ON vc.voter_id = v.id WHERE v.id = {p}"
)
EMAILS_SQL = "SELECT address FROM voter_email WHERE voter_id = {p} ORDER BY position"
LINKS_SQL = (
    "SELECT l.purpose, l.channel, l.address, l.created_at, l.expires_at, l.used_at,"
    " l.revoked_at, m.id, m.status, m.sent_at, m.attempts, m.next_attempt_at,"
    " m.smtp_response, m.bounce_reason"
    " FROM one_time_link l LEFT OUTER JOIN outbox_mail m ON m.link_id = l.id"
    " WHERE l.voter_id = {p} AND l.purpose != 'agent_password' ORDER BY l.id DESC LIMIT 20"
)
TICKETS_SQL = (
    "SELECT t.id, t.reference, t.category, t.channel, t.status, t.created_at, a.name"
    " FROM ticket t LEFT OUTER JOIN agent a ON a.id = t.assigned_agent_id"
    " WHERE t.voter_id = {p}{scope} ORDER BY t.id DESC LIMIT 50"
)
REISSUES_SQL = "SELECT at FROM vote_code_reissue WHERE voter_id = {p} ORDER BY id DESC"
REQUESTS_SQL = (
    "SELECT kind, address, created_at, processed_at, outcome FROM selfservice_request"
    " WHERE voter_id = {p} OR (processed_at IS NULL AND address IN ({addresses}))"
    " ORDER BY id DESC LIMIT 10"
)
PROOF_SQL = (
    "SELECT id FROM challenge_proof WHERE voter_id = {p} AND agent_id = {p}"
    " AND used_at IS NULL AND expires_at > {p} ORDER BY id DESC LIMIT 1"
)
HEAD_SQL = (
    "SELECT seal_seq, hash FROM audit_entry WHERE seal_seq IS NOT NULL"
    " ORDER BY seal_seq DESC LIMIT 1"
)
AUDIT_SQL = (
    "INSERT INTO audit_entry (at, actor, agent_id, action, voter_id, ticket_id,"
    " target_agent_id, ip, details, nonce, mac, seal_seq, prev_hash, hash)"
    " VALUES ({p}, 'agent', {p}, 'voter.view', {p}, NULL, NULL, {p}, '{{}}', {p}, {p}, {p},"
    " {p}, {p})"
)


def _mac(key: bytes, values: list) -> str:
    """csudesk.audit.services._hmac: HMAC-SHA256 of the values' compact JSON."""
    content = json.dumps(values, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()


def _html_params(**attributes) -> Markup:
    """WTForms' html_params: sorted names, `class_` for class, True as a bare name."""
    parts = []
    for name in sorted(attributes):
        value = attributes[name]
        key = name[:-1] if name.endswith("_") else name
        if value is True:
            parts.append(Markup("{}").format(key))
        elif value is not False and value is not None:
            parts.append(Markup('{}="{}"').format(key, value))
    return Markup(" ").join(parts)


class Field:
    """A form field as templates/_forms.html and desk/_action_form.html read it."""

    def __init__(self, form, name, label, kind, data=None, choices=(), required=False, **kw):
        self.name = self.id = f"{form}-{name}"
        self.label = SimpleNamespace(text=label)
        self.kind = kind
        self.data = data
        self.choices = choices
        self.flags = SimpleNamespace(required=required)
        self.errors: list[str] = []
        self.render_kw = kw

    def __call__(self, **kwargs) -> Markup:
        attributes = {"id": self.id, "name": self.name, **self.render_kw, **kwargs}
        if self.flags.required:
            attributes["required"] = True
        if self.kind == "select":
            options = Markup("").join(
                Markup("<option {}>{}</option>").format(
                    _html_params(selected=c.value == self.data, value=c.value), c.label
                )
                for c in self.choices
            )
            return Markup("<select {}>{}</select>").format(_html_params(**attributes), options)
        if self.kind == "password":
            return Markup("<input {}>").format(
                _html_params(type="password", value="", **attributes)
            )
        # the CSRF token
        return Markup("<input {}>").format(
            _html_params(type="hidden", value=self.data, **attributes)
        )

    def __html__(self) -> str:
        return self()

    def __iter__(self):
        for index, choice in enumerate(self.choices):
            option_id = f"{self.id}-{index}"
            attributes = {
                "checked": choice.value == self.data,
                "id": option_id,
                "name": self.name,
                "required": self.flags.required,
                "type": "radio",
                "value": choice.value,
            }
            markup = Markup("<input {}>").format(_html_params(**attributes))
            yield _Option(option_id, choice.label, markup)


class _Option:
    def __init__(self, option_id, label, markup):
        self.id = option_id
        self.label = SimpleNamespace(text=label)
        self.markup = markup

    def __call__(self) -> Markup:
        return self.markup


def create_app() -> Flask:
    kind = os.environ["BENCH_ANCHOR_KIND"]
    target = os.environ["BENCH_ANCHOR_TARGET"]
    known = _from_csudesk()
    p = "?" if kind == "sqlite" else "%s"
    sql = {
        name: statement.replace("{p}", p)
        for name, statement in {
            "agent": AGENT_SQL,
            "voter": VOTER_SQL,
            "emails": EMAILS_SQL,
            "links": LINKS_SQL,
            "reissues": REISSUES_SQL,
            "proof": PROOF_SQL,
            "audit": AUDIT_SQL,
        }.items()
    }
    sql["audit"] = sql["audit"].replace("{{}}", "{}")
    secret = os.environ["CSUDESK_SECRET_KEY"]
    audit_key = ("audit:" + secret).encode()  # csudesk's default AUDIT_HMAC_KEY
    entry_key = hmac.new(audit_key, b"csudesk audit entry key", hashlib.sha256).digest()
    csrf_signer = URLSafeTimedSerializer(secret, salt="wtf-csrf-token")
    idle = timedelta(minutes=known.config["SESSION_IDLE_MINUTES"]).total_seconds()
    absolute = timedelta(hours=known.config["SESSION_ABSOLUTE_HOURS"]).total_seconds()
    state: dict = {}

    def connection():
        # Opened in the worker, after gunicorn's fork.
        if "connection" not in state:
            if kind == "sqlite":
                raw = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
                raw.execute("PRAGMA busy_timeout=10000")
                raw.execute("PRAGMA foreign_keys=ON")
                state["connection"] = raw
            else:
                import psycopg

                state["connection"] = psycopg.connect(target)
        return state["connection"]

    def stamp(value: datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(" ", timespec="microseconds") if kind == "sqlite" else naive

    def utc(value):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)

    app = Flask(
        __name__,
        static_folder=known.static_folder,
        template_folder=known.template_folder,
    )
    app.secret_key = secret
    app.config.update(
        SESSION_COOKIE_NAME=known.config["SESSION_COOKIE_NAME"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=known.config["PERMANENT_SESSION_LIFETIME"],
        LINK_TTL_HOURS=known.config["LINK_TTL_HOURS"],
    )
    for name, function in known.filters.items():
        app.add_template_filter(function, name)
    labels = known.labels

    def csrf_token() -> str:
        """Flask-WTF's generate_csrf: the session's token, signed once per request."""
        if "csrf_token" not in g:
            if "csrf_token" not in session:
                session["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324
            g.csrf_token = csrf_signer.dumps(session["csrf_token"])
        return g.csrf_token

    app.jinja_env.globals.update(
        election=known.election, dsfr_available=known.dsfr_available, csrf_token=csrf_token
    )

    @app.get("/guichet/electeurs/<int:voter_id>", endpoint="desk.voter")
    def voter_page(voter_id: int):
        db = connection()
        now = datetime.now(UTC)
        begin = "BEGIN IMMEDIATE" if kind == "sqlite" else "BEGIN"
        if kind == "sqlite":
            db.execute(begin)
        try:
            agent = _signed_in_agent(db, sql["agent"], now)
            csu_ids = None if agent.csu.kind == "national" else [agent.csu_id]
            voter = _load_voter(db, sql, voter_id, csu_ids, utc, labels, p)
            file = _voter_file(db, sql, voter, csu_ids, utc, labels, p, now)
            file.challenge_ok = (
                db.execute(sql["proof"], (voter.id, agent.id, stamp(now))).fetchone() is not None
            )
            if kind == "postgresql":
                db.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
            head = db.execute(HEAD_SQL).fetchone() or (0, GENESIS)
            ip = request.remote_addr or "0.0.0.0"  # noqa: S104 - a label
            content = [
                now.replace(tzinfo=None).isoformat(timespec="microseconds"),
                "agent",
                agent.id,
                "voter.view",
                voter.id,
                None,
                None,
                ip,
                "{}",
            ]
            nonce = secrets.token_hex(16)
            mac = _mac(entry_key, [nonce, *content])
            digest = _mac(audit_key, [head[1], *content])
            db.execute(
                sql["audit"],
                (stamp(now), agent.id, voter.id, ip, nonce, mac, head[0] + 1, head[1], digest),
            )
            db.commit() if kind == "postgresql" else db.execute("COMMIT")
        except BaseException:
            db.rollback() if kind == "postgresql" else db.execute("ROLLBACK")
            raise
        account = file.account
        locked = account.desk_challenge_locked_until if account else None
        page = render_template(
            "desk/voter.html",
            file=file,
            voter=voter,
            forms=_action_forms(voter, file.open_tickets, labels, csrf_token()),
            voting_open=known.election.voting_open(now),
            challenge_ok=file.challenge_ok,
            challenge_locked=locked if locked and locked > now else None,
            current_user=agent,
            vote_phase=known.election.phase(now),
        )
        return page, 200, _HEADERS

    def _signed_in_agent(db, agent_sql, now):
        """Flask-Login's user loader and csudesk's session limits, on the session cookie."""
        try:
            agent_id, version = (int(part) for part in session.get("_user_id", "").split(":"))
        except ValueError:
            abort(401)
        row = db.execute(agent_sql, (agent_id,)).fetchone()
        if row is None or row[4] != version or not row[3]:
            abort(401)
        stamp_now = now.timestamp()
        if (
            stamp_now - session.get("seen_at", 0) > idle
            or stamp_now - session.get("auth_at", 0) > absolute
        ):
            abort(401)
        session["seen_at"] = stamp_now
        csu = SimpleNamespace(name=row[6], code=row[7], kind=row[8])
        agent = SimpleNamespace(
            id=row[0],
            name=row[1],
            role=row[2],
            csu_id=row[5],
            csu=csu,
            is_authenticated=True,
            role_label=labels["role"].get(row[2], row[2]),
        )
        agent.has_role = lambda role: ROLE_RANK[agent.role] >= ROLE_RANK[role]
        if not agent.has_role("agent"):
            abort(403)
        return agent

    for rule, endpoint in known.rules:
        if endpoint != "desk.voter":
            app.add_url_rule(rule, endpoint, _not_served)

    def close() -> None:
        """Close the worker's connection (a caller running the app in its own process)."""
        if "connection" in state:
            state.pop("connection").close()

    app.extensions["close_anchor_connection"] = close
    return app


_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _not_served(**_):
    abort(404)


def _load_voter(db, sql, voter_id, csu_ids, utc, labels, p):
    row = db.execute(sql["voter"], (voter_id,)).fetchone()
    if row is None or (csu_ids is not None and row[5] not in csu_ids):
        abort(404)
    account = None
    if row[10] is not None:
        account = SimpleNamespace(
            activated_at=utc(row[11]),
            is_activated=row[11] is not None,
            password_set_at=utc(row[12]),
            has_challenge=row[13] is not None,
            desk_challenge_locked_until=utc(row[14]),
        )
    voter = SimpleNamespace(
        id=row[0],
        roll_id=row[1],
        last_name=row[2],
        first_name=row[3],
        full_name=f"{row[3]} {row[2]}",
        notice_delivery_label=labels["delivery"].get(row[4], row[4]),
        csu_id=row[5],
        establishment=SimpleNamespace(uai=row[6], name=row[7], city=row[8]),
        csu=SimpleNamespace(name=row[9]),
        account=account,
    )
    voter.emails = [
        SimpleNamespace(address=address) for (address,) in db.execute(sql["emails"], (voter_id,))
    ]
    return voter


def _voter_file(db, sql, voter, csu_ids, utc, labels, p, now):
    links = []
    for row in db.execute(sql["links"], (voter.id,)):
        expires_at, used_at = utc(row[4]), utc(row[5])
        if used_at is not None:
            link_state = "used"
        elif row[6] is not None:
            link_state = "revoked"
        elif expires_at is None:
            link_state = "pending"
        else:
            link_state = "expired" if expires_at <= now else "live"
        mail = None
        if row[7] is not None:
            status_label = labels["mail"].get(row[8], row[8])
            if row[8] == "bounced" and row[13]:
                status_label = f"rejetée : {row[13]}"
            mail = SimpleNamespace(
                status=row[8],
                status_label=status_label,
                sent_at=utc(row[9]),
                attempts=row[10],
                next_attempt_at=utc(row[11]),
                smtp_response=row[12],
            )
        links.append(
            SimpleNamespace(
                purpose_label=labels["purpose"].get(row[0], row[0]),
                channel=row[1],
                address=row[2],
                created_at=utc(row[3]),
                expires_at=expires_at,
                used_at=used_at,
                state=lambda link_state=link_state: link_state,
                state_label=labels["link_state"][link_state],
                mail=mail,
            )
        )
    scope = ""
    if csu_ids is not None:
        scope = " AND t.csu_id IN (" + ", ".join(p for _ in csu_ids) + ")"
    tickets = [
        SimpleNamespace(
            id=row[0],
            reference=row[1],
            voter=voter,
            category_label=labels["category"].get(row[2], row[2]),
            channel_label=labels["channel"].get(row[3], row[3]),
            status=row[4],
            status_label=labels["status"].get(row[4], row[4]),
            is_open=row[4] in OPEN_STATUSES,
            created_at=utc(row[5]),
            assigned_agent=SimpleNamespace(name=row[6]) if row[6] is not None else None,
        )
        for row in db.execute(
            TICKETS_SQL.replace("{p}", p).replace("{scope}", scope), (voter.id, *(csu_ids or ()))
        )
    ]
    reissues = [SimpleNamespace(at=utc(at)) for (at,) in db.execute(sql["reissues"], (voter.id,))]
    addresses = [e.address for e in voter.emails]
    marks = ", ".join(p for _ in addresses) or "NULL"
    requests = [
        SimpleNamespace(
            kind_label=labels["kind"].get(row[0], row[0]),
            address=row[1],
            created_at=utc(row[2]),
            processed_at=utc(row[3]),
            outcome_label=(
                "en attente de traitement"
                if row[3] is None
                else labels["outcome"].get(row[4], row[4] or "traitée")
            ),
        )
        for row in db.execute(
            REQUESTS_SQL.replace("{p}", p).replace("{addresses}", marks), (voter.id, *addresses)
        )
    ]
    account = voter.account
    return SimpleNamespace(
        voter=voter,
        account=account,
        activated=account is not None and account.is_activated,
        links=links,
        tickets=tickets,
        open_tickets=[t for t in tickets if t.is_open],
        reissues=reissues,
        requests=requests,
        now=now,
    )


def _action_forms(voter, open_tickets, labels, token: str) -> dict:
    """The four action forms of the page, as csudesk.desk.views.action_forms fills them."""
    addresses = [SimpleNamespace(value=e.address, label=e.address) for e in voter.emails]
    tickets = [SimpleNamespace(value=NEW_TICKET, label="Créer un nouveau ticket")] + [
        SimpleNamespace(
            value=str(t.id),
            label=f"{t.reference} — {t.category_label} ({t.status_label.lower()})",
        )
        for t in open_tickets
    ]
    default_ticket = str(open_tickets[0].id) if open_tickets else NEW_TICKET
    forms = {}
    for name in ("activation", "password_reset", "vote_code", "challenge"):
        form = SimpleNamespace(errors={})
        form.csrf_token = Field(name, "csrf_token", "CSRF Token", "hidden", data=token)
        form.ticket = Field(name, "ticket", "Ticket", "select", default_ticket, tickets, True)
        form.category = Field(
            name,
            "category",
            "Catégorie du nouveau ticket",
            "select",
            DEFAULT_CATEGORY[name],
            labels["category_choices"],
        )
        form.channel = Field(
            name, "channel", "Canal de contact", "select", "telephone", labels["channel_choices"]
        )
        if name == "challenge":
            form.answer = Field(
                name,
                "answer",
                "Réponse au défi donnée par l'électeur",
                "password",
                required=True,
                autocomplete="off",
            )
        else:
            form.address = Field(
                name,
                "address",
                "Adresse de la liste électorale où envoyer le lien",
                "radio",
                addresses[0].value if addresses else None,
                addresses,
                True,
            )
        forms[name] = form
    return forms


def _from_csudesk() -> SimpleNamespace:
    """Configuration read once at start: URL rules, calendar, labels, filters, folders."""
    from csudesk import create_app as csudesk_app
    from csudesk.access.models import KIND_LABELS, OUTCOME_LABELS
    from csudesk.agents.models import ROLE_LABELS
    from csudesk.elections.calendar import election
    from csudesk.filters import csu_short_name, error_title, paris_time, plural
    from csudesk.links.models import LINK_PURPOSE_LABELS, LINK_STATE_LABELS
    from csudesk.mail.models import MAIL_STATUS_LABELS
    from csudesk.roll.models import NOTICE_DELIVERY_LABELS
    from csudesk.tickets.models import CATEGORY_LABELS, CHANNEL_LABELS, STATUS_LABELS

    app = csudesk_app()
    with app.app_context():
        calendar = election()
    choice = SimpleNamespace
    return SimpleNamespace(
        rules=[(r.rule, r.endpoint) for r in app.url_map.iter_rules() if r.endpoint != "static"],
        config=app.config,
        election=calendar,
        dsfr_available=app.extensions["dsfr_available"],
        static_folder=app.static_folder,
        template_folder=os.path.join(app.root_path, app.template_folder),
        filters={
            "paris": paris_time,
            "pluriel": plural,
            "csu_court": csu_short_name,
            "error_title": error_title,
        },
        labels={
            "role": {str(k): v for k, v in ROLE_LABELS.items()},
            "delivery": {str(k): v for k, v in NOTICE_DELIVERY_LABELS.items()},
            "purpose": {str(k): v for k, v in LINK_PURPOSE_LABELS.items()},
            "link_state": {str(k): v for k, v in LINK_STATE_LABELS.items()},
            "mail": {str(k): v for k, v in MAIL_STATUS_LABELS.items()},
            "category": {str(k): v for k, v in CATEGORY_LABELS.items()},
            "channel": {str(k): v for k, v in CHANNEL_LABELS.items()},
            "status": {str(k): v for k, v in STATUS_LABELS.items()},
            "kind": {str(k): v for k, v in KIND_LABELS.items()},
            "outcome": {str(k): v for k, v in OUTCOME_LABELS.items()},
            "category_choices": [choice(value=str(k), label=v) for k, v in CATEGORY_LABELS.items()],
            "channel_choices": [
                choice(value=str(k), label=v)
                for k, v in CHANNEL_LABELS.items()
                if k != "formulaire"
            ],
        },
    )
