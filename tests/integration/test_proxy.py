"""The web proxy through the modules, against a real nginx and real containers (docs/proxy.md).

Every test drives its own private nginx (tests/support/nginx.py) through the modules' nginx options, exactly as
a user points them at the host's nginx; the web containers are busybox httpd answering with their hostname,
so the answers say which container served them. Request loops are bounded by count and time.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support import images
from tests.support.docker_state import containers
from tests.support.four_step import four_step
from tests.support.nginx import BackgroundLoop, PrivateNginx, get
from tests.support.proxy_apps import answers, app_args, config, hostnames, options, reloads_reach


@pytest.fixture
def nginx(tmp_path):
    with PrivateNginx(tmp_path / "nginx") as server:
        yield server


@pytest.fixture(scope="session")
def proxy_image(docker_client, standard_images):
    return images.PROXY_IMAGE


def test_round_robin_over_every_web_container_in_four_steps(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    predicted, applied = four_step(runner, api, app_name, "dokku_ps_app", args)
    assert predicted["proxy_changed"] == [app_name] and applied["proxy_changed"] == [app_name]
    scaled = runner.module("dokku_ps_scale", dict(options(nginx), app=app_name, scale={"web": 3}))
    assert scaled["proxy_changed"] == [app_name]
    served = answers(nginx, count=30)
    assert served == hostnames(api, app_name) and len(served) == 3, "every web container answers, round robin"

    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    members = report["proxy"]["members"]
    addresses = set(data["NetworkSettings"]["Networks"]["dokku-ps"]["IPAddress"]
                    for data in containers(api, app_name).values())
    assert sorted(members) == sorted("%s:5000" % address for address in addresses)
    assert report["proxy"]["enabled"] is True and report["proxy"]["ports"] == ["http:%d:5000" % nginx.port]


def test_a_no_op_writes_nothing_and_sends_no_reload(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    runner.module("dokku_ps_app", args)
    path = os.path.join(nginx.include_dir, "%s.conf" % app_name)
    mtime, reloads, pid = os.stat(path).st_mtime_ns, nginx.reloads(), nginx.pid
    for module, module_args in (("dokku_ps_app", args),
                                ("dokku_ps_state", dict(options(nginx), app=app_name, state="started")),
                                ("dokku_ps_state", dict(options(nginx), all=True, state="restored")),
                                ("dokku_ps_fleet", dict(options(nginx), apps=[{"name": app_name}]))):
        result = runner.module(module, module_args)
        assert result["changed"] is False and "proxy_changed" not in result, module
    assert os.stat(path).st_mtime_ns == mtime and nginx.reloads() == reloads and nginx.pid == pid


def test_a_rollout_of_three_web_containers_fails_no_request(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    runner.modules([
        ("dokku_ps_app", args),
        ("dokku_ps_scale", dict(options(nginx), app=app_name, scale={"web": 3})),
    ])
    before = hostnames(api, app_name)
    with BackgroundLoop(nginx.url(), seconds=120, pause=0.01) as loop:
        time.sleep(0.5)
        result = runner.module("dokku_ps_app", dict(args, env={"RELEASE": "2"}))
        time.sleep(0.5)
    print("rollout of web=3 through the proxy: %d requests, %d failed" % (loop.result.sent, loop.result.failed))
    assert result["containers"]["replaced"] == ["%s.web.%d" % (app_name, i) for i in (1, 2, 3)]
    assert loop.result.sent > 50 and loop.result.failed == 0, loop.result.errors
    after = hostnames(api, app_name)
    assert not before & after and len(after) == 3
    assert answers(nginx) == after, "the proxy serves the new containers only"
    assert set(loop.result.bodies) >= after, "the new containers served during the loop"


def test_a_scale_down_under_load_fails_no_request(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    runner.modules([
        ("dokku_ps_app", args),
        ("dokku_ps_scale", dict(options(nginx), app=app_name, scale={"web": 3})),
    ])
    with BackgroundLoop(nginx.url(), seconds=60, pause=0.01) as loop:
        time.sleep(0.5)
        result = runner.module("dokku_ps_scale", dict(options(nginx), app=app_name, scale={"web": 1}))
        time.sleep(0.5)
    print("scale 3 -> 1 through the proxy: %d requests, %d failed" % (loop.result.sent, loop.result.failed))
    assert result["containers"]["removed"] == ["%s.web.2" % app_name, "%s.web.3" % app_name]
    assert loop.result.sent > 50 and loop.result.failed == 0, loop.result.errors
    assert answers(nginx) == hostnames(api, app_name) and len(hostnames(api, app_name)) == 1


def test_two_apps_share_a_port_by_domain(runner, api, app_name, proxy_image, nginx):
    other = app_name + "-b"
    runner.modules([
        ("dokku_ps_app", app_args(app_name, proxy_image, nginx, domains=["one.example.test"])),
        ("dokku_ps_app", app_args(other, proxy_image, nginx, domains=["two.example.test"])),
    ])
    try:
        assert answers(nginx, host="one.example.test", count=10) == hostnames(api, app_name)
        assert answers(nginx, host="two.example.test", count=10) == hostnames(api, other)
        # the same port without domains is refused, naming the field and the other app
        refused = runner.module("dokku_ps_app", app_args(app_name + "-c", proxy_image, nginx), expect_failure=True)
        assert "proxy_ports" in refused["msg"] and "%s" % app_name in refused["msg"]
        assert containers(api, app_name + "-c") == {}
    finally:
        runner.module("dokku_ps_app", dict(options(nginx), name=other, state="absent"))
    assert config(nginx, other) is None, "state absent removes the app's config"


def test_bad_domains_and_ports_are_refused_before_anything_changes(runner, api, app_name, proxy_image, nginx):
    for extra, words in ((dict(domains=["bad;name"]), ["domains[0]"]),
                         (dict(domains=["a b"]), ["domains[0]"]),
                         (dict(domains=["x\ny"]), ["domains[0]"]),
                         (dict(domains=['q"uote']), ["domains[0]"]),
                         (dict(proxy_ports=["http:0:5000"]), ["proxy_ports[0] host port"]),
                         (dict(proxy_ports=["https:443:5000"]), ["proxy_ports[0]", "https mapping needs the app's certificate"]),
                         (dict(proxy_ports=["http:80:5000", "http:80:5001"]), ["proxy_ports[1]"])):
        failed = runner.module("dokku_ps_app", app_args(app_name, proxy_image, nginx, **extra), expect_failure=True)
        assert all(word in failed["msg"] for word in words) and "\n" not in failed["msg"], failed["msg"]
    assert containers(api, app_name) == {} and os.listdir(nginx.include_dir) == []


def test_a_config_that_fails_nginx_t_never_goes_live(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    runner.module("dokku_ps_app", args)
    live = config(nginx, app_name)
    served = answers(nginx, count=5)
    broken = os.path.join(nginx.include_dir, "zz-not-ours.conf")
    with open(broken, "w") as handle:
        handle.write("this is not nginx;\n")
    try:
        failed = runner.module("dokku_ps_app", dict(args, domains=["new.example.test"]), expect_failure=True)
        assert app_name in failed["msg"] and "nginx" in failed["msg"]
        assert config(nginx, app_name) == live, "the live config is byte for byte what it was"
        assert answers(nginx, count=5) == served, "nginx still serves with the old config"
    finally:
        os.unlink(broken)
    assert runner.module("dokku_ps_app", dict(args, domains=["new.example.test"]))["proxy_changed"] == [app_name]


def test_a_failed_rollout_leaves_the_proxy_as_it_was(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    runner.module("dokku_ps_app", args)
    live, served = config(nginx, app_name), answers(nginx, count=5)
    failing = dict(args, processes={"web": "sh -c 'exit 3'"})
    runner.module("dokku_ps_app", failing, expect_failure=True)
    assert config(nginx, app_name) == live and answers(nginx, count=5) == served


def test_stop_start_and_a_killed_process_restarted_by_docker(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    runner.module("dokku_ps_app", args)
    reloads = nginx.reloads()
    runner.module("dokku_ps_state", dict(options(nginx), app=app_name, state="stopped"))
    reloads_reach(nginx, reloads + 1)  # nginx -s reload returns when the signal is sent; the master then reloads
    assert get(nginx.url())[0] == 503, "a stopped app has no members: 503 at once"
    runner.module("dokku_ps_state", dict(options(nginx), app=app_name, state="started"))
    served = answers(nginx, count=5)

    # Docker restarts the killed process (restart policy on-failure:10): reachable again, no run of ours
    web = containers(api, app_name)["%s.web.1" % app_name]
    os.kill(web["State"]["Pid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    # first Docker's restart (a request could still reach the dying process), then the served page
    while time.monotonic() < deadline:
        again = api.inspect_container(web["Id"])
        if again["RestartCount"] > web["RestartCount"] and again["State"]["Running"]:
            break
        time.sleep(0.1)
    while time.monotonic() < deadline:
        try:
            if get(nginx.url(), timeout=2)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    assert answers(nginx, count=5) == served
    assert containers(api, app_name)["%s.web.1" % app_name]["RestartCount"] >= 1


def test_turning_the_proxy_off_removes_the_config_and_the_network(runner, api, app_name, proxy_image, nginx):
    args = app_args(app_name, proxy_image, nginx)
    off = runner.modules([
        ("dokku_ps_app", args),
        ("dokku_ps_app", dict(args, proxy=False)),
    ])[-1]
    assert off["proxy_changed"] == [app_name] and off["containers"]["replaced"] == ["%s.web.1" % app_name]
    assert config(nginx, app_name) is None
    web = containers(api, app_name)["%s.web.1" % app_name]
    assert "dokku-ps" not in web["NetworkSettings"]["Networks"]
