# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container specs (docker-local): container names and their filters, Dokku's labels, each container's spec and hash.

What a container of the docker-local scheduler is made of: its name ``<app>.<type>.<index>``, the list filters that
find an app's containers, the labels Dokku gives them, the create spec (command, env, ports, network, restart policy,
HEALTHCHECK) and the hash of what needs a new container when it changes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import hashlib
import json
import os
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._formation import process_command, process_env
from ansible_collections.dokku_ps.docker.plugins.module_utils._health import docker_healthcheck
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import DEFAULT_WEB_PORT, PROCESS_TYPE_PATTERN, WEB
from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import split_command


# Dokku's labels, and our own in the io.dokku-ps namespace.
LABEL_MARKER = 'dokku'


LABEL_APP = 'com.dokku.app-name'


LABEL_PROCESS_TYPE = 'com.dokku.process-type'


LABEL_DYNO = 'com.dokku.dyno'


LABEL_CONTAINER_TYPE = 'com.dokku.container-type'


LABEL_SPEC_HASH = 'io.dokku-ps.spec-hash'


LABEL_RESTART_POLICY = 'io.dokku-ps.restart-policy'


# One-offs (_oneoff.py): Dokku's label of a release phase's container, and of a cron entry's id and policy.
LABEL_PHASE = 'dokku_phase_script'


LABEL_CRON_ID = 'com.dokku.cron-id'


LABEL_CONCURRENCY = 'com.dokku.concurrency-policy'


UPCOMING = 'upcoming'
# the Docker network of proxied web containers (docs/proxy.md)
PROXY_NETWORK = 'dokku-ps'


_TYPE_RE = re.compile(PROCESS_TYPE_PATTERN)


_INDEX_RE = re.compile(r'[1-9][0-9]*')


def container_name(app, ptype, index):
    return '%s.%s.%d' % (app, ptype, index)


def upcoming_name(app, ptype, index):
    return '%s.%s-%s' % (container_name(app, ptype, index), UPCOMING, binascii.hexlify(os.urandom(4)).decode('ascii'))


def name_filter(app):
    """Docker `name` filter (a regular expression) matching exactly the names an app may use."""
    return r'^/?%s\.[a-z0-9-]+\.[1-9][0-9]*(\.%s-[0-9a-f]+)?$' % (re.escape(app), UPCOMING)


# Every name any app may use (a superset of each name_filter): the filter of a run's snapshot (see
# _scheduler_local.LocalRun.prefetch), one list call for the containers of many apps.
ANY_APP_NAME_FILTER = r'^/?[a-z0-9][a-z0-9.-]*\.[a-z0-9-]+\.[1-9][0-9]*(\.%s-[0-9a-f]+)?$' % UPCOMING


def app_of_container_name(name):
    """The only app that may own a container name ('<app>.<type>.<index>[.upcoming-<hex>]'; a process type has no
    dot), or None. ``parse_container_name(app, name)`` accepts the name for this app and for no other."""
    parts = name.lstrip('/').split('.')
    if len(parts) >= 4 and parts[-1].startswith(UPCOMING + '-'):
        parts = parts[:-1]
    if len(parts) < 3:
        return None
    app = '.'.join(parts[:-2])
    return app if parse_container_name(app, name) is not None else None


def parse_container_name(app, name):
    """'<app>.<type>.<index>[.upcoming-<hex>]' -> (type, index, upcoming) or None."""
    name = name.lstrip('/')
    prefix = app + '.'
    if not name.startswith(prefix):
        return None
    parts = name[len(prefix):].split('.')
    upcoming = False
    if len(parts) == 3 and parts[2].startswith(UPCOMING + '-'):
        upcoming = True
        parts = parts[:2]
    if len(parts) != 2 or not _TYPE_RE.fullmatch(parts[0]) or not _INDEX_RE.fullmatch(parts[1]):
        return None
    return parts[0], int(parts[1]), upcoming


def spec_hash(spec):
    """Hash of everything that needs a new container when it changes (not the restart policy)."""
    material = {
        'image': spec['image'],
        'command': spec['command'],
        'env': spec['env'],
        'ports': spec['ports'],
        'init': spec['init'],
    }
    if spec.get('network'):
        # only when set: the containers of apps without a proxy keep the hash they had before the proxy existed
        material['network'] = spec['network']
    if spec.get('healthcheck'):
        # the same: containers of apps without an app.json liveness check keep the hash they had before
        material['healthcheck'] = spec['healthcheck']
    encoded = json.dumps(material, sort_keys=True, separators=(',', ':')).encode('utf-8')
    return hashlib.sha256(encoded).hexdigest()


def build_spec(app_doc, restart_policy, ptype, index):
    """The full create specification of one container."""
    app = app_doc['name']
    dyno = '%s.%d' % (ptype, index)
    web_port = app_doc.get('web_port') or DEFAULT_WEB_PORT
    env, port_value = process_env(app_doc, ptype, index)
    command = process_command(app_doc, ptype)
    argv = None
    if command is not None:
        argv = split_command(command, env, port_value, process_type=ptype)
    ports = None
    publish = app_doc.get('publish')
    if ptype == WEB and publish not in (None, False):
        ports = {'container': web_port, 'host': None if publish == 'auto' else int(publish)}
    # a proxied web container lives on the proxy's network, at an address the executor picks when it creates it
    network = PROXY_NETWORK if ptype == WEB and (app_doc.get('proxy') or {}).get('enabled') else None
    spec = {
        'name': container_name(app, ptype, index),
        'app': app,
        'process_type': ptype,
        'index': index,
        'image': app_doc['image_id'],
        'command': argv,
        'env': ['%s=%s' % (key, env[key]) for key in sorted(env)],
        'ports': ports,
        'init': True,
        'restart_policy': restart_policy,
        'network': network,
    }
    healthcheck = docker_healthcheck(app_doc, ptype)
    if healthcheck is not None:
        # only when there is one: a spec without the key is the spec of every container made before app.json
        spec['healthcheck'] = healthcheck
    spec['hash'] = spec_hash(spec)
    spec['labels'] = {
        LABEL_MARKER: '',
        LABEL_APP: app,
        LABEL_PROCESS_TYPE: ptype,
        LABEL_DYNO: dyno,
        LABEL_CONTAINER_TYPE: 'deploy',
        LABEL_SPEC_HASH: spec['hash'],
        LABEL_RESTART_POLICY: restart_policy,
    }
    return spec


def is_oneoff(labels, app):
    """Whether a container with these labels is a one-off of ``app`` (a release phase, a run, a cron entry): never
    one of its long-running processes, whatever its name."""
    return (labels or {}).get(LABEL_APP) == app and (labels or {}).get(LABEL_CONTAINER_TYPE) in oneoff.KINDS


def oneoff_spec(app_doc, req, number):
    """The create specification of a one-off of the app (``req``: _oneoff.Request): the app's image, env (its
    own, then the request's, then DYNO) and, when the app is proxied, the proxy's network; named
    ``<app>.<kind>.<number>`` (``<app>.<phase>.<number>`` in a release phase), restart policy 'no', Dokku's
    labels. Raises ValidationError for a command that cannot be split."""
    app = app_doc['name']
    kind = req.phase if req.kind == oneoff.RELEASE else req.kind
    dyno = '%s.%d' % (kind, number)
    env = dict(app_doc.get('env') or {})
    env.update(req.env or {})
    env['DYNO'] = dyno
    argv = oneoff.argv(app_doc, req.command, env)
    network = PROXY_NETWORK if (app_doc.get('proxy') or {}).get('enabled') else None
    labels = {
        LABEL_MARKER: '',
        LABEL_APP: app,
        LABEL_PROCESS_TYPE: kind,
        LABEL_DYNO: dyno,
        LABEL_CONTAINER_TYPE: req.kind,
    }
    if req.kind == oneoff.RELEASE:
        labels[LABEL_PHASE] = req.phase
    if req.cron_id:
        labels[LABEL_CRON_ID] = req.cron_id
        labels[LABEL_CONCURRENCY] = req.concurrency or 'allow'
    return {
        'name': container_name(app, kind, number),
        'app': app,
        'process_type': kind,
        'index': number,
        'image': app_doc['image_id'],
        'command': argv,
        'env': ['%s=%s' % (key, env[key]) for key in sorted(env)],
        'ports': None,
        'init': True,
        'restart_policy': 'no',
        'network': network,
        'labels': labels,
        'auto_remove': bool(req.detach and not req.keep),
    }
