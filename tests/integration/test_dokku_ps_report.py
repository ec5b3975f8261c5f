"""dokku_ps_report against the real daemon: fields, running flag, masking, top, read-only."""

from __future__ import annotations

import json

from tests.support.docker_state import containers, snapshot

# the worker's command expands the secret into its argv: the report must mask it there too
PROCESSES = {"web": "sleep 86400", "worker": 'sh -c "echo $API_KEY > /dev/null; sleep 86400"'}


def test_report_fields_inspect_and_top(runner, api, app_name, standard_images):
    runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES,
                                   "env": {"API_KEY": "k3y-v4lue-123", "DOKKU_SETTING": "visible"}})
    runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 2, "worker": 1}})
    found = containers(api, app_name)
    api.stop(found["%s.web.2" % app_name]["Id"], timeout=5)
    before = snapshot(api, app_name)

    for check in (True, False):
        result = runner.module("dokku_ps_report", {"app": app_name, "inspect": True, "top": True}, check=check)
        assert result["changed"] is False
        app = result
        assert "apps" not in result and app["name"] == app_name
        assert app["deployed"] is True
        assert app["processes"] == 3
        assert app["running"] == "mixed"
        assert app["restore"] is True
        assert app["can_scale"] is True
        assert app["formation"] == {"web": 2, "worker": 1}
        assert app["properties"]["restart_policy"] == {"raw": None, "global": None, "computed": "on-failure:10"}
        assert app["properties"]["stop_timeout_seconds"] == {"raw": None, "global": None, "computed": 30}
        assert sorted(app["dynos"]) == ["web.1", "web.2", "worker.1"]
        web1 = app["dynos"]["web.1"]
        assert web1["id"] == found["%s.web.1" % app_name]["Id"]
        assert web1["status"] == "running"
        assert web1["restart_count"] == 0
        assert web1["restart_policy"] == "on-failure:10"
        assert app["dynos"]["web.2"]["status"] == "exited"
        env = web1["inspect"]["Config"]["Env"]
        assert "API_KEY=XXXXXX" in env
        assert "DOKKU_SETTING=visible" in env
        assert "DYNO=web.1" in env and "PORT=5000" in env
        assert "k3y-v4lue-123" not in json.dumps(result)
        worker_cmd = app["dynos"]["worker.1"]["inspect"]["Config"]["Cmd"]
        assert worker_cmd == ["sh", "-c", "echo XXXXXX > /dev/null; sleep 86400"]
        assert web1["top"]["Titles"] and any("sleep" in " ".join(row) for row in web1["top"]["Processes"])
        assert app["dynos"]["web.2"]["top"] is None
    assert snapshot(api, app_name) == before


def test_report_all_apps_and_global(runner, api, app_name, standard_images):
    result = runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"]}),
        ("dokku_ps_report", {}),
    ])[-1]
    assert list(result["apps"]) == [app_name]
    assert result["apps"][app_name]["running"] == "true"
    glob = runner.module("dokku_ps_report", {"global": True})
    assert "apps" not in glob
    assert glob["global"] == {"restart_policy": {"global": None, "computed": "on-failure:10"},
                              "stop_timeout_seconds": {"global": None, "computed": 30},
                              "keep_releases": {"global": None, "computed": 5},
                              "scheduler": {"global": None, "computed": "docker-local"}}


def test_report_of_undeployed_app(runner, api, app_name, standard_images):
    app = runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "deploy": False}),
        ("dokku_ps_report", {"app": app_name}),
    ])[-1]
    assert app["deployed"] is False
    assert app["processes"] == 0
    assert app["running"] == "false"
    assert app["dynos"] == {}
