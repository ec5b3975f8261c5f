# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy settings of an app: port mappings, domains, wait before retiring and HTTPS, parsed once into ProxySettings.

The declaration's values are checked here (one-line refusals naming the field); :func:`settings_of` reads an app
document's ``proxy`` into the ProxySettings that the config, the conflict checks, the report and the rollout take.
HTTPS (docs/tls.md): the app's TLS settings (``proxy.tls``: where its certificate comes from, the redirect, HSTS)
and the mappings served once it has a certificate (:func:`served_mappings`, Dokku's rule).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import DEFAULT_WEB_PORT


HTTP = 'http'


HTTPS = 'https'


SCHEMES = (HTTP, HTTPS)


DEFAULT_SCHEME = HTTP


DEFAULT_HTTPS_PORT = 443


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


SCHEME_RULE = "scheme must be http or https (https serves the app's certificate, see docs/tls.md)"


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
    """One ``scheme:host-port:container-port`` text (or a PortMapping) -> PortMapping; scheme http or https."""
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


# -- HTTPS ----------------------------------------------------------------------------------------------------------

# Where an app's certificate comes from: none (http only), issued over ACME, or provided by the user.
TLS_OFF = 'off'
TLS_ACME = 'acme'
TLS_PROVIDED = 'provided'
TLS_MODES = (TLS_OFF, TLS_ACME, TLS_PROVIDED)

# Dokku's HSTS defaults but one: includeSubDomains is off here, since it breaks the plain-http sites of every
# subdomain of the app's names (docs/tls.md says why).
HSTS_MAX_AGE = 15724800

# The document's ``proxy.tls`` (present once an app declared any TLS key; None stands for the default):
# ``mode`` (TLS_MODES), ``certificate_path`` and ``key_path`` (a provided certificate read from the managed host),
# ``redirect`` (http -> https, default on), ``hsts`` (default on), ``hsts_include_subdomains`` (default off),
# ``hsts_max_age`` (seconds, default HSTS_MAX_AGE), ``hsts_preload`` (default off).
TLS_FIELDS = ('mode', 'certificate_path', 'key_path', 'redirect', 'hsts', 'hsts_include_subdomains', 'hsts_max_age',
              'hsts_preload')

# ``proxy.tls`` of an app that gave none of its keys yet (every one at its default).
NO_TLS = dict((field, None) for field in TLS_FIELDS)

# An app's TLS settings with their defaults filled in.
TlsSettings = collections.namedtuple('TlsSettings', TLS_FIELDS)


def tls_of(proxy):
    """The TlsSettings of a document's ``proxy`` (its ``tls``, absent or None: off), defaults filled in."""
    tls = (proxy or {}).get('tls') or {}

    def given(key, default):
        return default if tls.get(key) is None else tls[key]
    return TlsSettings(given('mode', TLS_OFF), tls.get('certificate_path'), tls.get('key_path'),
                       given('redirect', True), given('hsts', True), given('hsts_include_subdomains', False),
                       given('hsts_max_age', HSTS_MAX_AGE), given('hsts_preload', False))


def hsts_header(tls):
    """The value of the Strict-Transport-Security header of an app (None without HSTS)."""
    if not tls.hsts:
        return None
    parts = ['max-age=%d' % tls.hsts_max_age]
    if tls.hsts_include_subdomains:
        parts.append('includeSubDomains')
    if tls.hsts_preload:
        parts.append('preload')
    return '; '.join(parts)


# An app's proxy, parsed: ``enabled`` (its proxy is on), ``mappings`` (PortMapping tuple sorted by host port, as
# declared), ``domains`` (sorted tuple, lowercase), ``wait_to_retire`` (seconds), ``tls`` (TlsSettings).
ProxySettings = collections.namedtuple('ProxySettings', 'enabled mappings domains wait_to_retire tls')


def settings_of(doc):
    """The ProxySettings of an app document (its ``proxy``, NO_PROXY when it has none). The mappings and domains
    were checked when declared; they are read again here, once per use, from the document."""
    proxy = (doc or {}).get('proxy') or NO_PROXY
    web_port = (doc or {}).get('web_port') or DEFAULT_WEB_PORT
    wait = proxy.get('wait_to_retire')
    return ProxySettings(bool(proxy.get('enabled')), parse_mappings(proxy.get('ports'), web_port, 'proxy_ports'),
                         parse_domains(proxy.get('domains') or [], 'domains'),
                         DEFAULT_WAIT_TO_RETIRE if wait is None else wait, tls_of(proxy))


def served_mappings(settings, certificate):
    """The mappings nginx serves for the app: without a ``certificate`` its http ones; with one, an https mapping
    ``https:443:<container port>`` for every ``http:80:<container port>`` too, unless the app maps https itself
    (Dokku's rule). A mapping of another scheme than those is never served."""
    http = tuple(mapping for mapping in settings.mappings if mapping.scheme == HTTP)
    if certificate is None or settings.tls.mode == TLS_OFF:
        return http
    https = tuple(mapping for mapping in settings.mappings if mapping.scheme == HTTPS)
    if not https:
        https = tuple(PortMapping(HTTPS, DEFAULT_HTTPS_PORT, mapping.container_port) for mapping in http
                      if mapping.host_port == DEFAULT_HOST_PORT)
    return tuple(sorted(http + https, key=lambda mapping: mapping.host_port))


def redirect_port(settings, mappings, mapping):
    """The https host port the http ``mapping`` redirects to (the https mapping of the same container port), or
    None when it serves the app itself (no certificate, redirect off, or no https mapping for its port)."""
    if settings.tls.mode == TLS_OFF or not settings.tls.redirect or mapping.scheme != HTTP:
        return None
    for other in mappings:
        if other.scheme == HTTPS and other.container_port == mapping.container_port:
            return other.host_port
    return None
