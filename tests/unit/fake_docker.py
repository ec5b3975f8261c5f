# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one fake of the collection's Docker client (``_docker_client.Docker``) for the unit tests.

``FakeDocker`` has the methods of ``Docker`` the collection calls, each with the same name and parameters
(tests/unit/test_fake_docker.py checks that against the real class), and answers them from its state:

* ``containers``: the containers as the list call shows them (summaries with ``Id``, ``Names``, ``Labels``,
  ``State``...); ``create_container``, ``start``, ``stop``, ``unpause``, ``remove``, ``rename`` and
  ``update_restart_policy`` change them as Docker would (a container the fake does not hold is only recorded; one
  created with ``auto_remove`` in its spec is gone once it exited, as Docker's ``AutoRemove`` does);
* ``inspect_data``: container id -> what ``inspect_container`` answers, made from the summary of every container
  the fake holds (``inspect_of``, also for one a test adds to ``containers``) and kept in step with it; a test may
  set any of it;
* ``networks``: network name -> inspect data; ``create_network`` adds one;
* ``events``: the daemon's events (``Type``, ``Action``, ``Actor``, ``timeNano``), of which it holds the latest
  ``EVENT_BUFFER``; ``now``: the daemon's clock in nanoseconds;
* ``execs``: command (a tuple) -> its answers ``(exit code, output)``, one per run, the last one repeated;
  ``exec_default`` answers any other command; ``logged`` and ``logged_stderr``: container id -> the text it wrote
  on its stdout and stderr (``logs`` answers both, ``logs_tail`` their lines); ``images``: reference -> inspect
  data; ``files``: image id -> {path: text}; ``processes``: container id -> the top answer;
* a small swarm (the swarm scheduler's calls): ``swarm_manager`` (the daemon is a manager of an active swarm, else
  ``swarm_node_state`` says what it is: ``inactive`` unless a test sets ``active``, a worker); ``nodes`` (as the
  node list shows them; one ``node('node1', '10.0.0.2')`` unless given); ``services``, as ``inspect_service``
  answers them, and ``tasks``, every task of theirs (retired ones too, with desired state ``shutdown``, or
  ``remove`` when scaled away), as ``list_tasks`` answers them. Swarm converges at once: a created service runs its
  replicas at once (spread over the ready nodes, a web port published in host mode on a port from ``PORTS_FROM``
  on), an update whose task template or endpoint changed replaces the tasks it keeps (a rolling update, with its
  ``UpdateStatus``; the one of an earlier update is reset by every update, as Swarm does, and a change that keeps
  no task starts no rolling update), other changes of the replicas add and remove tasks in place; an update of a
  service whose name matches a glob of ``rollback`` (glob -> message) rolls back instead: the service keeps its
  spec and its tasks and ends in ``rollback_completed``. A daemon that is not a manager refuses every service,
  task, node and join-token call as Docker does (status 503). Membership (dokku_ps_swarm): ``init_swarm`` makes it
  the manager of a swarm of ``nodes``, ``join_swarm`` a member (a manager with a token ending in ``-m``),
  ``leave_swarm`` none; ``remote_managers`` are the managers it knows. Images (dokku_ps_image): ``save_image`` gives
  an ``images`` entry as a stream (its tags when saved by a name), which ``load_image`` of another fake takes.

Every call is recorded in ``calls``, in order, as a ``Call``: the method's name, the container (or service) it is
about (its id) and that container's name (as the call gives it, else as the fake knows it; the network's name for
network calls, the service's name for service calls), and the call's other argument(s). ``host`` is the daemon's
address, as the client's. Knobs for failures and timing: ``fail`` lists ``(method, name glob)``, optionally with a
message, how many times (None: every time) and the daemon's HTTP status, and a matching call raises
``DockerError`` worded as the client words it (with the status in its ``details``, as the client gives it);
containers whose name matches a glob of ``down`` exit (code 3) right after their start; a container whose name
matches a glob of ``finish`` (glob -> ``(exit code, stdout, stderr)``: a command run once) runs to its end at its
start: it writes that text, exits with that code, and the daemon reports its ``die`` event (one that matches no
glob keeps running, as a command that does not end); every call takes ``delay`` seconds, and ``in_flight`` /
``max_in_flight`` count the calls under way at once. Thread-safe.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy
import fnmatch
import hashlib
import ipaddress
import itertools
import json
import re
import threading
import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import EVENT_BUFFER
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import restart_policy_to_docker
from ansible_collections.dokku_ps.docker.plugins.module_utils._specs import LABEL_RESTART_POLICY

Call = collections.namedtuple('Call', 'method container_id name arg')

# what each call was trying to do, in the client's words (its DockerError messages start so)
WHAT = {
    'list_containers': 'list containers',
    'inspect_container': 'inspect container %s',
    'inspect_image': 'inspect image %s',
    'logs_tail': 'read the log of %s',
    'logs': 'read the log of %s',
    'container_events': 'watch the events of %s',
    'events_between': 'read the events of the daemon',
    'wait_removed': 'wait for the removal of %s',
    'exec_run': 'run a check command in %s',
    'top': 'list the processes of %s',
    'create_container': 'create container %s',
    'inspect_network': 'inspect network %s',
    'create_network': 'create network %s',
    'start': 'start container %s',
    'unpause': 'unpause container %s',
    'stop': 'stop container %s',
    'remove': 'remove container %s',
    'rename': 'rename container %s',
    'update_restart_policy': 'update the restart policy of %s',
    'read_files': 'read files from image %s',
    'daemon_time': 'read the clock of the daemon',
    'caused_events': 'count the events caused',
    'swarm_state': 'read the daemon\'s information',
    'swarm_info': 'read the daemon\'s information',
    'init_swarm': 'initialize a swarm',
    'join_swarm': 'join the swarm of %s',
    'leave_swarm': 'leave the swarm',
    'join_tokens': 'read the swarm\'s join tokens',
    'update_node': 'update node %s',
    'remove_node': 'remove node %s',
    'save_image': 'save image %s',
    'load_image': 'load an image',
    'tag_image': 'tag image %s',
    'list_services': 'list services',
    'list_tasks': 'list tasks',
    'list_nodes': 'list the swarm nodes',
    'create_service': 'create service %s',
    'update_service': 'update service %s',
    'inspect_service': 'inspect service %s',
    'remove_service': 'remove service %s',
}

RUNNING_STATES = ('running', 'restarting', 'paused')

# where the ports the fake swarm publishes for tasks (host mode, no port given) start
PORTS_FROM = 30000
# what a daemon that is not a swarm manager answers a swarm call (inactive, then a worker), as Docker words it
NOT_A_MANAGER = {
    'inactive': 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this '
                'node to swarm and try again.',
    'active': 'This node is not a swarm manager. Worker nodes can\'t be used to view or modify cluster state. Please '
              'run this command on a manager node or promote the current node to a manager.',
}


def summary(container_id, name, labels=None, state='running', **fields):
    """A container as the list call shows it."""
    result = {'Id': container_id, 'Names': ['/' + name], 'Labels': dict(labels or {}), 'State': state,
              'Status': '', 'Ports': []}
    result.update(fields)
    return result


def inspect_of(container, policy=None):
    """The inspect data of the container of a list summary: its name, state, labels and networks, and ``policy``
    as its restart policy (default: its io.dokku-ps.restart-policy label, else 'no')."""
    labels = container.get('Labels') or {}
    state = container.get('State') or 'created'
    networks = (container.get('NetworkSettings') or {}).get('Networks') or {}
    return {
        'Id': container['Id'],
        'Name': container['Names'][0],
        'State': {'Status': state, 'Running': state in RUNNING_STATES, 'Paused': state == 'paused',
                  'Restarting': state == 'restarting', 'ExitCode': 0},
        'Config': {'Labels': dict(labels), 'Image': container.get('Image')},
        'HostConfig': {'RestartPolicy': restart_policy_to_docker(policy or labels.get(LABEL_RESTART_POLICY) or 'no'),
                       'AutoRemove': False},
        'NetworkSettings': {'Ports': {}, 'Networks': copy.deepcopy(networks)},
    }


def node(node_id, addr, role='manager', state='ready', availability='active'):
    """A swarm node as the node list shows it."""
    return {'ID': node_id, 'Version': {'Index': 1}, 'Spec': {'Role': role, 'Availability': availability},
            'Description': {'Hostname': node_id}, 'Status': {'State': state, 'Addr': addr}}


def calls_of(docker, method):
    """The recorded calls of one method, in order."""
    return [call for call in docker.calls if call.method == method]


def _matches(container, filters):
    """Whether a summary passes the list call's filters, as the daemon applies them: ``name`` a regular expression
    searched in each name (any value), ``label`` a key or key=value (every value), ``network`` a network name,
    ``status`` a state (any value)."""
    for key, values in (filters or {}).items():
        if key == 'name':
            if not any(re.search(value, name) for value in values for name in container['Names']):
                return False
        elif key == 'label':
            labels = container.get('Labels') or {}
            for value in values:
                label, sep, wanted = value.partition('=')
                if label not in labels or (sep and labels[label] != wanted):
                    return False
        elif key == 'network':
            networks = (container.get('NetworkSettings') or {}).get('Networks') or {}
            if not any(value in networks for value in values):
                return False
        elif key == 'status':
            if container.get('State') not in values:
                return False
        else:
            raise AssertionError('the fake Docker does not filter by %s' % key)
    return True


def _labels_match(labels, values):
    """A ``label`` filter: each value a key or key=value, every one must match."""
    for value in values:
        label, sep, wanted = value.partition('=')
        if label not in labels or (sep and labels[label] != wanted):
            return False
    return True


def _service_matches(service, filters):
    """Whether a service passes the service list's filters, as the daemon applies them: ``label`` (every value),
    ``name`` and ``id`` prefixes (any value)."""
    for key, values in (filters or {}).items():
        if key == 'label':
            if not _labels_match(service['Spec'].get('Labels') or {}, values):
                return False
        elif key == 'name':
            if not any(service['Spec']['Name'].startswith(value) for value in values):
                return False
        elif key == 'id':
            if not any(service['ID'].startswith(value) for value in values):
                return False
        else:
            raise AssertionError('the fake Docker does not filter services by %s' % key)
    return True


def _replicas_of(spec):
    mode = spec.get('Mode') or {}
    if 'Replicated' not in mode:
        raise AssertionError('the fake swarm runs replicated services only, not %r' % mode)
    return mode['Replicated'].get('Replicas', 1)


def _task_spec(spec):
    """What makes a task dirty when it changes (Swarm's IsTaskDirty): the task template (a missing ForceUpdate is
    0) and the endpoint."""
    template = dict(spec.get('TaskTemplate') or {})
    template['ForceUpdate'] = template.get('ForceUpdate') or 0
    return template, spec.get('EndpointSpec')


class FakeDocker(object):
    """Stands in for ``_docker_client.Docker`` (see the module's description)."""

    def __init__(self, containers=(), policies=None, networks=None, events=(), now=None, fail=(), down=(),
                 delay=0.0, finish=None, swarm_manager=False, nodes=None, rollback=None,
                 host='unix:///var/run/docker.sock'):
        self.host = host
        self.containers = [copy.deepcopy(container) for container in containers]
        policies = policies or {}
        self.inspect_data = dict((c['Id'], inspect_of(c, policies.get(c['Id']))) for c in self.containers)
        self.networks = copy.deepcopy(networks or {})
        self.events = list(events)
        self.now = now
        self.execs = {}
        self.exec_default = (0, '')
        self.logged = {}
        self.logged_stderr = {}
        self.images = {}
        self.files = {}
        self.processes = {}
        self.fail = list(fail)
        self.down = list(down)
        self.finish = dict(finish or {})
        self.delay = delay
        self.calls = []
        self.in_flight = 0
        self.max_in_flight = 0
        # container id -> name, of every container the fake held (removed ones too); ids it created, in order
        self.names = dict((c['Id'], c['Names'][0].lstrip('/')) for c in self.containers)
        self.created = []
        self._caused = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        # the swarm
        self.swarm_manager = swarm_manager
        self.swarm_node_state = 'active' if swarm_manager else 'inactive'
        # the managers the daemon knows (``Swarm.RemoteManagers``), as address:port
        self.remote_managers = ['10.0.0.2:2377'] if swarm_manager else []
        self.nodes = copy.deepcopy(list(nodes)) if nodes is not None else [node('node1', '10.0.0.2')]
        self.services = []
        self.tasks = []
        self.rollback = dict(rollback or {})
        self._ports = itertools.count(PORTS_FROM)
        self._swarm_ids = itertools.count(1)
        self._clock = itertools.count(1)
        self._versions = itertools.count(10)

    # -- the bookkeeping of every call ---------------------------------------------------------------------------

    def _call(self, method, container_id=None, name=None, arg=None, shown=None):
        """Record a call, count it in flight, wait ``delay``, and raise the failure ``fail`` asks for."""
        with self._lock:
            name = name or self.names.get(container_id)
            self.calls.append(Call(method, container_id, name, arg))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            with self._lock:
                for index, entry in enumerate(self.fail):
                    if entry[0] != method or not fnmatch.fnmatchcase(name or '', entry[1]):
                        continue
                    entry = self.fail[index] = list(entry)
                    if len(entry) > 3 and entry[3] is not None:
                        if entry[3] <= 0:
                            continue
                        entry[3] -= 1
                    what = WHAT[method].replace('%s', shown or name or container_id or '')
                    raise DockerError('Docker API error while trying to %s: %s'
                                      % (what, entry[2] if len(entry) > 2 else 'boom'),
                                      status=entry[4] if len(entry) > 4 else None)
        finally:
            with self._lock:
                self.in_flight -= 1
        return name

    def _container(self, container_id):
        for container in self.containers:
            if container['Id'] == container_id:
                return container
        return None

    def _data(self, container_id):
        """The inspect data of a container (made from its summary when a test added it), None when unknown."""
        container = self._container(container_id)
        if container_id not in self.inspect_data and container is not None:
            self.inspect_data[container_id] = inspect_of(container)
        return self.inspect_data.get(container_id)

    def _set_state(self, container_id, state, exit_code=0):
        container = self._container(container_id)
        if container is not None:
            container['State'] = state
            data = self._data(container_id)
            data['State'] = {
                'Status': state, 'Running': state in RUNNING_STATES, 'Paused': state == 'paused',
                'Restarting': state == 'restarting', 'ExitCode': exit_code}
            if state == 'exited' and (data.get('HostConfig') or {}).get('AutoRemove'):
                self.containers.remove(container)
                self.inspect_data.pop(container_id, None)

    def _finished(self, name):
        """What a container of this name does at its start when it runs to its end (``finish``), else None."""
        for pattern, answer in self.finish.items():
            if fnmatch.fnmatchcase(name or '', pattern):
                return answer
        return None

    def _caused_event(self, container_id):
        self._caused[container_id] = self._caused.get(container_id, 0) + 1

    # -- queries -------------------------------------------------------------------------------------------------

    def list_containers(self, filters):
        self._call('list_containers', arg=filters)
        with self._lock:
            return [copy.deepcopy(c) for c in self.containers if _matches(c, filters)]

    def inspect_container(self, container_id):
        self._call('inspect_container', container_id)
        with self._lock:
            return copy.deepcopy(self._data(container_id))

    def inspect_image(self, reference):
        """The ``images`` entry of ``reference``, or the one whose ``RepoTags`` hold it (as Docker finds a tag)."""
        self._call('inspect_image', arg=reference, shown=reference)
        with self._lock:
            found = self.images.get(reference)
            if found is None:
                found = next((data for data in self.images.values() if reference in (data.get('RepoTags') or [])), None)
            return copy.deepcopy(found)

    def logs_tail(self, container_id, lines):
        self._call('logs_tail', container_id, arg=lines)
        with self._lock:
            text = self.logged.get(container_id, '') + self.logged_stderr.get(container_id, '')
        return text.splitlines()[-lines:]

    def logs(self, container_id):
        self._call('logs', container_id)
        with self._lock:
            return self.logged.get(container_id, ''), self.logged_stderr.get(container_id, '')

    def container_events(self, container_id, seconds, kinds):
        """At once: the first of ``events`` of that container with one of ``kinds`` (it happens during the wait),
        else nothing happened."""
        self._call('container_events', container_id, arg=(seconds, tuple(kinds)))
        for event in self.events:
            action = event.get('Action') or event.get('status')
            if (event.get('Actor') or {}).get('ID') == container_id and action in kinds:
                return [action]
        return []

    def events_between(self, since, until):
        self._call('events_between', arg=(since, until))
        with self._lock:
            held = self.events[-EVENT_BUFFER:]
        return [copy.deepcopy(event) for event in held if since <= event['timeNano'] <= until]

    def daemon_time(self):
        self._call('daemon_time')
        return self.now

    def wait_removed(self, container_id, name=None, timeout=None):
        self._call('wait_removed', container_id, name, timeout)
        with self._lock:
            container = self._container(container_id)
            if container is not None and container['State'] == 'removing':
                self.containers.remove(container)
                self.inspect_data.pop(container_id, None)

    def exec_run(self, container_id, command):
        key = tuple(command)
        self._call('exec_run', container_id, arg=key)
        with self._lock:
            answers = self.execs.get(key)
            if not answers:
                return self.exec_default
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def top(self, container_id):
        self._call('top', container_id)
        return copy.deepcopy(self.processes.get(container_id, {'Titles': [], 'Processes': []}))

    def caused_events(self, container_ids):
        self._call('caused_events', arg=tuple(sorted(container_ids)))
        with self._lock:
            return dict((cid, self._caused[cid]) for cid in container_ids if cid in self._caused)

    def read_files(self, image_id, paths, max_bytes=1024 * 1024):
        self._call('read_files', arg=(image_id, tuple(paths)), shown=image_id)
        found = self.files.get(image_id) or {}
        texts = dict((path, found.get(path)) for path in paths)
        return dict((path, text if text is None or len(text.encode('utf-8')) <= max_bytes else None)
                    for path, text in texts.items())

    # -- changes -------------------------------------------------------------------------------------------------

    def create_container(self, spec, name, address=None):
        """A new container named ``name``, created (not started) from ``spec``, on its network at ``address``."""
        self._call('create_container', name=name, arg=spec)
        with self._lock:
            container_id = hashlib.sha256(b'fake container %d' % next(self._ids)).hexdigest()
            endpoint = {'IPAMConfig': {'IPv4Address': address} if address else None, 'IPAddress': ''}
            container = summary(container_id, name, spec.get('labels'), state='created', Image=spec.get('image'),
                                ImageID=spec.get('image'), Status='Created',
                                NetworkSettings={'Networks': {spec.get('network') or 'bridge': endpoint}})
            self.containers.append(container)
            self.inspect_data[container_id] = inspect_of(container, spec.get('restart_policy'))
            self.inspect_data[container_id]['HostConfig']['AutoRemove'] = bool(spec.get('auto_remove'))
            self.names[container_id] = name
            self.created.append(container_id)
        return container_id

    def inspect_network(self, name):
        self._call('inspect_network', name=name)
        return copy.deepcopy(self.networks.get(name))

    def create_network(self, name, subnet, ip_range, labels):
        self._call('create_network', name=name, arg=(subnet, ip_range, labels))
        gateway = str(next(ipaddress.ip_network(subnet).hosts()))
        with self._lock:
            self.networks[name] = {'Name': name, 'Driver': 'bridge', 'Labels': dict(labels),
                                   'IPAM': {'Config': [{'Subnet': subnet, 'Gateway': gateway, 'IPRange': ip_range}]}}

    def start(self, container_id, name=None):
        name = self._call('start', container_id, name)
        with self._lock:
            finished = self._finished(name)
            if finished is not None:
                code, stdout, stderr = finished
                self.logged[container_id] = stdout
                self.logged_stderr[container_id] = stderr
                self.events.append({'Type': 'container', 'Action': 'die', 'timeNano': self.now or 0,
                                    'Actor': {'ID': container_id, 'Attributes': {'name': name, 'exitCode': str(code)}}})
                self._set_state(container_id, 'exited', exit_code=code)
            elif any(fnmatch.fnmatchcase(name or '', pattern) for pattern in self.down):
                self._set_state(container_id, 'exited', exit_code=3)
            else:
                self._set_state(container_id, 'running')
            self._caused_event(container_id)

    def unpause(self, container_id, name=None):
        self._call('unpause', container_id, name)
        with self._lock:
            self._set_state(container_id, 'running')

    def stop(self, container_id, timeout, name=None):
        self._call('stop', container_id, name, timeout)
        with self._lock:
            self._set_state(container_id, 'exited')

    def remove(self, container_id, name=None, force=False):
        self._call('remove', container_id, name, force)
        with self._lock:
            container = self._container(container_id)
            if container is not None:
                self.containers.remove(container)
            self.inspect_data.pop(container_id, None)

    def rename(self, container_id, new_name):
        self._call('rename', container_id, new_name, shown='%s to %s' % (container_id[:12], new_name))
        with self._lock:
            self.names[container_id] = new_name
            container = self._container(container_id)
            if container is not None:
                container['Names'] = ['/' + new_name]
            if self._data(container_id) is not None:
                self._data(container_id)['Name'] = '/' + new_name

    def update_restart_policy(self, container_id, policy, name=None):
        self._call('update_restart_policy', container_id, name, policy)
        with self._lock:
            if self._data(container_id) is not None:
                self._data(container_id)['HostConfig']['RestartPolicy'] = restart_policy_to_docker(policy)
            self._caused_event(container_id)

    # -- the swarm -----------------------------------------------------------------------------------------------

    def _swarm_id(self, kind):
        return hashlib.sha256(b'fake %s %d' % (kind.encode('ascii'), next(self._swarm_ids))).hexdigest()[:25]

    def _timestamp(self):
        return '2026-01-01T00:00:00.%09dZ' % next(self._clock)

    def _need_manager(self, method, service_id=None, name=None, arg=None):
        """Record the call (``_call``); a daemon that is not a manager refuses it as Docker does."""
        name = self._call(method, service_id, name, arg)
        if not self.swarm_manager:
            answer = NOT_A_MANAGER.get(self.swarm_node_state, NOT_A_MANAGER['active'])
            raise DockerError('Docker API error while trying to %s: %s' % (WHAT[method].replace('%s', name or ''), answer),
                              status=503)

    def _service(self, service_id):
        """The service of this id (or name), None when there is none."""
        for service in self.services:
            if service_id in (service['ID'], service['Spec']['Name']):
                return service
        return None

    def _running_tasks(self, service_id):
        return [task for task in self.tasks if task['ServiceID'] == service_id and task['DesiredState'] == 'running']

    def _place(self, service_id):
        """The ready, active node that runs the fewest tasks of the service (Swarm's spread), the first of them."""
        ready = [entry for entry in self.nodes
                 if (entry.get('Status') or {}).get('State', 'ready') == 'ready'
                 and (entry.get('Spec') or {}).get('Availability', 'active') == 'active']
        if not ready:
            raise AssertionError('the fake swarm has no ready node to run a task on')
        load = dict((entry['ID'], 0) for entry in ready)
        for task in self._running_tasks(service_id):
            if task['NodeID'] in load:
                load[task['NodeID']] += 1
        return min(ready, key=lambda entry: load[entry['ID']])['ID']

    def _start_task(self, service, slot):
        """A task of the service in ``slot``, running at once; its web port published in host mode."""
        spec = service['Spec']
        ports = []
        for port in (spec.get('EndpointSpec') or {}).get('Ports') or []:
            if port.get('PublishMode') == 'host':
                ports.append({'Protocol': port.get('Protocol', 'tcp'), 'TargetPort': port['TargetPort'],
                              'PublishedPort': port.get('PublishedPort') or next(self._ports), 'PublishMode': 'host'})
        task_id = self._swarm_id('task')
        self.tasks.append({
            'ID': task_id, 'Version': {'Index': 1}, 'ServiceID': service['ID'], 'Slot': slot,
            'NodeID': self._place(service['ID']), 'Labels': {}, 'Spec': copy.deepcopy(spec['TaskTemplate']),
            'DesiredState': 'running',
            'Status': {'Timestamp': self._timestamp(), 'State': 'running', 'Message': 'started',
                       'ContainerStatus': {'ContainerID': hashlib.sha256(task_id.encode('ascii')).hexdigest()},
                       'PortStatus': {'Ports': ports} if ports else {}},
        })

    def _retire(self, task, desired='shutdown'):
        task['DesiredState'] = desired
        task['Status'] = dict(task['Status'], State='shutdown', Message='shutdown', Timestamp=self._timestamp())

    def _scale(self, service):
        """Tasks added for the free slots up to the replicas, the ones above retired (desired state remove)."""
        replicas = _replicas_of(service['Spec'])
        running = sorted(self._running_tasks(service['ID']), key=lambda task: task['Slot'])
        for task in running:
            if task['Slot'] > replicas:
                self._retire(task, 'remove')
        taken = set(task['Slot'] for task in running)
        for slot in range(1, replicas + 1):
            if slot not in taken:
                self._start_task(service, slot)

    def _spec_of(self, spec, template):
        """A service spec as the Engine API shows it, of a _swarm_specs.service_spec."""
        return {'Name': spec['name'], 'Labels': dict(spec['labels']), 'TaskTemplate': template,
                'Mode': copy.deepcopy(spec['mode']), 'UpdateConfig': dict(spec['update_config']),
                'RollbackConfig': dict(spec['rollback_config']),
                'EndpointSpec': copy.deepcopy(spec['endpoint_spec'])}

    def swarm_state(self):
        self._call('swarm_state')
        return bool(self.swarm_manager), self.swarm_node_state

    def swarm_info(self):
        """The daemon's ``Swarm`` information: the first node is this daemon's when it is in the swarm."""
        self._call('swarm_info')
        member = self.swarm_node_state == 'active'
        first = self.nodes[0] if member and self.nodes else {}
        return {'LocalNodeState': self.swarm_node_state, 'ControlAvailable': bool(self.swarm_manager),
                'NodeID': first.get('ID', ''), 'NodeAddr': (first.get('Status') or {}).get('Addr', ''),
                'RemoteManagers': [{'NodeID': 'm', 'Addr': addr} for addr in self.remote_managers]}

    # -- the cluster and images (dokku_ps_swarm, dokku_ps_swarm_node, dokku_ps_image) -----------------------------

    def init_swarm(self, advertise_addr, listen_addr, data_path_addr=None, default_addr_pool=None, subnet_size=None):
        """This daemon becomes the manager of a new swarm whose one node is the first of ``nodes``."""
        self._call('init_swarm', arg=(advertise_addr, listen_addr, data_path_addr, default_addr_pool, subnet_size))
        self.swarm_manager, self.swarm_node_state = True, 'active'
        self.remote_managers = ['%s:2377' % (advertise_addr or '10.0.0.2')]
        return self.nodes[0]['ID']

    def join_swarm(self, remote_addrs, join_token, listen_addr, advertise_addr=None, data_path_addr=None):
        """Joins as a manager when the token says so (``SWMTKN-...-m``), else as a worker."""
        self._call('join_swarm', name=', '.join(remote_addrs),
                   arg=(remote_addrs, join_token, listen_addr, advertise_addr, data_path_addr))
        self.swarm_manager, self.swarm_node_state = join_token.endswith('-m'), 'active'
        self.remote_managers = list(remote_addrs)

    def leave_swarm(self, force=False):
        self._call('leave_swarm', arg=force)
        self.swarm_manager, self.swarm_node_state, self.remote_managers = False, 'inactive', []

    def join_tokens(self):
        self._need_manager('join_tokens')
        return {'Worker': 'SWMTKN-1-w', 'Manager': 'SWMTKN-1-m'}

    def update_node(self, node_id, version, spec):
        self._need_manager('update_node', name=node_id, arg=(version, copy.deepcopy(spec)))
        with self._lock:
            for entry in self.nodes:
                if entry['ID'] == node_id:
                    entry['Spec'] = copy.deepcopy(spec)
                    entry['Version']['Index'] += 1

    def remove_node(self, node_id, force=False):
        self._need_manager('remove_node', name=node_id, arg=force)
        with self._lock:
            self.nodes = [entry for entry in self.nodes if entry['ID'] != node_id]

    def save_image(self, reference):
        """The ``images`` entry as a stream: its id, and its tags when saved by a name."""
        self._call('save_image', name=reference, arg=reference)
        found = self.inspect_image(reference)
        tags = [] if reference == found['Id'] else found.get('RepoTags') or []
        return iter([json.dumps({'Id': found['Id'], 'Size': found.get('Size'), 'RepoTags': tags}).encode()])

    def load_image(self, chunks):
        loaded = json.loads(b''.join(chunks).decode())
        self._call('load_image', arg=loaded['Id'])
        with self._lock:
            entry = self.images.setdefault(loaded['Id'], {'Id': loaded['Id'], 'Size': loaded['Size'], 'RepoTags': []})
            entry['RepoTags'] = sorted(set(entry.get('RepoTags') or []) | set(loaded['RepoTags']))

    def tag_image(self, image_id, repository, tag):
        self._call('tag_image', name=image_id, arg=(repository, tag))
        with self._lock:
            entry = self.images[image_id]
            entry['RepoTags'] = sorted(set(entry.get('RepoTags') or []) | {'%s:%s' % (repository, tag)})

    def list_services(self, filters):
        self._need_manager('list_services', arg=filters)
        with self._lock:
            return [copy.deepcopy(service) for service in self.services if _service_matches(service, filters)]

    def list_tasks(self, filters):
        self._need_manager('list_tasks', arg=filters)
        with self._lock:
            found = []
            for task in self.tasks:
                for key, values in (filters or {}).items():
                    if key == 'service':
                        services = [self._service(value) for value in values]
                        if not any(service is not None and service['ID'] == task['ServiceID']
                                   for service in services):
                            break
                    elif key == 'desired-state':
                        if task['DesiredState'] not in values:
                            break
                    elif key == 'node':
                        if task['NodeID'] not in values:
                            break
                    else:
                        raise AssertionError('the fake Docker does not filter tasks by %s' % key)
                else:
                    found.append(copy.deepcopy(task))
            return found

    def list_nodes(self):
        self._need_manager('list_nodes')
        with self._lock:
            return copy.deepcopy(self.nodes)

    def create_service(self, spec):
        self._need_manager('create_service', name=spec['name'], arg=spec)
        with self._lock:
            if self._service(spec['name']) is not None:
                raise DockerError('Docker API error while trying to create service %s: rpc error: code = '
                                  'AlreadyExists desc = name conflicts with an existing object' % spec['name'],
                                  status=409)
            now = self._timestamp()
            service = {'ID': self._swarm_id('service'), 'Version': {'Index': next(self._versions)},
                       'CreatedAt': now, 'UpdatedAt': now,
                       'Spec': self._spec_of(spec, copy.deepcopy(spec['task_template']))}
            service['Endpoint'] = {'Spec': copy.deepcopy(service['Spec']['EndpointSpec'])}
            self.services.append(service)
            self._scale(service)
            return service['ID']

    def update_service(self, service_id, spec, force=False):
        """As the client sends it (the task template with the current ForceUpdate, one more with ``force``) and as
        Swarm carries it out (see the module's description)."""
        self._need_manager('update_service', service_id, spec['name'], (spec, force))
        with self._lock:
            service = self._service(service_id)
            if service is None:
                raise DockerError('Docker API error while trying to inspect service %s: service %s not found'
                                  % (spec['name'], service_id), status=404)
            old = service['Spec']
            template = copy.deepcopy(spec['task_template'])
            template['ForceUpdate'] = (old['TaskTemplate'].get('ForceUpdate') or 0) + (1 if force else 0)
            new = self._spec_of(spec, template)
            service['Version']['Index'] += 1
            service['UpdatedAt'] = self._timestamp()
            service['PreviousSpec'], service['Spec'] = old, new
            service['Endpoint'] = {'Spec': copy.deepcopy(new['EndpointSpec'])}
            service.pop('UpdateStatus', None)  # reset by every update
            kept = [task for task in self._running_tasks(service['ID']) if task['Slot'] <= _replicas_of(new)]
            if not kept or _task_spec(old) == _task_spec(new):
                self._scale(service)  # no task to update: no rolling update
                return
            started = self._timestamp()
            message = None
            for pattern, text in self.rollback.items():
                if fnmatch.fnmatchcase(spec['name'], pattern):
                    message = text
            if message is not None:
                # the new tasks failed: Swarm went back to the previous spec, the old tasks run on
                service['Version']['Index'] += 1
                service['Spec'] = service.pop('PreviousSpec')
                service['Endpoint'] = {'Spec': copy.deepcopy(old['EndpointSpec'])}
                service['UpdateStatus'] = {'State': 'rollback_completed', 'StartedAt': started,
                                           'CompletedAt': self._timestamp(), 'Message': message}
                return
            for task in kept:
                self._retire(task)
            self._scale(service)
            service['UpdateStatus'] = {'State': 'completed', 'StartedAt': started, 'CompletedAt': self._timestamp(),
                                       'Message': 'update completed'}

    def inspect_service(self, service_id):
        with self._lock:
            service = self._service(service_id)
        self._need_manager('inspect_service', service_id, service['Spec']['Name'] if service else service_id)
        return copy.deepcopy(service)

    def remove_service(self, service_id, name=None):
        self._need_manager('remove_service', service_id, name or service_id)
        with self._lock:
            service = self._service(service_id)
            if service is not None:
                self.services.remove(service)
                self.tasks = [task for task in self.tasks if task['ServiceID'] != service['ID']]
