# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_fleet's operations: converge every app of a host, declared in one list, in one call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, NotFoundError, StateError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import for_each
from ansible_collections.dokku_ps.docker.plugins.module_utils import _declaration as declaration
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_app as ops_app
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_policy as ops_policy
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_scale as ops_scale
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_state as ops_state
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import computed_property


APP_STATES = tuple(declaration.STATE[declaration.FLEET][0]['choices'])


DECLARATION_KEYS = tuple(declaration.keys(declaration.FLEET))

# One app of the fleet, validated: ``values`` is its definition (definitions.validate_app_params), ``scale`` its
# formation counts (None: keep), ``properties`` the properties it sets or unsets (ops_policy.validate_policy_params).
Declaration = collections.namedtuple('Declaration', 'name state deploy values scale properties')
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


def _state_of(doc):
    return {'properties': copy.deepcopy((doc or {}).get('properties')), 'deployed': (doc or {}).get('deployed')}


def converge_app(ctx, item):
    """Bring one app to its Declaration ``item``. Returns (outcome, diff); the caller holds no lock."""
    name = item.name
    with ctx.app_lock(name):
        if item.state == 'absent':
            result = ops_app.delete_app_locked(ctx, name)
            return results.app_outcome(name, result['status'], containers=result['containers'],
                                       state='absent'), result['diff']
        old = ctx.read_app(name)
        global_doc = ctx.store.read_global()
        doc, rollback_of = definitions.build_declared(ctx, item.values, old)
        ops_app.warn_pinned(ctx, name, item.values)
        scale_changes = ops_scale.apply_scale(doc, item.scale, 'scale') if item.scale else {}
        validation.check_publish(doc)
        doc, property_changes = ops_policy.apply_properties(doc, item.properties)

        plan = planner.Plan()
        inventory = None
        # deploy false: everything is recorded (the restore flag follows the declared state), no container is
        # touched and the app is not marked deployed; it applies at the next deploy, start or restore
        deploy = item.deploy
        if item.state == 'started':
            if deploy:
                doc['deployed'] = True
            doc['properties']['restore'] = True
            policy = computed_property(doc, global_doc, 'restart_policy')

            def make_plan(inventory):
                return planner.plan_converge(doc, policy, inventory)
        else:
            # declared stopped: never started by a restore, whether deployed yet or not
            doc['properties']['restore'] = False

            def make_plan(inventory):
                return planner.plan_stop(doc, inventory)
        recorded_changed = (definitions.definition_changed(old, doc) or _state_of(old) != _state_of(doc))
        if deploy and doc.get('deployed'):
            inventory, plan = ctx.plan_app(name, make_plan, doc, will_write=recorded_changed)
        ctx.warnings.extend('%s: %s' % (name, warning) for warning in plan.warnings)
        ctx.commit(plan, doc, global_doc, inventory, write=recorded_changed, proxy=deploy, rollback_of=rollback_of)
        outcome = results.app_outcome(name, results.status_of(recorded_changed or plan.changed), plan=plan, doc=doc,
                                      global_doc=global_doc, state=item.state, formation_changes=scale_changes,
                                      property_changes=property_changes, release=releases.outcome(doc, old))
        diff = {'before': definitions.definition_view(old), 'after': definitions.definition_view(doc, old)}
        return outcome, diff


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
        ctx.take_snapshot([item.name for item in items if item.state != 'absent'])

    def one(item):
        try:
            outcome, diff = converge_app(ctx, item)
        except DokkuPsError as exc:
            return results.app_outcome(item.name, 'failed', str(exc), state=item.state), None
        if item.name not in declared:
            outcome['pruned'] = True
        return outcome, diff

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
