# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_policy's operations: the process properties of an app or of every app (Dokku's ps:set).

Restart policies change in place through Docker's update API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import AppsFailed, DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._context import timestamp
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import (
    GLOBAL_PROPERTIES, computed_property, global_report)


PROPERTIES = ('restart_policy', 'stop_timeout_seconds', 'restore', 'keep_releases')
UNSET = ''

# What a dokku_ps_policy task asks for, validated: ``changes`` maps a property to its new raw value (None unsets).
PolicyRequest = collections.namedtuple('PolicyRequest', 'app is_global changes')


def parse(params):
    """The module's parameters -> a PolicyRequest (checked here, once, before anything changes)."""
    changes = validate_policy_params(params)
    is_global = bool(params.get('global'))
    return PolicyRequest(None if is_global else params['app'], is_global, changes)


def run(ctx, request):
    """dokku_ps_policy: the properties of one app, or the global ones."""
    if request.is_global:
        return _set_global(ctx, request.changes)
    return set_app_properties(ctx, request.app, request.changes)


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
    if params.get('scheduler') is not None:
        value = params['scheduler'].strip() if isinstance(params['scheduler'], str) else params['scheduler']
        if not is_global:
            raise ValidationError('scheduler', 'is set globally (global: true) here: an app\'s scheduler is a key of '
                                  'its declaration (dokku_ps_app scheduler)')
        if value not in (UNSET,) + scheduler.KINDS:
            raise ValidationError('scheduler', '%r is not one of %s (or an empty string to unset it)'
                                  % (value, ', '.join(scheduler.KINDS)))
        changes['scheduler'] = value or None
    for key in PROPERTIES:
        value = params.get(key)
        if value is None:
            continue
        if is_global and key not in GLOBAL_PROPERTIES:
            raise ValidationError(key, 'is an app property; it cannot be set globally')
        if isinstance(value, str) and value.strip() == UNSET:
            changes[key] = None
        elif key == 'restart_policy':
            changes[key] = validation.validate_restart_policy(value if isinstance(value, str) else str(value), key)
        elif key == 'stop_timeout_seconds':
            changes[key] = validation.validate_stop_timeout(value, key)
        elif key == 'keep_releases':
            changes[key] = releases.validate_keep(value, key)
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


def converge_policies(ctx, doc, global_doc, write=False):
    """Set the desired restart policy in place on every process of a deployed app that differs (a stopped app
    keeps its stopped processes at 'no')."""
    work = ctx.scheduler(doc).policies(doc, global_doc)
    ctx.commit(work, doc, global_doc, write=write, proxy=False)
    return work


def set_app_properties(ctx, name, changes):
    """Set (or unset) the app's properties; a new restart policy is applied in place to its containers."""
    with ctx.app_lock(name):
        doc = definitions.read_defined_app(ctx, name)
        global_doc = ctx.store.read_global()
        new_doc, diff = apply_properties(doc, changes)
        work = scheduler.nothing()
        if new_doc.get('deployed') and 'restart_policy' in changes:
            work = converge_policies(ctx, new_doc, global_doc, write=bool(diff))
        else:
            ctx.commit(work, new_doc, global_doc, write=bool(diff), proxy=False)
        # a smaller keep_releases drops the oldest releases when the document is written (Context.commit)
        dropped = sorted(set(releases.numbers(doc)) - set(releases.numbers(new_doc)))
        outcome = results.app_outcome(name, results.status_of(bool(diff) or work.changed), plan=work, doc=new_doc,
                                      global_doc=global_doc, property_changes=diff, releases_dropped=dropped)
        return results.one_app(outcome, diff={'before': {'properties': doc.get('properties')},
                                              'after': {'properties': new_doc.get('properties')}})


def _keep_releases(ctx, global_doc):
    """A new global keep_releases: every app that inherits it and keeps more releases drops its oldest now."""
    keep = computed_property(None, global_doc, 'keep_releases')
    outcomes = []
    for name in ctx.store.list_apps():
        try:
            with ctx.app_lock(name):
                doc = ctx.read_app(name)
                if not doc or doc['properties'].get('keep_releases') is not None or len(releases.kept(doc)) <= keep:
                    continue
                dropped = releases.prune(doc, keep)
                if not ctx.check_mode:
                    doc['updated_at'] = timestamp()
                    ctx.store.write_app(doc)
        except DokkuPsError as exc:
            outcomes.append(results.app_outcome(name, 'failed', str(exc)))
            continue
        outcomes.append(results.app_outcome(name, 'changed', 'inherits the global keep_releases', doc=doc,
                                            global_doc=global_doc, releases_dropped=dropped))
    return outcomes


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
                    work = converge_policies(ctx, doc, new_global)
            except DokkuPsError as exc:
                outcomes.append(results.app_outcome(name, 'failed', str(exc)))
                continue
            outcomes.append(results.app_outcome(name, results.status_of(work.changed), 'inherits the global '
                                                'restart policy', plan=work, doc=doc, global_doc=new_global))
    if 'keep_releases' in changes:
        by_name = dict((outcome['name'], outcome) for outcome in outcomes)
        for outcome in _keep_releases(ctx, new_global):
            first = by_name.get(outcome['name'])
            if first is None:
                outcomes.append(outcome)
            elif first['status'] != 'failed':
                # its restart policy changed too: one outcome with both
                first.update(status=outcome['status'] if outcome['status'] == 'failed' else 'changed',
                             reason='%s; %s' % (first['reason'], outcome['reason']),
                             releases_dropped=outcome.get('releases_dropped', []))
    result = results.many_apps(outcomes, property_changes=diff,
                               diff={'before': {'properties': global_doc.get('properties')},
                                     'after': {'properties': new_global.get('properties')}},
                               **{'global': global_report(new_global)})
    result['changed'] = result['changed'] or bool(diff)
    if result['apps_failed']:
        raise AppsFailed('the global properties were recorded, but %d app(s) could not be updated: %s' % (
            len(result['apps_failed']), '; '.join('%s: %s' % item for item in sorted(result['apps_failed'].items()))),
            result=result)
    return result
