"""The README's two commands in either order, again and again: a bootstrap that finds a running daemon (started
by an earlier bootstrap, as ./scripts/test.sh started the one these tests use) finishes at once, and the daemon
the bootstrap started keeps none of its descriptors (it once kept the bootstrap's lock, and every later
bootstrap waited forever on it)."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.support.ansible_runner import REPO_ROOT

PIDFILE = "/var/run/dokku-ps-dockerd.pid"
LOCK = os.path.join(REPO_ROOT, ".build", "bootstrap.lock")
# a bootstrap with everything in place checks each step and builds nothing: seconds, not minutes
BOUND = 120


def _open_files(pid):
    """The paths the descriptors of process ``pid`` point to."""
    found = []
    directory = "/proc/%d/fd" % pid
    for fd in os.listdir(directory):
        try:
            found.append(os.readlink(os.path.join(directory, fd)))
        except OSError:
            continue  # closed meanwhile
    return found


def test_a_second_bootstrap_does_not_wait_on_the_first_ones_daemon():
    started = time.monotonic()
    try:
        done = subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "bootstrap.sh")], cwd=REPO_ROOT, check=False,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=BOUND)
    except subprocess.TimeoutExpired as exc:
        pytest.fail("a bootstrap did not finish within %d s (a process holding its lock?): %s"
                    % (BOUND, (exc.stdout or b"")[-2000:]))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "daemon answers" in done.stdout
    elapsed = time.monotonic() - started
    assert elapsed < BOUND


def test_the_daemon_a_bootstrap_started_holds_none_of_its_descriptors():
    """The daemon ./scripts/test.sh's bootstrap started for this run, when it started one (CI always does: a
    fresh machine has none). Its descriptors are its own: sockets, its log, its files under /var/lib/docker."""
    if not os.path.exists(PIDFILE):
        pytest.skip("the daemon was not started by scripts/ensure-docker.sh (the host's own); the bound of the "
                    "other test still holds")
    with open(PIDFILE) as handle:
        pid = int(handle.read().strip())
    with open("/proc/%d/comm" % pid) as handle:
        assert handle.read().strip() == "dockerd"
    files = _open_files(pid)
    assert files, "no descriptors read from /proc/%d/fd" % pid
    assert LOCK not in files and not any(path.startswith(REPO_ROOT + "/") for path in files), files
