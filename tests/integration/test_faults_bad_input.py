"""SPEC §6, item by item, through EVERY module that accepts the input, in one playbook: each is refused with
one line naming the field and the rule, and containers and state files are byte-for-byte unchanged.

The cases already run by tests/integration/test_bad_input.py (dokku_ps_app, dokku_ps_scale,
dokku_ps_report) and test_dokku_ps_policy.py::test_bad_policy_input_changes_nothing (dokku_ps_policy,
dokku_ps_state) are not repeated; the table below fills the gaps, above all dokku_ps_fleet, which accepts
almost every field of §6 inside its app declarations, and adds dokku_ps_run and the cluster modules
(dokku_ps_swarm, dokku_ps_swarm_node, dokku_ps_image). The coverage map is in docs/reliability.md.
"""

from __future__ import annotations

import pytest

from tests.support.bad_input import assert_refused, run_bad
from tests.support.docker_state import remove_app_containers, snapshot, state_files

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
MISSING_IMAGE = "dokku-ps-test/does-not-exist:nope"


@pytest.fixture
def apps(runner, api, app_name, standard_images):
    """Two deployed apps: ``app`` (web=1, worker=1) and ``other`` (web=1), declared valid in fleet cases."""
    other = app_name + "-other"
    runner.module("dokku_ps_fleet", {"apps": [
        {"name": app_name, "image": standard_images["base"], "processes": PROCESSES, "scale": {"web": 1, "worker": 1},
         "env": {"TOKEN": "abc"}},
        {"name": other, "image": standard_images["base"], "processes": PROCESSES}]})
    yield app_name, other
    remove_app_containers(api, other)


def _fleet(good, bad, **extra):
    """A fleet call declaring the valid ``good`` app first and the bad declaration second."""
    args = {"apps": [good, bad]}
    args.update(extra)
    return args


def test_every_bad_input_through_every_module(runner, api, apps, state_dir, standard_images):
    app, other = apps
    image = standard_images["base"]
    good = {"name": other, "image": image, "processes": PROCESSES, "scale": {"web": 2}}

    def decl(**fields):
        base = {"name": app, "image": image, "processes": PROCESSES}
        base.update(fields)
        return base

    cases = [
        # -- invalid app name
        ("dokku_ps_app", {"name": "Bad_Name", "state": "absent"}, ["name", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        ("dokku_ps_app", {"name": "", "image": image}, ["name"]),
        ("dokku_ps_fleet", _fleet(good, decl(name="Bad_Name")), ["apps[1].name", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        ("dokku_ps_fleet", _fleet(good, decl(name="a" * 64)), ["apps[1].name", "63 characters"]),
        ("dokku_ps_fleet", _fleet(good, decl(name=other)), ["apps[1].name", "declared twice"]),
        ("dokku_ps_state", {"apps": ["../etc"], "state": "started"}, ["apps", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        ("dokku_ps_report", {"app": "a/b"}, ["app", "at most 63 characters: lowercase letters, digits, dots and dashes"]),
        # -- invalid process name
        ("dokku_ps_app", {"name": app, "procfile": "Web: sleep 1\n"}, ["procfile", "invalid process type"]),
        ("dokku_ps_app", {"name": app, "processes": {"web_1": "sleep 1"}}, ["processes", "DNS label"]),
        ("dokku_ps_fleet", _fleet(good, decl(processes={"Web": "sleep 1"})), ["apps[1].processes", "DNS label"]),
        ("dokku_ps_fleet", _fleet(good, {"name": app, "image": image, "procfile": "web: a\nweb: b\n"}),
         ["apps[1].procfile", "duplicate"]),
        ("dokku_ps_fleet", _fleet(good, decl(scale={"Web!": 1})), ["apps[1].scale", "DNS label"]),
        ("dokku_ps_scale", {"app": app, "scale": {"-web": 0}}, ["scale", "DNS label"]),
        # -- negative or non-integer count
        ("dokku_ps_scale", {"app": app, "scale": {"web": "-1"}}, ["scale.web", "negative"]),
        ("dokku_ps_scale", {"app": app, "scale": {"web": True}}, ["scale.web", "integer"]),
        ("dokku_ps_scale", {"app": app, "scale": {"web": [1]}}, ["scale.web", "integer"]),
        ("dokku_ps_fleet", _fleet(good, decl(scale={"web": -1})), ["apps[1].scale.web", "negative"]),
        ("dokku_ps_fleet", _fleet(good, decl(scale={"web": "abc"})), ["apps[1].scale.web", "integer"]),
        ("dokku_ps_fleet", _fleet(good, decl(scale={"web": 1.5})), ["apps[1].scale.web", "integer"]),
        # -- invalid restart policy
        ("dokku_ps_policy", {"app": app, "restart_policy": "ALWAYS"}, ["restart_policy", "must be one of"]),
        ("dokku_ps_policy", {"app": app, "restart_policy": "on-failure:"}, ["restart_policy"]),
        ("dokku_ps_policy", {"global": True, "restart_policy": "on-failure:abc"}, ["restart_policy"]),
        ("dokku_ps_policy", {"global": True, "restart_policy": "on-failure:-1"}, ["restart_policy"]),
        ("dokku_ps_fleet", _fleet(good, decl(restart_policy="bogus")), ["apps[1].restart_policy", "bogus"]),
        ("dokku_ps_fleet", _fleet(good, decl(restart_policy="on-failure:abc")), ["apps[1].restart_policy"]),
        ("dokku_ps_fleet", _fleet(good, decl(restart_policy="on-failure:-1")), ["apps[1].restart_policy"]),
        # -- negative stop timeout
        ("dokku_ps_policy", {"global": True, "stop_timeout_seconds": -1}, ["stop_timeout_seconds", "negative"]),
        ("dokku_ps_fleet", _fleet(good, decl(stop_timeout_seconds=-1)), ["apps[1].stop_timeout_seconds", "negative"]),
        ("dokku_ps_fleet", _fleet(good, decl(stop_timeout_seconds="soon")), ["apps[1].stop_timeout_seconds"]),
        # -- parallel < -1
        ("dokku_ps_state", {"app": app, "state": "restored", "parallel": -5}, ["parallel", "-5"]),
        ("dokku_ps_fleet", _fleet(good, decl(), parallel=-2), ["parallel", "-2"]),
        # -- process_type with several apps
        ("dokku_ps_state", {"all": True, "state": "restarted", "process_type": "web"}, ["process_type", "one app"]),
        # -- missing image, image not found locally, unknown type scaled up (with a valid app in the same call:
        # test_fleet_bad_declaration_changes_no_other_app)
        ("dokku_ps_fleet", {"apps": [{"name": app + "-new"}]}, ["image", "required"]),
        ("dokku_ps_fleet", {"apps": [decl(image=MISSING_IMAGE)]}, ["image", "not found"]),
        ("dokku_ps_fleet", {"apps": [decl(scale={"unknown": 2})]}, ["unknown is not a valid process name to scale up"]),
        ("dokku_ps_fleet", {"apps": [{"name": app, "image": image, "processes": {"web": "sleep 1"},
                                      "scale": {"worker": 1}}]}, ["worker is not a valid process name to scale up"]),
        # -- other fields of the declarations
        ("dokku_ps_fleet", _fleet(good, decl(env={"DYNO": "x"})), ["apps[1].env", "DYNO"]),
        ("dokku_ps_fleet", _fleet(good, decl(web_port=0)), ["apps[1].web_port", "1-65535"]),
        # (Ansible's own suboption checks answer these: they name the option, not the list position)
        ("dokku_ps_fleet", _fleet(good, decl(state="running")), ["state", "must be one of", "apps"]),
        ("dokku_ps_fleet", _fleet(good, decl(replicas=3)), ["apps.replicas", "Unsupported parameters"]),
        ("dokku_ps_fleet", _fleet(good, "web=1"), ["missing required arguments: name", "apps"]),
        ("dokku_ps_fleet", _fleet(good, decl(procfile="web: a\n")), ["mutually exclusive", "apps"]),
        # -- one-offs (dokku_ps_run) and the cluster modules: refused before Docker is asked (the daemon of these
        # tests stays outside any swarm, and no address but the local one is named)
        ("dokku_ps_run", {"app": "Bad_Name", "command": "true"}, ["app", "at most 63 characters"]),
        ("dokku_ps_run", {"app": app, "command": []}, ["command", "at least one word"]),
        ("dokku_ps_run", {"app": app, "command": "true", "timeout": 0}, ["timeout", "1 or more"]),
        ("dokku_ps_swarm", {"join_addrs": ["127.0.0.1:2377"]}, ["join_token", "required with join_addrs"]),
        ("dokku_ps_swarm", {"join_addrs": ["127.0.0.1:99999"], "join_token": "x"}, ["join_addrs", "no valid port"]),
        ("dokku_ps_swarm", {"default_addr_pool": ["10.20.0.0/33"]}, ["default_addr_pool", "CIDR"]),
        ("dokku_ps_swarm", {"subnet_size": 30}, ["subnet_size", "from 8 to 29"]),
        ("dokku_ps_swarm_node", {"node": " "}, ["node", "hostname or ID"]),
        ("dokku_ps_swarm_node", {"node": "n1", "labels": {"a b": "x"}}, ["labels", "not a label key"]),
        ("dokku_ps_swarm_node", {"node": "n1", "labels": {"k": "v"}, "labels_absent": ["k"]},
         ["labels_absent", "which labels sets"]),
        ("dokku_ps_image", {"image": "bad name", "source_docker_host": "unix:///var/run/docker.sock"},
         ["image", "not an image name"]),
        ("dokku_ps_image", {"image": "busybox:1", "source_docker_host": " "}, ["source_docker_host", "URL"]),
        # -- dokku_ps_certs takes the targets and parallel of dokku_ps_state
        ("dokku_ps_certs", {"app": "Bad_Name"}, ["app", "at most 63 characters"]),
        ("dokku_ps_certs", {"all": True, "parallel": -3}, ["parallel", "-3"]),
    ]
    containers_before = dict((name, snapshot(api, name)) for name in (app, other))
    files_before = state_files(state_dir)
    swarm_before = api.info()["Swarm"]["LocalNodeState"]
    results = run_bad(runner, cases)
    assert_refused(results, cases)
    assert dict((name, snapshot(api, name)) for name in (app, other)) == containers_before
    assert state_files(state_dir) == files_before
    assert api.info()["Swarm"]["LocalNodeState"] == swarm_before


@pytest.mark.parametrize("bad, words", [
    ({"scale": {"unknown": 2}}, ["unknown is not a valid process name to scale up"]),
    ({"image": MISSING_IMAGE}, ["image", "not found"]),
    ({"name": "ft-never-defined", "image": None}, ["image", "required"]),
])
def test_fleet_bad_declaration_changes_no_other_app(runner, api, apps, state_dir, standard_images, bad, words):
    """Checks that need Docker (the image, the processes it defines) run for every declaration before any app
    changes: the valid app declared in the same call is not touched either."""
    app, other = apps
    image = standard_images["base"]
    good = {"name": other, "image": image, "processes": PROCESSES, "scale": {"web": 2}}
    declaration = dict({"name": app, "image": image, "processes": PROCESSES}, **bad)
    declaration = dict((key, value) for key, value in declaration.items() if value is not None)
    cases = [("dokku_ps_fleet", _fleet(good, declaration), words)]
    containers_before = dict((name, snapshot(api, name)) for name in (app, other))
    files_before = state_files(state_dir)
    assert_refused(run_bad(runner, cases), cases)
    assert dict((name, snapshot(api, name)) for name in (app, other)) == containers_before, "an app changed"
    assert state_files(state_dir) == files_before
