# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS of the apps of a run (module_utils/_tls.py): what is refused before anything changes, and when a
certificate is issued, renewed, installed or removed, against a fake CA and a recorded nginx command line (the
real CA and nginx: tests/integration/test_tls.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.dokku_ps.docker.plugins.module_utils import _context as context
from ansible_collections.dokku_ps.docker.plugins.module_utils._acme import AcmeError
from ansible_collections.dokku_ps.docker.plugins.module_utils._options import AcmeOptions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import NO_PROXY, NO_TLS
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore
from ansible_collections.dokku_ps.docker.plugins.module_utils import _tls as tls
from tests.support import certs
from tests.unit.fake_docker import FakeDocker
from tests.unit.helpers import app_document, raised

DOMAINS = ['shop.test', 'www.shop.test']
NOW = datetime.datetime.now(datetime.timezone.utc)
ACME = AcmeOptions('https://ca.test/directory', 'ops@shop.test', None, None, 60)


class FakeCA(object):
    """Issues certificates of its own root for the key it is given, after serving each challenge; renewal
    information when it has some (``ari``: (renew at, ask again at))."""

    def __init__(self):
        self.root = certs.make('Fake CA', ca=True, not_before=NOW - datetime.timedelta(days=1), days=3650)
        self.calls = []
        self.fail = None
        self.ari = None

    def issue(self, names, key_pem, serve, unserve):
        self.calls.append(('issue', tuple(names)))
        serve('token-1', 'token-1.thumbprint', names[0])
        unserve('token-1')
        if self.fail is not None:
            raise self.fail
        key = serialization.load_pem_private_key(key_pem.encode('ascii'), password=None)
        leaf = self.root.issue(names[0], names=names, key=key, not_before=NOW - datetime.timedelta(hours=1), days=90)
        return certs.pem(leaf, self.root)

    def renewal_time(self, chain_pem):
        self.calls.append(('ari',))
        if self.ari is None:
            raise AcmeError('no renewal information')
        return self.ari


class Nginx(object):
    """nginx's command line: -t and reloads succeed and are counted."""

    def __init__(self):
        self.argvs = []

    def __call__(self, argv):
        self.argvs.append(argv)
        return 0, '', ''


@pytest.fixture
def run(tmp_path, monkeypatch):
    """(TlsRun, its fake CA, the challenges checked through nginx) of a run on a private state and include dir."""
    include = tmp_path / 'nginx'
    include.mkdir()
    (tmp_path / 'nginx.pid').write_text('1\n')
    proxy_options = options.proxy_options({'nginx_include_dir': str(include), 'nginx_pid_file': str(tmp_path / 'nginx.pid'),
                                           'proxy_listen_address': '127.0.0.1'})
    acme = ACME._replace(webroot=str(tmp_path / 'webroot'))
    checked = []
    monkeypatch.setattr(tls, '_check_challenge', lambda *args: checked.append(args))

    def make(check_mode=False):
        proxy = ProxyRun(proxy_options, check_mode=check_mode, run=Nginx(), webroot=acme.webroot)
        ctx = context.Context(FakeDocker(), StateStore(str(tmp_path / 'state')), proxy, check_mode=check_mode,
                              acme=acme)
        ctx.tls._ca = ca
        return ctx
    ca = FakeCA()
    return make, ca, checked


def doc(mode='acme', domains=None, enabled=True, **tls_settings):
    proxy = dict(NO_PROXY, enabled=enabled, domains=list(DOMAINS if domains is None else domains),
                 ports=['http:80:5000', 'https:443:5000'],
                 tls=dict(NO_TLS, mode=mode, **tls_settings))
    return app_document(name='shop', proxy=proxy)


def commit(ctx, document, addresses=('172.16.240.2',)):
    """What Context.commit does for the proxy of an app: its config queued, then its certificate."""
    from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import settings_of
    ctx.proxy.sync(document['name'], settings_of(document), list(addresses))
    outcome = ctx.tls.commit(document)
    ctx.proxy.flush()
    return outcome


# ---------------------------------------------------------------- refused before anything changes

@pytest.mark.parametrize('document, values, field, rule', [
    (doc('off'), {'tls_certificate': 'x', 'tls_key': 'y'}, 'tls_certificate', 'is for https: provided'),
    (doc('acme'), {'tls_certificate_path': '/x', 'tls_key_path': '/y'}, 'tls_certificate_path',
     'is for https: provided (the app\'s https is acme)'),
    (doc('acme', enabled=False), {}, 'https', 'needs the app\'s proxy'),
    (doc('acme', domains=[]), {}, 'https', 'needs the app\'s domains'),
    (doc('acme', domains=['*.shop.test']), {}, 'domains', 'the wildcard *.shop.test cannot be validated over http-01'),
    (doc('provided'), {}, 'tls_certificate', 'https: provided needs a certificate'),
    (doc('provided', certificate_path='/nonexistent/cert.pem', key_path='/nonexistent/key.pem'), {},
     'tls_certificate_path', 'cannot read /nonexistent/cert.pem on the managed host'),
])
def test_what_an_app_cannot_have_is_refused_before_anything_changes(run, document, values, field, rule):
    make, _ca, _checked = run
    error = raised(tls.ValidationError, make().tls.check, document, values)
    assert error.details['field'] == field and rule in error.details['rule'], str(error)


def test_a_provided_certificate_is_checked_with_the_app_s_domains(run, tmp_path):
    make, _ca, _checked = run
    ctx = make()
    root = certs.make('Root', ca=True, not_before=NOW - datetime.timedelta(days=1))
    leaf = root.issue('shop.test', names=['shop.test'], not_before=NOW - datetime.timedelta(days=1))
    error = raised(tls.ValidationError, ctx.tls.check, doc('provided'),
                   {'tls_certificate': certs.pem(leaf), 'tls_key': leaf.key_pem()})
    assert str(error).startswith('tls_certificate: does not cover the domain www.shop.test')
    both = root.issue('shop.test', names=DOMAINS, not_before=NOW - datetime.timedelta(days=1))
    (tmp_path / 'cert.pem').write_text(certs.pem(both, root))
    (tmp_path / 'key.pem').write_text(both.key_pem())
    document = doc('provided', certificate_path=str(tmp_path / 'cert.pem'), key_path=str(tmp_path / 'key.pem'))
    ctx.tls.check(document, {})
    outcome = commit(ctx, document)
    assert outcome['action'] == 'installed' and outcome['names'] == DOMAINS and outcome['source'] == 'provided'
    masked = ctx.redactor.text('nginx said: %s' % both.key_pem())
    assert 'XXXXXX' in masked and not [line for line in both.key_pem().splitlines()[1:-1] if line in masked], \
        'the key is a secret of the run: masked in what comes from outside'
    again = make()
    again.tls.check(document, {})
    assert commit(again, document)['action'] == 'unchanged'


# ---------------------------------------------------------------- ACME: issued, kept, renewed only when due

def test_issued_once_then_the_ca_is_left_alone(run, tmp_path):
    make, ca, checked = run
    document = doc()
    outcome = commit(make(), document)
    assert outcome['action'] == 'issued' and outcome['names'] == DOMAINS
    assert ca.calls == [('issue', tuple(DOMAINS)), ('ari',)]
    assert checked and checked[0][2:] == ('shop.test', 'token-1', 'token-1.thumbprint'), 'checked through nginx'
    record = document['certificate']
    assert record['source'] == 'acme' and record['account'] == {'directory': ACME.directory, 'email': ACME.email}
    assert record['renew_source'] == 'lifetime' and record['renew_at'] < record['not_after']
    stored = json.loads((tmp_path / 'state' / 'certs' / 'shop.json').read_text())
    assert stored['key'].startswith('-----BEGIN PRIVATE KEY-----')
    assert (tmp_path / 'nginx' / 'shop.key').stat().st_mode & 0o777 == 0o600
    assert 'ssl_certificate_key %s;' % (tmp_path / 'nginx' / 'shop.key') in (tmp_path / 'nginx' / 'shop.conf').read_text()
    assert 'ssl_reject_handshake on;' in (tmp_path / 'nginx' / '_catch-all.conf').read_text()

    for check_mode in (True, False):
        assert commit(make(check_mode), document)['action'] == 'unchanged'
    assert ca.calls == [('issue', tuple(DOMAINS)), ('ari',)], 'no contact without a reason'


@pytest.mark.parametrize('change, reason', [
    (lambda d: d['certificate'].update(renew_at='2020-01-01T00:00:00Z'), 'renewal is due'),
    (lambda d: d['proxy'].update(domains=['shop.test']), 'its domains changed'),
    (lambda d: d['certificate'].update(account={'directory': 'https://other.test/dir', 'email': None}),
     'its ACME CA or account changed'),
])
def test_renewed_or_issued_again_for_a_reason_and_check_mode_says_it(run, change, reason):
    make, ca, _checked = run
    document = doc()
    commit(make(), document)
    change(document)
    before = json.dumps(document, sort_keys=True)
    predicted = commit(make(check_mode=True), document)
    assert reason in predicted['reason'] and json.dumps(document, sort_keys=True) == before
    assert len([call for call in ca.calls if call[0] == 'issue']) == 1, 'check mode contacts no CA'
    outcome = commit(make(), document)
    assert outcome['action'] == ('renewed' if reason.startswith('renewal') else 'issued') and reason in outcome['reason']
    assert len([call for call in ca.calls if call[0] == 'issue']) == 2


def test_the_ca_s_renewal_information_is_asked_again_only_when_it_said_so(run):
    make, ca, _checked = run
    later = NOW + datetime.timedelta(days=40)
    ca.ari = (later, NOW + datetime.timedelta(hours=6))
    document = doc()
    commit(make(), document)
    assert document['certificate']['renew_source'] == 'ari'
    assert document['certificate']['renew_at'] == later.strftime('%Y-%m-%dT%H:%M:%SZ')
    commit(make(), document)
    assert ca.calls.count(('ari',)) == 1
    document['certificate']['ari_retry_after'] = '2020-01-01T00:00:00Z'
    ca.ari = (NOW - datetime.timedelta(minutes=1), NOW + datetime.timedelta(hours=6))
    assert commit(make(), document)['action'] == 'renewed', 'the CA moved the window: due now'
    assert ca.calls.count(('ari',)) == 3


def test_a_failed_issuance_is_recorded_and_raised_and_nothing_names_a_missing_certificate(run, tmp_path):
    make, ca, _checked = run
    ca.fail = AcmeError('the ACME CA https://ca.test/directory could not validate the http-01 challenge of shop.test')
    document = doc()
    with pytest.raises(AcmeError):
        commit(make(), document)
    assert 'could not validate' in document['certificate']['last_error']['message']
    assert not (tmp_path / 'nginx' / 'shop.crt').exists()


def test_tls_off_removes_what_was_installed(run, tmp_path):
    make, _ca, _checked = run
    document = doc()
    commit(make(), document)
    document['proxy']['tls']['mode'] = 'off'
    assert commit(make(), document)['action'] == 'removed'
    assert sorted(os.listdir(str(tmp_path / 'nginx'))) == ['.lock', 'shop.conf']
    assert document['certificate'] is None and not (tmp_path / 'state' / 'certs' / 'shop.json').exists()
    assert commit(make(), document) is None, 'nothing to remove any more'
