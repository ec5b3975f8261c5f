"""Restart policies changed by hand (``docker update --restart``) are found and put back by every run that
converges containers, while a run that changes nothing keeps its constant number of Docker requests.

The list call does not show restart policies; the collection reads the daemon's events since the app's policies
were last known (one request) and inspects only the containers updated or started since then, or every container
when the daemon no longer holds all those events (see ``_policy_drift.PolicyWatch.verify``)."""

from __future__ import annotations

import pytest

from tests.support import daemons
from tests.support.apps import DEFAULT_POLICY as DEFAULT, deploy
from tests.support.ansible_runner import Runner
from tests.support.docker_proxy import CountingProxy
from tests.support.docker_state import containers
from tests.support.four_step import four_step
from tests.support.images import BASE_IMAGE


def policies(api, app):
    return dict((name, data["HostConfig"]["RestartPolicy"]) for name, data in containers(api, app).items())


def by_hand(api, app, dyno, name, count=0):
    container = containers(api, app)["%s.%s" % (app, dyno)]
    api.update_container(container["Id"], restart_policy={"Name": name, "MaximumRetryCount": count})
    return container["Id"]


def test_started_and_deploy_put_back_a_policy_changed_by_hand(runner, api, app_name, standard_images):
    args = deploy(runner, app_name, standard_images["base"])
    ids = dict((name, data["Id"]) for name, data in containers(api, app_name).items())
    by_hand(api, app_name, "web.1", "always")

    predicted, applied = four_step(runner, api, app_name, "dokku_ps_state", {"app": app_name, "state": "started"})
    assert applied["containers"]["updated"] == ["%s.web.1" % app_name]
    assert predicted["containers"] == applied["containers"]
    assert all(policy == DEFAULT for policy in policies(api, app_name).values())
    assert dict((name, data["Id"]) for name, data in containers(api, app_name).items()) == ids, "in place"

    by_hand(api, app_name, "worker.1", "no")
    _predicted, applied = four_step(runner, api, app_name, "dokku_ps_app", args)
    assert applied["containers"]["updated"] == ["%s.worker.1" % app_name]
    assert all(policy == DEFAULT for policy in policies(api, app_name).values())

    # a scale of the type and a policy task put it back too
    by_hand(api, app_name, "web.2", "unless-stopped")
    scaled = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}})
    assert scaled["changed"] is True and scaled["containers"]["updated"] == ["%s.web.2" % app_name]
    by_hand(api, app_name, "web.1", "always")
    policy = runner.module("dokku_ps_policy", {"app": app_name, "restart_policy": "on-failure:10"})
    assert policy["changed"] is True and policy["containers"]["updated"] == ["%s.web.1" % app_name]
    assert all(policy == DEFAULT for policy in policies(api, app_name).values())


def test_a_stopped_app_gets_no_back(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=1, worker=1)
    runner.module("dokku_ps_state", {"app": app_name, "state": "stopped"})
    by_hand(api, app_name, "worker.1", "always")
    _predicted, applied = four_step(runner, api, app_name, "dokku_ps_state", {"app": app_name, "state": "stopped"})
    assert applied["containers"]["updated"] == ["%s.worker.1" % app_name]
    assert all(policy["Name"] == "no" for policy in policies(api, app_name).values())
    assert not any(data["State"]["Running"] for data in containers(api, app_name).values())


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "drift")


def test_a_policy_changed_by_hand_before_a_daemon_restart(host, tmp_path):
    """The daemon's events are lost when it restarts; the containers it starts again are inspected."""
    runner = Runner(str(tmp_path / "state"), docker_host=host.url, workdir=str(tmp_path))
    app = "drift-restart"
    deploy(runner, app, "dokku-ps-test/base:latest", web=1, worker=1)
    api = host.client().api
    by_hand(api, app, "worker.1", "always")
    host.restart()
    api = host.client().api
    assert all(data["State"]["Running"] for data in containers(api, app).values())
    result = runner.module("dokku_ps_state", {"app": app, "state": "started"})
    assert result["containers"]["updated"] == ["%s.worker.1" % app]
    assert all(policy == DEFAULT for policy in policies(api, app).values())


def test_no_op_cost_and_a_full_event_window(host, tmp_path):
    """A no-op inspects nothing; a change by hand costs one inspect of that container; when more events than the
    daemon keeps (256) happened since, every container is inspected once, then the no-op is cheap again. On a
    private daemon, whose events are this test's only (other tests could overflow the shared daemon's buffer)."""
    api = host.client().api
    app_name = "drift-noop"
    proxy = CountingProxy(str(tmp_path / "docker.sock"), upstream=host.url[len("unix://"):])
    try:
        counted = Runner(str(tmp_path / "state"), docker_host=proxy.url, workdir=str(tmp_path))
        args = deploy(counted, app_name, BASE_IMAGE, web=3, worker=2)

        def run():
            proxy.reset()
            result = counted.module("dokku_ps_app", args)
            paths = [path.split("?")[0] for _method, path in proxy.requests]
            return result, [path for path in paths if path.endswith("/json") and "/containers/" in path
                            and not path.endswith("/containers/json")]

        result, inspects = run()
        assert result["changed"] is False and inspects == []
        base = proxy.count()

        by_hand(api, app_name, "worker.2", "always")
        result, inspects = run()
        assert result["containers"]["updated"] == ["%s.worker.2" % app_name]
        assert len(inspects) == 1, proxy.requests

        result, inspects = run()
        assert result["changed"] is False and inspects == [] and proxy.count() == base

        changed = by_hand(api, app_name, "web.3", "always")
        # more than the daemon keeps: create and remove throwaway containers (two events each)
        image = api.inspect_image(BASE_IMAGE)["Id"]
        for number in range(150):
            throwaway = api.create_container(image, command=["true"], name="%s-noise-%d" % (app_name, number))
            api.remove_container(throwaway["Id"])
        assert api.inspect_container(changed)["HostConfig"]["RestartPolicy"]["Name"] == "always"
        result, inspects = run()
        assert result["containers"]["updated"] == ["%s.web.3" % app_name]
        assert len(inspects) == 5, "every container of the app, once"
        result, inspects = run()
        assert result["changed"] is False and inspects == [] and proxy.count() == base
        assert all(policy == DEFAULT for policy in policies(api, app_name).values())
    finally:
        proxy.close()
