"""HTTP load for the proxy scenario: wrk, run for a fixed time or until an operation is over, and its output parsed.

Why wrk (Debian's package, installed by bench/setup.sh when missing) and not a Python thread pool: on these
2-CPU machines nginx, the busybox httpd of the web containers (one fork per connection) and the client share
two cores, so the client's own CPU is taken from the servers. Measured side by side through the private nginx
(web=3): wrk -t2 -c8 made 3,300-3,550 requests/s using 0.16-0.18 of a core; a pool of 8 Python threads with one
keep-alive http.client connection each made 1,400-2,400 requests/s using 0.4-0.55 of a core (4-5 times the CPU
per request, and the GIL in between), so it would measure itself as much as nginx. wrk is the same client, at
the same concurrency and for the same duration, for both targets.

Every wrk run is bounded in time twice: by its own ``-d`` and by the timeout of the wait for it.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time

THREADS = 2  # one per CPU
# 8 requests in flight keep both CPUs busy, and stay within the listen backlog of ONE web container (busybox httpd
# listens with a backlog of 9): with 16, its queue overflows now and then (ListenOverflows in the container's
# network namespace), the dropped SYN is sent again 1 s later, and that second shows as a p99 of ~0.9 s through
# nginx (whose connect to the container is part of the request) and not at all straight (wrk does not time connects)
CONNECTIONS = 8
REQUEST_TIMEOUT = "5s"  # a request slower than that counts as a timeout error (wrk's default is 2 s)

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
_RATE_UNITS = {"": 1.0, "k": 1e3, "M": 1e6}


def binary():
    return shutil.which("wrk")


def command(url, seconds, connections=CONNECTIONS, threads=THREADS, headers=()):
    """wrk's command line; ``headers`` ("Name: value") are sent with every request: ``Connection: close`` makes
    wrk open a new connection for each request (the server closes it after answering)."""
    extra = [arg for header in headers for arg in ("-H", header)]
    return [binary() or "wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % max(1, int(seconds)), "--latency",
            "--timeout", REQUEST_TIMEOUT] + extra + [url]


def _seconds(text):
    match = re.match(r"^([0-9.]+)(us|ms|s|m)$", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def parse(output):
    """wrk's report -> requests, seconds, rps, errors (connect, read, write, timeout, non2xx), failed (their sum),
    latency avg/max/p50/p90/p99 in seconds."""
    result = {"requests": None, "seconds": None, "rps": None, "connect": 0, "read": 0, "write": 0, "timeout": 0,
              "non2xx": 0, "latency": {}}
    for line in output.splitlines():
        line = line.strip()
        match = re.match(r"^(\d+) requests in ([0-9.]+)(us|ms|s|m),", line)
        if match:
            result["requests"] = int(match.group(1))
            result["seconds"] = float(match.group(2)) * _UNITS[match.group(3)]
        match = re.match(r"^Requests/sec:\s+([0-9.]+)([kM]?)$", line)
        if match:
            result["rps"] = float(match.group(1)) * _RATE_UNITS[match.group(2)]
        match = re.match(r"^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)$", line)
        if match:
            for key, value in zip(("connect", "read", "write", "timeout"), match.groups()):
                result[key] = int(value)
        match = re.match(r"^Non-2xx or 3xx responses: (\d+)$", line)
        if match:
            result["non2xx"] = int(match.group(1))
        match = re.match(r"^Latency\s+(\S+)\s+(\S+)\s+(\S+)", line)
        if match:
            result["latency"]["avg"] = _seconds(match.group(1))
            result["latency"]["max"] = _seconds(match.group(3))
        match = re.match(r"^(50|90|99)%\s+(\S+)$", line)
        if match:
            result["latency"]["p%s" % match.group(1)] = _seconds(match.group(2))
    if result["requests"] is None or result["rps"] is None:
        raise RuntimeError("wrk printed no result: %s" % output[-1500:])
    result["failed"] = sum(result[key] for key in ("connect", "read", "write", "timeout", "non2xx"))
    return result


def run(url, seconds, connections=CONNECTIONS, headers=()):
    """wrk against ``url`` for ``seconds`` (``headers``: see ``command``); the parsed result."""
    proc = subprocess.run(command(url, seconds, connections, headers=headers), capture_output=True, text=True,
                          timeout=seconds + 60, check=False)
    if proc.returncode != 0:
        raise RuntimeError("wrk failed (rc=%s): %s" % (proc.returncode, (proc.stdout + proc.stderr)[-1500:]))
    return parse(proc.stdout)


class During:
    """wrk against ``url`` while the block runs: ``with During(url, bound) as load: ...; load.result``.

    wrk starts with ``-d bound`` (it stops by itself then); leaving the block sends it SIGINT, on which wrk stops
    and prints its report as usual. It is our own child: killed by its Popen handle if it does not end."""

    def __init__(self, url, bound, connections=CONNECTIONS, settle=1.0):
        self.url = url
        self.bound = bound
        self.connections = connections
        self.settle = settle
        self.result = None
        self._proc = None

    def __enter__(self):
        # The load runs past this call: __exit__ reaps it.
        # pylint: disable-next=consider-using-with
        self._proc = subprocess.Popen(command(self.url, self.bound, self.connections), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        time.sleep(self.settle)  # connections open, load steady
        return self

    def __exit__(self, *exc_info):
        proc, self._proc = self._proc, None
        if proc.poll() is None:
            time.sleep(self.settle)
            proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate(timeout=10)
            raise RuntimeError("wrk did not stop on SIGINT within 30 s") from None
        if exc_info[0] is None:
            if proc.returncode not in (0, -signal.SIGINT):
                raise RuntimeError("wrk failed (rc=%s): %s" % (proc.returncode, (out + err)[-1500:]))
            self.result = parse(out)
