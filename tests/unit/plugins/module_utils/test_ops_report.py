# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_report (module_utils/_ops_report.py): one app or every app, what the scheduler reports of their
processes beside the app's definition, sources, proxy and releases; against the fake scheduler."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _context as context
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import NotFoundError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_report as ops_report
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore
from tests.unit import fake_scheduler
from tests.unit.fake_docker import FakeDocker
from tests.unit.helpers import app_document


def _doc(name):
    """App ``name``: two web containers and no other process, a secret in its env, written before releases."""
    return app_document(without=['releases'], name=name, image='%s:1' % name, processes={'web': 'serve'},
                        formation={'web': 2}, env={'TOKEN': 'secret-value'})


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    recorder = fake_scheduler.install(monkeypatch)
    store = StateStore(str(tmp_path / 'state'))
    for name in ('blog', 'shop'):
        store.write_app(_doc(name))
    recorder.processes['shop'] = {'processes': 2, 'running': 'mixed', 'dynos': {'web.1': {'status': 'running'},
                                                                                'web.2': {'status': 'exited'}}}
    made = context.Context(FakeDocker(), store, ProxyRun(options.proxy_options({'nginx_include_dir': str(tmp_path)})))
    made.recorder = recorder
    return made


def test_one_app_at_the_top_level(ctx):
    result = ops_report.run(ctx, ops_report.parse({'app': 'shop', 'global': False, 'inspect': True, 'top': False}))
    assert ctx.recorder.calls == [('report', ('shop',), True, False)], 'one request to the scheduler for the app'
    assert result['changed'] is False and result['name'] == 'shop' and result['status'] == 'unchanged'
    assert (result['processes'], result['running']) == (2, 'mixed')
    assert sorted(result['dynos']) == ['web.1', 'web.2']
    assert result['sources'] == {'formation': 'scale', 'checks': {'web': 'default'}, 'app_json': None}
    assert result['proxy'] == {'enabled': False} and result['release']['number'] == 1
    assert result['formation'] == {'web': 2} and result['global']['restart_policy']['computed'] == 'on-failure:10'
    assert result['releases'][0]['env'] == {'TOKEN': 'XXXXXX'}, 'no env value in a report'


def test_every_app_under_apps_from_one_request(ctx):
    result = ops_report.run(ctx, ops_report.parse({'app': None, 'global': False, 'inspect': False, 'top': True}))
    assert ctx.recorder.calls == [('report', ('blog', 'shop'), False, True)]
    assert sorted(result['apps']) == ['blog', 'shop'] and result['apps_changed'] == []
    assert result['apps']['blog']['processes'] == 0 and result['apps']['shop']['running'] == 'mixed'


def test_the_global_properties_only(ctx):
    result = ops_report.run(ctx, ops_report.parse({'app': None, 'global': True, 'inspect': False, 'top': False}))
    assert result == {'changed': False, 'global': result['global']} and ctx.recorder.calls == []


def test_an_undefined_app_and_a_bad_name_are_refused(ctx):
    with pytest.raises(NotFoundError, match='app: nothing is not defined'):
        ops_report.run(ctx, ops_report.parse({'app': 'nothing', 'global': False, 'inspect': False, 'top': False}))
    with pytest.raises(ValidationError, match='^app: '):
        ops_report.parse({'app': 'Bad_Name', 'global': False, 'inspect': False, 'top': False})
    assert ctx.recorder.calls == []
