"""dokku_ps_state against the real daemon: stop/start in four steps, restart, rebuild, many apps."""

from __future__ import annotations

import json

from tests.support.docker_state import containers, remove_app_containers
from tests.support.four_step import four_step
from tests.support.images import build_image

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
# a short uptime check keeps replacements quick (the 10 s default is tested in test_rollouts.py)
QUICK = {"web": {"uptime": 1}, "worker": {"uptime": 1}, "clock": {"uptime": 1}}


def deploy(runner, app, image, web=2, worker=1):
    runner.modules([
        ("dokku_ps_app", {"name": app, "image": image, "processes": PROCESSES, "checks": QUICK}),
        ("dokku_ps_scale", {"app": app, "scale": {"web": web, "worker": worker}}),
    ])


def ids(api, app):
    return dict((name, data["Id"]) for name, data in containers(api, app).items())


def test_stop_and_start_keep_the_containers(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"])
    before = ids(api, app_name)

    predicted, applied = four_step(runner, api, app_name, "dokku_ps_state", {"app": app_name, "state": "stopped"})
    assert applied["status"] == "changed"
    assert applied["containers"]["stopped"] == sorted(before)
    assert predicted["containers"] == applied["containers"]
    found = containers(api, app_name)
    assert ids(api, app_name) == before, "stop keeps the containers"
    for data in found.values():
        assert data["State"]["Status"] == "exited"
        assert data["HostConfig"]["RestartPolicy"]["Name"] == "no"
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["restore"] is False and report["running"] == "false"

    # a stopped app stays stopped when scaled: the formation is recorded only
    scaled = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"worker": 2}})
    assert scaled["containers"]["created"] == []

    predicted, applied = four_step(runner, api, app_name, "dokku_ps_state", {"app": app_name, "state": "started"})
    outcome = applied
    assert outcome["containers"]["started"] == sorted(before)
    assert outcome["containers"]["created"] == ["%s.worker.2" % app_name]
    found = containers(api, app_name)
    assert all(data["State"]["Running"] for data in found.values())
    for name, container_id in before.items():
        assert found[name]["Id"] == container_id, "start reuses the stopped containers"
        assert found[name]["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 10}
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["restore"] is True and report["running"] == "true"


def test_restart_replaces_every_container_or_one_type(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"])
    before = ids(api, app_name)
    result = runner.module("dokku_ps_state", {"app": app_name, "state": "restarted"})
    assert result["changed"] is True
    assert result["containers"]["replaced"] == sorted(before)
    after = ids(api, app_name)
    assert sorted(after) == sorted(before), "the names stay"
    assert all(after[name] != before[name] for name in before), "every container is new"
    assert all(data["State"]["Running"] for data in containers(api, app_name).values())

    only = runner.module("dokku_ps_state", {"app": app_name, "state": "restarted", "process_type": "worker"})
    assert only["containers"]["replaced"] == ["%s.worker.1" % app_name]
    final = ids(api, app_name)
    assert final["%s.worker.1" % app_name] != after["%s.worker.1" % app_name]
    assert final["%s.web.1" % app_name] == after["%s.web.1" % app_name]
    assert final["%s.web.2" % app_name] == after["%s.web.2" % app_name]


def test_restart_of_a_stopped_app_starts_it(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=1, worker=0)
    result = runner.modules([
        ("dokku_ps_state", {"app": app_name, "state": "stopped"}),
        ("dokku_ps_state", {"app": app_name, "state": "restarted"}),
    ])[-1]
    assert result["restore"] is True
    assert all(data["State"]["Running"] for data in containers(api, app_name).values())


def test_rebuild_runs_the_image_the_tag_points_to_now(runner, api, app_name, docker_client):
    tag = "dokku-ps-test/%s:latest" % app_name
    build_image(docker_client, tag, files={"Procfile": "web: sleep 86400\n", "VERSION": "1\n"})
    try:
        runner.module("dokku_ps_app", {"name": app_name, "image": tag, "procfile_path": "Procfile", "checks": QUICK})
        old = containers(api, app_name)["%s.web.1" % app_name]
        new_image = build_image(docker_client, tag, files={"Procfile": "web: sleep 86401\nclock: sleep 86400\n",
                                                           "VERSION": "2\n"})
        restarted = runner.module("dokku_ps_state", {"app": app_name, "state": "restarted"})
        assert containers(api, app_name)["%s.web.1" % app_name]["Image"] == old["Image"], "restart keeps the image"
        assert restarted["changed"] is True
        rebuilt = runner.module("dokku_ps_state", {"app": app_name, "state": "rebuilt"})
        assert rebuilt["containers"]["replaced"] == ["%s.web.1" % app_name]
        web = containers(api, app_name)["%s.web.1" % app_name]
        assert web["Image"] == new_image.id
        assert web["Config"]["Cmd"] == ["sleep", "86401"], "the Procfile is read again from the new image"
        report = runner.module("dokku_ps_report", {"app": app_name})
        assert report["image_id"] == new_image.id
        assert report["formation"] == {"web": 1, "clock": 0}
    finally:
        remove_app_containers(api, app_name)
        docker_client.images.remove(tag, force=True)


def test_undeployed_app_is_skipped(runner, api, app_name, standard_images):
    runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "deploy": False})
    for state in ("started", "stopped", "restarted", "restored"):
        result = runner.module("dokku_ps_state", {"app": app_name, "state": state})
        assert result["changed"] is False
        assert (result["name"], result["status"], result["reason"]) == (app_name, "skipped", "not deployed")
    assert containers(api, app_name) == {}


def test_all_apps_in_parallel_and_one_broken_app(runner, api, app_name, docker_client, standard_images):
    names = ["%s-%02d" % (app_name, number) for number in range(11)]
    broken_tag = "dokku-ps-test/%s-broken:latest" % app_name
    build_image(docker_client, broken_tag, files={"BROKEN": "1\n"}, cmd=["sleep", "86400"])
    try:
        declaration = {"image": standard_images["base"], "processes": {"web": "sleep 86400"}, "checks": QUICK}
        tasks = [{"dokku_ps.docker.dokku_ps_app": dict(declaration, name=name)} for name in names[:-1]]
        tasks.append({"dokku_ps.docker.dokku_ps_app": {"name": names[-1], "image": broken_tag}})
        returncode, _results, output = runner.tasks(tasks)
        assert returncode == 0, output[-3000:]
        before = dict((name, ids(api, name)) for name in names)
        docker_client.images.remove(broken_tag, force=True)  # the tag goes; its running container keeps the id

        result = runner.module("dokku_ps_state", {"all": True, "state": "rebuilt", "parallel": -1},
                               expect_failure=True)
        assert "1 of 11 app(s) failed" in result["msg"]
        assert list(result["apps_failed"]) == [names[-1]]
        assert "not found" in result["apps_failed"][names[-1]]
        assert sorted(result["apps_changed"]) == sorted(names[:-1])
        for name in names[:-1]:
            assert result["apps"][name]["status"] == "changed"
            assert ids(api, name)["%s.web.1" % name] != before[name]["%s.web.1" % name]
        assert ids(api, names[-1]) == before[names[-1]], "the broken app is left as it was"

        stopped = runner.module("dokku_ps_state", {"all": True, "state": "stopped", "parallel": 4})
        assert sorted(stopped["apps_changed"]) == sorted(names)
        assert not any(data["State"]["Running"] for name in names for data in containers(api, name).values())
        started = runner.module("dokku_ps_state", {"apps": names[:3], "state": "started", "parallel": -1})
        assert sorted(started["apps_changed"]) == sorted(names[:3])
        assert json.dumps(started["apps_failed"]) == "{}"
    finally:
        for name in names:
            remove_app_containers(api, name)
