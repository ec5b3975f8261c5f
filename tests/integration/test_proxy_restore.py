"""A reboot of a host with proxied apps: a private Docker daemon is stopped and started again, and
``playbooks/restore.yml`` brings back the apps that were running, each served through nginx by every one of its
web containers at the addresses they had; an app stopped on purpose stays stopped and its config answers 503.

The private daemon's containers live in its own network namespace, so the private nginx runs there too
(``PrivateDaemon.netns_command``) and the test's requests are made from there (``daemons.in_network_namespace``).
The collection drives that nginx through the modules' nginx options, running the plain binary from the host's
namespace (``nginx -t`` binds nothing, ``nginx -s reload`` signals the pid in the pid file). Every start of the
daemon makes a new namespace, so the "reboot" stops nginx with the daemon and starts it again in the new one,
with the configs it had on disk, as a host's nginx comes back at boot.

restore.yml passes ``state_dir`` and ``docker_host`` from host variables to ``dokku_ps_state``, and the nginx
options from the host variables ``dokku_ps_proxy_*`` named in ``NGINX_VARS`` (the proxy role's names). Every request loop and wait is bounded by count and time.
"""

from __future__ import annotations

import os
import re
import sys
import time

import pytest
import yaml

from tests.support import daemons, images
from tests.support.ansible_runner import REPO_ROOT, Runner
from tests.support.docker_state import containers
from tests.support.nginx import PrivateNginx, request_loop

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="private Docker daemons need root")

RESTORE = os.path.join(REPO_ROOT, "playbooks", "restore.yml")
WEB = {"web": "sh -c '%s'" % images.PROXY_WEB_SCRIPT}
QUICK = {"web": {"uptime": 1}}
STOPPED_REASON = "restore flag is false (the app was stopped on purpose)"
RECAP_RE = re.compile(r"^pxhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s.*failed=(\d+)", re.M)

# module option -> the host variable restore.yml takes it from (the names of the proxy role's variables)
NGINX_VARS = {
    "nginx_binary": "dokku_ps_proxy_binary",
    "nginx_conf": "dokku_ps_proxy_main_conf",
    "nginx_include_dir": "dokku_ps_proxy_include_dir",
    "nginx_pid_file": "dokku_ps_proxy_pid_file",
    "nginx_prefix": "dokku_ps_proxy_prefix",
    "proxy_listen_address": "dokku_ps_proxy_listen_address",
}

# the apps: (name, web containers); the last one is stopped on purpose. The web=1 app has restart policy 'no', so
# Docker does not bring it back by itself: the restore must start it.
TWO, ONE, STOPPED = "pr-two", "pr-one", "pr-stopped"
SCALE = {TWO: 2, ONE: 1, STOPPED: 1}


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "pxrestore")


@pytest.fixture
def nginx(host, tmp_path):
    host.loopback_up()
    server = PrivateNginx(tmp_path / "nginx", command_prefix=host.netns_command())
    with server:
        yield server


def options(server):
    """The modules' nginx options for the private nginx."""
    return {"nginx_binary": server.binary, "nginx_conf": server.conf, "nginx_include_dir": server.include_dir,
            "nginx_pid_file": server.pid_file, "nginx_prefix": server.root, "proxy_listen_address": "127.0.0.1"}


def write_inventory(path, daemon, server, state_dir):
    variables = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "dokku_ps_docker_host": daemon.url,
        "dokku_ps_state_dir": state_dir,
    }
    for option, value in options(server).items():
        variables[NGINX_VARS[option]] = value
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"all": {"hosts": {"pxhost": variables}}}, handle, sort_keys=False)
    return str(path)


def deploy_tasks(ports):
    tasks = []
    for (app, web), port in zip(SCALE.items(), ports):
        tasks.append({"dokku_ps.docker.dokku_ps_app": {
            "name": app, "image": images.PROXY_IMAGE, "processes": WEB, "checks": QUICK, "proxy": True,
            "proxy_ports": ["http:%d:5000" % port], "wait_to_retire": 1}})
        if web != 1:
            tasks.append({"dokku_ps.docker.dokku_ps_scale": {"app": app, "scale": {"web": web}}})
    tasks.append({"dokku_ps.docker.dokku_ps_policy": {"app": ONE, "restart_policy": "no"}})
    tasks.append({"dokku_ps.docker.dokku_ps_state": {"app": STOPPED, "state": "stopped"}})
    return tasks


def web_state(daemon, app):
    """{container name: (hostname, status, configured address, live address)} of the app's web containers."""
    client = daemon.client()
    try:
        found = {}
        for name, data in containers(client.api, app).items():
            endpoint = data["NetworkSettings"]["Networks"].get("dokku-ps") or {}
            found[name] = (data["Config"]["Hostname"], data["State"]["Status"],
                           (endpoint.get("IPAMConfig") or {}).get("IPv4Address"), endpoint.get("IPAddress"))
        return found
    finally:
        client.close()


def through_proxy(daemon, server, port, count=20, seconds=15.0):
    """``request_loop`` to nginx's ``port``, from the daemon's network namespace."""
    return daemons.in_network_namespace(daemon.netns, request_loop, server.url(port=port), count=count,
                                        seconds=seconds, timeout=2.0, call_timeout=seconds + 10)


def served_by_all(daemon, server, port, hostnames, seconds=25.0):
    """Wait (bounded) until a loop of requests to ``port`` meets every one of ``hostnames``, then send one more
    loop that must fail no request and be served by exactly them. Returns that loop's result."""
    deadline = time.monotonic() + seconds
    seen = set()
    for _attempt in range(50):
        seen = set(through_proxy(daemon, server, port, count=4 * len(hostnames), seconds=5.0).bodies)
        if seen == hostnames or time.monotonic() >= deadline:
            break
        time.sleep(0.5)  # a member that refused a connection is left out by nginx for up to 10 s
    assert seen == hostnames, "served by %s, wanted %s" % (sorted(seen), sorted(hostnames))
    result = through_proxy(daemon, server, port, count=10 * len(hostnames))
    assert result.failed == 0, result.errors
    assert set(result.bodies) == hostnames and result.sent == 10 * len(hostnames)
    return result


def configs(server):
    """{file name: (bytes, mtime)} of the include directory."""
    found = {}
    for name in sorted(os.listdir(server.include_dir)):
        if name.endswith(".conf"):
            path = os.path.join(server.include_dir, name)
            with open(path, "rb") as handle:
                found[name] = (handle.read(), os.stat(path).st_mtime_ns)
    return found


def restore_result(results):
    found = [entry["result"] for entry in results if "apps_skipped" in entry["result"]]
    assert len(found) == 1, results
    return found[0]


def test_proxied_apps_are_served_again_after_a_reboot_and_restore(host, nginx, tmp_path):
    started = time.monotonic()
    timings = {}
    state_dir = str(tmp_path / "state")
    runner = Runner(state_dir, docker_host=host.url, workdir=str(tmp_path))
    ports = dict(zip(SCALE, nginx.ports(len(SCALE))))

    play = {"hosts": "localhost", "gather_facts": False, "tasks": deploy_tasks(ports.values()),
            "module_defaults": {"group/dokku_ps.docker.ps": dict(runner.defaults(), **options(nginx))}}
    returncode, _results, output = runner.playbook([play])
    assert returncode == 0, output[-4000:]
    timings["deploy"] = time.monotonic() - started

    before = dict((app, web_state(host, app)) for app in SCALE)
    for app, web in SCALE.items():
        assert sorted(before[app]) == ["%s.web.%d" % (app, index) for index in range(1, web + 1)]
        assert all(address and address.startswith("172.16.") for _h, _s, address, _live in before[app].values())
    hostnames = dict((app, set(hostname for hostname, _s, _a, _l in before[app].values())) for app in SCALE)
    for app in (TWO, ONE):
        served_by_all(host, nginx, ports[app], hostnames[app])
    stopped = through_proxy(host, nginx, ports[STOPPED], count=5)
    assert dict(stopped.statuses) == {503: 5}, stopped
    live_configs = configs(nginx)
    assert sorted(live_configs) == sorted("%s.conf" % app for app in SCALE)

    # the reboot: nginx goes down with the host and comes back at boot in the daemon's new namespace, with the
    # configs it had on disk
    mark = time.monotonic()
    nginx.stop()
    host.restart()
    host.loopback_up()
    nginx.command_prefix = host.netns_command()
    nginx.start()
    timings["reboot"] = time.monotonic() - mark
    rebooted = dict((app, web_state(host, app)) for app in SCALE)
    assert all(status == "running" for _h, status, _a, _l in rebooted[TWO].values()), "Docker brings back on-failure"
    assert all(status == "exited" for _h, status, _a, _l in rebooted[ONE].values()), "policy 'no': not by Docker"
    assert all(status == "exited" for _h, status, _a, _l in rebooted[STOPPED].values())

    with open(RESTORE, encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)[0]["module_defaults"]["group/dokku_ps.docker.ps"]
    assert set(NGINX_VARS) <= set(defaults), "restore.yml passes the nginx options from the host variables"
    playbook = "dokku_ps.docker.restore"
    inventory = write_inventory(tmp_path / "inventory.yml", host, nginx, state_dir)
    reloads = nginx.reloads()
    mark = time.monotonic()
    returncode, results, output = runner.playbook([{"import_playbook": playbook}], inventory=inventory)
    timings["restore"] = time.monotonic() - mark
    assert returncode == 0, output[-4000:]
    restored = restore_result(results)
    assert restored["apps_changed"] == [ONE]
    assert restored["apps"][ONE]["containers"]["started"] == ["%s.web.1" % ONE]
    assert (restored["apps"][TWO]["status"], restored["apps"][TWO]["reason"]) == ("unchanged", "already running")
    assert restored["apps_skipped"] == {STOPPED: STOPPED_REASON} and restored["apps_failed"] == {}
    assert configs(nginx) == live_configs, "the same addresses: every config is byte for byte what it was"
    first_reloads = nginx.reloads() - reloads

    after = dict((app, web_state(host, app)) for app in SCALE)
    for app in SCALE:
        assert sorted(after[app]) == sorted(before[app]), app
        for name, (hostname, status, address, live) in after[app].items():
            assert (hostname, address) == (before[app][name][0], before[app][name][2]), \
                "%s kept its container and its address" % name
            if app == STOPPED:
                assert status == "exited" and not live
            else:
                assert status == "running" and live == address, name
    for app in (TWO, ONE):
        served_by_all(host, nginx, ports[app], hostnames[app])
    stopped = through_proxy(host, nginx, ports[STOPPED], count=5)
    assert dict(stopped.statuses) == {503: 5}, "the stopped app's config still answers 503: %s" % (stopped,)

    # a second restore changes nothing: no container, no config file, no reload
    pid, reloads, live_configs = nginx.pid, nginx.reloads(), configs(nginx)
    returncode, results, output = runner.playbook([{"import_playbook": playbook}], inventory=inventory)
    assert returncode == 0, output[-4000:]
    again = restore_result(results)
    assert again["changed"] is False and again["apps_changed"] == [] and "proxy_changed" not in again
    assert [int(value) for value in RECAP_RE.search(output).groups()] == [3, 0, 0], output[-2000:]
    assert configs(nginx) == live_configs and nginx.reloads() == reloads and nginx.pid == pid
    assert dict((app, web_state(host, app)) for app in SCALE) == after

    timings["total"] = time.monotonic() - started
    print("proxied restore after a reboot: %s; the first restore sent %d reload(s)"
          % (", ".join("%s %.1fs" % item for item in timings.items()), first_reloads))
