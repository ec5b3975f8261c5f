# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy settings of an app: port mappings, domains and the wait before retiring, parsed once into ProxySettings.

The declaration's values are checked here (one-line refusals naming the field); :func:`settings_of` reads an app
document's ``proxy`` into the ProxySettings that the config, the conflict checks, the report and the rollout take.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import DEFAULT_WEB_PORT


SCHEMES = ('http',)


DEFAULT_SCHEME = 'http'


DEFAULT_HOST_PORT = 80


# seconds the old web containers keep serving after the proxy switched away from them (Dokku's wait-to-retire)
DEFAULT_WAIT_TO_RETIRE = 10


# What an app's proxy settings are before it sets any: off, Dokku's default mapping, no domains.
NO_PROXY = {'enabled': False, 'ports': None, 'domains': [], 'wait_to_retire': None}


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


def check_conflicts(app, settings, others, field='ports', domains_field='domains'):
    """Refuse ``settings`` (ProxySettings of ``app``) that would share a host port + domain pair with another app.

    ``others`` maps every OTHER app whose proxy is on to its ProxySettings. An app without domains answers every
    name on its host ports, so it needs those ports to itself: a port used by another app without domains is
    refused, and so is an app without domains on a port that another app uses. Apps with domains share a port
    when their domains differ.
    """
    ours = set(settings.domains)
    for other in sorted(others):
        if other == app:
            continue
        other_mappings, other_domains = others[other].mappings, others[other].domains
        other_ports = set(mapping.host_port for mapping in other_mappings)
        for mapping in settings.mappings:
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
                raise ValidationError('%s[%d]' % (domains_field, index), 'is already served by app %s on host port '
                                      '%d; one app per host port and domain' % (other, port))


# An app's proxy, parsed: ``enabled`` (its proxy is on), ``mappings`` (PortMapping tuple sorted by host port),
# ``domains`` (sorted tuple, lowercase), ``wait_to_retire`` (seconds). TLS settings join them here.
ProxySettings = collections.namedtuple('ProxySettings', 'enabled mappings domains wait_to_retire')


def settings_of(doc):
    """The ProxySettings of an app document (its ``proxy``, NO_PROXY when it has none). The mappings and domains
    were checked when declared; they are read again here, once per use, from the document."""
    proxy = (doc or {}).get('proxy') or NO_PROXY
    web_port = (doc or {}).get('web_port') or DEFAULT_WEB_PORT
    wait = proxy.get('wait_to_retire')
    return ProxySettings(bool(proxy.get('enabled')), parse_mappings(proxy.get('ports'), web_port, 'proxy_ports'),
                         parse_domains(proxy.get('domains') or [], 'domains'),
                         DEFAULT_WAIT_TO_RETIRE if wait is None else wait)
