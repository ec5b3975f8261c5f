"""A run that changes nothing makes a constant number of Docker API requests, whatever the number of
containers. Requests are counted by a proxy on a unix socket between the module and the daemon."""

from __future__ import annotations

import pytest

from tests.support.ansible_runner import Runner
from tests.support.docker_proxy import CountingProxy

SIZES = (1, 8, 24)


@pytest.fixture
def proxy(tmp_path):
    counting = CountingProxy(str(tmp_path / "docker.sock"))
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
    # version probe + image inspect + one list call for the app module; version + list for scale
    assert counts[SIZES[0]]["dokku_ps_app"] <= 3
    assert counts[SIZES[0]]["dokku_ps_scale"] <= 2
