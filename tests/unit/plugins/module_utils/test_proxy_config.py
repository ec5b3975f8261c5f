# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy settings and config (module_utils/_proxy_config.py): mappings, domains, conflicts, addresses, render."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config


M = proxy_config.PortMapping


@pytest.mark.parametrize('text, expected', [
    ('http:80:5000', M('http', 80, 5000)),
    ('HTTP:8080:3000', M('http', 8080, 3000)),
    (' http:1:65535 ', M('http', 1, 65535)),
    (M('http', 81, 5000), M('http', 81, 5000)),
])
def test_mapping_accepted(text, expected):
    assert proxy_config.parse_mapping(text) == expected
    assert str(expected) == 'http:%d:%d' % (expected.host_port, expected.container_port)


@pytest.mark.parametrize('value, rule', [
    ('https:443:5000', 'TLS is added by hand'),
    ('tcp:80:5000', 'scheme must be http'),
    ('http:0:5000', 'host port: must be a port number (1-65535)'),
    ('http:65536:5000', 'host port: must be a port number'),
    ('http:80:0', 'container port: must be a port number'),
    ('http:80:99999', 'container port: must be a port number'),
    ('http:80', 'must be scheme:host-port:container-port'),
    ('80:5000', 'must be scheme:host-port:container-port'),
    ('http:80:5000;', 'must be scheme:host-port:container-port'),
    ('http:8x:5000', 'must be scheme:host-port:container-port'),
    ('http:-80:5000', 'must be scheme:host-port:container-port'),
    ('http:80:5000\nhttp:81:5000', 'must be scheme:host-port:container-port'),
    ('', 'must be scheme:host-port:container-port'),
    (80, 'must be scheme:host-port:container-port'),
    (None, 'must be scheme:host-port:container-port'),
])
def test_mapping_refused_naming_field_and_rule(value, rule):
    with pytest.raises(ValidationError) as refused:
        proxy_config.parse_mapping(value, 'ports[3]')
    message = str(refused.value)
    assert message.startswith('ports[3]')
    assert rule in message
    # one of the fixed rules, never the value
    assert message in ('ports[3]: ' + proxy_config.MAPPING_RULE, 'ports[3]: ' + proxy_config.SCHEME_RULE,
                       'ports[3] host port: ' + proxy_config.PORT_RULE, 'ports[3] container port: ' + proxy_config.PORT_RULE)


def test_mappings_default_sorted_and_one_per_host_port():
    assert proxy_config.parse_mappings(None, 5000) == (M('http', 80, 5000),)
    assert proxy_config.parse_mappings([], 3000) == (M('http', 80, 3000),)
    assert proxy_config.parse_mappings(['http:8080:5000', 'http:80:5000'], 5000) == (M('http', 80, 5000),
                                                                                     M('http', 8080, 5000))
    with pytest.raises(ValidationError, match=r'^ports\[1\]: host port 80 is already mapped by ports\[0\]'):
        proxy_config.parse_mappings(['http:80:5000', 'http:80:6000'], 5000)
    with pytest.raises(ValidationError, match='^ports: must be a list'):
        proxy_config.parse_mappings('http:80:5000', 5000)
    with pytest.raises(ValidationError, match=r'^ports\[1\]: scheme must be http'):
        proxy_config.parse_mappings(['http:80:5000', 'https:443:5000'], 5000)
    with pytest.raises(ValidationError, match='^web_port: must be a port number'):
        proxy_config.parse_mappings(None, 70000)


@pytest.mark.parametrize('value, expected', [
    (80, 80), ('80', 80), (' 443 ', 443), (65535, 65535), (1, 1),
])
def test_port_accepted(value, expected):
    assert proxy_config.validate_port(value, 'p') == expected


@pytest.mark.parametrize('value', [0, 65536, -1, '0', '', 'eighty', True, 80.0, None, '1e3', '+80'])
def test_port_refused(value):
    with pytest.raises(ValidationError, match=r'^p: must be a port number \(1-65535\)$'):
        proxy_config.validate_port(value, 'p')


@pytest.mark.parametrize('value, expected', [
    ('example.com', 'example.com'),
    ('Shop.Example.COM', 'shop.example.com'),
    ('*.example.com', '*.example.com'),
    ('localhost', 'localhost'),
    ('xn--bcher-kva.example', 'xn--bcher-kva.example'),
    ('a-b.c0.example', 'a-b.c0.example'),
    ('%s.example' % ('a' * 63), '%s.example' % ('a' * 63)),
    ('.'.join(['a' * 61] * 4), '.'.join(['a' * 61] * 4)),  # 247 characters
])
def test_domain_accepted(value, expected):
    assert proxy_config.validate_domain(value) == expected


@pytest.mark.parametrize('value', [
    'a;b.example', 'shop.example;', 'a{b.example', 'a}b.example', 'a b.example', ' example.com', 'example.com ',
    'a\tb.example', 'a\nb.example', 'example.com\n', 'a\rb', "'example.com'", '"example.com"', 'a`b',
    'a..b', '.example.com', 'example.com.', '-a.example', 'a-.example', 'a_b.example', '*', '*.', '**.example',
    'a.*.example', '*example.com', 'example.*', '%s.example' % ('a' * 64), '.'.join(['a' * 63] * 4),
    u'b\u00fccher.example', u'\u212a.example', 'a/b', 'a:80', 'a\x00b', '', 5, None, ['example.com'],
])
def test_domain_refused_one_line_naming_field_not_value(value):
    with pytest.raises(ValidationError) as refused:
        proxy_config.validate_domain(value, 'domains[2]')
    message = str(refused.value)
    assert message == 'domains[2]: ' + proxy_config.DOMAIN_RULE
    assert '\n' not in message


def test_domains_sorted_deduplicated_and_list_only():
    assert proxy_config.parse_domains(['b.example', 'A.example', 'a.example']) == ('a.example', 'b.example')
    assert proxy_config.parse_domains(None) == ()
    assert proxy_config.parse_domains([]) == ()
    with pytest.raises(ValidationError, match='^domains: must be a list'):
        proxy_config.parse_domains('a.example')
    with pytest.raises(ValidationError, match=r'^domains\[1\]: must be a DNS name'):
        proxy_config.parse_domains(['a.example', 'b;example'])


def settings(ports, domains=()):
    return proxy_config.parse_mappings(ports, 5000), proxy_config.parse_domains(list(domains))


@pytest.mark.parametrize('ours, others, error', [
    # different ports: always fine
    (settings(['http:80:5000']), {'b': settings(['http:8080:5000'])}, None),
    # same port, different domains: fine
    (settings(['http:80:5000'], ['a.example']), {'b': settings(['http:80:5000'], ['b.example'])}, None),
    # same port, a shared domain: refused, naming the other app
    (settings(['http:80:5000'], ['a.example', 'x.example']), {'b': settings(['http:80:5000'], ['x.example'])},
     r'^domains\[1\]: is already served by app b on host port 80'),
    # the other app has no domains: it holds the port
    (settings(['http:80:5000'], ['a.example']), {'b': settings(['http:80:5000'])},
     '^ports: host port 80 is already used by app b without domains'),
    # we have no domains: we need the port to ourselves
    (settings(['http:80:5000']), {'b': settings(['http:80:5000'], ['b.example'])},
     '^ports: host port 80 is already used by app b; an app without domains needs'),
    (settings(['http:80:5000']), {'b': settings(['http:80:5000'])}, '^ports: host port 80 is already used by app b'),
    # our own previous settings never conflict with us
    (settings(['http:80:5000']), {'a': settings(['http:80:5000'])}, None),
    # one of several mappings collides
    (settings(['http:80:5000', 'http:81:5000'], ['a.example']), {'b': settings(['http:81:5000'])},
     'host port 81 is already used by app b'),
])
def test_conflicts_between_apps(ours, others, error):
    mappings, domains = ours
    if error is None:
        proxy_config.check_conflicts('a', mappings, domains, others)
    else:
        with pytest.raises(ValidationError, match=error):
            proxy_config.check_conflicts('a', mappings, domains, others)


def summary(network, configured=None, running=None):
    endpoint = {'IPAMConfig': {'IPv4Address': configured} if configured else None, 'IPAddress': running or ''}
    return {'NetworkSettings': {'Networks': {network: endpoint, 'bridge': {'IPAddress': '172.17.0.9'}}}}


def test_addresses_in_use_count_stopped_containers():
    summaries = [
        summary('dokku-ps', configured='172.16.240.2', running='172.16.240.2'),  # running
        summary('dokku-ps', configured='172.16.240.3'),  # exited or restarting: no IPAddress, still its address
        summary('dokku-ps', running='172.16.255.7'),  # joined without an address (not ours)
        summary('other', configured='10.0.0.2'),
        {'NetworkSettings': None},
    ]
    assert proxy_config.addresses_in_use(summaries, 'dokku-ps') == {'172.16.240.2', '172.16.240.3', '172.16.255.7'}


def test_pick_addresses_lowest_free_outside_gateway_and_dynamic_range():
    subnet, dynamic = proxy_config.DEFAULT_SUBNET, proxy_config.DEFAULT_DYNAMIC_RANGE
    assert proxy_config.pick_addresses(subnet, set(), dynamic_range=dynamic) == ['172.16.240.2']
    assert proxy_config.pick_addresses(subnet, {'172.16.240.2', '172.16.240.4'}, count=3) == [
        '172.16.240.3', '172.16.240.5', '172.16.240.6']
    assert proxy_config.pick_addresses('10.9.0.0/29', {'10.9.0.2'}, gateway='10.9.0.6', count=4) == [
        '10.9.0.1', '10.9.0.3', '10.9.0.4', '10.9.0.5']
    # the dynamic range is skipped
    used = set('10.9.0.%d' % host for host in range(2, 8))
    assert proxy_config.pick_addresses('10.9.0.0/28', used, dynamic_range='10.9.0.8/30') == ['10.9.0.12']
    with pytest.raises(proxy_config.ProxyError, match='no free address left for 2 container'):
        proxy_config.pick_addresses('10.9.0.0/30', set(), count=2)


def test_address_in_use_recognised():
    assert proxy_config.is_address_in_use('403 Client Error for http+docker://localhost/v1.45/containers/x/start: '
                                          'Forbidden ("Address already in use")')
    assert not proxy_config.is_address_in_use('409 Conflict: name already in use')


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
    mappings = proxy_config.parse_mappings(['http:8080:3000', 'http:80:5000'], 5000)
    text = proxy_config.render('shop.eu', mappings, ['*.b.example', 'a.example'], ['172.16.240.10', '172.16.240.2'])
    # domains sorted as text ('*' before 'a'), members by address value (.2 before .10)
    assert text == GOLDEN.replace('a.example *.b.example', '*.b.example a.example')


def test_render_without_members_answers_503_and_without_domains_every_name():
    text = proxy_config.render('api', [M('http', 8000, 5000)], [], [], listen_address='127.0.0.1')
    assert text == GOLDEN_NO_MEMBERS
    assert 'upstream' not in text and 'default_server' not in text


def test_render_is_deterministic():
    mappings = ['http:80:5000', 'http:81:5000']
    members = ['172.16.240.%d' % host for host in (9, 3, 12, 3)]
    first = proxy_config.render('a', mappings, ['y.example', 'x.example'], members)
    second = proxy_config.render('a', list(reversed(mappings)), ['x.example', 'Y.example'], list(reversed(members)))
    assert first == second
    assert first.count('server 172.16.240.3:5000;') == 2  # once per upstream, duplicates dropped


def test_render_listen_addresses_and_ipv6_members():
    text = proxy_config.render('a', [M('http', 80, 5000)], [], ['fd00::2'], listen_address='::')
    assert '    listen [::]:80;\n' in text
    assert '    server [fd00::2]:5000;\n' in text
    assert '    listen 0.0.0.0:80;\n' in proxy_config.render('a', [M('http', 80, 5000)], [], [], listen_address='0.0.0.0')


@pytest.mark.parametrize('kwargs, error', [
    ({'app': 'Bad_App'}, '^app: '),
    ({'listen_address': 'localhost'}, '^listen_address: must be an IPv4 or IPv6 address'),
    ({'mappings': ['https:443:5000']}, 'TLS is added by hand'),
    ({'domains': ['a;b']}, r'^domains\[0\]: must be a DNS name'),
    ({'members': ['172.16.240.2', 'web.1']}, '^members: must be IP addresses$'),
])
def test_render_refuses_bad_input(kwargs, error):
    arguments = {'app': 'a', 'mappings': [M('http', 80, 5000)], 'domains': [], 'members': []}
    arguments.update(kwargs)
    with pytest.raises(ValidationError, match=error):
        proxy_config.render(**arguments)


def test_upstream_names_never_collide():
    assert proxy_config.upstream_name('a.b', 80) == 'dokku-ps-a_b-80'
    assert proxy_config.upstream_name('a-b', 80) == 'dokku-ps-a-b-80'
