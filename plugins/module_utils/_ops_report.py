# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_report's operations: the read-only report of apps (Dokku's ps:report, ps:inspect, ps)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json as app_json
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _image_definition as image_definition
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import computed_property, global_report
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import settings_of
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results


# What a dokku_ps_report task asks for, validated: one app (``app``), every app (None), or the global properties.
ReportRequest = collections.namedtuple('ReportRequest', 'app is_global inspect top')


def parse(params):
    """The module's parameters -> a ReportRequest (checked here, once)."""
    if params['app'] is not None:
        validate_app_name(params['app'], 'app')
    return ReportRequest(params['app'], params['global'], params['inspect'], params['top'])


def run(ctx, request):
    """dokku_ps_report: never changes anything."""
    if request.is_global:
        return {'changed': False, 'global': global_report(ctx.store.read_global())}
    return report(ctx, request.app, inspect=request.inspect, top=request.top)


def report(ctx, app=None, inspect=False, top=False):
    """dokku_ps_report: the report of one app at the top level, or of every app under ``apps`` (``app`` None).
    Never changes anything."""
    global_doc = ctx.store.read_global()
    if app is not None:
        docs = [definitions.read_defined_app(ctx, app)]
    else:
        docs = [doc for doc in (ctx.read_app(name) for name in ctx.store.list_apps()) if doc is not None]
    processes = ctx.report(docs, global_doc, inspect=inspect, top=top)
    outcomes = []
    for doc in docs:
        found = processes[doc['name']]
        outcomes.append(results.app_outcome(
            doc['name'], 'unchanged', doc=doc, global_doc=global_doc,
            deployed=doc.get('deployed', False),
            processes=found['processes'],
            running=found['running'],
            restore=computed_property(doc, global_doc, 'restore'),
            can_scale=image_definition.can_scale(doc),
            image=doc.get('image'),
            image_id=doc.get('image_id'),
            dynos=found['dynos'],
            sources=definitions.sources(doc),
            proxy=ctx.proxy.report(doc['name'], settings_of(doc)),
            certificate=ctx.tls.report(doc),
            oneoffs=found.get('oneoffs', []),
            cron=ctx.cron.report(doc['name'], app_json.cron_entries(doc.get('app_json')), ctx.redactor.text),
            release_phase=doc.get('release_phase'),
            **releases.report(doc)
        ))
    if app is not None:
        return results.one_app(outcomes[0], **{'global': global_report(global_doc)})
    return results.many_apps(outcomes, **{'global': global_report(global_doc)})
