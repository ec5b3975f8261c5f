"""A private Docker registry for tests: Debian's ``docker-registry`` (distribution 2.8, installed by
scripts/bootstrap.sh) serving plain HTTP from a directory of the test, on an address and port of the test's choice.

    with PrivateRegistry(tmp_path / "registry", sw.bridge.gateway) as registry:
        reference = registry.push(client, image_id, "shop", "1")   # "10.231.3.1:40123/shop:1"

The swarm nodes of tests/support/swarm.py take plain-HTTP registries of their subnet pool
(``--insecure-registry``), so a registry on the bridge's gateway (the host's address on the test's bridge) serves
every node; nothing else can reach it, and it is stopped by its pid (SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.request

from tests.support.pebble import _Child

BINARY = "/usr/bin/docker-registry"


class RegistryError(RuntimeError):
    pass


def free_port(address):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


class PrivateRegistry:
    def __init__(self, root_dir, address, binary=BINARY):
        self.root_dir = os.path.abspath(str(root_dir))
        self.address = address
        self.port = free_port(address)
        self.binary = binary
        self.config = os.path.join(self.root_dir, "config.yml")
        self.log = os.path.join(self.root_dir, "registry.log")
        self._child = None

    @property
    def host(self):
        """``<address>:<port>``, the registry part of an image reference."""
        return "%s:%d" % (self.address, self.port)

    def start(self, timeout=30):
        os.makedirs(os.path.join(self.root_dir, "data"), exist_ok=True)
        with open(self.config, "w", encoding="utf-8") as handle:
            handle.write("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                         "http:\n  addr: %s\n" % (os.path.join(self.root_dir, "data"), self.host))
        self._child = _Child("docker-registry", [self.binary, "serve", self.config], self.log,
                             {"PATH": "/usr/bin:/bin"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._child.alive():
                raise RegistryError("docker-registry exited: %s" % self._child.log_tail())
            try:
                with urllib.request.urlopen("http://%s/v2/" % self.host, timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RegistryError("docker-registry did not answer on %s within %ss: %s"
                            % (self.host, timeout, self._child.log_tail()))

    def stop(self):
        if self._child is not None:
            self._child.stop()
            self._child = None

    def push(self, client, image, repository, tag):
        """Tag ``image`` (an id or reference on ``client``'s daemon) as ``<host>/<repository>:<tag>`` and push it
        there; returns that reference. Raises RegistryError with the daemon's message when the push fails."""
        reference = "%s/%s" % (self.host, repository)
        client.images.get(image).tag(reference, tag)
        for line in client.images.push(reference, tag=tag, stream=True, decode=True):
            if line.get("error"):
                raise RegistryError("push of %s:%s failed: %s" % (reference, tag, line["error"]))
        return "%s:%s" % (reference, tag)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info):
        self.stop()
