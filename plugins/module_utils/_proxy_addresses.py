# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy addresses (docker-local): where an app's web containers are on the proxy network, and free addresses for new ones.

Proxied web containers join the collection's Docker network at a fixed address the executor picks when it creates
them, so nginx reaches a container again at the same address after Docker restarts it on its own (docs/proxy.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils._names import WEB
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_config import ProxyError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs

# The only part of 172.16.0.0/12 that is not one of Docker's default local address pools (172.17.0.0/16 to
# 172.31.0.0/16, and 192.168.0.0/16 in /20s): Docker never hands it to another network on its own.
DEFAULT_SUBNET = '172.16.240.0/20'


# Containers that join the network without an address (not ours) get one from this range; the collection's
# static addresses are picked outside it, so the two never meet.
DEFAULT_DYNAMIC_RANGE = '172.16.255.0/24'


# The label of the network the collection creates.
NETWORK_LABEL = 'io.dokku-ps.network'


ADDRESS_IN_USE = 'address already in use'


def addresses_in_use(summaries, network):
    """The addresses on ``network`` of every container in a list call's answer, running or not.

    A container that does not run (created, exited, waiting for its restart) has an empty ``IPAddress`` but
    keeps its configured ``IPAMConfig.IPv4Address``: Docker gives it back at the next start, unless another
    container took it meanwhile. Both count as used.
    """
    used = set()
    for summary in summaries:
        endpoint = ((summary.get('NetworkSettings') or {}).get('Networks') or {}).get(network) or {}
        configured = (endpoint.get('IPAMConfig') or {}).get('IPv4Address')
        for address in (configured, endpoint.get('IPAddress')):
            if address:
                used.add(address)
    return used


def pick_addresses(subnet, used, count=1, gateway=None, dynamic_range=None):
    """The ``count`` lowest free host addresses of ``subnet``: not the network or broadcast address, not the
    gateway (default: the first host address), not in ``used``, not in ``dynamic_range``. Raises ProxyError
    when the subnet has fewer free addresses."""
    net = ipaddress.ip_network(subnet, strict=True)
    gateway = ipaddress.ip_address(gateway) if gateway else net.network_address + 1
    excluded = ipaddress.ip_network(dynamic_range, strict=True) if dynamic_range else None
    taken = set(ipaddress.ip_address(address) for address in used)
    found = []
    for address in net.hosts():
        if len(found) == count:
            break
        if address == gateway or address in taken or (excluded is not None and address in excluded):
            continue
        found.append(str(address))
    if len(found) < count:
        raise ProxyError('no free address left for %d container(s) in subnet %s (%d in use); give the proxy '
                         'network a larger subnet' % (count, subnet, len(taken)))
    return found


def is_address_in_use(error):
    """True for Docker's refusal of a start whose static address another container holds (403 "Address already
    in use"; Docker creates such a container and refuses only its start)."""
    return ADDRESS_IN_USE in str(error).lower()


def members(app, summaries, exclude=()):
    """The addresses on the proxy network of the app's web containers that run (Docker's restarting counts:
    Docker brings it back at the same address), the ones being brought up included, without ``exclude`` (ids
    of containers about to be retired or stopped)."""
    found = []
    for summary in summaries:
        if summary.get('Id') in exclude or summary.get('State') not in ('running', 'restarting'):
            continue
        if (summary.get('Labels') or {}).get(specs.LABEL_APP) != app:
            continue  # a foreign container on one of the app's names is never a member
        parsed = None
        for name in summary.get('Names') or []:
            parsed = specs.parse_container_name(app, name)
            if parsed is not None:
                break
        if parsed is None or parsed[0] != WEB:
            continue
        endpoint = ((summary.get('NetworkSettings') or {}).get('Networks') or {}).get(specs.PROXY_NETWORK) or {}
        address = (endpoint.get('IPAMConfig') or {}).get('IPv4Address') or endpoint.get('IPAddress')
        if address:
            found.append(address)
    return sorted(set(found))


class AddressBook(object):
    """The addresses a run hands to new proxied web containers: the proxy network (created when missing) and every
    address on it, learnt once, and never the same address twice in a run. Thread-safe."""

    def __init__(self, docker, subnet=None):
        self.docker = docker
        self.subnet = subnet or DEFAULT_SUBNET
        self._lock = threading.Lock()
        self._used = None
        self._subnet = self._gateway = self._range = None

    def _load(self):
        """The proxy network (created when missing) and every address on it, running containers or not."""
        data = self.docker.inspect_network(specs.PROXY_NETWORK)
        if data is None:
            self.docker.create_network(specs.PROXY_NETWORK, self.subnet, DEFAULT_DYNAMIC_RANGE,
                                       {NETWORK_LABEL: 'proxy'})
            data = self.docker.inspect_network(specs.PROXY_NETWORK) or {}
        config = ((data.get('IPAM') or {}).get('Config') or [{}])[0]
        self._subnet = config.get('Subnet') or self.subnet
        self._gateway = config.get('Gateway')
        self._range = config.get('IPRange') or None
        summaries = self.docker.list_containers({'network': [specs.PROXY_NETWORK]})
        return addresses_in_use(summaries, specs.PROXY_NETWORK)

    def address(self, refresh=False):
        """A free address on the proxy network for a new web container, never handed out twice in a run;
        ``refresh`` learns the addresses in use again (another run took the one picked)."""
        with self._lock:
            if self._used is None or refresh:
                handed = self._used or set()
                self._used = self._load() | handed
            picked = pick_addresses(self._subnet, self._used, gateway=self._gateway, dynamic_range=self._range)[0]
            self._used.add(picked)
            return picked
