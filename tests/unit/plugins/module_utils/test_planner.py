# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of planner.py, on fake container summaries shaped like the Docker list API returns them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _names as names
from ansible_collections.dokku_ps.docker.plugins.module_utils import _formation as formations
from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ConflictError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from tests.unit.helpers import IMAGE_ID, OTHER_IMAGE_ID, app_document

APP = 'demo'
POLICY = 'on-failure:10'
_ids = itertools.count(1)


# ---------------------------------------------------------------- helpers

def app_doc(formation, processes=None, env=None, **changes):
    """The document of app demo (APP) with a copy of ``formation``; unless told, it runs the image's own command
    (no processes) without env values."""
    return app_document(formation=dict(formation), processes=processes, env=dict(env or {}), **changes)


PROCS = {'web': 'server --port $PORT', 'worker': 'work', 'clock': 'tick'}


def summary(name, labels=None, state='running', cid=None):
    """A container as GET /containers/json returns it."""
    cid = cid or ('%064x' % next(_ids))
    return {
        'Id': cid,
        'Names': ['/' + name],
        'Image': 'demo:latest',
        'ImageID': IMAGE_ID,
        'Command': 'server',
        'Created': 1700000000,
        'Labels': labels,
        'State': state,
        'Status': 'Up 2 minutes' if state == 'running' else 'Exited (0) 1 minute ago',
        'Ports': [],
    }


def from_spec(spec, state='running', name=None):
    return summary(name or spec['name'], dict(spec['labels']), state=state)


def ours(doc, ptype, index, state='running', policy=POLICY):
    """One of our containers, matching the desired spec of ``doc``."""
    return from_spec(specs.build_spec(doc, policy, ptype, index), state=state)


def stale(doc, ptype, index, state='running'):
    """One of our containers, created from an older spec (different hash)."""
    labels = dict(specs.build_spec(doc, POLICY, ptype, index)['labels'])
    labels[specs.LABEL_SPEC_HASH] = '0' * 64
    return summary(specs.container_name(doc['name'], ptype, index), labels, state=state)


def upcoming(doc, ptype, index, state='created'):
    spec = specs.build_spec(doc, POLICY, ptype, index)
    return from_spec(spec, state=state, name=specs.upcoming_name(doc['name'], ptype, index))


def foreign(name, labels=None, state='running'):
    return summary(name, labels, state=state)


def inventory(*summaries):
    return planner.Inventory(APP, list(summaries))


def kinds(plan):
    return [(action.kind, action.name) for action in plan.actions]


def phase_kinds(plan):
    return [[(action.kind, action.name) for action in phase] for phase in plan.phases]


# ---------------------------------------------------------------- Container / Inventory

def test_container_reads_a_summary():
    doc = app_doc({'web': 1})
    raw = ours(doc, 'web', 1)
    container = planner.Container(raw, APP)
    assert container.id == raw['Id']
    assert container.name == 'demo.web.1'
    assert (container.process_type, container.index, container.upcoming) == ('web', 1, False)
    assert container.ours and container.running
    assert container.dyno == 'web.1'
    assert container.spec_hash == specs.build_spec(doc, POLICY, 'web', 1)['hash']


@pytest.mark.parametrize('state, running', [('running', True), ('restarting', True), ('exited', False),
                                            ('created', False), ('paused', False), ('dead', False)])
def test_container_running_states(state, running):
    assert planner.Container(ours(app_doc({}), 'web', 1, state=state), APP).running is running


def test_container_ownership():
    doc = app_doc({})
    assert not planner.Container(foreign('demo.web.1'), APP).ours
    assert not planner.Container(foreign('demo.web.1', {}), APP).ours
    assert not planner.Container(foreign('demo.web.1', {specs.LABEL_APP: 'other'}), APP).ours
    # our app label, but the process-type label disagrees with the name
    labels = dict(ours(doc, 'worker', 1)['Labels'])
    assert not planner.Container(foreign('demo.web.1', labels), APP).ours
    # our labels on a name that is not one of ours
    assert not planner.Container(foreign('demo.web.x', dict(labels)), APP).ours
    assert planner.Container(foreign('demo.web.1', {specs.LABEL_APP: APP}), APP).ours
    summary_without_names = {'Id': 'x', 'Labels': None, 'State': 'running'}
    assert not planner.Container(summary_without_names, APP).ours


def test_inventory_sorts_containers():
    doc = app_doc({'web': 2})
    leftover = upcoming(doc, 'web', 1)
    items = [ours(doc, 'web', 2), ours(doc, 'web', 1), ours(doc, 'worker', 1), leftover,
             foreign('demo.web.3'), foreign('demo.clock.1', {specs.LABEL_APP: 'x'}),
             foreign('demo.web.1.upcoming-abc'), foreign('unrelated'), foreign('demo.Bad.1')]
    inv = inventory(*items)
    assert sorted(inv.by_dyno) == [('web', 1), ('web', 2), ('worker', 1)]
    assert [c.name for c in inv.upcoming] == [leftover['Names'][0][1:]]
    assert sorted(inv.foreign) == [('clock', 1), ('web', 3)]
    assert [c.index for c in inv.of_type('web')] == [1, 2]
    assert inv.types() == {'web', 'worker'}
    assert [c.name for c in inv.containers()] == ['demo.web.1', 'demo.web.2', 'demo.worker.1']


# ---------------------------------------------------------------- plan_converge

def test_fresh_app_creates_web_1_only():
    doc = app_doc(formations.initial_formation(PROCS), processes=PROCS)
    plan = planner.plan_converge(doc, POLICY, inventory())
    assert phase_kinds(plan) == [[(planner.CREATE, 'demo.web.1')]]
    action = plan.actions[0]
    assert action.process_type == 'web' and action.index == 1 and action.reason == 'missing'
    assert action.spec == specs.build_spec(doc, POLICY, 'web', 1)
    assert plan.changed
    assert plan.summary() == {'created': ['demo.web.1'], 'started': [], 'replaced': [], 'stopped': [], 'removed': [],
                              'updated': []}
    assert plan.warnings == []


def test_fresh_app_without_processes():
    doc = app_doc(formations.initial_formation(None))
    assert kinds(planner.plan_converge(doc, POLICY, inventory())) == [(planner.CREATE, 'demo.web.1')]


def test_converged_app_plans_nothing():
    doc = app_doc({'web': 2, 'worker': 1}, processes=PROCS)
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'web', 2), ours(doc, 'worker', 1))
    plan = planner.plan_converge(doc, POLICY, inv)
    assert plan.phases == [] and not plan.changed
    assert plan.summary() == {'created': [], 'started': [], 'replaced': [], 'stopped': [], 'removed': [], 'updated': []}


def test_restart_policy_change_alone_is_an_in_place_update():
    doc = app_doc({'web': 1})
    inv = inventory(ours(doc, 'web', 1, policy='always'))
    plan = planner.plan_converge(doc, 'no', inv)
    assert kinds(plan) == [(planner.UPDATE_POLICY, 'demo.web.1')]
    assert plan.actions[0].policy == 'no'


def test_policy_set_in_place_is_remembered():
    doc = app_doc({'web': 1})
    container = ours(doc, 'web', 1, policy='always')
    doc['applied_policies'] = {container['Id']: 'no'}
    assert not planner.plan_converge(doc, 'no', inventory(container)).changed
    assert kinds(planner.plan_policy(doc, 'always', inventory(container))) == [(planner.UPDATE_POLICY, 'demo.web.1')]


def test_stop_plan_and_applied_policies():
    doc = app_doc({'web': 2})
    running = ours(doc, 'web', 1, policy='always')
    stopped = ours(doc, 'web', 2, policy='always', state='exited')
    inv = inventory(running, stopped)
    plan = planner.plan_stop(doc, inv)
    assert kinds(plan) == [(planner.STOP, 'demo.web.1'), (planner.UPDATE_POLICY, 'demo.web.2')]
    done = [(action, action.container.id) for action in plan.actions]
    assert planner.applied_policies(doc, inv, done) == {running['Id']: 'no', stopped['Id']: 'no'}
    # back to the creation policy: nothing left to remember
    start = planner.plan_converge(dict(doc, applied_policies={running['Id']: 'no', stopped['Id']: 'no'}),
                                  'always', inv)
    done = [(action, action.container.id) for action in start.actions]
    assert planner.applied_policies(doc, inv, done) == {}


def test_scale_up_creates_only_missing_indices():
    doc = app_doc({'web': 5}, processes=PROCS)
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'web', 3))
    plan = planner.plan_converge(doc, POLICY, inv, types=['web'], replace=False, start=False)
    assert kinds(plan) == [(planner.CREATE, 'demo.web.2'), (planner.CREATE, 'demo.web.4'),
                           (planner.CREATE, 'demo.web.5')]
    assert [a.spec['name'] for a in plan.actions] == ['demo.web.2', 'demo.web.4', 'demo.web.5']


def test_scale_down_removes_highest_indices_first():
    doc = app_doc({'worker': 2}, processes=PROCS)
    inv = inventory(*[ours(doc, 'worker', i) for i in (3, 1, 5, 2, 4)])
    plan = planner.plan_converge(doc, POLICY, inv, types=['worker'], replace=False, start=False)
    assert kinds(plan) == [(planner.REMOVE, 'demo.worker.5'), (planner.REMOVE, 'demo.worker.4'),
                           (planner.REMOVE, 'demo.worker.3')]
    assert all(a.reason == 'scaled down' and a.container is not None for a in plan.actions)
    assert plan.summary()['removed'] == ['demo.worker.3', 'demo.worker.4', 'demo.worker.5']


def test_scale_to_zero_removes_everything_of_the_type():
    doc = app_doc({'worker': 0, 'web': 1}, processes=PROCS)
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'worker', 1), ours(doc, 'worker', 2, state='exited'))
    plan = planner.plan_converge(doc, POLICY, inv, types=['worker'], replace=False, start=False)
    assert kinds(plan) == [(planner.REMOVE, 'demo.worker.2'), (planner.REMOVE, 'demo.worker.1')]


def test_types_limits_the_scope():
    doc = app_doc({'web': 2, 'worker': 1, 'clock': 0}, processes=PROCS)
    inv = inventory(
        ours(doc, 'web', 1),
        stale(doc, 'worker', 1),                   # would be replaced by a deploy
        ours(doc, 'worker', 2),                    # would be removed (worker=1)
        ours(doc, 'clock', 1, state='exited'),     # would be removed (clock=0)
        upcoming(doc, 'worker', 1),                # would be cleaned up
    )
    plan = planner.plan_converge(doc, POLICY, inv, types=['web'], replace=True, start=True)
    assert kinds(plan) == [(planner.CREATE, 'demo.web.2')]
    assert all(a.process_type == 'web' for a in plan.actions)


def test_spec_mismatch_replaced_only_when_replace():
    doc = app_doc({'web': 1, 'worker': 1}, processes=PROCS)
    old_web = stale(doc, 'web', 1)
    inv = inventory(old_web, stale(doc, 'worker', 1))
    plan = planner.plan_converge(doc, POLICY, inv)
    assert phase_kinds(plan) == [[(planner.REPLACE, 'demo.web.1')], [(planner.REPLACE, 'demo.worker.1')]]
    web = plan.actions[0]
    assert web.container.id == old_web['Id']
    assert web.spec == specs.build_spec(doc, POLICY, 'web', 1)
    assert web.reason == 'spec changed'
    assert plan.summary()['replaced'] == ['demo.web.1', 'demo.worker.1']
    assert not planner.plan_converge(doc, POLICY, inv, replace=False).changed


def test_new_image_replaces_matching_containers():
    doc = app_doc({'web': 2})
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'web', 2))
    new_doc = dict(doc, image_id=OTHER_IMAGE_ID)
    assert kinds(planner.plan_converge(new_doc, POLICY, inv)) == [(planner.REPLACE, 'demo.web.1'),
                                                                  (planner.REPLACE, 'demo.web.2')]


def _app_json(**formation):
    return {'source': 'app_json option', 'healthchecks': None,
            'formation': dict((ptype, {'quantity': None, 'max_parallel': limit}) for ptype, limit in formation.items())}


@pytest.mark.parametrize('limit, expected', [
    (1, [['demo.web.1'], ['demo.web.2'], ['demo.web.3']]),
    (2, [['demo.web.1', 'demo.web.2'], ['demo.web.3']]),
    (3, [['demo.web.1', 'demo.web.2', 'demo.web.3']]),
    (None, [['demo.web.1', 'demo.web.2', 'demo.web.3']]),
])
def test_max_parallel_splits_a_types_replacements_into_phases(limit, expected):
    doc = app_doc({'web': 3, 'worker': 1}, processes=PROCS)
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'web', 2), ours(doc, 'web', 3), ours(doc, 'worker', 1))
    new_doc = dict(doc, image_id=OTHER_IMAGE_ID, app_json=_app_json(web=limit))
    plan = planner.plan_converge(new_doc, POLICY, inv)
    assert [[action.name for action in phase] for phase in plan.phases] == expected + [['demo.worker.1']]
    assert plan.summary()['replaced'] == ['demo.web.1', 'demo.web.2', 'demo.web.3', 'demo.worker.1']


def test_max_parallel_leaves_other_actions_in_the_first_phase():
    doc = app_doc({'web': 3}, processes=PROCS, app_json=_app_json(web=1))
    inv = inventory(stale(doc, 'web', 1), stale(doc, 'web', 2), ours(doc, 'web', 4))
    doc['formation'] = {'web': 3}
    plan = planner.plan_converge(doc, POLICY, inv)
    assert phase_kinds(plan) == [[(planner.CREATE, 'demo.web.3'), (planner.REMOVE, 'demo.web.4'),
                                  (planner.REPLACE, 'demo.web.1')], [(planner.REPLACE, 'demo.web.2')]]


def test_stopped_matching_container_started_only_when_start():
    doc = app_doc({'web': 2}, processes=PROCS)
    inv = inventory(ours(doc, 'web', 1, state='exited'), ours(doc, 'web', 2))
    plan = planner.plan_converge(doc, POLICY, inv)
    assert kinds(plan) == [(planner.START, 'demo.web.1')]
    assert 'exited' in plan.actions[0].reason
    assert plan.actions[0].spec['restart_policy'] == POLICY
    assert plan.summary()['started'] == ['demo.web.1']
    assert not planner.plan_converge(doc, POLICY, inv, start=False).changed


def test_stopped_stale_container_with_replace_off_is_started():
    doc = app_doc({'web': 1}, processes=PROCS)
    inv = inventory(stale(doc, 'web', 1, state='exited'))
    assert kinds(planner.plan_converge(doc, POLICY, inv, replace=False)) == [(planner.START, 'demo.web.1')]
    assert kinds(planner.plan_converge(doc, POLICY, inv, replace=True)) == [(planner.REPLACE, 'demo.web.1')]
    assert not planner.plan_converge(doc, POLICY, inv, replace=False, start=False).changed


@pytest.mark.parametrize('labels, owner', [
    (None, '(no dokku_ps labels)'),
    ({}, '(no dokku_ps labels)'),
    ({specs.LABEL_APP: 'other'}, 'other'),
    ({specs.LABEL_APP: APP, specs.LABEL_PROCESS_TYPE: 'worker'}, APP),
])
def test_foreign_container_on_a_needed_name_is_a_conflict(labels, owner):
    doc = app_doc({'web': 3, 'worker': 1}, processes=PROCS)
    intruder = foreign('demo.web.2', labels)
    inv = inventory(ours(doc, 'web', 1), intruder)
    with pytest.raises(ConflictError) as info:
        planner.plan_converge(doc, POLICY, inv)
    message = str(info.value)
    assert 'demo.web.2' in message
    assert 'left untouched' in message
    assert owner in message
    assert '\n' not in message


def test_conflict_lists_every_taken_name():
    doc = app_doc({'web': 2, 'worker': 2}, processes=PROCS)
    inv = inventory(foreign('demo.worker.2'), foreign('demo.web.1', {specs.LABEL_APP: 'x'}))
    with pytest.raises(ConflictError) as info:
        planner.plan_converge(doc, POLICY, inv)
    assert 'demo.web.1, demo.worker.2' in str(info.value)


def test_foreign_container_on_an_unneeded_index_is_ignored():
    doc = app_doc({'web': 2}, processes=PROCS)
    inv = inventory(ours(doc, 'web', 1), foreign('demo.web.5'), foreign('demo.web.3', {specs.LABEL_APP: 'x'}))
    plan = planner.plan_converge(doc, POLICY, inv)
    assert kinds(plan) == [(planner.CREATE, 'demo.web.2')]
    # and it is never removed, not even when everything of the app is
    plan = planner.plan_converge(doc, POLICY, inv, remove_all=True)
    assert kinds(plan) == [(planner.REMOVE, 'demo.web.1')]


def test_foreign_container_of_a_type_out_of_scope_is_no_conflict():
    doc = app_doc({'web': 1, 'worker': 1}, processes=PROCS)
    inv = inventory(foreign('demo.worker.1'))
    assert kinds(planner.plan_converge(doc, POLICY, inv, types=['web'])) == [(planner.CREATE, 'demo.web.1')]


def test_upcoming_leftovers_are_cleaned_up():
    doc = app_doc({'web': 1, 'worker': 1}, processes=PROCS)
    left_web = upcoming(doc, 'web', 1)
    left_worker = upcoming(doc, 'worker', 1, state='running')
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'worker', 1), left_web, left_worker,
                    foreign('demo.web.1.upcoming-0123'))  # an unlabelled look-alike is not ours: ignored
    plan = planner.plan_converge(doc, POLICY, inv)
    assert phase_kinds(plan) == [[(planner.CLEANUP, left_web['Names'][0][1:])],
                                 [(planner.CLEANUP, left_worker['Names'][0][1:])]]
    assert plan.actions[0].container.id == left_web['Id']
    assert plan.actions[0].reason == 'leftover of an interrupted run'


def test_upcoming_leftover_of_a_type_no_longer_wanted():
    doc = app_doc({'web': 1}, processes=PROCS)
    leftover = upcoming(doc, 'clock', 1)
    plan = planner.plan_converge(doc, POLICY, inventory(ours(doc, 'web', 1), leftover))
    assert kinds(plan) == [(planner.CLEANUP, leftover['Names'][0][1:])]


def test_remove_all_removes_every_one_of_ours_and_no_foreign_one():
    doc = app_doc({'web': 2, 'worker': 1}, processes=PROCS)
    leftover = upcoming(doc, 'web', 2)
    inv = inventory(ours(doc, 'web', 1), stale(doc, 'web', 2, state='exited'), ours(doc, 'worker', 1),
                    ours(doc, 'clock', 4), leftover,
                    foreign('demo.web.3'), foreign('demo.worker.2', {specs.LABEL_APP: 'x'}),
                    foreign('demo.web.1.upcoming-ff'))
    plan = planner.plan_converge(doc, POLICY, inv, remove_all=True)
    assert phase_kinds(plan) == [
        [(planner.REMOVE, 'demo.web.2'), (planner.REMOVE, 'demo.web.1'), (planner.CLEANUP, leftover['Names'][0][1:])],
        [(planner.REMOVE, 'demo.clock.4')],
        [(planner.REMOVE, 'demo.worker.1')],
    ]
    assert plan.summary()['removed'] == ['demo.clock.4', 'demo.web.1', 'demo.web.2', 'demo.worker.1']


def test_remove_all_on_an_app_without_containers():
    plan = planner.plan_converge({'name': APP, 'formation': {}}, POLICY, inventory(), remove_all=True)
    assert not plan.changed


def test_type_removed_from_processes_while_scaled_is_removed_with_a_warning():
    processes = {'web': 'server'}
    doc = app_doc({'web': 1, 'old': 2}, processes=processes)
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'old', 1), ours(doc, 'old', 2))
    plan = planner.plan_converge(doc, POLICY, inv)
    assert kinds(plan) == [(planner.REMOVE, 'demo.old.2'), (planner.REMOVE, 'demo.old.1')]
    assert len(plan.warnings) == 1
    assert 'old' in plan.warnings[0] and 'removed' in plan.warnings[0]


def test_type_no_longer_in_formation_is_removed_on_deploy():
    doc = app_doc({'web': 1}, processes={'web': 'server'})
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'gone', 1))
    plan = planner.plan_converge(doc, POLICY, inv)
    assert kinds(plan) == [(planner.REMOVE, 'demo.gone.1')]


def test_web_phase_first_then_alphabetical():
    doc = app_doc({'worker': 1, 'clock': 1, 'web': 2, 'alpha': 1})
    plan = planner.plan_converge(doc, POLICY, inventory())
    assert [phase[0].process_type for phase in plan.phases] == ['web', 'alpha', 'clock', 'worker']
    assert phase_kinds(plan)[0] == [(planner.CREATE, 'demo.web.1'), (planner.CREATE, 'demo.web.2')]


def test_every_action_of_a_phase_has_one_type_and_distinct_names():
    doc = app_doc({'web': 3, 'worker': 1})
    inv = inventory(stale(doc, 'web', 1), ours(doc, 'web', 2, state='exited'), ours(doc, 'worker', 1),
                    ours(doc, 'worker', 2), upcoming(doc, 'web', 3))
    plan = planner.plan_converge(doc, POLICY, inv)
    for phase in plan.phases:
        assert len(set(a.process_type for a in phase)) == 1
        assert len(set(a.name for a in phase)) == len(phase)
    assert sorted(kinds(plan)) == sorted([
        (planner.REPLACE, 'demo.web.1'), (planner.START, 'demo.web.2'), (planner.CREATE, 'demo.web.3'),
        (planner.CLEANUP, inv.upcoming[0].name), (planner.REMOVE, 'demo.worker.2')])


def test_action_repr_and_reason():
    doc = app_doc({'web': 1})
    action = planner.plan_converge(doc, POLICY, inventory()).actions[0]
    assert (action.kind, action.name, action.reason) == (planner.CREATE, 'demo.web.1', 'missing')
    assert repr(action) == 'Action(create demo.web.1)'


# ---------------------------------------------------------------- running_state

def _containers(*states):
    doc = app_doc({})
    return [planner.Container(ours(doc, 'web', i + 1, state=s), APP) for i, s in enumerate(states)]


@pytest.mark.parametrize('states, expected', [
    ((), 'false'),
    (('running',), 'true'),
    (('running', 'restarting'), 'true'),
    (('exited', 'created'), 'false'),
    (('running', 'exited'), 'mixed'),
    (('paused', 'running'), 'mixed'),
])
def test_running_state(states, expected):
    assert planner.running_state(_containers(*states)) == expected


# ---------------------------------------------------------------- property: plans converge

TYPES = ['web', 'worker', 'clock']
ENVS = [{}, {'A': '1'}, {'A': '2'}]


def _apply(state, plan):
    """Carry a plan out on an in-memory {name: summary} dict, as the executor would on Docker."""
    for phase in plan.phases:
        for action in phase:
            if action.kind == planner.CREATE:
                assert action.name not in state
                state[action.name] = from_spec(action.spec)
            elif action.kind == planner.START:
                assert state[action.name]['Id'] == action.container.id
                state[action.name]['State'] = 'running'
            elif action.kind == planner.REPLACE:
                assert state[action.name]['Id'] == action.container.id
                state[action.name] = from_spec(action.spec)
            elif action.kind in (planner.REMOVE, planner.CLEANUP):
                assert state[action.name]['Id'] == action.container.id
                del state[action.name]
            else:  # pragma: no cover
                raise AssertionError(action.kind)


def _expected(formation):
    return set(specs.container_name(APP, t, i) for t, count in formation.items() for i in range(1, count + 1))


_scale_step = st.dictionaries(st.sampled_from(TYPES), st.integers(min_value=0, max_value=6), min_size=1, max_size=3)
_deploy_step = st.tuples(st.just('deploy'), st.sampled_from(range(len(ENVS))))
_stop_step = st.tuples(st.just('stop'), st.integers(min_value=0, max_value=50))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_scale_step, _deploy_step, _stop_step), min_size=1, max_size=8))
def test_sequences_of_formations_converge(steps):
    formation = {}
    env = ENVS[0]
    state = {}
    for step in steps:
        if isinstance(step, dict):
            # dokku_ps_scale: only the scaled types, no replacement, no start
            formation.update(step)
            doc = app_doc(formation, env=env)
            plan = planner.plan_converge(doc, POLICY, planner.Inventory(APP, list(state.values())),
                                         types=sorted(step), replace=False, start=False)
            for action in plan.actions:
                assert action.process_type in step, 'touched %s outside %s' % (action.name, sorted(step))
                assert action.kind in (planner.CREATE, planner.REMOVE)
            before = dict((name, s['Id']) for name, s in state.items())
            _apply(state, plan)
            for name, cid in before.items():
                if name in state and specs.parse_container_name(APP, name)[0] not in step:
                    assert state[name]['Id'] == cid
        elif step[0] == 'deploy':
            env = ENVS[step[1]]
            doc = app_doc(formation, env=env)
            plan = planner.plan_converge(doc, POLICY, planner.Inventory(APP, list(state.values())))
            _apply(state, plan)
            for name, item in state.items():
                ptype, index, _up = specs.parse_container_name(APP, name)
                assert item['State'] == 'running'
                assert item['Labels'][specs.LABEL_SPEC_HASH] == specs.build_spec(doc, POLICY, ptype, index)['hash']
            again = planner.plan_converge(doc, POLICY, planner.Inventory(APP, list(state.values())))
            assert not again.changed, 'a second deploy changes nothing'
        else:
            plan = None
            if state:
                name = sorted(state)[step[1] % len(state)]
                state[name]['State'] = 'exited'
        assert set(state) == _expected(formation)
        if plan is not None:
            types_in_order = [phase[0].process_type for phase in plan.phases]
            assert types_in_order == names.ordered_types(types_in_order), 'web first, then alphabetical'
            for phase in plan.phases:
                assert len(set(a.process_type for a in phase)) == 1


def test_names_outside_the_naming_rule_are_not_ours_and_never_touched():
    """Index 0 and leading zeros are not names we create: such containers are ignored, even with our labels."""
    doc = app_doc({'web': 1})
    zero = from_spec(specs.build_spec(doc, POLICY, 'web', 0))          # demo.web.0, our labels
    padded = from_spec(specs.build_spec(doc, POLICY, 'web', 1), name='demo.web.01')
    inv = inventory(ours(doc, 'web', 1), zero, padded)
    assert ('web', 0) not in inv.by_dyno
    assert inv.by_dyno[('web', 1)].name == 'demo.web.1'
    plan = planner.plan_converge(doc, POLICY, inv, remove_all=True)
    assert sorted(action.name for action in plan.actions) == ['demo.web.1']


def test_unknown_policy_is_always_set_again():
    """A run killed while changing policies leaves 'unknown': the next plan sets the policy, never trusts it."""
    doc = app_doc({'web': 1})
    container = ours(doc, 'web', 1)
    doc['applied_policies'] = {container['Id']: planner.UNKNOWN_POLICY}
    plan = planner.plan_converge(doc, POLICY, inventory(container))
    assert kinds(plan) == [(planner.UPDATE_POLICY, 'demo.web.1')]
    assert kinds(planner.plan_policy(doc, POLICY, inventory(container))) == [(planner.UPDATE_POLICY, 'demo.web.1')]
    done = [(action, action.container.id) for action in plan.actions]
    assert planner.applied_policies(doc, inventory(container), done) == {}


def test_created_but_never_started_containers_are_started_by_a_scale():
    doc = app_doc({'web': 2})
    plan = planner.plan_converge(doc, POLICY, inventory(ours(doc, 'web', 1), ours(doc, 'web', 2, state='created')),
                                 types=['web'], replace=False, start=False)
    assert kinds(plan) == [(planner.START, 'demo.web.2')]


# ---------------------------------------------------------------- every state Docker reports, on every path

STATES = ('created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead')


def _one(state, policy=POLICY):
    doc = app_doc({'web': 1}, processes=PROCS)
    return doc, inventory(ours(doc, 'web', 1, state=state, policy=policy))


@pytest.mark.parametrize('state, expected', [
    ('created', [(planner.START, 'demo.web.1')]),
    ('running', []),
    ('paused', [(planner.START, 'demo.web.1')]),          # the executor unpauses it
    ('restarting', []),                                    # Docker brings it back itself
    ('removing', [(planner.CREATE, 'demo.web.1')]),        # once it is gone, at its name
    ('exited', [(planner.START, 'demo.web.1')]),
    ('dead', [(planner.RECREATE, 'demo.web.1')]),          # nothing can start it: removed, created anew
])
def test_deploy_start_and_restore_of_each_state(state, expected):
    doc, found = _one(state)
    plan = planner.plan_converge(doc, POLICY, found)
    assert kinds(plan) == expected
    for action in plan.actions:
        assert action.container is found.by_dyno[('web', 1)], 'the action knows the container it works on'


@pytest.mark.parametrize('state, expected', [
    ('created', [(planner.START, 'demo.web.1')]),           # an interrupted create is finished even by a scale
    ('running', []), ('paused', []), ('restarting', []), ('exited', []), ('dead', []),
    ('removing', [(planner.CREATE, 'demo.web.1')]),
])
def test_scale_of_each_state_starts_nothing_it_did_not_create(state, expected):
    doc, found = _one(state)
    assert kinds(planner.plan_converge(doc, POLICY, found, replace=False, start=False)) == expected


@pytest.mark.parametrize('state', STATES)
def test_restart_and_rebuild_of_each_state(state):
    doc, found = _one(state)
    expected = {'removing': planner.CREATE, 'dead': planner.RECREATE}.get(state, planner.REPLACE)
    assert kinds(planner.plan_converge(doc, POLICY, found, force_replace=True)) == [(expected, 'demo.web.1')]


@pytest.mark.parametrize('state, expected', [
    ('created', [(planner.UPDATE_POLICY, 'demo.web.1')]),
    ('running', [(planner.STOP, 'demo.web.1')]),
    ('paused', [(planner.STOP, 'demo.web.1')]),           # Docker counts it as running: it is stopped
    ('restarting', [(planner.STOP, 'demo.web.1')]),
    ('removing', []),
    ('exited', [(planner.UPDATE_POLICY, 'demo.web.1')]),
    ('dead', []),                                         # never started again, and cannot be updated
])
def test_stop_of_each_state(state, expected):
    doc, found = _one(state)
    assert kinds(planner.plan_stop(doc, found)) == expected


@pytest.mark.parametrize('state', STATES)
def test_delete_and_scale_to_zero_of_each_state(state):
    doc, found = _one(state)
    assert kinds(planner.plan_converge(doc, POLICY, found, remove_all=True)) == [(planner.REMOVE, 'demo.web.1')]
    doc['formation'] = {'web': 0}
    assert kinds(planner.plan_converge(doc, POLICY, found, replace=False, start=False)) == \
        [(planner.REMOVE, 'demo.web.1')]


@pytest.mark.parametrize('state, expected', [
    ('created', 'no'), ('running', POLICY), ('paused', POLICY), ('restarting', POLICY), ('exited', 'no'),
    ('removing', None), ('dead', None),
])
def test_policy_change_of_each_state(state, expected):
    doc, found = _one(state, policy='always')
    plan = planner.plan_policy(doc, POLICY, found, stopped_policy='no')
    assert [(a.kind, a.policy) for a in plan.actions] == ([(planner.UPDATE_POLICY, expected)] if expected else [])


def test_container_state_flags():
    flags = dict((state, planner.Container(ours(app_doc({}), 'web', 1, state=state), APP)) for state in STATES)
    assert [s for s, c in flags.items() if c.active] == ['running', 'paused', 'restarting']
    assert [s for s, c in flags.items() if not c.settled] == ['removing', 'dead']
    assert [s for s, c in flags.items() if c.paused] == ['paused']


def test_a_dead_container_replaced_is_summarised_as_replaced():
    doc, found = _one('dead')
    assert planner.plan_converge(doc, POLICY, found).summary()['replaced'] == ['demo.web.1']


def test_an_inspected_policy_wins_over_what_was_recorded():
    doc, found = _one('running')
    container = found.by_dyno[('web', 1)]
    assert kinds(planner.plan_converge(doc, POLICY, found)) == []
    container.actual_policy = 'always'
    plan = planner.plan_converge(doc, POLICY, found)
    assert kinds(plan) == [(planner.UPDATE_POLICY, 'demo.web.1')]
    done = [(plan.actions[0], container.id)]
    assert planner.applied_policies(doc, found, done) == {}, 'back to its label: nothing to remember'
    doc['applied_policies'] = {container.id: 'no'}
    container.actual_policy = 'always'
    assert planner.applied_policies(doc, found, []) == {container.id: 'always'}, 'what Docker said is recorded'


# ---------------------------------------------------------------- what the report calls current (drift)

@pytest.mark.parametrize('change', [
    {}, {'env': {'A': '1'}}, {'image_id': OTHER_IMAGE_ID}, {'processes': dict(PROCS, web='server --other')},
    {'proxy': {'enabled': True}}, {'publish': 'auto'},
])
def test_spec_matches_is_what_a_deploy_replaces(change):
    recorded = app_doc({'web': 1}, processes=PROCS)
    found = inventory(ours(recorded, 'web', 1))
    container = found.by_dyno[('web', 1)]
    now = dict(recorded, **change)
    matches = planner.spec_matches(container, specs.build_spec(now, 'always', 'web', 1))
    assert matches is (not change)
    replaced = kinds(planner.plan_converge(now, POLICY, found)) == [(planner.REPLACE, 'demo.web.1')]
    assert replaced is not matches
    assert planner.plan_converge(now, POLICY, found, force_replace=True).actions[0].reason == \
        ('restart' if matches else 'spec changed')


@pytest.mark.parametrize('state', STATES)
@pytest.mark.parametrize('actual', [POLICY, 'no', 'always'])
@pytest.mark.parametrize('stopped_policy', [None, POLICY, 'no'])
def test_policy_current_is_what_plan_policy_leaves_alone(state, actual, stopped_policy):
    doc, found = _one(state, policy=actual)
    container = found.by_dyno[('web', 1)]
    current = planner.policy_current(container, {}, POLICY, stopped_policy)
    assert current is not planner.plan_policy(doc, POLICY, found, stopped_policy=stopped_policy).changed
    if state in ('removing', 'dead'):
        assert current is True, 'no policy is ever set on it'
    else:
        wanted = POLICY if (container.active or stopped_policy is None) else stopped_policy
        assert planner.wanted_policy(container, POLICY, stopped_policy) == wanted
        assert current is (actual == wanted)


def test_policy_current_reads_the_effective_policy():
    doc, found = _one('running')
    container = found.by_dyno[('web', 1)]
    assert planner.policy_current(container, {}, POLICY)
    assert not planner.policy_current(container, {container.id: 'always'}, POLICY), 'set in place'
    assert not planner.policy_current(container, {container.id: planner.UNKNOWN_POLICY}, POLICY)
    container.actual_policy = POLICY
    assert planner.policy_current(container, {container.id: 'always'}, POLICY), 'what Docker reported wins'


# ---------------------------------------------------------------- one-offs (release phase, runs, cron entries)

def oneoff_summary(doc, kind, number, state='running', phase=None, cron_id=None):
    """A one-off of the app as _scheduler_local_oneoff creates it: <app>.<kind>.<n> (<app>.<phase>.<n> in a release
    phase), labelled com.dokku.container-type=<kind>."""
    req = oneoff.request(kind, 'echo', phase=phase, cron_id=cron_id)
    spec = specs.oneoff_spec(doc, req, number)
    return from_spec(spec, state=state)


def _oneoffs(doc, state='running'):
    return [oneoff_summary(doc, oneoff.RUN, 12345, state=state),
            oneoff_summary(doc, oneoff.CRON, 23456, state=state, cron_id='0123456789ab'),
            oneoff_summary(doc, oneoff.RELEASE, 34567, state=state, phase=oneoff.PREDEPLOY)]


def test_one_offs_are_kept_apart_from_the_processes():
    doc = app_doc({'web': 1}, processes=PROCS)
    found = _oneoffs(doc)
    inv = inventory(ours(doc, 'web', 1), *found)
    assert [c.name for c in inv.oneoffs] == ['demo.run.12345', 'demo.cron.23456', 'demo.predeploy.34567']
    assert all(c.oneoff for c in inv.oneoffs) and not planner.Container(ours(doc, 'web', 1), APP).oneoff
    assert sorted(inv.by_dyno) == [('web', 1)] and inv.types() == {'web'}
    assert inv.foreign == {} and inv.upcoming == []
    assert [c.name for c in inv.containers()] == ['demo.web.1']


def test_a_container_with_one_off_labels_of_another_app_is_no_one_off_of_this_one():
    doc = app_doc({'web': 1}, processes=PROCS)
    other = oneoff_summary(app_doc({}, name='other'), oneoff.RUN, 12345)
    other['Names'] = ['/demo.run.12345']
    inv = inventory(other)
    assert inv.oneoffs == [] and sorted(inv.foreign) == [('run', 12345)]
    # the labels of a process (container-type deploy) on a name like a one-off's is one of its processes
    labels = dict(oneoff_summary(doc, oneoff.RUN, 12345)['Labels'], **{specs.LABEL_CONTAINER_TYPE: 'deploy'})
    assert not planner.Container(summary('demo.run.12345', labels), APP).oneoff


@pytest.mark.parametrize('state', ['running', 'exited', 'created'])
def test_one_offs_are_never_planned_by_a_deploy_or_a_scale(state):
    doc = app_doc({'web': 1}, processes=PROCS)
    inv = inventory(ours(doc, 'web', 1), *_oneoffs(doc, state=state))
    assert planner.plan_converge(doc, POLICY, inv).phases == []
    assert planner.plan_converge(doc, POLICY, inv, replace=False, start=False).phases == []
    assert kinds(planner.plan_converge(doc, POLICY, inv, force_replace=True)) == [(planner.REPLACE, 'demo.web.1')]
    assert [a.name for a in planner.plan_policy(doc, 'always', inv).actions] == ['demo.web.1']


def test_a_stop_stops_the_one_offs_that_run():
    doc = app_doc({'web': 1}, processes=PROCS)
    ended = oneoff_summary(doc, oneoff.RUN, 45678, state='exited')
    inv = inventory(ours(doc, 'web', 1), ended, *_oneoffs(doc))
    plan = planner.plan_stop(doc, inv)
    assert kinds(plan) == [(planner.STOP, 'demo.web.1'), (planner.STOP, 'demo.cron.23456'),
                           (planner.STOP, 'demo.predeploy.34567'), (planner.STOP, 'demo.run.12345')]
    assert [a.reason for a in plan.actions[1:]] == ['one-off of a stopped app'] * 3
    assert plan.actions[3].container is inv.oneoffs[1]
    assert kinds(planner.plan_stop(doc, inventory(ours(doc, 'web', 1, state='exited', policy='no'), ended))) == []


def test_deleting_the_app_removes_its_one_offs_last():
    doc = app_doc({'web': 1}, processes=PROCS)
    ended = oneoff_summary(doc, oneoff.RUN, 45678, state='exited')
    inv = inventory(ours(doc, 'web', 1), ended, *_oneoffs(doc))
    plan = planner.plan_converge(doc, POLICY, inv, remove_all=True)
    assert phase_kinds(plan) == [
        [(planner.REMOVE, 'demo.web.1')],
        [(planner.REMOVE, 'demo.cron.23456'), (planner.REMOVE, 'demo.predeploy.34567'),
         (planner.REMOVE, 'demo.run.12345'), (planner.REMOVE, 'demo.run.45678')],
    ]
    assert all(a.reason == 'app deleted' and a.container is not None for a in plan.phases[1])
    assert plan.summary()['removed'] == ['demo.cron.23456', 'demo.predeploy.34567', 'demo.run.12345',
                                         'demo.run.45678', 'demo.web.1']
    only = planner.plan_converge(doc, POLICY, inventory(*_oneoffs(doc)), remove_all=True)
    assert [a.name for a in only.actions] == ['demo.cron.23456', 'demo.predeploy.34567', 'demo.run.12345']


def test_the_release_type_never_gets_containers():
    processes = dict(PROCS, release='rake db:migrate')
    doc = app_doc({'web': 1, 'release': 1}, processes=processes)
    plan = planner.plan_converge(doc, POLICY, inventory())
    assert kinds(plan) == [(planner.CREATE, 'demo.web.1')] and plan.warnings == []
    # one left from before (or made by hand) is removed
    inv = inventory(ours(doc, 'web', 1), ours(doc, 'release', 1))
    assert kinds(planner.plan_converge(doc, POLICY, inv)) == [(planner.REMOVE, 'demo.release.1')]
