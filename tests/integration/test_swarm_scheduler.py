"""The swarm scheduler (issue 24, first part; docs/swarm.md) on a private single-node swarm (tests/support/swarm.py):
an app declared with ``scheduler: swarm`` runs each process type as a replicated service, behind the host's
(private) nginx through the web tasks' host-mode ports; deploy, scale, rollout, stop, start and delete through the
modules, with the four-step pattern and a bounded request loop that must see no failed request.
"""

from __future__ import annotations

import time

import pytest

from tests.support import images, swarm
from tests.support.ansible_runner import Runner
from tests.support.four_step import four_step
from tests.support.nginx import BackgroundLoop, PrivateNginx, get
from tests.support.proxy_apps import WEB, options

APP = "swapp"


@pytest.fixture(scope="module")
def sw(tmp_path_factory):
    yield from swarm.private_swarm(tmp_path_factory, "sws")


@pytest.fixture
def client(sw):
    found = sw.client()
    yield found
    for service in found.services.list():
        service.remove()
    found.close()


@pytest.fixture
def nginx(tmp_path):
    with PrivateNginx(tmp_path / "nginx") as server:
        yield server


@pytest.fixture
def swarm_runner(sw, tmp_path):
    work = tmp_path / "swarm-run"
    work.mkdir()
    return Runner(str(tmp_path / "swarm-state"), docker_host=sw.url, workdir=str(work))


def app_args(nginx, **extra):
    args = dict(options(nginx), name=APP, image=images.PROXY_IMAGE, processes=dict(WEB, worker="sleep 86400"),
                scheduler="swarm", proxy=True, proxy_ports=["http:%d:5000" % nginx.port], wait_to_retire=1)
    args.update(extra)
    return args


def services(client):
    return dict((service.name, service.attrs) for service in client.services.list(
        filters={"label": ["com.dokku.app-name=%s" % APP]}))


def replicas(client):
    return dict((name, attrs["Spec"]["Mode"]["Replicated"]["Replicas"]) for name, attrs in services(client).items())


def answers(nginx, count=20):
    found = set()
    for _attempt in range(count):
        status, body = get(nginx.url())[:2]
        assert status == 200, body
        found.add(body.strip())
    return found


def test_an_app_on_swarm_deploys_scales_rolls_out_and_stops(swarm_runner, client, nginx):
    runner = swarm_runner

    def nothing_created(_predicted):
        assert services(client) == {}
    predicted, applied = four_step(runner, client.api, APP, "dokku_ps_app", app_args(nginx),
                                   after_check=nothing_created)
    versions = dict((name, attrs["Version"]["Index"]) for name, attrs in services(client).items())
    assert runner.module("dokku_ps_app", app_args(nginx))["changed"] is False
    assert dict((name, attrs["Version"]["Index"]) for name, attrs in services(client).items()) == versions
    assert applied["containers"]["created"] == ["%s-web" % APP]
    assert replicas(client) == {"%s-web" % APP: 1}, "worker is scaled to 0: no service"
    assert len(answers(nginx)) == 1

    _predicted, scaled = four_step(runner, client.api, APP, "dokku_ps_scale",
                                   dict(options(nginx), app=APP, scale={"web": 2, "worker": 1}))
    assert scaled["changed"] is True and replicas(client) == {"%s-web" % APP: 2, "%s-worker" % APP: 1}
    assert len(answers(nginx)) == 2

    # a new env is a rolling update of both services; the proxy follows the tasks: no failed request
    with BackgroundLoop(nginx.url(), seconds=120, pause=0.01) as loop:
        time.sleep(0.5)
        rolled = runner.module("dokku_ps_app", app_args(nginx, env={"GREETING": "v2"}))
        time.sleep(0.5)
    print("swarm rollout through the proxy: %d requests, %d failed" % (loop.result.sent, loop.result.failed))
    assert rolled["containers"]["replaced"] == ["%s-web" % APP, "%s-worker" % APP]
    assert loop.result.sent > 20 and loop.result.failed == 0, loop.result.errors
    assert len(answers(nginx)) == 2

    # a scale-down under the same loop: 3 -> 2, no failed request either
    runner.module("dokku_ps_scale", dict(options(nginx), app=APP, scale={"web": 3}))
    with BackgroundLoop(nginx.url(), seconds=120, pause=0.01) as loop:
        time.sleep(0.5)
        runner.module("dokku_ps_scale", dict(options(nginx), app=APP, scale={"web": 2}))
        time.sleep(0.5)
    print("swarm scale-down through the proxy: %d requests, %d failed" % (loop.result.sent, loop.result.failed))
    assert loop.result.sent > 20 and loop.result.failed == 0, loop.result.errors
    assert replicas(client)["%s-web" % APP] == 2 and len(answers(nginx)) == 2

    report = runner.module("dokku_ps_report", dict(options(nginx), app=APP))
    assert sorted(report["dynos"]) == ["web.1", "web.2", "worker.1"]
    assert all(dyno["status"] == "running" and dyno["definition_current"] for dyno in report["dynos"].values())
    assert report["running"] == "true" and report["processes"] == 3

    stop = dict(options(nginx), app=APP, state="stopped")
    _predicted, stopped = four_step(runner, client.api, APP, "dokku_ps_state", stop)
    assert stopped["changed"] is True and replicas(client) == {"%s-web" % APP: 0, "%s-worker" % APP: 0}
    assert client.containers.list(filters={"label": "com.dokku.app-name=%s" % APP}) == [], \
        "the task returns once the containers stopped"
    started = runner.module("dokku_ps_state", dict(options(nginx), app=APP, state="started"))
    assert started["changed"] is True and replicas(client) == {"%s-web" % APP: 2, "%s-worker" % APP: 1}
    assert len(answers(nginx)) == 2

    deleted = runner.module("dokku_ps_app", dict(options(nginx), name=APP, state="absent"))
    assert deleted["containers"]["removed"] == ["%s-web" % APP, "%s-worker" % APP] and services(client) == {}


def test_checks_gate_the_tasks_and_what_swarm_cannot_do_is_refused(swarm_runner, client, nginx, runner):
    refused = swarm_runner.module("dokku_ps_app", app_args(nginx, publish=8080), expect_failure=True)
    assert "publish: app swapp runs on swarm" in refused["msg"] and services(client) == {}
    # the collection's own checks gate the tasks as on docker-local: the task's HEALTHCHECK and monitor window
    checked = swarm_runner.module("dokku_ps_app", app_args(nginx, checks={"web": {"http": ["/"], "uptime": 2,
                                                                                  "attempts": 3}}))
    assert checked["changed"] is True
    spec = services(client)["%s-web" % APP]["Spec"]
    assert "127.0.0.1:5000/" in spec["TaskTemplate"]["ContainerSpec"]["Healthcheck"]["Test"][1]
    assert spec["UpdateConfig"]["Monitor"] == 5 * 10 ** 9, "the uptime (2 s) under the 5 s default"
    assert len(answers(nginx)) == 1
    swarm_runner.module("dokku_ps_app", dict(options(nginx), name=APP, state="absent"))
    # the main daemon is no swarm manager: said in one line, with how to fix it
    refused = runner.module("dokku_ps_app", dict(app_args(nginx), name="swapp-main"), expect_failure=True)
    assert "swarm needs the Docker daemon at" in refused["msg"] and "is not" in refused["msg"]


def test_a_rolling_update_that_fails_its_health_check_rolls_back_and_keeps_serving(swarm_runner, client, nginx):
    runner = swarm_runner
    healthy = {"healthchecks": {"web": [{"type": "liveness", "command": ["true"], "wait": 1, "attempts": 2},
                                        {"type": "readiness", "path": "/", "wait": 1, "attempts": 3}]}}
    before = runner.modules([
        ("dokku_ps_app", app_args(nginx, app_json=healthy)),
        ("dokku_ps_scale", dict(options(nginx), app=APP, scale={"web": 2})),
        ("dokku_ps_report", dict(options(nginx), app=APP)),
    ])[-1]
    assert sorted(dyno["health"] for dyno in before["dynos"].values()) == ["healthy", "healthy"]
    spec = services(client)["%s-web" % APP]["Spec"]

    # the new definition's readiness check fails (busybox httpd answers 404): Swarm never counts its first task as
    # running, and rolls the update back
    failing = {"healthchecks": {"web": [{"type": "liveness", "command": ["true"], "wait": 1, "attempts": 2},
                                        {"type": "startup", "uptime": 1},
                                        {"type": "readiness", "path": "/missing", "wait": 1, "attempts": 2}]}}
    with BackgroundLoop(nginx.url(), seconds=180, pause=0.01) as loop:
        refused = runner.module("dokku_ps_app", app_args(nginx, app_json=failing, env={"V": "2"}),
                                expect_failure=True)
        time.sleep(0.5)
    print("failed swarm rollout through the proxy: %d requests, %d failed" % (loop.result.sent, loop.result.failed))
    assert "the rolling update of service %s-web failed and Swarm rolled it back" % APP in refused["msg"]
    assert loop.result.sent > 20 and loop.result.failed == 0, loop.result.errors
    after = runner.module("dokku_ps_report", dict(options(nginx), app=APP))
    assert after["release"] == before["release"], "the refused definition is recorded nowhere"
    assert services(client)["%s-web" % APP]["Spec"]["TaskTemplate"] == spec["TaskTemplate"], "the previous spec runs"
    assert len(answers(nginx)) == 2
    runner.module("dokku_ps_app", dict(options(nginx), name=APP, state="absent"))


def test_policy_and_rollback_on_swarm_in_four_steps(swarm_runner, client, nginx):
    runner = swarm_runner
    # the global scheduler: what a new app declared without one gets (Dokku's scheduler:set --global)
    chosen = runner.module("dokku_ps_policy", dict(options(nginx), scheduler="swarm", **{"global": True}))
    assert chosen["global"]["scheduler"] == {"global": "swarm", "computed": "swarm"}
    declared = app_args(nginx, env={"GREETING": "v1"})
    del declared["scheduler"]
    runner.modules([
        ("dokku_ps_app", declared),
        ("dokku_ps_scale", dict(options(nginx), app=APP, scale={"web": 2})),
    ])

    def template(name="web"):
        return services(client)["%s-%s" % (APP, name)]["Spec"]["TaskTemplate"]
    assert template()["RestartPolicy"]["Condition"] == "on-failure" and template()["RestartPolicy"]["MaxAttempts"] == 10

    # a restart policy is the service's: updated in place (the same service, its tasks rolled start-first)
    service_id = services(client)["%s-web" % APP]["ID"]
    _predicted, applied = four_step(runner, client.api, APP, "dokku_ps_policy",
                                    dict(options(nginx), app=APP, restart_policy="on-failure:3"))
    assert applied["containers"]["replaced"] == ["%s-web" % APP]
    assert template()["RestartPolicy"]["Condition"] == "on-failure" and template()["RestartPolicy"]["MaxAttempts"] == 3
    assert services(client)["%s-web" % APP]["ID"] == service_id
    assert len(answers(nginx)) == 2

    # release 2: a new env; back to release 1 (its env, the current formation and properties) through the proxy
    runner.module("dokku_ps_app", app_args(nginx, env={"GREETING": "v2"}))
    assert "GREETING=v2" in template()["ContainerSpec"]["Env"]
    with BackgroundLoop(nginx.url(), seconds=120, pause=0.01) as loop:
        _predicted, applied = four_step(runner, client.api, APP, "dokku_ps_app", dict(options(nginx), name=APP,
                                                                                      release=1))
    assert loop.result.failed == 0, loop.result.errors
    assert applied["release"]["made_by"] == "rollback" and applied["release"]["rollback_of"] == 1
    assert "GREETING=v1" in template()["ContainerSpec"]["Env"]
    assert template()["RestartPolicy"]["MaxAttempts"] == 3, "the properties stay"
    assert replicas(client) == {"%s-web" % APP: 2}
    runner.module("dokku_ps_app", dict(options(nginx), name=APP, state="absent"))


def test_release_phase_and_one_off_runs_on_swarm_run_on_the_managers_daemon(swarm_runner, client, nginx):
    runner = swarm_runner
    scripts = {"scripts": {"dokku": {"predeploy": "sh -c 'echo predeploy $GREETING'",
                                     "postdeploy": "sh -c 'echo postdeploy'"}}}
    first = runner.module("dokku_ps_app", app_args(nginx, env={"GREETING": "v1"}, app_json=scripts))
    phase = first["release_phase"]
    assert [entry["phase"] for entry in phase["ran"]] == ["predeploy", "postdeploy"]
    assert all(entry["rc"] == 0 for entry in phase["ran"]) and phase["ran"][0]["output"][-1] == "predeploy v1"
    assert runner.module("dokku_ps_app", app_args(nginx, env={"GREETING": "v1"}, app_json=scripts))["changed"] is False

    base = dict(options(nginx), app=APP)
    attached = runner.module("dokku_ps_run", dict(base, command="sh -c 'echo hello $GREETING; echo $DYNO'"))
    assert attached["rc"] == 0 and attached["stdout_lines"][0] == "hello v1"
    assert attached["stdout_lines"][1].startswith("run.")
    detached = runner.module("dokku_ps_run", dict(base, command="sleep 300", detach=True, keep=True))
    name = detached["container"]
    assert client.containers.get(name).status == "running", "on the manager's daemon"
    report = runner.module("dokku_ps_report", dict(options(nginx), app=APP))
    assert [entry["name"] for entry in report["oneoffs"]] == [name]

    stopped = runner.module("dokku_ps_state", dict(options(nginx), app=APP, state="stopped"))
    assert name in stopped["containers"]["stopped"] and client.containers.get(name).status == "exited"
    deleted = runner.module("dokku_ps_app", dict(options(nginx), name=APP, state="absent"))
    assert name in deleted["containers"]["removed"] and services(client) == {}
    assert client.containers.list(all=True, filters={"label": "com.dokku.app-name=%s" % APP}) == []
