"""Every module returns the one result shape (plugins/module_utils/_results.py, README "Results"): a task that
names one app returns its outcome at the top level, a task on several apps returns outcomes under ``apps``,
and every outcome has the same keys for container work, formation and properties."""

from __future__ import annotations

from tests.support.apps import QUICK, deploy
from tests.support.results import CONTAINER_WORK

PROPERTY_KEYS = ["keep_releases", "restart_policy", "restore", "stop_timeout_seconds"]
SUMMARY_KEYS = ("apps_changed", "apps_skipped", "apps_failed")


def assert_outcome(outcome, name, with_document=True):
    """The keys every app outcome has, whatever the module."""
    assert outcome["name"] == name
    assert outcome["status"] in ("changed", "unchanged", "skipped", "failed")
    assert isinstance(outcome["reason"], str)
    assert sorted(outcome["containers"]) == sorted(CONTAINER_WORK), outcome["containers"]
    assert all(isinstance(names, list) for names in outcome["containers"].values())
    if with_document:
        assert isinstance(outcome["formation"], dict)
        assert sorted(outcome["properties"]) == PROPERTY_KEYS
        assert sorted(outcome["properties"]["restart_policy"]) == ["computed", "global", "raw"]


def assert_one_app(result, name, with_document=True):
    assert "apps" not in result and not any(key in result for key in SUMMARY_KEYS), sorted(result)
    assert result["changed"] is (result["status"] == "changed")
    assert_outcome(result, name, with_document)


def assert_many_apps(result, names):
    assert sorted(result["apps"]) == sorted(names)
    for name in names:
        # a failed app, or one deleted (state absent), has no document to show
        outcome = result["apps"][name]
        assert_outcome(outcome, name, outcome["status"] != "failed" and outcome.get("state") != "absent")
    assert result["apps_changed"] == sorted(n for n in names if result["apps"][n]["status"] == "changed")
    assert isinstance(result["apps_skipped"], dict) and isinstance(result["apps_failed"], dict)
    assert "containers" not in result and "name" not in result


def test_one_shape_through_every_module(runner, api, app_name, standard_images):
    other = app_name + "-b"
    image = standard_images["base"]
    app = runner.module("dokku_ps_app", {"name": app_name, "image": image, "checks": QUICK,
                                         "processes": {"web": "sleep 86400", "worker": "sleep 86400"}})
    assert_one_app(app, app_name)
    assert app["containers"]["created"] == ["%s.web.1" % app_name]
    assert (app["image"], app["deployed"], app["can_scale"]) == (image, True, True)

    scaled = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"worker": 1}})
    assert_one_app(scaled, app_name)
    assert scaled["formation"] == {"web": 1, "worker": 1} and scaled["before"] == {"web": 1, "worker": 0}
    assert scaled["formation_changes"] == {"worker": {"before": 0, "after": 1}}
    listed = runner.module("dokku_ps_scale", {"app": app_name})
    assert_one_app(listed, app_name)
    assert listed["status"] == "unchanged" and listed["formation"] == scaled["formation"]

    policy = runner.module("dokku_ps_policy", {"app": app_name, "restart_policy": "always"})
    assert_one_app(policy, app_name)
    assert policy["containers"]["updated"] == ["%s.web.1" % app_name, "%s.worker.1" % app_name]
    assert policy["property_changes"] == {"restart_policy": {"before": None, "after": "always"}}

    stopped = runner.module("dokku_ps_state", {"app": app_name, "state": "stopped"})
    assert_one_app(stopped, app_name)
    assert stopped["state"] == "stopped" and stopped["reason"] == "stopped" and stopped["restore"] is False
    assert stopped["containers"]["stopped"] == ["%s.web.1" % app_name, "%s.worker.1" % app_name]

    report = runner.module("dokku_ps_report", {"app": app_name})
    assert_one_app(report, app_name)
    assert report["running"] == "false" and sorted(report["dynos"]) == ["web.1", "worker.1"]
    assert report["properties"]["restart_policy"]["computed"] == "always"

    deploy(runner, other, image, web=1, worker=0)
    started = runner.module("dokku_ps_state", {"apps": [app_name, other], "state": "started"})
    assert_many_apps(started, [app_name, other])
    assert started["apps"][app_name]["containers"]["started"] == ["%s.web.1" % app_name, "%s.worker.1" % app_name]
    assert started["apps"][other]["status"] == "unchanged"

    glob = runner.module("dokku_ps_policy", {"global": True, "restart_policy": "unless-stopped"})
    assert_many_apps(glob, [other])  # app_name has a policy of its own
    assert glob["apps"][other]["containers"]["updated"] == ["%s.web.1" % other]
    assert glob["global"]["restart_policy"]["computed"] == "unless-stopped"
    runner.module("dokku_ps_policy", {"global": True, "restart_policy": ""})

    everything = runner.module("dokku_ps_report", {})
    assert_many_apps(everything, [app_name, other])
    assert everything["apps"][app_name]["dynos"] == report["dynos"] or everything["apps"][app_name]["running"]

    fleet = runner.module("dokku_ps_fleet", {"apps": [{"name": app_name, "scale": {"worker": 0}},
                                                      {"name": other, "state": "absent"}]})
    assert_many_apps(fleet, [app_name, other])
    assert fleet["apps"][app_name]["containers"]["removed"] == ["%s.worker.1" % app_name]
    assert fleet["apps"][app_name]["formation_changes"] == {"worker": {"before": 1, "after": 0}}
    assert fleet["apps"][other]["containers"]["removed"] == ["%s.web.1" % other]

    absent = runner.module("dokku_ps_app", {"name": app_name, "state": "absent"})
    assert_one_app(absent, app_name, with_document=False)
    assert absent["containers"]["removed"] == ["%s.web.1" % app_name]
