# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner: compares desired state with the containers found by ONE list call, and returns a plan.

Pure logic: no Docker and no files, so every decision is unit-tested. The executor carries a plan out.

A plan is a list of phases; the actions of one phase are independent of each other and may run
concurrently; phases run in order (``web`` first, then the other types, as Dokku deploys). A type whose app.json
sets ``max_parallel`` has its replacements split over several phases of at most that many.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json as app_json
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ConflictError
from ansible_collections.dokku_ps.docker.plugins.module_utils._formation import type_is_defined
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import ordered_types
from ansible_collections.dokku_ps.docker.plugins.module_utils._oneoff import RELEASE_TYPE
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs

# Action kinds
CREATE = 'create'      # create and start a container at a free name
START = 'start'        # start an existing, matching, stopped container
REPLACE = 'replace'    # zero-downtime: new container up first, then the old one retired
REMOVE = 'remove'      # restart policy 'no', stop with the stop timeout, remove
CLEANUP = 'cleanup'    # remove a leftover temporary container of an interrupted run
STOP = 'stop'          # restart policy 'no', then stop with the stop timeout; the container is kept
UPDATE_POLICY = 'update_policy'  # change the restart policy in place (same container, no restart)
RECREATE = 'recreate'  # a dead container (Docker can neither start nor update it): removed, a new one created

# applied_policies value of a container whose policy was being changed by a run that did not finish
UNKNOWN_POLICY = 'unknown'

# The states Docker reports (State in a list call, State.Status in inspect), and what each means here:
#   running, restarting  up: its process runs, or Docker brings it back under its restart policy
#   paused               frozen: counts as running for Docker (a stop must stop it), but serves nothing until
#                        unpaused; a start unpauses it
#   created, exited      not running; a start starts it (same container)
#   dead                 a removal that failed half-way: it can neither be started nor updated, only removed; a
#                        start or deploy removes it and creates a new container at its name
#   removing             on its way out: treated as gone, a new container takes its name once it is gone
UP_STATES = ('running', 'restarting')
ACTIVE_STATES = UP_STATES + ('paused',)
PAUSED = 'paused'
DEAD = 'dead'
REMOVING = 'removing'
CREATED = 'created'


class Container(object):
    """One container as the list call returns it, reduced to what the planner needs."""

    def __init__(self, summary, app):
        self.id = summary.get('Id')
        names = summary.get('Names') or ['']
        self.name = names[0].lstrip('/')
        self.labels = summary.get('Labels') or {}
        self.state = summary.get('State') or ''
        self.status = summary.get('Status') or ''
        self.image_id = summary.get('ImageID')
        self.ports = summary.get('Ports') or []
        self.created = summary.get('Created')
        parsed = specs.parse_container_name(app, self.name)
        self.process_type, self.index, self.upcoming = parsed if parsed else (None, None, False)
        self.ours = self.labels.get(specs.LABEL_APP) == app and parsed is not None
        # a release phase, run or cron container of the app: never one of its processes (_oneoff.py)
        self.oneoff = specs.is_oneoff(self.labels, app) and parsed is not None and not parsed[2]
        if self.ours and self.labels.get(specs.LABEL_PROCESS_TYPE) not in (None, self.process_type):
            self.ours = False
        # the restart policy Docker reported for it in this run, when it was inspected (see effective_policy)
        self.actual_policy = None

    @property
    def running(self):
        """Up: running, or being restarted by Docker (a paused container is not: it serves nothing)."""
        return self.state in UP_STATES

    @property
    def active(self):
        """Running as far as Docker is concerned (up or paused): a stop has to stop it."""
        return self.state in ACTIVE_STATES

    @property
    def paused(self):
        return self.state == PAUSED

    @property
    def dead(self):
        return self.state == DEAD

    @property
    def removing(self):
        return self.state == REMOVING

    @property
    def settled(self):
        """Neither dead nor being removed: Docker can start, stop and update it."""
        return self.state not in (DEAD, REMOVING)

    @property
    def spec_hash(self):
        return self.labels.get(specs.LABEL_SPEC_HASH)

    @property
    def dyno(self):
        return '%s.%s' % (self.process_type, self.index)


class Action(object):
    def __init__(self, kind, name, process_type, index, spec=None, container=None, reason='', policy=None):
        self.kind = kind
        self.name = name
        self.process_type = process_type
        self.index = index
        self.spec = spec
        self.container = container
        self.reason = reason
        # the restart policy the container has after the action (None: the action removes it)
        self.policy = policy
        if policy is None and kind in (CREATE, START, REPLACE) and spec is not None:
            self.policy = spec['restart_policy']
        elif kind == STOP:
            self.policy = 'no'

    def __repr__(self):
        return 'Action(%s %s)' % (self.kind, self.name)


class Plan(object):
    def __init__(self):
        self.phases = []
        self.warnings = []

    @property
    def actions(self):
        return [action for phase in self.phases for action in phase]

    @property
    def changed(self):
        return bool(self.actions)

    def names(self, kind):
        return sorted(action.name for action in self.actions if action.kind == kind)

    def touches(self, process_type):
        """True when an action of the plan works on a container of ``process_type``."""
        return any(action.process_type == process_type for action in self.actions)

    def summary(self):
        """What the plan does to containers: the six keys of results.CONTAINER_WORK, names sorted."""
        return {
            'created': self.names(CREATE),
            'started': self.names(START),
            'replaced': sorted(self.names(REPLACE) + self.names(RECREATE)),
            'stopped': self.names(STOP),
            'removed': self.names(REMOVE),
            'updated': self.names(UPDATE_POLICY),
        }


class Inventory(object):
    """The result of one list call, sorted into our containers, temporaries and foreign ones."""

    def __init__(self, app, summaries):
        self.app = app
        self.by_dyno = {}
        self.upcoming = []
        self.foreign = {}
        # the app's one-offs (release phase, runs, cron entries): stopped with it, removed with it, never planned
        self.oneoffs = []
        # the list call's answer as it was (the proxy reads the web containers' addresses from it)
        self.summaries = [summary for summary in summaries if summary]
        # set by _policy_drift.PolicyWatch.verify: the second of the daemon's clock up to which the restart
        # policies are known, and whether containers had to be inspected for it
        self.checked_until = None
        self.inspected = False
        for summary in summaries:
            container = Container(summary, app)
            if container.process_type is None:
                continue
            if container.oneoff:
                self.oneoffs.append(container)
                continue
            key = (container.process_type, container.index)
            if not container.ours:
                if not container.upcoming:
                    self.foreign[key] = container
            elif container.upcoming:
                self.upcoming.append(container)
            else:
                self.by_dyno[key] = container

    def of_type(self, ptype):
        return sorted((c for (t, _i), c in self.by_dyno.items() if t == ptype), key=lambda c: c.index)

    def types(self):
        return set(t for (t, _i) in self.by_dyno)

    def containers(self):
        return [self.by_dyno[key] for key in sorted(self.by_dyno)]


def spec_matches(container, spec):
    """Whether ``container`` still matches ``spec``, the spec its dyno gets now (specs.build_spec): the hash of what
    needs a new container is the one it was created with. A deploy replaces it when not; the restart policy is not
    part of it (it changes in place)."""
    return container.spec_hash == spec['hash']


def wanted_policy(container, restart_policy, stopped_policy=None):
    """The restart policy ``container`` should have: ``restart_policy`` while it is up or paused, or when no
    ``stopped_policy`` is given; else ``stopped_policy`` (a stopped app keeps its stopped containers at 'no')."""
    return restart_policy if (container.active or stopped_policy is None) else stopped_policy


def policy_current(container, applied, restart_policy, stopped_policy=None):
    """Whether ``container``'s restart policy (effective_policy) is the one it should have (wanted_policy). A dead
    container or one being removed counts as current: no policy is ever set on it."""
    if not container.settled:
        return True
    return effective_policy(container, applied) == wanted_policy(container, restart_policy, stopped_policy)


def effective_policy(container, applied):
    """The restart policy a container has now: what Docker reported when this run inspected it (see
    ``_policy_drift.PolicyWatch.verify``), else what was set in place (recorded in ``applied``), else the policy
    it was created with (its label)."""
    return (container.actual_policy or (applied or {}).get(container.id)
            or container.labels.get(specs.LABEL_RESTART_POLICY))


def plan_converge(app_doc, restart_policy, inventory, types=None, replace=True, start=True, remove_all=False,
                  force_replace=False):
    """Plan the containers of ``app_doc['formation']``.

    - ``types``: the process types to work on (None: every type that is desired or exists);
    - ``replace``: replace containers whose spec hash differs from the desired one (a deploy);
    - ``force_replace``: replace every container, matching or not (restart, rebuild);
    - ``start``: start matching containers that are not running;
    - ``remove_all``: remove every container of the app (the app is being deleted).
    Kept containers whose restart policy differs from ``restart_policy`` get it in place. Containers of other
    types are not looked at. Raises ConflictError when a name we need is held by a container that is not
    ours, before anything changes.
    """
    applied = app_doc.get('applied_policies') or {}
    plan = Plan()
    formation = {} if remove_all else dict(app_doc.get('formation') or {})
    if types is None:
        scope = set(formation) | inventory.types() | set(c.process_type for c in inventory.upcoming)
    else:
        scope = set(types)
    conflicts = []
    for ptype in ordered_types(scope):
        phase = []
        wanted = formation.get(ptype, 0)
        if ptype == RELEASE_TYPE:
            wanted = 0  # the release phase's command (_oneoff.py) never runs as a long-running process
        if wanted and not type_is_defined(app_doc, ptype):
            plan.warnings.append('%s is scaled to %d but the processes do not define it; its containers are removed'
                                 % (ptype, wanted))
            wanted = 0
        for index in range(1, wanted + 1):
            name = specs.container_name(app_doc['name'], ptype, index)
            current = inventory.by_dyno.get((ptype, index))
            if current is None:
                foreign = inventory.foreign.get((ptype, index))
                if foreign is not None:
                    conflicts.append(foreign)
                    continue
                spec = specs.build_spec(app_doc, restart_policy, ptype, index)
                phase.append(Action(CREATE, name, ptype, index, spec=spec, reason='missing'))
                continue
            spec = specs.build_spec(app_doc, restart_policy, ptype, index)
            if current.removing:
                # on its way out: the executor waits until it is gone, then creates the new one at its name
                phase.append(Action(CREATE, name, ptype, index, spec=spec, container=current,
                                    reason='its container was being removed'))
            elif current.dead:
                # nothing can start it again; a scale (which starts nothing) leaves it as it is
                if start or replace or force_replace:
                    phase.append(Action(RECREATE, name, ptype, index, spec=spec, container=current,
                                        reason='dead container'))
            elif force_replace or (replace and not spec_matches(current, spec)):
                phase.append(Action(REPLACE, name, ptype, index, spec=spec, container=current,
                                    reason='restart' if spec_matches(current, spec) else 'spec changed'))
            elif (start or current.state == CREATED) and not current.running:
                # 'created' was never started: the leftover of an interrupted create, started even by a scale;
                # a paused container is unpaused
                phase.append(Action(START, name, ptype, index, spec=spec, container=current,
                                    reason='not running (%s)' % current.state))
            elif effective_policy(current, applied) != restart_policy:
                phase.append(Action(UPDATE_POLICY, name, ptype, index, container=current, policy=restart_policy,
                                    reason='restart policy'))
        extras = [c for c in inventory.of_type(ptype) if c.index > wanted]
        for container in sorted(extras, key=lambda c: -c.index):
            phase.append(Action(REMOVE, container.name, ptype, container.index, container=container,
                                reason='scaled down'))
        for container in inventory.upcoming:
            if container.process_type == ptype:
                phase.append(Action(CLEANUP, container.name, ptype, container.index, container=container,
                                    reason='leftover of an interrupted run'))
        plan.phases.extend(_batches(phase, _max_parallel(app_doc, ptype)))
    if remove_all and inventory.oneoffs:
        plan.phases.append([Action(REMOVE, c.name, c.process_type, c.index, container=c, reason='app deleted')
                            for c in sorted(inventory.oneoffs, key=lambda c: c.name)])
    if conflicts:
        raise ConflictError(conflict_message(conflicts))
    return plan


def _max_parallel(app_doc, ptype):
    """How many containers of ``ptype`` are replaced at once: app.json's max_parallel, else no bound."""
    document = app_doc.get('app_json')
    return app_json.max_parallel(document, ptype) if document else None


def _batches(phase, limit):
    """A type's phase as phases that replace at most ``limit`` containers each (in index order); the other actions
    go with the first. Without a limit, or with few replacements, the phase stays whole."""
    if not phase:
        return []
    replacing = [action for action in phase if action.kind == REPLACE]
    if not limit or len(replacing) <= limit:
        return [phase]
    replacing.sort(key=lambda action: action.index)
    rest = [action for action in phase if action.kind != REPLACE]
    batches = [replacing[start:start + limit] for start in range(0, len(replacing), limit)]
    return [rest + batches[0]] + batches[1:]


def plan_policy(app_doc, restart_policy, inventory, stopped_policy=None):
    """Give every container of the app ``restart_policy`` in place, where it differs (containers that are not
    running get ``stopped_policy`` when given)."""
    plan = Plan()
    applied = app_doc.get('applied_policies') or {}
    actions = []
    for container in inventory.containers():
        # a dead container is never started again, one being removed is going: both count as current
        if not policy_current(container, applied, restart_policy, stopped_policy):
            actions.append(Action(UPDATE_POLICY, container.name, container.process_type, container.index,
                                  container=container, policy=wanted_policy(container, restart_policy, stopped_policy),
                                  reason='restart policy'))
    if actions:
        plan.phases.append(actions)
    return plan


def plan_stop(app_doc, inventory):
    """Stop every running container (restart policy 'no' first) and set 'no' on the stopped ones; keep them."""
    plan = Plan()
    applied = app_doc.get('applied_policies') or {}
    actions = []
    for container in inventory.containers():
        if not container.settled:
            continue  # a dead container is never started again, one being removed is going
        if container.active:
            actions.append(Action(STOP, container.name, container.process_type, container.index,
                                  container=container, reason='stop'))
        elif effective_policy(container, applied) != 'no':
            actions.append(Action(UPDATE_POLICY, container.name, container.process_type, container.index,
                                  container=container, policy='no', reason='stopped app'))
    for container in inventory.upcoming:
        actions.append(Action(CLEANUP, container.name, container.process_type, container.index,
                              container=container, reason='leftover of an interrupted run'))
    # its one-offs stop with the app (Dokku since 0.32); a detached one is removed by Docker once it stopped
    for container in sorted(inventory.oneoffs, key=lambda c: c.name):
        if container.active:
            actions.append(Action(STOP, container.name, container.process_type, container.index,
                                  container=container, reason='one-off of a stopped app'))
    if actions:
        plan.phases.append(actions)
    return plan


def applied_policies(app_doc, inventory, done):
    """The ``applied_policies`` map after a plan ran: the policies set in place on containers that still
    exist, where they differ from the policy the container was created with."""
    applied = dict(app_doc.get('applied_policies') or {})
    # what Docker reported for the containers this run inspected replaces what was recorded
    applied.update((c.id, c.actual_policy) for c in inventory.containers() if c.actual_policy)
    for action, container_id in done:
        if action.container is not None and action.kind in (REPLACE, REMOVE, CLEANUP, RECREATE, CREATE):
            applied.pop(action.container.id, None)
        elif action.kind in (START, STOP, UPDATE_POLICY):
            applied[container_id] = action.policy
    labels = dict((c.id, c.labels.get(specs.LABEL_RESTART_POLICY)) for c in inventory.containers())
    return dict((cid, policy) for cid, policy in applied.items() if cid in labels and labels[cid] != policy)


def conflict_message(containers):
    names = ', '.join(sorted(c.name for c in containers))
    owners = sorted(set(c.labels.get(specs.LABEL_APP) or '(no dokku_ps labels)' for c in containers))
    return ('container name(s) %s already taken by container(s) that dokku_ps does not manage (app label: %s); '
            'they were left untouched: rename or remove them, then run again' % (names, ', '.join(owners)))


def running_state(containers):
    """Dokku's running flag: 'true' (all running), 'false' (none, or no containers), 'mixed'."""
    if not containers:
        return 'false'
    running = [c for c in containers if c.running]
    if not running:
        return 'false'
    if len(running) == len(containers):
        return 'true'
    return 'mixed'
