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


@pytest.mark.parametrize('kwargs, error', [
    ({'app': 'Bad_App'}, '^app: '),
    ({'members': ['172.16.240.2', 'web.1']}, '^members: must be IP addresses$'),
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
