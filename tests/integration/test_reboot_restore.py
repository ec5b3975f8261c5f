"""A simulated reboot: a private Docker daemon is stopped and started again, then `restored` brings back
exactly the apps that were running; an app stopped on purpose stays stopped, an undeployed one is skipped,
each with its reason."""

from __future__ import annotations

import pytest

from tests.support import daemons
from tests.support.ansible_runner import Runner
from tests.support.docker_state import containers, snapshot

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "reboot")


def states(api, app):
    return dict((name, (data["Id"], data["State"]["Status"], data["HostConfig"]["RestartPolicy"]["Name"]))
                for name, data in containers(api, app).items())


def test_restore_after_a_daemon_restart(host, tmp_path):
    runner = Runner(str(tmp_path / "state"), docker_host=host.url, workdir=str(tmp_path))
    api = host.client().api
    image = "dokku-ps-test/base:latest"
    tasks = []
    for app in ("rb-running", "rb-nopolicy", "rb-stopped"):
        tasks.append({"dokku_ps.docker.dokku_ps_app": {"name": app, "image": image, "processes": PROCESSES}})
        tasks.append({"dokku_ps.docker.dokku_ps_scale": {"app": app, "scale": {"web": 2, "worker": 1}}})
    tasks.append({"dokku_ps.docker.dokku_ps_app": {"name": "rb-new", "image": image, "deploy": False}})
    # Docker itself does not bring back containers whose policy is 'no': restore must start them
    tasks.append({"dokku_ps.docker.dokku_ps_policy": {"app": "rb-nopolicy", "restart_policy": "no"}})
    tasks.append({"dokku_ps.docker.dokku_ps_state": {"app": "rb-stopped", "state": "stopped"}})
    returncode, _results, output = runner.tasks(tasks)
    assert returncode == 0, output[-3000:]
    before = dict((app, states(api, app)) for app in ("rb-running", "rb-nopolicy", "rb-stopped"))
    assert all(status == "running" for _i, status, _p in before["rb-nopolicy"].values())
    assert all(status == "exited" and policy == "no" for _i, status, policy in before["rb-stopped"].values())

    host.restart()
    api = host.client().api
    assert all(s[1] == "running" for s in states(api, "rb-running").values()), "Docker restarts on-failure ones"
    assert all(s[1] == "exited" for s in states(api, "rb-nopolicy").values())
    assert all(s[1] == "exited" for s in states(api, "rb-stopped").values())

    args = {"all": True, "state": "restored", "parallel": -1}
    after_reboot = snapshot(api, "rb-nopolicy")
    predicted = runner.module("dokku_ps_state", args, check=True)
    assert predicted["apps_changed"] == ["rb-nopolicy"]
    assert snapshot(api, "rb-nopolicy") == after_reboot, "check mode started something"

    result = runner.module("dokku_ps_state", args)
    assert result["changed"] is True
    assert result["apps_changed"] == ["rb-nopolicy"]
    assert result["apps"]["rb-nopolicy"]["containers"]["started"] == sorted(before["rb-nopolicy"])
    running = result["apps"]["rb-running"]
    assert (running["status"], running["reason"], running["restore"]) == ("unchanged", "already running", True)
    assert not any(running["containers"].values())
    assert result["apps_skipped"] == {
        "rb-new": "not deployed",
        "rb-stopped": "restore flag is false (the app was stopped on purpose)",
    }
    assert result["apps_failed"] == {}

    for app in ("rb-running", "rb-nopolicy"):
        now = states(api, app)
        assert sorted(now) == sorted(before[app])
        for name, (container_id, status, _policy) in now.items():
            assert status == "running"
            assert container_id == before[app][name][0], "restore reuses the containers that still match"
    assert all(p == "no" for _i, _s, p in states(api, "rb-nopolicy").values()), "the app's own policy stays"
    assert states(api, "rb-stopped") == before["rb-stopped"], "the stopped app stays stopped, untouched"
    assert containers(api, "rb-new") == {}

    again = runner.module("dokku_ps_state", args)
    assert again["changed"] is False
    assert again["apps_changed"] == []
