"""The Docker daemon goes away, or cannot be reached at all.

- A PRIVATE daemon (tests/support/daemons.py) is stopped in the middle of a scale-up of 20 containers: the
  run fails with a one-line message (no traceback), and once the daemon is back the rerun converges.
- A missing socket, a socket nobody listens on, and a socket the user may not open (the module runs as
  ``nobody`` against a root-owned 0600 socket) give plain sentences through every module.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from tests.support import daemons, faults
from tests.support.ansible_runner import COLLECTIONS_PATH, REPO_ROOT, Runner
from tests.support.bad_input import assert_refused, run_bad
from tests.support.docker_state import containers

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
MODULE_CALLS = [
    ("dokku_ps_app", {"name": "ft-x", "image": "x"}),
    ("dokku_ps_scale", {"app": "ft-x", "scale": {"web": 1}}),
    ("dokku_ps_policy", {"app": "ft-x", "restart_policy": "always"}),
    ("dokku_ps_state", {"app": "ft-x", "state": "started"}),
    ("dokku_ps_report", {}),
    ("dokku_ps_fleet", {"apps": [{"name": "ft-x", "image": "x"}]}),
]


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "faults")


def count(api, app):
    return len(api.containers(all=True, filters={"name": ["^/%s\\." % app]}))


def test_daemon_stopped_in_the_middle_of_a_run(host, tmp_path):
    app = "ft-daemon-restart"
    runner = Runner(str(tmp_path / "state"), docker_host=host.url, workdir=str(tmp_path))
    client = host.client()
    try:
        runner.modules([
            ("dokku_ps_app", {"name": app, "image": "dokku-ps-test/base:latest", "processes": PROCESSES}),
            ("dokku_ps_scale", {"app": app, "scale": {"web": 0}}),
        ])
        run = faults.RunningPlaybook(runner, [{"name": "scale", "dokku_ps.docker.dokku_ps_scale": {
            "app": app, "scale": {"web": 20}}}], str(tmp_path / "interrupted"))
        faults.wait_until(lambda: count(client.api, app) >= 3, timeout=60, interval=0.02, what="a few containers")
        host.stop()
        returncode, results, output = run.wait(timeout=120)
        host.start()
        client.close()
        client = host.client()
        assert returncode != 0, output[-2000:]
        result = results[-1]["result"]
        msg = result["msg"]
        print("failure message: %s" % msg)
        assert results[-1]["status"] == "failed"
        assert "\n" not in msg and "Traceback" not in msg and "Traceback" not in str(result.get("exception")), result
        assert "Docker daemon" in msg or "Docker API error" in msg, msg

        assert len(msg) < 1000, "the same sentence is said once, with a count: %s" % msg
        runner.module("dokku_ps_scale", {"app": app, "scale": {"web": 20}})
        found = containers(client.api, app)
        assert sorted(found) == sorted("%s.web.%d" % (app, index) for index in range(1, 21))
        assert all(data["State"]["Status"] == "running" for data in found.values())
        assert runner.module("dokku_ps_scale", {"app": app, "scale": {"web": 20}})["changed"] is False
    finally:
        for summary in client.api.containers(all=True, filters={"name": ["^/%s\\." % app]}):
            client.api.remove_container(summary["Id"], force=True)
        client.close()


def _cases(words):
    return [(module, args, words) for module, args in MODULE_CALLS]


def test_missing_socket_through_every_module(state_dir, tmp_path):
    runner = Runner(state_dir, docker_host="unix://%s/missing.sock" % tmp_path, workdir=str(tmp_path))
    cases = _cases(["the socket does not exist", "Is the Docker daemon running?"])
    assert_refused(run_bad(runner, cases), cases)
    assert not os.path.exists(state_dir), "nothing was written"


def test_socket_nobody_listens_on(state_dir, tmp_path):
    path = str(tmp_path / "dead.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.close()  # the file stays, nobody listens: connection refused
    runner = Runner(state_dir, docker_host="unix://" + path, workdir=str(tmp_path))
    cases = _cases(["connection refused", "Is the Docker daemon running?"])
    assert_refused(run_bad(runner, cases), cases)


def _readable_by_nobody(path):
    """True when every directory up to ``path`` is searchable and ``path`` readable by others."""
    path = os.path.realpath(path)
    while True:
        mode = os.stat(path).st_mode
        wanted = 0o005 if os.path.isdir(path) else 0o004
        if mode & wanted != wanted:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _interpreter_for_nobody():
    """A python of the venv's version that ``nobody`` may run (the venv's own links into /root, 0700), with
    the venv's site-packages (readable by everyone) on PYTHONPATH; None when there is none."""
    site = os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
    for candidate in ("/usr/bin/python%d.%d" % sys.version_info[:2], "/usr/local/bin/python%d.%d" % sys.version_info[:2]):
        if os.path.exists(candidate) and _readable_by_nobody(candidate) and _readable_by_nobody(site):
            return candidate, site
    return None


def test_permission_denied_on_the_socket_as_an_unprivileged_user():
    """The whole ansible-playbook runs as ``nobody`` (runuser) against a root-owned 0600 socket that listens."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to run the module as another user")
    interpreter = _interpreter_for_nobody()
    collection = os.path.realpath(os.path.join(COLLECTIONS_PATH, "ansible_collections", "dokku_ps", "docker"))
    if interpreter is None or not _readable_by_nobody(collection) or not _readable_by_nobody(REPO_ROOT):
        pytest.skip("no python/venv/collection readable by nobody (see docs/reliability.md)")
    python, site = interpreter
    nobody = pwd.getpwnam("nobody")
    # a directory nobody may use (pytest's tmp_path is 0700 root), holding a root-only socket
    work = tempfile.mkdtemp(prefix="dokku-ps-nobody-")
    try:
        os.chmod(work, 0o755)
        home = os.path.join(work, "home")
        os.mkdir(home)
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        sock_path = os.path.join(work, "docker.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(sock_path)
        server.listen(8)
        os.chmod(sock_path, 0o600)
        assert os.stat(sock_path).st_uid == 0
        runner = Runner(os.path.join(home, "state"), docker_host="unix://" + sock_path, workdir=home)
        cases = _cases(["Permission denied on the Docker socket", "become", "docker group"])
        tasks = [{"name": "case %d" % number, "dokku_ps.docker." + module: args, "ignore_errors": True}
                 for number, (module, args, _words) in enumerate(cases)]
        env = {"HOME": home, "ANSIBLE_LOCAL_TEMP": os.path.join(home, "tmp"), "PYTHONPATH": site,
               "ANSIBLE_PYTHON_INTERPRETER": python,
               "ANSIBLE_REMOTE_TEMP": os.path.join(home, "tmp"), "ANSIBLE_HOME": os.path.join(home, ".ansible")}
        run = faults.RunningPlaybook(runner, tasks, home, env=env, prefix=["runuser", "-u", "nobody", "--", python])
        returncode, results, output = run.wait(timeout=180)
        assert len(results) == len(cases), "rc=%s\n%s" % (returncode, output[-3000:])
        assert_refused(results, cases)
        assert os.stat(run.record).st_uid == nobody.pw_uid, "the playbook really ran as nobody"
        whoami = subprocess.run(["runuser", "-u", "nobody", "--", "id", "-u"], capture_output=True, text=True,
                                check=True).stdout.strip()
        assert whoami == str(nobody.pw_uid)
        server.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
