"""Every bad input of SPEC §6 that these modules accept fails with one line naming the field and the rule,
and changes nothing: containers and state files are byte-for-byte the same afterwards."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.ansible_runner import Runner
from tests.support.bad_input import assert_refused, run_bad
from tests.support.docker_state import snapshot, state_files

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}


@pytest.fixture
def deployed(runner, api, app_name, standard_images):
    runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES,
                                   "env": {"TOKEN": "abc"}})
    runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 1, "worker": 1}})
    return app_name


def test_bad_input_is_refused_and_changes_nothing(runner, api, deployed, state_dir, standard_images):
    app = deployed
    image = standard_images["base"]
    cases = [
        ("dokku_ps_app", {"name": "Bad_Name", "image": image}, ["name", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        ("dokku_ps_app", {"name": "a" * 64, "image": image}, ["name", "63 characters"]),
        ("dokku_ps_app", {"name": "-lead", "image": image}, ["name"]),
        ("dokku_ps_app", {"name": app, "processes": {"Web": "sleep 1"}}, ["processes", "DNS label"]),
        ("dokku_ps_app", {"name": app, "processes": {"web": ""}}, ["processes.web", "non-empty"]),
        ("dokku_ps_app", {"name": app, "procfile": "web: sleep 1\nweb: sleep 2\n"}, ["procfile", "duplicate"]),
        ("dokku_ps_app", {"name": app, "procfile": "web sleep 1\n"}, ["procfile"]),
        ("dokku_ps_app", {"name": app + "-new"}, ["image", "required"]),
        ("dokku_ps_app", {"name": app, "image": "dokku-ps-test/does-not-exist:nope"}, ["image", "not found"]),
        ("dokku_ps_app", {"name": app, "env": {"BAD-KEY": "x"}}, ["env", "BAD-KEY"]),
        ("dokku_ps_app", {"name": app, "env": {"DYNO": "x"}}, ["env", "DYNO"]),
        ("dokku_ps_app", {"name": app, "web_port": 70000}, ["web_port", "1-65535"]),
        ("dokku_ps_app", {"name": app, "processes": {"web": "sleep 'unbalanced"}}, ["processes"]),
        ("dokku_ps_scale", {"app": app, "scale": {"web": -1}}, ["scale.web", "negative"]),
        ("dokku_ps_scale", {"app": app, "scale": {"web": "abc"}}, ["scale.web", "integer"]),
        ("dokku_ps_scale", {"app": app, "scale": {"web": 1.5}}, ["scale.web", "integer"]),
        ("dokku_ps_scale", {"app": app, "scale": {"Web!": 1}}, ["scale", "DNS label"]),
        ("dokku_ps_scale", {"app": app, "scale": {"unknown": 2}},
         ["unknown is not a valid process name to scale up"]),
        ("dokku_ps_scale", {"app": app + "-missing", "scale": {"web": 1}}, ["app", "not defined"]),
        ("dokku_ps_scale", {"app": "UPPER", "scale": {"web": 1}}, ["app", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        ("dokku_ps_report", {"app": "UPPER"}, ["app", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        ("dokku_ps_report", {"app": app + "-missing"}, ["app", "not defined"]),
    ]
    containers_before = snapshot(api, app)
    state_before = state_files(state_dir)
    results = run_bad(runner, cases)
    assert_refused(results, cases)
    assert snapshot(api, app) == containers_before
    assert state_files(state_dir) == state_before


def test_docker_unreachable_is_a_plain_sentence(state_dir, tmp_path, app_name):
    runner = Runner(state_dir, docker_host="unix://%s/missing.sock" % tmp_path, workdir=str(tmp_path))
    cases = [
        ("dokku_ps_scale", {"app": app_name}, ["Is the Docker daemon running?"]),
        ("dokku_ps_report", {}, ["Is the Docker daemon running?"]),
        ("dokku_ps_app", {"name": app_name, "image": "x"}, ["Is the Docker daemon running?"]),
    ]
    results = run_bad(runner, cases)
    assert_refused(results, cases)


@pytest.mark.parametrize("content, problem", [
    ('{"schema_version": 1, "name": "x"', "JSON"),
    ("not json at all", "JSON"),
    ("[]", ""),
    (None, "minimum"),
])
def test_damaged_state_file_is_refused_and_kept(runner, api, deployed, state_dir, content, problem):
    app = deployed
    path = os.path.join(state_dir, "apps", app + ".json")
    if content is None:
        with open(path) as handle:
            document = json.load(handle)
        document["formation"]["web"] = -1
        content = json.dumps(document)
    with open(path, "w") as handle:
        handle.write(content)
    containers_before = snapshot(api, app)
    cases = [
        ("dokku_ps_app", {"name": app}, [path, problem]),
        ("dokku_ps_scale", {"app": app, "scale": {"web": 2}}, [path, problem]),
        ("dokku_ps_report", {"app": app}, [path, problem]),
    ]
    results = run_bad(runner, cases)
    assert_refused(results, cases)
    with open(path) as handle:
        assert handle.read() == content
    assert snapshot(api, app) == containers_before


def test_foreign_container_on_our_name_is_never_touched(runner, api, deployed, standard_images):
    app = deployed
    foreign = api.create_container(standard_images["base"], name="%s.web.2" % app)
    api.start(foreign["Id"])
    before = snapshot(api, app)
    result = runner.module("dokku_ps_scale", {"app": app, "scale": {"web": 2}}, expect_failure=True)
    assert "%s.web.2" % app in result["msg"] and "untouched" in result["msg"]
    assert "\n" not in result["msg"]
    assert snapshot(api, app) == before
    # absent removes our containers only
    runner.module("dokku_ps_app", {"name": app, "state": "absent"})
    left = snapshot(api, app)
    assert list(left) == ["%s.web.2" % app]
    assert left["%s.web.2" % app][0] == foreign["Id"]
