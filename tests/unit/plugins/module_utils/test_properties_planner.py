# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based tests of the planner against a simulated Docker host (no Docker).

Random sequences of what the modules do -- scale (dokku_ps_scale), deploy with a changed definition
(dokku_ps_app), stop / start / restart / restart of one type (dokku_ps_state), restart policy changes
(dokku_ps_policy), crashes of containers, leftovers of interrupted replacements, and foreign containers --
are planned with the same planner calls the services make, carried out on the simulation as the executor
would, and the ``applied_policies`` record is kept with ``planner.applied_policies`` as ``Context.commit``
keeps it. After every step:

- the app's containers are exactly the desired set (``<app>.<type>.<index>`` for every index of the
  formation), never a duplicate, never a leftover temporary container after a deploy/start;
- a started app runs every container with the desired spec hash and the desired restart policy, a stopped
  app runs none and every container has policy ``no``;
- what the planner believes a container's restart policy is (label + ``applied_policies``) is what the
  simulated Docker has;
- a second identical plan is empty (idempotence);
- foreign containers are never the target of an action; a foreign container on a needed name is a
  ConflictError raised before anything is planned.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ConflictError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from tests.unit.helpers import IMAGE_ID, app_document

APP = 'ft-prop'
OTHER_APP = 'ft-other'
PROCESSES = {'web': 'server --port $PORT', 'worker': 'work', 'clock': 'tick'}
TYPES = sorted(PROCESSES)
ENVS = [{}, {'A': '1'}, {'A': '2'}]
POLICIES = ['on-failure:10', 'always', 'no', 'unless-stopped', 'on-failure:3']


class Host(object):
    """A simulated Docker host: containers by name, each with an id, labels, a state and a restart policy."""

    def __init__(self):
        self.containers = {}
        self._ids = itertools.count(1)

    def summaries(self):
        return [dict(c) for c in self.containers.values()]

    def add(self, name, labels, state='running', policy='no'):
        cid = '%064x' % next(self._ids)
        self.containers[name] = {'Id': cid, 'Names': ['/' + name], 'Labels': dict(labels), 'State': state,
                                 'ImageID': IMAGE_ID, 'Ports': [], 'policy': policy}
        return cid

    def by_id(self, cid):
        for name, container in self.containers.items():
            if container['Id'] == cid:
                return name, container
        raise AssertionError('no container %s' % cid)

    def run(self, plan, foreign_ids):
        """Carry a plan out as the executor does; returns the (action, container id) pairs done."""
        done = []
        for phase in plan.phases:
            for action in phase:
                if action.container is not None:
                    assert action.container.id not in foreign_ids, 'an action targets a foreign container'
                    name, current = self.by_id(action.container.id)
                    assert name == action.container.name
                if action.kind == planner.CREATE:
                    assert action.name not in self.containers, 'name conflict on %s' % action.name
                    cid = self.add(action.name, action.spec['labels'], policy=action.spec['restart_policy'])
                elif action.kind == planner.START:
                    current['policy'] = action.spec['restart_policy']
                    current['State'] = 'running'
                    cid = current['Id']
                elif action.kind == planner.REPLACE:
                    del self.containers[name]
                    cid = self.add(action.name, action.spec['labels'], policy=action.spec['restart_policy'])
                elif action.kind in (planner.REMOVE, planner.CLEANUP):
                    del self.containers[name]
                    cid = current['Id']
                elif action.kind == planner.STOP:
                    current['policy'] = 'no'
                    current['State'] = 'exited'
                    cid = current['Id']
                elif action.kind == planner.UPDATE_POLICY:
                    current['policy'] = action.policy
                    cid = current['Id']
                else:  # pragma: no cover
                    raise AssertionError(action.kind)
                done.append((action, cid))
        return done


class App(object):
    """The app document and the service-level decisions around the planner."""

    def __init__(self, host):
        self.host = host
        self.doc = app_document(name=APP, processes=dict(PROCESSES), env={}, formation={'web': 1},
                                applied_policies={})
        self.policy = 'on-failure:10'
        self.active = True
        self.foreign_ids = set()

    def inventory(self):
        return planner.Inventory(APP, self.host.summaries())

    def commit(self, plan, inventory):
        done = self.host.run(plan, self.foreign_ids)
        self.doc['applied_policies'] = planner.applied_policies(self.doc, inventory, done)
        return done

    def converge(self, **kwargs):
        inventory = self.inventory()
        plan = planner.plan_converge(self.doc, self.policy, inventory, **kwargs)
        self.commit(plan, inventory)
        return plan

    def stop(self):
        inventory = self.inventory()
        plan = planner.plan_stop(self.doc, inventory)
        self.commit(plan, inventory)
        return plan

    def set_policy(self, policy):
        self.policy = policy
        inventory = self.inventory()
        plan = planner.plan_policy(self.doc, policy, inventory, stopped_policy=None if self.active else 'no')
        self.commit(plan, inventory)
        return plan

    # -- what must hold

    def ours(self, upcoming=False):
        """Our containers (the temporary ones of interrupted runs only with ``upcoming``)."""
        return dict((name, c) for name, c in self.host.containers.items() if c['Id'] not in self.foreign_ids
                    and (upcoming or '.upcoming-' not in name))

    def expected_names(self):
        return set(specs.container_name(APP, t, i) for t, n in self.doc['formation'].items() for i in range(1, n + 1))

    def check_beliefs(self):
        applied = self.doc.get('applied_policies') or {}
        for name, summary in self.ours().items():
            container = planner.Container(summary, APP)
            assert planner.effective_policy(container, applied) == summary['policy'], \
                '%s: planner believes %s, Docker has %s' % (name, planner.effective_policy(container, applied),
                                                            summary['policy'])

    def check_started(self):
        ours = self.ours(upcoming=True)
        assert set(ours) == self.expected_names()
        for name, summary in ours.items():
            ptype, index, upcoming = specs.parse_container_name(APP, name)
            assert not upcoming
            assert summary['State'] == 'running', name
            assert summary['policy'] == self.policy, name
            wanted = specs.build_spec(self.doc, self.policy, ptype, index)['hash']
            assert summary['Labels'][specs.LABEL_SPEC_HASH] == wanted, name

    def check_stopped(self):
        ours = self.ours()
        for name, summary in ours.items():
            assert summary['State'] != 'running' and summary['policy'] == 'no', name


_scale = st.tuples(st.just('scale'), st.dictionaries(st.sampled_from(TYPES), st.integers(0, 5), min_size=1,
                                                     max_size=3))
_deploy = st.tuples(st.just('deploy'), st.integers(0, len(ENVS) - 1))
_stop = st.tuples(st.just('stop'), st.just(None))
_start = st.tuples(st.just('start'), st.just(None))
_restart = st.tuples(st.just('restart'), st.one_of(st.none(), st.sampled_from(TYPES)))
_policy = st.tuples(st.just('policy'), st.sampled_from(POLICIES))
_crash = st.tuples(st.just('crash'), st.integers(0, 100))
_leftover = st.tuples(st.just('leftover'), st.tuples(st.sampled_from(TYPES), st.integers(1, 6)))
_foreign = st.tuples(st.just('foreign'), st.tuples(st.sampled_from(TYPES), st.integers(1, 8), st.booleans()))
STEPS = st.lists(st.one_of(_scale, _deploy, _stop, _start, _restart, _policy, _crash, _leftover, _foreign),
                 min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_random_lifecycles_always_converge(steps):
    host = Host()
    app = App(host)
    app.converge()
    app.check_started()
    for kind, arg in steps:
        foreign_before = dict((c['Id'], dict(c)) for c in host.containers.values() if c['Id'] in app.foreign_ids)
        try:
            if kind == 'scale':
                before = dict((name, c['Id']) for name, c in app.ours().items())
                app.doc['formation'].update(arg)
                if app.active:
                    plan = app.converge(types=sorted(arg), replace=False, start=False)
                    assert all(a.process_type in arg for a in plan.actions), 'touched a type it did not scale'
                    assert all(a.kind in (planner.CREATE, planner.REMOVE, planner.CLEANUP, planner.UPDATE_POLICY)
                               for a in plan.actions)
                    for name, cid in before.items():
                        if name in host.containers and specs.parse_container_name(APP, name)[0] not in arg:
                            assert host.containers[name]['Id'] == cid
                    for ptype in arg:
                        names = set(n for n in app.ours() if specs.parse_container_name(APP, n)[0] == ptype)
                        assert names == set(specs.container_name(APP, ptype, i) for i in range(1, arg[ptype] + 1))
            elif kind in ('deploy', 'start'):
                if kind == 'deploy':
                    app.doc['env'] = ENVS[arg]
                app.active = True
                app.converge()
                app.check_started()
                assert not planner.plan_converge(app.doc, app.policy, app.inventory()).changed
            elif kind == 'stop':
                app.active = False
                app.stop()
                app.check_stopped()
                assert not planner.plan_stop(app.doc, app.inventory()).changed
            elif kind == 'restart':
                app.active = True
                before = dict((name, c['Id']) for name, c in app.ours().items())
                app.converge(types=[arg] if arg else None, force_replace=True)
                for name, cid in before.items():
                    ptype = specs.parse_container_name(APP, name)[0]
                    if name in host.containers and (arg is None or ptype == arg) and name in app.expected_names():
                        assert host.containers[name]['Id'] != cid, '%s was not replaced' % name
                if arg is None:
                    app.check_started()
            elif kind == 'policy':
                app.set_policy(arg)
                if app.active:
                    running = [s for s in app.ours().values() if s['State'] == 'running']
                    assert all(s['policy'] == arg for s in running)
                else:
                    app.check_stopped()
                assert not planner.plan_policy(app.doc, arg, app.inventory(),
                                               stopped_policy=None if app.active else 'no').changed
            elif kind == 'crash':
                ours = sorted(app.ours())
                if ours:
                    host.containers[ours[arg % len(ours)]]['State'] = 'exited'
            elif kind == 'leftover':
                ptype, index = arg
                spec = specs.build_spec(app.doc, app.policy, ptype, index)
                host.add(specs.upcoming_name(APP, ptype, index), spec['labels'], state='created',
                         policy=spec['restart_policy'])
            elif kind == 'foreign':
                ptype, index, labelled = arg
                name = specs.container_name(APP, ptype, index)
                if name not in host.containers:
                    labels = {specs.LABEL_APP: OTHER_APP, specs.LABEL_PROCESS_TYPE: ptype} if labelled else {}
                    app.foreign_ids.add(host.add(name, labels, policy='always'))
        except ConflictError as exc:
            # a foreign container sits on a name the plan needs: nothing was planned or done
            assert 'rename or remove them' in str(exc)
            assert any(c['Id'] in app.foreign_ids for c in host.containers.values())
            # the operator removes the foreign containers, as the message says; the app then converges
            for cid in list(app.foreign_ids):
                name, _c = host.by_id(cid)
                del host.containers[name]
            app.foreign_ids = set()
            if app.active:
                app.converge()
                app.check_started()
            continue
        now_foreign = dict((c['Id'], dict(c)) for c in host.containers.values() if c['Id'] in app.foreign_ids)
        assert now_foreign == foreign_before or kind == 'foreign', 'a foreign container changed'
        ids = [c['Id'] for c in host.containers.values()]
        assert len(ids) == len(set(ids))
        dynos = [specs.parse_container_name(APP, name)[:2] for name in app.ours()]
        assert len(dynos) == len(set(dynos)), 'two containers for one dyno'
        assert all(c[specs.LABEL_DYNO] == '%s.%d' % d for c, d in zip(
            (s['Labels'] for s in app.ours().values()), dynos) if specs.LABEL_DYNO in c)
        app.check_beliefs()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(TYPES), st.integers(0, 4), min_size=1),
       st.lists(st.tuples(st.sampled_from(TYPES), st.integers(1, 5), st.sampled_from(['created', 'running', 'exited'])),
                max_size=6),
       st.lists(st.tuples(st.sampled_from(TYPES), st.integers(1, 5)), max_size=6))
def test_deploy_after_an_interrupted_run_converges(formation, leftovers, missing):
    """Whatever an interrupted run left behind (temporary containers in any state, containers that were
    stopped and removed before their replacement got its final name), one deploy converges."""
    host = Host()
    app = App(host)
    app.doc['formation'] = dict(formation)
    app.converge()
    for ptype, index, state in leftovers:
        spec = specs.build_spec(app.doc, 'no', ptype, index)
        host.add(specs.upcoming_name(APP, ptype, index), spec['labels'], state=state, policy='no')
    for ptype, index in missing:
        host.containers.pop(specs.container_name(APP, ptype, index), None)
    app.doc['applied_policies'] = {}
    app.converge()
    app.check_started()
    assert not any('.upcoming-' in name for name in host.containers)
    app.check_beliefs()


@pytest.mark.parametrize('kind', [planner.START, planner.STOP, planner.UPDATE_POLICY])
def test_applied_policies_forget_containers_that_are_gone(kind):
    host = Host()
    app = App(host)
    app.doc['formation'] = {'web': 2}
    app.converge()
    inventory = app.inventory()
    victim = inventory.by_dyno[('web', 2)]
    action = planner.Action(kind, victim.name, 'web', 2, container=victim, policy='always',
                            spec={'restart_policy': 'always'} if kind == planner.START else None)
    applied = planner.applied_policies(app.doc, inventory, [(action, victim.id)])
    assert applied.get(victim.id) == action.policy
    del host.containers[victim.name]
    remove = planner.Action(planner.REMOVE, victim.name, 'web', 2, container=victim)
    app.doc['applied_policies'] = applied
    assert victim.id not in planner.applied_policies(app.doc, inventory, [(remove, victim.id)])
