# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_certs (module_utils/_ops_certs.py): its parameters, which apps it skips and why, the commit of each
app with no work for its processes, its outcomes, and check mode contacting no CA; against the fake scheduler and
a fake TLS (the real CA, nginx and containers are tested in tests/integration/test_dokku_ps_certs.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _context as context
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_certs as ops_certs
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import AppsFailed
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore
from ansible_collections.dokku_ps.docker.plugins.module_utils import _tls as tls
from tests.unit import fake_scheduler
from tests.unit.fake_docker import FakeDocker
from tests.unit.helpers import app_document, refused

DIRECTORY = 'https://ca.test/dir'
ACCOUNT = {'directory': DIRECTORY, 'email': None}
FINGERPRINT = 'sha256:' + 'ab' * 32


def params(**given):
    base = {'app': None, 'apps': None, 'all': False, 'force': False, 'parallel': 1}
    base.update(given)
    return base


# -- parse ---------------------------------------------------------------------------------------------------------

def test_parse_targets_force_and_parallel():
    assert ops_certs.parse(params(app='shop')) == ops_certs.CertsRequest(['shop'], False, 1, True)
    assert ops_certs.parse(params(apps=['shop', 'blog'], force=True, parallel=4)) == ops_certs.CertsRequest(
        ['shop', 'blog'], True, 4, False)
    assert ops_certs.parse(params(all=True, parallel=0)) == ops_certs.CertsRequest(None, False, 1, False)


@pytest.mark.parametrize('given, field', [
    ({}, 'app'),
    ({'app': 'Shop'}, 'app'),
    ({'apps': ['shop', 'x_y']}, 'apps'),
    ({'all': True, 'parallel': -2}, 'parallel'),
    ({'all': True, 'force': 'yes'}, 'force'),
])
def test_parse_refusals_name_the_field(given, field):
    message = refused(ops_certs.parse, params(**given))
    assert message.startswith(field + ':') and '\n' not in message


# -- the run -------------------------------------------------------------------------------------------------------

@pytest.fixture
def recorder(monkeypatch):
    return fake_scheduler.install(monkeypatch)


class FakeTls(object):
    """The run's TLS, answering each app's commit with the certificate outcome the test gives (``outcomes``: app ->
    outcome, or an exception to raise); records what it is asked."""

    def __init__(self, outcomes=None, pause=0.0):
        self.outcomes = dict(outcomes or {})
        self.checked = []
        self.committed = []
        self.force = False
        self.pause = pause
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()

    def check(self, doc, values):
        self.checked.append((doc['name'], values))

    def commit(self, doc):
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        time.sleep(self.pause)
        with self._lock:
            self.inside -= 1
        self.committed.append(doc['name'])
        outcome = self.outcomes.get(doc['name'], _certificate(tls.UNCHANGED))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _certificate(action, reason=None, source='acme', renew_at='2031-01-01T00:00:00Z'):
    outcome = {'source': source, 'action': action, 'names': ['shop.test'], 'not_after': '2031-06-01T00:00:00Z',
               'fingerprint': FINGERPRINT, 'renew_at': renew_at}
    if reason:
        outcome['reason'] = reason
    return outcome


def _proxied(name, mode='acme', enabled=True, deployed=True, certificate=None):
    return app_document(name=name, web_port=5000, deployed=deployed, certificate=certificate, proxy={
        'enabled': enabled, 'ports': ['http:80:5000'], 'domains': ['%s.test' % name], 'wait_to_retire': None,
        'tls': dict(mode=mode, certificate_path=None, key_path=None, redirect=None, hsts=None,
                    hsts_include_subdomains=None, hsts_max_age=None, hsts_preload=None)})


def _ctx(tmp_path, docs=(), check_mode=False, fake_tls=None):
    store = StateStore(str(tmp_path / 'state'))
    for doc in docs:
        store.write_app(doc)
    proxy = ProxyRun(options.proxy_options({'nginx_include_dir': str(tmp_path / 'nginx')}), check_mode=check_mode)
    acme = options.acme_options({'acme_directory': DIRECTORY, 'acme_webroot': str(tmp_path / 'webroot')})
    ctx = context.Context(FakeDocker(), store, proxy, check_mode=check_mode, acme=acme)
    if fake_tls is not None:
        ctx.tls = fake_tls
    return ctx


def _request(names=None, force=False, workers=1, single=False):
    return ops_certs.CertsRequest(names, force, workers, single)


def test_a_due_certificate_is_renewed_with_no_work_for_the_processes(tmp_path, recorder):
    fake = FakeTls({'shop': _certificate(tls.RENEWED, 'renewal is due (2026-01-01T00:00:00Z)')})
    ctx = _ctx(tmp_path, [_proxied('shop')], fake_tls=fake)
    before = ctx.store.read_app('shop')
    result = ops_certs.run(ctx, _request(['shop'], single=True))
    assert fake.checked == [('shop', {})], 'its TLS checked again, a provided certificate read again'
    assert [call[0] for call in recorder.calls] == ['apply', 'sync_proxy']
    assert all(isinstance(call[2], scheduler.Work) and not call[2].changed for call in recorder.calls)
    assert result['changed'] and result['status'] == 'changed' and result['name'] == 'shop'
    assert result['reason'] == 'renewed: renewal is due (2026-01-01T00:00:00Z)'
    assert result['certificate']['action'] == 'renewed'
    assert not any(result['containers'].values())
    assert ctx.store.read_app('shop') == before, 'nothing of the app recorded but what its certificate records'


def test_a_certificate_not_due_is_unchanged(tmp_path, recorder):
    ctx = _ctx(tmp_path, [_proxied('shop')], fake_tls=FakeTls())
    result = ops_certs.run(ctx, _request(['shop'], single=True))
    assert not result['changed'] and result['status'] == 'unchanged'
    assert result['reason'] == 'not due: renewal from 2031-01-01T00:00:00Z'


def test_apps_without_https_are_skipped_with_the_reason_and_a_failure_stops_no_other(tmp_path, recorder):
    fake = FakeTls({'shop': _certificate(tls.ISSUED, 'its domains changed'),
                    'down': tls.AcmeError('the ACME CA https://ca.test/dir refused to issue: rate limited')})
    docs = [_proxied('shop'), _proxied('plain', mode='off'), _proxied('hidden', enabled=False),
            _proxied('new', deployed=False), _proxied('down')]
    ctx = _ctx(tmp_path, docs, fake_tls=fake)
    with pytest.raises(AppsFailed) as failed:
        ops_certs.run(ctx, _request(None, workers=3))
    result = failed.value.details['result']
    assert result['apps_changed'] == ['shop']
    assert result['apps_skipped'] == {'hidden': 'no HTTPS (its proxy is off)', 'new': 'not deployed',
                                      'plain': 'no HTTPS (https: off)'}
    assert result['apps_failed'] == {'down': 'the ACME CA https://ca.test/dir refused to issue: rate limited'}
    assert result['apps']['shop']['reason'] == 'issued: its domains changed'
    assert result['apps']['plain']['certificate'] is None
    assert sorted(fake.committed) == ['down', 'shop'], 'only apps with HTTPS are committed'
    assert str(failed.value) == ('1 of 5 app(s) failed: down: the ACME CA https://ca.test/dir refused to issue: '
                                 'rate limited')


def test_an_app_not_defined_fails_alone(tmp_path, recorder):
    ctx = _ctx(tmp_path, [_proxied('shop')], fake_tls=FakeTls())
    with pytest.raises(AppsFailed) as failed:
        ops_certs.run(ctx, _request(['ghost', 'shop']))
    result = failed.value.details['result']
    assert 'ghost: app: ghost is not defined' in str(failed.value)
    assert result['apps']['shop']['status'] == 'unchanged'


def test_force_reaches_the_run_s_tls(tmp_path, recorder):
    fake = FakeTls()
    ops_certs.run(_ctx(tmp_path, [_proxied('shop')], fake_tls=fake), _request(['shop'], force=True))
    assert fake.force is True


def test_parallel_apps_commit_their_certificates_one_at_a_time(tmp_path, recorder):
    fake = FakeTls(pause=0.05)
    names = ['app%d' % number for number in range(4)]
    result = ops_certs.run(_ctx(tmp_path, [_proxied(name) for name in names], fake_tls=fake),
                           _request(names, workers=4))
    assert sorted(result['apps']) == names and fake.most_inside == 1


@pytest.mark.parametrize('certificate, check_mode, reason', [
    (_certificate(tls.RENEWED, 'renewal was asked for (force)'), True,
     'would be renewed: renewal was asked for (force)'),
    (_certificate(tls.INSTALLED), False, 'installed again: nginx did not serve the certificate kept for the app'),
    (_certificate(tls.INSTALLED, source='provided'), False, 'installed: the provided certificate differs from the '
                                                            'one nginx serves'),
    (_certificate(tls.UNCHANGED, source='provided', renew_at=None), False, 'provided: served as given (renewed by '
                                                                           'whoever provides it)'),
    (_certificate(tls.UNCHANGED, renew_at=None), False, 'not due'),
])
def test_reasons(certificate, check_mode, reason):
    assert ops_certs.reason_of(certificate, check_mode) == reason


# -- with the real TlsRun ------------------------------------------------------------------------------------------

def test_check_mode_says_a_due_certificate_would_be_renewed_and_contacts_no_ca(tmp_path, recorder):
    current = {'source': 'acme', 'names': ['shop.test'], 'account': ACCOUNT, 'not_after': '2026-02-01T00:00:00Z',
               'fingerprint': FINGERPRINT, 'renew_at': '2020-01-01T00:00:00Z', 'renew_source': 'ari',
               'ari_retry_after': '2020-01-01T00:00:00Z', 'last_error': None, 'installed_at': '2019-12-01T00:00:00Z'}
    ctx = _ctx(tmp_path, [_proxied('shop', certificate=current)], check_mode=True)
    ctx.store.write_secret('certs', 'shop.json', json.dumps({'chain': 'CHAIN', 'key': 'KEY'}).encode('ascii'))
    before = ctx.store.read_app('shop')
    result = ops_certs.run(ctx, _request(['shop'], single=True))
    assert result['changed'] and result['certificate']['action'] == 'renewed'
    assert result['reason'] == 'would be renewed: renewal is due (2020-01-01T00:00:00Z)'
    assert ctx.tls._ca is None, 'check mode contacts no CA'  # pylint: disable=protected-access
    assert ctx.store.read_app('shop') == before


def test_force_in_check_mode_names_the_reason(tmp_path, recorder):
    current = {'source': 'acme', 'names': ['shop.test'], 'account': ACCOUNT, 'not_after': '2036-02-01T00:00:00Z',
               'fingerprint': FINGERPRINT, 'renew_at': '2035-01-01T00:00:00Z', 'renew_source': 'ari',
               'ari_retry_after': '2035-01-01T00:00:00Z', 'last_error': None, 'installed_at': '2019-12-01T00:00:00Z'}
    ctx = _ctx(tmp_path, [_proxied('shop', certificate=current)], check_mode=True)
    ctx.store.write_secret('certs', 'shop.json', json.dumps({'chain': 'CHAIN', 'key': 'KEY'}).encode('ascii'))
    assert not ops_certs.run(ctx, _request(['shop'], single=True))['changed']
    forced = ops_certs.run(_ctx(tmp_path, check_mode=True), _request(['shop'], force=True, single=True))
    assert forced['reason'] == 'would be renewed: renewal was asked for (force)'
