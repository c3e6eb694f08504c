"""A counting SMTP sink (aiosmtpd) for the outbox figure, run in its own process.

python -m bench.smtp_sink PORT     # prints "ready" once listening; stops on SIGTERM
"""

import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Counting:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def main(port: int) -> None:
    handler = Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()
        print(handler.count, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
