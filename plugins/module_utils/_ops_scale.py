# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_scale's operations: set how many containers each process type of an app runs (Dokku's ps:scale)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy

from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _image_definition as image_definition
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._formation import type_is_defined
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils._oneoff import RELEASE_TYPE
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import app_is_active
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation


# What a dokku_ps_scale task asks for, validated: ``scale`` None only reads the formation.
ScaleRequest = collections.namedtuple('ScaleRequest', 'app scale skip_deploy')


def parse(params):
    """The module's parameters -> a ScaleRequest (checked here, once, before anything changes)."""
    return ScaleRequest(params['app'], validate_scale_params(params['app'], params['scale']), params['skip_deploy'])


def validate_scale_params(name, scale):
    """The app name checked, and the counts of ``scale`` as integers (None: no scale given)."""
    validate_app_name(name, 'app')
    return None if scale is None else validation.validate_formation(scale, 'scale')


def run(ctx, request):
    """dokku_ps_scale."""
    return scale_app(ctx, request.app, request.scale, request.skip_deploy)


def apply_scale(doc, scale, field='scale'):
    """Set the counts of ``scale`` in ``doc['formation']`` (Dokku's ps:scale rules).

    Returns {type: {'before', 'after'}} of the counts that change. Refuses manual scaling of an app whose image
    has an app.json formation or a DOKKU_SCALE file, and counts above 0 for types the processes do not define; a 0 for such a type is
    accepted and not kept.
    """
    name = doc['name']
    owner = image_definition.formation_owner(doc)
    if owner == 'app.json':
        raise ValidationError(field, 'app %s takes its formation from the formation key of its app.json (%s) and '
                              'cannot be scaled manually (change the quantities in app.json, or remove its formation '
                              'key to scale by hand)' % (name, doc['app_json']['source']))
    if owner == 'DOKKU_SCALE':
        raise ValidationError(field, 'app %s takes its formation from the DOKKU_SCALE file in image %s and cannot '
                              'be scaled manually (remove the file from the image to scale by hand)'
                              % (name, doc.get('image')))
    for ptype in sorted(scale):
        if scale[ptype] > 0 and ptype == RELEASE_TYPE:
            raise ValidationError('%s.%s' % (field, ptype), 'release is the command of the release phase: it runs once '
                                  'before each new release goes live (docs/oneoffs.md), never as a long-running '
                                  'process, so it cannot be scaled above 0')
        if scale[ptype] > 0 and not type_is_defined(doc, ptype):
            raise ValidationError(field, '%s is not a valid process name to scale up' % ptype)
    before = dict(doc.get('formation') or {})
    after = dict(before)
    for ptype, count in scale.items():
        if count == 0 and not type_is_defined(doc, ptype):
            after.pop(ptype, None)
        else:
            after[ptype] = count
    doc['formation'] = after
    return dict((ptype, {'before': before.get(ptype, 0), 'after': after.get(ptype, 0)})
                for ptype in sorted(set(before) | set(after)) if before.get(ptype, 0) != after.get(ptype, 0))


def scale_app(ctx, name, scale, skip_deploy=False):
    """Set the counts of ``scale`` (validated) and create or remove the containers that changes; ``scale`` None
    returns the formation."""
    if scale is None:
        doc = definitions.read_defined_app(ctx, name)
        return results.one_app(_scale_outcome(doc, ctx.store.read_global(), None, {}, False))
    with ctx.app_lock(name):
        doc = definitions.read_defined_app(ctx, name)
        global_doc = ctx.store.read_global()
        new_doc = copy.deepcopy(doc)
        changes = apply_scale(new_doc, scale)
        validation.check_publish(new_doc, 'scale')
        before = dict(doc.get('formation') or {})
        after = new_doc['formation']

        work = scheduler.nothing()
        if skip_deploy:
            pass
        elif not doc.get('deployed'):
            ctx.warn('app %s has not been deployed: the formation is recorded and applies at its first deploy' % name)
        elif not app_is_active(doc, global_doc):
            ctx.warn('app %s is stopped: the formation is recorded and applies at its next start' % name)
        else:
            work = ctx.scheduler(new_doc).converge(new_doc, global_doc, types=sorted(scale), replace=False,
                                                   start=False)
            ctx.warnings.extend(work.warnings)
        changed = bool(changes) or work.changed
        ctx.commit(work, new_doc, global_doc, write=bool(changes), proxy=not skip_deploy)
        return results.one_app(_scale_outcome(new_doc, global_doc, work, changes, changed, before),
                               diff={'before': {'formation': before}, 'after': {'formation': after}})


def _scale_outcome(doc, global_doc, work, changes, changed, before=None):
    """dokku_ps_scale's outcome: the formation after the run, the whole formation ``before`` it (SPEC) and the
    changed counts (``formation_changes``)."""
    formation = dict(doc.get('formation') or {})
    return results.app_outcome(doc['name'], results.status_of(changed), plan=work, doc=doc, global_doc=global_doc,
                               before=formation if before is None else before, formation_changes=changes,
                               can_scale=image_definition.can_scale(doc))
