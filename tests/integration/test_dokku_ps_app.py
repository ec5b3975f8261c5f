"""dokku_ps_app against the real daemon: first deploy, definition changes, absent, in four steps."""

from __future__ import annotations

import json
import os

from tests.support.docker_state import containers, snapshot
from tests.support.four_step import four_step
from tests.support.images import build_image

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}


def app_four_step(runner, api, args):
    return four_step(runner, api, args["name"], "dokku_ps_app", args)


def test_first_deploy_four_steps(runner, api, app_name, standard_images, state_dir):
    args = {"name": app_name, "image": standard_images["base"], "processes": PROCESSES}
    predicted, applied = app_four_step(runner, api, args)
    assert predicted["containers"]["created"] == ["%s.web.1" % app_name]
    assert applied["formation"] == {"web": 1, "worker": 0}
    assert applied["deployed"] is True
    assert applied["diff"]["before"] == {}
    assert applied["diff"]["after"]["processes"] == PROCESSES
    found = containers(api, app_name)
    assert sorted(found) == ["%s.web.1" % app_name]
    assert found["%s.web.1" % app_name]["State"]["Running"]
    path = os.path.join(state_dir, "apps", app_name + ".json")
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == oct(0o700)


def test_check_mode_of_new_app_writes_no_state(runner, api, app_name, standard_images, state_dir):
    result = runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"]}, check=True)
    assert result["changed"] is True
    assert not os.path.exists(os.path.join(state_dir, "apps", app_name + ".json"))
    assert containers(api, app_name) == {}


def test_env_change_replaces_every_container_and_never_shows_values(runner, api, app_name, standard_images):
    base = {"name": app_name, "image": standard_images["base"], "processes": PROCESSES,
            "env": {"API_TOKEN": "s3cr3t-one", "MODE": "a"}, "checks": {"web": {"uptime": 1}, "worker": "skipped"}}
    runner.modules([
        ("dokku_ps_app", base),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2, "worker": 1}}),
    ])
    old_ids = dict((name, data["Id"]) for name, data in containers(api, app_name).items())

    changed = dict(base, env={"API_TOKEN": "s3cr3t-two", "MODE": "a", "EXTRA": "x"})
    predicted, applied = app_four_step(runner, api, changed)
    assert predicted["containers"]["replaced"] == sorted(old_ids)
    assert applied["diff"]["after"]["env"] == {"API_TOKEN": "XXXXXX (changed)", "MODE": "XXXXXX",
                                               "EXTRA": "XXXXXX (added)"}
    dumped = json.dumps([predicted, applied])
    assert "s3cr3t" not in dumped
    found = containers(api, app_name)
    assert sorted(found) == sorted(old_ids), "replacements must keep the final names"
    for name, data in found.items():
        assert data["Id"] != old_ids[name]
        assert data["State"]["Running"]
        assert "API_TOKEN=s3cr3t-two" in data["Config"]["Env"]
    assert not [name for name in found if "upcoming" in name]


def test_unchanged_definition_keeps_containers(runner, api, app_name, standard_images):
    args = {"name": app_name, "image": standard_images["base"], "processes": PROCESSES}
    runner.module("dokku_ps_app", args)
    ids = snapshot(api, app_name)
    again = runner.module("dokku_ps_app", {"name": app_name})  # everything omitted: recorded values kept
    assert again["changed"] is False
    assert snapshot(api, app_name) == ids


def test_new_image_behind_same_tag_is_a_change(runner, api, app_name, docker_client):
    tag = "dokku-ps-test/%s:latest" % app_name
    build_image(docker_client, tag, files={"VERSION": "1\n"}, cmd=["sleep", "86400"])
    try:
        runner.module("dokku_ps_app", {"name": app_name, "image": tag})
        old = containers(api, app_name)["%s.web.1" % app_name]
        build_image(docker_client, tag, files={"VERSION": "2\n"}, cmd=["sleep", "86400"])
        result = runner.module("dokku_ps_app", {"name": app_name, "image": tag})
        assert result["changed"] is True
        assert result["containers"]["replaced"] == ["%s.web.1" % app_name]
        new = containers(api, app_name)["%s.web.1" % app_name]
        assert new["Image"] != old["Image"]
        assert new["Image"] == result["image_id"]
    finally:
        from tests.support.docker_state import remove_app_containers
        remove_app_containers(api, app_name)
        docker_client.images.remove(tag, force=True)


def test_procfile_text_and_removed_type(runner, api, app_name, standard_images):
    procfile = "# comment\r\nweb: sleep 86400\r\nclock: sleep 86400\r\n"
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "procfile": procfile}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"clock": 1}}),
    ])
    assert sorted(containers(api, app_name)) == ["%s.clock.1" % app_name, "%s.web.1" % app_name]
    result = runner.module("dokku_ps_app", {"name": app_name, "procfile": "web: sleep 86400\n"})
    assert result["formation"] == {"web": 1}
    assert result["containers"]["removed"] == ["%s.clock.1" % app_name]
    assert any("clock" in warning for warning in result.get("warnings", []))
    assert sorted(containers(api, app_name)) == ["%s.web.1" % app_name]


def test_procfile_path_expands_port(runner, api, app_name, standard_images):
    result = runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["demo"],
                                            "procfile_path": "Procfile", "web_port": 5080})
    assert result["formation"] == {"web": 1, "worker": 0}
    web = containers(api, app_name)["%s.web.1" % app_name]
    assert web["Config"]["Cmd"] == ["httpd", "-f", "-p", "5080", "-h", "/app/www"]
    assert "PORT=5080" in web["Config"]["Env"]


def test_absent_four_steps(runner, api, app_name, standard_images, state_dir):
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2, "worker": 1}}),
    ])
    before = snapshot(api, app_name)
    args = {"name": app_name, "state": "absent"}
    predicted = runner.module("dokku_ps_app", args, check=True)
    assert predicted["changed"] is True
    assert predicted["containers"]["removed"] == sorted(before)
    assert snapshot(api, app_name) == before
    applied = runner.module("dokku_ps_app", args)
    assert applied["changed"] is True
    assert containers(api, app_name) == {}
    assert not os.path.exists(os.path.join(state_dir, "apps", app_name + ".json"))
    assert runner.module("dokku_ps_app", args, check=True)["changed"] is False
    assert runner.module("dokku_ps_app", args)["changed"] is False


def test_stopped_container_is_started_by_a_deploy(runner, api, app_name, standard_images):
    args = {"name": app_name, "image": standard_images["base"], "processes": PROCESSES}
    runner.module("dokku_ps_app", args)
    web = containers(api, app_name)["%s.web.1" % app_name]
    api.stop(web["Id"], timeout=5)
    result = runner.module("dokku_ps_app", args)
    assert result["changed"] is True
    assert result["containers"]["started"] == ["%s.web.1" % app_name]
    again = containers(api, app_name)["%s.web.1" % app_name]
    assert again["Id"] == web["Id"]
    assert again["State"]["Running"]


def test_env_values_never_reach_the_output(runner, api, app_name, standard_images):
    """Neither short nor long env values appear anywhere in -vvv output; short ones garble nothing."""
    args = {"name": app_name, "image": standard_images["base"], "processes": PROCESSES,
            "env": {"WEB_CONCURRENCY": "1", "DATABASE_URL": "postgres://u:Pa55-w0rd-xyz@db/app"}}
    returncode, results, output = runner.tasks([{"dokku_ps.docker.dokku_ps_app": args},
                                                {"dokku_ps.docker.dokku_ps_report": {"app": app_name,
                                                                                     "inspect": True}}],
                                               diff=True, extra_args=["-vvv"])
    assert returncode == 0, output[-3000:]
    assert "Pa55-w0rd-xyz" not in output
    assert "Pa55-w0rd-xyz" not in json.dumps(results)
    report = results[-1]["result"]
    assert "web.1" in report["dynos"], "a short env value must not garble names"
    env = report["dynos"]["web.1"]["inspect"]["Config"]["Env"]
    assert "DATABASE_URL=XXXXXX" in env and "WEB_CONCURRENCY=XXXXXX" in env and "DYNO=web.1" in env
