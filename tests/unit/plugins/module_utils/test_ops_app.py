# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge of an app declaration (module_utils/_ops_app.py), dokku_ps_app's and every fleet app's: which
intent the app's scheduler gets for each declared state, what is recorded, against the fake scheduler (the real
containers are tested in tests/integration)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _context as context
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_app as ops_app
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore
from tests.unit import fake_scheduler
from tests.unit.fake_docker import FakeDocker
from tests.unit.helpers import IMAGE_ID


@pytest.fixture
def recorder(monkeypatch):
    return fake_scheduler.install(monkeypatch)


def _ctx(tmp_path, check_mode=False):
    store = StateStore(str(tmp_path / 'state'))
    proxy = ProxyRun(options.proxy_options({'nginx_include_dir': str(tmp_path / 'nginx')}), check_mode=check_mode)
    ctx = context.Context(FakeDocker(), store, proxy, check_mode=check_mode)
    # the image shop:1 exists and carries no Procfile, DOKKU_SCALE, CHECKS or app.json
    ctx.image = lambda reference: {'Id': IMAGE_ID, 'Config': {'WorkingDir': '/app'}}
    ctx.image_files = lambda image_id, paths: dict((path, None) for path in paths)
    return ctx


def _declare(state='present', deploy=True, scale=None, properties=None, **values):
    params = dict({'name': 'shop', 'image': 'shop:1', 'processes': {'web': 'serve', 'worker': 'work'}}, **values)
    item = ops_app.parse(dict(params, state='present', deploy=deploy))
    return item._replace(state=state, scale=scale, properties=properties)


def test_a_first_deploy_converges_and_marks_the_app_deployed_and_restored(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    recorder.work['converge'] = fake_scheduler.FakeWork({'created': ['shop.web.1']}, types=['web'])
    result = ops_app.run(ctx, _declare())
    assert [call[0] for call in recorder.calls] == ['converge', 'apply', 'sync_proxy']
    assert recorder.calls[0][2]['will_write'] is True
    doc = ctx.store.read_app('shop')
    assert doc['deployed'] is True and doc['properties']['restore'] is True and doc['formation'] == {'web': 1,
                                                                                                     'worker': 0}
    assert result['changed'] and result['containers']['created'] == ['shop.web.1'] and result['deployed']
    assert result['image_id'] == IMAGE_ID and result['release']['number'] == 1 and result['release']['new']


def test_an_app_stopped_on_purpose_records_a_new_definition_for_its_next_start(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    ops_app.run(ctx, _declare())
    doc = ctx.store.read_app('shop')
    doc['properties']['restore'] = False
    ctx.store.write_app(doc)
    del recorder.calls[:]
    result = ops_app.run(ctx, _declare(env={'TOKEN': 'new'}))
    assert [call[0] for call in recorder.calls] == ['apply', 'sync_proxy'], 'nothing planned for its processes'
    assert ctx.warnings == ['app shop is stopped: the new definition is recorded and applies at its next start']
    assert result['changed'] and ctx.store.read_app('shop')['env'] == {'TOKEN': 'new'}


def test_a_declaration_only_recorded_touches_no_process(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    result = ops_app.run(ctx, _declare(deploy=False))
    assert [call[0] for call in recorder.calls] == ['apply'], 'no plan, and no proxy config'
    assert ctx.store.read_app('shop')['deployed'] is False and result['changed']


def test_the_same_declaration_again_changes_nothing(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    ops_app.run(ctx, _declare())
    del recorder.calls[:]
    result = ops_app.run(_ctx(tmp_path), _declare())
    assert not result['changed'] and recorder.calls[0] == ('converge', 'shop', dict(
        types=None, replace=True, start=True, force_replace=False, will_write=False))


@pytest.mark.parametrize('state, planned, restore', [('started', 'converge', True), ('stopped', 'stop', False)])
def test_a_fleet_app_declared_started_or_stopped(tmp_path, recorder, state, planned, restore):
    ops_app.converge(_ctx(tmp_path), _declare(state='started'))
    del recorder.calls[:]
    ctx = _ctx(tmp_path)
    recorder.work[planned] = fake_scheduler.FakeWork({'created': ['shop.web.1']}, warnings=['careful'])
    done = ops_app.converge(ctx, _declare(state=state, scale={'worker': 2}, properties={'keep_releases': 3}),
                            warning_prefix='shop: ')
    assert [call[0] for call in recorder.calls] == [planned, 'apply', 'sync_proxy']
    assert ctx.warnings == ['shop: careful']
    assert done.changed and done.formation_changes == {'worker': {'before': 0, 'after': 2}}
    assert done.property_changes == {'keep_releases': {'before': None, 'after': 3}}
    doc = ctx.store.read_app('shop')
    assert doc['properties']['restore'] is restore and doc['formation']['worker'] == 2


def test_an_app_never_deployed_and_declared_stopped_stays_undeployed(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    done = ops_app.converge(ctx, _declare(state='stopped'))
    assert [call[0] for call in recorder.calls] == ['apply', 'sync_proxy'], 'nothing to stop'
    doc = ctx.store.read_app('shop')
    assert done.changed and doc['deployed'] is False and doc['properties']['restore'] is False


def test_a_deleted_app_has_its_processes_removed_then_its_state(tmp_path, recorder):
    ctx = _ctx(tmp_path)
    ops_app.run(ctx, _declare())
    del recorder.calls[:]
    recorder.work['delete'] = fake_scheduler.FakeWork({'removed': ['shop.web.1']})
    result = ops_app.run(ctx, _declare(state='absent'))
    assert [call[0] for call in recorder.calls] == ['delete', 'apply']
    assert ctx.store.read_app('shop') is None and result['changed']
    assert result['containers']['removed'] == ['shop.web.1'] and result['diff']['after'] == {}
    del recorder.work['delete']
    again = ops_app.run(_ctx(tmp_path), _declare(state='absent'))
    assert not again['changed'], 'a deleted app stays deleted'


def test_check_mode_plans_and_writes_nothing(tmp_path, recorder):
    ctx = _ctx(tmp_path, check_mode=True)
    recorder.work['converge'] = fake_scheduler.FakeWork({'created': ['shop.web.1']})
    result = ops_app.run(ctx, _declare())
    assert [call[0] for call in recorder.calls] == ['converge', 'sync_proxy']
    assert ctx.store.read_app('shop') is None and result['changed'] and result['release']['number'] == 1
