# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker-local report: each container of the apps reported, from ONE list call and one inspect per container.

Per dyno: status, restarts, restart policy, published ports, start time, Docker health, and whether the container
still matches what the next deploy would create, by the planner's own rules (``definition_current``,
``restart_policy_current``); sanitized inspect data and processes on request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import for_each, max_workers
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import (
    app_is_active, desired_restart_policies, restart_policy_from_docker)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs


def _published_ports(ports):
    result = []
    for port in ports or []:
        if port.get('PublicPort'):
            result.append({'container_port': port.get('PrivatePort'), 'host_port': port.get('PublicPort'),
                           'host_ip': port.get('IP'), 'protocol': port.get('Type')})
    return sorted(result, key=lambda p: (p['container_port'] or 0, p['host_ip'] or ''))


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


def report(run, docs, global_doc, inspect=False, top=False):
    """{app: {'processes', 'running', 'dynos'}} of the apps ``docs`` (LocalRun.report): ONE list call (by the app
    label: of the one app, or of every app), then every container inspected concurrently (and its processes listed,
    with ``top``). ``inspect`` adds each container's sanitized inspect data."""
    docker = run.docker
    if not docs:
        return {}
    if len(docs) == 1:
        summaries = docker.list_containers({'label': ['%s=%s' % (specs.LABEL_APP, docs[0]['name'])]})
    else:
        summaries = docker.list_containers({'label': [specs.LABEL_APP]})
    inventories = dict((doc['name'], planner.Inventory(doc['name'], summaries)) for doc in docs)
    containers = [c for inv in inventories.values() for c in inv.containers()]

    def details(container):
        data = docker.inspect_container(container.id) or {}
        processes = None
        if top and container.state == 'running':
            processes = docker.top(container.id)
        return container.id, data, processes

    inspected = dict((cid, (data, processes)) for cid, data, processes in for_each(details, containers, max_workers()))
    found = {}
    for doc in docs:
        inventory = inventories[doc['name']]
        public = redaction.public_names(doc)
        policies = desired_restart_policies(doc, global_doc, app_is_active(doc, global_doc))
        dynos = {}
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
                entry['inspect'] = redaction.sanitize_inspect(data, run.ctx.redactor, public)
            if top:
                entry['top'] = redaction.mask_container_data(processes, data, run.ctx.redactor, public)
            dynos[container.dyno] = entry
        oneoffs = [{'name': c.name, 'kind': c.labels.get(specs.LABEL_CONTAINER_TYPE), 'state': c.state,
                    'status': c.status, 'cron_id': c.labels.get(specs.LABEL_CRON_ID),
                    'phase': c.labels.get(specs.LABEL_PHASE)}
                   for c in sorted(inventory.oneoffs, key=lambda c: c.name)]
        found[doc['name']] = {'processes': len(inventory.containers()),
                              'running': planner.running_state(inventory.containers()), 'dynos': dynos,
                              'oneoffs': oneoffs}
    return found
