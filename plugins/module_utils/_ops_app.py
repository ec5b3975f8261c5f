# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_app's operations: define and deploy an app, or delete it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import DEFAULT_RESTART_POLICY, computed_property


def define_app(ctx, params):
    """dokku_ps_app state=present."""
    values = definitions.validate_app_params(params)
    name = values['name']
    with ctx.app_lock(name):
        old = ctx.read_app(name)
        global_doc = ctx.store.read_global()
        doc = definitions.build_definition(ctx, values, old)
        validation.check_publish(doc)
        new_definition = definitions.definition_changed(old, doc)
        plan = planner.Plan()
        inventory = None
        first_deploy = False
        if params.get('deploy', True):
            if not doc.get('deployed'):
                first_deploy = True
                doc['deployed'] = True
                doc['properties']['restore'] = True
            if definitions.app_is_active(doc, global_doc):
                policy = computed_property(doc, global_doc, 'restart_policy')
                inventory = ctx.inventory(name, doc)
                plan = planner.plan_converge(doc, policy, inventory)
            elif new_definition:
                ctx.warn('app %s is stopped: the new definition is recorded and applies at its next start' % name)
        ctx.warnings.extend(plan.warnings)

        changed = new_definition or first_deploy or plan.changed
        ctx.commit(plan, doc, global_doc, inventory, write=changed)
        return results.one_app(app_outcome(doc, global_doc, plan, changed),
                               diff={'before': definitions.definition_view(old), 'after': definitions.definition_view(doc, old)})


def app_outcome(doc, global_doc, plan, changed, **extra):
    """The outcome of dokku_ps_app for a defined app: its definition, formation, properties and container work."""
    return results.app_outcome(doc['name'], results.status_of(changed), plan=plan, doc=doc, global_doc=global_doc,
                               image=doc.get('image'), image_id=doc.get('image_id'),
                               deployed=doc.get('deployed', False), can_scale=doc.get('dokku_scale') is None,
                               **extra)


def delete_app(ctx, name):
    """dokku_ps_app state=absent: stop (policy 'no' first) and remove every container, then the state."""
    validate_app_name(name, 'name')
    with ctx.app_lock(name):
        return delete_app_locked(ctx, name)


def delete_app_locked(ctx, name):
    """delete_app for a caller that already holds the app's lock."""
    old = ctx.read_app(name)
    global_doc = ctx.store.read_global()
    doc = old or {'name': name, 'formation': {}}
    inventory = ctx.inventory(name)
    plan = planner.plan_converge(doc, DEFAULT_RESTART_POLICY, inventory, remove_all=True)
    changed = plan.changed or old is not None
    if not ctx.check_mode:
        if plan.changed:
            ctx.run_plan(plan, doc, global_doc)
        if old is not None:
            ctx.store.delete_app(name)
    return results.one_app(results.app_outcome(name, results.status_of(changed), plan=plan),
                           diff={'before': definitions.definition_view(old), 'after': {}})
