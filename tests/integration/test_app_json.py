"""app.json (SPEC §12, docs/app-json.md): formation and max_parallel, from the image or the app_json option.

Images carrying an app.json are built locally from busybox like the other test images (tests/support/images.py);
each test tags its own, so two workers never rebuild one another's image.
"""

from __future__ import annotations

import json

import pytest

from tests.support.docker_state import containers, snapshot, state_files
from tests.support.four_step import four_step
from tests.support.images import build_image

PROCFILE = "web: sleep 86400\nworker: sleep 86400\nclock: sleep 86400\n"
QUICK = {"web": {"uptime": 1}, "worker": {"uptime": 1}}


def app_image(docker_client, tag, app_json=None, extra=None):
    files = {"Procfile": PROCFILE}
    if app_json is not None:
        files["app.json"] = app_json if isinstance(app_json, str) else json.dumps(app_json)
    files.update(extra or {})
    build_image(docker_client, tag, files=files)
    return tag


def running(api, app):
    return sorted(name[len(app) + 1:] for name, data in containers(api, app).items() if data["State"]["Running"])


def declare(app, image, **extra):
    args = {"name": app, "image": image, "procfile_path": "Procfile", "checks": QUICK}
    args.update(extra)
    return args


def test_the_image_formation_applies_and_owns_the_scale(runner, api, app_name, docker_client):
    image = app_image(docker_client, "dokku-ps-test/app-json-formation:v1",
                      {"formation": {"web": {"quantity": 2}, "worker": {"quantity": 1}},
                       "cron": [{"command": "true", "schedule": "@daily"}], "scripts": {"dokku": {}}})
    result = runner.module("dokku_ps_app", declare(app_name, image))
    assert result["formation"] == {"web": 2, "worker": 1, "clock": 0}
    assert result["can_scale"] is False
    assert running(api, app_name) == ["web.1", "web.2", "worker.1"]

    before = snapshot(api, app_name)
    refused = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 3}}, expect_failure=True)
    assert "app.json" in refused["msg"] and "scale" in refused["msg"] and "\n" not in refused["msg"]
    fleet = runner.module("dokku_ps_fleet", {"apps": [dict(declare(app_name, image), scale={"worker": 2})]},
                          expect_failure=True)
    assert "app.json" in fleet["msg"] and "scale" in fleet["msg"]
    assert snapshot(api, app_name) == before, "a refused scale changes no container"

    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["can_scale"] is False


def test_a_new_image_with_other_quantities_changes_the_formation(runner, api, app_name, docker_client):
    first = app_image(docker_client, "dokku-ps-test/app-json-quantity:v1",
                      {"formation": {"web": {"quantity": 1}, "worker": {"quantity": 2}}})
    second = app_image(docker_client, "dokku-ps-test/app-json-quantity:v2",
                       {"formation": {"worker": {"quantity": 1}, "clock": {"quantity": 1}}})
    runner.module("dokku_ps_app", declare(app_name, first))
    assert running(api, app_name) == ["web.1", "worker.1", "worker.2"]
    result = runner.module("dokku_ps_app", declare(app_name, second))
    # Dokku's rule: the listed quantities, every other type (web included) 0
    assert result["formation"] == {"web": 0, "worker": 1, "clock": 1}
    assert running(api, app_name) == ["clock.1", "worker.1"]


def test_the_app_json_option_wins_over_the_image_and_an_empty_one_gives_it_back(runner, api, app_name,
                                                                                docker_client):
    image = app_image(docker_client, "dokku-ps-test/app-json-option:v1", {"formation": {"web": {"quantity": 1}}})
    inline = {"formation": {"web": {"quantity": 2}, "worker": {"quantity": 1}}}
    predicted, applied = four_step(runner, api, app_name, "dokku_ps_app", declare(app_name, image, app_json=inline))
    assert applied["formation"] == {"web": 2, "worker": 1, "clock": 0}
    assert running(api, app_name) == ["web.1", "web.2", "worker.1"]
    # the same document as JSON text is the same declaration
    again = runner.module("dokku_ps_app", declare(app_name, image, app_json=json.dumps(inline)))
    assert again["changed"] is False
    # an empty option: the image's own app.json applies again
    back = runner.module("dokku_ps_app", declare(app_name, image, app_json={}))
    assert back["formation"] == {"web": 1, "worker": 0, "clock": 0}
    assert running(api, app_name) == ["web.1"]


def test_without_quantities_the_formation_stays_scalable(runner, api, app_name, docker_client):
    image = app_image(docker_client, "dokku-ps-test/app-json-noquantity:v1",
                      {"formation": {"web": {"max_parallel": 2}}, "healthchecks": {}})
    result = runner.module("dokku_ps_app", declare(app_name, image))
    assert result["can_scale"] is True and result["formation"]["web"] == 1
    scaled = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}})
    assert scaled["containers"]["created"] == ["%s.web.2" % app_name]


def _started(api, app, names):
    data = containers(api, app)
    return dict((name, data["%s.%s" % (app, name)]["State"]["StartedAt"]) for name in names)


@pytest.mark.parametrize("max_parallel, batches", [(1, [["web.1"], ["web.2"], ["web.3"]]),
                                                   (2, [["web.1", "web.2"], ["web.3"]])])
def test_max_parallel_bounds_how_many_roll_at_once(runner, api, app_name, docker_client, max_parallel, batches):
    document = {"formation": {"web": {"quantity": 3, "max_parallel": max_parallel}}}
    image = app_image(docker_client, "dokku-ps-test/app-json-parallel:v1", document)
    checks = {"web": {"uptime": 3}}
    result = runner.modules([
        ("dokku_ps_app", declare(app_name, image, checks=checks)),
        ("dokku_ps_app", declare(app_name, image, checks=checks, env={"RELEASE": "2"})),
    ])[-1]
    assert result["containers"]["replaced"] == ["%s.web.%d" % (app_name, i) for i in (1, 2, 3)]
    # a batch's new containers start together; the next batch starts only after they passed their 3 s check
    started = _started(api, app_name, ["web.1", "web.2", "web.3"])
    order = sorted(started, key=lambda name: started[name])
    seen = []
    for batch in batches:
        group = order[len(seen):len(seen) + len(batch)]
        assert sorted(group) == batch, (order, started)
        seen.extend(group)
    from datetime import datetime

    def at(name):
        return datetime.fromisoformat(started[name][:26].rstrip("Z"))

    for previous, following in zip(batches, batches[1:]):
        gap = (min(at(name) for name in following) - max(at(name) for name in previous)).total_seconds()
        assert gap >= 2.9, "batch %s started %.2f s after %s" % (following, gap, previous)
    for batch in batches:
        spread = (max(at(name) for name in batch) - min(at(name) for name in batch)).total_seconds()
        assert spread < 2.9, "one batch rolls together: %s spread %.2f s" % (batch, spread)


BAD_DOCUMENTS = [
    ("{not json", ["invalid JSON", "line 1"]),
    ("[1, 2]", ["top level", "object"]),
    ({"formation": {"web": {"quantity": -1}}}, ["formation.web.quantity"]),
    ({"formation": {"web": {"quantity": "two"}}}, ["formation.web.quantity"]),
    ({"formation": {"web": {"quantity": 1, "max_parallel": 0}}}, ["formation.web.max_parallel"]),
    ({"formation": {"sidekick": {"quantity": 1}}}, ["formation.sidekick.quantity"]),
    ({"formation": {"Bad_Type": {"quantity": 0}}}, ["formation"]),
    ({"healthchecks": {"web": [{"type": "sometimes", "path": "/"}]}}, ["healthchecks.web[0].type"]),
    ({"healthchecks": {"web": [{"attempts": -3}]}}, ["healthchecks.web[0].attempts"]),
    ({"healthchecks": {"web": "not a list"}}, ["healthchecks.web"]),
]


def test_every_bad_document_is_refused_with_nothing_changed(runner, api, app_name, docker_client):
    good = app_image(docker_client, "dokku-ps-test/app-json-good:v1", {"formation": {"web": {"quantity": 1}}})
    runner.module("dokku_ps_app", declare(app_name, good))
    before, files = snapshot(api, app_name), state_files(runner.state_dir)
    # one playbook: each bad document given inline, then in an image (every task may fail, the play goes on)
    tasks, expected = [], []
    for number, (document, words) in enumerate(BAD_DOCUMENTS):
        bad = app_image(docker_client, "dokku-ps-test/app-json-bad:%d" % number, document)
        for args, source in ((declare(app_name, good, app_json=document), "app_json option"),
                             (declare(app_name, bad), "/app/app.json in image %s" % bad)):
            tasks.append({"name": "bad %d from %s" % (number, source), "ignore_errors": True,
                          "dokku_ps.docker.dokku_ps_app": args})
            expected.append((source, words))
    _returncode, results, output = runner.tasks(tasks)
    assert len(results) == len(expected), output[-3000:]
    for entry, (source, words) in zip(results, expected):
        message = entry["result"].get("msg", "")
        assert entry["status"] == "failed", (source, words, entry["result"])
        assert message.startswith(source) and all(word in message for word in words), message
        assert "\n" not in message, message
    assert snapshot(api, app_name) == before and state_files(runner.state_dir) == files


@pytest.mark.parametrize("kind", ["startup", "readiness"])
def test_a_failing_startup_check_keeps_the_old_containers(runner, api, app_name, docker_client, kind):
    good = app_image(docker_client, "dokku-ps-test/app-json-startup:v1",
                     {"healthchecks": {"web": [{"type": "startup", "name": "boot",
                                                "command": ["/bin/sh", "-c", "echo booted"]}]}})
    bad = app_image(docker_client, "dokku-ps-test/app-json-startup:v2-%s" % kind,
                    {"healthchecks": {"web": [{"type": "startup", "name": "boot",
                                               "command": ["/bin/sh", "-c", "echo booted"]},
                                              {"type": kind, "name": "warm", "attempts": 2, "wait": 1,
                                               "command": ["/bin/sh", "-c", "echo cache-still-cold; exit 4"]}]}})
    args = {"name": app_name, "image": good, "procfile_path": "Procfile"}
    first = runner.module("dokku_ps_app", args)
    assert first["containers"]["created"] == ["%s.web.1" % app_name]
    before = snapshot(api, app_name)
    failed = runner.module("dokku_ps_app", dict(args, image=bad), expect_failure=True)
    message = failed["msg"]
    assert "%s check 'warm'" % kind in message and "cache-still-cold" in message and "app.json" in message, message
    assert "exit status 4" in message and "2 attempt(s)" in message, message
    assert snapshot(api, app_name) == before, "the old container keeps serving, nothing else is left"


def _health(api, app, dyno, wanted, seconds=30):
    import time

    deadline = time.monotonic() + seconds
    status = None
    while time.monotonic() < deadline:
        data = containers(api, app)["%s.%s" % (app, dyno)]
        status = ((data["State"].get("Health") or {}).get("Status"))
        if status == wanted:
            return data
        time.sleep(0.5)
    raise AssertionError("%s.%s is %s after %d s, not %s" % (app, dyno, status, seconds, wanted))


def test_a_liveness_check_is_the_containers_docker_health(runner, api, app_name, docker_client):
    image = app_image(docker_client, "dokku-ps-test/app-json-liveness:v1", {
        "formation": {"web": {"quantity": 1}, "worker": {"quantity": 1}},
        "healthchecks": {"web": [{"type": "liveness", "name": "alive", "wait": 1, "timeout": 2, "attempts": 1,
                                  "command": ["/bin/sh", "-c", "exit 0"]}],
                         "worker": [{"type": "liveness", "name": "queue", "wait": 1, "timeout": 2, "attempts": 2,
                                     "command": ["/bin/sh", "-c", "exit 1"]}]}})
    runner.module("dokku_ps_app", declare(app_name, image))
    web = _health(api, app_name, "web.1", "healthy")
    assert web["Config"]["Healthcheck"]["Test"] == ["CMD", "/bin/sh", "-c", "exit 0"]
    assert web["Config"]["Healthcheck"]["Interval"] == 10 ** 9 and web["Config"]["Healthcheck"]["Retries"] == 1
    _health(api, app_name, "worker.1", "unhealthy")
    assert running(api, app_name) == ["web.1", "worker.1"], "liveness gates nothing: an unhealthy worker runs on"
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["dynos"]["web.1"]["health"] == "healthy" and report["dynos"]["worker.1"]["health"] == "unhealthy"
    assert report["sources"]["formation"] == "app.json"
    assert report["sources"]["app_json"] == "/app/app.json in image %s" % image
    # the same document again changes nothing; a changed liveness check replaces the container it concerns
    assert runner.module("dokku_ps_app", declare(app_name, image))["changed"] is False
    changed = runner.module("dokku_ps_app", declare(app_name, image, app_json={
        "formation": {"web": {"quantity": 1}, "worker": {"quantity": 1}},
        "healthchecks": {"web": [{"type": "liveness", "name": "alive", "wait": 2, "timeout": 2, "attempts": 1,
                                  "command": ["/bin/sh", "-c", "exit 0"]}]}}))
    assert changed["containers"]["replaced"] == ["%s.web.1" % app_name, "%s.worker.1" % app_name]
    assert "Healthcheck" not in containers(api, app_name)["%s.worker.1" % app_name]["Config"] or not containers(
        api, app_name)["%s.worker.1" % app_name]["Config"]["Healthcheck"]
