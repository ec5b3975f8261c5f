# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection to the Docker daemon: its options, the SDK's API client, counted requests, errors in plain sentences."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import email.utils
import os
import threading
import time
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError, DockerUnavailable
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor

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
# (up to 4 per slot, see _concurrency.ActionPool): the connection pool keeps that many connections for reuse.
MAX_POOL_SIZE = 40
# Seconds of disagreement between this host's and the daemon's clocks that event waits tolerate as is.
CLOCK_TOLERANCE = 2

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

# The connection options, typed: what a client is built from (``docker_options`` makes them from module parameters).
DockerOptions = collections.namedtuple(
    'DockerOptions', 'host tls validate_certs ca_path client_cert client_key api_version timeout')


def docker_options(params):
    """The connection options of a dict shaped like the module parameters (``DOCKER_COMMON_ARGS``); a key that is
    missing or empty takes its default (no TLS, automatic API version, the default host and timeout)."""
    return DockerOptions(
        host=params.get('docker_host') or DEFAULT_DOCKER_HOST,
        tls=bool(params.get('tls')),
        validate_certs=bool(params.get('validate_certs')),
        ca_path=params.get('ca_path') or None,
        client_cert=params.get('client_cert') or None,
        client_key=params.get('client_key') or None,
        api_version=params.get('api_version') or 'auto',
        timeout=params.get('timeout') or DEFAULT_TIMEOUT,
    )


def require_sdk(module):
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker (the Docker SDK for Python, docker>=5.0.0)'),
                         exception=DOCKER_IMPORT_ERROR)


def _tls_config(options):
    cert_path = os.environ.get('DOCKER_CERT_PATH')

    def from_cert_path(value, filename):
        if value:
            return value
        if cert_path:
            return os.path.join(cert_path, filename)
        return None

    ca_path = from_cert_path(options.ca_path, 'ca.pem')
    client_cert = from_cert_path(options.client_cert, 'cert.pem')
    client_key = from_cert_path(options.client_key, 'key.pem')
    verify = options.validate_certs
    if not (options.tls or verify):
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


class DockerConnection(object):
    """One daemon through ``docker.APIClient``: timed, its requests counted, its clock read from its answers, and
    every SDK or transport exception of ``call`` turned into ``DockerUnavailable`` / ``DockerError`` with a
    one-line message. Clients of one kind of Docker object extend it (``_docker_client.Docker``: containers)."""

    def __init__(self, options):
        if not isinstance(options, DockerOptions):
            raise TypeError('a Docker client is built from DockerOptions (docker_options(params)), not %s'
                            % type(options).__name__)
        self.host = options.host
        self.timeout = options.timeout
        self.requests = 0
        # masks secrets in Docker's error messages (the run's redactor replaces this empty one: Context)
        self.redactor = Redactor()
        self._count_lock = threading.Lock()
        # the Date header of the latest response and the local time it arrived: the daemon's clock
        self._last_date = None
        # the latest second of the daemon's clock any of its answers carried (see daemon_time)
        self._latest_second = None
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
        version = options.api_version
        try:
            self.api = docker.APIClient(base_url=self.host, version=version, timeout=self.timeout,
                                        tls=_tls_config(options), max_pool_size=MAX_POOL_SIZE)
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

    def call_optional(self, what, func, *args, **kwargs):
        """Like ``call``, but a thing that does not exist gives None instead of an error."""
        try:
            return self.call(what, func, *args, **kwargs)
        except DockerError as exc:
            if exc.details.get('status') == 404:
                return None
            raise


def _header_second(date):
    """A ``Date`` header as whole seconds since the epoch, or None when it cannot be read."""
    try:
        return int(email.utils.parsedate_to_datetime(date).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _one_line(text):
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return ' '.join(lines)


def _version_tuple(version):
    try:
        return tuple(int(part) for part in str(version).split('.'))
    except ValueError:
        return (0,)
