"""Health-checked, zero-downtime rollouts and web ports against the real daemon."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest

from tests.support.docker_state import containers
from tests.support.images import build_image

WEB = "web: httpd -f -p $PORT -h /app/www\n"


def site_image(client, tag, page, extra=None):
    files = {"Procfile": WEB, "www/index.html": page}
    files.update(extra or {})
    build_image(client, tag, files=files, cmd=["sleep", "86400"])
    return tag


@pytest.fixture
def images(docker_client, app_name):
    tags = []

    def make(suffix, page, extra=None):
        tag = "dokku-ps-test/%s-%s:latest" % (app_name, suffix)
        tags.append(tag)
        return site_image(docker_client, tag, page, extra)
    yield make
    for tag in tags:
        try:
            docker_client.images.remove(tag, force=True)
        except Exception:  # noqa: BLE001 - cleanup only
            pass


def web_ids(api, app):
    return dict((name, data["Id"]) for name, data in containers(api, app).items() if ".web." in name)


def running_web(api, app):
    return api.containers(filters={"label": ["com.dokku.app-name=%s" % app, "com.dokku.process-type=web"]})


CHECKS = {"web": {"http": ["/index.html Hello"], "wait": 0, "attempts": 3, "timeout": 2}}


def test_failed_check_keeps_the_old_containers(runner, api, app_name, images):
    good = images("good", "<h1>Hello v1</h1>\n")
    bad = images("bad", "<h1>Broken</h1>\n")
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": good, "procfile_path": "Procfile", "checks": CHECKS}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}}),
    ])
    before = web_ids(api, app_name)
    image_before = runner.module("dokku_ps_report", {"app": app_name})["image_id"]

    failed = runner.module("dokku_ps_app", {"name": app_name, "image": bad}, expect_failure=True)
    assert "does not contain 'Hello'" in failed["msg"]
    assert "checks option" in failed["msg"]
    assert "\n" not in failed["msg"]
    assert web_ids(api, app_name) == before, "the old containers keep serving"
    assert all(data["State"]["Running"] for data in containers(api, app_name).values())
    assert not [name for name in containers(api, app_name) if "upcoming" in name], "the new container is removed"
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["image_id"] == image_before, "the rejected definition is not recorded"
    restarted = runner.module("dokku_ps_state", {"app": app_name, "state": "restarted"})
    assert restarted["changed"] is True
    assert all(data["Image"] == image_before for data in containers(api, app_name).values())


def test_passing_rollout_never_leaves_web_down(runner, api, app_name, images):
    v1 = images("v1", "<h1>Hello v1</h1>\n")
    v2 = images("v2", "<h1>Hello v2</h1>\n")
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": v1, "procfile_path": "Procfile", "checks": CHECKS}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}}),
    ])
    before = web_ids(api, app_name)

    samples = []
    stop = threading.Event()

    def watch():
        deadline = time.time() + 120
        while not stop.is_set() and time.time() < deadline:
            samples.append(len(running_web(api, app_name)))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = runner.module("dokku_ps_app", {"name": app_name, "image": v2})
    finally:
        stop.set()
        watcher.join()
    assert result["containers"]["replaced"] == sorted(before)
    after = web_ids(api, app_name)
    assert sorted(after) == sorted(before) and all(after[n] != before[n] for n in before)
    assert len(samples) > 10
    assert min(samples) >= 1, "a web container was running at every moment (%d samples)" % len(samples)


def test_checks_file_in_the_image_is_honoured(runner, api, app_name, images):
    v1 = images("v1", "<h1>Hello</h1>\n")
    strict = images("strict", "<h1>Hello</h1>\n", {"CHECKS": "WAIT=0\nATTEMPTS=2\nTIMEOUT=2\n# a comment\n/missing.html\n"})
    fine = images("fine", "<h1>Hello</h1>\n", {"CHECKS": "WAIT=0\nATTEMPTS=3\n/index.html  Hello\n"})
    runner.module("dokku_ps_app", {"name": app_name, "image": v1, "procfile_path": "Procfile"})
    before = web_ids(api, app_name)
    failed = runner.module("dokku_ps_app", {"name": app_name, "image": strict}, expect_failure=True)
    assert "HTTP 404" in failed["msg"] and "CHECKS file in the image" in failed["msg"]
    assert web_ids(api, app_name) == before
    started = time.time()
    passed = runner.module("dokku_ps_app", {"name": app_name, "image": fine})
    assert passed["containers"]["replaced"] == sorted(before)
    assert time.time() - started < 10, "HTTP checks replace the 10 s default wait"


def test_default_check_catches_a_container_that_dies(runner, api, app_name, images):
    v1 = images("v1", "<h1>Hello</h1>\n")
    runner.module("dokku_ps_app", {"name": app_name, "image": v1, "procfile_path": "Procfile"})
    before = web_ids(api, app_name)
    failed = runner.module("dokku_ps_app", {"name": app_name, "procfile": "web: sh -c 'echo boom-output; sleep 1; exit 3'\n"},
                           expect_failure=True)
    assert "died while its checks ran" in failed["msg"]
    assert "boom-output" in failed["msg"], "the log tail is in the error"
    assert "default" in failed["msg"]
    assert web_ids(api, app_name) == before


def events_of(api, since, ids):
    until = int(time.time()) + 1
    found = []
    for event in api.events(since=since, until=until, decode=True,
                            filters={"event": ["start", "die"], "type": "container"}):
        if event.get("id") in ids:
            found.append((event["timeNano"], event["status"], event["id"]))
    return sorted(found)


def test_skipped_and_disabled(runner, api, app_name, images):
    v1 = images("v1", "<h1>Hello</h1>\n")
    runner.module("dokku_ps_app", {"name": app_name, "image": v1, "procfile_path": "Procfile",
                                   "checks": {"web": "skipped"}})
    old = web_ids(api, app_name)["%s.web.1" % app_name]
    since = int(time.time()) - 1
    started = time.time()
    skipped = runner.module("dokku_ps_state", {"app": app_name, "state": "restarted"})
    assert time.time() - started < 10, "skipped checks do not wait"
    new = web_ids(api, app_name)["%s.web.1" % app_name]
    order = [(status, cid) for _t, status, cid in events_of(api, since, {old, new})]
    assert order.index(("start", new)) < order.index(("die", old)), "skipped: still zero downtime"
    assert skipped["changed"] is True

    runner.module("dokku_ps_app", {"name": app_name, "checks": {"web": {"mode": "disabled"}}})
    old = new
    since = int(time.time()) - 1
    disabled = runner.module("dokku_ps_state", {"app": app_name, "state": "restarted"})
    new = web_ids(api, app_name)["%s.web.1" % app_name]
    order = [(status, cid) for _t, status, cid in events_of(api, since, {old, new})]
    assert order.index(("die", old)) < order.index(("start", new)), "disabled: the old container stops first"
    assert any("stopping the old container first" in w for w in disabled.get("warnings", []))


def test_published_ports(runner, api, app_name, images):
    v1 = images("v1", "<h1>Hello ports</h1>\n")
    runner.module("dokku_ps_app", {"name": app_name, "image": v1, "procfile_path": "Procfile", "publish": "auto",
                                   "checks": {"web": "skipped"}})
    report = runner.modules([
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}}),
        ("dokku_ps_report", {"app": app_name}),
    ])[-1]
    ports = [report["dynos"][dyno]["ports"] for dyno in ("web.1", "web.2")]
    host_ports = set()
    for entry in ports:
        published = [p for p in entry if p["container_port"] == 5000]
        assert published, entry
        host_ports.add(published[0]["host_port"])
        with urllib.request.urlopen("http://127.0.0.1:%d/index.html" % published[0]["host_port"], timeout=5) as r:
            assert b"Hello ports" in r.read()
    assert len(host_ports) == 2, "one ephemeral host port per web container"

    refused = runner.module("dokku_ps_app", {"name": app_name, "publish": 18765}, expect_failure=True)
    assert "publish" in refused["msg"] and "scaled to 2" in refused["msg"]
    fixed = runner.modules([
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 1}}),
        ("dokku_ps_app", {"name": app_name, "publish": 18765}),
    ])[-1]
    assert any("fixed host port 18765" in w for w in fixed.get("warnings", []))
    with urllib.request.urlopen("http://127.0.0.1:18765/index.html", timeout=5) as response:
        assert b"Hello ports" in response.read()
    refused = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}}, expect_failure=True)
    assert "fixed host port 18765" in refused["msg"]
