"""Default configuration; instance/config.py, CSUDESK_* variables and test_config override it."""

from datetime import timedelta

# Required outside debug and testing: create_app refuses to start without a real one.
SECRET_KEY = None

# SQLite file in the instance folder unless overridden (set by create_app when left empty).
SQLALCHEMY_DATABASE_URI = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {}

# Public base URL used to build the links sent by mail (never the request's Host header).
BASE_URL = "http://127.0.0.1:5000"

# Election calendar, Paris time: the 2026 round. The vote runs by internet from Thursday 3 to
# Thursday 10 December 2026 (arrêté of 2 July 2025). The hours and the portal's opening are set
# by the organising circular: this default assumes the 2022 round's pattern, portal open seven
# weeks before the vote (Thursday 15 October 2026, 09:00), vote from 09:00 on the first day to
# 17:00 on the last. Write the circular's values in instance/config.py if they differ.
ELECTION = {
    "name": "Élections professionnelles 2026",
    "portal_opens": "2026-10-15T09:00",
    "vote_opens": "2026-12-03T09:00",
    "vote_closes": "2026-12-10T17:00",
}

# Legal notice, personal-data page and accessibility declaration (/mentions-legales,
# /donnees-personnelles, /accessibilite): who publishes the site and controls the data, and whom
# to write to. Every deployment writes its own values in instance/config.py; keys left out keep
# these defaults (the addresses under .example are placeholders).
LEGAL = {
    # Éditeur du site and responsable de traitement (GDPR controller).
    "publisher": "Ministère de l'Éducation nationale",
    "publisher_unit": "Direction générale des ressources humaines (DGRH)",
    "publisher_address": "110 rue de Grenelle, 75357 Paris SP 07",
    "publication_director": "La directrice ou le directeur général des ressources humaines",
    "controller": "Ministère de l'Éducation nationale — direction générale des ressources humaines",
    # Délégué à la protection des données: where voters exercise their rights.
    "dpo_email": "dpd@education.example",
    "dpo_address": "Délégué à la protection des données, 110 rue de Grenelle, 75357 Paris SP 07",
    # Hébergeur (name, address, phone).
    "host": "Hébergeur à préciser par l'exploitant (LEGAL['host'] dans instance/config.py)",
    "host_address": "",
    # Reporting an accessibility barrier.
    "accessibility_email": "accessibilite-elections@education.example",
    # How long tickets and their messages are kept after the vote closes (the audit trail is
    # kept two years, R211-580, whatever this says).
    "tickets_retention": "jusqu'à l'expiration des délais de recours contentieux contre le scrutin",
}

# One-time links: lifetime counted from the moment the mail is handed to the SMTP server.
LINK_TTL_HOURS = {
    "activation": 72,
    "password_reset": 24,
    "vote_code": 2,
    "agent_password": 24,
}
# Per voter, all purposes together, sliding hour.
LINKS_PER_VOTER_PER_HOUR = 5
# A second identical request inside this window returns the first link (double click).
LINK_DEDUP_SECONDS = 60
# Wrong challenge ("défi") answers in a row before each further check has to wait: the first
# wait is CHALLENGE_FIRST_DELAY_MINUTES, doubling with each wrong answer up to
# CHALLENGE_LOCK_MINUTES. The public form and the desk count apart.
CHALLENGE_MAX_ATTEMPTS = 3
CHALLENGE_FIRST_DELAY_MINUTES = 1
CHALLENGE_LOCK_MINUTES = 30
# A correct check at the desk allows one vote-code link within this time.
CHALLENGE_PROOF_MINUTES = 15
# The ticket page and the voter file name the other agents who opened them this recently.
RECENT_VIEW_MINUTES = 10

# Mail (Flask-Mail) and the outbox sender.
MAIL_SERVER = "127.0.0.1"
MAIL_PORT = 8025
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_DEFAULT_SENDER = ("Élections professionnelles — assistance", "ne-pas-repondre@csudesk.example")
MAIL_TIMEOUT_SECONDS = 10
# Flask-Mail suppresses sending under TESTING; csudesk's tests deliver to a real SMTP server.
MAIL_SUPPRESS_SEND = False
OUTBOX_MAX_ATTEMPTS = 8
OUTBOX_BATCH = 50
# A mail left "sending" longer than this (a crashed sender) is marked uncertain, never resent.
OUTBOX_LEASE_SECONDS = 300

# Bounces (csudesk/conversation/bounces.py): when set, each mail leaves with the envelope
# sender "<local>+<outbox id>-<mac>@<domain>" of this address (VERP, csudesk/mail/verp.py),
# and the delivery-status notifications that come back there mark the mail "rejetée". The
# server must deliver "<local>+...@" into a mailbox `flask mail fetch` reads. None: the From
# address is the envelope sender and bounces are matched by the returned Message-ID only.
MAIL_BOUNCE_ADDRESS = None

# Sessions and sign-in (SECURITY.md 10, 11, 16).
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "csudesk_session"
PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE_MINUTES = 30
SESSION_ABSOLUTE_HOURS = 12
REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
WTF_CSRF_TIME_LIMIT = 12 * 3600
# Forms derive from csudesk.forms.Form, whose WTForms messages are French (no Flask-Babel).
WTF_I18N_ENABLED = False

# Rate limits (Flask-Limiter). memory:// is per process: production sets a shared redis:// URI.
RATELIMIT_STORAGE_URI = "memory://"
# If the shared storage is down, keep limiting in each process rather than failing requests;
# csudesk logs a warning and shows it on the supervision dashboard (csudesk/ratelimits.py).
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
# A Redis that does not answer must not hold a request for long (redis-py waits minutes).
RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
# While it is down, csudesk asks it again at most this often (seconds).
RATELIMIT_RECHECK_SECONDS = 5
RATELIMIT_HEADERS_ENABLED = False
# Sign-in (csudesk/auth/throttle.py): failed sign-ins per client address (successes do not
# count: a rectorate's agents share one address), and per account progressive delays for the
# clients that failed on it, never a lock-out of the account.
RATELIMIT_LOGIN = "30 per 15 minutes"
RATELIMIT_LOGIN_FREE_FAILURES = 3
RATELIMIT_LOGIN_MAX_DELAY_SECONDS = 300
RATELIMIT_LOGIN_FAILURE_WINDOW_SECONDS = 3600
# Public forms: strict per typed address; per client IP sized for a school or a rectorate
# behind one NAT address (thousands of voters, one address) during the vote week.
RATELIMIT_PUBLIC_PER_ADDRESS = "5 per hour"
RATELIMIT_PUBLIC_PER_IP = "3000 per hour;300 per minute"
# Establishment searches (GET, "Trouver ma CSU" and the contact form's search), per client IP.
RATELIMIT_SEARCH = "600 per minute"
# Keys in a shared Redis start with this (another app on the same Redis uses another prefix).
RATELIMIT_KEY_PREFIX = "csudesk"
# The contact form refuses a message sent sooner than this after the page was shown (bots).
CONTACT_MIN_FILL_SECONDS = 3
# Largest request body (the longest form, a contact message, is under 50 KB): 413 above.
MAX_CONTENT_LENGTH = 256 * 1024
# Number of trusted reverse proxies in front of the app (X-Forwarded-For hops); 0 = none.
TRUSTED_PROXIES = 0

# Audit chain key; derived from SECRET_KEY when not set.
AUDIT_HMAC_KEY = None
# Signed heads of the chain, appended by `flask --app csudesk audit anchor --watch` and read by
# `audit verify`: a file outside the database (default: instance/audit-anchors.log; in
# production on another volume, append-only), and syslog when set ("/dev/log" or "host:514").
AUDIT_ANCHOR_PATH = None
AUDIT_ANCHOR_SYSLOG = None
# "inline": each request seals the entry it writes, under the chain's lock (one machine, or
# SQLite). "sealer": requests only insert their entries and one `flask --app csudesk audit seal
# --watch` chains them within seconds (several app processes on PostgreSQL: the requests no
# longer queue on the lock; README "Audit trail"). `audit verify` reports an entry left
# unsealed longer than AUDIT_SEAL_MAX_DELAY seconds.
AUDIT_SEALING = "inline"
AUDIT_SEAL_MAX_DELAY = 60

# Pagination
PAGE_SIZE = 50

# Supervision alerts (shown with their rule on the dashboard).
ALERT_VOTE_CODE_REISSUES = 3  # reissues of one voter's vote code since the portal opened
ALERT_AGENT_FACTOR = 3  # an agent's sensitive actions >= this times the median of all agents
ALERT_AGENT_MIN_ACTIONS = 30  # ... and at least this many in the period

# CSU mailboxes read by `flask --app csudesk mail fetch [--watch]` (csudesk/conversation/
# mailboxes.py checks them when the command starts). One entry per mailbox, by name (usually its
# CSU's code); the fetcher only reads (EXAMINE, BODY.PEEK): nothing is deleted or flagged.
#   IMAP:    {"csu": "AC-09", "host": "imap.ac-lille.example", "port": 993,
#             "security": "tls" | "starttls" | "plain", "username": "csu-elections",
#             "password_env": "CSUDESK_MAILBOX_AC_09_PASSWORD", "folder": "INBOX"}
#   Maildir: {"csu": "AC-09", "maildir": "demo-mailbox-AC-09"}  (relative to the instance
#             folder; make run's demo)
# The password is never stored in the database: it is read from the environment variable
# named by "password_env", or given as "password" in instance/config.py, a file on the
# server (readable by csudesk's user only). "plain" (no TLS) is refused unless the host is a
# loopback address or the entry says "allow_plain": True; "ca_file" names a CA bundle for a
# server whose certificate a private authority signed.
CSU_MAILBOXES: dict = {}
# A message larger than this is not read: it is recorded "mis de côté" with its headers and
# its size (a 10 MB attachment, about 13.5 MB once encoded, still comes in).
INBOUND_MAX_BYTES = 25 * 1024 * 1024
# Messages read per IMAP FETCH (a batch also stops at INBOUND_MAX_BYTES of content).
INBOUND_FETCH_BATCH = 50
# Seconds an IMAP server may take to answer before the mailbox is given up for this pass.
INBOUND_TIMEOUT_SECONDS = 30
