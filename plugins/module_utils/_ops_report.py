# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_report's operations: the read-only report of apps (Dokku's ps:report, ps:inspect, ps)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.dokku_ps.docker.plugins.module_utils import _check_rules as check_rules
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import for_each, max_workers
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import (
    computed_property, desired_restart_policies, global_report, restart_policy_from_docker)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs


# Where an app's formation comes from (``sources.formation``): the formation of its app.json, the image's
# DOKKU_SCALE file, or the counts set through dokku_ps_scale and declarations' ``scale`` (or the default).
FORMATION_SCALE = 'scale'


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


def _published_ports(ports):
    result = []
    for port in ports or []:
        if port.get('PublicPort'):
            result.append({'container_port': port.get('PrivatePort'), 'host_port': port.get('PublicPort'),
                           'host_ip': port.get('IP'), 'protocol': port.get('Type')})
    return sorted(result, key=lambda p: (p['container_port'] or 0, p['host_ip'] or ''))


def formation_source(doc):
    """Where the app's formation comes from: 'app.json' when its app.json sets the quantity of a process type,
    'DOKKU_SCALE' when the image's DOKKU_SCALE file sets it, else 'scale' (definitions.formation_owner)."""
    return definitions.formation_owner(doc) or FORMATION_SCALE


def sources(doc):
    """Where the app's formation and, per process type of the formation, its checks come from (the checks a new
    container must pass, see _check_rules.effective), and what the app's app.json document was read from (None
    without one)."""
    return {
        'formation': formation_source(doc),
        'checks': check_rules.sources(doc),
        'app_json': (doc.get('app_json') or {}).get('source'),
    }


def health(data):
    """The health Docker reports for a container with a HEALTHCHECK (healthy, unhealthy, starting), from its
    inspect data; None without one."""
    return ((data.get('State') or {}).get('Health') or {}).get('Status') or None


def drift(doc, container, data, policies):
    """Whether a container still matches what the next deploy or rebuild would create, by the planner's own rules:
    ``definition_current`` (the spec its dyno gets now has the hash it was created with, else a deploy replaces
    it) and ``restart_policy_current`` (its restart policy, as ``data`` (its inspect data) shows it, is the one
    it should have; ``policies``: the app's (running, stopped) policies, see desired_restart_policies)."""
    running_policy, stopped_policy = policies
    if data:
        container.actual_policy = restart_policy_from_docker((data.get('HostConfig') or {}).get('RestartPolicy'))
    spec = specs.build_spec(doc, running_policy, container.process_type, container.index)
    return {
        'definition_current': planner.spec_matches(container, spec),
        'restart_policy_current': planner.policy_current(container, doc.get('applied_policies'), running_policy,
                                                         stopped_policy),
    }


def report(ctx, app=None, inspect=False, top=False):
    """dokku_ps_report: the report of one app at the top level, or of every app under ``apps`` (``app`` None).
    Never changes anything."""
    global_doc = ctx.store.read_global()
    if app is not None:
        docs = [definitions.read_defined_app(ctx, app)]
        summaries = ctx.docker.list_containers({'label': ['%s=%s' % (specs.LABEL_APP, app)]})
    else:
        docs = [doc for doc in (ctx.read_app(name) for name in ctx.store.list_apps()) if doc is not None]
        summaries = ctx.docker.list_containers({'label': [specs.LABEL_APP]}) if docs else []
    inventories = dict((doc['name'], planner.Inventory(doc['name'], summaries)) for doc in docs)
    containers = [c for inv in inventories.values() for c in inv.containers()]

    def details(container):
        data = ctx.docker.inspect_container(container.id) or {}
        processes = None
        if top and container.state == 'running':
            processes = ctx.docker.top(container.id)
        return container.id, data, processes

    inspected = dict((cid, (data, processes)) for cid, data, processes in for_each(details, containers, max_workers()))
    outcomes = []
    for doc in docs:
        inventory = inventories[doc['name']]
        dynos = {}
        public = definitions.public_names(doc)
        policies = desired_restart_policies(doc, global_doc, definitions.app_is_active(doc, global_doc))
        for container in inventory.containers():
            data, processes = inspected.get(container.id, ({}, None))
            state = data.get('State') or {}
            entry = {
                'name': container.name,
                'id': container.id,
                'status': state.get('Status') or container.state,
                'restart_count': data.get('RestartCount', 0),
                'restart_policy': restart_policy_from_docker((data.get('HostConfig') or {}).get('RestartPolicy')),
                'ports': _published_ports(container.ports),
                'started_at': state.get('StartedAt'),
                'health': health(data),
            }
            entry.update(drift(doc, container, data, policies))
            if inspect and data:
                entry['inspect'] = redaction.sanitize_inspect(data, ctx.redactor, public)
            if top:
                entry['top'] = redaction.mask_container_data(processes, data, ctx.redactor, public)
            dynos[container.dyno] = entry
        outcomes.append(results.app_outcome(
            doc['name'], 'unchanged', doc=doc, global_doc=global_doc,
            deployed=doc.get('deployed', False),
            processes=len(inventory.containers()),
            running=planner.running_state(inventory.containers()),
            restore=computed_property(doc, global_doc, 'restore'),
            can_scale=definitions.can_scale(doc),
            image=doc.get('image'),
            image_id=doc.get('image_id'),
            dynos=dynos,
            sources=sources(doc),
            proxy=ctx.proxy.report(doc),
            **releases.report(doc)
        ))
    if app is not None:
        return results.one_app(outcomes[0], **{'global': global_report(global_doc)})
    return results.many_apps(outcomes, **{'global': global_report(global_doc)})
