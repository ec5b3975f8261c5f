# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler seam (module_utils/_scheduler.py): the choice from the document, the work nobody has to do, and
what every scheduler must answer (docker-local's plan and classes answer it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_local as local


def test_an_app_runs_on_docker_local_unless_its_document_says_otherwise():
    assert scheduler.kind_of({'name': 'shop'}) == scheduler.DOCKER_LOCAL
    assert scheduler.kind_of(None) == scheduler.DOCKER_LOCAL
    assert scheduler.kind_of({'scheduler': None}) == scheduler.DOCKER_LOCAL
    assert scheduler.kind_of({'scheduler': 'swarm'}) == 'swarm'
    assert scheduler.KINDS == (scheduler.DOCKER_LOCAL, scheduler.SWARM)


def test_nothing_to_do_answers_like_any_work():
    work = scheduler.nothing()
    assert not work.changed and work.warnings == [] and not work.touches('web')
    assert work.summary() == results.container_work(None)
    assert scheduler.nothing() is not work, 'each app gets its own (warnings are added to it)'


def test_a_plan_of_docker_local_answers_what_work_answers():
    plan = planner.Plan()
    assert not plan.changed and plan.summary() == results.container_work(None) and plan.warnings == []
    plan.phases.append([planner.Action(planner.CREATE, 'shop.web.1', 'web', 1)])
    assert plan.changed and plan.touches('web') and not plan.touches('worker')
    assert plan.summary()['created'] == ['shop.web.1']
    for name in ('changed', 'warnings', 'summary', 'touches'):
        assert hasattr(scheduler.Work(), name) and hasattr(plan, name), name


@pytest.mark.parametrize('interface, implementation', [
    (scheduler.AppScheduler, local.LocalApp),
    (scheduler.SchedulerRun, local.LocalRun),
])
def test_docker_local_implements_every_method_of_the_seam_with_its_parameters(interface, implementation):
    for name, method in inspect.getmembers(interface, inspect.isfunction):
        if name.startswith('_'):
            continue
        own = getattr(implementation, name)
        assert own is not method, '%s.%s is not implemented' % (implementation.__name__, name)
        assert inspect.signature(own) == inspect.signature(method), name


def test_the_interface_says_what_is_missing():
    app = scheduler.AppScheduler()
    for call in (lambda: app.converge({}, None), lambda: app.stop({}), lambda: app.policies({}, None),
                 lambda: app.delete({}), lambda: app.apply(None, {}, None), lambda: app.sync_proxy({}, None)):
        with pytest.raises(NotImplementedError):
            call()
    run = scheduler.SchedulerRun()
    for call in (lambda: run.app('shop'), lambda: run.prefetch([]), lambda: run.report([], None)):
        with pytest.raises(NotImplementedError):
            call()
    assert run.close() is None
