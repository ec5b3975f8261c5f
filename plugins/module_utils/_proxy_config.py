# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One app's nginx config: the text render() writes for an app's ProxySettings and the addresses of its web processes.

Same input, same bytes (docs/proxy.md): one upstream and one server per port mapping, the listen address of the
run's nginx options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import ipaddress

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import (
    DEFAULT_HTTPS_PORT, HTTPS, TLS_ACME, hsts_header, redirect_port, served_mappings)


# What render() writes into every config (docs/proxy.md).
UPSTREAM_KEEPALIVE = 16


CONNECT_TIMEOUT = '2s'


NEXT_UPSTREAM = 'error timeout invalid_header http_502 http_504'


NO_MEMBERS_STATUS = 503


class ProxyError(DokkuPsError):
    """The proxy config could not be applied (nginx -t refused it, a lock or a file could not be had)."""


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


def _split_member(member):
    """A member: an IP address (the mapping's container port is its port) or ``<address>:<port>`` (``[v6]:port``),
    a port of its own (a swarm task published on a port of its node)."""
    text = str(member)
    port = None
    if text.startswith('['):
        text, _sep, port = text[1:].partition(']:')
    elif text.count(':') == 1:
        text, port = text.split(':')
    try:
        return ipaddress.ip_address(text), (int(port) if port else None)
    except ValueError:
        raise ValidationError('members', 'must be IP addresses, each with a port or none')


def _address_port(address, port):
    return '[%s]:%d' % (address, port) if address.version == 6 else '%s:%d' % (address, port)


def _sorted_members(members):
    parsed = set(_split_member(member) for member in members)
    ordered = sorted(parsed, key=lambda item: (item[0].version, item[0], item[1] or 0))
    return [str(address) if port is None else _address_port(address, port) for address, port in ordered]


def _member(member, port):
    address, own = _split_member(member)
    return _address_port(address, own or port)


# A certificate nginx serves for an app: the paths of its certificate (with chain) and its key.
CertificateFiles = collections.namedtuple('CertificateFiles', 'certificate key')

# What an https server says about TLS (docs/tls.md): TLS 1.2 and 1.3 only.
TLS_PROTOCOLS = 'TLSv1.2 TLSv1.3'

# The path of the ACME http-01 challenges under every http server of an app whose certificate comes from ACME.
CHALLENGE_PATH = '/.well-known/acme-challenge/'

PROXY_LINES = [
    'proxy_http_version 1.1;',
    'proxy_set_header Upgrade $http_upgrade;',
    'proxy_set_header Connection $http_connection;',
    'proxy_set_header Host $http_host;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Forwarded-Port $server_port;',
    'proxy_set_header X-Request-Start $msec;',
    'proxy_connect_timeout %s;' % CONNECT_TIMEOUT,
    'proxy_next_upstream %s;' % NEXT_UPSTREAM,
]


def _redirect_target(port):
    return 'https://$host%s$request_uri' % ('' if port == DEFAULT_HTTPS_PORT else ':%d' % port)


def render(app, settings, members, listen_address=None, certificate=None, webroot=None):
    """The text of the app's config file: one upstream and one server per served mapping, sorted (same input, same
    bytes).

    ``settings``: the app's ProxySettings (_proxy_settings.settings_of: mappings sorted by host port, domains
    sorted), ``members`` the addresses of the web processes that run and passed their checks, ``listen_address``
    the checked listen address of the run's nginx options (None: every IPv4 interface). Without members there is
    no upstream (nginx refuses an empty one) and every request gets a 503 at once.

    HTTPS (docs/tls.md): ``certificate`` (CertificateFiles) is the certificate in place for the app, None when it
    has none yet: https servers are rendered only with one, so a config never names a certificate that does not
    exist. An app whose certificate comes from ACME serves ``webroot`` (its directory of challenge files) under
    CHALLENGE_PATH on every http server, before the redirect to https.
    """
    validate_app_name(app, 'app')
    domains = settings.domains
    mappings = served_mappings(settings, certificate)
    members = _sorted_members(members)
    hsts = hsts_header(settings.tls) if certificate is not None else None
    challenge = webroot if settings.tls.mode == TLS_ACME else None
    # With domains: exactly those names. Without: the app needs its host port to itself (check_conflicts) and
    # answers every name there, also where another server holds default_server (Debian's default site on 80):
    # "" is a request without Host, ~. any other name. No default_server, so nothing collides in nginx -t.
    server_name = ' '.join(domains) if domains else '"" ~.'
    lines = ['# dokku_ps.docker: nginx proxy config of app %s. Written by the collection; edits are overwritten.'
             % app]
    for mapping in mappings:
        upstream = upstream_name(app, mapping.host_port)
        secure = mapping.scheme == HTTPS
        redirect = redirect_port(settings, mappings, mapping) if certificate is not None else None
        lines.append('')
        if members and redirect is None:
            lines.append('upstream %s {' % upstream)
            for member in members:
                lines.append('    server %s;' % _member(member, mapping.container_port))
            lines.append('    keepalive %d;' % UPSTREAM_KEEPALIVE)
            lines.append('}')
            lines.append('')
        lines.append('server {')
        lines.append('    listen %s%s;' % (_listen(listen_address, mapping.host_port), ' ssl http2' if secure else ''))
        lines.append('    server_name %s;' % server_name)
        if secure:
            lines.append('    ssl_certificate %s;' % certificate.certificate)
            lines.append('    ssl_certificate_key %s;' % certificate.key)
            lines.append('    ssl_protocols %s;' % TLS_PROTOCOLS)
            if hsts:
                lines.append('    add_header Strict-Transport-Security "%s" always;' % hsts)
        elif challenge:
            lines.append('    location ^~ %s {' % CHALLENGE_PATH)
            lines.append('        alias %s/;' % challenge.rstrip('/'))
            lines.append('        default_type text/plain;')
            lines.append('    }')
        lines.append('    location / {')
        if redirect is not None:
            lines.append('        return 301 %s;' % _redirect_target(redirect))
        elif members:
            lines.append('        proxy_pass http://%s;' % upstream)
            lines.extend('        ' + line for line in PROXY_LINES)
        else:
            lines.append('        return %d;' % NO_MEMBERS_STATUS)
        lines.append('    }')
        lines.append('}')
    return '\n'.join(lines) + '\n'


def https_ports(text):
    """The host ports on which a config of the collection serves https (its ``listen ... ssl`` lines)."""
    ports = set()
    for line in (text or '').splitlines():
        line = line.strip()
        if line.startswith('listen ') and ' ssl' in line:
            address = line[len('listen '):].split()[0]
            ports.add(int(address.rsplit(':', 1)[-1]))
    return ports


def render_catch_all(ports, listen_address=None):
    """The config that makes nginx refuse TLS handshakes for names no app serves, on every https port the
    collection serves (``ports``): a name nobody configured never gets another app's certificate. None without
    https ports. As the default server of its ports it sets their TLS protocols too (nginx takes them from there)."""
    if not ports:
        return None
    lines = ['# dokku_ps.docker: names no app serves get no certificate on the https ports of the collection. '
             'Written by the collection; edits are overwritten.']
    for port in sorted(ports):
        lines.extend(['', 'server {',
                      '    listen %s ssl http2 default_server;' % _listen(listen_address, port),
                      '    ssl_protocols %s;' % TLS_PROTOCOLS,
                      '    ssl_reject_handshake on;',
                      '}'])
    return '\n'.join(lines) + '\n'
