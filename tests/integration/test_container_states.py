"""Every state Docker reports for a container (``created``, ``running``, ``paused``, ``restarting``, ``removing``,
``exited``, ``dead``), reached for real, through every path where the outcome differs: deploy, scale,
started/stopped/restarted/restored, absent and report (docs/decisions.md, "Every state Docker reports")."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support import container_states, daemons
from tests.support.apps import DEFAULT_POLICY as DEFAULT, deploy
from tests.support.ansible_runner import Runner
from tests.support.docker_state import containers
from tests.support.four_step import four_step


def status(api, app):
    return dict((name, data["State"]["Status"]) for name, data in containers(api, app).items())


def ids(api, app):
    return dict((name, data["Id"]) for name, data in containers(api, app).items())


# ---------------------------------------------------------------- paused

def test_a_paused_container_is_unpaused_by_started_deploy_and_restored(runner, api, app_name, standard_images):
    args = deploy(runner, app_name, standard_images["base"])
    web1 = "%s.web.1" % app_name
    before = ids(api, app_name)
    container_states.make_paused(api, before[web1])
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["dynos"]["web.1"]["status"] == "paused" and report["running"] == "mixed"

    predicted, applied = four_step(runner, api, app_name, "dokku_ps_state", {"app": app_name, "state": "started"})
    assert applied["containers"]["started"] == [web1]
    assert status(api, app_name)[web1] == "running" and ids(api, app_name) == before, "unpaused, same container"

    for module, module_args in (("dokku_ps_app", args), ("dokku_ps_state", {"all": True, "state": "restored"})):
        container_states.make_paused(api, before[web1])
        result = runner.module(module, module_args)
        done = result["containers"] if module == "dokku_ps_app" else result["apps"][app_name]["containers"]
        assert done["started"] == [web1], (module, done)
        assert status(api, app_name)[web1] == "running" and ids(api, app_name) == before


def test_a_paused_container_is_stopped_by_stopped_and_removed_by_absent(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=1, worker=1)
    web1 = "%s.web.1" % app_name
    before = ids(api, app_name)
    container_states.make_paused(api, before[web1])
    started = time.monotonic()
    _predicted, applied = four_step(runner, api, app_name, "dokku_ps_state", {"app": app_name, "state": "stopped"})
    assert sorted(applied["containers"]["stopped"]) == sorted(before)
    found = containers(api, app_name)
    assert all(data["State"]["Status"] == "exited" for data in found.values()), status(api, app_name)
    assert all(data["HostConfig"]["RestartPolicy"]["Name"] == "no" for data in found.values())
    # unpaused first: the process got the stop signal and exited at once, not at the stop timeout (30 s)
    assert found[web1]["State"]["ExitCode"] == 143 and time.monotonic() - started < 30
    runner.module("dokku_ps_state", {"app": app_name, "state": "started"})

    container_states.make_paused(api, ids(api, app_name)[web1])
    removed = runner.module("dokku_ps_app", {"name": app_name, "state": "absent"})
    assert sorted(removed["containers"]["removed"]) == sorted(before)
    assert containers(api, app_name) == {}


def test_a_paused_container_is_replaced_by_restarted_and_left_paused_by_a_scale(
        runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=1, worker=1)
    web1, worker1 = "%s.web.1" % app_name, "%s.worker.1" % app_name
    before = ids(api, app_name)
    container_states.make_paused(api, before[worker1])
    scaled = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"worker": 2}})
    assert scaled["containers"]["created"] == ["%s.worker.2" % app_name] and scaled["containers"]["started"] == []
    assert status(api, app_name)[worker1] == "paused", "a scale adds instances; it starts nothing that exists"

    result = runner.module("dokku_ps_state", {"app": app_name, "state": "restarted", "process_type": "worker"})
    assert result["containers"]["replaced"] == [worker1, "%s.worker.2" % app_name]
    after = ids(api, app_name)
    assert after[worker1] != before[worker1] and after[web1] == before[web1]
    assert status(api, app_name)[worker1] == "running"


# ---------------------------------------------------------------- restarting

def test_a_restarting_container_is_left_to_docker_by_started_and_stopped_by_stopped(
        runner, api, app_name, standard_images):
    crashing = {"web": "sleep 86400", "worker": "sh -c 'sleep 1; exit 3'"}
    runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": crashing,
                                   "checks": {"web": {"uptime": 1}, "worker": "skipped"}})
    runner.modules([
        ("dokku_ps_policy", {"app": app_name, "restart_policy": "always"}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"worker": 1}}),
    ])
    worker1 = "%s.worker.1" % app_name
    container_states.wait_restarting(api, ids(api, app_name)[worker1], timeout=30)
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["dynos"]["worker.1"]["status"] in ("restarting", "running")
    assert report["dynos"]["worker.1"]["restart_count"] >= 1

    result = runner.module("dokku_ps_state", {"app": app_name, "state": "started"})
    assert result["status"] == "unchanged", "Docker brings it back under its restart policy"

    container_states.wait_restarting(api, ids(api, app_name)[worker1], timeout=30)
    stopped = runner.module("dokku_ps_state", {"app": app_name, "state": "stopped"})
    assert worker1 in stopped["containers"]["stopped"]
    data = containers(api, app_name)[worker1]
    assert data["State"]["Status"] == "exited" and data["HostConfig"]["RestartPolicy"]["Name"] == "no"


# ---------------------------------------------------------------- removing (held by tests.support.container_states)

def run_while_removing(removal, run, release_after):
    """``run()`` while Docker's removal is held; the hold ends ``release_after`` seconds after the run started,
    so a run that waits for the removal sees it end. Returns what ``run`` returned."""
    timer = threading.Timer(release_after, removal.release)
    timer.start()
    try:
        return run()
    finally:
        timer.cancel()
        assert removal.join(30) is None, "the removal itself succeeded"


def test_a_container_being_removed_is_waited_for_then_created_again(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=1, worker=1)
    web1 = "%s.web.1" % app_name
    old = ids(api, app_name)[web1]
    with container_states.removing(api, old, hold_for=60, hold=True) as removal:
        assert removal.seen_removing and status(api, app_name)[web1] == "removing"
        # creating a container at its name now would fail (name conflict): the run waits for the removal
        start = {"app": app_name, "state": "started"}
        result = run_while_removing(removal, lambda: runner.module("dokku_ps_state", start), 8)
    assert result["containers"]["created"] == [web1]
    new = containers(api, app_name)[web1]
    assert new["Id"] != old and new["State"]["Running"]
    assert api.containers(all=True, filters={"id": [old]}) == []


def test_absent_and_stopped_with_a_container_being_removed(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=1, worker=1)
    web1 = "%s.web.1" % app_name
    with container_states.removing(api, ids(api, app_name)[web1], hold_for=60, hold=True) as removal:
        assert removal.seen_removing
        stopped = runner.module("dokku_ps_state", {"app": app_name, "state": "stopped"})
        assert stopped["containers"]["stopped"] == ["%s.worker.1" % app_name], "left alone"
        assert removal.held, "the stop did not wait for it"
        absent = {"name": app_name, "state": "absent"}
        result = run_while_removing(removal, lambda: runner.module("dokku_ps_app", absent), 4)
    assert result["containers"]["removed"] == [web1, "%s.worker.1" % app_name]
    assert containers(api, app_name) == {}


def test_a_failed_removal_that_the_list_still_shows_as_removing(runner, api, app_name, standard_images):
    """Docker's list call keeps saying 'removing' for a container whose removal failed, while inspect says dead."""
    deploy(runner, app_name, standard_images["base"], web=1, worker=1)
    worker1 = "%s.worker.1" % app_name
    old = ids(api, app_name)[worker1]
    container_states.make_dead(api, old, refresh_list=False)
    assert container_states.observe(api, old)["list_state"] == "removing"
    assert container_states.observe(api, old)["status"] == "dead"
    result = runner.module("dokku_ps_state", {"app": app_name, "state": "started"})
    assert result["containers"]["created"] == [worker1]
    assert containers(api, app_name)[worker1]["Id"] != old
    assert status(api, app_name) == {"%s.web.1" % app_name: "running", worker1: "running"}


# ---------------------------------------------------------------- dead (on a private daemon)

@pytest.fixture(scope="module")
def host(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "states")


def test_a_dead_container_is_recreated_by_started_left_by_stopped_removed_by_absent(host, tmp_path):
    runner = Runner(str(tmp_path / "state"), docker_host=host.url, workdir=str(tmp_path))
    app = "states-dead"
    image = "dokku-ps-test/base:latest"
    deploy(runner, app, image, web=1, worker=1)
    api = host.client().api
    web1, worker1 = "%s.web.1" % app, "%s.worker.1" % app
    before = ids(api, app)
    container_states.make_dead(host, [before[web1], before[worker1]])
    api = host.client().api
    assert status(api, app) == {web1: "dead", worker1: "dead"}
    report = runner.module("dokku_ps_report", {"app": app})
    assert report["dynos"]["web.1"]["status"] == "dead" and report["running"] == "false"

    stopped = runner.module("dokku_ps_state", {"app": app, "state": "stopped"})
    assert not any(stopped["containers"].values())
    assert status(api, app) == {web1: "dead", worker1: "dead"}, "left alone: nothing can start it again"

    predicted, applied = four_step(runner, api, app, "dokku_ps_state", {"app": app, "state": "started"})
    assert applied["containers"]["replaced"] == [web1, worker1]
    after = ids(api, app)
    assert after[web1] != before[web1] and after[worker1] != before[worker1]
    assert status(api, app) == {web1: "running", worker1: "running"}
    assert all(data["HostConfig"]["RestartPolicy"] == DEFAULT for data in containers(api, app).values())

    container_states.make_dead(host, [after[worker1]])
    api = host.client().api
    removed = runner.module("dokku_ps_app", {"name": app, "state": "absent"})
    assert removed["containers"]["removed"] == [web1, worker1]
    assert containers(api, app) == {}
