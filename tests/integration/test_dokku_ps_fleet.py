"""dokku_ps_fleet against the real daemon: many apps in one call, one pass, prune, failures, secrets."""

from __future__ import annotations

import json

from tests.support.docker_state import containers, remove_app_containers
from tests.support.four_step import four_step

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}


def names_of(api, apps):
    return dict((app, sorted(containers(api, app))) for app in apps)


def test_fleet_four_steps_one_pass_and_prune(runner, api, app_name, standard_images):
    a, b, c = app_name + "-a", app_name + "-b", app_name + "-c"
    try:
        apps = [
            # web=0 from the start: the web container must never be created (no create-then-remove)
            {"name": a, "image": standard_images["base"], "processes": PROCESSES, "scale": {"web": 0, "worker": 2},
             "restart_policy": "always", "env": {"SECRET_TOKEN": "fl33t-s3cret-value"}},
            {"name": b, "image": standard_images["base"], "processes": PROCESSES, "scale": {"web": 1}},
            {"name": c, "image": standard_images["base"], "state": "stopped"},
        ]
        predicted, applied = four_step(runner, api, a, "dokku_ps_fleet", {"apps": apps, "parallel": 2})
        assert sorted(applied["apps_changed"]) == sorted([a, b, c])
        assert applied["apps"][a]["containers"]["created"] == ["%s.worker.1" % a, "%s.worker.2" % a]
        assert applied["apps"][a]["containers"]["removed"] == []
        assert applied["apps"][b]["containers"]["created"] == ["%s.web.1" % b]
        assert applied["apps"][c]["containers"]["created"] == []
        assert names_of(api, [a, b, c]) == {a: ["%s.worker.1" % a, "%s.worker.2" % a], b: ["%s.web.1" % b], c: []}
        worker = containers(api, a)["%s.worker.1" % a]
        assert worker["HostConfig"]["RestartPolicy"]["Name"] == "always"
        assert "SECRET_TOKEN=fl33t-s3cret-value" in worker["Config"]["Env"]
        assert "fl33t-s3cret-value" not in json.dumps([predicted, applied])
        assert "SECRET_TOKEN" in json.dumps(applied["diff"])

        # the stopped app, once deployed, is stopped; b is dropped and pruned; a changes its formation
        apps[2] = {"name": c, "image": standard_images["base"], "state": "started"}
        runner.module("dokku_ps_fleet", {"apps": apps})
        assert names_of(api, [c]) == {c: ["%s.web.1" % c]}
        apps[2]["state"] = "stopped"
        stopped = runner.module("dokku_ps_fleet", {"apps": apps})
        assert stopped["apps"][c]["containers"]["stopped"] == ["%s.web.1" % c]
        assert not containers(api, c)["%s.web.1" % c]["State"]["Running"]

        declared = [apps[0], apps[2]]
        kept = runner.module("dokku_ps_fleet", {"apps": declared})
        assert kept["changed"] is False, "without prune, undeclared apps are left alone"
        assert names_of(api, [b]) == {b: ["%s.web.1" % b]}
        pruned = runner.module("dokku_ps_fleet", {"apps": declared, "prune": True})
        assert pruned["apps_pruned"] == [b]
        assert names_of(api, [b]) == {b: []}
        report = runner.module("dokku_ps_report", {})
        assert sorted(report["apps"]) == sorted([a, c])
    finally:
        for app in (a, b, c):
            remove_app_containers(api, app)


def test_fleet_validates_everything_first_and_isolates_failures(runner, api, app_name, standard_images):
    good, bad = app_name + "-good", app_name + "-bad"
    try:
        refused = runner.module("dokku_ps_fleet", {"apps": [
            {"name": good, "image": standard_images["base"]},
            {"name": bad, "image": standard_images["base"], "scale": {"web": -1}},
        ]}, expect_failure=True)
        assert "apps[1].scale.web" in refused["msg"] and "\n" not in refused["msg"]
        assert names_of(api, [good]) == {good: []}, "nothing changes when one declaration is invalid"

        missing = runner.module("dokku_ps_fleet", {"apps": [
            {"name": good, "image": standard_images["base"]},
            {"name": bad, "image": "dokku-ps-test/not-there:1"},
        ]}, expect_failure=True)
        assert missing["msg"].startswith("apps[1]: image: dokku-ps-test/not-there:1 was not found")
        assert names_of(api, [good]) == {good: []}, "a missing image is bad input: nothing changes"

        # a failure while converging (a foreign container on a name the app needs) stays with its app
        foreign = api.create_container("dokku-ps-test/base:latest", name="%s.web.1" % bad)
        partial = runner.module("dokku_ps_fleet", {"apps": [
            {"name": good, "image": standard_images["base"]},
            {"name": bad, "image": standard_images["base"]},
        ]}, expect_failure=True)
        assert "1 of 2 app(s) failed" in partial["msg"]
        assert list(partial["apps_failed"]) == [bad]
        assert "untouched" in partial["apps_failed"][bad]
        assert partial["apps"][good]["status"] == "changed"
        assert names_of(api, [good]) == {good: ["%s.web.1" % good]}
        assert api.inspect_container(foreign["Id"])["Name"] == "/%s.web.1" % bad
    finally:
        for app in (good, bad):
            remove_app_containers(api, app)


def test_fleet_deploy_false_records_and_touches_no_container(runner, api, app_name, standard_images):
    """deploy: false (like dokku_ps_app's) records the declaration and leaves the containers alone; the next
    run with deploy: true (the default) applies it."""
    base = {"name": app_name, "image": standard_images["base"], "processes": PROCESSES,
            "scale": {"web": 1, "worker": 1}, "checks": {"web": "skipped"}, "deploy": False}
    predicted, applied = four_step(runner, api, app_name, "dokku_ps_fleet", {"apps": [base]})
    assert applied["apps"][app_name]["formation"] == {"web": 1, "worker": 1}
    assert containers(api, app_name) == {}
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["deployed"] is False and report["restore"] is True

    deployed = runner.module("dokku_ps_fleet", {"apps": [dict(base, deploy=True)]})
    assert deployed["apps"][app_name]["containers"]["created"] == ["%s.web.1" % app_name, "%s.worker.1" % app_name]
    ids = dict((name, data["Id"]) for name, data in containers(api, app_name).items())

    # a deployed app: a new env, a new scale and state stopped are recorded, and not one container changes
    changed = dict(base, env={"MODE": "next"}, scale={"web": 2, "worker": 1}, state="stopped")
    recorded = runner.module("dokku_ps_fleet", {"apps": [changed]})
    assert recorded["changed"] is True
    assert not any(recorded["apps"][app_name]["containers"].values())
    after = containers(api, app_name)
    assert dict((name, data["Id"]) for name, data in after.items()) == ids
    assert all(data["State"]["Running"] for data in after.values())
    assert runner.module("dokku_ps_fleet", {"apps": [changed]})["changed"] is False
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["restore"] is False and report["formation"] == {"web": 2, "worker": 1}

    # deploy: true applies what was recorded: state stopped stops the containers (the new definition waits for
    # the next start, as for any stopped app), and started brings up web=2 with the new env
    stopped = runner.module("dokku_ps_fleet", {"apps": [dict(changed, deploy=True)]})
    assert sorted(stopped["apps"][app_name]["containers"]["stopped"]) == sorted(ids)
    assert not any(data["State"]["Running"] for data in containers(api, app_name).values())
    runner.module("dokku_ps_fleet", {"apps": [dict(changed, deploy=True, state="started")]})
    final = containers(api, app_name)
    assert sorted(final) == ["%s.web.1" % app_name, "%s.web.2" % app_name, "%s.worker.1" % app_name]
    assert all(data["State"]["Running"] for data in final.values())
    assert all("MODE=next" in data["Config"]["Env"] for data in final.values())


def test_fleet_deploy_false_with_state_absent_is_refused(runner, api, app_name, standard_images):
    refused = runner.module("dokku_ps_fleet", {"apps": [{"name": app_name, "state": "absent", "deploy": False}]},
                            expect_failure=True)
    assert refused["msg"].startswith("apps[0].deploy: ") and "absent" in refused["msg"] and "\n" not in refused["msg"]
    refused = runner.module("dokku_ps_fleet", {"apps": [{"name": app_name, "image": standard_images["base"],
                                                         "deploy": "maybe"}]}, expect_failure=True)
    assert "deploy" in refused["msg"] and "\n" not in refused["msg"]
    assert containers(api, app_name) == {}
