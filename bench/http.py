"""Load over loopback: the app under gunicorn (2 workers), driven by wrk (8 connections).

Every HTTP figure runs the measured app and its anchor in the same set-up: same gunicorn
options, same wrk options, same URLs drawn from the same list, one after the other.
"""

import http.cookiejar
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT, free_port, require_tool

WORKERS = 2
CONNECTIONS = 8
WRK_THREADS = 2
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its base URL and its master process."""

    url: str
    pid: int

    def worker_pids(self) -> list[int]:
        """The master's children (the workers), from /proc."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        return [int(pid) for pid in children.split()]


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def reset_peak_rss(pid: int) -> None:
    """Start a process's VmHWM again from its current RSS (Linux clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@contextmanager
def gunicorn(
    app_spec: str, env: dict[str, str], work: Path, workers: int = WORKERS
) -> Iterator[Server]:
    """Serve `app_spec` on a free loopback port with `workers` processes; yields the server."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with open(work / "gunicorn.log", "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--config",
                "python:csudesk.gunicorn_conf",
                "--access-logfile",
                str(work / "access.log"),
                app_spec,
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    try:
        _wait_for_port(port, process)
        yield Server(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode} (see gunicorn.log)")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start listening in time")


class Browser:
    """Cookies and the CSRF token, as a person's browser keeps them (urllib only)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base_url + path, timeout=30) as response:
            return response.status, response.read().decode("utf-8")

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        """POST a form with the CSRF token of the page it is on."""
        _, page = self.get(path)
        token = _CSRF.search(page)
        data = {**fields, **({"csrf_token": token.group(1)} if token else {})}
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base_url + path, data=body, timeout=30) as response:
            return response.status, response.read().decode("utf-8")

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    per_second: float
    p50: float
    p99: float
    errors: int  # non-2xx/3xx answers, socket errors and timeouts


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _duration(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lua_table(headers: dict[str, str]) -> str:
    pairs = (f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    return "{" + ",".join(pairs) + "}"


def wrk(
    base_url: str,
    paths: Sequence[str],
    seconds: float,
    work: Path,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    bodies: Sequence[str] | None = None,
    request_headers: Sequence[dict[str, str]] | None = None,
) -> Load:
    """wrk on loopback for `seconds`, cycling through `paths`.

    `bodies` and `request_headers`, when given, go with the path of the same index (a POST's
    form, a visitor's cookie); `headers` go with every request.
    """
    for extra in (bodies, request_headers):
        if extra is not None and len(extra) != len(paths):
            raise ValueError("bodies and request_headers need one entry per path")
    executable = require_tool("wrk")
    work.mkdir(parents=True, exist_ok=True)
    common = headers or {}
    per_request = [{**common, **h} for h in request_headers] if request_headers else [common]
    script = work / "requests.lua"
    script.write_text(
        "\n".join(
            [
                "local paths = {" + ",".join(map(_lua_string, paths)) + "}",
                "local bodies = {" + ",".join(map(_lua_string, bodies or [])) + "}",
                "local headers = {" + ",".join(map(_lua_table, per_request)) + "}",
                # Each thread takes every WRK_THREADS-th entry: no two send the same one at once.
                "local threads = 0",
                "setup = function(thread)",
                '  thread:set("thread_index", threads)',
                "  threads = threads + 1",
                "end",
                "local i = nil",
                "request = function()",
                f"  i = (i or thread_index) + {WRK_THREADS}",
                "  local n = (i % #paths) + 1",
                f"  local h = headers[{'n' if request_headers else '1'}]",
                f'  return wrk.format("{method}", paths[n], h, bodies[n])',
                "end",
            ]
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            executable,
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            base_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    (work / "wrk.txt").write_text(out, encoding="utf-8")
    done = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Load(
        requests=int(done.group(1)),
        seconds=_duration(done.group(2)),
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50=_duration(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        p99=_duration(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        errors=errors,
    )
