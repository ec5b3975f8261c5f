# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""swarm: an app's process types as replicated services of a Docker Swarm (issue 24, a first part: docs/swarm.md).

One list call finds an app's services (_swarm_specs.service_filter). A converge creates the services of the types
scaled above 0, rolls a service whose spec changed out with Swarm's rolling update (start-first, rolled back by
Swarm on failure: the task fails then), changes replicas in place, and removes the services of types that are gone.
A stop scales every service to 0 (the formation stays recorded). Web tasks publish the web port in host mode on a
port Docker picks; the proxy's members are ``<node address>:<published port>`` of the running web tasks, followed
during a rollout (each change of the running tasks is one reload), so a task Swarm retires has a successor in
nginx before it stops, and nginx retries a refused connection on another member.

One-offs (the release phase, dokku_ps_run, cron) run as containers on the manager's daemon
(_scheduler_swarm_oneoff); a stop stops the running ones, a delete removes them. The checks a new container passes
on docker-local (the checks option, app.json startup and readiness entries, a CHECKS file, the default) and the
liveness checks are the tasks' HEALTHCHECK and the update's monitor window (_swarm_specs.gating_checks). Not on
swarm (refused before anything changes, in one line): publishing on a fixed host port.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._formation import type_is_defined
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import WEB, ordered_types
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import computed_property
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import settings_of
from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json as app_json
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_swarm_oneoff as swarm_oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _swarm_specs as swarm_specs

CREATE, UPDATE, SCALE, REMOVE = 'create', 'update', 'scale', 'remove'
# the app's one-off containers on the manager's daemon (_scheduler_swarm_oneoff): stopped with the app, removed with it
STOP_ONEOFF, REMOVE_ONEOFF = 'stop-oneoff', 'remove-oneoff'
# a node's label with the URL of its Docker daemon as the managers reach it (the role dokku_ps.docker.swarm sets it):
# where the run looks whether the node has an image
LABEL_DOCKER_HOST = 'io.dokku-ps.docker-host'
# the longest wait for a service to converge (its tasks running, its rolling update done)
CONVERGE_TIMEOUT = 600
POLL = 0.2


class Action(object):
    def __init__(self, kind, ptype, spec=None, service=None, replicas=0, before=0, force=False, container=None):
        self.kind, self.process_type, self.spec, self.service = kind, ptype, spec, service
        self.replicas, self.before, self.force, self.container = replicas, before, force, container
        if container is not None:
            self.name = swarm_oneoff.name_of(container)
        else:
            self.name = spec['name'] if spec else service['Spec']['Name']


class SwarmWork(scheduler.Work):
    """What the swarm scheduler does to an app's services: ``actions`` (web first)."""

    def __init__(self, actions):
        super(SwarmWork, self).__init__()
        self.actions = actions

    @property
    def changed(self):
        return bool(self.actions)

    def touches(self, process_type):
        return any(action.process_type == process_type for action in self.actions)

    def summary(self):
        """Services by what happened to them: created, replaced (a rolling update), stopped (scaled to 0),
        started (scaled up from 0), updated (other replica changes), removed."""
        found = dict((key, []) for key in ('created', 'started', 'replaced', 'stopped', 'removed', 'updated'))
        for action in self.actions:
            if action.kind == CREATE:
                found['created'].append(action.name)
            elif action.kind == STOP_ONEOFF:
                found['stopped'].append(action.name)
            elif action.kind == UPDATE:
                found['replaced'].append(action.name)
            elif action.kind in (REMOVE, REMOVE_ONEOFF):
                found['removed'].append(action.name)
            elif action.replicas == 0:
                found['stopped'].append(action.name)
            elif action.before == 0:
                found['started'].append(action.name)
            else:
                found['updated'].append(action.name)
        return dict((key, sorted(names)) for key, names in found.items())


def _replicas(service):
    return ((service.get('Spec') or {}).get('Mode') or {}).get('Replicated', {}).get('Replicas', 0)


def _hash(service):
    return ((service.get('Spec') or {}).get('Labels') or {}).get(swarm_specs.LABEL_SPEC_HASH)


def check_supported(doc):
    """What swarm cannot do yet, refused in one line before anything changes."""
    name = doc['name']
    if doc.get('publish') not in (None, False):
        raise ValidationError('publish', 'app %s runs on swarm, where web is published in host mode on ports Docker '
                              'picks for the proxy; publishing on a fixed host port is not supported there' % name)


class SwarmRun(scheduler.SchedulerRun):
    kind = swarm_specs.SWARM

    def __init__(self, ctx):
        self.ctx = ctx
        self.docker = ctx.docker
        self._manager = None
        self._nodes = None
        self._node_list = None
        # image id -> (names of the eligible nodes that have it, that lack it, whose images are unknown)
        self._image_nodes = {}

    def app(self, name):
        return SwarmApp(self, name)

    def prefetch(self, names):
        """Nothing: an app's services are one list call of their own."""

    def require_manager(self):
        """The daemon must be a swarm manager: else one line saying how to make it one."""
        if self._manager is None:
            info = self.docker.swarm_info()
            self._manager = bool(info.get('ControlAvailable')), info.get('LocalNodeState') or 'inactive', \
                info.get('NodeID')
        manager, state, _node = self._manager
        if not manager:
            raise ValidationError('scheduler', 'swarm needs the Docker daemon at %s to be a swarm manager, and it is '
                                  'not (its swarm state: %s): form the cluster first (docker swarm init, or the '
                                  'role dokku_ps.docker.swarm), or point docker_host at a manager'
                                  % (self.docker.host, state))

    def nodes(self, refresh=False):
        if self._node_list is None or refresh:
            self._node_list = self.docker.list_nodes()
            self._nodes = dict((node['ID'], (node.get('Status') or {}).get('Addr')) for node in self._node_list)
        return self._node_list

    def node_addresses(self, refresh=False):
        self.nodes(refresh)
        return self._nodes

    def image_nodes(self, image_id):
        """(have, lack, unknown): the names of the nodes that may run a task (ready, availability active) that have
        the image, that lack it, and whose images this run cannot see. The manager's own daemon is asked directly;
        another node's, at the address its label LABEL_DOCKER_HOST gives, when it has one and answers."""
        if image_id not in self._image_nodes:
            self.require_manager()
            found = ([], [], [])
            for node in self.nodes():
                if (node.get('Spec') or {}).get('Availability') != 'active' or \
                        (node.get('Status') or {}).get('State') != 'ready':
                    continue
                # hostnames need not differ (nodes in containers, or in network namespaces of one host): the address
                name = '%s (%s)' % ((node.get('Description') or {}).get('Hostname') or node['ID'],
                                    (node.get('Status') or {}).get('Addr'))
                present = self._has_image(node, image_id)
                found[0 if present else 1 if present is not None else 2].append(name)
            self._image_nodes[image_id] = tuple(sorted(names) for names in found)
        return self._image_nodes[image_id]

    def _has_image(self, node, image_id):
        if node['ID'] == self._manager[2]:
            return self.docker.inspect_image(image_id) is not None
        host = ((node.get('Spec') or {}).get('Labels') or {}).get(LABEL_DOCKER_HOST)
        if not host:
            return None
        try:
            return self.ctx.docker_at(host).inspect_image(image_id) is not None
        except DokkuPsError:
            return None  # its daemon does not answer: unknown

    def services(self, app):
        found = {}
        for service in self.docker.list_services(swarm_specs.service_filter(app)):
            ptype = ((service.get('Spec') or {}).get('Labels') or {}).get(swarm_specs.LABEL_PROCESS_TYPE)
            if ptype:
                found[ptype] = service
        return found

    def tasks(self, service_id):
        return self.docker.list_tasks({'service': [service_id], 'desired-state': ['running']})

    def report(self, docs, global_doc, inspect=False, top=False):
        found = {}
        for doc in docs:
            dynos = {}
            for ptype, service in sorted(self.services(doc['name']).items()):
                current = _hash(service) == self._wanted_hash(doc, global_doc, ptype)
                checked = bool(((service['Spec'].get('TaskTemplate') or {}).get('ContainerSpec') or {})
                               .get('Healthcheck'))
                for task in self.tasks(service['ID']):
                    status = task.get('Status') or {}
                    dyno = '%s.%s' % (ptype, task.get('Slot'))
                    dynos[dyno] = {'name': '%s.%s' % (service['Spec']['Name'], task.get('Slot')), 'id': task['ID'],
                                   'status': status.get('State'), 'desired_state': task.get('DesiredState'),
                                   'node': self.node_addresses().get(task.get('NodeID')),
                                   'ports': _ports(task), 'started_at': status.get('Timestamp'),
                                   'health': _health(status.get('State'), checked), 'definition_current': current}
            running = [entry for entry in dynos.values() if entry['status'] == 'running']
            state = 'false' if not running else ('true' if len(running) == len(dynos) else 'mixed')
            found[doc['name']] = {'processes': len(dynos), 'running': state, 'dynos': dynos,
                                  'oneoffs': swarm_oneoff.report(swarm_oneoff.oneoffs(self.docker, doc['name']))}
        return found

    def _wanted_hash(self, doc, global_doc, ptype):
        try:
            return _spec(self.ctx, doc, global_doc, ptype, 0)['hash']
        except DokkuPsError:
            return None


def _scaled(service, replicas):
    """The running spec of ``service`` (a list summary) with ``replicas``, in the shape of a service_spec."""
    current = service['Spec']
    return {'name': current['Name'], 'labels': current.get('Labels') or {}, 'task_template': current['TaskTemplate'],
            'mode': {'Replicated': {'Replicas': replicas}}, 'update_config': current.get('UpdateConfig'),
            'rollback_config': current.get('RollbackConfig'), 'endpoint_spec': current.get('EndpointSpec')}


def _health(state, checked):
    """A task's health, from its state: Swarm counts a task with a HEALTHCHECK as running only once it is healthy,
    and replaces one that turns unhealthy, so a running task is healthy and an earlier one is still starting."""
    if not checked:
        return None
    if state == 'running':
        return 'healthy'
    return 'starting' if state in ('new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting') \
        else None


def _ports(task):
    return ['%s:%s' % (port.get('PublishedPort'), port.get('TargetPort'))
            for port in ((task.get('Status') or {}).get('PortStatus') or {}).get('Ports') or []]


def image_reference(ctx, doc):
    """How the app's tasks reference its image: by its digest when the image's reference names a registry that holds
    it (the nodes pull it), else by its ID (the nodes must have it: docs/swarm.md, Images). A registry reference costs
    at most one image inspect a run (a deploy has made it already)."""
    reference = doc.get('image')
    if not swarm_specs.from_registry(reference):
        return doc['image_id']
    data = ctx.image(reference)
    if not data or data.get('Id') != doc['image_id']:
        data = ctx.image(doc['image_id'])  # the tag moved on since the release was made
    return swarm_specs.digest_reference(reference, data) or doc['image_id']


def _spec(ctx, doc, global_doc, ptype, replicas):
    document = doc.get('app_json')
    return swarm_specs.service_spec(doc, ptype, replicas, computed_property(doc, global_doc, 'restart_policy'),
                                    computed_property(doc, global_doc, 'stop_timeout_seconds'),
                                    app_json.max_parallel(document, ptype) if document else None,
                                    image=image_reference(ctx, doc))


class SwarmApp(scheduler.AppScheduler):
    def __init__(self, run, name):
        self.run = run
        self.ctx = run.ctx
        self.name = name

    def _plan(self, doc, global_doc, formation, types=None, replace=True, force=False, remove_all=False):
        self.run.require_manager()
        check_supported(doc)
        services = self.run.services(self.name)
        scope = set(formation) | set(services) if types is None else set(types)
        actions = []
        for ptype in ordered_types(scope):
            wanted = 0 if remove_all else formation.get(ptype, 0)
            service = services.get(ptype)
            if remove_all or not type_is_defined(doc, ptype) or ptype not in formation and types is None:
                if service is not None:
                    actions.append(Action(REMOVE, ptype, service=service))
                continue
            spec = _spec(self.ctx, doc, global_doc, ptype, wanted)
            if service is None:
                if wanted:
                    self._check_image(doc, spec)
                    actions.append(Action(CREATE, ptype, spec, replicas=wanted))
                continue
            before = _replicas(service)
            if (replace and _hash(service) != spec['hash']) or (force and wanted):
                self._check_image(doc, spec)
                actions.append(Action(UPDATE, ptype, spec, service, wanted, before, force=force))
            elif before != wanted:
                actions.append(Action(SCALE, ptype, spec, service, wanted, before))
        return SwarmWork(actions)

    def _check_image(self, doc, spec):
        """A service is refused when no node that may run its tasks has its image (nothing pulls it: docs/swarm.md,
        Images); the nodes that lack it are named in a warning (Swarm rejects the tasks it places there and places
        them again)."""
        image = spec['task_template']['ContainerSpec']['Image']
        if '@' in image:
            return  # a digest in a registry: the nodes that lack it pull it
        have, lack, unknown = self.run.image_nodes(image)
        shown = '%s (%s)' % (doc.get('image') or image, image)
        if not have and not unknown:
            raise ValidationError('image', 'app %s: the image %s is on none of the swarm\'s nodes that may run its '
                                  'tasks (%s): copy it to them first (dokku_ps.docker.dokku_ps_image, or the role '
                                  'dokku_ps.docker.swarm with dokku_ps_swarm_images)'
                                  % (self.name, shown, ', '.join(lack) or 'none is ready and active'))
        if lack:
            self.ctx.warn('app %s: the nodes %s lack the image %s; Swarm rejects the tasks it places there and places '
                          'them again elsewhere: copy it to them (dokku_ps.docker.dokku_ps_image)'
                          % (self.name, ', '.join(lack), shown))

    def converge(self, doc, global_doc, types=None, replace=True, start=True, force_replace=False,
                 will_write=False):
        return self._plan(doc, global_doc, dict(doc.get('formation') or {}), types, replace, force_replace)

    def stop(self, doc, will_write=False):
        """Every service scaled to 0, and the app's running one-offs stopped (as on docker-local)."""
        formation = dict((ptype, 0) for ptype in (doc.get('formation') or {}))
        work = self._plan(doc, self.ctx.store.read_global(), formation, replace=False)
        work.actions.extend(Action(STOP_ONEOFF, swarm_oneoff.kind_of(container), container=container)
                            for container in swarm_oneoff.oneoffs(self.ctx.docker, self.name)
                            if container.get('State') == 'running')
        return work

    def policies(self, doc, global_doc):
        return self._plan(doc, global_doc, dict(doc.get('formation') or {}))

    def delete(self, doc):
        self.run.require_manager()
        return SwarmWork([Action(REMOVE, ptype, service=service)
                          for ptype, service in sorted(self.run.services(self.name).items())] +
                         [Action(REMOVE_ONEOFF, swarm_oneoff.kind_of(container), container=container)
                          for container in swarm_oneoff.oneoffs(self.ctx.docker, self.name)])

    def apply(self, work, doc, global_doc):
        settings = settings_of(doc)
        for action in work.actions:
            if action.kind == STOP_ONEOFF:
                self.ctx.docker.stop(action.container['Id'], swarm_oneoff.STOP_GRACE, action.name)
                continue
            if action.kind == REMOVE_ONEOFF:
                self.ctx.docker.remove(action.container['Id'], action.name, force=True)
                continue
            if action.kind == CREATE:
                service_id = self.ctx.docker.create_service(action.spec)
            elif action.kind == REMOVE:
                self.ctx.docker.remove_service(action.service['ID'], action.name)
                continue
            elif action.kind == SCALE:
                # only the replicas change: the rest as it runs (a spec that differs waits for a deploy)
                service_id = action.service['ID']
                self.ctx.docker.update_service(service_id, _scaled(action.service, action.replicas))
            else:
                service_id = action.service['ID']
                self.ctx.docker.update_service(service_id, action.spec, force=action.force)
            follow = action.process_type == WEB and self.ctx.proxy.concerns(self.name, settings)
            self._wait(service_id, action, settings if follow else None)
        return {}, False

    def _wait(self, service_id, action, settings):
        """Until the service runs its replicas and its rolling update is done; with ``settings`` (a proxied web
        service) each change of its running tasks is switched in nginx at once. Raises DokkuPsError when Swarm rolled
        the update back, or after CONVERGE_TIMEOUT."""
        deadline = time.time() + CONVERGE_TIMEOUT
        shown = None
        # an update is judged by its own status: the one of an earlier update (rolled back, say) stays on the
        # service until the next update starts, and a change of replicas starts none
        earlier = ((action.service or {}).get('UpdateStatus') or {}).get('StartedAt')
        while True:
            data = self.ctx.docker.inspect_service(service_id) or {}
            update = data.get('UpdateStatus') or {}
            state = update.get('State')
            if action.kind != UPDATE or not (action.before and action.replicas):
                state = None  # Swarm updates no task of a service scaled from or to 0: no update status
            elif update.get('StartedAt') in (None, earlier):
                state = 'updating'  # not started yet
            if state in ('rollback_started', 'rollback_paused', 'rollback_completed', 'paused'):
                raise DokkuPsError('app %s: the rolling update of service %s failed and Swarm rolled it back '
                                   '(%s): %s' % (self.name, action.name, state, update.get('Message') or 'no message'))
            tasks = self.run.tasks(service_id)
            running = [task for task in tasks if (task.get('Status') or {}).get('State') == 'running']
            if settings is not None:
                members = self.members(tasks)
                if members != shown:
                    self.ctx.proxy.switch(self.name, settings, shown or [], members)
                    shown = members
            settled = state in (None, 'completed') and len(running) == action.replicas == len(tasks)
            if settled and self._retired_still_running(service_id, action.replicas):
                # Swarm no longer wants a retired task (scaled away, replaced) before its container has stopped:
                # a stop is done when the containers are
                settled = False
            if settled:
                return
            if time.time() > deadline:
                raise DokkuPsError('app %s: service %s did not converge within %d s (%d of %d tasks running)'
                                   % (self.name, action.name, CONVERGE_TIMEOUT, len(running), action.replicas))
            time.sleep(POLL)

    def _retired_still_running(self, service_id, replicas):
        every = self.ctx.docker.list_tasks({'service': [service_id]})
        return sum(1 for task in every if (task.get('Status') or {}).get('State') == 'running') > replicas

    def members(self, tasks):
        """``<node address>:<published port>`` of the running web tasks."""
        nodes = self.run.node_addresses()
        if any(task.get('NodeID') not in nodes for task in tasks):
            nodes = self.run.node_addresses(refresh=True)
        found = []
        for task in tasks:
            if (task.get('Status') or {}).get('State') != 'running' or not nodes.get(task.get('NodeID')):
                continue
            for port in ((task.get('Status') or {}).get('PortStatus') or {}).get('Ports') or []:
                if port.get('PublishedPort'):
                    found.append('%s:%d' % (nodes[task['NodeID']], port['PublishedPort']))
        return sorted(found)

    def sync_proxy(self, doc, work):
        settings = settings_of(doc)
        if not self.ctx.proxy.concerns(self.name, settings):
            return
        service = self.run.services(self.name).get(WEB)
        members = self.members(self.run.tasks(service['ID'])) if service is not None else []
        if self.ctx.check_mode and work.touches(WEB):
            self.ctx.proxy.predict(self.name, settings, members, [WEB])
        else:
            self.ctx.proxy.sync(self.name, settings, members)

    def run_once(self, doc, req):
        self.run.require_manager()
        return swarm_oneoff.run_once(self.ctx, doc, req)

    def cron_spec(self, doc, entries, active):
        return swarm_oneoff.cron_spec(self.ctx.docker, doc, entries, active)
