"""Releases and rollback (docs/releases.md) through the modules, against the real daemon and a private nginx.

Every deploy that changes an app's definition is a numbered release; ``release: N`` rolls back to a kept one
through the usual zero-downtime rollout. The images are built per test (their own tags, and a file naming the
test's app, so their ids are their own: removing one never touches another test's image). The web containers
are PROXY_IMAGE's busybox httpd answering with their hostname.
"""

from __future__ import annotations

import json
import os
import stat
import time

import docker
import pytest
import yaml

from tests.support import images
from tests.support.ansible_runner import REPO_ROOT
from tests.support.docker_state import containers, desired_state, remove_app_containers, snapshot, state_files
from tests.support.four_step import four_step
from tests.support.nginx import BackgroundLoop, PrivateNginx
from tests.support.proxy_apps import WEB, answers, app_args, hostnames, options

QUICK = {"web": {"uptime": 1}}
MASK = "XXXXXX"


@pytest.fixture
def nginx(tmp_path):
    with PrivateNginx(tmp_path / "nginx") as server:
        yield server


@pytest.fixture
def versions(docker_client, api, app_name):
    """Three images of the app, ``v1`` to ``v3`` (tag -> image), removed afterwards with the app's containers (an
    image a running container uses cannot be removed)."""
    built = {}
    for version in ("v1", "v2", "v3"):
        tag = "dokku-ps-test/%s:%s" % (app_name, version)
        files = dict(images.PROXY_FILES, VERSION="%s %s\n" % (app_name, version))
        built[version] = images.build_image(docker_client, tag, files=files, cmd=images.PROXY_WEB_COMMAND,
                                            env={"PORT": "5000"})
    yield dict((version, ("dokku-ps-test/%s:%s" % (app_name, version), image)) for version, image in built.items())
    remove_app_containers(api, app_name)
    for image in built.values():
        try:
            docker_client.images.remove(image.id, force=True)
        except docker.errors.ImageNotFound:
            pass  # the test removed it


def secrets_of(app):
    """Two envs whose values are secrets of this test (unique, long enough to be masked anywhere)."""
    return ({"GREETING": "first-secret-%s" % app, "SHARED": "shared-secret-%s" % app},
            {"GREETING": "second-secret-%s" % app, "SHARED": "shared-secret-%s" % app,
             "ADDED": "added-secret-%s" % app})


def assert_no_secret(value, envs):
    text = json.dumps(value)
    for env in envs:
        for secret in env.values():
            assert secret not in text, "an env value appears in clear"


def web_containers(api, app):
    return dict((name, data) for name, data in containers(api, app).items() if ".web." in name)


def env_of(data):
    return dict(entry.split("=", 1) for entry in data["Config"]["Env"])


def state_path(runner, app):
    return os.path.join(runner.state_dir, "apps", "%s.json" % app)


def state_document(runner, app):
    with open(state_path(runner, app)) as handle:
        return json.load(handle)


def release_numbers(report):
    return [release["number"] for release in report["releases"]]


def test_three_deploys_two_releases_and_a_rollback_through_the_proxy(runner, api, app_name, versions, nginx):
    first_env, second_env = secrets_of(app_name)
    (v1, image1), (v2, image2), (v3, image3) = versions["v1"], versions["v2"], versions["v3"]
    seen = []

    first = runner.module("dokku_ps_app", app_args(app_name, v1, nginx, env=first_env), diff=True)
    assert first["release"]["number"] == 1 and first["release"]["new"] is True
    assert first["release"]["made_by"] == "deploy" and first["release"]["image_id"] == image1.id
    runner.module("dokku_ps_scale", dict(options(nginx), app=app_name, scale={"web": 2}))
    second = runner.module("dokku_ps_app", app_args(app_name, v2, nginx, env=second_env), diff=True)
    assert second["release"]["number"] == 2 and second["release"]["new"] is True
    assert second["diff"]["before"]["release"] == 1 and second["diff"]["after"]["release"] == 2
    assert second["diff"]["after"]["env"]["GREETING"] == MASK + " (changed)"
    seen += [first, second]

    # v3 fails its check: refused, and recorded nowhere
    failing = dict(QUICK["web"], http=["/no-such-page"], attempts=1, wait=0, timeout=2)
    third = runner.module("dokku_ps_app", app_args(app_name, v3, nginx, env=second_env, checks={"web": failing}),
                          expect_failure=True)
    seen.append(third)
    with open(state_path(runner, app_name)) as handle:
        assert image3.id not in handle.read(), "the refused v3 is recorded nowhere"
    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    assert release_numbers(report) == [2, 1] and report["previous_release"] == 1
    assert [release["current"] for release in report["releases"]] == [True, False]
    assert report["releases"][1]["image"] == v1 and report["releases"][1]["image_id"] == image1.id
    assert report["releases"][0]["processes"] == WEB and report["releases"][0]["env"]["ADDED"] == MASK
    assert all(web["Image"] == image2.id for web in web_containers(api, app_name).values())
    before = hostnames(api, app_name)
    seen.append(report)

    # rollback to the previous release: one task, zero failed requests through the proxy
    with BackgroundLoop(nginx.url(), seconds=120, pause=0.01) as loop:
        time.sleep(0.5)
        rollback = runner.module("dokku_ps_app", dict(options(nginx), name=app_name, release=report["previous_release"]),
                                 diff=True)
        time.sleep(0.5)
    seen.append(rollback)
    print("rollback through the proxy: %d requests, %d failed" % (loop.result.sent, loop.result.failed))
    assert loop.result.sent > 50 and loop.result.failed == 0, loop.result.errors
    assert rollback["changed"] is True and rollback["proxy_changed"] == [app_name]
    assert rollback["containers"]["replaced"] == ["%s.web.1" % app_name, "%s.web.2" % app_name]
    assert rollback["release"] == {"number": 3, "made_by": "rollback", "rollback_of": 1, "image": v1,
                                   "image_id": image1.id, "new": True,
                                   "created_at": rollback["release"]["created_at"]}
    assert rollback["diff"]["after"]["image"] == v1 and rollback["diff"]["after"]["env"] == {
        "GREETING": MASK + " (changed)", "SHARED": MASK}
    assert rollback["formation"] == {"web": 2}, "the formation stays"
    webs = web_containers(api, app_name)
    assert len(webs) == 2
    for web in webs.values():
        assert web["Image"] == image1.id, "v1 is back"
        env = env_of(web)
        assert env["GREETING"] == first_env["GREETING"] and "ADDED" not in env, "with the env of release 1"
    after = hostnames(api, app_name)
    assert not before & after and answers(nginx) == after, "the proxy serves the rolled back containers"

    # pinning the release the app already runs is a no-op
    again = runner.module("dokku_ps_app", dict(options(nginx), name=app_name, release=1))
    assert again["changed"] is False and again["release"]["number"] == 3 and again["release"]["new"] is False
    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    seen += [again, report]
    assert release_numbers(report) == [3, 2, 1] and report["release"]["rollback_of"] == 1
    assert report["previous_release"] == 2

    # protected where the docs say: results never carry an env value, the state document is 0600
    assert_no_secret(seen, (first_env, second_env))
    assert stat.S_IMODE(os.stat(state_path(runner, app_name)).st_mode) == 0o600
    document = state_document(runner, app_name)
    assert document["releases"][0]["definition"]["env"] == first_env, "a release keeps its env to roll back to"


def test_rollback_in_four_steps(runner, api, app_name, versions):
    first_env, second_env = secrets_of(app_name)
    (v1, image1), v2 = versions["v1"], versions["v2"][0]
    base = {"name": app_name, "processes": WEB, "checks": QUICK}
    runner.modules([
        ("dokku_ps_app", dict(base, image=v1, env=first_env)),
        ("dokku_ps_app", dict(base, image=v2, env=second_env)),
    ])

    predicted, applied = four_step(runner, api, app_name, "dokku_ps_app", {"name": app_name, "release": 1})
    for result in (predicted, applied):
        assert result["release"]["number"] == 3 and result["release"]["rollback_of"] == 1
        assert result["release"]["new"] is True and result["image_id"] == image1.id
        assert result["diff"]["before"]["image"] == v2 and result["diff"]["after"]["image"] == v1
        assert result["diff"]["after"]["env"] == {"GREETING": MASK + " (changed)", "SHARED": MASK}
        assert result["diff"]["before"]["release"] == 2 and result["diff"]["after"]["release"] == 3
        assert_no_secret(result, (first_env, second_env))
    assert applied["containers"]["replaced"] == ["%s.web.1" % app_name]
    web = web_containers(api, app_name)["%s.web.1" % app_name]
    assert web["Image"] == image1.id and env_of(web)["GREETING"] == first_env["GREETING"]

    # the rollback is a release of its own: going back to release 2 from it is one task too
    forward = runner.module("dokku_ps_app", {"name": app_name, "release": 2})
    assert forward["release"]["number"] == 4 and forward["release"]["rollback_of"] == 2
    assert env_of(web_containers(api, app_name)["%s.web.1" % app_name])["ADDED"] == second_env["ADDED"]


def test_a_rollback_whose_image_is_gone_is_refused_with_nothing_changed(runner, api, app_name, versions,
                                                                        docker_client):
    first_env, second_env = secrets_of(app_name)
    (v1, image1), v2 = versions["v1"], versions["v2"][0]
    base = {"name": app_name, "processes": WEB, "checks": QUICK}
    runner.modules([
        ("dokku_ps_app", dict(base, image=v1, env=first_env)),
        ("dokku_ps_app", dict(base, image=v2, env=second_env)),
    ])
    docker_client.images.remove(image1.id, force=True)

    before, files = snapshot(api, app_name), state_files(runner.state_dir)
    for check in (True, False):
        refused = runner.module("dokku_ps_app", {"name": app_name, "release": 1}, check=check, expect_failure=True)
        message = refused["msg"]
        assert "release 1" in message and v1 in message and image1.id in message, message
        assert "\n" not in message
        assert_no_secret(refused, (first_env, second_env))
    assert snapshot(api, app_name) == before, "containers unchanged"
    assert state_files(runner.state_dir) == files, "state files byte for byte unchanged"

    # a release that is not kept is refused the same way, naming the kept ones
    unknown = runner.module("dokku_ps_app", {"name": app_name, "release": 7}, expect_failure=True)
    assert unknown["msg"] == "release: app %s has no release 7 (kept releases: 1, 2; see dokku_ps_report)" % app_name
    bad = runner.module("dokku_ps_app", {"name": app_name, "release": 0}, expect_failure=True)
    assert bad["msg"].startswith("release: 0 is not a release number")
    assert snapshot(api, app_name) == before and state_files(runner.state_dir) == files


def test_keep_releases_drops_the_oldest(runner, api, app_name, versions):
    (v1, _image1) = versions["v1"]
    base = {"name": app_name, "image": v1, "processes": WEB, "checks": QUICK}
    for number in (1, 2, 3):
        result = runner.module("dokku_ps_app", dict(base, env={"N": "value-%d" % number}))
        assert result["release"]["number"] == number

    kept = runner.module("dokku_ps_policy", {"app": app_name, "keep_releases": 2}, check=True)
    assert kept["releases_dropped"] == [1] and kept["properties"]["keep_releases"]["computed"] == 2
    assert [r["number"] for r in state_document(runner, app_name)["releases"]] == [1, 2, 3], "check mode"
    kept = runner.module("dokku_ps_policy", {"app": app_name, "keep_releases": 2})
    assert kept["changed"] is True and kept["releases_dropped"] == [1]
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert release_numbers(report) == [3, 2]
    assert runner.module("dokku_ps_policy", {"app": app_name, "keep_releases": 2})["changed"] is False

    fourth = runner.module("dokku_ps_app", dict(base, env={"N": "value-4"}))
    assert fourth["release"]["number"] == 4, "numbers only grow"
    assert release_numbers(runner.module("dokku_ps_report", {"app": app_name})) == [4, 3]
    refused = runner.module("dokku_ps_app", {"name": app_name, "release": 1}, expect_failure=True)
    assert "no release 1 (kept releases: 3, 4" in refused["msg"]

    # the global value, for the apps that inherit it; the current release is always kept
    globally = runner.modules([
        ("dokku_ps_policy", {"app": app_name, "keep_releases": ""}),
        ("dokku_ps_policy", {"global": True, "keep_releases": 1}),
    ])[-1]
    assert globally["apps"][app_name]["releases_dropped"] == [3]
    assert globally["global"]["keep_releases"] == {"global": 1, "computed": 1}
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert release_numbers(report) == [4] and report["releases"][0]["current"] is True
    assert report["previous_release"] is None


def test_a_failed_rollback_leaves_the_current_release_serving(runner, api, app_name, versions, nginx):
    v1, (v2, image2) = versions["v1"][0], versions["v2"]
    runner.module("dokku_ps_app", app_args(app_name, v1, nginx))
    # recorded without a rollout (deploy: false): release 2 never passed its checks
    failing = dict(QUICK["web"], http=["/no-such-page"], attempts=1, wait=0, timeout=2)
    recorded = runner.module("dokku_ps_app", app_args(app_name, v1, nginx, checks={"web": failing}, deploy=False))
    assert recorded["release"]["number"] == 2
    runner.module("dokku_ps_app", app_args(app_name, v2, nginx))
    served = answers(nginx, count=5)
    before, desired = snapshot(api, app_name), desired_state(runner.state_dir)

    failed = runner.module("dokku_ps_app", dict(options(nginx), name=app_name, release=2), expect_failure=True)
    assert "no-such-page" in failed["msg"] or "check" in failed["msg"], failed["msg"]
    assert snapshot(api, app_name) == before, "the current release keeps serving"
    assert answers(nginx, count=5) == served
    assert desired_state(runner.state_dir) == desired, "the failed rollback is recorded nowhere"
    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    assert release_numbers(report) == [3, 2, 1] and report["release"]["image_id"] == image2.id


def test_a_fleet_declaration_pins_a_release(runner, api, app_name, versions):
    first_env, second_env = secrets_of(app_name)
    (v1, image1), (v2, image2) = versions["v1"], versions["v2"]
    declaration = {"name": app_name, "image": v2, "processes": WEB, "checks": QUICK, "env": second_env}
    runner.modules([
        ("dokku_ps_fleet", {"apps": [dict(declaration, image=v1, env=first_env)]}),
        ("dokku_ps_fleet", {"apps": [declaration]}),
    ])

    pinned = dict(declaration, release=1)
    predicted, applied = four_step(runner, api, app_name, "dokku_ps_fleet", {"apps": [pinned]})
    for result in (predicted, applied):
        outcome = result["apps"][app_name]
        assert outcome["release"]["number"] == 3 and outcome["release"]["rollback_of"] == 1
        assert any("pins release 1" in warning and "image" in warning and "env" in warning
                   for warning in result.get("warnings", [])), result.get("warnings")
        assert result["diff"]["after"][app_name]["image"] == v1
        assert_no_secret(result, (first_env, second_env))
    web = web_containers(api, app_name)["%s.web.1" % app_name]
    assert web["Image"] == image1.id and env_of(web)["GREETING"] == first_env["GREETING"]

    # the pin removed: the declaration deploys again, as a new release
    unpinned = runner.module("dokku_ps_fleet", {"apps": [declaration]})
    assert unpinned["apps"][app_name]["release"]["number"] == 4
    assert web_containers(api, app_name)["%s.web.1" % app_name]["Image"] == image2.id


def test_releases_after_an_upgrade_and_a_moved_tag(runner, api, app_name, docker_client):
    """A document of the previous version has no releases: its definition becomes release 1 with the next change.
    A rollback finds its image by id, whatever the tag points at now, and a later run without an image keeps it."""
    tag = "dokku-ps-test/%s:latest" % app_name
    old = images.build_image(docker_client, tag, files=dict(images.PROXY_FILES, VERSION="%s old\n" % app_name))
    built = [old]
    try:
        base = {"name": app_name, "processes": WEB, "checks": QUICK}
        runner.module("dokku_ps_app", dict(base, image=tag, env={"MODE": "first-mode-value"}))
        # what the previous version wrote: the same document without releases
        document = state_document(runner, app_name)
        del document["releases"]
        with open(state_path(runner, app_name), "w") as handle:
            json.dump(document, handle)
        assert runner.module("dokku_ps_app", dict(base, image=tag))["changed"] is False, "a no-op writes nothing"
        assert "releases" not in state_document(runner, app_name)

        new = images.build_image(docker_client, tag, files=dict(images.PROXY_FILES, VERSION="%s new\n" % app_name))
        built.append(new)
        moved = runner.module("dokku_ps_app", dict(base, image=tag))
        assert moved["release"]["number"] == 2 and moved["image_id"] == new.id
        report = runner.module("dokku_ps_report", {"app": app_name})
        assert release_numbers(report) == [2, 1] and report["releases"][1]["image_id"] == old.id

        back = runner.module("dokku_ps_app", {"name": app_name, "release": 1})
        assert back["image_id"] == old.id and back["image"] == tag
        assert web_containers(api, app_name)["%s.web.1" % app_name]["Image"] == old.id
        # a run that names no image keeps the release's image id (the tag points at the new image)
        env_only = runner.module("dokku_ps_app", {"name": app_name, "env": {"MODE": "second-mode-value"}})
        assert env_only["image_id"] == old.id and env_only["release"]["number"] == 4
        assert web_containers(api, app_name)["%s.web.1" % app_name]["Image"] == old.id
    finally:
        remove_app_containers(api, app_name)
        for image in built:
            docker_client.images.remove(image.id, force=True)


def test_the_report_playbook_shows_the_releases(runner, app_name, versions):
    v1, v2 = versions["v1"][0], versions["v2"][0]
    base = {"name": app_name, "processes": WEB, "checks": QUICK}
    runner.modules([
        ("dokku_ps_app", dict(base, image=v1)),
        ("dokku_ps_app", dict(base, image=v2)),
        ("dokku_ps_app", {"name": app_name, "release": 1}),
    ])
    with open(os.path.join(REPO_ROOT, "playbooks", "report.yml")) as handle:
        plays = yaml.safe_load(handle)
    plays[0]["vars"] = {"dokku_ps_state_dir": runner.state_dir}
    returncode, results, output = runner.playbook(plays)
    assert returncode == 0, output[-3000:]
    table = results[-1]["result"]["msg"]
    print(table)
    lines = [line.split() for line in table.splitlines() if line.split()[:1] == ["release"]]
    assert [line[:2] for line in lines] == [["release", "3*"], ["release", "2"], ["release", "1"]], table
    assert lines[0][3:7] == ["rollback", "to", "1", v1] and lines[0][-1] == "web", table
    assert lines[1][3:5] == ["deploy", v2] and lines[2][3:5] == ["deploy", v1], table


def test_the_app_role_pins_a_release(runner, api, app_name, versions):
    first_env, second_env = secrets_of(app_name)
    (v1, image1), v2 = versions["v1"], versions["v2"][0]
    declaration = {"name": app_name, "image": v2, "processes": WEB, "checks": QUICK, "env": second_env}

    def role(app, extra_args=()):
        play = {"hosts": "localhost", "gather_facts": False, "roles": ["dokku_ps.docker.app"],
                "vars": {"dokku_ps_app": app, "dokku_ps_state_dir": runner.state_dir}}
        returncode, results, output = runner.playbook([play], extra_args=extra_args)
        assert returncode == 0, output[-3000:]
        [result] = [entry["result"] for entry in results if "apps_pruned" in entry["result"]]
        assert_no_secret([results], (first_env, second_env))
        for env in (first_env, second_env):
            assert all(secret not in output for secret in env.values())
        return result

    role(dict(declaration, image=v1, env=first_env))
    role(declaration)
    pinned = role(dict(declaration, release=1, keep_releases=2), extra_args=["-vvv"])
    outcome = pinned["apps"][app_name]
    assert pinned["changed"] is True and outcome["release"]["rollback_of"] == 1
    assert outcome["properties"]["keep_releases"]["raw"] == 2
    web = web_containers(api, app_name)["%s.web.1" % app_name]
    assert web["Image"] == image1.id and env_of(web)["GREETING"] == first_env["GREETING"]
    assert [release["number"] for release in state_document(runner, app_name)["releases"]] == [2, 3]
    again = role(dict(declaration, release=1, keep_releases=2))
    assert again["changed"] is False, "the pin is idempotent, also once release 1 is dropped"
