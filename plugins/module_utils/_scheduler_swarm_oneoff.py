# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""swarm's one-offs: the release phase, dokku_ps_run and app.json cron of an app on swarm run as containers on the
daemon of ``docker_host`` (a manager of the swarm), docs/swarm.md, One-offs.

A one-off is not a service: Swarm has no task that runs once and returns its output (a replicated-job service runs to
completion, but its output and exit status are a task's, read back through the logs of a service, and it stays
until removed). So a one-off is what it is on docker-local (_scheduler_local_oneoff: the release's image by ID, its
env, ``<app>.<kind>.<n>``, Dokku's one-off labels, attached or detached), created on the manager's daemon, on its
default bridge (the proxy's network belongs to docker-local). The manager must have the image (it is where deploys
look for it first); the run says so in one line when it lacks it. Cron entries name the same daemon.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_local_oneoff as local_oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs

# seconds a running one-off gets between SIGTERM and SIGKILL when its app stops
STOP_GRACE = local_oneoff.STOP_GRACE


def oneoff_doc(doc):
    """The app's document as its one-offs see it: no proxy network (on swarm the proxy reaches the web tasks'
    published ports; there is no network of the proxy to join)."""
    return dict(doc, proxy=dict(doc.get('proxy') or {}, enabled=False))


def require_image(docker, doc):
    if docker.inspect_image(doc['image_id']) is None:
        raise ValidationError('image', 'app %s runs its one-offs on the swarm manager at %s, which lacks the image %s '
                              '(%s): copy it there (dokku_ps.docker.dokku_ps_image)'
                              % (doc['name'], docker.host, doc.get('image') or doc['image_id'], doc['image_id']))


def run_once(ctx, doc, req):
    """Run ``req`` (_oneoff.Request) for the app ``doc`` on the manager's daemon; an _oneoff.Result."""
    require_image(ctx.docker, doc)
    return local_oneoff.run_once(ctx.docker, ctx.redactor, oneoff_doc(doc), req)


def cron_spec(docker, doc, entries, active):
    return {'app': doc['name'], 'docker_host': docker.host, 'active': bool(active),
            'entries': [dict(entry, create=local_oneoff.cron_create_spec(oneoff_doc(doc), entry))
                        for entry in entries]}


def oneoffs(docker, app):
    """The app's one-off containers on the manager's daemon (one list call), as list summaries."""
    found = docker.list_containers({'label': ['%s=%s' % (specs.LABEL_APP, app)]})
    return sorted((summary for summary in found if specs.is_oneoff(summary.get('Labels'), app)), key=name_of)


def name_of(summary):
    return (summary.get('Names') or ['/' + summary['Id']])[0].lstrip('/')


def kind_of(summary):
    """A one-off's kind (run, release, cron), its "process type" in a summary of work."""
    return (summary.get('Labels') or {}).get(specs.LABEL_CONTAINER_TYPE)


def report(summaries):
    """The report's ``oneoffs`` entries, as docker-local shows them."""
    return [{'name': name_of(summary), 'kind': kind_of(summary),
             'state': summary.get('State'), 'status': summary.get('Status'),
             'cron_id': (summary.get('Labels') or {}).get(specs.LABEL_CRON_ID),
             'phase': (summary.get('Labels') or {}).get(specs.LABEL_PHASE)} for summary in summaries]
