"""Run a command; write its wall time, CPU time and peak RSS (wait4) as JSON to a file.

    python -m bench.measure REPORT.json COMMAND [ARG...]

The harness launches commands through this small process rather than directly: on Linux a
child's peak RSS counts the memory of the process it was forked from (the kernel keeps the
high-water mark across exec), so measuring from the harness would add the harness's own size.
"""

import json
import os
import sys
import time


def main(report: str, command: list[str]) -> int:
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    with open(report, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "seconds": seconds,
                "peak_rss_kb": usage.ru_maxrss,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            },
            handle,
        )
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
