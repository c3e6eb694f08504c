# csudesk — two commands for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app csudesk
DSFR_VERSION := 1.15.3
DSFR_DIR := csudesk/static/dsfr
HOST ?= 127.0.0.1
PORT ?= 5000
SMTP_PORT ?= 8025
DEMO_VOTERS ?= 20000
# Shared rate-limit storage for the app processes of make run, used when reachable.
REDIS_URL ?= redis://127.0.0.1:6379/0
# Extra arguments of python -m bench, e.g. BENCH_ARGS='--quick' or '--voters 100000'.
BENCH_ARGS ?=
# Second test run on PostgreSQL when set (.ci/run sets it to the local server).
CSUDESK_TEST_POSTGRES_URL ?=

.PHONY: help install dsfr browser wrk imap run test lint bench db clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools warns on every editable install of a flat layout (templates/, migrations/ beside
	@# the package); the warning says nothing about csudesk, so it is filtered by its text.
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed  ## Create the virtualenv and install csudesk with its dev tools

dsfr: $(DSFR_DIR)/dsfr.min.css  ## Install the DSFR (npm) into the static folder

$(DSFR_DIR)/dsfr.min.css:
	@if command -v npm >/dev/null 2>&1; then \
	  set -e; tmp=$$(mktemp -d); \
	  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$$tmp" @gouvfr/dsfr@$(DSFR_VERSION); \
	  src="$$tmp/node_modules/@gouvfr/dsfr/dist"; mkdir -p $(DSFR_DIR)/utility; \
	  cp "$$src"/dsfr.min.css "$$src"/dsfr.module.min.js "$$src"/dsfr.nomodule.min.js $(DSFR_DIR)/; \
	  cp -r "$$src"/fonts "$$src"/icons "$$src"/favicon $(DSFR_DIR)/; \
	  cp -r "$$src"/utility/icons $(DSFR_DIR)/utility/; \
	  rm -rf "$$tmp"; echo "DSFR $(DSFR_VERSION) installed in $(DSFR_DIR)"; \
	else \
	  echo "WARNING: npm not found, the DSFR styles are not installed. Pages stay usable;"; \
	  echo "         install Node.js and npm, then run 'make dsfr' to get them."; \
	fi

browser:  ## Install Debian's chromium for the browser tests (needs root or sudo)
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

imap:  ## Install Debian's Dovecot IMAP server for the mail-fetch tests and bench (needs root or sudo)
	@if [ ! -x /usr/sbin/dovecot ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dovecot-imapd >/dev/null; \
	fi

instance/config.py:
	@mkdir -p instance
	@echo "# Written by make run for the local demo; see instance/config.py.example." > $@
	@echo "SECRET_KEY = '$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')'" >> $@
	@echo "SESSION_COOKIE_SECURE = False  # served over plain http on 127.0.0.1" >> $@
	@echo "BASE_URL = 'http://$(HOST):$(PORT)'" >> $@
	@echo "MAIL_PORT = $(SMTP_PORT)" >> $@
	@echo "# The demo's vote is under way whatever the day make run starts (opened three days ago)." >> $@
	@echo "# Remove these two lines to get the configured 2026 round (csudesk/config.py)." >> $@
	@echo "from csudesk.demo.calendar import demo_election" >> $@
	@echo "ELECTION = demo_election()" >> $@
	@echo "# Two demo CSUs' mailboxes: local Maildir folders in instance/ that demo seed fills and" >> $@
	@echo "# make run's mail fetch reads; a real CSU mailbox is IMAP (CSU_MAILBOXES in csudesk/config.py)." >> $@
	@echo "CSU_MAILBOXES = {" >> $@
	@echo "    'AC-09': {'csu': 'AC-09', 'maildir': 'demo-mailbox-AC-09'}," >> $@
	@echo "    'AC-25': {'csu': 'AC-25', 'maildir': 'demo-mailbox-AC-25'}," >> $@
	@echo "}" >> $@

db: install instance/config.py  ## Migrate the database and load the demo data when empty
	$(FLASK) db upgrade
	$(FLASK) directory load
	$(FLASK) demo seed --if-empty --voters $(DEMO_VOTERS)

run: install dsfr db  ## Install, prepare the demo database, serve on http://127.0.0.1:5000
	@echo
	@echo "csudesk: http://$(HOST):$(PORT)/  (agents: http://$(HOST):$(PORT)/connexion)"
	@echo "Demo mail is printed here by a local SMTP sink on port $(SMTP_PORT); access log in instance/access.log;"
	@echo "signed heads of the audit trail every minute in instance/audit-anchors.log."
	@echo "Mail to the demo CSUs (instance/demo-mailbox-*/new) is fetched into tickets every 5 s."
	@echo "Ctrl+C stops everything."
	@trap 'kill 0' EXIT INT TERM; \
	if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 6379), 1)" 2>/dev/null; then \
	  export CSUDESK_RATELIMIT_STORAGE_URI=$(REDIS_URL); workers=2; \
	else \
	  echo "Redis is not reachable: one app process, rate limits kept in that process."; workers=1; \
	fi; \
	$(FLASK) mail sink --port $(SMTP_PORT) --maildir instance/demo-mail & \
	$(FLASK) mail send --watch & \
	$(FLASK) mail fetch --watch --every 5 & \
	$(FLASK) audit anchor --watch --every 60 & \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $$workers --config python:csudesk.gunicorn_conf \
	  --access-logfile instance/access.log wsgi:app

test: install lint dsfr browser wrk imap  ## Lint, then the whole suite on SQLite and, if configured, on PostgreSQL beside it
	@# The two passes share nothing (a SQLite file per test; the PostgreSQL database, ports and
	@# temporary folders of its own), so they run at once, one per core; PostgreSQL's report
	@# is printed when both are done. Both run in the background so that a signal reaches the
	@# trap at once (bash runs a trap only between foreground commands, or during a wait):
	@# Ctrl+C reaches both passes from the terminal, SIGTERM is passed on, and either stops
	@# them as KeyboardInterrupt does (tests/conftest.py), their fixtures' servers with them.
	@if [ -z "$(CSUDESK_TEST_POSTGRES_URL)" ]; then exec $(BIN)/python -m pytest -q; fi; \
	log=$$(mktemp -t csudesk-test-postgres.XXXXXX.log); \
	trap 'wait; rm -f "$$log"; exit 130' INT; \
	trap 'kill $$sqlite $$postgres 2>/dev/null; wait; rm -f "$$log"; exit 143' TERM; \
	echo "== on SQLite, and on PostgreSQL beside it (its log: $$log)"; \
	CSUDESK_TEST_DATABASE_URL="$(CSUDESK_TEST_POSTGRES_URL)" \
	  $(BIN)/python -m pytest -q -p no:cacheprovider > "$$log" 2>&1 & postgres=$$!; \
	$(BIN)/python -m pytest -q & sqlite=$$!; \
	wait $$sqlite; sqlite_exit=$$?; wait $$postgres; postgres_exit=$$?; \
	echo "== on PostgreSQL"; cat "$$log"; rm -f "$$log"; \
	echo "== SQLite: exit $$sqlite_exit, PostgreSQL: exit $$postgres_exit"; \
	[ $$sqlite_exit = 0 ] && [ $$postgres_exit = 0 ]

lint: install  ## ruff check and format check, then the import contracts (.importlinter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

wrk:  ## Install Debian's wrk, the HTTP load generator of the benchmarks (needs root or sudo)
	@if ! command -v wrk >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi

bench: install dsfr wrk imap  ## Run the benchmarks in bench/ (not part of make test); BENCH_ARGS=--quick for a small run
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:  ## Remove the virtualenv and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
