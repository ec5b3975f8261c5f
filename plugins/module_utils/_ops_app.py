# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_app's operations, and the one converge of an app declaration (dokku_ps_app, every app of a fleet)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy

from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _image_definition as image_definition
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_policy as ops_policy
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_scale as ops_scale
from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import app_is_active
from ansible_collections.dokku_ps.docker.plugins.module_utils import _release_phase as release_phase
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _tls as tls
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation

# One app declared, validated. ``state``: ``present`` (dokku_ps_app: recorded, and deployed as it runs now: a
# stopped app stays stopped), ``started``, ``stopped`` or ``absent``; ``values``: its definition
# (definitions.validate_app_params); ``scale``: its formation counts (None: kept); ``properties``: the properties
# it sets or unsets (ops_policy.validate_policy_params; None: none). dokku_ps_app is a fleet of one.
Declaration = collections.namedtuple('Declaration', 'name state deploy values scale properties')

# What converging a declaration did: the app's document before (``old``) and after (``doc``, None once deleted),
# the global document, the scheduler's work, whether anything changed, the counts and properties it changed, and
# what became of its certificate (_tls.TlsRun.commit; None without HTTPS).
Converged = collections.namedtuple('Converged', 'name doc old global_doc work changed formation_changes '
                                                'property_changes certificate release_phase')


def parse(params):
    """The module's parameters -> the app's Declaration; every value is checked here, once, before anything
    changes."""
    values = definitions.validate_app_params(params)
    return Declaration(values['name'], params['state'], params['deploy'], values, None, None)


def run(ctx, item):
    """dokku_ps_app: define and deploy the app, or delete it."""
    done = converge(ctx, item)
    if item.state == 'absent':
        return results.one_app(results.app_outcome(item.name, results.status_of(done.changed), plan=done.work),
                               diff=diff(done))
    doc = done.doc
    return results.one_app(results.app_outcome(
        item.name, results.status_of(done.changed), plan=done.work, doc=doc, global_doc=done.global_doc,
        image=doc.get('image'), image_id=doc.get('image_id'), deployed=doc.get('deployed', False),
        can_scale=image_definition.can_scale(doc), release=releases.outcome(doc, done.old),
        certificate=done.certificate, release_phase=done.release_phase), diff=diff(done))


def diff(done):
    """The diff of a converged app: its definition before and after (never an env value)."""
    return {'before': definitions.definition_view(done.old),
            'after': definitions.definition_view(done.doc, done.old) if done.doc is not None else {}}


def _state_of(doc):
    return {'properties': copy.deepcopy((doc or {}).get('properties')), 'deployed': (doc or {}).get('deployed')}


def converge(ctx, item, warning_prefix=''):
    """Bring one app to its Declaration ``item``; the caller holds no lock. Returns what it did (Converged).
    The scheduler's warnings are added to the run's with ``warning_prefix``."""
    name = item.name
    with ctx.app_lock(name):
        if item.state == 'absent':
            return delete_app_locked(ctx, name)
        old = ctx.read_app(name)
        global_doc = ctx.store.read_global()
        doc, rollback_of = definitions.build_declared(ctx, item.values, old)
        warn_pinned(ctx, name, item.values)
        scale_changes = ops_scale.apply_scale(doc, item.scale, 'scale') if item.scale else {}
        validation.check_publish(doc)
        if item.state == 'present':
            # a fleet checks the proxy settings of all its apps together, before any of them changes
            definitions.check_proxy(ctx, doc, old)
        ctx.tls.check(doc, item.values)
        property_changes = {}
        if item.properties is not None:
            doc, property_changes = ops_policy.apply_properties(doc, item.properties)

        # deploy false: everything is recorded (the restore flag follows a declared state), no process is touched
        # and the app is not marked deployed; it applies at the next deploy, start or restore
        deploy = item.deploy
        if item.state == 'started':
            if deploy:
                doc['deployed'] = True
            doc['properties']['restore'] = True
        elif item.state == 'stopped':
            # declared stopped: never started by a restore, whether deployed yet or not
            doc['properties']['restore'] = False
        elif deploy and not doc.get('deployed'):
            # present: the first deploy marks the app deployed, and restored after a reboot
            doc['deployed'] = True
            doc['properties']['restore'] = True
        new_definition = definitions.definition_changed(old, doc)
        recorded = new_definition or _state_of(old) != _state_of(doc)
        work = scheduler.nothing()
        rolls_out = False
        if deploy and doc.get('deployed'):
            app = ctx.scheduler(doc)
            if item.state == 'stopped':
                work = app.stop(doc, will_write=recorded)
            elif item.state == 'started' or app_is_active(doc, global_doc):
                rolls_out = True
                work = app.converge(doc, global_doc, will_write=recorded)
            elif new_definition:
                ctx.warn('app %s is stopped: the new definition is recorded and applies at its next start' % name)
        ctx.warnings.extend(warning_prefix + warning for warning in work.warnings)
        # predeploy and release run before anything changes; a failure raises with nothing recorded
        phase = release_phase.ReleasePhase(ctx, doc, rolls_out, item.values.get('release_phase_timeout')
                                           or oneoff.DEFAULT_PHASE_TIMEOUT)
        recorded = recorded or phase.due
        cron = ctx.plan_cron(doc, app_is_active(doc, global_doc) and item.state != 'stopped')
        phase.before()
        certificate = ctx.commit(work, doc, global_doc, write=recorded, proxy=deploy, rollback_of=rollback_of)
        phase.after(ctx.store.write_app)
        cron_changed = ctx.cron.sync(name, *cron) if deploy else False
        changed = recorded or work.changed or tls.changed(certificate) or cron_changed
        return Converged(name, doc, old, global_doc, work, changed, scale_changes, property_changes, certificate,
                         phase.outcome())


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


def delete_app_locked(ctx, name):
    """Delete the app, for a caller that holds the app's lock: its processes removed (stopped with policy 'no'
    first), then its state. Returns what it did (Converged, ``doc`` None)."""
    old = ctx.read_app(name)
    global_doc = ctx.store.read_global()
    doc = old or {'name': name, 'formation': {}}
    # the proxy forgets the app first (its config removed, nginx reloaded), then its processes go
    doc = dict(doc, proxy=None)
    app = ctx.scheduler(doc)
    work = app.delete(doc)
    changed = work.changed or old is not None
    ctx.proxy.remove(name)
    ctx.tls.forget(name)
    changed = ctx.cron.remove(name) or changed
    if not ctx.check_mode:
        if work.changed:
            app.apply(work, doc, global_doc)
        if old is not None:
            ctx.store.delete_app(name)
    return Converged(name, None, old, global_doc, work, changed, {}, {}, None, None)
