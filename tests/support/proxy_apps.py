"""Proxied test apps driven through the modules against a private nginx (tests/support/nginx.py).

The web containers run PROXY_IMAGE's busybox httpd, which answers with the container's hostname, so an answer
through nginx names the container that served it (``hostnames``). ``options(server)`` are the modules' nginx
options for a private nginx, exactly as a user points them at the host's nginx; ``app_args`` a dokku_ps_app
task of a proxied app with quick checks and a short drain period.

``ConfigView`` takes what a run must not touch in check mode: the app's file in the include directory (bytes and
mtime), the directory's listing, the reloads the master logged and its pid.
"""

from __future__ import annotations

import collections
import os
import time

from tests.support import images
from tests.support.docker_state import containers
from tests.support.nginx import request_loop

WEB = {"web": "sh -c '%s'" % images.PROXY_WEB_SCRIPT}
QUICK = {"web": {"uptime": 1}}


def options(server):
    """The modules' nginx options for a private nginx."""
    return {"nginx_binary": server.binary, "nginx_conf": server.conf, "nginx_include_dir": server.include_dir,
            "nginx_pid_file": server.pid_file, "nginx_prefix": server.root, "proxy_listen_address": "127.0.0.1"}


def app_args(app, image, server, port=None, **extra):
    args = {"name": app, "image": image, "processes": WEB, "checks": QUICK, "proxy": True,
            "proxy_ports": ["http:%d:5000" % (port or server.port)], "wait_to_retire": 1}
    args.update(options(server))
    args.update(extra)
    return args


def hostnames(api, app, ptype="web"):
    """The hostnames (container id prefixes) of the app's running containers of a type."""
    return set(data["Config"]["Hostname"] for name, data in containers(api, app).items()
               if ".%s." % ptype in name and data["State"]["Running"])


def proxy_addresses(api, app):
    """The addresses of the app's running web containers on the proxy network."""
    found = set()
    for name, data in containers(api, app).items():
        endpoint = data["NetworkSettings"]["Networks"].get("dokku-ps")
        if ".web." in name and data["State"]["Running"] and endpoint:
            found.add(endpoint["IPAddress"])
    return found


def config_path(server, app):
    return os.path.join(server.include_dir, "%s.conf" % app)


def config(server, app):
    path = config_path(server, app)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def answers(server, count=30, host=None, port=None):
    result = request_loop(server.url(port=port), count=count, seconds=20, host=host)
    assert result.failed == 0, result.errors
    return set(result.bodies)


def reloads_reach(server, expected, seconds=10.0):
    """The master's reload count once it reached ``expected`` (it logs each SIGHUP as it gets it; ``nginx -s
    reload`` returns when the signal is sent), or what it is after ``seconds``."""
    deadline = time.monotonic() + seconds
    count = server.reloads()
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.05)
        count = server.reloads()
    return count


ConfigState = collections.namedtuple("ConfigState", "text mtime listing reloads pid")


class ConfigView:
    """What the proxy side of one app looks like from outside: its config file, the include directory, the
    master's reloads and pid."""

    def __init__(self, server, app):
        self.server = server
        self.app = app

    def take(self):
        path = config_path(self.server, self.app)
        try:
            mtime = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        text = config(self.server, self.app)
        return ConfigState(None if text is None else text.decode("utf-8"), mtime,
                           sorted(os.listdir(self.server.include_dir)), self.server.reloads(), self.server.pid)
