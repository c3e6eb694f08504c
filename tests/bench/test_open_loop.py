"""The open-loop generator against a small threaded HTTP/1.1 server that records each request.

No timing is asserted: only counts, and inequalities that follow from the schedule itself
(request k is due k / rate after the first, and on one connection it cannot be answered
before the one ahead of it).
"""

import asyncio
import math
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.harness import free_port
from bench.open_loop import fixed_rate, percentile, read_response

STALL = 0.2
RATE = 200


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as long as every answer has a length
    # The head and the body go in two writes: without this, the body waits for a delayed ACK.
    disable_nagle_algorithm = True

    def do_GET(self):
        server = self.server
        with server.lock:
            server.seen.append((self.path, self.headers.get("Cookie")))
            first_slow = self.path == "/slow" and not server.stalled
            server.stalled |= first_slow
        if first_slow:
            time.sleep(STALL)
        if self.path == "/chunked":
            self._chunked()
        else:
            self._plain(500 if self.path == "/error" else 200)

    def _plain(self, status: int) -> None:
        body = b"<p>ok</p>"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")  # as gunicorn's sync workers answer
        self.end_headers()
        self.wfile.write(body)

    def _chunked(self) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n")

    def log_message(self, format, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.lock = threading.Lock()
    httpd.seen = []
    httpd.stalled = False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def in_a_thread(coroutine):
    """asyncio.run where no loop runs: the test process may hold Playwright's, running."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def test_every_scheduled_request_is_sent_with_its_headers(server):
    paths = ["/a", "/b", "/c"]
    load = fixed_rate(server.url, paths, RATE, 1, headers={"Cookie": "s=1"}, warmup=0.25)
    assert (load.sent, load.completed, load.errors) == (RATE, RATE, 0)
    assert None not in load.latencies and len(load.latencies) == RATE
    assert 1 <= load.connections <= 64
    assert load.p50 <= load.p99 <= load.max_latency
    # The warm-up's 50 requests went out too, first; the paths cycle from the first request.
    warm = RATE // 4
    expected = [paths[i % len(paths)] for i in range(warm + RATE)]
    assert Counter(path for path, _ in server.seen) == Counter(expected)
    assert {cookie for _, cookie in server.seen} == {"s=1"}


def test_it_runs_where_an_event_loop_is_already_running(server):
    # As in the test process once Playwright's sync API has started its loop.
    async def caller():
        return fixed_rate(server.url, ["/a"], RATE, 0.25, warmup=0)

    load = in_a_thread(caller())
    assert (load.sent, load.completed, load.errors) == (RATE // 4, RATE // 4, 0)


def test_one_connection_takes_the_paths_in_order_and_counts_a_500(server):
    paths = ["/ok", "/chunked", "/error"]
    load = fixed_rate(server.url, paths, RATE, 0.5, max_connections=1, warmup=0)
    assert [path for path, _ in server.seen] == [paths[i % 3] for i in range(100)]
    # The chunked answers were read to their end: the next answer on the same connection
    # parsed, and no connection had to be opened again.
    assert (load.sent, load.completed, load.connections) == (100, 100, 1)
    assert load.errors == len(range(2, 100, 3))


def test_latency_runs_from_the_schedule_through_a_stall(server):
    load = fixed_rate(server.url, ["/slow", "/ok"], RATE, 0.5, max_connections=1, warmup=0)
    assert (load.completed, load.errors, load.connections) == (100, 0, 1)
    # Request 0 was answered STALL after it was due at the earliest, and request k, due
    # k / RATE later, waited for it on the one connection: its latency covers the rest.
    queued = [k for k in range(load.sent) if k / RATE < STALL]
    assert len(queued) == STALL * RATE
    for k in queued:
        assert load.latencies[k] >= STALL - k / RATE - 1e-6
    assert load.max_latency >= STALL


def test_a_connection_the_server_closes_is_opened_again(server):
    load = fixed_rate(server.url, ["/close"], RATE, 0.1, max_connections=1, warmup=0)
    assert (load.sent, load.completed, load.errors, load.connections) == (20, 20, 0, 20)


def test_no_server_is_all_errors():
    load = fixed_rate(f"http://127.0.0.1:{free_port()}", ["/"], 50, 0.2, warmup=0)
    assert (load.sent, load.completed, load.errors) == (10, 0, 10)
    assert math.isnan(load.p99) and set(load.latencies) == {None}


def _parse(data: bytes, answers: int) -> list[tuple[int, bytes, bool]]:
    async def run():
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return [await read_response(reader) for _ in range(answers)]

    return in_a_thread(run())


def test_read_response_reads_each_framing():
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
        b"HTTP/1.1 500 Oops\r\ncontent-length: 4\r\nConnection: close\r\n\r\nfail"
        b"HTTP/1.0 200 OK\r\n\r\nto the end"
    )
    assert _parse(data, 4) == [
        (200, b"abcde", True),
        (304, b"", True),
        (500, b"fail", False),
        (200, b"to the end", False),
    ]


def test_percentile_is_exported():
    assert percentile([0.3, 0.1, 0.2], 50) == 0.2
