"""The proxy options of dokku_ps_app in the four-step pattern, concurrent runs against one nginx, and how many
reloads a run over several proxied apps sends (docs/proxy.md, SPEC §11).

Every test runs its own private nginx (tests/support/nginx.py) with a ``default_server`` of its own on its main
port that answers 421 for a name no app claims, so "no longer served by the app" is an answer nginx gives, not
an app that happened to be loaded first. The web containers answer with their hostname. Request loops are
bounded by count and time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from tests.support import images
from tests.support.ansible_runner import COLLECTIONS_PATH, Runner
from tests.support.docker_state import containers, remove_app_containers
from tests.support.four_step import four_step
from tests.support.nginx import DEFAULT_SERVER_STATUS, PrivateNginx, default_server_conf, get
from tests.support.proxy_apps import (ConfigView, answers, app_args, config, hostnames, options, proxy_addresses,
                                      reloads_reach)
from tests.support.results import all_containers

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_settings as proxy_settings  # noqa: E402  pylint: disable=wrong-import-position

NO_WORK = {"created": [], "started": [], "replaced": [], "stopped": [], "removed": [], "updated": []}
# the nginx options are module options; the rest of app_args is an app's declaration
NGINX_OPTIONS = ("nginx_binary", "nginx_conf", "nginx_include_dir", "nginx_pid_file", "nginx_prefix",
                 "proxy_listen_address")


@pytest.fixture
def nginx(tmp_path):
    server = PrivateNginx(tmp_path / "nginx")
    server.http_extra = default_server_conf(server.port)
    with server:
        yield server


@pytest.fixture(scope="session")
def proxy_image(docker_client, standard_images):
    return images.PROXY_IMAGE


@pytest.fixture
def more_apps(api, app_name):
    """``more_apps(n)``: n app names derived from the test's own; their containers are removed afterwards."""
    made = []

    def make(count):
        names = ["%s-%d" % (app_name, index) for index in range(len(made) + 1, len(made) + count + 1)]
        made.extend(names)
        return names
    yield make
    for name in made:
        remove_app_containers(api, name)


def declaration(args):
    return dict((key, value) for key, value in args.items() if key not in NGINX_OPTIONS)


def status(server, host=None, port=None):
    """The status nginx answers with (0: nothing listens)."""
    try:
        return get(server.url(port=port), host=host, timeout=5)[0]
    except OSError:
        return 0


def not_served(server, app_hosts, host=None, port=None, count=5):
    """``count`` requests that none of the app's containers answers."""
    for _attempt in range(count):
        try:
            code, body = get(server.url(port=port), host=host, timeout=5)
        except OSError:
            continue  # nothing listens on that port any more
        assert code == DEFAULT_SERVER_STATUS and body not in app_hosts, (code, body)


def expected_config(app, port, domains, addresses):
    """The config the collection renders for the app (the same input gives the same bytes)."""
    settings = proxy_settings.settings_of({"web_port": 5000, "proxy": {"enabled": True, "ports": ["http:%d:5000" % port],
                                                                       "domains": list(domains)}})
    return proxy_config.render(app, settings, sorted(addresses), listen_address="127.0.0.1").encode()


def nginx_t(server):
    check = subprocess.run(server.argv("-t"), capture_output=True, text=True, timeout=30, check=False)
    assert check.returncode == 0, check.stderr


def proxy_four_step(runner, api, app, server, args, reloads):
    """four_step of dokku_ps_app with ``args``, and the proxy's side of it: check mode writes no config and sends
    no reload (file bytes and mtime, the include directory, the master's reload count and pid); the apply sends
    exactly ``reloads``; steps 3 and 4 write nothing and reload nothing. Returns (predicted, applied, the proxy
    side before, after the apply)."""
    view = ConfigView(server, app)
    before = view.take()
    assert before.pid is not None
    seen = {}

    def after_check(predicted):
        assert view.take() == before, "check mode wrote the config or reloaded nginx"

    def after_apply(applied):
        reloads_reach(server, before.reloads + reloads)
        seen["after"] = view.take()

    predicted, applied = four_step(runner, api, app, "dokku_ps_app", args, after_check=after_check,
                                   after_apply=after_apply)
    after = seen["after"]
    assert after.reloads == before.reloads + reloads and after.pid == before.pid
    assert view.take() == after, "the idempotent check or apply wrote the config or reloaded nginx"
    return predicted, applied, before, after


def assert_config_change(app, predicted, applied, before, after):
    """Check mode predicted the config change the apply made, in proxy_changed and in the nginx diff."""
    assert predicted["proxy_changed"] == [app] and applied["proxy_changed"] == [app]
    assert predicted["diff"]["before"]["nginx"] == {app: before.text}
    assert applied["diff"]["before"]["nginx"] == {app: before.text}
    assert applied["diff"]["after"]["nginx"] == {app: after.text}
    assert predicted["diff"]["after"]["nginx"][app] != before.text
    assert after.text != before.text


# -- 1. every proxy option of dokku_ps_app in four steps -------------------------------------------------------

def test_changing_domains_in_four_steps(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx, domains=["old.example.test"])
    runner.module("dokku_ps_app", args)
    served = hostnames(api, app_name)
    assert answers(nginx, host="old.example.test", count=5) == served
    not_served(nginx, served, host="new.example.test")

    changed = dict(args, domains=["new.example.test", "www.new.example.test"])
    predicted, applied, before, after = proxy_four_step(runner, api, app_name, nginx, changed, reloads=1)
    assert_config_change(app_name, predicted, applied, before, after)
    # nothing about the members changes: the prediction is the very file the apply wrote
    assert predicted["diff"]["after"]["nginx"][app_name] == after.text
    assert "server_name new.example.test www.new.example.test;" in after.text
    assert all_containers(applied) == NO_WORK and hostnames(api, app_name) == served

    assert answers(nginx, host="new.example.test", count=5) == served
    assert answers(nginx, host="www.new.example.test", count=5) == served
    not_served(nginx, served, host="old.example.test")


def test_changing_proxy_ports_in_four_steps(runner, api, app_name, proxy_image, nginx):
    old_port, new_port = nginx.ports(2)
    args = app_args(app_name, proxy_image, nginx, port=old_port)
    runner.module("dokku_ps_app", args)
    served = hostnames(api, app_name)
    assert answers(nginx, port=old_port, count=5) == served
    assert status(nginx, port=new_port) == 0, "nothing listens on the new port yet"

    changed = dict(args, proxy_ports=["http:%d:5000" % new_port])
    predicted, applied, before, after = proxy_four_step(runner, api, app_name, nginx, changed, reloads=1)
    assert_config_change(app_name, predicted, applied, before, after)
    assert predicted["diff"]["after"]["nginx"][app_name] == after.text
    assert after.text.encode() == expected_config(app_name, new_port, (), proxy_addresses(api, app_name))
    assert all_containers(applied) == NO_WORK and hostnames(api, app_name) == served

    assert answers(nginx, port=new_port, count=5) == served
    not_served(nginx, served, port=old_port)  # only the test's default server is left there: 421


def test_changing_wait_to_retire_in_four_steps(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    runner.module("dokku_ps_app", args)
    served = hostnames(api, app_name)

    changed = dict(args, wait_to_retire=6)
    predicted, applied, before, after = proxy_four_step(runner, api, app_name, nginx, changed, reloads=0)
    # a setting of the rollouts, not of the config: recorded, no container replaced, no config written
    assert "proxy_changed" not in predicted and "proxy_changed" not in applied
    assert "nginx" not in predicted["diff"]["after"] and "nginx" not in applied["diff"]["after"]
    assert all_containers(predicted) == NO_WORK and all_containers(applied) == NO_WORK
    assert after.text == before.text and after.mtime == before.mtime
    assert hostnames(api, app_name) == served and answers(nginx, count=5) == served
    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    assert report["proxy"]["wait_to_retire"] == 6

    # the next rollout keeps the old container serving 6 s after its successor started and the switch
    old_id = containers(api, app_name)["%s.web.1" % app_name]["Id"]
    since = int(time.time()) - 1
    reloads = nginx.reloads()
    runner.module("dokku_ps_app", dict(changed, env={"RELEASE": "2"}))
    new_id = containers(api, app_name)["%s.web.1" % app_name]["Id"]
    assert new_id != old_id
    events = list(api.events(since=since, until=int(time.time()) + 1, decode=True,
                             filters={"container": [old_id, new_id], "type": "container"}))
    started = [e["timeNano"] for e in events if e["Actor"]["ID"] == new_id and e["Action"] == "start"]
    killed = [e["timeNano"] for e in events if e["Actor"]["ID"] == old_id and e["Action"] == "kill"]
    assert started and killed, events
    drained = (min(killed) - min(started)) / 1e9
    print("wait_to_retire 6: the old container was stopped %.1f s after its successor started" % drained)
    assert drained >= 6, "the old container was stopped %.1f s after the new one started" % drained
    assert reloads_reach(nginx, reloads + 1) == reloads + 1, "one switch reload"
    assert answers(nginx, count=5) == hostnames(api, app_name) == {new_id[:12]}


def test_turning_the_proxy_off_and_on_again_in_four_steps(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    runner.module("dokku_ps_app", args)
    served = hostnames(api, app_name)
    web = "%s.web.1" % app_name

    off = dict(args, proxy=False)
    predicted, applied, before, after = proxy_four_step(runner, api, app_name, nginx, off, reloads=1)
    assert_config_change(app_name, predicted, applied, before, after)
    assert predicted["diff"]["after"]["nginx"] == {app_name: None} and after.text is None
    assert applied["containers"]["replaced"] == [web]
    assert "dokku-ps" not in containers(api, app_name)[web]["NetworkSettings"]["Networks"]
    not_served(nginx, served | hostnames(api, app_name))

    on = dict(args, proxy=True)
    predicted, applied, before, after = proxy_four_step(runner, api, app_name, nginx, on, reloads=1)
    assert_config_change(app_name, predicted, applied, before, after)
    # check mode cannot know the new container's address: it names the container instead
    assert predicted["diff"]["before"]["nginx"] == {app_name: None}
    prediction = predicted["diff"]["after"]["nginx"][app_name]
    assert "listen 127.0.0.1:%d;" % nginx.port in prediction and web in prediction
    assert applied["containers"]["replaced"] == [web]
    addresses = proxy_addresses(api, app_name)
    assert len(addresses) == 1
    assert after.text.encode() == expected_config(app_name, nginx.port, (), addresses)
    assert answers(nginx, count=5) == hostnames(api, app_name)


# -- 2. concurrent runs against one nginx ----------------------------------------------------------------------

def run_concurrently(state_dir, tmp_path, label, tasks):
    """Run ``tasks`` ([(module, args)]) as separate ansible-playbook processes started at the same moment (one
    thread each, its own working directory, the same state directory). Returns the results and the time span
    of each process."""
    barrier = threading.Barrier(len(tasks))
    outcomes = [None] * len(tasks)

    def one(index, module, args):
        workdir = tmp_path / ("%s-%d" % (label, index))
        workdir.mkdir()
        runner = Runner(state_dir, workdir=str(workdir))
        barrier.wait(timeout=60)
        began = time.monotonic()
        try:
            result = runner.module(module, args)
        except BaseException as exc:  # noqa: BLE001  reported by the test below
            result = exc
        outcomes[index] = (result, began, time.monotonic())

    threads = [threading.Thread(target=one, args=(index, module, args), daemon=True)
               for index, (module, args) in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "a run did not finish within 600 s"
    failures = [outcome[0] for outcome in outcomes if isinstance(outcome[0], BaseException)]
    assert not failures, failures[0]
    assert max(o[1] for o in outcomes) < min(o[2] for o in outcomes), "the runs did not overlap"
    return [outcome[0] for outcome in outcomes]


def assert_every_app_served_alone(api, server, apps, domains):
    """Every app's file is exactly what the collection renders for its running web containers (no write lost,
    none cut short or mixed), nothing else is left in the include directory, ``nginx -t`` passes, and each
    domain reaches its own app's containers, every one of them, and no other."""
    listing = sorted(os.listdir(server.include_dir))
    assert listing == sorted([".lock"] + ["%s.conf" % app for app in apps]), listing
    for app, domain in zip(apps, domains):
        assert config(server, app) == expected_config(app, server.port, [domain], proxy_addresses(api, app)), app
    nginx_t(server)
    for app, domain in zip(apps, domains):
        assert answers(server, host=domain, count=20) == hostnames(api, app), app


def test_concurrent_runs_never_lose_an_apps_config(api, more_apps, proxy_image, nginx, state_dir, tmp_path):
    apps = more_apps(4)
    domains = ["app%d.example.test" % index for index in range(len(apps))]
    decls = [app_args(app, proxy_image, nginx, domains=[domain]) for app, domain in zip(apps, domains)]
    reloads = nginx.reloads()

    deployed = run_concurrently(state_dir, tmp_path, "deploy", [("dokku_ps_app", args) for args in decls])
    assert [result["proxy_changed"] for result in deployed] == [[app] for app in apps]
    assert_every_app_served_alone(api, nginx, apps, domains)
    assert all(len(hostnames(api, app)) == 1 for app in apps)
    # each run queued its app's config and applied it with one reload (SIGHUPs that reach the master while it
    # is still busy with the previous reload merge into one, so at most one each)
    got = reloads_reach(nginx, reloads + len(apps)) - reloads
    print("%d concurrent first deploys: %d reload(s)" % (len(apps), got))
    assert 1 <= got <= len(apps)

    # all of them change again at the same time: a scale (queued configs) ...
    scales = [("dokku_ps_scale", dict(options(nginx), app=app, scale={"web": 2})) for app in apps]
    run_concurrently(state_dir, tmp_path, "scale", scales)
    assert_every_app_served_alone(api, nginx, apps, domains)
    assert all(len(hostnames(api, app)) == 2 for app in apps)

    # ... and a rollout (each app's switch in the middle of its run)
    old = dict((app, hostnames(api, app)) for app in apps)
    rollouts = [("dokku_ps_app", dict(args, env={"RELEASE": "2"})) for args in decls]
    rolled = run_concurrently(state_dir, tmp_path, "rollout", rollouts)
    assert [result["containers"]["replaced"] for result in rolled] == [
        ["%s.web.1" % app, "%s.web.2" % app] for app in apps]
    assert_every_app_served_alone(api, nginx, apps, domains)
    assert all(len(hostnames(api, app)) == 2 and not hostnames(api, app) & old[app] for app in apps)


# -- 3. reloads of a run over several apps ---------------------------------------------------------------------

def test_reloads_of_runs_over_three_apps(runner, api, more_apps, proxy_image, nginx):
    """Queued configs (first deploys, scale ups, starts, domains) are applied with ONE reload per run, whatever
    the number of apps; a rollout, scale down or stop switches each app's config in the middle of its web phase,
    one reload per app (docs/proxy.md "What a run does"); a no-op sends none."""
    apps = more_apps(3)
    domains = ["r%d.example.test" % index for index in range(len(apps))]
    decls = [declaration(app_args(app, proxy_image, nginx, domains=[domain])) for app, domain in zip(apps, domains)]

    def run(module, args, expected, per_app=False):
        """Run once; the master got exactly ``expected`` reloads (``per_app``: one switch per app, at most
        ``expected``: the kernel merges a SIGHUP that arrives while the master has not yet taken the one before,
        so two apps switching at the same moment may count once); every app's config changed."""
        reloads = nginx.reloads()
        result = runner.module(module, dict(options(nginx), **args))
        got = reloads_reach(nginx, reloads + expected)
        print("%s %s: %d reload(s)" % (module, sorted(args), got - reloads))
        if per_app:
            assert reloads + 1 <= got <= reloads + expected, "%s: %d reloads, documented at most %d" % (
                module, got - reloads, expected)
        else:
            assert got == reloads + expected, "%s: %d reloads, documented %d" % (module, got - reloads, expected)
        assert result.get("proxy_changed", []) == (apps if expected else [])
        return result

    # a first deploy of three apps: three configs queued, one reload
    run("dokku_ps_fleet", dict(apps=decls), 1)
    assert_every_app_served_alone(api, nginx, apps, domains)

    # restarted, every app: a rollout each, whose switch is that app's one reload; the end of the run adds none
    before = dict((app, hostnames(api, app)) for app in apps)
    result = run("dokku_ps_state", dict(state="restarted", all=True), len(apps), per_app=True)
    assert all(result["apps"][app]["containers"]["replaced"] == ["%s.web.1" % app] for app in apps)
    assert_every_app_served_alone(api, nginx, apps, domains)
    assert all(not hostnames(api, app) & before[app] for app in apps)

    # dokku_ps_fleet scaling all three up (queued): one reload
    run("dokku_ps_fleet", dict(apps=[dict(decl, scale={"web": 2}) for decl in decls]), 1)
    assert_every_app_served_alone(api, nginx, apps, domains)
    assert all(len(hostnames(api, app)) == 2 for app in apps)

    # dokku_ps_fleet changing the domains of all three (configs only): one reload
    domains = ["s%d.example.test" % index for index in range(len(apps))]
    decls = [dict(decl, domains=[domain]) for decl, domain in zip(decls, domains)]
    result = run("dokku_ps_fleet", dict(apps=decls), 1)
    assert all(result["apps"][app]["containers"] == NO_WORK for app in apps)
    assert_every_app_served_alone(api, nginx, apps, domains)

    # dokku_ps_fleet rolling all three out (a new env): one switch reload per app
    decls = [dict(decl, env={"RELEASE": "2"}) for decl in decls]
    result = run("dokku_ps_fleet", dict(apps=decls), len(apps), per_app=True)
    assert all(len(result["apps"][app]["containers"]["replaced"]) == 2 for app in apps)
    assert_every_app_served_alone(api, nginx, apps, domains)

    # stopped, every app: their members leave before they stop, one reload each; started: one reload
    run("dokku_ps_state", dict(state="stopped", all=True), len(apps), per_app=True)
    assert all(status(nginx, host=domain) == 503 for domain in domains)
    run("dokku_ps_state", dict(state="started", all=True), 1)
    assert_every_app_served_alone(api, nginx, apps, domains)

    # dokku_ps_fleet scaling all three down: the leaving members go first, one reload per app
    run("dokku_ps_fleet", dict(apps=[dict(decl, scale={"web": 1}) for decl in decls]), len(apps), per_app=True)
    assert_every_app_served_alone(api, nginx, apps, domains)
    assert all(len(hostnames(api, app)) == 1 for app in apps)

    # nothing to do: no reload
    run("dokku_ps_fleet", dict(apps=decls), 0)
    run("dokku_ps_state", dict(state="restored", all=True), 0)
