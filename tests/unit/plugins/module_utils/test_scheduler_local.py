# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker-local scheduler (module_utils/_scheduler_local.py): the snapshot of a run over many apps, plans proven
from it, and the restart-policy window it reads (module_utils/_policy_drift.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _context as context
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _policy_drift as policy_drift
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_local as local
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from tests.unit.fake_docker import FakeDocker, calls_of, summary
from tests.unit.helpers import app_document


def _run(docker, store=None, check_mode=False):
    """The docker-local part of a run over ``docker`` (a fake answering the requests these tests make)."""
    ctx = context.Context(docker, store, ProxyRun(options.proxy_options({})), check_mode=check_mode)
    run = ctx.scheduler_run('docker-local')
    assert isinstance(run, local.LocalRun)
    return run


NOW = 1700000000


S = 10 ** 9   # nanoseconds


def checked(name='a'):
    """The document of app ``name``, whose restart policies were last known a minute ago."""
    minute_ago = (NOW - 60) * S
    return app_document(name=name, policy_window={'since': minute_ago, 'caused': {}, 'caused_before': minute_ago})


def _lists(docker):
    """The name filters of the list calls made."""
    return [call.arg['name'][0] for call in calls_of(docker, 'list_containers')]


def _event_calls(docker):
    return [call.arg for call in calls_of(docker, 'events_between')]


def _inspected(docker):
    return [call.container_id for call in calls_of(docker, 'inspect_container')]


def _event(action, container_id, seconds_ago=10):
    return {'Type': 'container', 'Action': action, 'Actor': {'ID': container_id, 'Attributes': {}},
            'timeNano': (NOW - seconds_ago) * S}


def _summary(name, app, ptype, cid):
    return summary(cid, name, {specs.LABEL_APP: app, specs.LABEL_PROCESS_TYPE: ptype,
                               specs.LABEL_RESTART_POLICY: 'on-failure:10'})


def _listing():
    return FakeDocker([_summary('a.web.1', 'a', 'web', 'a1'), _summary('a.web.2', 'a', 'web', 'a2'),
                       _summary('a.b.web.1', 'a.b', 'web', 'ab1'), _summary('other', 'x', 'web', 'x1'),
                       _summary('a.web.3.upcoming-0f', 'a', 'web', 'a3')], now=NOW * S)


def _planner_wanting(count):
    """make_plan for plan_app: changed unless the inventory holds ``count`` containers of the app."""
    seen = []

    def make_plan(inventory):
        seen.append(sorted(c.id for c in inventory.containers()))
        plan = planner.Plan()
        if len(inventory.containers()) != count:
            plan.phases = [[planner.Action(planner.CREATE, 'x', 'web', 9)]]
        return plan
    return make_plan, seen


def test_without_a_snapshot_every_app_is_listed_exactly():
    docker = _listing()
    run = _run(docker)
    make_plan, seen = _planner_wanting(2)
    plan = run.plan('a', make_plan, checked())
    inventory = plan.inventory
    assert _lists(docker) == [specs.name_filter('a')]
    assert not plan.changed and seen == [['a1', 'a2']]
    assert [c.id for c in inventory.upcoming] == ['a3']


def test_snapshot_is_one_list_call_grouped_by_app_and_proves_no_ops():
    docker = _listing()
    run = _run(docker)
    run.prefetch([])
    assert _lists(docker) == [specs.ANY_APP_NAME_FILTER]
    for app, ids in (('a', ['a1', 'a2']), ('a.b', ['ab1']), ('never-deployed', [])):
        make_plan, seen = _planner_wanting(len(ids))
        plan = run.plan(app, make_plan, checked(app))
        inventory = plan.inventory
        assert not plan.changed and seen == [ids]
        assert sorted(c.id for c in inventory.containers()) == ids
    assert _lists(docker) == [specs.ANY_APP_NAME_FILTER], 'a no-op needs no list call of its own'


@pytest.mark.parametrize('want, will_write', [(3, False), (2, True)])
def test_work_or_a_write_is_planned_again_from_an_exact_list(want, will_write):
    docker = _listing()
    run = _run(docker)
    run.prefetch([])
    # the daemon changes after the snapshot (another run, under the app's lock): the exact list sees it
    docker.containers.append(_summary('a.web.4', 'a', 'web', 'a4'))
    make_plan, seen = _planner_wanting(want)
    plan = run.plan('a', make_plan, checked(), will_write=will_write)
    inventory = plan.inventory
    assert _lists(docker) == [specs.ANY_APP_NAME_FILTER, specs.name_filter('a')]
    assert seen == [['a1', 'a2'], ['a1', 'a2', 'a4']]
    assert sorted(c.id for c in inventory.containers()) == ['a1', 'a2', 'a4']
    assert plan.changed == (want != 3)


class _Store(object):
    def __init__(self, docs):
        self.docs = docs

    def read_app(self, name):
        return self.docs.get(name)


def _policy_ctx(events=(), policies=None, check_mode=False, docs=None):
    docker = FakeDocker([_summary('a.web.1', 'a', 'web', 'a1'), _summary('a.web.2', 'a', 'web', 'a2'),
                         _summary('b.web.1', 'b', 'web', 'b1')], policies=policies, events=events, now=NOW * S)
    return docker, _run(docker, _Store(docs or {}), check_mode)


def test_a_quiet_window_inspects_nothing_and_costs_one_request():
    docker, run = _policy_ctx(events=[_event('create', 'a1'), _event('die', 'a2')])
    inventory = run.inventory('a', checked())
    assert _event_calls(docker) == [((NOW - 60) * S, NOW * S - policy_drift.WINDOW_MARGIN)] and _inspected(docker) == []
    assert all(c.actual_policy is None for c in inventory.containers())
    assert inventory.checked_until == NOW * S - policy_drift.WINDOW_MARGIN and not inventory.inspected


@pytest.mark.parametrize('action', ['update', 'start'])
def test_containers_updated_or_started_since_the_last_check_are_inspected(action):
    docker, run = _policy_ctx(events=[_event(action, 'a2'), _event('update', 'b1'), _event('update', 'a1', 120)],
                              policies={'a2': 'always'})
    inventory = run.inventory('a', checked())
    assert _inspected(docker) == ['a2'], 'only a2 changed in the window; b1 is another app, a1 before the window'
    assert dict((c.id, c.actual_policy) for c in inventory.containers()) == {'a1': None, 'a2': 'always'}
    assert inventory.inspected and run.policies.records(inventory)
    app = app_document(name='a', formation={'web': 2}, processes=None, applied_policies={})
    plan = planner.plan_policy(app, 'on-failure:10', inventory)
    assert [(a.kind, a.name) for a in plan.actions] == [(planner.UPDATE_POLICY, 'a.web.2')]


def test_never_checked_or_a_full_event_window_inspects_every_container():
    docker, run = _policy_ctx()
    run.inventory('a', app_document(name='a', without=['policy_window']))
    assert sorted(_inspected(docker)) == ['a1', 'a2'] and _event_calls(docker) == [], 'no window to read'
    full = [_event('exec_start', 'x', seconds_ago=5) for _i in range(256)]
    docker, run = _policy_ctx(events=full)
    run.inventory('a', checked())
    assert sorted(_inspected(docker)) == ['a1', 'a2'], 'the daemon may have dropped events since the last check'


def test_a_full_window_that_reaches_back_past_since_is_complete():
    events = [_event('exec_start', 'x', seconds_ago=100)] + [_event('exec_start', 'x', 5) for _i in range(255)]
    docker, run = _policy_ctx(events=events)
    run.policies.events_since((NOW - 200) * S)
    run.inventory('a', checked())
    assert _inspected(docker) == [] and len(_event_calls(docker)) == 1, 'the window of the run serves a later since'


def test_a_run_over_many_apps_reads_the_events_once_and_inspects_each_container_once():
    later = {'since': (NOW - 30) * S, 'caused': {}, 'caused_before': (NOW - 30) * S}
    docs = {'a': checked('a'), 'b': app_document(name='b', policy_window=later)}
    docker, run = _policy_ctx(events=[_event('update', 'a1'), _event('update', 'b1')], docs=docs)
    run.prefetch(['a', 'b', 'undeployed'])
    assert _event_calls(docker) == [((NOW - 60) * S, NOW * S - policy_drift.WINDOW_MARGIN)]
    make_plan, _seen = _planner_wanting(2)
    run.plan('a', make_plan, docs['a'])
    make_plan, _seen = _planner_wanting(1)
    run.plan('b', make_plan, docs['b'])
    assert len(_event_calls(docker)) == 1
    assert sorted(_inspected(docker)) == ['a1', 'b1'], 'inspected once each, though their apps were listed again'
    assert _lists(docker) == [specs.ANY_APP_NAME_FILTER, specs.name_filter('a'), specs.name_filter('b')], \
        'an app with inspected containers records it: listed exactly under its lock'


def test_check_mode_inspects_but_records_nothing():
    docker, run = _policy_ctx(events=[_event('update', 'a1')], check_mode=True)
    run.prefetch(['a'])
    make_plan, _seen = _planner_wanting(2)
    run.plan('a', make_plan, checked())
    assert _inspected(docker) == ['a1'] and not run.policies.records(run.inventory('a', checked()))


def _window(caused, caused_before=(NOW - 40) * S):
    """The document of app a: its policies known a minute ago, and the events the last run caused before then."""
    return app_document(name='a', policy_window={'since': (NOW - 60) * S, 'caused': caused,
                                                 'caused_before': caused_before})


def test_the_events_the_last_run_caused_itself_are_expected():
    events = [_event('update', 'a1', 50), _event('start', 'a1', 50), _event('start', 'a2', 45)]
    docker, run = _policy_ctx(events=events)
    run.inventory('a', _window({'a1': 2, 'a2': 1}))
    assert _inspected(docker) == []


def test_one_event_more_than_the_last_run_caused_or_one_after_it_is_suspect():
    events = [_event('update', 'a1', 50), _event('update', 'a1', 50), _event('start', 'a2', 45),
              _event('start', 'a2', 30)]
    docker, run = _policy_ctx(events=events)
    run.inventory('a', _window({'a1': 1, 'a2': 1}))
    assert sorted(_inspected(docker)) == ['a1', 'a2'], 'a1: one update more; a2: a start after the last run ended'


def test_missing_events_of_the_last_run_mean_the_daemon_lost_events():
    """After a daemon restart its events are gone: the last run's own events are missing, and a start of the
    daemon's own would otherwise pass for one of them."""
    docker, run = _policy_ctx(events=[_event('start', 'a1', 50)])
    run.inventory('a', _window({'a1': 1, 'a2': 1}))
    assert sorted(_inspected(docker)) == ['a1', 'a2']


@pytest.mark.parametrize('check_mode', [False, True])
def test_the_proxy_of_an_app_left_alone_follows_its_running_web_containers(tmp_path, check_mode):
    """Work planned from no inventory (_scheduler.nothing, as dokku_ps_certs commits) lists the app's containers for
    its config, in check mode too: a prediction from no list would take the running web containers for gone."""
    web = summary('w1', 'shop.web.1', labels={specs.LABEL_APP: 'shop'}, NetworkSettings={'Networks': {
        specs.PROXY_NETWORK: {'IPAddress': '172.16.240.7'}}})
    docker = FakeDocker(containers=[web])
    proxy = ProxyRun(options.proxy_options({'nginx_include_dir': str(tmp_path)}), check_mode=check_mode)
    ctx = context.Context(docker, None, proxy, check_mode=check_mode)
    doc = app_document(name='shop', web_port=5000, proxy={'enabled': True, 'ports': ['http:80:5000'], 'domains': [],
                                                          'wait_to_retire': None, 'tls': None})
    ctx.scheduler(doc).sync_proxy(doc, scheduler.nothing())
    assert _lists(docker) == [specs.name_filter('shop')]
    assert '172.16.240.7:5000' in proxy._pending['shop']  # pylint: disable=protected-access
