# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker-local's one-offs: a command run once in a container of its own, attached (waited for) or detached.

The container is made from the app's release (_specs.oneoff_spec: its image, env and network), named
``<app>.<kind>.<n>`` with a random ``n`` and labelled as the app's one-off, so the app's one list call finds it and
nothing takes it for a web or worker process (_planner.Inventory.oneoffs). An attached one is waited for on the
daemon's event stream up to its time limit (stopped when it is reached), its output read, and its container removed
unless it is kept; a detached one is removed by Docker when it ends (``AutoRemove``) unless it is kept.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs

# n of <app>.<kind>.<n>: five digits, far from the indexes of long-running processes, drawn again on a clash
NUMBERS = (10000, 99999)
NAME_ATTEMPTS = 5
# seconds a one-off stopped at its time limit gets between SIGTERM and SIGKILL
STOP_GRACE = 10


def _create(docker, doc, req):
    """Create the one-off's container; returns (id, spec). A name already taken draws another number."""
    for attempt in range(NAME_ATTEMPTS):
        spec = specs.oneoff_spec(doc, req, random.randint(*NUMBERS))
        try:
            return docker.create_container(spec, spec['name']), spec
        except DockerError as exc:
            if exc.details.get('status') != 409 or attempt == NAME_ATTEMPTS - 1:
                raise
    raise AssertionError('unreachable')  # pragma: no cover


def run_once(docker, redactor, doc, req):
    """Run ``req`` (_oneoff.Request) for the app ``doc``; returns an _oneoff.Result (outputs masked)."""
    container_id, spec = _create(docker, doc, req)
    name = spec['name']
    try:
        docker.start(container_id, name)
    except DockerError:
        docker.remove(container_id, name, force=True)
        raise
    if req.detach:
        return oneoff.Result(name, None, '', '', False, True)
    timed_out = False
    try:
        if not docker.container_events(container_id, req.timeout, ('die',)):
            data = docker.inspect_container(container_id) or {}
            if (data.get('State') or {}).get('Running'):
                timed_out = True
                docker.stop(container_id, STOP_GRACE, name)
        data = docker.inspect_container(container_id) or {}
        status = None if timed_out else (data.get('State') or {}).get('ExitCode')
        stdout, stderr = docker.logs(container_id)
    finally:
        if not req.keep:
            docker.remove(container_id, name, force=True)
    return oneoff.Result(name, status, redactor.text(stdout), redactor.text(stderr), timed_out, bool(req.keep))


def cron_create_spec(doc, entry):
    """What the cron runner creates for a cron entry (its number and DYNO are its own)."""
    req = oneoff.request(oneoff.CRON, entry['command'], cron_id=entry['id'], concurrency=entry['concurrency_policy'])
    spec = specs.oneoff_spec(doc, req, 0)
    return dict((key, spec[key]) for key in ('image', 'command', 'env', 'labels', 'network'))
