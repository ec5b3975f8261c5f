"""dokku_ps_policy against the real daemon: defaults, precedence, unset, in-place updates."""

from __future__ import annotations

from tests.support.bad_input import assert_refused, run_bad
from tests.support.docker_state import containers, remove_app_containers, snapshot, state_files
from tests.support.four_step import four_step

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}


def policies(api, app):
    return dict((name, data["HostConfig"]["RestartPolicy"]) for name, data in containers(api, app).items())


def ids(api, app):
    return dict((name, data["Id"]) for name, data in containers(api, app).items())


def deploy(runner, app, image, web=2, worker=1):
    runner.modules([
        ("dokku_ps_app", {"name": app, "image": image, "processes": PROCESSES}),
        ("dokku_ps_scale", {"app": app, "scale": {"web": web, "worker": worker}}),
    ])


def test_app_policy_is_applied_in_place(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"])
    before = ids(api, app_name)
    assert set(p["Name"] + ":" + str(p["MaximumRetryCount"]) for p in policies(api, app_name).values()) == {
        "on-failure:10"}

    predicted, applied = four_step(runner, api, app_name, "dokku_ps_policy",
                                   {"app": app_name, "restart_policy": "always"})
    assert predicted["containers"]["updated"] == sorted(before)
    assert applied["containers"]["updated"] == sorted(before)
    assert applied["properties"]["restart_policy"] == {"raw": "always", "global": None, "computed": "always"}
    assert applied["property_changes"] == {"restart_policy": {"before": None, "after": "always"}}
    assert applied["diff"]["after"]["properties"]["restart_policy"] == "always"
    assert ids(api, app_name) == before, "an in-place update keeps the containers"
    assert all(data["State"]["Running"] for data in containers(api, app_name).values())
    assert all(p == {"Name": "always", "MaximumRetryCount": 0} for p in policies(api, app_name).values())

    # scaling up later creates containers with the new policy; the report shows the real one
    runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 3}})
    assert policies(api, app_name)["%s.web.3" % app_name] == {"Name": "always", "MaximumRetryCount": 0}
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert set(d["restart_policy"] for d in report["dynos"].values()) == {"always"}

    # unset: back to the default, in place again
    unset = runner.module("dokku_ps_policy", {"app": app_name, "restart_policy": ""})
    assert unset["changed"] is True
    assert unset["properties"]["restart_policy"] == {"raw": None, "global": None, "computed": "on-failure:10"}
    assert all(p == {"Name": "on-failure", "MaximumRetryCount": 10} for p in policies(api, app_name).values())
    assert runner.module("dokku_ps_policy", {"app": app_name, "restart_policy": ""})["changed"] is False


def test_precedence_app_over_global_over_default(runner, api, app_name, standard_images):
    other = app_name + "-b"
    try:
        deploy(runner, app_name, standard_images["base"], web=1, worker=0)
        deploy(runner, other, standard_images["base"], web=1, worker=0)
        runner.module("dokku_ps_policy", {"app": other, "restart_policy": "no"})
        other_ids = ids(api, other)

        predicted, applied = four_step(runner, api, app_name, "dokku_ps_policy",
                                       {"global": True, "restart_policy": "unless-stopped"})
        assert sorted(applied["apps"]) == [app_name], "the app with a policy of its own is not touched"
        assert applied["apps"][app_name]["containers"]["updated"] == ["%s.web.1" % app_name]
        assert applied["apps_changed"] == [app_name]
        assert applied["global"]["restart_policy"] == {"global": "unless-stopped", "computed": "unless-stopped"}
        assert policies(api, app_name)["%s.web.1" % app_name]["Name"] == "unless-stopped"
        assert policies(api, other)["%s.web.1" % other]["Name"] == "no", "the app value wins over the global one"
        assert ids(api, other) == other_ids

        report = runner.module("dokku_ps_report", {"app": app_name})
        assert report["properties"]["restart_policy"] == {"raw": None, "global": "unless-stopped", "computed": "unless-stopped"}

        runner.module("dokku_ps_policy", {"global": True, "restart_policy": ""})
        assert policies(api, app_name)["%s.web.1" % app_name] == {"Name": "on-failure", "MaximumRetryCount": 10}
        glob = runner.module("dokku_ps_report", {"global": True})["global"]
        assert glob["restart_policy"] == {"global": None, "computed": "on-failure:10"}
    finally:
        remove_app_containers(api, other)


def test_stop_timeout_and_restore_properties(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=1, worker=0)
    before = snapshot(api, app_name)
    predicted, applied = four_step(runner, api, app_name, "dokku_ps_policy",
                                   {"app": app_name, "stop_timeout_seconds": "45", "restore": False})
    assert applied["properties"]["stop_timeout_seconds"] == {"raw": 45, "global": None, "computed": 45}
    assert applied["properties"]["restore"] == {"raw": False, "computed": False}
    assert snapshot(api, app_name) == before, "ps:set never restarts anything"
    glob = runner.module("dokku_ps_policy", {"global": True, "stop_timeout_seconds": 90})
    assert glob["global"]["stop_timeout_seconds"] == {"global": 90, "computed": 90}
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["properties"]["stop_timeout_seconds"] == {"raw": 45, "global": 90, "computed": 45}
    unset = runner.module("dokku_ps_policy", {"app": app_name, "stop_timeout_seconds": "", "restore": ""})
    assert unset["properties"]["stop_timeout_seconds"] == {"raw": None, "global": 90, "computed": 90}
    assert unset["properties"]["restore"] == {"raw": None, "computed": True}


def test_bad_policy_input_changes_nothing(runner, api, app_name, standard_images, state_dir):
    deploy(runner, app_name, standard_images["base"], web=1, worker=0)
    cases = [
        ("dokku_ps_policy", {"app": app_name, "restart_policy": "bogus"}, ["restart_policy", "bogus"]),
        ("dokku_ps_policy", {"app": app_name, "restart_policy": "on-failure:abc"}, ["restart_policy"]),
        ("dokku_ps_policy", {"app": app_name, "restart_policy": "on-failure:-1"}, ["restart_policy"]),
        ("dokku_ps_policy", {"app": app_name, "restart_policy": "on-failure:0"}, ["restart_policy"]),
        ("dokku_ps_policy", {"global": True, "restart_policy": "bogus"}, ["restart_policy"]),
        ("dokku_ps_policy", {"app": app_name, "stop_timeout_seconds": -1}, ["stop_timeout_seconds", "negative"]),
        ("dokku_ps_policy", {"app": app_name, "stop_timeout_seconds": "abc"}, ["stop_timeout_seconds"]),
        ("dokku_ps_policy", {"app": app_name, "restore": "maybe"}, ["restore", "boolean"]),
        ("dokku_ps_policy", {"global": True, "restore": False}, ["restore", "app property"]),
        ("dokku_ps_policy", {"restart_policy": "always"}, ["app"]),
        ("dokku_ps_policy", {"app": "Bad_Name", "restart_policy": "always"}, ["app", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        ("dokku_ps_policy", {"app": app_name + "-missing", "restart_policy": "always"}, ["not defined"]),
        ("dokku_ps_state", {"all": True, "state": "started", "parallel": -2}, ["parallel", "-2"]),
        ("dokku_ps_state", {"apps": [app_name, app_name + "-x"], "state": "restarted", "process_type": "web"},
         ["process_type", "one app"]),
        ("dokku_ps_state", {"app": app_name, "state": "started", "process_type": "web"}, ["process_type"]),
        ("dokku_ps_state", {"app": app_name, "state": "restarted", "process_type": "Web!"}, ["process_type"]),
        ("dokku_ps_state", {"app": "Bad_Name", "state": "started"}, ["app", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        ("dokku_ps_state", {"apps": [app_name, "Bad_Name"], "state": "stopped"}, ["apps", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
    ]
    containers_before = snapshot(api, app_name)
    files_before = state_files(state_dir)
    results = run_bad(runner, cases)
    assert_refused(results, cases)
    assert snapshot(api, app_name) == containers_before
    assert state_files(state_dir) == files_before
