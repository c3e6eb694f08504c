"""A minimal browser for tests against served app processes (tests.fixtures.appserver).

It keeps the session cookie, follows no redirect, and can be copied to play the same browser
from several threads at once (a double click) or saved and replayed (a stolen cookie).
"""

import http.client
import threading
import urllib.parse
from dataclasses import dataclass, field

COOKIE = "csudesk_session"


@dataclass
class Answer:
    status: int
    location: str | None
    text: str


@dataclass
class Browser:
    cookie: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request(
        self, base_url: str, method: str, path: str, data: dict | None = None, headers=None
    ) -> Answer:
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(base_url).netloc, timeout=60)
        sent = dict(headers or {})
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        with self._lock:
            if self.cookie:
                sent["Cookie"] = f"{COOKIE}={self.cookie}"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith(f"{COOKIE}="):
                    with self._lock:
                        self.cookie = value.split(";", 1)[0].split("=", 1)[1] or None
            return Answer(response.status, response.getheader("Location"), text)
        finally:
            connection.close()

    def get(self, base_url: str, path: str, **kwargs) -> Answer:
        return self.request(base_url, "GET", path, **kwargs)

    def post(self, base_url: str, path: str, data: dict, **kwargs) -> Answer:
        return self.request(base_url, "POST", path, data, **kwargs)


def at_once(calls: list) -> list:
    """Run the calls in threads released together; their results, in call order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # reported to the test below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results
