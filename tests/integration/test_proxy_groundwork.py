"""The proxy's pieces together, without the collection's modules: busybox web containers at static addresses
on a ``pxg-`` network, ``proxy_config.render`` for their config, ``nginx.Nginx`` applying it to a private nginx
(tests/support/nginx.py, 127.0.0.1 and high ports only).

- round robin: every container answers through nginx, in turn;
- a config that fails ``nginx -t`` leaves the live file byte-identical (same inode and mtime), sends no
  reload, and nginx keeps serving;
- a no-op apply writes nothing and sends no reload (master pid, file mtime and reload count unchanged);
- a container killed and restarted by Docker (restart policy) is served again through nginx with no new
  render or reload, and the other members answer meanwhile: no request fails (measured and printed);
- an app without members answers 503 at once; two apps on one port are told apart by domain;
- an app without domains answers every name on its port even where another server is the default_server
  (Debian's default site on port 80), and requests without a Host header.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import stat
import sys
import time

import pytest

from tests.support import faults, images, nginx, static_net
from tests.support.ansible_runner import COLLECTIONS_PATH

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx_driver  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_settings as proxy_settings  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.dokku_ps.docker.plugins.module_utils._nginx import NginxFile  # noqa: E402  pylint: disable=wrong-import-position

MEMBERS = 3


@pytest.fixture(scope="module")
def stack(docker_client, tmp_path_factory):
    """Three web containers on a test network and a private nginx (not yet configured)."""
    images.build_standard_images(docker_client, log=lambda *a: None)
    network, subnet = static_net.create_network(docker_client)
    prefix = "pxg-%s" % secrets.token_hex(3)
    names = ["%s.web.%d" % (prefix, index) for index in range(1, MEMBERS + 1)]
    addresses = static_net.host_addresses(subnet, MEMBERS)
    created = []
    server = nginx.PrivateNginx(tmp_path_factory.mktemp("pxg-nginx"))
    try:
        for name, address in zip(names, addresses):
            created.append(static_net.create_web(docker_client, name, network.name, address))
        for address in addresses:
            faults.wait_until(lambda a=address: _answers("http://%s:%d/" % (a, static_net.WEB_PORT)), timeout=20,
                              interval=0.05, what="the web container at %s" % address)
        server.start()
        yield {"names": names, "addresses": addresses, "server": server, "network": network.name,
               "driver": nginx_driver.Nginx(**server.driver_options())}
    finally:
        server.stop()
        problems = static_net.remove(docker_client, containers=created, networks=[network.name])
        assert not problems, problems


def _answers(url):
    try:
        return nginx.get(url, timeout=0.5)[0] == 200
    except OSError:
        return False


def config(stack, app="shop", members=None, domains=(), port=None):
    """The app's config file as the collection writes it (0644)."""
    settings = proxy_settings.settings_of({"web_port": 5000, "proxy": {
        "enabled": True, "ports": ["http:%d:%d" % (port or stack["server"].port, static_net.WEB_PORT)],
        "domains": list(domains)}})
    members = stack["addresses"] if members is None else members
    return NginxFile(proxy_config.render(app, settings, members, listen_address=nginx.LISTEN_ADDRESS), 0o644)


def file_state(path):
    info = os.stat(path)
    with open(path, "rb") as handle:
        return handle.read(), info.st_ino, info.st_mtime_ns, stat.S_IMODE(info.st_mode)


def wait_reloaded(server, count, timeout=10):
    """Until the master has started ``count`` reloads and its old workers are gone (bounded)."""
    faults.wait_until(lambda: server.reloads() >= count, timeout=timeout, interval=0.05, what="nginx to reload")
    time.sleep(0.3)  # the new worker takes new connections at once; give the old one a moment to exit


def test_round_robin_every_member_answers(stack):
    server, driver = stack["server"], stack["driver"]
    reloads = server.reloads()
    started = time.monotonic()
    result = driver.apply({"shop.conf": config(stack)})
    applied = time.monotonic() - started
    assert result == nginx_driver.ApplyResult(True, ["shop"], True)
    started = time.monotonic()
    assert not driver.apply({"shop.conf": config(stack)}).changed
    print("\nproxy: apply with nginx -t and reload %.3f s, no-op apply %.4f s" % (applied, time.monotonic() - started))
    wait_reloaded(server, reloads + 1)
    loop = nginx.request_loop(server.url(), count=60, seconds=20)
    print("\nproxy: round robin over %d members: %s; %d requests in %.2f s (%.0f/s, fresh connection each)"
          % (MEMBERS, dict(loop.bodies), loop.sent, loop.seconds, loop.sent / loop.seconds))
    assert loop.failed == 0, loop.errors
    assert set(loop.bodies) == set(stack["names"])
    assert min(loop.bodies.values()) >= 60 // MEMBERS - 1  # one worker: strict turns


def test_config_failing_nginx_t_leaves_live_file_and_serving(stack):
    server, driver = stack["server"], stack["driver"]
    driver.apply({"shop.conf": config(stack)})
    path = driver.path("shop.conf")
    before, pid, reloads = file_state(path), server.pid, server.reloads()
    broken = config(stack, members=stack["addresses"][:1]).text.replace("    keepalive", "    keepalive_bogus")
    with pytest.raises(proxy_config.ProxyError) as refused:
        driver.apply({"shop.conf": NginxFile(broken, 0o644),
                      "other.conf": config(stack, app="other", domains=["other.test"])})
    print("\nproxy: refused: %s" % refused.value)
    assert "app(s) other, shop" in str(refused.value)
    assert 'unknown directive "keepalive_bogus"' in str(refused.value)
    assert file_state(path) == before
    assert driver.read("other.conf") is None
    assert sorted(os.listdir(driver.include_dir)) == [nginx_driver.LOCK_FILE, "shop.conf"]  # no backup or temp left
    assert server.pid == pid and server.reloads() == reloads
    loop = nginx.request_loop(server.url(), count=9, seconds=10)
    assert loop.failed == 0 and set(loop.bodies) == set(stack["names"])


def test_noop_apply_writes_nothing_and_sends_no_reload(stack):
    server, driver = stack["server"], stack["driver"]
    driver.apply({"shop.conf": config(stack)})
    path = driver.path("shop.conf")
    before, pid, reloads = file_state(path), server.pid, server.reloads()
    time.sleep(0.05)
    result = driver.apply({"shop.conf": config(stack), "never-existed.conf": None})
    assert result == nginx_driver.ApplyResult(False, [], False)
    assert driver.plan({"shop.conf": config(stack)}) == {}
    assert file_state(path) == before
    assert server.pid == pid and server.reloads() == reloads


def test_killed_member_restarted_by_docker_is_served_again_without_a_render(stack, docker_client):
    server, driver = stack["server"], stack["driver"]
    driver.apply({"shop.conf": config(stack)})
    path = driver.path("shop.conf")
    before, reloads = file_state(path), server.reloads()
    victim = stack["names"][1]
    data = docker_client.api.inspect_container(victim)
    restarts = data["RestartCount"]
    with nginx.BackgroundLoop(server.url(), count=20000, seconds=30, pause=0.005) as loop:
        time.sleep(0.5)
        os.kill(data["State"]["Pid"], signal.SIGKILL)  # a crash: Docker restarts it by its policy
        killed = time.monotonic()
        faults.wait_until(lambda: docker_client.api.inspect_container(victim)["RestartCount"] == restarts + 1,
                          timeout=20, interval=0.05, what="Docker to restart %s" % victim)
        restarted = time.monotonic() - killed
        # nginx finds it again by itself: poll until the victim answers through nginx (bounded)
        seen = []

        def victim_answers():
            status, body = nginx.get(server.url(), timeout=5)
            seen.append((status, body))
            return body == victim

        faults.wait_until(victim_answers, timeout=25, interval=0.05, what="%s to answer through nginx" % victim)
        served_again = time.monotonic() - killed
    result = loop.result
    print("\nproxy: killed %s; Docker restarted it after %.2f s, nginx served it again after %.2f s (no render, "
          "no reload); meanwhile %d requests, %d failed, slowest %.2f s, answers %s"
          % (victim, restarted, served_again, result.sent, result.failed, result.max_latency, dict(result.bodies)))
    assert result.failed == 0, result.errors
    assert not [entry for entry in seen if entry[0] != 200]
    assert file_state(path) == before and server.reloads() == reloads
    assert static_net.container_address(docker_client, victim, stack["network"]) == stack["addresses"][1]


def test_no_members_503_and_two_apps_by_domain(stack):
    server, driver = stack["server"], stack["driver"]
    port = server.ports(2)[1]
    first, second, third = stack["addresses"]
    names = stack["names"]
    result = driver.apply({
        "shop.conf": config(stack, members=[first, second], domains=["shop.test"], port=port),
        "blog.conf": config(stack, app="blog", members=[third], domains=["blog.test", "*.blog.test"], port=port),
        "empty.conf": config(stack, app="empty", members=[], domains=["empty.test"], port=port),
    })
    assert result.changed and result.apps == ["blog", "empty", "shop"]
    wait_reloaded(server, server.reloads())
    url = server.url(port=port)
    shop = nginx.request_loop(url, count=10, seconds=10, host="shop.test")
    blog = nginx.request_loop(url, count=10, seconds=10, host="www.blog.test")
    assert shop.failed == 0 and set(shop.bodies) == {names[0], names[1]}
    assert blog.failed == 0 and set(blog.bodies) == {names[2]}
    started = time.monotonic()
    status, _body = nginx.get(url, host="empty.test")
    assert status == 503 and time.monotonic() - started < 1
    driver.apply({"shop.conf": None, "blog.conf": None, "empty.conf": None})
    assert driver.apps() == ["shop"] or driver.apps() == []


def test_app_without_domains_gets_its_port_despite_a_default_server(stack):
    """Debian's default site holds ``listen 80 default_server``: an app without domains on that port still answers
    every name (its regex server name is chosen before the default server), and requests without Host."""
    server, driver = stack["server"], stack["driver"]
    port = server.ports(3)[2]
    default_site = os.path.join(driver.include_dir, "zz-default-site.conf")
    with open(default_site, "w", encoding="utf-8") as handle:
        handle.write("server {\n    listen %s:%d default_server;\n    server_name _;\n    return 418;\n}\n"
                     % (nginx.LISTEN_ADDRESS, port))
    try:
        driver.apply({"shop.conf": config(stack, port=port)})
        wait_reloaded(server, server.reloads())
        url = server.url(port=port)
        for host in ("anything.example", "127.0.0.1", "shop"):
            status, body = nginx.get(url, host=host)
            assert status == 200 and body in stack["names"], (host, status, body)
        # HTTP/1.0 without a Host header
        with socket.create_connection((nginx.LISTEN_ADDRESS, port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            answer = b""
            for _chunk in range(100):
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        # the name the default site lists exactly still goes there
        assert nginx.get(url, host="_")[0] == 418
    finally:
        os.unlink(default_site)
        driver.apply({"shop.conf": config(stack)})
