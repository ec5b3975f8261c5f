"""User-defined bridge networks with static container addresses, for the proxy tests.

The proxy design (docs/proxy.md) puts every proxied web container on a bridge network that the
collection owns, each at a static IPv4 address that the collection picks; nginx on the host reaches
the container at that address. These helpers create such a network for one test (named ``pxg-<hex>``,
on a ``/24`` of the test range below, so tests running at the same time on the shared daemon, and the
collection's default network ``172.16.240.0/20``, never overlap) and run web containers on it at a
given address, without the collection's modules.

Only containers the test started are ever addressed: ``container_address`` reads their address back
from Docker.
"""

from __future__ import annotations

import ipaddress
import secrets
import time

import docker
import docker.errors

from tests.support import images

# /24 networks for tests: 172.16.200.0/24 ... 172.16.231.0/24. Outside Docker's default local pools
# (172.17.0.0/16 - 172.31.0.0/16, 192.168.0.0/16) and outside the collection's default subnet.
TEST_SUBNETS = tuple("172.16.%d.0/24" % third for third in range(200, 232))
WEB_PORT = 5000
LABEL = "io.dokku-ps.test"
LABEL_VALUE = "proxy-groundwork"


class StaticNetError(RuntimeError):
    """A test network could not be created."""


def create_network(client, name=None, subnets=TEST_SUBNETS):
    """Create a ``pxg-`` bridge network on the first free subnet of ``subnets`` (bounded: one try each).

    Returns ``(network, subnet)``; a subnet that overlaps an existing network is skipped.
    """
    name = name or "pxg-%s" % secrets.token_hex(4)
    errors = []
    offset = secrets.randbelow(len(subnets))  # tests started together rarely race for the same subnet
    for index in range(len(subnets)):
        subnet = subnets[(offset + index) % len(subnets)]
        net = ipaddress.ip_network(subnet)
        gateway = str(net.network_address + 1)
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet, gateway=gateway)])
        try:
            network = client.networks.create(name, driver="bridge", ipam=ipam, labels={LABEL: LABEL_VALUE},
                                             check_duplicate=True)
        except docker.errors.APIError as exc:
            errors.append("%s: %s" % (subnet, exc.explanation))
            if "overlap" in str(exc.explanation).lower():
                continue
            raise StaticNetError("creating network %s on %s: %s" % (name, subnet, exc.explanation)) from exc
        return network, subnet
    raise StaticNetError("no free test subnet for %s: %s" % (name, "; ".join(errors[-3:])))


def host_addresses(subnet, count, first=10):
    """``count`` addresses of ``subnet`` from its ``first``-th host address on."""
    net = ipaddress.ip_network(subnet)
    return [str(net.network_address + first + index) for index in range(count)]


def create_web(client, name, network, address, image=images.PROXY_IMAGE, restart_policy=None, port=WEB_PORT,
               start=True):
    """Create (and start) a web container of ``image`` on ``network`` at the static ``address``.

    The container's hostname is its name, so PROXY_IMAGE answers with the name. Returns the container id.
    Docker refuses a taken address at START, not at create (``APIError`` 403 "Address already in use").
    """
    api = client.api
    policy = restart_policy or {"Name": "on-failure", "MaximumRetryCount": 10}
    host_config = api.create_host_config(network_mode=network, init=True, restart_policy=policy)
    networking = api.create_networking_config({network: api.create_endpoint_config(ipv4_address=address)})
    created = api.create_container(image, name=name, hostname=name, environment={"PORT": str(port)},
                                   host_config=host_config, networking_config=networking,
                                   labels={LABEL: LABEL_VALUE})
    if start:
        api.start(created["Id"])
    return created["Id"]


def container_address(client, container, network):
    """The IPv4 address Docker reports for ``container`` on ``network`` now ('' while it is not running)."""
    data = client.api.inspect_container(container)
    return data["NetworkSettings"]["Networks"].get(network, {}).get("IPAddress", "")


def remove(client, containers=(), networks=()):
    """Remove the given containers (forced) and networks; missing ones are fine. Returns what failed."""
    problems = []
    for container in containers:
        try:
            client.api.remove_container(container, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            problems.append("%s: %s" % (container, exc.explanation))
    for network in networks:
        last = None
        for _attempt in range(20):  # a removed container's endpoint may linger for a moment
            try:
                client.api.remove_network(network)
                last = None
                break
            except docker.errors.NotFound:
                last = None
                break
            except docker.errors.APIError as exc:
                last = "%s: %s" % (network, exc.explanation)
                time.sleep(0.1)
        if last:
            problems.append(last)
    return problems
