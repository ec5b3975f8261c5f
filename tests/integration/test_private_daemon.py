"""Private Docker daemons (``tests/support/daemons.py``): they start, stop, restart and crash without
disturbing the main daemon, bring containers back per restart policy after a simulated reboot, do
not share a containerd with each other, and leave nothing behind.

The restart-policy outcomes asserted here are the observed behaviour documented in the docstring of
``tests/support/daemons.py``; the collection's restore feature depends on them.
"""

from __future__ import annotations

import os
import secrets
import time

import pytest

from tests.support import daemons, images

LABEL = "io.dokku-ps.test"
LABEL_VALUE = "private-daemon"
POLICY_LABEL = "io.dokku-ps.test-policy"
POLICIES = {
    "no": {"Name": "no"},
    "always": {"Name": "always"},
    "unless-stopped": {"Name": "unless-stopped"},
    "on-failure:10": {"Name": "on-failure", "MaximumRetryCount": 10},
}
MAIN_PIDFILE = "/var/run/dokku-ps-dockerd.pid"
WAIT_SECONDS = 30

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="private Docker daemons need root")


@pytest.fixture(scope="module")
def pd(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "pd")


@pytest.fixture
def pd_client(pd):
    """A client of the module's private daemon; the test's containers are removed afterwards."""
    if not pd.running:
        pd.start()
    client = pd.client()
    yield client
    if not pd.running:
        pd.start()
    for container in client.containers.list(all=True, filters={"label": "%s=%s" % (LABEL, LABEL_VALUE)}):
        container.remove(force=True)
    client.close()


def _main_dockerd_pid():
    try:
        with open(MAIN_PIDFILE, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _create(client, policy, prefix, tag, **kwargs):
    name = "pd-%s-%s-%s" % (prefix, policy.replace(":", "-"), tag)
    return client.containers.run(images.BASE_IMAGE, ["sleep", "86400"], name=name, detach=True, init=True,
                                 restart_policy=POLICIES[policy], labels={LABEL: LABEL_VALUE, POLICY_LABEL: policy},
                                 **kwargs)


def _wait_status(containers, expected, timeout=WAIT_SECONDS):
    """Wait (bounded) until every container has status ``expected[policy]``; return the attrs."""
    deadline = time.monotonic() + timeout
    while True:
        for container in containers.values():
            container.reload()
        actual = {policy: container.status for policy, container in containers.items()}
        if actual == expected or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    assert actual == expected, "after %ss: %s" % (timeout, actual)
    return {policy: container.attrs for policy, container in containers.items()}


def _timed(action):
    started = time.monotonic()
    action()
    return time.monotonic() - started


def test_reboot_brings_containers_back_per_restart_policy(pd, pd_client, docker_client, standard_images):
    main_pid = _main_dockerd_pid()
    main_id = docker_client.info()["ID"]
    assert pd_client.info()["ID"] != main_id
    assert pd_client.info()["DockerRootDir"] == pd.data_root
    tag = secrets.token_hex(3)

    running = {policy: _create(pd_client, policy, "run", tag) for policy in POLICIES}
    stopped = {policy: _create(pd_client, policy, "stopped", tag) for policy in POLICIES}
    for container in stopped.values():
        container.stop(timeout=10)
    before = _wait_status(running, {policy: "running" for policy in POLICIES})
    stopped_before = _wait_status(stopped, {policy: "exited" for policy in POLICIES})
    assert {attrs["State"]["ExitCode"] for attrs in stopped_before.values()} == {143}

    stop_seconds = _timed(pd.stop)
    assert not daemons.ping(pd.socket_path)
    assert pd.leftovers()["processes"] == [], "dockerd, containerd or a shim survived stop()"
    start_seconds = _timed(pd.start)
    restart_seconds = _timed(pd.restart)
    print("\nprivate daemon: stop %.2fs, start %.2fs, restart (stop+start) %.2fs with %d containers"
          % (stop_seconds, start_seconds, restart_seconds, len(running) + len(stopped)))

    # Observed: a clean daemon stop counts as a failure (exit 143) but not as a manual stop.
    after = _wait_status(running, {"no": "exited", "always": "running", "unless-stopped": "running",
                                   "on-failure:10": "running"})
    assert after["no"]["State"]["ExitCode"] == 143
    for policy in ("always", "unless-stopped", "on-failure:10"):
        assert after[policy]["Id"] == before[policy]["Id"]
        assert after[policy]["State"]["StartedAt"] > before[policy]["State"]["StartedAt"]
        assert after[policy]["RestartCount"] == 0, (policy, after[policy]["RestartCount"])
    # Stopped by the user (``docker stop``, exit 143) before the reboot: ``always`` comes back, and so
    # does ``on-failure``, which looks only at the exit code, never at the manual stop.
    _wait_status(stopped, {"no": "exited", "always": "running", "unless-stopped": "exited", "on-failure:10": "running"})

    # The main daemon saw none of this, kept running, and its bridge still works (a private dockerd
    # with --bridge=none in the host's network namespace would have deleted docker0).
    assert docker_client.ping()
    assert os.readlink("/proc/%d/ns/net" % pd.pid) != os.readlink("/proc/self/ns/net")
    bridge_name = docker_client.networks.get("bridge").attrs["Options"].get("com.docker.network.bridge.name", "docker0")
    assert os.path.exists("/sys/class/net/%s" % bridge_name), "%s is gone from the host" % bridge_name
    probe = docker_client.containers.run(standard_images["base"], ["sleep", "86400"], name="pd-main-probe-" + tag, detach=True,
                                         init=True, labels={LABEL: LABEL_VALUE})
    try:
        probe.reload()
        assert probe.status == "running"
        assert probe.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    finally:
        probe.remove(force=True)
    assert docker_client.info()["ID"] == main_id
    if main_pid is not None:
        assert _main_dockerd_pid() == main_pid
        assert os.path.exists("/proc/%d" % main_pid)
    ours = docker_client.containers.list(all=True, filters={"label": LABEL})
    assert not [c.name for c in ours if c.name.startswith("pd-")]
    for container in list(running.values()) + list(stopped.values()):
        assert not docker_client.containers.list(all=True, filters={"name": container.name})


def test_crash_keeps_containers_until_next_start(pd, pd_client):
    tag = secrets.token_hex(3)
    running = {policy: _create(pd_client, policy, "crash", tag) for policy in POLICIES}
    before = _wait_status(running, {policy: "running" for policy in POLICIES})
    init_pids = {policy: attrs["State"]["Pid"] for policy, attrs in before.items()}

    kill_seconds = _timed(pd.kill)
    assert not daemons.ping(pd.socket_path)
    # containerd goes with dockerd; the shims and the containers survive the crash
    assert pd.containerd_pids == []
    assert len(pd.shim_pids()) == len(POLICIES)
    for policy, pid in init_pids.items():
        assert os.path.exists("/proc/%d" % pid), "%s container died with dockerd" % policy

    start_seconds = _timed(pd.start)
    print("\nprivate daemon: kill %.3fs, start after the crash %.2fs" % (kill_seconds, start_seconds))
    # Observed: the restore kills the survivors outside a daemon shutdown, which marks them as
    # manually stopped, so unless-stopped stays down after a crash (it came back after a clean stop).
    after = _wait_status(running, {"no": "exited", "always": "running", "unless-stopped": "exited",
                                   "on-failure:10": "running"})
    assert after["unless-stopped"]["State"]["ExitCode"] == 143
    for policy in ("always", "on-failure:10"):
        assert after[policy]["State"]["Pid"] != init_pids[policy]
    assert len(pd.shim_pids()) == 2


def test_two_daemons_do_not_share_anything(pd, pd_client, tmp_path_factory):
    tag = secrets.token_hex(3)
    first = _create(pd_client, "always", "first", tag)
    with daemons.PrivateDaemon(str(tmp_path_factory.mktemp("dockerd-pd2-")), "pd2") as pd2:
        assert pd2.url != pd.url and pd2.exec_root != pd.exec_root
        namespaces = {os.readlink("/proc/%d/ns/net" % pid) for pid in (os.getpid(), pd.pid, pd2.pid)}
        assert len(namespaces) == 3, "each dockerd needs a network namespace of its own"
        assert set(pd2.containerd_pids).isdisjoint(pd.containerd_pids)
        assert len(pd.containerd_pids) == 1 and len(pd2.containerd_pids) == 1
        assert pd2.containerd_config in daemons.proc_cmdline(pd2.containerd_pids[0])
        assert pd.containerd_config in daemons.proc_cmdline(pd.containerd_pids[0])
        client2 = pd2.client()
        try:
            assert client2.info()["ID"] != pd_client.info()["ID"]
            images.build_image(client2, images.BASE_IMAGE, cmd=images.DEFAULT_CMD)
            second = client2.containers.run(images.BASE_IMAGE, ["sleep", "86400"], name="pd-second-" + tag,
                                            detach=True, init=True, restart_policy={"Name": "always"})
            assert [c.name for c in client2.containers.list(all=True)] == [second.name]
            assert first.name not in [c.name for c in client2.containers.list(all=True)]
            assert not pd_client.containers.list(all=True, filters={"name": second.name})
            # stopping and crashing one daemon leaves the other's containers alone
            pd2.restart()
            pd2.kill()
            first.reload()
            assert first.status == "running"
            assert pd_client.ping()
            pd2.start()
            second.reload()
            assert second.status == "running"
        finally:
            client2.close()
    assert pd2.leftovers() == {"processes": [], "mounts": [], "paths": []}
    first.reload()
    assert first.status == "running"


def test_cleanup_after_a_crash_leaves_nothing(tmp_path_factory):
    daemon = daemons.PrivateDaemon(str(tmp_path_factory.mktemp("dockerd-pd3-")), "pd3")
    try:
        daemon.start()
        client = daemon.client()
        try:
            images.build_image(client, images.BASE_IMAGE, cmd=images.DEFAULT_CMD)
            client.containers.run(images.BASE_IMAGE, ["sleep", "86400"], name="pd-crashed-" + secrets.token_hex(3),
                                  detach=True, init=True, restart_policy={"Name": "always"})
        finally:
            client.close()
        daemon.kill()
        left = daemon.leftovers()
        assert left["processes"] and left["mounts"] and left["paths"], left
    finally:
        daemon.cleanup()
    assert daemon.leftovers() == {"processes": [], "mounts": [], "paths": []}
    daemon.cleanup()  # idempotent
    assert not os.path.exists(daemon.root_dir) and not os.path.exists(daemon.run_dir)
