# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One app's nginx config (module_utils/_proxy_config.py): render from ProxySettings and addresses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError

from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_settings as proxy_settings


def settings(ports, domains=()):
    return proxy_settings.ProxySettings(True, proxy_settings.parse_mappings(ports, 5000),
                                        proxy_settings.parse_domains(list(domains)), 10,
                                        proxy_settings.tls_of(None))


GOLDEN = '''\
# dokku_ps.docker: nginx proxy config of app shop.eu. Written by the collection; edits are overwritten.

upstream dokku-ps-shop_eu-80 {
    server 172.16.240.2:5000;
    server 172.16.240.10:5000;
    keepalive 16;
}

server {
    listen 80;
    server_name a.example *.b.example;
    location / {
        proxy_pass http://dokku-ps-shop_eu-80;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $http_connection;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Port $server_port;
        proxy_set_header X-Request-Start $msec;
        proxy_connect_timeout 2s;
        proxy_next_upstream error timeout invalid_header http_502 http_504;
    }
}

upstream dokku-ps-shop_eu-8080 {
    server 172.16.240.2:3000;
    server 172.16.240.10:3000;
    keepalive 16;
}

server {
    listen 8080;
    server_name a.example *.b.example;
    location / {
        proxy_pass http://dokku-ps-shop_eu-8080;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $http_connection;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Port $server_port;
        proxy_set_header X-Request-Start $msec;
        proxy_connect_timeout 2s;
        proxy_next_upstream error timeout invalid_header http_502 http_504;
    }
}
'''


GOLDEN_NO_MEMBERS = '''\
# dokku_ps.docker: nginx proxy config of app api. Written by the collection; edits are overwritten.

server {
    listen 127.0.0.1:8000;
    server_name "" ~.;
    location / {
        return 503;
    }
}
'''


def test_render_golden():
    text = proxy_config.render('shop.eu', settings(['http:8080:3000', 'http:80:5000'], ['*.b.example', 'a.example']),
                               ['172.16.240.10', '172.16.240.2'])
    # domains sorted as text ('*' before 'a'), members by address value (.2 before .10)
    assert text == GOLDEN.replace('a.example *.b.example', '*.b.example a.example')


def test_render_without_members_answers_503_and_without_domains_every_name():
    text = proxy_config.render('api', settings(['http:8000:5000']), [], listen_address='127.0.0.1')
    assert text == GOLDEN_NO_MEMBERS
    assert 'upstream' not in text and 'default_server' not in text


def test_render_is_deterministic():
    mappings = ['http:80:5000', 'http:81:5000']
    members = ['172.16.240.%d' % host for host in (9, 3, 12, 3)]
    first = proxy_config.render('a', settings(mappings, ['y.example', 'x.example']), members)
    second = proxy_config.render('a', settings(list(reversed(mappings)), ['x.example', 'Y.example']),
                                 list(reversed(members)))
    assert first == second
    assert first.count('server 172.16.240.3:5000;') == 2  # once per upstream, duplicates dropped


def test_render_listen_addresses_and_ipv6_members():
    text = proxy_config.render('a', settings(['http:80:5000']), ['fd00::2'], listen_address='::')
    assert '    listen [::]:80;\n' in text
    assert '    server [fd00::2]:5000;\n' in text
    assert '    listen 0.0.0.0:80;\n' in proxy_config.render('a', settings(['http:80:5000']), [], listen_address='0.0.0.0')


def test_a_member_with_a_port_of_its_own_keeps_it():
    """A swarm task published in host mode: its node's address and the port Docker picked there."""
    text = proxy_config.render('a', settings(['http:80:5000']), ['10.0.0.3:32769', '10.0.0.2:32770', '10.0.0.2:32768',
                                                                 '[fd00::2]:40000'])
    servers = [line.strip() for line in text.splitlines() if line.strip().startswith('server 1')
               or line.strip().startswith('server [')]
    assert servers == ['server 10.0.0.2:32768;', 'server 10.0.0.2:32770;', 'server 10.0.0.3:32769;',
                       'server [fd00::2]:40000;']


@pytest.mark.parametrize('kwargs, error', [
    ({'app': 'Bad_App'}, '^app: '),
    ({'members': ['172.16.240.2', 'web.1']}, '^members: must be IP addresses, each with a port or none$'),
    ({'members': ['172.16.240.2:http']}, '^members: must be IP addresses, each with a port or none$'),
])
def test_render_refuses_bad_input(kwargs, error):
    """The settings and the listen address were checked when they were read (_proxy_settings, _options); the
    app's name and the addresses Docker gave are checked here."""
    arguments = {'app': 'a', 'settings': settings(['http:80:5000']), 'members': []}
    arguments.update(kwargs)
    with pytest.raises(ValidationError, match=error):
        proxy_config.render(**arguments)


def test_upstream_names_never_collide():
    assert proxy_config.upstream_name('a.b', 80) == 'dokku-ps-a_b-80'
    assert proxy_config.upstream_name('a-b', 80) == 'dokku-ps-a-b-80'


def test_listen_address_checked():
    assert proxy_config.validate_listen_address(None) is None and proxy_config.validate_listen_address('') is None
    assert proxy_config.validate_listen_address('[::1]') == '::1'
    with pytest.raises(ValidationError, match='^listen_address: must be an IPv4 or IPv6 address'):
        proxy_config.validate_listen_address('localhost')


# ---------------------------------------------------------------------------------------------------- HTTPS

CERT = proxy_config.CertificateFiles('/etc/nginx/dokku-ps/shop.crt', '/etc/nginx/dokku-ps/shop.key')
WEBROOT = '/var/lib/dokku-ps-acme/shop'


def tls_settings(ports, **tls):
    return proxy_settings.ProxySettings(True, proxy_settings.parse_mappings(ports, 5000),
                                        proxy_settings.parse_domains(['shop.test', 'www.shop.test']), 10,
                                        proxy_settings.tls_of({'tls': tls}))


def servers(text):
    """The text of each server block of a config, by its listen line."""
    blocks, current = {}, None
    for line in text.splitlines():
        if line.startswith('server {'):
            current = []
        elif current is not None and line == '}':
            listen = [item for item in current if item.startswith('    listen ')][0].strip()
            blocks[listen] = '\n'.join(current)
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_an_acme_certificate_adds_https_443_with_redirect_hsts_and_the_challenge_before_the_redirect():
    text = proxy_config.render('shop', tls_settings(['http:80:5000'], mode='acme'), ['172.16.0.2'], certificate=CERT,
                               webroot=WEBROOT)
    blocks = servers(text)
    assert sorted(blocks) == ['listen 443 ssl http2;', 'listen 80;']
    http, https = blocks['listen 80;'], blocks['listen 443 ssl http2;']
    # http: the challenge location first, then a 301 keeping host and URI; no upstream and no HSTS over http
    assert http.index('location ^~ /.well-known/acme-challenge/ {') < http.index('location / {')
    assert '        alias %s/;' % WEBROOT in http
    assert 'return 301 https://$host$request_uri;' in http
    assert 'proxy_pass' not in http and 'Strict-Transport-Security' not in http
    assert 'upstream dokku-ps-shop-80 ' not in text
    # https: the certificate, TLS 1.2/1.3 only, Dokku's HSTS default without includeSubDomains, the app behind it
    assert '    ssl_certificate %s;' % CERT.certificate in https
    assert '    ssl_certificate_key %s;' % CERT.key in https
    assert '    ssl_protocols TLSv1.2 TLSv1.3;' in https
    assert 'add_header Strict-Transport-Security "max-age=15724800" always;' in https
    assert 'proxy_pass http://dokku-ps-shop-443;' in https and 'acme-challenge' not in https
    assert proxy_config.https_ports(text) == {443}


def test_no_https_server_names_a_certificate_that_is_not_there():
    text = proxy_config.render('shop', tls_settings(['http:80:5000'], mode='acme'), ['172.16.0.2'], webroot=WEBROOT)
    blocks = servers(text)
    assert list(blocks) == ['listen 80;']
    assert 'ssl' not in text and 'return 301' not in text
    # the challenge is served already, so the first certificate can be issued through this config
    assert 'location ^~ /.well-known/acme-challenge/ {' in blocks['listen 80;']
    assert 'proxy_pass http://dokku-ps-shop-80;' in blocks['listen 80;']
    assert proxy_config.https_ports(text) == set()


def test_a_provided_certificate_serves_no_challenge_and_the_redirect_keeps_a_port_other_than_443():
    settings_ = tls_settings(['http:8080:5000', 'https:8443:5000'], mode='provided', redirect=True,
                             hsts_include_subdomains=True, hsts_preload=True, hsts_max_age=60)
    text = proxy_config.render('shop', settings_, ['172.16.0.2'], certificate=CERT, webroot=WEBROOT)
    blocks = servers(text)
    assert sorted(blocks) == ['listen 8080;', 'listen 8443 ssl http2;'], 'the app maps https itself: no 443 added'
    assert 'acme-challenge' not in text
    assert 'return 301 https://$host:8443$request_uri;' in blocks['listen 8080;']
    assert 'Strict-Transport-Security "max-age=60; includeSubDomains; preload" always;' in blocks['listen 8443 ssl http2;']


def test_without_redirect_and_hsts_http_serves_the_app_and_no_header_is_sent():
    text = proxy_config.render('shop', tls_settings(['http:80:5000'], mode='provided', redirect=False, hsts=False),
                               ['172.16.0.2'], certificate=CERT)
    blocks = servers(text)
    assert 'proxy_pass http://dokku-ps-shop-80;' in blocks['listen 80;']
    assert 'proxy_pass http://dokku-ps-shop-443;' in blocks['listen 443 ssl http2;']
    assert 'return 301' not in text and 'Strict-Transport-Security' not in text


def test_tls_off_serves_http_only_even_with_a_certificate_file_left():
    text = proxy_config.render('shop', tls_settings(['http:80:5000']), ['172.16.0.2'], certificate=CERT)
    assert list(servers(text)) == ['listen 80;'] and 'ssl' not in text


def test_the_catch_all_rejects_unknown_names_on_every_https_port_and_sets_the_protocols():
    assert proxy_config.render_catch_all(set()) is None
    text = proxy_config.render_catch_all({8443, 443}, listen_address='127.0.0.1')
    blocks = servers(text)
    assert list(blocks) == ['listen 127.0.0.1:443 ssl http2 default_server;',
                            'listen 127.0.0.1:8443 ssl http2 default_server;']
    for block in blocks.values():
        assert '    ssl_reject_handshake on;' in block and '    ssl_protocols TLSv1.2 TLSv1.3;' in block
        assert 'ssl_certificate' not in block, 'the catch-all holds no certificate to give away'
    assert proxy_config.https_ports(text) == {443, 8443}
