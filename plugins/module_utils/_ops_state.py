# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_state's operations: start, stop, restart, rebuild and restore one app, a list or every app."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy
import os

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import for_each
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name, validate_process_type
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _image_definition as image_definition
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import app_is_active, computed_property


STATES = ('started', 'stopped', 'restarted', 'rebuilt', 'restored')


def resolve_parallel(parallel):
    """1 (or 0) serial, N workers, -1 one per CPU; anything below -1 is refused."""
    if parallel is None:
        return 1
    if isinstance(parallel, bool) or not isinstance(parallel, int):
        raise ValidationError('parallel', '%r is not an integer' % (parallel,))
    if parallel < -1:
        raise ValidationError('parallel', '%d is invalid: use 1 (serial), a number of workers, or -1 (one per CPU)'
                              % parallel)
    if parallel == -1:
        return max(1, os.cpu_count() or 1)
    return max(1, parallel)


# What a dokku_ps_state task asks for, validated: ``apps`` None means every app; ``single`` is a task that named
# one app (``app``), whose outcome is then the result's top level.
StateRequest = collections.namedtuple('StateRequest', 'apps state process_type workers single')


def parse(params):
    """The module's parameters -> a StateRequest (checked here, once, before anything changes)."""
    names, state, process_type, workers = validate_state_params(params)
    return StateRequest(names, state, process_type, workers, names_one_app(params))


def run(ctx, request):
    """dokku_ps_state."""
    return change_states(ctx, request.apps, request.state, request.process_type, request.workers, request.single)


def validate_targets(params):
    """The apps a task over one app, a list or all of them names (``app``, ``apps``, ``all``): their names, or None
    for every app of the host."""
    if params.get('all'):
        return None
    if params.get('apps'):
        return [validate_app_name(name, 'apps') for name in params['apps']]
    if params.get('app'):
        return [validate_app_name(params['app'], 'app')]
    raise ValidationError('app', 'give app, apps or all: true')


def names_one_app(params):
    """True when the task named one app (``app``): its outcome is then the result's top level."""
    return bool(params.get('app')) and not params.get('apps') and not params.get('all')


def validate_state_params(params):
    """Returns (target app names or None for every app, state, process_type, workers)."""
    state = params['state']
    if state not in STATES:
        raise ValidationError('state', '%r must be one of %s' % (state, ', '.join(STATES)))
    names = validate_targets(params)
    process_type = params.get('process_type')
    if process_type is not None:
        if state != 'restarted' or names is None or len(names) != 1:
            raise ValidationError('process_type', 'only works with state=restarted and one app')
        validate_process_type(process_type, 'process_type')
    workers = resolve_parallel(params.get('parallel'))
    return names, state, process_type, workers


def _set_restore(doc, value):
    """Returns True when the app's restore flag changes."""
    before = computed_property(doc, None, 'restore')
    doc['properties']['restore'] = value
    return before != value


def _rebuild_definition(ctx, doc):
    """Re-resolve the image reference and re-read what the image defines (Procfile, DOKKU_SCALE)."""
    old = copy.deepcopy(doc)
    image_data = image_definition.resolve_image(ctx, doc['image'])
    doc['image_id'] = image_data['Id']
    image_definition.apply_image(ctx, doc, old, {'image': doc['image']}, image_data, force=True)


def change_state(ctx, name, state, process_type=None):
    """One app. Returns its outcome: status changed / unchanged / skipped, with the reason and containers."""
    doc = definitions.read_defined_app(ctx, name)
    global_doc = ctx.store.read_global()

    def outcome(status, reason, work=None):
        return results.app_outcome(name, status, reason, plan=work, doc=doc, global_doc=global_doc,
                                   restore=computed_property(doc, global_doc, 'restore'))
    if not doc.get('deployed'):
        return outcome('skipped', 'not deployed')
    if state == 'restored' and not app_is_active(doc, global_doc):
        return outcome('skipped', 'restore flag is false (the app was stopped on purpose)')

    app = ctx.scheduler(doc)
    if state == 'stopped':
        flag_changed = _set_restore(doc, False)
        write = flag_changed
        work = app.stop(doc, will_write=write)
    else:
        flag_changed = _set_restore(doc, True)
        if state == 'rebuilt':
            _rebuild_definition(ctx, doc)
        write = flag_changed or state == 'rebuilt'
        work = app.converge(doc, global_doc, types=[process_type] if process_type else None,
                            force_replace=state in ('restarted', 'rebuilt'), will_write=write)
    ctx.warnings.extend(work.warnings)
    # a stopped app's cron entries run nothing until it starts again (docs/oneoffs.md)
    cron = ctx.plan_cron(doc, state != 'stopped')
    ctx.commit(work, doc, global_doc, write=write)
    if ctx.cron.sync(name, *cron):
        flag_changed = True
    if work.changed or flag_changed:
        return outcome('changed', state, work)
    return outcome('unchanged', 'already stopped' if state == 'stopped' else 'already running', work)


def change_states(ctx, names, state, process_type=None, workers=1, single=False):
    """Many apps: each under its own lock, ``workers`` apps at a time, their container actions sharing the
    run's one bounded pool (the scheduler's, _concurrency.ActionPool); a failing app never stops the others.
    ``single``: the task named one app (``app``), whose outcome is then the result's top level."""
    if names is None:
        names = ctx.store.list_apps()
    if len(names) > 1 and state not in ('restarted', 'rebuilt'):
        # one list call for all apps proves the no-ops (restarted and rebuilt always change)
        ctx.prefetch(names)
    return each_app(ctx, names, workers, single, lambda name: change_state(ctx, name, state, process_type),
                    state=state)


def each_app(ctx, names, workers, single, work_on, **extra):
    """``work_on(name)`` -> the app's outcome, for every app of ``names`` (None: every app of the host), each under
    its own lock, ``workers`` apps at a time; an app that fails is a ``failed`` outcome and never stops the others.
    Returns the task's result (with ``extra``): every app's outcome, or with ``single`` (the task named one app) that
    app's outcome at the top level. Raises AppsFailed, carrying that result, when an app failed."""
    if names is None:
        names = ctx.store.list_apps()

    def one(name):
        try:
            with ctx.app_lock(name):
                return work_on(name)
        except DokkuPsError as exc:
            return results.app_outcome(name, 'failed', str(exc))

    result = results.many_apps(for_each(one, names, workers), **extra)
    if single:
        # the task named one app: its outcome is the result's top level, on failure too
        shown = results.one_app(result['apps'][names[0]], **extra)
        results.raise_if_failed(result, 1, shown=shown)
        return shown
    results.raise_if_failed(result, len(result['apps']))
    return result
