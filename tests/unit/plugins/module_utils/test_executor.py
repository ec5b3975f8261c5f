# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of executor.py against a recording fake of the ``Docker`` wrapper (no daemon)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading
import time

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _concurrency as concurrency
from ansible_collections.dokku_ps.docker.plugins.module_utils import _executor as executor_mod
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError, DockerUnavailable
from ansible_collections.dokku_ps.docker.plugins.module_utils._executor import ExecutionError, Executor
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from tests.unit.fake_docker import FakeDocker
from tests.unit.helpers import IMAGE_ID, app_document

APP = 'demo'
POLICY = 'on-failure:10'
STOP_TIMEOUT = 17
UPCOMING_RE = re.compile(r'^demo\.(?P<type>[a-z0-9-]+)\.(?P<index>[0-9]+)\.upcoming-[0-9a-f]+$')


# ---------------------------------------------------------------- what the fake Docker recorded

def touching(docker, cid):
    """The calls on one container: (method, argument)."""
    return [(call.method, call.arg) for call in docker.calls if call.container_id == cid]


def methods(docker):
    """Every call: (method, container name)."""
    return [(call.method, call.name) for call in docker.calls]


# ---------------------------------------------------------------- plan helpers

DOC = app_document(name=APP, processes=None, env={'SECRET': 'value'}, formation={})


def spec(ptype='web', index=1, policy=POLICY):
    return specs.build_spec(DOC, policy, ptype, index)


def existing(ptype='web', index=1, state='running', cid=None):
    name = specs.container_name(APP, ptype, index)
    labels = dict(spec(ptype, index)['labels'])
    raw = {'Id': cid or 'old-%s-%d' % (ptype, index), 'Names': ['/' + name], 'Labels': labels, 'State': state,
           'Status': '', 'ImageID': IMAGE_ID, 'Ports': []}
    return planner.Container(raw, APP)


def create(ptype='web', index=1):
    s = spec(ptype, index)
    return planner.Action(planner.CREATE, s['name'], ptype, index, spec=s, reason='missing')


def start(ptype='web', index=1, policy=POLICY):
    container = existing(ptype, index, state='exited')
    return planner.Action(planner.START, container.name, ptype, index, spec=spec(ptype, index, policy),
                          container=container)


def remove(ptype='web', index=1, state='running'):
    container = existing(ptype, index, state=state)
    return planner.Action(planner.REMOVE, container.name, ptype, index, container=container)


def replace(ptype='web', index=1, state='running'):
    container = existing(ptype, index, state=state)
    return planner.Action(planner.REPLACE, container.name, ptype, index, spec=spec(ptype, index),
                          container=container)


def cleanup(ptype='web', index=1):
    name = specs.upcoming_name(APP, ptype, index)
    raw = {'Id': 'leftover-%s-%d' % (ptype, index), 'Names': ['/' + name], 'Labels': dict(spec(ptype, index)['labels']),
           'State': 'created'}
    container = planner.Container(raw, APP)
    return planner.Action(planner.CLEANUP, name, ptype, index, container=container)


def plan_of(*phases):
    plan = planner.Plan()
    plan.phases = [list(phase) for phase in phases]
    return plan


def run(docker, *phases, **kwargs):
    kwargs.setdefault('workers', 4)
    return Executor(docker, STOP_TIMEOUT, **kwargs).run(plan_of(*phases))


# ---------------------------------------------------------------- single actions

def test_create_is_create_then_start():
    docker = FakeDocker()
    action = create()
    done = run(docker, [action])
    assert len(done) == 1 and done[0][0] is action
    new_id = done[0][1]
    assert docker.calls == [('create_container', None, 'demo.web.1', action.spec),
                            ('start', new_id, 'demo.web.1', None)]


def test_create_with_failing_start_removes_the_new_container():
    docker = FakeDocker(fail=[('start', 'demo.web.1')])
    with pytest.raises(ExecutionError) as info:
        run(docker, [create()])
    new_id = [cid for cid, name in docker.names.items() if name == 'demo.web.1'][0]
    assert methods(docker) == [('create_container', 'demo.web.1'), ('start', 'demo.web.1'), ('remove', 'demo.web.1')]
    assert touching(docker, new_id) == [('start', None), ('remove', True)]
    message = str(info.value)
    assert message.startswith('1 of 1 container action(s) failed: ')
    assert 'start container demo.web.1: boom' in message
    assert [a.name for a, _exc in info.value.details['failures']] == ['demo.web.1']


def test_create_failing_creates_nothing_else():
    docker = FakeDocker(fail=[('create_container', 'demo.web.1')])
    with pytest.raises(ExecutionError):
        run(docker, [create()])
    assert methods(docker) == [('create_container', 'demo.web.1')]


def test_start_sets_the_computed_policy_then_starts():
    docker = FakeDocker()
    action = start(policy='always')
    done = run(docker, [action])
    assert done == [(action, 'old-web-1')]
    assert docker.calls == [('update_restart_policy', 'old-web-1', 'demo.web.1', 'always'),
                            ('start', 'old-web-1', 'demo.web.1', None)]


@pytest.mark.parametrize('state', ['running', 'restarting'])
def test_remove_running_container_policy_no_then_stop_then_remove(state):
    docker = FakeDocker()
    action = remove(state=state)
    assert run(docker, [action]) == [(action, 'old-web-1')]
    assert docker.calls == [('update_restart_policy', 'old-web-1', 'demo.web.1', 'no'),
                            ('stop', 'old-web-1', 'demo.web.1', STOP_TIMEOUT),
                            ('remove', 'old-web-1', 'demo.web.1', True)]


def test_a_container_between_two_restarts_is_stopped_before_its_policy_is_set():
    """Docker refuses the update of a container it is restarting, between two runs of its process: it is stopped
    first (a stop ends its restarts), then it gets 'no', then it goes."""
    docker = FakeDocker(fail=[('update_restart_policy', 'demo.web.1', 'Cannot update container 47: cannot update a '
                               'stopped container: unknown', 1)])
    action = remove(state='restarting')
    assert run(docker, [action]) == [(action, 'old-web-1')]
    assert docker.calls == [('update_restart_policy', 'old-web-1', 'demo.web.1', 'no'),
                            ('stop', 'old-web-1', 'demo.web.1', STOP_TIMEOUT),
                            ('update_restart_policy', 'old-web-1', 'demo.web.1', 'no'),
                            ('remove', 'old-web-1', 'demo.web.1', True)]
    other = FakeDocker(fail=[('update_restart_policy', 'demo.web.1', 'No such container', 1)])
    with pytest.raises(ExecutionError, match='No such container'):
        run(other, [remove()])
    assert [call.method for call in other.calls] == ['update_restart_policy'], 'any other refusal stops the action'


@pytest.mark.parametrize('state', ['exited', 'created', 'dead'])
def test_remove_stopped_container_just_removes(state):
    docker = FakeDocker()
    run(docker, [remove(state=state)])
    assert docker.calls == [('remove', 'old-web-1', 'demo.web.1', True)]


def test_remove_stop_failure_keeps_the_container():
    docker = FakeDocker(fail=[('stop', 'demo.web.1')])
    with pytest.raises(ExecutionError):
        run(docker, [remove()])
    assert methods(docker) == [('update_restart_policy', 'demo.web.1'), ('stop', 'demo.web.1')]


def test_cleanup_removes_the_leftover():
    docker = FakeDocker()
    action = cleanup()
    run(docker, [action])
    assert docker.calls == [('remove', 'leftover-web-1', action.name, True)]


def _new_id(docker):
    return [call.container_id for call in docker.calls
            if call.method == 'start' and call.container_id in docker.created][0]


def test_replace_new_container_up_and_checked_before_the_old_one_is_touched():
    docker = FakeDocker()
    action = replace()
    done = run(docker, [action])
    new_id = _new_id(docker)
    assert done == [(action, new_id)]
    method, cid, temporary, created_spec = docker.calls[0]
    assert (method, cid) == ('create_container', None)
    assert created_spec is action.spec
    match = UPCOMING_RE.match(temporary)
    assert match and match.group('type') == 'web' and match.group('index') == '1'
    assert docker.calls[1:] == [
        ('start', new_id, temporary, None),
        ('inspect_container', new_id, temporary, None),
        ('update_restart_policy', 'old-web-1', 'demo.web.1', 'no'),
        ('stop', 'old-web-1', 'demo.web.1', STOP_TIMEOUT),
        ('remove', 'old-web-1', 'demo.web.1', True),
        ('rename', new_id, 'demo.web.1', None),
    ]


def test_replace_uses_a_fresh_temporary_name_each_time():
    docker = FakeDocker()
    run(docker, [replace()])
    run(docker, [replace()])
    created = [name for method, _cid, name, _arg in docker.calls if method == 'create_container']
    assert len(created) == 2 and created[0] != created[1]


@pytest.mark.parametrize('fake', [
    dict(down=['demo.web.1.upcoming-*']),
    dict(fail=[('start', 'demo.web.1.upcoming-*')]),
    dict(fail=[('inspect_container', 'demo.web.1.upcoming-*')]),
])
def test_replace_failing_check_retires_the_new_container_and_keeps_the_old(fake):
    docker = FakeDocker(**fake)
    with pytest.raises(ExecutionError) as info:
        run(docker, [replace()])
    assert touching(docker, 'old-web-1') == [], 'the old container is never touched'
    new_id = [cid for cid, name in docker.names.items() if name.startswith('demo.web.1.upcoming-')][0]
    touched = touching(docker, new_id)
    assert touched[-3:] == [('update_restart_policy', 'no'), ('stop', STOP_TIMEOUT), ('remove', True)]
    assert not any(method == 'rename' for method, _n in methods(docker))
    assert str(info.value).startswith('1 of 1 container action(s) failed: ')
    assert 'demo.web.1' in str(info.value)
    assert [(a.kind, a.name) for a, _exc in info.value.details['failures']] == [(planner.REPLACE, 'demo.web.1')]
    if 'down' in fake:
        assert 'did not stay up after start' in str(info.value)
        assert 'exit code 3' in str(info.value)


def test_replace_with_a_custom_check():
    seen = []

    def check(docker, container_id, spec):
        seen.append((container_id, spec['name']))
        raise DockerUnavailable('web check failed')

    docker = FakeDocker()
    with pytest.raises(ExecutionError) as info:
        Executor(docker, STOP_TIMEOUT, check=check, workers=2).run(plan_of([replace()]))
    new_id = _new_id(docker)
    assert seen == [(new_id, 'demo.web.1')]
    assert touching(docker, 'old-web-1') == []
    assert 'web check failed' in str(info.value)


def test_replace_old_container_stop_failure_leaves_new_one_unrenamed():
    docker = FakeDocker(fail=[('stop', 'demo.web.1')])
    with pytest.raises(ExecutionError):
        run(docker, [replace()])
    assert not any(method == 'rename' for method, _n in methods(docker))


# ---------------------------------------------------------------- plans, phases and failures

def test_phases_run_in_order_and_return_what_was_done():
    docker = FakeDocker()
    web1, web2, worker = create('web', 1), create('web', 2), create('worker', 1)
    done = run(docker, [web1, web2], [worker])
    assert [a for a, _cid in done] == [web1, web2, worker]
    names = [name for method, name in methods(docker)]
    assert names.index('demo.worker.1') > max(names.index('demo.web.1'), names.index('demo.web.2'))
    assert [m for m, n in methods(docker) if n == 'demo.worker.1'] == ['create_container', 'start']


def test_empty_plan_does_nothing():
    docker = FakeDocker()
    assert Executor(docker, STOP_TIMEOUT).run(planner.Plan()) == []
    assert docker.calls == []


def test_failure_in_a_phase_stops_later_phases():
    docker = FakeDocker(fail=[('create_container', 'demo.web.1')])
    web1, web2, worker = create('web', 1), create('web', 2), create('worker', 1)
    with pytest.raises(ExecutionError) as info:
        run(docker, [web1, web2], [worker])
    assert 'demo.worker.1' not in [name for _m, name in methods(docker)]
    # the other action of the failed phase still ran to the end
    assert [m for m, n in methods(docker) if n == 'demo.web.2'] == ['create_container', 'start']
    error = info.value
    assert str(error).startswith('1 of 2 container action(s) failed: ')
    assert 'create container demo.web.1: boom' in str(error)
    assert [a for a, _cid in error.details['done']] == [web2]
    assert [a for a, _exc in error.details['failures']] == [web1]
    assert isinstance(error.details['failures'][0][1], DockerError)
    assert '\n' not in str(error)


def test_every_failure_of_a_phase_is_listed():
    docker = FakeDocker(fail=[('create_container', 'demo.web.1'), ('stop', 'demo.web.3')])
    with pytest.raises(ExecutionError) as info:
        run(docker, [create('web', 1), create('web', 2), remove('web', 3)])
    message = str(info.value)
    assert message.startswith('2 of 3 container action(s) failed: ')
    assert 'create container demo.web.1: boom' in message and 'stop container demo.web.3: boom' in message
    assert 'demo.web.2' not in message
    failed = [(a.kind, a.name) for a, _exc in info.value.details['failures']]
    assert failed == [(planner.CREATE, 'demo.web.1'), (planner.REMOVE, 'demo.web.3')]
    assert '\n' not in message


def test_failure_in_a_later_phase_reports_earlier_work_as_done():
    docker = FakeDocker(fail=[('start', 'demo.worker.1')])
    web = create('web', 1)
    with pytest.raises(ExecutionError) as info:
        run(docker, [web], [create('worker', 1)])
    assert [a for a, _cid in info.value.details['done']] == [web]


def test_sequential_with_one_worker_also_collects_all_failures():
    docker = FakeDocker(fail=[('create_container', 'demo.web.*')])
    with pytest.raises(ExecutionError) as info:
        run(docker, [create('web', 1), create('web', 2)], [create('worker', 1)], workers=1)
    assert str(info.value).startswith('2 of 2 container action(s) failed')
    assert methods(docker) == [('create_container', 'demo.web.1'), ('create_container', 'demo.web.2')]


# ---------------------------------------------------------------- concurrency

@pytest.mark.parametrize('workers', [1, 2, 3, 8])
def test_concurrency_is_bounded_by_workers(workers):
    docker = FakeDocker(delay=0.005)
    actions = [create('web', i) for i in range(1, 13)]
    done = run(docker, actions, workers=workers)
    assert len(done) == 12
    assert docker.max_in_flight <= workers
    if workers > 1:
        assert docker.max_in_flight >= 2, 'independent actions of a phase run concurrently'
    # each action's own calls stay in order
    for i in range(1, 13):
        assert [m for m, n in methods(docker) if n == 'demo.web.%d' % i] == ['create_container', 'start']


def test_concurrency_mixed_actions_keep_their_own_order():
    docker = FakeDocker(delay=0.002)
    actions = [replace('web', i) for i in range(1, 6)] + [remove('web', i) for i in range(6, 9)]
    run(docker, actions, workers=4)
    assert docker.max_in_flight <= 4
    for i in range(1, 6):
        old = 'old-web-%d' % i
        new_id = [cid for cid, name in docker.names.items() if name == 'demo.web.%d' % i][0]
        order = [(m, c) for m, c, _n, _a in docker.calls if c in (old, new_id)]
        assert order == [('start', new_id), ('inspect_container', new_id), ('update_restart_policy', old),
                         ('stop', old), ('remove', old), ('rename', new_id)]


def test_default_workers_from_the_environment(monkeypatch):
    monkeypatch.delenv('DOKKU_PS_MAX_WORKERS', raising=False)
    assert concurrency.max_workers() == 8
    assert Executor(FakeDocker(), 1).workers == 8
    monkeypatch.setenv('DOKKU_PS_MAX_WORKERS', '3')
    assert concurrency.max_workers() == 3
    assert Executor(FakeDocker(), 1).workers == 3
    assert Executor(FakeDocker(), 1, workers=5).workers == 5
    monkeypatch.setenv('DOKKU_PS_MAX_WORKERS', 'many')
    assert concurrency.max_workers() == 8
    monkeypatch.setenv('DOKKU_PS_MAX_WORKERS', '0')
    assert concurrency.max_workers() == 1
    monkeypatch.setenv('DOKKU_PS_MAX_WORKERS', '-4')
    assert concurrency.max_workers() == 1


def test_env_bound_applies_to_a_run(monkeypatch):
    monkeypatch.setenv('DOKKU_PS_MAX_WORKERS', '2')
    docker = FakeDocker(delay=0.005)
    Executor(docker, STOP_TIMEOUT).run(plan_of([create('web', i) for i in range(1, 7)]))
    assert 2 >= docker.max_in_flight >= 1


# ---------------------------------------------------------------- the run's shared ActionPool and for_each

def test_shared_pool_bounds_the_actions_of_many_executors_together():
    """Apps worked on at once share one bound: 6 apps x 3 containers, pool of 4 -> never more than 4 requests in
    flight, and the free slots of an app that waits for its slowest start go to the others (all 18 are done)."""
    docker = FakeDocker(delay=0.01)
    pool = concurrency.ActionPool(workers=4)
    try:
        def one_app(app_index):
            plan = plan_of([create('t%d' % app_index, i) for i in range(1, 4)])
            return Executor(docker, STOP_TIMEOUT, workers=1, pool=pool).run(plan)
        results = concurrency.for_each(one_app, range(6), 6)
    finally:
        pool.close()
    assert [len(done) for done in results] == [3] * 6
    assert docker.max_in_flight == 4
    assert len([m for m, _n in methods(docker) if m == 'start']) == 18


def test_shared_pool_keeps_phases_in_order_and_stops_an_app_at_its_failing_phase():
    docker = FakeDocker(fail=[('create_container', 'demo.web.2')])
    pool = concurrency.ActionPool(workers=3)
    try:
        with pytest.raises(ExecutionError) as info:
            Executor(docker, STOP_TIMEOUT, pool=pool).run(
                plan_of([create('web', 1), create('web', 2)], [create('worker', 1)]))
        done = Executor(docker, STOP_TIMEOUT, pool=pool).run(plan_of([create('clock', 1)], [create('clock', 2)]))
    finally:
        pool.close()
    assert '1 of 2 container action(s) failed' in str(info.value)
    assert [a.name for a, _cid in info.value.details['done']] == ['demo.web.1']
    assert not [n for _m, n in methods(docker) if n == 'demo.worker.1']
    assert [a.name for a, _cid in done] == ['demo.clock.1', 'demo.clock.2']
    names = [n for m, n in methods(docker) if m == 'create_container']
    assert names.index('demo.clock.1') < names.index('demo.clock.2')


# ---------------------------------------------------------------- running_check

def _inspecting(data):
    """A Docker whose container x inspects as ``data``."""
    docker = FakeDocker()
    docker.inspect_data['x'] = data
    return docker


def test_running_check_accepts_a_running_container():
    executor_mod.running_check(_inspecting({'State': {'Running': True, 'Restarting': False}}), 'x', spec())


@pytest.mark.parametrize('data, text', [
    ({'State': {'Running': False, 'Status': 'exited', 'ExitCode': 1}}, 'status exited, exit code 1'),
    ({'State': {'Running': True, 'Restarting': True, 'Status': 'restarting', 'ExitCode': 2}}, 'status restarting'),
    (None, 'status missing'),
    ({}, 'status missing'),
])
def test_running_check_refuses(data, text):
    with pytest.raises(DockerError) as info:
        executor_mod.running_check(_inspecting(data), 'x', spec())
    assert 'demo.web.1 did not stay up after start' in str(info.value)
    assert text in str(info.value)


# ---------------------------------------------------------------- waits give their slot away (ActionPool.idle)

def test_check_waits_do_not_hold_a_slot_of_the_shared_pool():
    """16 replacements whose check waits 0.3 s, on a pool of 4 slots: the waits overlap (well under the 1.2 s of
    four rounds of 4), while the Docker requests themselves never exceed the 4 slots."""
    docker = FakeDocker(delay=0.002)
    pool = concurrency.ActionPool(workers=4)
    waiting = {'now': 0, 'max': 0}
    lock = threading.Lock()

    def check(docker_, container_id, spec_):
        with pool.idle():
            with lock:
                waiting['now'] += 1
                waiting['max'] = max(waiting['max'], waiting['now'])
            time.sleep(0.3)
            with lock:
                waiting['now'] -= 1

    started = time.monotonic()
    try:
        done = Executor(docker, STOP_TIMEOUT, check=check, pool=pool).run(
            plan_of([replace('web', i) for i in range(1, 17)]))
    finally:
        pool.close()
    elapsed = time.monotonic() - started
    assert len(done) == 16
    assert docker.max_in_flight <= 4
    assert waiting['max'] > 4, 'the waits overlapped beyond the slots'
    assert elapsed < 1.0, elapsed


# ---------------------------------------------------------------- containers in every state Docker reports

def test_start_of_a_paused_container_unpauses_it():
    docker = FakeDocker()
    container = existing(state='paused')
    action = planner.Action(planner.START, container.name, 'web', 1, spec=spec(), container=container)
    run(docker, [action])
    assert touching(docker, container.id) == [('update_restart_policy', POLICY), ('unpause', None)]


@pytest.mark.parametrize('kind', [planner.STOP, planner.REMOVE])
def test_a_paused_container_is_unpaused_before_its_stop(kind):
    """Frozen, it would not get the stop signal and only die at the stop timeout."""
    docker = FakeDocker()
    container = existing(state='paused')
    run(docker, [planner.Action(kind, container.name, 'web', 1, container=container)])
    expected = [('update_restart_policy', 'no'), ('unpause', None), ('stop', STOP_TIMEOUT)]
    assert touching(docker, container.id) == expected + ([('remove', True)] if kind == planner.REMOVE else [])


def test_replacing_a_paused_container_unpauses_it_before_its_stop():
    docker = FakeDocker()
    action = replace(state='paused')
    run(docker, [action])
    assert touching(docker, action.container.id) == [('update_restart_policy', 'no'), ('unpause', None),
                                                     ('stop', STOP_TIMEOUT), ('remove', True)]


def test_a_dead_container_is_removed_and_created_anew():
    docker = FakeDocker()
    container = existing(state='dead')
    action = planner.Action(planner.RECREATE, container.name, 'web', 1, spec=spec(), container=container)
    done = run(docker, [action])
    assert methods(docker) == [('remove', 'demo.web.1'), ('create_container', 'demo.web.1'), ('start', 'demo.web.1')]
    assert touching(docker, container.id) == [('remove', True)]
    assert done[0][0] is action and done[0][1] != container.id


def test_a_container_being_removed_is_waited_for_before_its_name_is_taken_again():
    docker = FakeDocker()
    container = existing(state='removing')
    action = planner.Action(planner.CREATE, container.name, 'web', 1, spec=spec(), container=container)
    run(docker, [action])
    assert methods(docker)[:2] == [('wait_removed', 'demo.web.1'), ('remove', 'demo.web.1')]
    assert methods(docker)[2:] == [('create_container', 'demo.web.1'), ('start', 'demo.web.1')]


@pytest.mark.parametrize('state, expected', [
    ('removing', [('wait_removed', None), ('remove', True)]),   # a removal that failed left it dead
    ('dead', [('remove', True)]),
    ('exited', [('remove', True)]),
    ('created', [('remove', True)]),
    ('restarting', [('update_restart_policy', 'no'), ('stop', STOP_TIMEOUT), ('remove', True)]),
])
def test_removal_of_each_state(state, expected):
    docker = FakeDocker()
    action = remove(state=state)
    run(docker, [action])
    assert touching(docker, action.container.id) == expected


# ---------------------------------------------------------------- web behind the proxy

class FakeProxy(object):
    """The executor's view of the proxy (an AppProxy): addresses, and the switch in the middle of a web phase."""

    def __init__(self, docker, taken=0, switch_fails=False):
        self.docker = docker
        self.wait = 7
        self.switches = []
        self.handed = []
        self.taken = taken
        self.switch_fails = switch_fails

    def address(self, refresh=False):
        self.handed.append('10.0.0.%d%s' % (len(self.handed) + 2, ' (refreshed)' if refresh else ''))
        return self.handed[-1]

    def switch(self, exclude):
        # what had happened when the proxy switched
        self.switches.append((sorted(exclude), methods(self.docker)))
        if self.switch_fails:
            raise DockerError('nginx: [emerg] broken')
        return True


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(executor_mod.time, 'sleep', slept.append)
    return slept


def test_a_proxied_web_rollout_switches_once_between_the_new_and_the_old(sleeps):
    docker = FakeDocker()
    proxy = FakeProxy(docker)
    done = run(docker, [replace('web', 1), replace('web', 2)], proxy=proxy)
    assert len(proxy.switches) == 1
    excluded, before = proxy.switches[0]
    assert excluded == ['old-web-1', 'old-web-2'], 'the old containers leave the upstream'
    assert [m for m, _n in before].count('start') == 2 and [m for m, _n in before].count('inspect_container') >= 2
    assert not any(m in ('stop', 'remove', 'rename') for m, _n in before), 'nothing old stopped before the switch'
    assert sleeps == [7], 'the old containers drain for wait_to_retire seconds after the switch'
    after = methods(docker)[len(before):]
    assert sorted(name for m, name in after if m == 'rename') == ['demo.web.1', 'demo.web.2']
    assert [m for m, _n in after].count('remove') == 2
    assert sorted(a.name for a, _id in done) == ['demo.web.1', 'demo.web.2']


def test_a_proxied_scale_down_and_stop_leave_the_upstream_before_they_stop(sleeps):
    docker = FakeDocker()
    proxy = FakeProxy(docker)
    run(docker, [remove('web', 3), create('web', 4)], proxy=proxy)
    excluded, before = proxy.switches[0]
    assert excluded == ['old-web-3'] and ('create_container', 'demo.web.4') in before
    assert not any(m in ('stop', 'remove') for m, _n in before)
    assert ('remove', 'demo.web.3') in methods(docker)[len(before):] and sleeps == [7]


def test_a_failure_before_the_switch_keeps_the_proxy_and_the_old_containers(sleeps):
    docker = FakeDocker(fail=[('start', 'demo.web.2.upcoming-*')])
    proxy = FakeProxy(docker)
    with pytest.raises(ExecutionError):
        run(docker, [replace('web', 1), replace('web', 2)], proxy=proxy)
    assert proxy.switches == [] and sleeps == []
    assert touching(docker, 'old-web-1') == [] and touching(docker, 'old-web-2') == []
    # the replacement that came up is retired again: it never served
    new = [cid for cid, name in docker.names.items() if name.startswith('demo.web.1.upcoming-')]
    assert touching(docker, new[0])[-1] == ('remove', True)
    assert not any(m == 'rename' for m, _n in methods(docker))


def test_a_switch_that_fails_retires_what_came_up(sleeps):
    docker = FakeDocker()
    proxy = FakeProxy(docker, switch_fails=True)
    with pytest.raises(ExecutionError) as info:
        run(docker, [replace('web', 1)], proxy=proxy)
    assert 'nginx' in str(info.value) and touching(docker, 'old-web-1') == [] and sleeps == []
    assert not any(m == 'rename' for m, _n in methods(docker))


def test_proxied_web_containers_get_an_address_and_another_when_it_was_taken(sleeps):
    proxied = dict(DOC, proxy={'enabled': True})
    # the first start is refused as Docker refuses an address another container holds
    docker = FakeDocker(fail=[('start', '*', '403 Client Error: Forbidden ("Address already in use")', 1)])
    addresses = []

    def create_container(spec, name, address=None):
        addresses.append(address)
        return FakeDocker.create_container(docker, spec, name, address)

    docker.create_container = create_container
    proxy = FakeProxy(docker)
    web = specs.build_spec(proxied, POLICY, 'web', 1)
    assert web['network'] == 'dokku-ps'
    run(docker, [planner.Action(planner.CREATE, web['name'], 'web', 1, spec=web)], proxy=proxy)
    assert addresses == ['10.0.0.2', '10.0.0.3 (refreshed)']
    assert proxy.switches == [], 'a scale up joins the upstream at the end of the run, not in a switch'


def test_workers_and_unproxied_web_run_as_before(sleeps):
    docker = FakeDocker()
    run(docker, [replace('worker', 1)], proxy=FakeProxy(docker))
    plain = FakeDocker()
    run(plain, [replace('web', 1)])
    assert sleeps == [] and [m for m, _n in methods(docker)] == [m for m, _n in methods(plain)]
