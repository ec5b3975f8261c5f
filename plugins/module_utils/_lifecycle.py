# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lifecycle operations: process properties (dokku_ps_policy) and start / stop / restart / rebuild /
restore (dokku_ps_state), for one app or many apps in parallel.

Restart policies are changed in place through Docker's update API (same container, no restart). Labels
cannot change, so what was set in place is remembered in the app document (``applied_policies``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._executor import for_each
from ansible_collections.dokku_ps.docker.plugins.module_utils import _model as model
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name, validate_process_type
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _service as service

PROPERTIES = ('restart_policy', 'stop_timeout_seconds', 'restore')
STATES = ('started', 'stopped', 'restarted', 'rebuilt', 'restored')
UNSET = ''


class AppsFailed(DokkuPsError):
    """Some apps of a multi-app run failed; ``details['result']`` holds every app's outcome."""


def raise_if_failed(result, total, shown=None):
    """Raise AppsFailed (one line naming each failed app) when ``result['apps_failed']`` is not empty; the
    failure carries ``shown`` (default: ``result``) as the module's result."""
    if result['apps_failed']:
        raise AppsFailed('%d of %d app(s) failed: %s' % (
            len(result['apps_failed']), total,
            '; '.join('%s: %s' % item for item in result['apps_failed'].items())),
            result=result if shown is None else shown)


# -------------------------------------------------------------------------------------------------------------
# dokku_ps_policy
# -------------------------------------------------------------------------------------------------------------

def validate_policy_params(params):
    """The properties to set (a value) or unset (None), from the module's options.

    An empty string unsets a property (Dokku's convention); an option left out is not managed.
    """
    is_global = bool(params.get('global'))
    if not is_global:
        if not params.get('app'):
            raise ValidationError('app', 'give an app, or global: true')
        validate_app_name(params['app'], 'app')
    changes = {}
    for key in PROPERTIES:
        value = params.get(key)
        if value is None:
            continue
        if is_global and key not in model.GLOBAL_PROPERTIES:
            raise ValidationError(key, 'is an app property; it cannot be set globally')
        if isinstance(value, str) and value.strip() == UNSET:
            changes[key] = None
        elif key == 'restart_policy':
            changes[key] = model.validate_restart_policy(value if isinstance(value, str) else str(value), key)
        elif key == 'stop_timeout_seconds':
            changes[key] = model.validate_stop_timeout(value, key)
        else:
            try:
                changes[key] = boolean(value, strict=True)
            except TypeError:
                raise ValidationError(key, '%r is not a boolean (or an empty string to unset it)' % (value,))
    return changes


def apply_properties(document, changes):
    """Returns (new document, {key: {'before', 'after'}} of the raw values that change)."""
    new = copy.deepcopy(document)
    props = new.setdefault('properties', {})
    diff = {}
    for key, value in changes.items():
        if props.get(key) != value:
            diff[key] = {'before': props.get(key), 'after': value}
            props[key] = value
    return new, diff


def _desired_policies(doc, global_doc):
    """(policy of running containers, policy of stopped ones): a stopped app keeps its stopped containers at
    'no' so that a daemon restart never brings them back."""
    computed = model.computed_property(doc, global_doc, 'restart_policy')
    return computed, computed if service.app_is_active(doc, global_doc) else 'no'


def converge_policies(ctx, doc, global_doc, write=False):
    """Set the desired restart policy in place on every container of a deployed app that differs."""
    running_policy, stopped_policy = _desired_policies(doc, global_doc)
    inventory = ctx.inventory(doc['name'], doc)
    plan = planner.plan_policy(doc, running_policy, inventory, stopped_policy=stopped_policy)
    ctx.commit(plan, doc, global_doc, inventory, write=write)
    return plan


def set_properties(ctx, params):
    changes = validate_policy_params(params)
    if params.get('global'):
        return _set_global(ctx, changes)
    name = params['app']
    with ctx.app_lock(name):
        doc = service.read_defined_app(ctx, name)
        global_doc = ctx.store.read_global()
        new_doc, diff = apply_properties(doc, changes)
        plan = planner.Plan()
        if new_doc.get('deployed') and 'restart_policy' in changes:
            plan = converge_policies(ctx, new_doc, global_doc, write=bool(diff))
        else:
            ctx.commit(plan, new_doc, global_doc, None, write=bool(diff))
        outcome = results.app_outcome(name, results.status_of(bool(diff) or plan.changed), plan=plan, doc=new_doc,
                                      global_doc=global_doc, property_changes=diff)
        return results.one_app(outcome, diff={'before': {'properties': doc.get('properties')},
                                              'after': {'properties': new_doc.get('properties')}})


def _set_global(ctx, changes):
    with ctx.global_lock():
        global_doc = ctx.store.read_global()
        new_global, diff = apply_properties(global_doc, changes)
        if diff and not ctx.check_mode:
            ctx.store.write_global(new_global)
    outcomes = []
    if 'restart_policy' in changes:
        # every deployed app that inherits the global policy gets it in place
        for name in ctx.store.list_apps():
            try:
                with ctx.app_lock(name):
                    doc = ctx.read_app(name)
                    if not doc or not doc.get('deployed') or doc['properties'].get('restart_policy'):
                        continue
                    plan = converge_policies(ctx, doc, new_global)
            except DokkuPsError as exc:
                outcomes.append(results.app_outcome(name, 'failed', str(exc)))
                continue
            outcomes.append(results.app_outcome(name, results.status_of(plan.changed), 'inherits the global '
                                                'restart policy', plan=plan, doc=doc, global_doc=new_global))
    result = results.many_apps(outcomes, property_changes=diff,
                               diff={'before': {'properties': global_doc.get('properties')},
                                     'after': {'properties': new_global.get('properties')}},
                               **{'global': service.global_report(new_global)})
    result['changed'] = result['changed'] or bool(diff)
    if result['apps_failed']:
        raise AppsFailed('the global properties were recorded, but %d app(s) could not be updated: %s' % (
            len(result['apps_failed']), '; '.join('%s: %s' % item for item in sorted(result['apps_failed'].items()))),
            result=result)
    return result


# -------------------------------------------------------------------------------------------------------------
# dokku_ps_state
# -------------------------------------------------------------------------------------------------------------

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


def validate_state_params(params):
    """Returns (target app names or None for every app, state, process_type, workers)."""
    state = params['state']
    if state not in STATES:
        raise ValidationError('state', '%r must be one of %s' % (state, ', '.join(STATES)))
    if params.get('all'):
        names = None
    elif params.get('apps'):
        names = [validate_app_name(name, 'apps') for name in params['apps']]
    elif params.get('app'):
        names = [validate_app_name(params['app'], 'app')]
    else:
        raise ValidationError('app', 'give app, apps or all: true')
    process_type = params.get('process_type')
    if process_type is not None:
        if state != 'restarted' or names is None or len(names) != 1:
            raise ValidationError('process_type', 'only works with state=restarted and one app')
        validate_process_type(process_type, 'process_type')
    workers = resolve_parallel(params.get('parallel'))
    return names, state, process_type, workers


def _set_restore(doc, value):
    """Returns True when the app's restore flag changes."""
    before = model.computed_property(doc, None, 'restore')
    doc['properties']['restore'] = value
    return before != value


def _rebuild_definition(ctx, doc):
    """Re-resolve the image reference and re-read what the image defines (Procfile, DOKKU_SCALE)."""
    old = copy.deepcopy(doc)
    image_data = service.resolve_image(ctx, doc['image'])
    doc['image_id'] = image_data['Id']
    service.apply_image(ctx, doc, old, {'image': doc['image']}, image_data, force=True)


def change_state(ctx, name, state, process_type=None):
    """One app. Returns its outcome: status changed / unchanged / skipped, with the reason and containers."""
    doc = service.read_defined_app(ctx, name)
    global_doc = ctx.store.read_global()

    def outcome(status, reason, plan=None):
        return results.app_outcome(name, status, reason, plan=plan, doc=doc, global_doc=global_doc,
                                   restore=model.computed_property(doc, global_doc, 'restore'))
    if not doc.get('deployed'):
        return outcome('skipped', 'not deployed')
    if state == 'restored' and not service.app_is_active(doc, global_doc):
        return outcome('skipped', 'restore flag is false (the app was stopped on purpose)')

    policy = model.computed_property(doc, global_doc, 'restart_policy')
    if state == 'stopped':
        flag_changed = _set_restore(doc, False)

        def make_plan(inventory):
            return planner.plan_stop(doc, inventory)
    else:
        flag_changed = _set_restore(doc, True)
        if state == 'rebuilt':
            _rebuild_definition(ctx, doc)
        force = state in ('restarted', 'rebuilt')
        types = [process_type] if process_type else None

        def make_plan(inventory):
            return planner.plan_converge(doc, policy, inventory, types=types, force_replace=force)
    write = flag_changed or state == 'rebuilt'
    inventory, plan = ctx.plan_app(name, make_plan, doc, will_write=write)
    ctx.warnings.extend(plan.warnings)
    ctx.commit(plan, doc, global_doc, inventory, write=write)
    if plan.changed or flag_changed:
        return outcome('changed', state, plan)
    return outcome('unchanged', 'already stopped' if state == 'stopped' else 'already running', plan)


def change_states(ctx, names, state, process_type=None, workers=1, single=False):
    """Many apps: each under its own lock, ``workers`` apps at a time, their container actions sharing the
    run's one bounded pool (``ctx.actions``); a failing app never stops the others. ``single``: the task named
    one app (``app``), whose outcome is then the result's top level."""
    if names is None:
        names = ctx.store.list_apps()
    if len(names) > 1 and state not in ('restarted', 'rebuilt'):
        # one list call for all apps proves the no-ops (restarted and rebuilt always change)
        ctx.take_snapshot(names)

    def one(name):
        try:
            with ctx.app_lock(name):
                return change_state(ctx, name, state, process_type)
        except DokkuPsError as exc:
            return results.app_outcome(name, 'failed', str(exc))

    result = results.many_apps(for_each(one, names, workers), state=state)
    if single:
        # the task named one app: its outcome is the result's top level, on failure too
        raise_if_failed(result, 1, shown=results.one_app(result['apps'][names[0]], state=state))
        return results.one_app(result['apps'][names[0]], state=state)
    raise_if_failed(result, len(result['apps']))
    return result
