"""Interrupted and overlapping runs against the real daemon.

- SIGKILL of the module in the middle of a scale-up of 20 containers, and in the middle of a rollout: the
  rerun converges to exactly the desired containers (no duplicates, no ``*.upcoming-*`` leftovers, no name
  conflict, every one running). The killed process held the app's flock: the kernel released it.
- Two runs scaling the same app at the same time end with exactly one of the two formations, and the
  recorded formation is the one that runs; runs on two different apps do not wait for each other.
"""

from __future__ import annotations

import json
import os
import sys
import time

from tests.support import faults
from tests.support.ansible_runner import COLLECTIONS_PATH
from tests.support.docker_state import containers

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs  # noqa: E402  pylint: disable=wrong-import-position

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
# a short uptime check keeps replacements quick (the 10 s default is tested in test_rollouts.py)
QUICK = {"web": {"uptime": 1}, "worker": {"uptime": 1}}
# ignores SIGTERM: a stop waits for the whole stop timeout, then Docker kills it
STUBBORN = {"web": "sh -c 'trap \"\" TERM; sleep 86400'"}


def names_of(api, app):
    return sorted(containers(api, app))


def count_containers(api, app):
    return len(api.containers(all=True, filters={"name": ["^/%s\\." % app.replace(".", "\\.")]}))


def assert_exactly(api, app, web):
    found = containers(api, app)
    expected = ["%s.web.%d" % (app, index) for index in range(1, web + 1)]
    assert sorted(found) == sorted(expected), "containers: %s" % sorted(found)
    for name, data in found.items():
        assert data["State"]["Status"] == "running", "%s is %s" % (name, data["State"]["Status"])
        assert data["Config"]["Labels"]["com.dokku.app-name"] == app
        assert data["Config"]["Labels"]["com.dokku.dyno"] == name[len(app) + 1:]
    return found


def scale_task(app, web):
    return {"name": "scale", "dokku_ps.docker.dokku_ps_scale": {"app": app, "scale": {"web": web}}}


def test_sigkill_during_scale_up_then_rerun_converges(runner, api, app_name, standard_images, tmp_path):
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 0}}),
    ])
    assert names_of(api, app_name) == []

    run = faults.RunningPlaybook(runner, [scale_task(app_name, 20)], str(tmp_path / "killed"))
    faults.wait_until(lambda: run.module_pids("dokku_ps_scale"), timeout=60, what="the module to start")
    faults.wait_until(lambda: count_containers(api, app_name) >= 3, timeout=60, interval=0.02,
                      what="a few containers")
    killed = run.kill_module("dokku_ps_scale")
    returncode, _results, output = run.wait(timeout=60)
    at_kill = count_containers(api, app_name)
    print("killed %s with %d container(s) present; playbook rc=%s" % (killed, at_kill, returncode))
    assert returncode != 0, "the killed run must fail:\n%s" % output[-2000:]
    assert at_kill < 20, "the module finished before it was killed: the test proves nothing"

    result = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 20}})
    assert result["formation"]["web"] == 20
    # exactly web.1..web.20, every one running (also those the killed run created but had not started yet):
    # no duplicate, no temporary container, no name conflict
    assert_exactly(api, app_name, 20)
    again = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 20}})
    assert again["changed"] is False
    assert runner.module("dokku_ps_scale", {"app": app_name})["formation"]["web"] == 20


def test_sigkill_during_rollout_then_rerun_converges(runner, api, app_name, standard_images, tmp_path):
    base = {"name": app_name, "image": standard_images["base"], "processes": PROCESSES, "env": {"V": "1"},
            "checks": QUICK}
    runner.modules([
        ("dokku_ps_app", base),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 6}}),
    ])
    old_ids = dict((name, data["Id"]) for name, data in containers(api, app_name).items())
    assert len(old_ids) == 6

    changed = dict(base, env={"V": "2"})
    run = faults.RunningPlaybook(runner, [{"name": "rollout", "dokku_ps.docker.dokku_ps_app": changed}],
                                 str(tmp_path / "killed"))

    def retiring():
        """an old container is being stopped or is gone while replacements exist: the middle of it"""
        summaries = api.containers(all=True, filters={"name": ["^/%s\\." % app_name]})
        upcoming = [s for s in summaries if ".upcoming-" in s["Names"][0]]
        old = [s for s in summaries if s["Id"] in old_ids.values()]
        return upcoming and (len(old) < 6 or any(s["State"] != "running" for s in old))

    faults.wait_until(retiring, timeout=60, interval=0.01, what="a replacement in progress")
    killed = run.kill_module("dokku_ps_app")
    returncode, _results, output = run.wait(timeout=60)
    at_kill = names_of(api, app_name)
    print("killed %s during the rollout; containers then: %s" % (killed, at_kill))
    assert returncode != 0, output[-2000:]

    result = runner.module("dokku_ps_app", changed)
    assert result["changed"] is True
    final = assert_exactly(api, app_name, 6)
    with open(os.path.join(runner.state_dir, "apps", app_name + ".json")) as handle:
        doc = json.load(handle)
    for name, data in final.items():
        index = int(name.rsplit(".", 1)[1])
        wanted = specs.build_spec(doc, "on-failure:10", "web", index)["hash"]
        assert data["Config"]["Labels"]["io.dokku-ps.spec-hash"] == wanted, "%s has the new spec hash" % name
    assert not set(data["Id"] for data in final.values()) & set(old_ids.values()), "every old container replaced"
    for data in final.values():
        assert "V=2" in data["Config"]["Env"]
    again = runner.module("dokku_ps_app", changed)
    assert again["changed"] is False


def test_overlapping_scales_of_one_app_end_in_one_formation(runner, api, app_name, standard_images, tmp_path):
    runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES})
    runs = [faults.RunningPlaybook(runner, [scale_task(app_name, count)], str(tmp_path / ("run%d" % count)))
            for count in (7, 12)]
    outcomes = [run.wait(timeout=180) for run in runs]
    for (returncode, results, output) in outcomes:
        assert returncode == 0, output[-3000:]
        assert results[-1]["status"] == "ok"
        assert "onflict" not in output
    found = containers(api, app_name)
    count = len(found)
    assert count in (7, 12), "a mix of the two formations: %s" % sorted(found)
    assert_exactly(api, app_name, count)
    recorded = runner.module("dokku_ps_scale", {"app": app_name})["formation"]
    assert recorded["web"] == count, "recorded %s, running %d" % (recorded, count)


def test_runs_on_two_apps_do_not_block_each_other(runner, api, app_name, standard_images, tmp_path):
    slow, fast = app_name + "-slow", app_name + "-fast"
    image = standard_images["base"]
    try:
        runner.tasks([
            {"dokku_ps.docker.dokku_ps_app": {"name": slow, "image": image, "processes": STUBBORN}},
            {"dokku_ps.docker.dokku_ps_policy": {"app": slow, "stop_timeout_seconds": 5}},
            {"dokku_ps.docker.dokku_ps_scale": {"app": slow, "scale": {"web": 2}}},
            {"dokku_ps.docker.dokku_ps_app": {"name": fast, "image": image, "processes": PROCESSES}},
        ])
        assert len(containers(api, slow)) == 2

        alone = faults.RunningPlaybook(runner, [scale_task(fast, 2)], str(tmp_path / "alone"))
        alone.wait(timeout=120)

        slow_run = faults.RunningPlaybook(runner, [scale_task(slow, 0)], str(tmp_path / "slow"))

        def slow_is_stopping():
            policies = [data["HostConfig"]["RestartPolicy"]["Name"] for data in containers(api, slow).values()]
            return policies and all(policy == "no" for policy in policies)

        # the slow run holds its app's lock and waits in its stop timeout
        faults.wait_until(slow_is_stopping, timeout=60, interval=0.05, what="the slow app to be stopping")
        fast_started = time.monotonic()
        fast_run = faults.RunningPlaybook(runner, [scale_task(fast, 4)], str(tmp_path / "fast"))
        fast_rc, _r, fast_output = fast_run.wait(timeout=120)
        fast_done = time.monotonic()
        slow_still_running = slow_run.running()
        slow_rc, _r, slow_output = slow_run.wait(timeout=120)
        print("fast app alone %.1fs, fast app while the slow one stops %.1fs, slow app %.1fs"
              % (alone.duration(), fast_done - fast_started, slow_run.duration()))
        assert fast_rc == 0, fast_output[-2000:]
        assert slow_rc == 0, slow_output[-2000:]
        assert slow_still_running, "the fast app's run finished only after the slow app's run: it waited"
        assert len(containers(api, fast)) == 4
        assert containers(api, slow) == {}
    finally:
        for app in (slow, fast):
            for summary in api.containers(all=True, filters={"name": ["^/%s\\." % app]}):
                api.remove_container(summary["Id"], force=True)


def test_start_after_an_interrupted_stop_restores_the_policy(runner, api, app_name, standard_images, tmp_path):
    """A stop killed after the restart policy was set to 'no' but before the containers stopped: the next start
    gives every container the computed policy again (they keep running)."""
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": STUBBORN}),
        ("dokku_ps_policy", {"app": app_name, "stop_timeout_seconds": 20}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}}),
    ])
    run = faults.RunningPlaybook(runner, [{"dokku_ps.docker.dokku_ps_state": {"app": app_name, "state": "stopped"}}],
                                 str(tmp_path / "killed"))

    def stopping():
        found = containers(api, app_name).values()
        return found and all(d["HostConfig"]["RestartPolicy"]["Name"] == "no" and d["State"]["Running"] for d in found)

    faults.wait_until(stopping, timeout=60, interval=0.05, what="the stop to be under way")
    run.kill_module("dokku_ps_state")
    run.wait(timeout=60)
    runner.module("dokku_ps_state", {"app": app_name, "state": "started"})
    found = containers(api, app_name)
    assert all(data["State"]["Running"] for data in found.values())
    policies = dict((name, data["HostConfig"]["RestartPolicy"]) for name, data in found.items())
    assert all(policy == {"Name": "on-failure", "MaximumRetryCount": 10} for policy in policies.values()), policies
    assert runner.module("dokku_ps_state", {"app": app_name, "state": "started"})["changed"] is False
