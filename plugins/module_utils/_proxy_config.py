# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy settings and config: an app's port mappings, domains, web addresses and nginx config.

Port mappings, domains and the listen address of an app's proxy, the addresses of web containers on the
collection's network, and the nginx config of one app.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import ipaddress
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils._specs import PROXY_NETWORK


DEFAULT_NETWORK = PROXY_NETWORK


# The only part of 172.16.0.0/12 that is not one of Docker's default local address pools (172.17.0.0/16 to
# 172.31.0.0/16, and 192.168.0.0/16 in /20s): Docker never hands it to another network on its own.
DEFAULT_SUBNET = '172.16.240.0/20'


# Containers that join the network without an address (not ours) get one from this range; the collection's
# static addresses are picked outside it, so the two never meet.
DEFAULT_DYNAMIC_RANGE = '172.16.255.0/24'


SCHEMES = ('http',)


DEFAULT_SCHEME = 'http'


DEFAULT_HOST_PORT = 80


# What render() writes into every config (docs/proxy.md).
UPSTREAM_KEEPALIVE = 16


CONNECT_TIMEOUT = '2s'


NEXT_UPSTREAM = 'error timeout invalid_header http_502 http_504'


NO_MEMBERS_STATUS = 503


MAX_DOMAIN_LENGTH = 253


_LABEL_RE = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z')


_MAPPING_RE = re.compile(r'^([A-Za-z][A-Za-z0-9+.-]*):([0-9]{1,5}):([0-9]{1,5})\Z')


_PORT_RE = re.compile(r'^[0-9]{1,5}\Z')


PORT_RULE = 'must be a port number (1-65535)'


MAPPING_RULE = "must be scheme:host-port:container-port, for example 'http:80:5000'"


SCHEME_RULE = ("scheme must be http (the only scheme the proxy renders); TLS is added by hand in front of it, "
               "see docs/proxy.md")


DOMAIN_RULE = ('must be a DNS name (labels of a-z, 0-9 and inner hyphens, at most 63 characters each, 253 in all) '
               'or *. followed by one')


ADDRESS_IN_USE = 'address already in use'


class ProxyError(DokkuPsError):
    """The proxy config could not be applied (nginx -t refused it, a lock or a file could not be had)."""


PortMapping = collections.namedtuple('PortMapping', 'scheme host_port container_port')


PortMapping.__str__ = lambda self: '%s:%d:%d' % self


def validate_port(value, field):
    """An int 1-65535 from an int or a string of digits; anything else is refused naming ``field``."""
    if isinstance(value, bool):
        raise ValidationError(field, PORT_RULE)
    if isinstance(value, str):
        if not _PORT_RE.match(value.strip()):
            raise ValidationError(field, PORT_RULE)
        value = int(value.strip())
    if not isinstance(value, int) or value < 1 or value > 65535:
        raise ValidationError(field, PORT_RULE)
    return value


def parse_mapping(value, field='ports'):
    """One ``scheme:host-port:container-port`` text (or a PortMapping) -> PortMapping; scheme http only."""
    if isinstance(value, PortMapping):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(field, MAPPING_RULE)
    match = _MAPPING_RE.match(value.strip())
    if not match:
        raise ValidationError(field, MAPPING_RULE)
    scheme = match.group(1).lower()
    if scheme not in SCHEMES:
        raise ValidationError(field, SCHEME_RULE)
    return PortMapping(scheme, validate_port(match.group(2), field + ' host port'),
                       validate_port(match.group(3), field + ' container port'))


def default_mappings(web_port):
    """Dokku's default: ``http:80:<web_port>``."""
    return (PortMapping(DEFAULT_SCHEME, DEFAULT_HOST_PORT, validate_port(web_port, 'web_port')),)


def parse_mappings(values, web_port, field='ports'):
    """A list of mappings (texts) -> a sorted tuple of PortMapping; empty or None -> the default mapping.

    One mapping per host port: two mappings on the same host port would be two nginx servers for the same
    names, of which nginx ignores one.
    """
    if values is None or (isinstance(values, (list, tuple)) and not values):
        return default_mappings(web_port)
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ValidationError(field, 'must be a list of scheme:host-port:container-port texts')
    mappings = []
    seen = {}
    for index, value in enumerate(values):
        item = '%s[%d]' % (field, index)
        mapping = parse_mapping(value, item)
        if mapping.host_port in seen:
            raise ValidationError(item, 'host port %d is already mapped by %s[%d]; one mapping per host port'
                                  % (mapping.host_port, field, seen[mapping.host_port]))
        seen[mapping.host_port] = index
        mappings.append(mapping)
    return tuple(sorted(mappings, key=lambda mapping: mapping.host_port))


def validate_domain(value, field='domains'):
    """A DNS name or a ``*.`` wildcard -> its lowercase form. Never echoes the value in the error."""
    if not isinstance(value, str) or not value or not all(ord(char) < 128 for char in value):
        raise ValidationError(field, DOMAIN_RULE)  # ASCII first: 'K' (Kelvin sign) lowercases to 'k'
    name = value.lower()
    if name.startswith('*.'):
        name = name[2:]
    if len(name) > MAX_DOMAIN_LENGTH or not all(_LABEL_RE.match(label) for label in name.split('.')):
        # covers ; { } quotes, whitespace, newlines, NUL, non-ASCII, empty labels, a trailing dot
        raise ValidationError(field, DOMAIN_RULE)
    return value.lower()


def parse_domains(values, field='domains'):
    """A list of domains -> a sorted tuple without duplicates (case-insensitive); None -> ()."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ValidationError(field, 'must be a list of domain names')
    return tuple(sorted(set(validate_domain(value, '%s[%d]' % (field, index)) for index, value in enumerate(values))))


def check_conflicts(app, mappings, domains, others, field='ports', domains_field='domains'):
    """Refuse settings that would share a host port + domain pair with another app.

    ``others`` maps every OTHER app whose proxy is on to its ``(mappings, domains)`` (validated, as returned by
    parse_mappings/parse_domains). An app without domains answers every name on its host ports, so it needs
    those ports to itself: a port used by another app without domains is refused, and so is an app without
    domains on a port that another app uses. Apps with domains share a port when their domains differ.
    """
    ours = set(domains)
    for other in sorted(others):
        if other == app:
            continue
        other_mappings, other_domains = others[other]
        other_ports = set(mapping.host_port for mapping in other_mappings)
        for mapping in mappings:
            port = mapping.host_port
            if port not in other_ports:
                continue
            if not other_domains:
                raise ValidationError(field, 'host port %d is already used by app %s without domains (it answers '
                                      'every name there); choose another host port' % (port, other))
            if not ours:
                raise ValidationError(field, 'host port %d is already used by app %s; an app without domains needs '
                                      'its host ports to itself: add domains or choose another host port'
                                      % (port, other))
            shared = sorted(ours & set(other_domains))
            if shared:
                index = sorted(ours).index(shared[0])
                raise ValidationError('%s[%d]' % (domains_field, index), 'is already served by app %s on host port %d; one app '
                                      'per host port and domain' % (other, port))


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


def upstream_name(app, host_port):
    """``dokku-ps-<app>-<host port>``, dots of the app name as underscores (app names have no underscore)."""
    return 'dokku-ps-%s-%d' % (app.replace('.', '_'), host_port)


def _listen(listen_address, port):
    if not listen_address:
        return '%d' % port
    address = ipaddress.ip_address(listen_address)
    if address.version == 6:
        return '[%s]:%d' % (address.compressed, port)
    return '%s:%d' % (address.compressed, port)


def validate_listen_address(value, field='listen_address'):
    """None/'' (every IPv4 interface) or an IP address."""
    if value in (None, ''):
        return None
    try:
        return ipaddress.ip_address(value.strip('[]') if isinstance(value, str) else value).compressed
    except ValueError:
        raise ValidationError(field, 'must be an IPv4 or IPv6 address, or empty for every interface')


def _sorted_members(members):
    try:
        addresses = set(ipaddress.ip_address(member) for member in members)
    except ValueError:
        raise ValidationError('members', 'must be IP addresses')
    return [str(address) for address in sorted(addresses, key=lambda address: (address.version, address))]


def _member(address, port):
    parsed = ipaddress.ip_address(address)
    return '[%s]:%d' % (address, port) if parsed.version == 6 else '%s:%d' % (address, port)


def render(app, mappings, domains, members, listen_address=None):
    """The text of the app's config file: one upstream and one server per mapping, sorted (same input, same
    bytes).

    ``mappings`` and ``domains`` as returned by parse_mappings/parse_domains, ``members`` the addresses of the
    web containers that run and passed their checks. Without members there is no upstream (nginx refuses an
    empty one) and every request gets a 503 at once.
    """
    validate_app_name(app, 'app')
    listen_address = validate_listen_address(listen_address)
    mappings = sorted(set(parse_mapping(mapping) for mapping in mappings), key=lambda mapping: mapping.host_port)
    domains = parse_domains(list(domains))
    members = _sorted_members(members)
    # With domains: exactly those names. Without: the app needs its host port to itself (check_conflicts) and
    # answers every name there, also where another server holds default_server (Debian's default site on 80):
    # "" is a request without Host, ~. any other name. No default_server, so nothing collides in nginx -t.
    server_name = ' '.join(domains) if domains else '"" ~.'
    lines = ['# dokku_ps.docker: nginx proxy config of app %s. Written by the collection; edits are overwritten.'
             % app]
    for mapping in mappings:
        upstream = upstream_name(app, mapping.host_port)
        lines.append('')
        if members:
            lines.append('upstream %s {' % upstream)
            for member in members:
                lines.append('    server %s;' % _member(member, mapping.container_port))
            lines.append('    keepalive %d;' % UPSTREAM_KEEPALIVE)
            lines.append('}')
            lines.append('')
        lines.append('server {')
        lines.append('    listen %s;' % _listen(listen_address, mapping.host_port))
        lines.append('    server_name %s;' % server_name)
        lines.append('    location / {')
        if members:
            lines.extend([
                '        proxy_pass http://%s;' % upstream,
                '        proxy_http_version 1.1;',
                '        proxy_set_header Upgrade $http_upgrade;',
                '        proxy_set_header Connection $http_connection;',
                '        proxy_set_header Host $http_host;',
                '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
                '        proxy_set_header X-Forwarded-Proto $scheme;',
                '        proxy_set_header X-Forwarded-Port $server_port;',
                '        proxy_set_header X-Request-Start $msec;',
                '        proxy_connect_timeout %s;' % CONNECT_TIMEOUT,
                '        proxy_next_upstream %s;' % NEXT_UPSTREAM,
            ])
        else:
            lines.append('        return %d;' % NO_MEMBERS_STATUS)
        lines.append('    }')
        lines.append('}')
    return '\n'.join(lines) + '\n'
