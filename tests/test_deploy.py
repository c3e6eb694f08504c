"""deploy/: the env file, the systemd units, and gunicorn serving wsgi:app behind a proxy."""

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

import csudesk.config as defaults
from csudesk import create_app
from csudesk.access.models import SelfServiceRequest
from csudesk.extensions import db
from tests.fixtures.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "csudesk.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value
    return values


def test_env_example_names_real_settings_and_loads(tmp_path, monkeypatch):
    values = env_example()
    for key in values:
        assert key.startswith("CSUDESK_")
        setting = key.removeprefix("CSUDESK_")
        assert setting == "INSTANCE_PATH" or hasattr(defaults, setting), key
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://csudesk:")
    assert app.config["TRUSTED_PROXIES"] == 1
    assert app.config["MAIL_USE_TLS"] is True and app.config["MAIL_PORT"] == 587
    assert app.config["MAIL_DEFAULT_SENDER"][1] == "ne-pas-repondre@example.gouv.fr"
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")


def exec_starts() -> dict[str, list[str]]:
    commands = {}
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text().replace("\\\n", " ")
        (line,) = [x for x in text.splitlines() if x.startswith("ExecStart=")]
        commands[unit.name] = shlex.split(line.removeprefix("ExecStart="))
        assert "EnvironmentFile=/etc/csudesk/csudesk.env" in text, unit.name
    return commands


def test_units_run_commands_that_exist(app):
    commands = exec_starts()
    gunicorn = commands.pop("csudesk.service")
    assert gunicorn[0].endswith("/gunicorn") and gunicorn[-1] == "wsgi:app"
    assert "python:csudesk.gunicorn_conf" in gunicorn
    assert int(gunicorn[gunicorn.index("--workers") + 1]) > 1  # several app processes
    assert set(commands) == {
        "csudesk-mail@.service",
        "csudesk-migrate.service",
        "csudesk-audit-verify.service",
        "csudesk-audit-anchor.service",
        "csudesk-audit-seal.service",
    }
    for unit, argv in commands.items():
        assert argv[0].endswith("/flask") and argv[1:3] == ["--app", "csudesk"], unit
        group, name = argv[3], argv[4]
        if group == "db":
            continue  # Flask-Migrate's group
        command = app.cli.commands[group].commands.get(name)
        assert command is not None, unit
        for option in (a for a in argv[5:] if a.startswith("--")):
            assert option in {o for p in command.params for o in p.opts}, (unit, option)
    assert commands["csudesk-mail@.service"][3:] == ["mail", "send", "--watch"]
    assert commands["csudesk-audit-anchor.service"][3:6] == ["audit", "anchor", "--watch"]
    assert commands["csudesk-audit-seal.service"][3:6] == ["audit", "seal", "--watch"]


def test_nginx_log_hides_tokens_like_gunicorn_does():
    """The map's pattern covers the same landing paths as csudesk.gunicorn_conf."""
    from csudesk.gunicorn_conf import _TOKEN_PATH

    conf = (DEPLOY / "nginx" / "csudesk.conf").read_text()
    pattern = re.search(r'"~\^\(\?<csudesk_prefix>(/\(.*?\)/)\)"', conf).group(1)
    assert pattern == "/(activation|mot-de-passe|code-de-vote|agent/mot-de-passe)/"
    assert _TOKEN_PATH.pattern.startswith(
        "(/(?:activation|mot-de-passe|code-de-vote|agent/mot-de-passe)/)"
    )
    log_format = conf.split("log_format csudesk")[1].split(";")[0]
    assert "$csudesk_logged_uri" in log_format
    for leak in ("$request ", "$request_uri", "$args", "$query_string", "$http_referer"):
        assert leak not in log_format, leak
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf


def get(url: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a local server
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(url: str, data: dict, **headers) -> int:
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def gunicorn(app, app_config, tmp_path):
    """make run's and csudesk.service's command: gunicorn, two workers, wsgi:app."""
    port = free_port()
    env = {
        **os.environ,
        "CSUDESK_INSTANCE_PATH": str(tmp_path),
        "CSUDESK_SECRET_KEY": "gunicorn-test-secret",
        "CSUDESK_SQLALCHEMY_DATABASE_URI": app_config["SQLALCHEMY_DATABASE_URI"],
        "CSUDESK_TRUSTED_PROXIES": "1",
        "CSUDESK_WTF_CSRF_ENABLED": "false",
        "CSUDESK_MAIL_PORT": str(app_config["MAIL_PORT"]),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind", f"127.0.0.1:{port}",
            "--workers", "2",
            "--config", "python:csudesk.gunicorn_conf",
            "--access-logfile", str(tmp_path / "access.log"),
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                get(base + "/sante")
                break
            except OSError:
                time.sleep(0.05)
        yield base, tmp_path / "access.log"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_gunicorn_serves_wsgi_app_behind_one_trusted_proxy(gunicorn, directory):
    base, access_log = gunicorn
    status, body = get(base + "/sante")
    assert status == 200
    assert json.loads(body)["database"] == "ok"
    status, page = get(base + "/accessibilite")
    assert status == 200 and "partiellement conforme" in page
    # The proxy sets X-Forwarded-For; an address the client slipped in front is not believed.
    address = {"email": "marie.dupont@ac-lille.fr"}
    assert post(base + "/lien-non-recu", address, **{"X-Forwarded-For": "203.0.113.9"}) == 303
    spoofed = {"X-Forwarded-For": "192.0.2.66, 198.51.100.23"}
    assert post(base + "/lien-non-recu", address, **spoofed) == 303
    db.session.commit()
    ips = db.session.scalars(select(SelfServiceRequest.ip).order_by(SelfServiceRequest.id)).all()
    assert ips == ["203.0.113.9", "198.51.100.23"]
    # On SQLite every transaction takes the write lock, and a landing reads its link (the
    # session keeps the link's id and MAC): the test holds no transaction while it is served.
    db.session.rollback()
    # The token of a landing never reaches gunicorn's access log.
    get(base + "/activation/secret-token-value-123")
    time.sleep(0.3)
    log = access_log.read_text()
    assert "/activation/[jeton masqué]" in log and "secret-token-value-123" not in log
