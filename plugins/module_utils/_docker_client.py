# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker client: the connection options, the SDK's low-level API client, errors in plain sentences.

Every Docker call of the collection goes through ``Docker``: it has a timeout, it counts the API
requests it makes (``Docker.requests``), and it turns SDK and transport exceptions into
``DockerUnavailable`` / ``DockerError`` with one-line messages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import io
import math
import os
import tarfile
import threading
import time
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError, DockerUnavailable
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import restart_policy_to_docker

try:
    import docker
    from docker.errors import APIError, DockerException, NotFound
    from docker.tls import TLSConfig
    import requests.exceptions
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class APIError(Exception):
        pass

    class DockerException(Exception):
        pass

    class NotFound(APIError):
        pass

DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'
DEFAULT_TIMEOUT = 60
MIN_API_VERSION = '1.41'
# The daemon tops out near 8 concurrent requests, but checks hold long event-stream requests while they wait
# (up to 4 per slot, see executor.ActionPool): the connection pool keeps that many connections for reuse.
MAX_POOL_SIZE = 40
# Seconds of disagreement between this host's and the daemon's clocks that event waits tolerate as is.
CLOCK_TOLERANCE = 2
# An update that met a container between two runs of its process (Docker restarting it) is tried again.
UPDATE_ATTEMPTS = 5
NOT_RUNNING = 'container not running'
# How many events the daemon keeps for clients that ask for past ones (moby's events buffer; 256 in 20.10 to 27)
EVENT_BUFFER = 256

DOCKER_COMMON_ARGS = dict(
    docker_host=dict(type='str', default=DEFAULT_DOCKER_HOST, fallback=(env_fallback, ['DOCKER_HOST']),
                     aliases=['docker_url']),
    tls=dict(type='bool', default=False, fallback=(env_fallback, ['DOCKER_TLS'])),
    validate_certs=dict(type='bool', default=False, fallback=(env_fallback, ['DOCKER_TLS_VERIFY']),
                        aliases=['tls_verify']),
    ca_path=dict(type='path', aliases=['ca_cert', 'tls_ca_cert']),
    client_cert=dict(type='path', aliases=['tls_client_cert']),
    client_key=dict(type='path', aliases=['tls_client_key']),
    api_version=dict(type='str', default='auto', fallback=(env_fallback, ['DOCKER_API_VERSION']),
                     aliases=['docker_api_version']),
    timeout=dict(type='int', default=DEFAULT_TIMEOUT, fallback=(env_fallback, ['DOCKER_TIMEOUT'])),
)
DOCKER_REQUIRED_TOGETHER = [['client_cert', 'client_key']]


def docker_argument_spec(**extra):
    spec = dict((key, dict(value)) for key, value in DOCKER_COMMON_ARGS.items())
    spec.update(extra)
    return spec


def require_sdk(module):
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker (the Docker SDK for Python, docker>=5.0.0)'),
                         exception=DOCKER_IMPORT_ERROR)


def _tls_config(params):
    cert_path = os.environ.get('DOCKER_CERT_PATH')

    def from_cert_path(value, filename):
        if value:
            return value
        if cert_path:
            return os.path.join(cert_path, filename)
        return None

    ca_path = from_cert_path(params.get('ca_path'), 'ca.pem')
    client_cert = from_cert_path(params.get('client_cert'), 'cert.pem')
    client_key = from_cert_path(params.get('client_key'), 'key.pem')
    verify = bool(params.get('validate_certs'))
    if not (params.get('tls') or verify):
        return None
    kwargs = {'verify': ca_path if (verify and ca_path) else verify}
    if client_cert and client_key:
        kwargs['client_cert'] = (client_cert, client_key)
    return TLSConfig(**kwargs)


def _unix_socket_path(host):
    if host.startswith('unix://'):
        return host[len('unix://'):]
    return None


def explain_connection_error(host, exc, timeout=None):
    """A plain sentence for a failure to talk to the daemon."""
    text = '%s' % (exc,)
    chain = []
    current = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = getattr(current, '__cause__', None) or getattr(current, '__context__', None)
    for item in chain + [text]:
        if isinstance(item, PermissionError) or 'Permission denied' in str(item):
            return ('Permission denied on the Docker socket %s: run with become (sudo) or join the docker group.'
                    % host)
    for item in chain + [text]:
        if isinstance(item, FileNotFoundError) or 'No such file or directory' in str(item):
            return 'Cannot reach the Docker daemon at %s: the socket does not exist. Is the Docker daemon running?' % host
        if isinstance(item, ConnectionRefusedError) or 'Connection refused' in str(item):
            return 'Cannot reach the Docker daemon at %s: connection refused. Is the Docker daemon running?' % host
    if 'timed out' in text.lower() or 'timeout' in type(exc).__name__.lower():
        return ('The Docker daemon at %s did not answer within %s seconds (raise the timeout option, or check '
                'the daemon).' % (host, timeout))
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return 'Cannot talk to the Docker daemon at %s: %s' % (host, first_line)


class Docker(object):
    """A thin, counted, error-translating wrapper around ``docker.APIClient``."""

    def __init__(self, params):
        self.host = params.get('docker_host') or DEFAULT_DOCKER_HOST
        self.timeout = params.get('timeout') or DEFAULT_TIMEOUT
        self.requests = 0
        # masks secrets in Docker's error messages (the run's redactor replaces this empty one: Context)
        self.redactor = Redactor()
        self._count_lock = threading.Lock()
        # the Date header of the latest response and the local time it arrived: the daemon's clock
        self._last_date = None
        # the latest second of the daemon's clock any of its answers carried (see daemon_time)
        self._latest_second = None
        # container id -> 'update' and 'start' events this client caused (see caused_events)
        self._caused = {}
        socket_path = _unix_socket_path(self.host)
        if socket_path is not None:
            if not os.path.exists(socket_path):
                raise DockerUnavailable(
                    'Cannot reach the Docker daemon at %s: the socket does not exist. Is the Docker daemon running?'
                    % self.host)
            if not os.access(socket_path, os.R_OK | os.W_OK):
                raise DockerUnavailable(
                    'Permission denied on the Docker socket %s: run with become (sudo) or join the docker group.'
                    % self.host)
        version = params.get('api_version') or 'auto'
        try:
            self.api = docker.APIClient(base_url=self.host, version=version, timeout=self.timeout,
                                        tls=_tls_config(params), max_pool_size=MAX_POOL_SIZE)
        except DockerException as exc:
            raise DockerUnavailable(explain_connection_error(self.host, exc, self.timeout))
        except Exception as exc:  # pylint: disable=broad-except
            raise DockerUnavailable(explain_connection_error(self.host, exc, self.timeout))
        self.api.hooks['response'].append(self._count)
        if version == 'auto':
            # the version probe in the constructor did not go through the hook
            self.requests += 1
        self.api_version = self.api.api_version
        if _version_tuple(self.api_version) < _version_tuple(MIN_API_VERSION):
            raise DockerUnavailable('The Docker daemon at %s speaks API %s; dokku_ps needs %s or newer.'
                                    % (self.host, self.api_version, MIN_API_VERSION))

    def _count(self, response, *args, **kwargs):
        date = response.headers.get('Date')
        second = _header_second(date) if date else None
        with self._count_lock:
            self.requests += 1
            if date:
                self._last_date = (date, time.time())
            if second is not None and (self._latest_second is None or second > self._latest_second):
                self._latest_second = second
        return response

    def daemon_time(self):
        """Now on the daemon's clock, in nanoseconds, as closely as this client can tell: this host's clock
        corrected by ``clock_offset``, kept within the second after the latest ``Date`` header it saw (the daemon's
        clock was in that second when it answered, and time went on since); None before any answer."""
        with self._count_lock:
            latest = self._latest_second
        if latest is None:
            return None
        estimate = min(max(time.time() + self.clock_offset(), latest), latest + 1)
        return int(estimate * 10 ** 9)

    def clock_offset(self):
        """Seconds the daemon's clock is ahead of this host's, learned from the Date header of its latest answer
        (no extra request); 0 when they agree within that header's one-second resolution, or when unknown.
        A remote ``docker_host`` need not share this host's clock, and event filters are in daemon time."""
        with self._count_lock:
            last = self._last_date
        if last is None:
            return 0.0
        try:
            daemon_time = email.utils.parsedate_to_datetime(last[0]).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return 0.0
        offset = daemon_time + 0.5 - last[1]  # the header is truncated to the second
        return offset if abs(offset) >= CLOCK_TOLERANCE else 0.0

    def call(self, what, func, *args, **kwargs):
        """Run one SDK call; ``what`` says what it was for, in error messages."""
        try:
            return func(*args, **kwargs)
        except APIError as exc:
            # Docker's own words may quote what it was sent (an env entry, a command): scrubbed before shown
            explanation = getattr(exc, 'explanation', None) or str(exc)
            status = 404 if isinstance(exc, NotFound) else getattr(exc, 'status_code', None)
            raise DockerError('Docker API error while trying to %s: %s' % (what, self.redactor.text(_one_line(explanation))),
                              status=status)
        except (requests.exceptions.RequestException, DockerException, OSError) as exc:
            raise DockerUnavailable(self.redactor.text(explain_connection_error(self.host, exc, self.timeout)))

    # -- queries -------------------------------------------------------------------------------------------

    def list_containers(self, filters):
        return self.call('list containers', self.api.containers, all=True, filters=filters)

    def call_optional(self, what, func, *args, **kwargs):
        """Like ``call``, but a thing that does not exist gives None instead of an error."""
        try:
            return self.call(what, func, *args, **kwargs)
        except DockerError as exc:
            if exc.details.get('status') == 404:
                return None
            raise

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

    def inspect_network(self, name):
        """Inspect data of a network, or None when it does not exist."""
        return self.call_optional('inspect network %s' % name, self.api.inspect_network, name)

    def create_network(self, name, subnet, ip_range, labels):
        """Create a bridge network with one IPv4 subnet; ``ip_range`` is where Docker picks dynamic addresses."""
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet, iprange=ip_range)])
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
        between two runs of its process, where the update fails ("container not running"): it is tried again,
        at most UPDATE_ATTEMPTS times."""
        for attempt in range(UPDATE_ATTEMPTS):
            try:
                self.call('update the restart policy of %s' % (name or container_id), self.api.update_container,
                          container_id, restart_policy=restart_policy_to_docker(policy))
                break
            except DockerError as exc:
                if NOT_RUNNING not in str(exc) or attempt == UPDATE_ATTEMPTS - 1:
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


def _api_time(nanoseconds):
    """Nanoseconds as the events API takes a time: ``seconds.nanoseconds``."""
    return '%d.%09d' % divmod(nanoseconds, 10 ** 9)


def _header_second(date):
    """A ``Date`` header as whole seconds since the epoch, or None when it cannot be read."""
    try:
        return int(email.utils.parsedate_to_datetime(date).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


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


def _one_line(text):
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return ' '.join(lines)


def _version_tuple(version):
    try:
        return tuple(int(part) for part in str(version).split('.'))
    except ValueError:
        return (0,)
