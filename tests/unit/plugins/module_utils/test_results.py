# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one result shape (module_utils/_results.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from tests.unit.helpers import app_document

DOC = app_document(name='shop', formation={'web': 2},
                   properties={'restart_policy': 'always', 'stop_timeout_seconds': None, 'restore': True})


def _plan():
    plan = planner.Plan()
    container = planner.Container({'Id': 'a' * 64, 'Names': ['/shop.web.1'], 'State': 'running',
                                   'Labels': {'com.dokku.app-name': 'shop', 'com.dokku.process-type': 'web'}}, 'shop')
    plan.phases.append([planner.Action(planner.CREATE, 'shop.web.2', 'web', 2, spec={'restart_policy': 'no'}),
                        planner.Action(planner.UPDATE_POLICY, 'shop.web.1', 'web', 1, container=container,
                                       policy='always'),
                        planner.Action(planner.STOP, 'shop.worker.1', 'worker', 1, container=container)])
    return plan


def test_container_work_always_has_the_six_lists():
    assert results.container_work() == dict((key, []) for key in results.CONTAINER_WORK)
    work = results.container_work(_plan())
    assert list(work) == list(results.CONTAINER_WORK)
    assert work['created'] == ['shop.web.2'] and work['updated'] == ['shop.web.1']
    assert work['stopped'] == ['shop.worker.1'] and work['replaced'] == work['removed'] == work['started'] == []


def test_an_outcome_with_its_document():
    outcome = results.app_outcome('shop', 'changed', plan=_plan(), doc=DOC, global_doc=None, image='shop:1')
    assert outcome['name'] == 'shop' and outcome['status'] == 'changed' and outcome['reason'] == ''
    assert outcome['formation'] == {'web': 2} and outcome['image'] == 'shop:1'
    assert outcome['properties']['restart_policy'] == {'raw': 'always', 'global': None, 'computed': 'always'}
    assert outcome['properties']['stop_timeout_seconds']['computed'] == 30
    outcome['formation']['web'] = 5
    assert DOC['formation'] == {'web': 2}, 'a copy'


def test_an_outcome_without_document():
    outcome = results.app_outcome('gone', 'failed', 'the state file is damaged')
    assert sorted(outcome) == ['containers', 'name', 'reason', 'status']


def test_one_app_puts_the_outcome_at_the_top():
    result = results.one_app(results.app_outcome('shop', 'unchanged', doc=DOC), diff={'before': {}})
    assert result['changed'] is False and result['name'] == 'shop' and result['diff'] == {'before': {}}
    assert 'apps' not in result
    assert results.one_app(results.app_outcome('shop', 'changed'))['changed'] is True


def test_many_apps_with_their_summaries():
    outcomes = [results.app_outcome('a', 'changed'), results.app_outcome('b', 'skipped', 'not deployed'),
                results.app_outcome('c', 'failed', 'boom'), results.app_outcome('d', 'unchanged')]
    result = results.many_apps(outcomes, state='started')
    assert result['changed'] is True and result['state'] == 'started'
    assert sorted(result['apps']) == ['a', 'b', 'c', 'd'] and result['apps']['b']['reason'] == 'not deployed'
    assert result['apps_changed'] == ['a']
    assert result['apps_skipped'] == {'b': 'not deployed'} and result['apps_failed'] == {'c': 'boom'}
    assert results.many_apps([])['changed'] is False
