"""A run that changes nothing makes a constant number of Docker API requests, whatever the number of
containers. Requests are counted by a proxy on a unix socket between the module and the daemon.

The daemon is a private one: a run reads the daemon's recent events (restart policies changed by hand), and on
the shared daemon other tests may make more events than it keeps between two runs, which rightly costs an
inspect of every container once (docs/decisions.md), and would make the counts depend on the other tests."""

from __future__ import annotations

import re

import pytest

from tests.support import daemons
from tests.support.ansible_runner import Runner
from tests.support.docker_proxy import CountingProxy
from tests.support.images import BASE_IMAGE

SIZES = (1, 8, 24)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "apicalls")


@pytest.fixture
def api(host):
    return host.client().api


@pytest.fixture
def standard_images(host):
    return {"base": BASE_IMAGE}


@pytest.fixture
def proxy(tmp_path, host):
    counting = CountingProxy(str(tmp_path / "docker.sock"), upstream=host.url[len("unix://"):])
    yield counting
    counting.close()


def test_noop_request_count_is_independent_of_container_count(proxy, state_dir, tmp_path, app_name,
                                                              standard_images, api):
    runner = Runner(state_dir, docker_host=proxy.url, workdir=str(tmp_path))
    app_args = {"name": app_name, "image": standard_images["base"], "processes": {"web": "sleep 86400"}}
    runner.module("dokku_ps_app", app_args)
    counts = {}
    for size in SIZES:
        runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": size}})
        per_module = {}
        for module, args in (("dokku_ps_app", app_args), ("dokku_ps_scale", {"app": app_name, "scale": {"web": size}})):
            proxy.reset()
            result = runner.module(module, args)
            assert result["changed"] is False
            writes = [request for request in proxy.requests if request[0] != "GET"]
            assert not writes, "a no-op run must not change anything: %s" % writes
            per_module[module] = proxy.count()
        counts[size] = per_module
    print("no-op Docker API requests per run, by number of containers: %s" % counts)
    assert counts[SIZES[0]] == counts[SIZES[1]] == counts[SIZES[2]], counts
    # version probe + image inspect + one list call + one read of the daemon's events (restart policies changed
    # by hand, see _policy_drift.PolicyWatch.verify) for the app module; version + list + events for scale
    assert counts[SIZES[0]]["dokku_ps_app"] <= 4
    assert counts[SIZES[0]]["dokku_ps_scale"] <= 3


def test_noop_request_count_of_many_apps_is_independent_of_the_number_of_apps(
        proxy, state_dir, tmp_path, app_name, standard_images, api):
    """dokku_ps_fleet and dokku_ps_state over many apps prove their no-op with ONE list call for all apps (the
    run's snapshot), not one per app. The app names have dots, like "shop.v2", to exercise the grouping."""
    runner = Runner(state_dir, docker_host=proxy.url, workdir=str(tmp_path))

    def declaration(index):
        return {"name": "%s.a%d" % (app_name, index), "image": standard_images["base"],
                "processes": {"web": "sleep 86400", "worker": "sleep 86400"}, "scale": {"worker": 1},
                "checks": {"web": "skipped"}}

    counts = {}
    for size in (1, 3, 6):
        apps = [declaration(index) for index in range(size)]
        runner.module("dokku_ps_fleet", {"apps": apps, "parallel": 4})
        per_run = {}
        for label, module, args in (
                ("fleet", "dokku_ps_fleet", {"apps": apps, "parallel": 4}),
                ("state started", "dokku_ps_state", {"all": True, "state": "started", "parallel": 4}),
                ("state restored", "dokku_ps_state", {"all": True, "state": "restored", "parallel": 4})):
            proxy.reset()
            result = runner.module(module, args)
            assert result["changed"] is False, (label, result)
            assert not [request for request in proxy.requests if request[0] != "GET"], (label, proxy.requests)
            lists = [path for _method, path in proxy.requests if path.split("?")[0].endswith("/containers/json")]
            assert len(lists) == 1, (label, size, proxy.requests)
            per_run[label] = proxy.count()
        counts[size] = per_run
    print("no-op Docker API requests per run, by number of apps: %s" % counts)
    assert counts[1] == counts[3] == counts[6], counts
    # version probe + one image inspect (one image for all apps) + one list call + one read of the daemon's events;
    # the state module needs no image
    assert counts[6] == {"fleet": 4, "state started": 3, "state restored": 3}, counts

    # the apps really run, and a change to one of them among the snapshot's no-ops is still carried out
    worker = api.containers(filters={"name": ["^/%s\\.a5\\.worker\\.1$" % app_name.replace(".", "\\.")]})
    assert len(worker) == 1 and worker[0]["State"] == "running"
    api.stop(worker[0]["Id"], timeout=5)
    proxy.reset()
    result = runner.module("dokku_ps_state", {"all": True, "state": "started", "parallel": 4})
    assert result["apps_changed"] == ["%s.a5" % app_name]
    after = api.inspect_container(worker[0]["Id"])
    assert after["State"]["Running"] is True


def test_report_drift_and_health_cost_no_request_per_container_beyond_its_inspect(
        proxy, state_dir, tmp_path, app_name, standard_images, api):
    """dokku_ps_report inspects each container once (status, restart count, policy): where the formation and checks
    come from, each dyno's drift (definition, restart policy) and its health come from that and from the one list
    call, with no other request per container, whether dynos drifted or not."""
    runner = Runner(state_dir, docker_host=proxy.url, workdir=str(tmp_path))
    app_args = {"name": app_name, "image": standard_images["base"],
                "processes": {"web": "sleep 86400", "worker": "sleep 86400"},
                "checks": {"web": "skipped", "worker": "skipped"}, "env": {}}
    runner.module("dokku_ps_app", app_args)
    inspect_path = re.compile(r"^(?:/v[0-9.]+)?/containers/([0-9a-f]{64})/json$")
    extra = {}
    for size in (1, 4):
        runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": size, "worker": 1}})
        for drifted in (False, True):
            if drifted:
                # a definition recorded without a deploy, and a restart policy changed by hand
                runner.module("dokku_ps_app", dict(app_args, env={"SIZE": str(size)}, deploy=False))
                web = api.containers(filters={"name": ["^/%s\\.web\\.1$" % app_name]})[0]
                api.update_container(web["Id"], restart_policy={"Name": "always", "MaximumRetryCount": 0})
            for args in ({"app": app_name}, {}):
                proxy.reset()
                result = runner.module("dokku_ps_report", args)
                report = result if args else result["apps"][app_name]
                dynos = report["dynos"]
                assert len(dynos) == size + 1
                assert all(not entry["definition_current"] for entry in dynos.values()) is drifted
                assert dynos["web.1"]["restart_policy_current"] is not drifted
                assert not [request for request in proxy.requests if request[0] != "GET"], proxy.requests
                paths = [path.split("?")[0] for _method, path in proxy.requests]
                inspected = [match.group(1) for match in map(inspect_path.match, paths) if match]
                assert sorted(inspected) == sorted(entry["id"] for entry in dynos.values()), \
                    "one inspect per container, no more: %s" % proxy.requests
                assert len([path for path in paths if path.endswith("/containers/json")]) == 1, proxy.requests
                extra[(size, drifted, bool(args))] = proxy.count() - len(inspected)
        # back to the recorded definition and policy without replacing anything (the private daemon has no bridge
        # network, on which Docker cannot rename a running container)
        runner.module("dokku_ps_app", dict(app_args, deploy=False))
        api.update_container(web["Id"], restart_policy={"Name": "on-failure", "MaximumRetryCount": 10})
    print("dokku_ps_report: Docker API requests besides the inspects: %s" % extra)
    # the version probe and the one list call, whatever the number of containers and their drift
    assert set(extra.values()) == {2}, extra
