# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_app's operations: define and deploy an app, or delete it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import DEFAULT_RESTART_POLICY, computed_property


# What a dokku_ps_app task asks for, validated: ``values`` is the declaration (definitions.validate_app_params).
AppRequest = collections.namedtuple('AppRequest', 'name state deploy values')


def parse(params):
    """The module's parameters -> an AppRequest; every value is checked here, once, before anything changes."""
    values = definitions.validate_app_params(params)
    return AppRequest(values['name'], params['state'], params['deploy'], values)


def run(ctx, request):
    """dokku_ps_app: define and deploy the app, or delete it."""
    if request.state == 'absent':
        with ctx.app_lock(request.name):
            return delete_app_locked(ctx, request.name)
    return define_app(ctx, request)


def define_app(ctx, request):
    """dokku_ps_app state=present."""
    values = request.values
    name = request.name
    with ctx.app_lock(name):
        old = ctx.read_app(name)
        global_doc = ctx.store.read_global()
        doc, rollback_of = definitions.build_declared(ctx, values, old)
        warn_pinned(ctx, name, values)
        validation.check_publish(doc)
        definitions.check_proxy(ctx, doc, old)
        new_definition = definitions.definition_changed(old, doc)
        plan = planner.Plan()
        inventory = None
        first_deploy = False
        if request.deploy:
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
        ctx.commit(plan, doc, global_doc, inventory, write=changed, proxy=request.deploy, rollback_of=rollback_of)
        return results.one_app(app_outcome(doc, global_doc, plan, changed, release=releases.outcome(doc, old)),
                               diff={'before': definitions.definition_view(old),
                                     'after': definitions.definition_view(doc, old)})


def warn_pinned(ctx, name, values, prefix=''):
    """A declaration that pins a release and also gives what a release replaces: those keys are not applied."""
    if values.get('release') is None:
        return
    ignored = releases.ignored_keys(declared_keys(values))
    if ignored:
        ctx.warn('%sapp %s pins release %d: its %s %s not applied while the pin stays (docs/releases.md)' % (
            prefix, name, values['release'], ', '.join(ignored), 'is' if len(ignored) == 1 else 'are'))


def declared_keys(values):
    """The declaration keys ``values`` (definitions.validate_app_params) were given."""
    given = set(values)
    source = values.get('process_source')
    if source is not None:
        given.add({'procfile': 'procfile', 'procfile_path': 'procfile_path'}.get(source, 'processes'))
    return given


def app_outcome(doc, global_doc, plan, changed, **extra):
    """The outcome of dokku_ps_app for a defined app: its definition, formation, properties and container work."""
    return results.app_outcome(doc['name'], results.status_of(changed), plan=plan, doc=doc, global_doc=global_doc,
                               image=doc.get('image'), image_id=doc.get('image_id'),
                               deployed=doc.get('deployed', False), can_scale=definitions.can_scale(doc),
                               **extra)


def delete_app_locked(ctx, name):
    """dokku_ps_app state=absent, for a caller that holds the app's lock: stop (policy 'no' first) and remove
    every container, then the state."""
    old = ctx.read_app(name)
    global_doc = ctx.store.read_global()
    doc = old or {'name': name, 'formation': {}}
    inventory = ctx.inventory(name)
    plan = planner.plan_converge(doc, DEFAULT_RESTART_POLICY, inventory, remove_all=True)
    changed = plan.changed or old is not None
    # the proxy forgets the app first (its config removed, nginx reloaded), then its containers go
    ctx.proxy.remove(name)
    doc = dict(doc, proxy=None)
    if not ctx.check_mode:
        if plan.changed:
            ctx.run_plan(plan, doc, global_doc)
        if old is not None:
            ctx.store.delete_app(name)
    return results.one_app(results.app_outcome(name, results.status_of(changed), plan=plan),
                           diff={'before': definitions.definition_view(old), 'after': {}})
