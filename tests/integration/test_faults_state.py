"""Damaged state documents: every module refuses with the file name and the problem, never overwrites the
file, and changes no container; the recovery path of docs/state.md works end to end.

tests/integration/test_bad_input.py already runs a truncated document, "not json", "[]" and a schema
violation through dokku_ps_app, dokku_ps_scale and dokku_ps_report; here other kinds of damage go through
every module (and the lifecycle/fleet paths), plus a damaged global document.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.support.bad_input import assert_refused, run_bad
from tests.support.docker_state import containers, remove_app_containers, snapshot

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}


@pytest.fixture
def deployed(runner, app_name, standard_images):
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2, "worker": 1}}),
    ])
    return app_name


def _damage(path, kind):
    """Damage the document at ``path``; returns a function that tells whether it is still as damaged."""
    with open(path, "rb") as handle:
        good = handle.read()
    if kind == "directory":
        os.unlink(path)
        os.mkdir(path, 0o700)
        with open(os.path.join(path, "keep"), "w") as handle:
            handle.write("x")
        return lambda: os.path.isdir(path) and os.listdir(path) == ["keep"]
    if kind == "empty":
        data = b""
    elif kind == "truncated":
        data = good[:len(good) // 2]
    elif kind == "utf8":
        data = good.replace(b'"name"', b'"n\xff\xfeame"', 1)
    elif kind == "schema-type":
        document = json.loads(good)
        document["formation"] = {"web": "two"}
        data = json.dumps(document).encode()
    elif kind == "schema-unknown-key":
        document = json.loads(good)
        document["surprise"] = True
        data = json.dumps(document).encode()
    elif kind == "wrong-name":
        document = json.loads(good)
        document["name"] = "someone-else"
        data = json.dumps(document).encode()
    else:
        raise ValueError(kind)
    with open(path, "wb") as handle:
        handle.write(data)

    def unchanged():
        with open(path, "rb") as handle:
            return handle.read() == data
    return unchanged


PROBLEMS = {
    "directory": "cannot read the state document",
    "empty": "empty",
    "truncated": "invalid JSON",
    "utf8": "UTF-8",
    "schema-type": "$.formation.web",
    "schema-unknown-key": "surprise",
    "wrong-name": "does not match the file name",
}


@pytest.fixture
def damaged_apps(runner, api, app_name, standard_images):
    """One deployed app per kind of damage (web=1 each, deployed in one fleet call)."""
    apps = dict((kind, "%s-%d" % (app_name, number)) for number, kind in enumerate(sorted(PROBLEMS)))
    runner.module("dokku_ps_fleet", {"apps": [{"name": app, "image": standard_images["base"], "processes": PROCESSES,
                                               "scale": {"web": 1}} for app in apps.values()], "parallel": -1})
    yield apps
    for app in apps.values():
        remove_app_containers(api, app)


def test_damaged_app_documents_refused_by_every_module(runner, api, damaged_apps, state_dir, standard_images):
    image = standard_images["base"]
    checks = {}
    before = {}
    cases = []
    for kind, app in sorted(damaged_apps.items()):
        path = os.path.join(state_dir, "apps", app + ".json")
        checks[kind] = _damage(path, kind)
        before[app] = snapshot(api, app)
        assert len(before[app]) == 1
        words = [path, PROBLEMS[kind]]
        # the same reader serves every module: one kind of damage goes through all of them, the other kinds
        # through the modules tests/integration/test_bad_input.py does not run them through
        if kind == "directory":
            cases += [
                ("dokku_ps_app", {"name": app, "image": image, "processes": PROCESSES}, words),
                ("dokku_ps_app", {"name": app, "state": "absent"}, words),
                ("dokku_ps_scale", {"app": app, "scale": {"web": 0}}, words),
                ("dokku_ps_scale", {"app": app}, words),
                ("dokku_ps_policy", {"app": app, "restore": False}, words),
                ("dokku_ps_state", {"app": app, "state": "restarted"}, words),
                ("dokku_ps_state", {"app": app, "state": "stopped"}, words),
                ("dokku_ps_report", {"app": app}, words),
            ]
        cases += [
            ("dokku_ps_policy", {"app": app, "restart_policy": "always"}, words),
            ("dokku_ps_fleet", {"apps": [{"name": app, "image": image, "processes": PROCESSES}]}, words),
        ]
    # the multi-app paths: every damaged app is attempted and named with its problem
    paths = [os.path.join(state_dir, "apps", app + ".json") for app in sorted(damaged_apps.values())]
    assert damaged_apps["directory"] == sorted(damaged_apps.values())[0]
    cases += [
        ("dokku_ps_state", {"all": True, "state": "restored", "parallel": -1}, paths),
        ("dokku_ps_fleet", {"apps": [], "prune": True}, paths),
        ("dokku_ps_report", {}, [paths[0], PROBLEMS["directory"]]),  # the listing stops at the first (sorted) one
    ]
    results = run_bad(runner, cases)
    assert_refused(results, cases)
    for kind, still_damaged in checks.items():
        assert still_damaged(), "the damaged document (%s) was overwritten or moved" % kind
    for app, snap in before.items():
        assert snapshot(api, app) == snap, "containers of %s changed" % app
    assert sorted(results[-3]["result"]["apps_failed"]) == sorted(damaged_apps.values())
    assert sorted(results[-2]["result"]["apps_failed"]) == sorted(damaged_apps.values())


def test_damaged_global_document_refused_by_every_module(runner, api, deployed, state_dir, standard_images):
    app = deployed
    path = os.path.join(state_dir, "global.json")
    with open(path, "w") as handle:
        handle.write('{"schema_version": 1, "properties": {"restart_policy": "bogus", "stop_timeout_seconds": null}}')
    os.chmod(path, 0o600)  # as the store writes it (a looser mode is refused first: test_faults_state_permissions.py)
    with open(path, "rb") as handle:
        damaged = handle.read()
    before = snapshot(api, app)
    words = [path, "restart_policy", "fix or move it away"]
    cases = [
        ("dokku_ps_app", {"name": app, "image": standard_images["base"], "processes": PROCESSES}, words),
        ("dokku_ps_scale", {"app": app, "scale": {"web": 3}}, words),
        ("dokku_ps_policy", {"global": True, "stop_timeout_seconds": 5}, words),
        ("dokku_ps_policy", {"app": app, "restart_policy": "always"}, words),
        ("dokku_ps_state", {"app": app, "state": "stopped"}, words),
        ("dokku_ps_report", {"global": True}, words),
        ("dokku_ps_fleet", {"apps": [{"name": app, "image": standard_images["base"]}]}, words),
    ]
    assert_refused(run_bad(runner, cases), cases)
    with open(path, "rb") as handle:
        assert handle.read() == damaged
    assert snapshot(api, app) == before
    # docs/state.md: global.json can simply be removed
    os.unlink(path)
    report = runner.module("dokku_ps_report", {"global": True})
    assert report["global"]["restart_policy"] == {"global": None, "computed": "on-failure:10"}


def test_recovery_path_adopts_the_running_containers(runner, api, deployed, state_dir, standard_images):
    """docs/state.md: move the damaged file away, declare again with deploy: false, scale with skip_deploy,
    deploy: every container that still matches is kept (same ids)."""
    app = deployed
    definition = {"name": app, "image": standard_images["base"], "processes": PROCESSES}
    ids = dict((name, data["Id"]) for name, data in containers(api, app).items())
    assert len(ids) == 3
    path = os.path.join(state_dir, "apps", app + ".json")
    _damage(path, "truncated")
    failed = runner.module("dokku_ps_scale", {"app": app, "scale": {"web": 2}}, expect_failure=True)
    assert path in failed["msg"] and "docs/state.md" in failed["msg"]

    shutil.move(path, path + ".broken")
    declared = runner.module("dokku_ps_app", dict(definition, deploy=False))
    assert declared["changed"] is True and declared["deployed"] is False
    scaled = runner.module("dokku_ps_scale", {"app": app, "scale": {"web": 2, "worker": 1}, "skip_deploy": True})
    assert scaled["containers"]["created"] == [] and scaled["containers"]["removed"] == []
    assert dict((name, data["Id"]) for name, data in containers(api, app).items()) == ids, "nothing touched yet"

    deployed_again = runner.module("dokku_ps_app", definition)
    assert deployed_again["deployed"] is True
    assert deployed_again["formation"] == {"web": 2, "worker": 1}
    summary = deployed_again["containers"]
    assert summary["created"] == [] and summary["replaced"] == [] and summary["removed"] == [], summary
    after = containers(api, app)
    assert dict((name, data["Id"]) for name, data in after.items()) == ids, "the running containers were adopted"
    assert all(data["State"]["Running"] for data in after.values())
    assert os.path.exists(path + ".broken")
    again = runner.module("dokku_ps_app", definition)
    assert again["changed"] is False
    assert runner.module("dokku_ps_scale", {"app": app, "scale": {"web": 3}})["containers"]["created"] == [
        "%s.web.3" % app]
