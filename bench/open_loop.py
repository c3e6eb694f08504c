"""Open-loop load: HTTP requests at a fixed offered rate, latency from each one's schedule.

wrk is a closed loop: each of its 8 connections sends its next request only when the last
one is answered. At saturation its latency is mostly the time a request waits in the
server's queue, and when the server stalls wrk simply stops sending, so the requests a
user would have sent during the stall are never measured (coordinated omission). A
latency target at a realistic load ("p99 at half the measured maximum") needs the other
kind of load: requests that arrive on a clock, whether or not the server keeps up.

`fixed_rate` sends request i at start + i / rate, cycling through the paths in order, and
measures its latency from that scheduled time, not from the moment it actually left: a
request held back behind a stall (no free connection, a server busy with the one before)
counts its wait. Connections are keep-alive and reused; a new one is opened when every open
one is busy, up to `max_connections`, and beyond that a request waits for one, in schedule
order. The client is a minimal HTTP/1.1 over `asyncio.open_connection` (Content-Length,
chunked, or a body to the end of the connection), so that the generator stays cheap in CPU
beside the server it shares the machine with. `late` counts the requests the generator
itself put out more than LATE_SECONDS behind their schedule: when it is not small, the
figure is the generator's and not the server's.

Its CPU (`cpu_seconds`, time.process_time) on the 2-core bench VM, against gunicorn's sync
workers (a new connection per request, as they close each one): about 0.8 s per 1000
requests at 100/s and 0.6 s at 300/s, held with no error and under 1 % late. Most of it is
the cost of waking from a timer on this VM (a bare asyncio.sleep wake-up costs ~0.1 ms of
CPU there), so it falls per request as the rate rises; keep-alive halves it.
"""

import asyncio
import math
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench.harness import percentile

__all__ = ["LATE_SECONDS", "OpenLoad", "fixed_rate", "percentile", "read_response"]

LATE_SECONDS = 0.005
TIMEOUT_SECONDS = 10.0  # wrk's --timeout in bench.http, here counted from the schedule
_NO_BODY = frozenset({204, 304})


@dataclass(frozen=True)
class OpenLoad:
    rate: float  # offered, requests per second
    seconds: float  # the measured window, warm-up excluded
    sent: int  # requests scheduled in the window: round(rate * seconds)
    completed: int  # full answers, whatever their status
    errors: int  # non-2xx/3xx answers, socket errors, timeouts, no answer by the end
    achieved: float  # completed per second, from the window's start to the last answer
    p50: float  # seconds, over the completed requests (nan if none)
    p99: float
    max_latency: float
    late: int  # sent more than LATE_SECONDS behind schedule by the generator itself
    connections: int  # opened over the whole run, warm-up included
    cpu_seconds: float  # the generator's process CPU over the measured window
    # Per request of the window, in schedule order: seconds from its scheduled send time to
    # its answer, None when there was no answer.
    latencies: tuple[float | None, ...] = field(repr=False)

    @property
    def cpu_per_1000(self) -> float:
        """The generator's CPU seconds per 1000 requests sent."""
        return self.cpu_seconds / self.sent * 1000


@dataclass(frozen=True)
class _Target:
    host: str
    port: int
    host_header: str
    prefix: str

    @classmethod
    def parse(cls, base_url: str) -> "_Target":
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"an http:// URL with a host is needed, not {base_url!r}")
        return cls(parts.hostname, parts.port or 80, parts.netloc, parts.path.rstrip("/"))


def _request_bytes(target: _Target, path: str, headers: dict[str, str]) -> bytes:
    """A GET as wrk sends it: Host, the given headers, no body (encoded once, up front)."""
    lines = [f"GET {target.prefix}{path} HTTP/1.1", f"Host: {target.host_header}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    # UTF-8, as wrk sends its Lua strings: the same URLs give the same bytes.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, str, dict[str, str]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head.split("\r\n")
    version, status = status_line.split(" ", 2)[:2]
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        if value:
            headers[name.strip().lower()] = value.strip()
    return int(status), version, headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)  # chunk extensions are ignored
        if size == 0:
            break
        chunks.append((await reader.readexactly(size + 2))[:-2])
    while await reader.readuntil(b"\r\n") != b"\r\n":
        pass  # trailer fields, up to the empty line
    return b"".join(chunks)


def _keeps_alive(version: str, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 answer to a GET: status, body, and whether the connection stays open."""
    status, version, headers = await _read_head(reader)
    while 100 <= status < 200:  # informational answers precede the real one
        status, version, headers = await _read_head(reader)
    keep_alive = _keeps_alive(version, headers)
    if status in _NO_BODY:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body, keep_alive = await reader.read(), False  # the body ends with the connection
    return status, body, keep_alive


class _Connection:
    """One keep-alive connection, opened when a request needs it and again after a close."""

    def __init__(self, target: _Target):
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.target.host, self.target.port)
        self.opened += 1

    async def _exchange(self, request: bytes) -> tuple[int, bool]:
        self.writer.write(request)
        status, _, keep_alive = await read_response(self.reader)
        return status, keep_alive

    async def send(self, request: bytes) -> int:
        """The status of the answer to `request`."""
        reused = self.writer is not None
        if not reused:
            await self._open()
        try:
            status, keep_alive = await self._exchange(request)
        except (asyncio.IncompleteReadError, ConnectionResetError) as error:
            # A server may close an idle keep-alive connection as the request goes out:
            # nothing of an answer came, so try once on a new connection, as wrk does.
            partial = getattr(error, "partial", b"")
            if not reused or partial:
                raise
            self.close()
            await self._open()
            status, keep_alive = await self._exchange(request)
        if not keep_alive:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class _Tally:
    """What the measured requests got; the warm-up's (negative slots) are not kept."""

    def __init__(self, total: int, start: float):
        self.latencies: list[float | None] = [None] * total
        self.start = start
        self.completed = 0
        self.bad_status = 0
        self.last_answer = start

    def record(self, slot: int, status: int | None, now: float, due: float) -> None:
        if slot < 0 or status is None:
            return
        self.latencies[slot] = now - due
        self.completed += 1
        self.last_answer = max(self.last_answer, now)
        if not 200 <= status < 400:
            self.bad_status += 1


_FAILURES = (OSError, EOFError, asyncio.LimitOverrunError, ValueError)  # TimeoutError is OSError


class _Pool:
    """Requests wait in a FIFO queue; one worker per connection takes them in schedule order."""

    def __init__(
        self, target: _Target, requests: list[bytes], max_connections: int, timeout: float
    ):
        self.target = target
        self.requests = requests
        self.max_connections = max_connections
        self.timeout = timeout
        self.queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
        self.idle = 0
        self.workers: list[asyncio.Task] = []
        self.connections: list[_Connection] = []
        self.tally = _Tally(0, 0.0)
        self.skipped = 0
        self.cpu_start = 0.0

    def submit(self, index: int, due: float) -> None:
        self.queue.put_nowait((index, due))
        # More requests waiting than idle workers: every connection is busy, open another.
        if self.queue.qsize() > self.idle and len(self.workers) < self.max_connections:
            self.workers.append(asyncio.create_task(self._work()))

    async def _work(self) -> None:
        connection = _Connection(self.target)
        self.connections.append(connection)
        try:
            while True:
                self.idle += 1
                index, due = await self.queue.get()
                self.idle -= 1
                await self._one(connection, index, due)
                self.queue.task_done()
        finally:
            connection.close()

    async def _one(self, connection: _Connection, index: int, due: float) -> None:
        request = self.requests[index % len(self.requests)]
        try:
            # The timeout runs from the schedule too: a request queued past it fails at once.
            async with asyncio.timeout_at(due + self.timeout):
                status = await connection.send(request)
        except _FAILURES:
            connection.close()  # in an unknown state after a failure
            status = None
        now = asyncio.get_running_loop().time()
        self.tally.record(index - self.skipped, status, now, due)

    async def drain(self, deadline: float) -> None:
        """Wait for the answers (every request has failed by its deadline), stop the workers."""
        try:
            async with asyncio.timeout_at(deadline):
                await self.queue.join()
        except TimeoutError:
            pass  # what is still out counts as no answer
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)


async def _schedule(pool: _Pool, start: float, interval: float, count: int) -> int:
    """Submit `count` requests at start + i * interval; how many of the measured went out late."""
    loop = asyncio.get_running_loop()
    late = 0
    for index in range(count):
        due = start + index * interval
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if index == pool.skipped:
            pool.tally.start = pool.tally.last_answer = due
            pool.cpu_start = time.process_time()
        if index >= pool.skipped and loop.time() - due > LATE_SECONDS:
            late += 1
        pool.submit(index, due)
    return late


def _summary(pool: _Pool, rate: float, seconds: float, late: int, cpu: float) -> OpenLoad:
    tally = pool.tally
    answered = [latency for latency in tally.latencies if latency is not None]
    sent = len(tally.latencies)

    def pct(q: float) -> float:
        return percentile(answered, q) if answered else math.nan

    return OpenLoad(
        rate=rate,
        seconds=seconds,
        sent=sent,
        completed=tally.completed,
        errors=tally.bad_status + sent - tally.completed,
        achieved=tally.completed / max(seconds, tally.last_answer - tally.start),
        p50=pct(50),
        p99=pct(99),
        max_latency=max(answered, default=math.nan),
        late=late,
        connections=sum(connection.opened for connection in pool.connections),
        cpu_seconds=cpu,
        latencies=tuple(tally.latencies),
    )


async def _run(pool: _Pool, rate: float, seconds: float, warmup: float) -> OpenLoad:
    loop = asyncio.get_running_loop()
    interval = 1 / rate
    pool.skipped = round(rate * warmup)
    pool.tally = _Tally(round(rate * seconds), 0.0)
    count = pool.skipped + len(pool.tally.latencies)
    start = loop.time()
    late = await _schedule(pool, start, interval, count)
    await pool.drain(start + (count - 1) * interval + pool.timeout + 1)
    cpu = time.process_time() - pool.cpu_start
    return _summary(pool, rate, seconds, late, cpu)


def fixed_rate(
    base_url: str,
    paths: Sequence[str],
    rate: float,
    seconds: float,
    *,
    headers: dict[str, str] | None = None,
    max_connections: int = 64,
    warmup: float = 1.0,
    timeout: float = TIMEOUT_SECONDS,
) -> OpenLoad:
    """GET `paths` in turn at `rate` per second for `seconds`, after `warmup` seconds of the
    same load that are not counted; `headers` go with every request.

    `cpu_seconds` is time.process_time over the measured window: run it in a process that
    does nothing else meanwhile (the bench's own, beside gunicorn's), or it counts that too.
    """
    if not paths or rate <= 0 or max_connections < 1 or round(rate * seconds) < 1:
        raise ValueError("need paths, a positive rate, a connection and one request at least")
    target = _Target.parse(base_url)
    requests = [_request_bytes(target, path, headers or {}) for path in paths]
    pool = _Pool(target, requests, max_connections, timeout)
    # A loop of its own in a thread of its own: the caller's thread may run one already
    # (Playwright's sync API keeps one running in the test process).
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, _run(pool, rate, seconds, warmup)).result()
