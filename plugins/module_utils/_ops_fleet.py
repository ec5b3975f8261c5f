# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_fleet's operations: converge every app of a host, declared in one list, in one call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, NotFoundError, StateError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import for_each
from ansible_collections.dokku_ps.docker.plugins.module_utils import _declaration as declaration
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_app as ops_app
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_policy as ops_policy
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_scale as ops_scale
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_state as ops_state
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation


APP_STATES = tuple(declaration.STATE[declaration.FLEET][0]['choices'])


DECLARATION_KEYS = tuple(declaration.keys(declaration.FLEET))

# One app of the fleet, validated (the declaration of dokku_ps_app too).
Declaration = ops_app.Declaration
# What a dokku_ps_fleet task asks for, validated.
FleetRequest = collections.namedtuple('FleetRequest', 'declarations prune workers')


def parse(params):
    """The module's parameters -> a FleetRequest: every declaration checked here, once, before anything changes."""
    declarations, workers = validate_fleet_params(params)
    return FleetRequest(declarations, bool(params.get('prune')), workers)


def _pruned(name):
    """The declaration of an app that ``prune`` deletes."""
    return Declaration(name, 'absent', True, None, None, None)


def validate_declaration(given, position):
    """One app declaration -> a Declaration; errors name ``apps[<position>].<field>``."""
    where = 'apps[%d]' % position
    if not isinstance(given, dict):
        raise ValidationError(where, 'must be a dict describing an app')
    unknown = sorted(key for key in set(given) - set(DECLARATION_KEYS) if given[key] is not None)
    if unknown:
        known = ', '.join(DECLARATION_KEYS)
        raise ValidationError(where, 'unknown key(s) %s; known keys: %s' % (', '.join(unknown), known))
    state = given.get('state') or 'started'
    if state not in APP_STATES:
        raise ValidationError('%s.state' % where, '%r must be one of %s' % (state, ', '.join(APP_STATES)))
    deploy = given.get('deploy')
    if deploy is None:
        deploy = True
    if not isinstance(deploy, bool):
        raise ValidationError('%s.deploy' % where, '%r is not a boolean' % (deploy,))
    if not deploy and state == 'absent':
        raise ValidationError('%s.deploy' % where, 'false cannot be combined with state absent, which deletes the app '
                                                   'and its containers')
    try:
        values = definitions.validate_app_params(given)
        scale = None
        if given.get('scale') is not None:
            scale = validation.validate_formation(given['scale'], 'scale')
        properties = ops_policy.validate_policy_params({
            'app': values['name'],
            'restart_policy': given.get('restart_policy'),
            'stop_timeout_seconds': given.get('stop_timeout_seconds'),
            'keep_releases': given.get('keep_releases'),
        })
    except ValidationError as exc:
        raise ValidationError('%s.%s' % (where, exc.details['field']), exc.details['rule'])
    return Declaration(values['name'], state, deploy, values, scale, properties)


def validate_fleet_params(params):
    declarations = params.get('apps') or []
    if not isinstance(declarations, list):
        raise ValidationError('apps', 'must be a list of app declarations')
    result = []
    seen = set()
    for position, given in enumerate(declarations):
        item = validate_declaration(given, position)
        if item.name in seen:
            raise ValidationError('apps[%d].name' % position, 'app %s is declared twice' % item.name)
        seen.add(item.name)
        result.append(item)
    workers = ops_state.resolve_parallel(params.get('parallel'))
    return result, workers


def _outcome(item, done):
    """A fleet app's outcome: its state, container work, formation and properties and what of them changed."""
    status = results.status_of(done.changed)
    if done.doc is None:
        return results.app_outcome(item.name, status, plan=done.work, state='absent')
    return results.app_outcome(item.name, status, plan=done.work, doc=done.doc, global_doc=done.global_doc,
                               state=item.state, formation_changes=done.formation_changes,
                               property_changes=done.property_changes, release=releases.outcome(done.doc, done.old),
                               certificate=done.certificate, release_phase=done.release_phase)


def check_declarations(ctx, items):
    """What needs Docker to validate (the image exists, the scale fits the processes, a fixed port fits the
    formation, the proxy settings share no host port and domain with another app's), for every declaration before
    any app changes. A damaged state document is not checked here: that app fails on its own, the others
    converge."""
    built = []
    for position, item in enumerate(items):
        if item.state == 'absent':
            continue
        try:
            old = ctx.read_app(item.name)
        except StateError:
            continue
        try:
            doc, _rollback_of = definitions.build_declared(ctx, item.values, old)
            if item.scale:
                ops_scale.apply_scale(doc, item.scale, 'scale')
            validation.check_publish(doc)
            ctx.tls.check(doc, item.values)
        except ValidationError as exc:
            raise ValidationError('apps[%d].%s' % (position, exc.details['field']), exc.details['rule'])
        except NotFoundError as exc:
            raise ValidationError('apps[%d]' % position, str(exc))
        built.append((position, doc, old))
    absent = set(item.name for item in items if item.state == 'absent')
    docs = [doc for _position, doc, _old in built]
    for position, doc, old in built:
        try:
            definitions.check_proxy(ctx, doc, old, others=docs, gone=absent)
        except ValidationError as exc:
            raise ValidationError('apps[%d].%s' % (position, exc.details['field']), exc.details['rule'])


def run(ctx, request):
    """dokku_ps_fleet: every declared app, then (with ``prune``) the removal of undeclared ones."""
    items = list(request.declarations)
    check_declarations(ctx, items)
    declared = set(item.name for item in items)
    if request.prune:
        items = items + [_pruned(name) for name in ctx.store.list_apps() if name not in declared]
    if len([item for item in items if item.state != 'absent']) > 1:
        # one list call for all apps proves the no-ops; an app with work to do lists its containers again
        ctx.prefetch([item.name for item in items if item.state != 'absent'])

    def one(item):
        try:
            done = ops_app.converge(ctx, item, warning_prefix='%s: ' % item.name)
        except DokkuPsError as exc:
            return results.app_outcome(item.name, 'failed', str(exc), state=item.state), None
        outcome = _outcome(item, done)
        if item.name not in declared:
            outcome['pruned'] = True
        return outcome, ops_app.diff(done)

    done = for_each(one, items, request.workers)
    result = results.many_apps([outcome for outcome, _diff in done])
    changed_names = result['apps_changed']
    result['apps_pruned'] = sorted(name for name, outcome in result['apps'].items() if outcome.get('pruned'))
    result['diff'] = {
        'before': dict((o['name'], diff['before']) for o, diff in done if diff and o['name'] in changed_names),
        'after': dict((o['name'], diff['after']) for o, diff in done if diff and o['name'] in changed_names),
    }
    results.raise_if_failed(result, len(result['apps']))
    return result
