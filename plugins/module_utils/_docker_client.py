# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker client of containers: list, inspect, logs, events, exec, create, start, stop, update, files out of images.

``Docker`` extends the connection (``_docker_connection.DockerConnection``: options, timeout, counted requests,
errors in plain sentences) with the container, image, network, event and exec calls the collection makes; every
one of them goes through ``call`` or ``call_optional``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import math
import tarfile
import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import CLOCK_TOLERANCE, DockerConnection
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import restart_policy_to_docker

try:
    from docker.types import IPAMConfig, IPAMPool
except ImportError:
    pass  # without the SDK no module gets this far (_docker_connection.require_sdk)

# An update that met a container between two runs of its process (Docker restarting it) is tried again.
UPDATE_ATTEMPTS = 5
# what Docker answers an update of a container it is restarting, caught between two runs of its process
BETWEEN_RUNS = ('container not running', 'cannot update a stopped container')
# How many events the daemon keeps for clients that ask for past ones (moby's events buffer; 256 in 20.10 to 27)
EVENT_BUFFER = 256


class Docker(DockerConnection):
    """The container, image, network, event and exec calls of the collection, on one connection."""

    def __init__(self, options):
        super(Docker, self).__init__(options)
        # container id -> 'update' and 'start' events this client caused (see caused_events)
        self._caused = {}

    # -- queries -------------------------------------------------------------------------------------------

    def list_containers(self, filters):
        return self.call('list containers', self.api.containers, all=True, filters=filters)

    def inspect_container(self, container_id):
        """Inspect data, or None when the container is gone."""
        return self.call_optional('inspect container %s' % container_id, self.api.inspect_container, container_id)

    def inspect_image(self, reference):
        """Inspect data, or None when no such image exists locally."""
        return self.call_optional('inspect image %s' % reference, self.api.inspect_image, reference)

    def logs_tail(self, container_id, lines):
        """The last ``lines`` lines the container wrote (stdout and stderr), as text lines."""
        data = self.call('read the log of %s' % container_id, self.api.logs, container_id, stdout=True, stderr=True,
                         tail=lines)
        return data.decode('utf-8', errors='replace').splitlines()

    def container_events(self, container_id, seconds, kinds):
        """Wait up to ``seconds`` for one of the events ``kinds`` of a container; returns the events seen
        (at most the first one). Waits on the daemon's event stream, in windows shorter than the client
        timeout, so a quiet container costs one long request per window and no polling."""
        deadline = time.time() + seconds
        offset = self.clock_offset()
        # in daemon time; a margin before now, so an event in the second of the call (or within the clocks'
        # tolerance) is not filtered out: what precedes the wait is this new container's create and start
        since = int(time.time() + offset) - CLOCK_TOLERANCE
        while True:
            now = time.time()
            if now >= deadline:
                return []
            until = int(math.ceil(min(deadline, now + max(1, self.timeout - 10)) + offset))
            stream = self.call('watch the events of %s' % container_id, self.api.events, since=since, until=until,
                               filters={'container': [container_id], 'event': list(kinds)}, decode=True)
            try:
                for event in self.call('watch the events of %s' % container_id, _first, stream):
                    return [event.get('status') or event.get('Action')]
            finally:
                stream.close()
            since = until

    def events_between(self, since, until):
        """Every event the daemon still holds from ``since`` to ``until`` (nanoseconds of its clock), unfiltered:
        one request, which returns at once when ``until`` is not in the future (the daemon waits for it
        otherwise). The daemon keeps its latest ``EVENT_BUFFER`` events only (in memory: a daemon restart empties
        it), so a full answer may lack older ones."""
        stream = self.call('read the events of the daemon', self.api.events, since=_api_time(since),
                           until=_api_time(max(until, since)), decode=True)
        try:
            return self.call('read the events of the daemon', list, stream)
        finally:
            stream.close()

    def wait_removed(self, container_id, name=None, timeout=None):
        """Wait until a container that Docker is removing is gone, or its removal ended otherwise (a removal that
        fails leaves it dead). Waits on its ``destroy`` event, looking again at least every 2 s; raises
        DockerError when it is still being removed after ``timeout`` (the client's timeout by default)."""
        deadline = time.time() + (timeout or self.timeout)
        while True:
            data = self.inspect_container(container_id)
            if data is None or (data.get('State') or {}).get('Status') != 'removing':
                return
            remaining = deadline - time.time()
            if remaining <= 0:
                raise DockerError('container %s is still being removed by Docker after %d s; run again once it is '
                                  'gone' % (name or container_id, timeout or self.timeout))
            if self.container_events(container_id, min(remaining, 2), ('destroy',)):
                return

    def exec_run(self, container_id, command):
        """Run a command inside a running container; returns (exit code, output text)."""
        created = self.call('run a check command in %s' % container_id, self.api.exec_create, container_id, command,
                            stdout=True, stderr=True)
        output = self.call('run a check command in %s' % container_id, self.api.exec_start, created['Id'])
        details = self.call('read the exit code of a check command', self.api.exec_inspect, created['Id'])
        return details.get('ExitCode'), (output or b'').decode('utf-8', errors='replace')

    def logs(self, container_id):
        """Everything the container wrote, as (stdout, stderr) text."""
        out = self.call('read the log of %s' % container_id, self.api.logs, container_id, stdout=True, stderr=False)
        err = self.call('read the log of %s' % container_id, self.api.logs, container_id, stdout=False, stderr=True)
        return out.decode('utf-8', errors='replace'), err.decode('utf-8', errors='replace')

    def top(self, container_id):
        return self.call('list the processes of %s' % container_id, self.api.top, container_id)

    # -- changes -------------------------------------------------------------------------------------------

    def create_container(self, spec, name, address=None):
        """Create a container from a model spec (see _specs.build_spec). Returns its id. A spec with a ``network``
        (a proxied web container) joins that network only, at ``address``; one with a ``healthcheck`` gets that
        Docker HEALTHCHECK."""
        port_bindings = None
        exposed = None
        if spec.get('ports'):
            container_port = spec['ports']['container']
            exposed = [container_port]
            port_bindings = {container_port: spec['ports']['host']}
        network = spec.get('network')
        options = dict(init=spec.get('init', True), restart_policy=restart_policy_to_docker(spec['restart_policy']),
                       port_bindings=port_bindings)
        if spec.get('auto_remove'):
            # a detached one-off: Docker removes it when it ends
            options['auto_remove'] = True
        if network:
            options['network_mode'] = network
        host_config = self.api.create_host_config(**options)
        networking_config = None
        if network:
            networking_config = self.api.create_networking_config(
                {network: self.api.create_endpoint_config(ipv4_address=address)})
        extra = {'networking_config': networking_config} if networking_config else {}
        if spec.get('healthcheck'):
            # an app.json liveness check (the Engine API's HealthConfig); without one the image's own HEALTHCHECK,
            # if any, applies as before
            extra['healthcheck'] = spec['healthcheck']
        result = self.call('create container %s' % name, self.api.create_container,
                           image=spec['image'], command=spec['command'], name=name,
                           environment=spec['env'], labels=spec['labels'], host_config=host_config,
                           ports=exposed, detach=True, **extra)
        return result['Id']

    # -- swarm (the swarm scheduler) ---------------------------------------------------------------------------

    def swarm_state(self):
        """(whether this daemon is a swarm manager, its node state: inactive, active, pending...)."""
        swarm = self.swarm_info()
        return bool(swarm.get('ControlAvailable')), swarm.get('LocalNodeState') or 'inactive'

    def list_services(self, filters):
        return self.call('list services', self.api.services, filters=filters)

    def list_tasks(self, filters):
        """The tasks the filters select ([] when their service is gone)."""
        return self.call_optional('list tasks', self.api.tasks, filters=filters) or []

    def list_nodes(self):
        return self.call('list the swarm nodes', self.api.nodes)

    def create_service(self, spec):
        """Create a service from a _swarm_specs.service_spec; returns its id."""
        found = self.call('create service %s' % spec['name'], self.api.create_service, spec['task_template'],
                          name=spec['name'], labels=spec['labels'], mode=spec['mode'],
                          update_config=spec['update_config'], rollback_config=spec['rollback_config'],
                          endpoint_spec=spec['endpoint_spec'])
        return found['ID']

    def update_service(self, service_id, spec, force=False):
        """Update a service to a _swarm_specs.service_spec (read again first: an update needs its current
        version); ``force`` replaces its tasks even when the spec is the same (a restart)."""
        current = self.call('inspect service %s' % spec['name'], self.api.inspect_service, service_id)
        template = dict(spec['task_template'])
        template['ForceUpdate'] = ((current.get('Spec') or {}).get('TaskTemplate') or {}).get('ForceUpdate', 0) + int(force)
        self.call('update service %s' % spec['name'], self.api.update_service, service_id,
                  current['Version']['Index'], task_template=template, name=spec['name'], labels=spec['labels'],
                  mode=spec['mode'], update_config=spec['update_config'], rollback_config=spec['rollback_config'],
                  endpoint_spec=spec['endpoint_spec'], fetch_current_spec=False)

    def inspect_service(self, service_id):
        return self.call_optional('inspect service %s' % service_id, self.api.inspect_service, service_id)

    def remove_service(self, service_id, name=None):
        self.call_optional('remove service %s' % (name or service_id), self.api.remove_service, service_id)

    # -- the cluster (dokku_ps_swarm, dokku_ps_swarm_node) and images (dokku_ps_image) -------------------------

    def swarm_info(self):
        """The ``Swarm`` part of the daemon's information: LocalNodeState, NodeID, ControlAvailable, RemoteManagers..."""
        return self.call('read the daemon\'s information', self.api.info).get('Swarm') or {}

    def init_swarm(self, advertise_addr, listen_addr, data_path_addr=None, default_addr_pool=None, subnet_size=None):
        return self.call('initialize a swarm', self.api.init_swarm, advertise_addr=advertise_addr,
                         listen_addr=listen_addr, data_path_addr=data_path_addr,
                         default_addr_pool=default_addr_pool or None, subnet_size=subnet_size)

    def join_swarm(self, remote_addrs, join_token, listen_addr, advertise_addr=None, data_path_addr=None):
        self.call('join the swarm of %s' % ', '.join(remote_addrs), self.api.join_swarm, remote_addrs, join_token,
                  listen_addr=listen_addr, advertise_addr=advertise_addr, data_path_addr=data_path_addr)

    def leave_swarm(self, force=False):
        self.call('leave the swarm', self.api.leave_swarm, force=force)

    def join_tokens(self):
        """{'Worker': ..., 'Manager': ...} of the swarm (a manager only)."""
        return self.call('read the swarm\'s join tokens', self.api.inspect_swarm).get('JoinTokens') or {}

    def update_node(self, node_id, version, spec):
        self.call('update node %s' % node_id, self.api.update_node, node_id, version, node_spec=spec)

    def remove_node(self, node_id, force=False):
        self.call_optional('remove node %s' % node_id, self.api.remove_node, node_id, force=force)

    def save_image(self, reference):
        """The image as the tar stream of ``docker save`` (chunks): by name, its tags go with it."""
        return self.call('save image %s' % reference, self.api.get_image, reference)

    def load_image(self, chunks):
        """Load a ``docker save`` stream (an iterator of byte chunks, sent as they come: the image is never held in
        memory whole); the image keeps its ID. Docker reports a failure inside the stream of its answer."""
        def load():
            for message in self.api.load_image(chunks):
                if isinstance(message, dict) and message.get('error'):
                    raise DockerError('Docker API error while trying to load an image: %s' % message['error'])
        self.call('load an image', load)

    def tag_image(self, image_id, repository, tag):
        self.call('tag image %s as %s:%s' % (image_id, repository, tag), self.api.tag, image_id, repository, tag)

    def inspect_network(self, name):
        """Inspect data of a network, or None when it does not exist."""
        return self.call_optional('inspect network %s' % name, self.api.inspect_network, name)

    def create_network(self, name, subnet, ip_range, labels):
        """Create a bridge network with one IPv4 subnet; ``ip_range`` is where Docker picks dynamic addresses."""
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, iprange=ip_range)])
        self.call('create network %s' % name, self.api.create_network, name, driver='bridge', ipam=ipam,
                  labels=labels, check_duplicate=True)

    def _caused_event(self, container_id):
        with self._count_lock:
            self._caused[container_id] = self._caused.get(container_id, 0) + 1

    def caused_events(self, container_ids):
        """How many 'update' and 'start' events of each container this client caused (a successful start or
        restart policy update causes one): {container id: count}, for the ids given that have any."""
        with self._count_lock:
            return dict((cid, self._caused[cid]) for cid in container_ids if cid in self._caused)

    def start(self, container_id, name=None):
        self.call('start container %s' % (name or container_id), self.api.start, container_id)
        self._caused_event(container_id)

    def unpause(self, container_id, name=None):
        self.call('unpause container %s' % (name or container_id), self.api.unpause, container_id)

    def stop(self, container_id, timeout, name=None):
        self.call('stop container %s' % (name or container_id), self.api.stop, container_id, timeout=timeout)

    def remove(self, container_id, name=None, force=False):
        """Remove a container; one that is already gone is fine."""
        self.call_optional('remove container %s' % (name or container_id), self.api.remove_container, container_id,
                           force=force)

    def rename(self, container_id, new_name):
        self.call('rename container %s to %s' % (container_id[:12], new_name), self.api.rename, container_id,
                  new_name)

    def update_restart_policy(self, container_id, policy, name=None):
        """Change a container's restart policy in place. A container that Docker is restarting can be caught
        between two runs of its process, where the update fails (between_runs): it is tried again, at most
        UPDATE_ATTEMPTS times."""
        for attempt in range(UPDATE_ATTEMPTS):
            try:
                self.call('update the restart policy of %s' % (name or container_id), self.api.update_container,
                          container_id, restart_policy=restart_policy_to_docker(policy))
                break
            except DockerError as exc:
                if not between_runs(exc) or attempt == UPDATE_ATTEMPTS - 1:
                    raise
        self._caused_event(container_id)

    def read_files(self, image_id, paths, max_bytes=1024 * 1024):
        """Read text files out of an image without running it: path -> text (None when absent).

        A container is created (never started) from the image, the files are copied out with the archive
        API, and the container is removed again.
        """
        result = dict((path, None) for path in paths)
        if not paths:
            return result
        created = self.call('read files from image %s' % image_id, self.api.create_container,
                            image=image_id, command=['/dokku-ps-never-started'],
                            labels={'io.dokku-ps.scratch': ''}, host_config=self.api.create_host_config())
        container_id = created['Id']
        try:
            for path in paths:
                found = self.call_optional('copy %s out of image %s' % (path, image_id), self.api.get_archive,
                                           container_id, path)
                if found is None:
                    continue
                data = b''.join(found[0])
                result[path] = _first_file_from_tar(data, max_bytes)
        finally:
            self.remove(container_id, force=True)
        return result


def between_runs(error):
    """True for Docker's refusal to update a container it is restarting (no process between two runs)."""
    return any(text in str(error) for text in BETWEEN_RUNS)


def _api_time(nanoseconds):
    """Nanoseconds as the events API takes a time: ``seconds.nanoseconds``."""
    return '%d.%09d' % divmod(nanoseconds, 10 ** 9)


def _first(stream):
    """The first item of an iterator, as a list of at most one item."""
    for item in stream:
        return [item]
    return []


def _first_file_from_tar(data, max_bytes):
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive:
            if member.isfile():
                if member.size > max_bytes:
                    return None
                handle = archive.extractfile(member)
                return handle.read().decode('utf-8', errors='replace')
    return None
