# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy settings (module_utils/_proxy_settings.py): mappings, domains, conflicts, an app document's ProxySettings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError

from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_settings as proxy_settings
from tests.unit.helpers import app_document, refused


M = proxy_settings.PortMapping


@pytest.mark.parametrize('text, expected', [
    ('http:80:5000', M('http', 80, 5000)),
    ('HTTP:8080:3000', M('http', 8080, 3000)),
    (' http:1:65535 ', M('http', 1, 65535)),
    (M('http', 81, 5000), M('http', 81, 5000)),
])
def test_mapping_accepted(text, expected):
    assert proxy_settings.parse_mapping(text) == expected
    assert str(expected) == 'http:%d:%d' % (expected.host_port, expected.container_port)


@pytest.mark.parametrize('value, rule', [
    ('tcp:80:5000', 'scheme must be http or https'),
    ('ftp:21:5000', 'scheme must be http or https'),
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
    message = refused(proxy_settings.parse_mapping, value, 'ports[3]')
    assert message.startswith('ports[3]')
    assert rule in message
    # one of the fixed rules, never the value
    assert message in ('ports[3]: ' + proxy_settings.MAPPING_RULE, 'ports[3]: ' + proxy_settings.SCHEME_RULE,
                       'ports[3] host port: ' + proxy_settings.PORT_RULE, 'ports[3] container port: ' + proxy_settings.PORT_RULE)


def test_mappings_default_sorted_and_one_per_host_port():
    assert proxy_settings.parse_mappings(None, 5000) == (M('http', 80, 5000),)
    assert proxy_settings.parse_mappings([], 3000) == (M('http', 80, 3000),)
    assert proxy_settings.parse_mappings(['http:8080:5000', 'http:80:5000'], 5000) == (M('http', 80, 5000),
                                                                                       M('http', 8080, 5000))
    with pytest.raises(ValidationError, match=r'^ports\[1\]: host port 80 is already mapped by ports\[0\]'):
        proxy_settings.parse_mappings(['http:80:5000', 'http:80:6000'], 5000)
    with pytest.raises(ValidationError, match='^ports: must be a list'):
        proxy_settings.parse_mappings('http:80:5000', 5000)
    assert proxy_settings.parse_mappings(['https:443:5000', 'HTTP:80:5000'], 5000) == (M('http', 80, 5000),
                                                                                       M('https', 443, 5000))
    with pytest.raises(ValidationError, match=r'^ports\[1\]: scheme must be http or https'):
        proxy_settings.parse_mappings(['http:80:5000', 'tcp:443:5000'], 5000)
    with pytest.raises(ValidationError, match='^web_port: must be a port number'):
        proxy_settings.parse_mappings(None, 70000)


@pytest.mark.parametrize('value, expected', [
    (80, 80), ('80', 80), (' 443 ', 443), (65535, 65535), (1, 1),
])
def test_port_accepted(value, expected):
    assert proxy_settings.validate_port(value, 'p') == expected


@pytest.mark.parametrize('value', [0, 65536, -1, '0', '', 'eighty', True, 80.0, None, '1e3', '+80'])
def test_port_refused(value):
    with pytest.raises(ValidationError, match=r'^p: must be a port number \(1-65535\)$'):
        proxy_settings.validate_port(value, 'p')


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
    assert proxy_settings.validate_domain(value) == expected


@pytest.mark.parametrize('value', [
    'a;b.example', 'shop.example;', 'a{b.example', 'a}b.example', 'a b.example', ' example.com', 'example.com ',
    'a\tb.example', 'a\nb.example', 'example.com\n', 'a\rb', "'example.com'", '"example.com"', 'a`b',
    'a..b', '.example.com', 'example.com.', '-a.example', 'a-.example', 'a_b.example', '*', '*.', '**.example',
    'a.*.example', '*example.com', 'example.*', '%s.example' % ('a' * 64), '.'.join(['a' * 63] * 4),
    u'b\u00fccher.example', u'\u212a.example', 'a/b', 'a:80', 'a\x00b', '', 5, None, ['example.com'],
])
def test_domain_refused_one_line_naming_field_not_value(value):
    message = refused(proxy_settings.validate_domain, value, 'domains[2]')
    assert message == 'domains[2]: ' + proxy_settings.DOMAIN_RULE


def test_domains_sorted_deduplicated_and_list_only():
    assert proxy_settings.parse_domains(['b.example', 'A.example', 'a.example']) == ('a.example', 'b.example')
    assert proxy_settings.parse_domains(None) == ()
    assert proxy_settings.parse_domains([]) == ()
    with pytest.raises(ValidationError, match='^domains: must be a list'):
        proxy_settings.parse_domains('a.example')
    with pytest.raises(ValidationError, match=r'^domains\[1\]: must be a DNS name'):
        proxy_settings.parse_domains(['a.example', 'b;example'])


def settings(ports, domains=()):
    return proxy_settings.ProxySettings(True, proxy_settings.parse_mappings(ports, 5000),
                                        proxy_settings.parse_domains(list(domains)), 10,
                                        proxy_settings.tls_of(None))


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
    if error is None:
        proxy_settings.check_conflicts('a', ours, others)
    else:
        with pytest.raises(ValidationError, match=error):
            proxy_settings.check_conflicts('a', ours, others)


def test_settings_of_a_document_parsed_once_with_dokkus_defaults():
    off = proxy_settings.settings_of({'name': 'x'})
    assert off == proxy_settings.ProxySettings(False, (M('http', 80, 5000),), (), 10, proxy_settings.tls_of(None))
    assert off.tls == proxy_settings.TlsSettings('off', None, None, True, True, False, 15724800, False)
    doc = {'web_port': 3000, 'proxy': {'enabled': True, 'ports': ['http:8080:3000', 'http:81:3001'],
                                       'domains': ['B.test', 'a.test'], 'wait_to_retire': 0}}
    assert proxy_settings.settings_of(doc) == proxy_settings.ProxySettings(
        True, (M('http', 81, 3001), M('http', 8080, 3000)), ('a.test', 'b.test'), 0, off.tls)
    assert proxy_settings.settings_of({'web_port': 3000, 'proxy': {'enabled': True}}).mappings == (
        M('http', 80, 3000),), "Dokku's default mapping follows the web port"
    assert proxy_settings.settings_of({'proxy': dict(proxy_settings.NO_PROXY)}) == off


def test_conflicts_of_app_documents():
    """The settings of app documents, as definitions.check_proxy compares them (only apps whose proxy is on)."""
    def doc(**proxy):
        settings = dict(proxy_settings.NO_PROXY, enabled=True)
        settings.update(proxy)
        return proxy_settings.settings_of(app_document(web_port=5000, proxy=settings))
    others = {'one': doc(domains=['a.test'])}
    proxy_settings.check_conflicts('shop', doc(domains=['b.test']), others)  # another domain on the same port
    with pytest.raises(ValidationError, match=r'^domains\[0\]: is already served by app one'):
        proxy_settings.check_conflicts('shop', doc(domains=['a.test']), others)
    with pytest.raises(ValidationError, match=r'^proxy_ports: host port 80 is already used by app one'):
        proxy_settings.check_conflicts('shop', doc(), others, field='proxy_ports')
    proxy_settings.check_conflicts('shop', doc(ports=['http:81:5000']), others)


# ---------------------------------------------------------------------------------------------------- TLS settings

def with_tls(ports, **tls):
    return proxy_settings.ProxySettings(True, proxy_settings.parse_mappings(ports, 5000), (), 10,
                                        proxy_settings.tls_of({'tls': tls}))


def test_tls_defaults_are_dokku_s_but_include_subdomains():
    tls = proxy_settings.tls_of(None)
    assert tls.mode == 'off' and tls.redirect is True and tls.hsts is True
    assert tls.hsts_include_subdomains is False and tls.hsts_preload is False and tls.hsts_max_age == 15724800
    assert proxy_settings.tls_of({'tls': proxy_settings.NO_TLS}) == tls, 'None stands for the default'
    assert proxy_settings.hsts_header(tls) == 'max-age=15724800'
    assert proxy_settings.hsts_header(tls._replace(hsts=False)) is None
    assert proxy_settings.hsts_header(tls._replace(hsts_include_subdomains=True, hsts_preload=True, hsts_max_age=0)) \
        == 'max-age=0; includeSubDomains; preload'


@pytest.mark.parametrize('ports, certificate, expected', [
    # Dokku's rule: https:443 for every http:80, only with a certificate in place
    (['http:80:5000'], None, [('http', 80, 5000)]),
    (['http:80:5000'], 'cert', [('http', 80, 5000), ('https', 443, 5000)]),
    (['http:80:5000', 'http:8080:3000'], 'cert',
     [('http', 80, 5000), ('https', 443, 5000), ('http', 8080, 3000)]),
    # the app maps https itself: nothing added
    (['http:80:5000', 'https:8443:5000'], 'cert', [('http', 80, 5000), ('https', 8443, 5000)]),
    (['http:80:5000', 'https:8443:5000'], None, [('http', 80, 5000)]),
])
def test_served_mappings(ports, certificate, expected):
    served = proxy_settings.served_mappings(with_tls(ports, mode='acme'), certificate)
    assert [tuple(mapping) for mapping in served] == expected


def test_tls_off_serves_http_only():
    served = proxy_settings.served_mappings(with_tls(['http:80:5000']), 'cert')
    assert [tuple(mapping) for mapping in served] == [('http', 80, 5000)]


def test_redirect_port_is_the_https_mapping_of_the_same_container_port():
    settings_ = with_tls(['http:80:5000', 'http:8080:3000', 'https:8443:5000'], mode='provided')
    mappings = proxy_settings.served_mappings(settings_, 'cert')
    by_port = dict((mapping.host_port, mapping) for mapping in mappings)
    assert proxy_settings.redirect_port(settings_, mappings, by_port[80]) == 8443
    assert proxy_settings.redirect_port(settings_, mappings, by_port[8080]) is None, 'no https for port 3000'
    assert proxy_settings.redirect_port(settings_, mappings, by_port[8443]) is None
    off = settings_._replace(tls=settings_.tls._replace(redirect=False))
    assert proxy_settings.redirect_port(off, mappings, by_port[80]) is None
