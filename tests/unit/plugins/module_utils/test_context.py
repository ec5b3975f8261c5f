# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run context (module_utils/_context.py): the app's scheduler chosen from its document, and the commit of its
work (the scheduler carries it out, the document and its release are recorded), against the fake scheduler."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _context as context
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore
from tests.unit import fake_scheduler
from tests.unit.fake_docker import FakeDocker
from tests.unit.helpers import OTHER_IMAGE_ID, app_document

WHEN = '2026-12-01T10:00:00Z'


def _doc(**changes):
    """App shop, with a secret in its env, recorded at WHEN (without releases unless given: read back, its
    definition is release 1)."""
    without = [] if 'releases' in changes else ['releases']
    return app_document(without=without, **dict(dict(name='shop', image='shop:1', env={'TOKEN': 'secret-value'},
                                                     updated_at=WHEN), **changes))


@pytest.fixture
def recorder(monkeypatch):
    return fake_scheduler.install(monkeypatch)


def _ctx(tmp_path, check_mode=False):
    store = StateStore(str(tmp_path / 'state'))
    proxy = ProxyRun(options.proxy_options({'nginx_include_dir': str(tmp_path / 'nginx')}), check_mode=check_mode)
    return context.Context(FakeDocker(), store, proxy, check_mode=check_mode)


def _stored(ctx, doc):
    """``doc`` as it was written, with its first release, and as a run reads it back."""
    ctx.store.write_app(doc)
    return ctx.read_app(doc['name'])


def test_the_scheduler_is_chosen_from_the_document_made_once_and_closed(tmp_path, recorder, monkeypatch):
    ctx = _ctx(tmp_path)
    app = ctx.scheduler(_doc())
    assert isinstance(app, fake_scheduler.FakeApp) and app.name == 'shop'
    assert ctx.scheduler_run(scheduler.DOCKER_LOCAL) is ctx.scheduler_run(scheduler.DOCKER_LOCAL)
    assert scheduler.kind_of(_doc()) == scheduler.DOCKER_LOCAL == scheduler.kind_of(None)

    class OtherRun(fake_scheduler.FakeRun):
        kind = 'other'
    monkeypatch.setitem(context.SCHEDULERS, 'other', OtherRun)
    assert isinstance(ctx.scheduler_run(scheduler.kind_of(dict(_doc(), scheduler='other'))), OtherRun)
    ctx.close()
    assert recorder.calls.count(('close',)) == 2, 'every scheduler the run made is closed'


def test_a_run_over_many_apps_asks_every_scheduler_to_prefetch_and_report(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    ctx.prefetch(['a', 'b'])
    recorder.processes['a'] = {'processes': 2, 'running': 'true', 'dynos': {'web.1': {}}}
    found = ctx.report([_doc(name='a'), _doc(name='b')], None, inspect=True)
    assert recorder.calls == [('prefetch', ('a', 'b')), ('report', ('a', 'b'), True, False)]
    assert found['a']['processes'] == 2 and found['b']['running'] == 'false'


def test_check_mode_commits_nothing_and_predicts_the_proxy(tmp_path, recorder):
    ctx = _ctx(tmp_path, check_mode=True)
    doc = _doc()
    work = fake_scheduler.FakeWork({'created': ['shop.web.1']}, types=['web'])
    ctx.commit(work, doc, None, write=True)
    assert [call[0] for call in recorder.calls] == ['sync_proxy'], 'nothing carried out'
    assert ctx.store.read_app('shop') is None, 'nothing written'
    assert doc['releases'][-1]['number'] == 1, 'the document shows the release the run would record'
    ctx.commit(work, _doc(), None, write=True, proxy=False)
    assert [call[0] for call in recorder.calls] == ['sync_proxy']


def test_work_is_carried_out_then_recorded_with_what_the_scheduler_keeps(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    old = _stored(ctx, _doc())
    recorder.keys = {'applied_policies': {'c' * 64: 'always'}}
    doc = _doc(image_id=OTHER_IMAGE_ID, releases=old['releases'])
    work = fake_scheduler.FakeWork({'replaced': ['shop.web.1']}, types=['web'])
    ctx.commit(work, doc, None, write=False)
    assert [call[0] for call in recorder.calls] == ['apply', 'sync_proxy']
    written = ctx.store.read_app('shop')
    assert written['applied_policies'] == {'c' * 64: 'always'}
    assert written['updated_at'] != WHEN and [r['number'] for r in written['releases']] == [1, 2]
    assert written['releases'][-1]['created_at'] == written['updated_at'], 'a release is dated when it went live'


def test_what_the_scheduler_learnt_is_written_without_a_change(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    old = _stored(ctx, _doc())
    recorder.keys, recorder.must_write = {'policy_window': {'since': 5, 'caused': {}, 'caused_before': 5}}, True
    ctx.commit(scheduler.nothing(), _doc(releases=old['releases']), None, write=False)
    written = ctx.store.read_app('shop')
    assert written['policy_window']['since'] == 5 and written['updated_at'] == WHEN, 'bookkeeping, not a change'
    assert [r['number'] for r in written['releases']] == [1]


def test_nothing_learnt_and_nothing_changed_writes_nothing(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    old = _stored(ctx, _doc())
    before = open(ctx.store.app_path('shop'), 'rb').read()
    recorder.keys = {'policy_window': {'since': 9, 'caused': {}, 'caused_before': 9}}
    ctx.commit(scheduler.nothing(), _doc(releases=old['releases']), None, write=False)
    assert open(ctx.store.app_path('shop'), 'rb').read() == before


def test_a_failing_work_records_nothing(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    old = _stored(ctx, _doc())
    before = open(ctx.store.app_path('shop'), 'rb').read()
    recorder.fail = DockerError('the new container died')
    with pytest.raises(DockerError):
        ctx.commit(fake_scheduler.FakeWork({'replaced': ['shop.web.1']}),
                   _doc(image_id=OTHER_IMAGE_ID, releases=old['releases']), None, write=True)
    assert open(ctx.store.app_path('shop'), 'rb').read() == before, 'the recorded definition stays'
    assert 'sync_proxy' not in [call[0] for call in recorder.calls]


def test_an_app_read_has_its_secrets_registered(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    _stored(ctx, _doc())
    ctx.read_app('shop')
    assert ctx.redactor.text('token: secret-value') == 'token: XXXXXX'


def test_other_daemons_get_one_client_each_with_the_runs_redactor(tmp_path):
    made = []

    def connect(host):
        made.append(host)
        return FakeDocker(host=host)

    docker = FakeDocker()
    ctx = context.Context(docker, StateStore(str(tmp_path / 'state')), None, connect=connect)
    other = ctx.docker_at('tcp://node2:2375')
    assert other.host == 'tcp://node2:2375' and other.redactor is ctx.redactor
    assert ctx.docker_at('tcp://node2:2375') is other and made == ['tcp://node2:2375']
    assert ctx.docker_at(docker.host) is docker, 'the run\'s own daemon is not connected twice'
    with pytest.raises(TypeError):
        context.Context(FakeDocker(), None, None).docker_at('tcp://node2:2375')
