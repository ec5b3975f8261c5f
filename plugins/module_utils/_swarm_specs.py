# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm services (the swarm scheduler, issue 24): each process type of an app as one replicated service. Pure.

What a service of an app is made of, in the Engine API's shapes (``POST /services/create``): its name and labels
(one filtered list finds an app's services), the task template (the release's image by id, the type's command as
``Args`` so the image's ENTRYPOINT stays, as with containers; the env with ``DYNO=<type>.{{.Task.Slot}}``;
Dokku's labels; the app.json liveness checks as the task's HEALTHCHECK), the restart policy, the stop grace period,
the replicas (the formation), the rolling update (start-first, ``max_parallel`` at a time, rolled back on failure)
and, for web, the endpoint: DNS round robin (``dnsrr``) with the web port published in host mode on a port Docker
picks, since the routing mesh needs IPVS, which this project's kernels do not always have.

Nothing here talks to Docker; the swarm scheduler sends these specs and compares their hash with what runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._formation import process_command, process_env
from ansible_collections.dokku_ps.docker.plugins.module_utils import _check_rules as check_rules
from ansible_collections.dokku_ps.docker.plugins.module_utils._health import (
    LIVENESS, NANOSECONDS, UPTIME_CHECK, app_json_checks, entry_kind, healthcheck_of)
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import DEFAULT_WEB_PORT, WEB
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import split_command
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import restart_policy_to_docker
# Dokku's labels and the spec hash label are the same on a task as on a docker-local container
from ansible_collections.dokku_ps.docker.plugins.module_utils._specs import (
    LABEL_APP, LABEL_CONTAINER_TYPE, LABEL_MARKER, LABEL_PROCESS_TYPE, LABEL_SPEC_HASH)

LABEL_SCHEDULER = 'io.dokku-ps.scheduler'
SWARM = 'swarm'
# the number of a task, as Swarm fills it into a template
TASK_SLOT = '{{.Task.Slot}}'

# A service name is one DNS label (Swarm refuses dots): at most 63 characters.
MAX_SERVICE_NAME = 63
# How many tasks a rolling update replaces at once when app.json sets no max_parallel (Kamal and Swarm: one).
DEFAULT_PARALLELISM = 1
# The monitor window after each updated task, when the type has no health check to wait for (Swarm's default 5 s).
DEFAULT_MONITOR_SECONDS = 5

_NOT_LABEL = re.compile(r'[^a-z0-9-]')


def service_name(app, ptype):
    """``<app>-<type>`` with the app's dots as dashes (a service name is a DNS label). Raises ValidationError when
    it is longer than 63 characters."""
    name = '%s-%s' % (_NOT_LABEL.sub('-', app), ptype)
    if len(name) > MAX_SERVICE_NAME:
        raise ValidationError('name', 'app %s: the Swarm service of its %s processes would be named %s, longer than '
                              'the %d characters Swarm allows; use a shorter app or process type name'
                              % (app, ptype, name, MAX_SERVICE_NAME))
    return name


def service_filter(app):
    """The filter of one list call that finds every service of the app."""
    return {'label': ['%s=%s' % (LABEL_APP, app), '%s=%s' % (LABEL_SCHEDULER, SWARM)]}


def restart_policy(policy, delay_seconds=0):
    """The Swarm restart policy of a Docker one (Dokku's ``ps:set restart-policy`` values): ``on-failure:N`` ->
    on-failure with N attempts (``on-failure``: no limit), ``always`` and ``unless-stopped`` -> any, ``no`` -> none."""
    docker_form = restart_policy_to_docker(policy)
    name, retries = docker_form['Name'], docker_form['MaximumRetryCount']
    found = {'Condition': {'no': 'none', 'always': 'any', 'unless-stopped': 'any'}.get(name, 'on-failure'),
             'Delay': int(delay_seconds * NANOSECONDS)}
    if name == 'on-failure' and retries:
        found['MaxAttempts'] = retries
    return found


def monitor_seconds(healthcheck):
    """How long Swarm watches an updated task before the next batch: long enough for its HEALTHCHECK to decide
    (its start period, then every attempt at its interval plus its timeout), else DEFAULT_MONITOR_SECONDS."""
    if not healthcheck:
        return DEFAULT_MONITOR_SECONDS
    attempts = max(1, healthcheck.get('Retries') or 1)
    each = healthcheck.get('Interval', 0) + healthcheck.get('Timeout', 0)
    window = healthcheck.get('StartPeriod', 0) + attempts * each
    return max(DEFAULT_MONITOR_SECONDS, int(-(-window // NANOSECONDS)))


def update_config(parallelism, monitor, order='start-first'):
    """A rolling update that starts each new task before its old one stops (``order``; ``stop-first`` for checks
    mode disabled), ``parallelism`` at a time, watches each for ``monitor`` seconds, and rolls the whole service
    back when one fails."""
    return {'Parallelism': parallelism or DEFAULT_PARALLELISM, 'Delay': 0, 'FailureAction': 'rollback',
            'Monitor': int(monitor * NANOSECONDS), 'MaxFailureRatio': 0, 'Order': order}


def rollback_config(parallelism, monitor, order='start-first'):
    """How Swarm rolls back a failed update: the same batches and order; it pauses when the rollback fails."""
    return dict(update_config(parallelism, monitor, order), FailureAction='pause')


def endpoint_spec(app_doc, ptype):
    """DNS round robin; web publishes its port in host mode on a port Docker picks (the proxy reads it from each
    task's status), other types publish nothing."""
    spec = {'Mode': 'dnsrr'}
    if ptype == WEB:
        port = app_doc.get('web_port') or DEFAULT_WEB_PORT
        spec['Ports'] = [{'Protocol': 'tcp', 'TargetPort': port, 'PublishMode': 'host'}]
    return spec


def from_registry(reference):
    """Whether an image reference names a registry: its first path component has a dot or a port, or is
    ``localhost`` (``registry.example.com/shop:1``, ``10.0.0.5:5000/shop``), as Docker tells a registry apart."""
    first, sep, _rest = (reference or '').partition('/')
    return bool(sep) and ('.' in first or ':' in first or first == 'localhost')


def digest_reference(reference, image_data):
    """``<repository>@<digest>`` of the image as the registry of ``reference`` holds it (one of its RepoDigests: the
    image was pushed there or pulled from there), or None. Services reference such an image by it, so that a node
    that lacks the image pulls exactly it, and a node that has it pulls nothing."""
    repository = reference.partition('@')[0]
    name, _sep, tag = repository.rpartition(':')
    if name and '/' not in tag:
        repository = name
    for entry in (image_data or {}).get('RepoDigests') or []:
        if entry.partition('@')[0] == repository:
            return entry
    return None


def gating_checks(app_doc, ptype):
    """What a new task of ``ptype`` must pass before it counts as running, from where docker-local takes its checks
    (_check_rules.effective: the checks option, app.json startup and readiness entries, the image's CHECKS file, the
    default): (app.json-shaped entries for the HEALTHCHECK, the uptime in seconds it must keep running, the update
    order). Mode ``skipped``: nothing; ``disabled``: nothing, and the old task stops before the new one starts
    (Dokku's meaning)."""
    config = check_rules.effective(app_doc, ptype)
    if config['mode'] != 'enabled':
        return [], 0, 'stop-first' if config['mode'] == 'disabled' else 'start-first'
    if config['source'] == check_rules.APP_JSON_SOURCE:
        entries = list(config['entries'])
        uptime = max([int(entry.get('uptime') or 0) for entry in entries if entry_kind(entry) == UPTIME_CHECK] or [0])
        return entries, uptime, 'start-first'
    base = {'type': 'startup', 'attempts': config['attempts'], 'wait': config['wait'], 'timeout': config['timeout'],
            'initial_delay': 0, 'uptime': None, 'listening': False, 'port': None, 'path': None, 'content': None,
            'command': None, 'scheme': 'http', 'host': None}
    entries = []
    if config.get('command'):
        entries.append(dict(base, name='command', command=list(config['command'])))
    for check in config.get('http') or []:
        entries.append(dict(base, name=check['path'], path=check['path'], content=check.get('content'),
                            scheme=check.get('scheme') or 'http', host=check.get('host')))
    return entries, int(config.get('uptime') or 0), 'start-first'


def service_spec(app_doc, ptype, replicas, policy, stop_timeout, parallelism=None, image=None):
    """The whole spec of the service of ``ptype``: ``name``, ``labels``, ``task_template``, ``mode``,
    ``update_config``, ``rollback_config``, ``endpoint_spec`` (the keyword arguments of the SDK's
    ``APIClient.create_service``, as dicts), and ``hash``: what needs a rolling update when it changes (not the
    replicas). ``image``: how the tasks reference the image (its digest in a registry), else by its ID."""
    app = app_doc['name']
    # DYNO is the template Swarm fills in per task, in the env and in a command's $DYNO
    env, port_value = process_env(app_doc, ptype, TASK_SLOT)
    command = process_command(app_doc, ptype)
    args = None
    if command is not None:
        args = split_command(command, env, port_value, process_type=ptype)
    labels = {LABEL_MARKER: '', LABEL_APP: app, LABEL_PROCESS_TYPE: ptype, LABEL_CONTAINER_TYPE: 'deploy'}
    container = {'Image': image or app_doc['image_id'], 'Env': ['%s=%s' % (key, env[key]) for key in sorted(env)],
                 'Labels': dict(labels), 'Init': True, 'StopGracePeriod': int(stop_timeout * NANOSECONDS)}
    if args is not None:
        container['Args'] = args
    # the checks a new container must pass on docker-local, and the liveness checks: Swarm counts a task with a
    # HEALTHCHECK as running (and starts the next one of a rolling update, and the proxy takes it) only once it is
    # healthy, and a task that never gets there fails the update whatever the monitor window; the window (a task
    # that fails in it fails the update) covers the liveness checks' verdict and the uptime a task must keep
    gating, uptime, order = gating_checks(app_doc, ptype)
    liveness = app_json_checks(app_doc, ptype, (LIVENESS,))
    healthcheck = healthcheck_of(app_doc, ptype, gating + liveness)
    if healthcheck is not None:
        container['Healthcheck'] = healthcheck
    task_template = {'ContainerSpec': container, 'RestartPolicy': restart_policy(policy)}
    monitor = max(monitor_seconds(healthcheck_of(app_doc, ptype, liveness)), uptime)
    spec = {
        'name': service_name(app, ptype),
        'task_template': task_template,
        'mode': {'Replicated': {'Replicas': replicas}},
        'update_config': update_config(parallelism, monitor, order),
        'rollback_config': rollback_config(parallelism, monitor, order),
        'endpoint_spec': endpoint_spec(app_doc, ptype),
    }
    spec['hash'] = spec_hash(spec)
    spec['labels'] = dict(labels, **{LABEL_SCHEDULER: SWARM, LABEL_SPEC_HASH: spec['hash']})
    return spec


def spec_hash(spec):
    """Hash of what a rolling update changes: the task template, the update and rollback settings, the endpoint
    (the replicas change in place, with no update)."""
    keys = ('task_template', 'update_config', 'rollback_config', 'endpoint_spec')
    material = dict((key, spec[key]) for key in keys)
    encoded = json.dumps(material, sort_keys=True, separators=(',', ':')).encode('utf-8')
    return hashlib.sha256(encoded).hexdigest()
