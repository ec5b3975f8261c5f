# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of docker_client.py: plain-sentence connection errors and the checks of ``Docker.__init__``.

No Docker daemon is used: sockets are paths that do not exist, sockets nobody listens on, and a tiny fake
HTTP server on a unix socket in a temporary directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import json
import os
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
import requests.exceptions
from docker.errors import APIError, DockerException, NotFound

from ansible_collections.dokku_ps.docker.plugins.module_utils import _docker_client as docker_client
from ansible_collections.dokku_ps.docker.plugins.module_utils import _docker_connection as docker_connection
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import Docker
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import docker_options, explain_connection_error
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError, DockerUnavailable
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor

HOST = 'unix:///var/run/docker.sock'


def explain(exc, host=HOST, timeout=60):
    message = explain_connection_error(host, exc, timeout)
    assert isinstance(message, str)
    assert '\n' not in message and '\r' not in message, 'one line: %r' % message
    return message


def _raise_from(outer, inner):
    """``outer`` raised ``from inner``, the way the SDK chains its exceptions."""
    try:
        try:
            raise inner
        except Exception as exc:
            raise outer from exc
    except Exception as exc:
        return exc


def _raise_during(outer, inner):
    """``outer`` raised while handling ``inner`` (implicit __context__ only)."""
    try:
        try:
            raise inner
        except Exception:
            raise outer
    except Exception as exc:
        return exc


def _sdk_error(path):
    """The exception the Docker SDK itself raises for a socket at ``path`` (no daemon is contacted)."""
    import docker
    try:
        docker.APIClient(base_url='unix://' + path, version='auto', timeout=2)
    except DockerException as exc:
        return exc
    raise AssertionError('expected the SDK to fail on %s' % path)


# ---------------------------------------------------------------- explain_connection_error: missing socket

MISSING = 'Is the Docker daemon running?'


@pytest.mark.parametrize('exc', [
    FileNotFoundError(2, 'No such file or directory'),
    _raise_from(DockerException('Error while fetching server API version'), FileNotFoundError(2, 'No such file')),
    _raise_during(RuntimeError('wrapped'), FileNotFoundError(2, 'x')),
    _raise_from(DockerException('outer'),
                _raise_from(requests.exceptions.ConnectionError('middle'), FileNotFoundError(2, 'No such file or directory'))),
    requests.exceptions.ConnectionError(
        "('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"),
    DockerException("Error while fetching server API version: ('Connection aborted.', "
                    "FileNotFoundError(2, 'No such file or directory'))"),
])
def test_missing_socket(exc):
    message = explain(exc)
    assert MISSING in message
    assert HOST in message
    assert 'socket does not exist' in message


def test_missing_socket_real_sdk_exception(tmp_path):
    exc = _sdk_error(str(tmp_path / 'nothing.sock'))
    message = explain(exc, 'unix://%s' % (tmp_path / 'nothing.sock'))
    assert MISSING in message
    assert str(tmp_path / 'nothing.sock') in message


# ---------------------------------------------------------------- explain_connection_error: permission

@pytest.mark.parametrize('exc', [
    PermissionError(13, 'Permission denied'),
    _raise_from(DockerException('Error while fetching server API version'), PermissionError(13, 'Permission denied')),
    _raise_during(ValueError('wrapped'), PermissionError(13, 'x')),
    requests.exceptions.ConnectionError("('Connection aborted.', PermissionError(13, 'Permission denied'))"),
    DockerException("Error while fetching server API version: ('Connection aborted.', "
                    "PermissionError(13, 'Permission denied'))"),
])
def test_permission_denied(exc):
    message = explain(exc)
    assert 'Permission denied' in message
    assert 'become' in message
    assert 'docker group' in message
    assert HOST in message


def test_permission_wins_over_a_missing_file_in_the_same_chain():
    exc = _raise_from(PermissionError(13, 'Permission denied'), FileNotFoundError(2, 'No such file or directory'))
    assert 'docker group' in explain(exc)


# ---------------------------------------------------------------- explain_connection_error: refused, timeout, other

@pytest.mark.parametrize('exc', [
    ConnectionRefusedError(111, 'Connection refused'),
    _raise_from(DockerException('x'), ConnectionRefusedError(111, 'Connection refused')),
    requests.exceptions.ConnectionError("('Connection aborted.', ConnectionRefusedError(111, 'Connection refused'))"),
])
def test_connection_refused(exc):
    message = explain(exc, 'tcp://127.0.0.1:2375')
    assert 'connection refused' in message
    assert MISSING in message
    assert 'tcp://127.0.0.1:2375' in message


def test_connection_refused_real_sdk_exception(tmp_path):
    path = str(tmp_path / 'dead.sock')
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(path)          # bound, never listening: connect() is refused
        message = explain(_sdk_error(path), 'unix://' + path)
    finally:
        server.close()
    assert 'connection refused' in message


@pytest.mark.parametrize('exc', [
    requests.exceptions.ReadTimeout("UnixHTTPConnectionPool(host='localhost', port=None): Read timed out. "
                                    "(read timeout=7)"),
    requests.exceptions.ConnectTimeout('connect'),
    socket.timeout('timed out'),
    TimeoutError(),
    DockerException('Error while fetching server API version: Read timed out. (read timeout=7)'),
])
def test_timeout(exc):
    message = explain(exc, timeout=7)
    assert 'did not answer within 7 seconds' in message
    assert 'timeout option' in message


@pytest.mark.parametrize('exc, expected', [
    (DockerException('first line\nsecond line\nthird'), 'first line'),
    (ValueError('\n\n  something odd  \nmore'), 'something odd'),
    (RuntimeError(''), 'RuntimeError'),
    (OSError(99, 'Cannot assign requested address'), 'Cannot assign requested address'),
])
def test_other_errors_are_one_line(exc, expected):
    message = explain(exc)
    assert message.startswith('Cannot talk to the Docker daemon at %s: ' % HOST)
    assert expected in message
    assert 'second line' not in message and 'more' not in message


def test_chain_loops_are_bounded():
    first = DockerException('a')
    second = DockerException('b')
    first.__cause__ = second
    second.__cause__ = first
    assert explain(first).startswith('Cannot talk to the Docker daemon')


# ---------------------------------------------------------------- Docker.__init__

def test_docker_socket_missing(tmp_path):
    host = 'unix://%s' % (tmp_path / 'nonexistent' / 'docker.sock')
    with pytest.raises(DockerUnavailable) as info:
        Docker(docker_options({'docker_host': host, 'timeout': 2}))
    message = str(info.value)
    assert MISSING in message and 'socket does not exist' in message and host in message
    assert '\n' not in message


def test_docker_socket_missing_fixed_path():
    with pytest.raises(DockerUnavailable) as info:
        Docker(docker_options({'docker_host': 'unix:///nonexistent/docker.sock'}))
    assert 'Cannot reach the Docker daemon at unix:///nonexistent/docker.sock' in str(info.value)
    assert MISSING in str(info.value)


def test_docker_socket_without_permission(tmp_path, monkeypatch):
    # tests run as root, for whom os.access always succeeds: pretend to be a user outside the docker group
    path = tmp_path / 'docker.sock'
    path.write_text('')
    os.chmod(str(path), 0o600)
    seen = []

    def no_access(target, mode):
        seen.append((target, mode))
        return False

    monkeypatch.setattr(docker_connection.os, 'access', no_access)
    with pytest.raises(DockerUnavailable) as info:
        Docker(docker_options({'docker_host': 'unix://%s' % path, 'timeout': 2}))
    assert seen == [(str(path), os.R_OK | os.W_OK)]
    message = str(info.value)
    assert 'Permission denied' in message and 'become' in message and 'docker group' in message
    assert '\n' not in message


def test_docker_socket_nobody_listens_on(tmp_path):
    path = str(tmp_path / 'dead.sock')
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(path)
        with pytest.raises(DockerUnavailable) as info:
            Docker(docker_options({'docker_host': 'unix://' + path, 'timeout': 2}))
    finally:
        server.close()
    assert 'connection refused' in str(info.value)
    assert '\n' not in str(info.value)


def test_docker_wedged_daemon_times_out(tmp_path):
    """A daemon that accepts connections and never answers gives an error, not a hang."""
    path = str(tmp_path / 'wedged.sock')
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(path)
        server.listen(8)
        with pytest.raises(DockerUnavailable) as info:
            Docker(docker_options({'docker_host': 'unix://' + path, 'timeout': 0.3}))
    finally:
        server.close()
    assert 'did not answer within 0.3 seconds' in str(info.value)


class _FakeDaemon(object):
    """A unix-socket HTTP server answering /version with a given API version (and counting requests)."""

    def __init__(self, path, api_version):
        daemon = self
        self.paths = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server naming)
                daemon.paths.append(self.path)
                body = json.dumps({'ApiVersion': api_version, 'Version': '26.1.5',
                                   'MinAPIVersion': '1.24'}).encode('utf-8')
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

            def address_string(self):
                return 'unix'

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05})
        self.thread.daemon = True

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_docker_too_old_api_is_refused(tmp_path):
    path = str(tmp_path / 'old.sock')
    with _FakeDaemon(path, '1.40'):
        with pytest.raises(DockerUnavailable) as info:
            Docker(docker_options({'docker_host': 'unix://' + path, 'timeout': 2}))
    assert 'speaks API 1.40; dokku_ps needs 1.41 or newer' in str(info.value)


def test_docker_connects_and_counts_the_version_probe(tmp_path):
    path = str(tmp_path / 'ok.sock')
    with _FakeDaemon(path, '1.45') as daemon:
        client = Docker(docker_options({'docker_host': 'unix://' + path, 'timeout': 2}))
        assert client.api_version == '1.45'
        assert client.requests == 1
        assert len(daemon.paths) == 1 and daemon.paths[0].endswith('/version')
        client.api.close()


# ---------------------------------------------------------------- Docker.call error translation

def _bare_docker():
    client = Docker.__new__(Docker)
    client.host = HOST
    client.timeout = 9
    client.redactor = Redactor()
    client._count_lock = threading.Lock()
    client._caused = {}
    return client


def test_call_translates_api_errors_to_one_line():
    def fail():
        raise APIError('500 Server Error', explanation='Conflict.\nThe container name is already in use\n')
    with pytest.raises(DockerError) as info:
        _bare_docker().call('create container demo.web.1', fail)
    assert str(info.value) == ('Docker API error while trying to create container demo.web.1: Conflict. '
                               'The container name is already in use')


def test_call_scrubs_dockers_words_but_not_its_own():
    """Docker's error text may quote what it was sent: every piece of a secret in it is masked; the collection's
    own words around it (the container name, even when an env value equals the app name) stay as they are."""
    client = _bare_docker()
    client.redactor.add_env({'TOKEN': 'left\x00s3cr3t right', 'APP_NAME': 'demo'})
    client.redactor.add_public(['demo'])

    def fail():
        raise APIError('400 Client Error', explanation='invalid environment variable value can\'t contain '
                                                       'null(\\x00): "TOKEN=left\\x00s3cr3t right"\nright')
    with pytest.raises(DockerError) as info:
        client.call('create container demo.web.1', fail)
    assert str(info.value) == ("Docker API error while trying to create container demo.web.1: invalid environment "
                               "variable value can't contain null(\\x00): \"TOKEN=XXXXXX\" XXXXXX")


def test_call_scrubs_transport_errors():
    client = _bare_docker()
    client.redactor.add_env({'TOKEN': 'sekrit-in-url'})

    def fail():
        raise requests.exceptions.ConnectionError('bad answer for /containers/create?x=sekrit-in-url')
    with pytest.raises(DockerUnavailable) as info:
        client.call('create container demo.web.1', fail)
    assert 'sekrit-in-url' not in str(info.value) and 'XXXXXX' in str(info.value)


def test_call_turns_not_found_into_a_docker_error():
    def missing():
        raise NotFound('gone')
    with pytest.raises(DockerError) as info:
        _bare_docker().call('inspect', missing)
    assert info.value.details['status'] == 404
    assert _bare_docker().call_optional('inspect', missing) is None


@pytest.mark.parametrize('exc, text', [
    (requests.exceptions.ReadTimeout('Read timed out. (read timeout=9)'), 'did not answer within 9 seconds'),
    (requests.exceptions.ConnectionError("FileNotFoundError(2, 'No such file or directory')"), MISSING),
    (PermissionError(13, 'Permission denied'), 'docker group'),
])
def test_call_translates_transport_errors(exc, text):
    def fail():
        raise exc
    with pytest.raises(DockerUnavailable) as info:
        _bare_docker().call('list containers', fail)
    assert text in str(info.value)
    assert '\n' not in str(info.value)


def test_call_returns_the_result():
    assert _bare_docker().call('x', lambda a, b=0: a + b, 1, b=2) == 3


class _FakeAPI(object):
    """Stands in for docker.APIClient: every method raises the exception given for it."""

    def __init__(self, **raises):
        self.raises = raises
        self.calls = []

    def create_host_config(self, **kwargs):
        return dict(kwargs)

    def __getattr__(self, method):
        def call(*args, **kwargs):
            self.calls.append((method, args, kwargs))
            if method in self.raises:
                raise self.raises[method]
            return {'Id': 'new-id'} if method == 'create_container' else None
        return call


def _docker_with(api):
    client = _bare_docker()
    client.api = api
    return client


def test_gone_containers_and_images_are_none_or_ignored():
    client = _docker_with(_FakeAPI(inspect_container=NotFound('gone'), inspect_image=NotFound('gone'),
                                   remove_container=NotFound('gone')))
    assert client.inspect_container('abc') is None
    assert client.inspect_image('demo:1') is None
    client.remove('abc', 'demo.web.1', force=True)
    assert ('remove_container', ('abc',), {'force': True}) in client.api.calls


def test_create_container_passes_the_spec():
    from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
    doc = {'name': 'demo', 'image_id': 'sha256:' + 'a' * 64, 'processes': {'web': 'server $PORT'}, 'env': {'A': '1'},
           'web_port': 5000, 'publish': 'auto'}
    spec = specs.build_spec(doc, 'on-failure:10', 'web', 1)
    client = _docker_with(_FakeAPI())
    assert client.create_container(spec, 'demo.web.1.upcoming-ab') == 'new-id'
    method, _args, kwargs = client.api.calls[0]
    assert method == 'create_container'
    assert kwargs['name'] == 'demo.web.1.upcoming-ab'
    assert kwargs['image'] == spec['image'] and kwargs['command'] == ['server', '5000']
    assert kwargs['environment'] == spec['env'] and kwargs['labels'] == spec['labels']
    assert kwargs['ports'] == [5000]
    assert kwargs['host_config'] == {'init': True, 'restart_policy': {'Name': 'on-failure', 'MaximumRetryCount': 10},
                                     'port_bindings': {5000: None}}
    assert 'healthcheck' not in kwargs, "without a liveness check the image's own HEALTHCHECK applies as before"


def test_create_container_passes_the_liveness_check_as_the_healthcheck():
    from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
    liveness = {'type': 'liveness', 'name': 'alive', 'command': ['test', '-f', '/tmp/ok'], 'path': None,
                'content': None, 'port': None, 'attempts': 2, 'timeout': 3, 'wait': 4, 'initial_delay': 5,
                'uptime': None, 'listening': False, 'scheme': 'http'}
    doc = {'name': 'demo', 'image_id': 'sha256:' + 'a' * 64, 'processes': {'web': 'server $PORT'}, 'env': {},
           'web_port': 5000, 'app_json': {'source': 'app_json option', 'formation': None,
                                          'healthchecks': {'web': [liveness]}}}
    spec = specs.build_spec(doc, 'on-failure:10', 'web', 1)
    client = _docker_with(_FakeAPI())
    client.create_container(spec, 'demo.web.1')
    _method, _args, kwargs = client.api.calls[0]
    assert kwargs['healthcheck'] == {'Test': ['CMD', 'test', '-f', '/tmp/ok'], 'Interval': 4 * 10 ** 9,
                                     'Timeout': 3 * 10 ** 9, 'Retries': 2, 'StartPeriod': 5 * 10 ** 9}


def test_update_restart_policy_sends_the_docker_form():
    client = _docker_with(_FakeAPI())
    client.update_restart_policy('abc', 'no', 'demo.web.1')
    expected = {'restart_policy': {'Name': 'no', 'MaximumRetryCount': 0}}
    assert client.api.calls == [('update_container', ('abc',), expected)]


def test_the_update_and_start_events_a_client_causes_are_counted():
    client = _docker_with(_FakeAPI(start=APIError('500 Server Error', explanation='no')))
    client.update_restart_policy('abc', 'no')
    client.update_restart_policy('abc', 'always')
    with pytest.raises(DockerError):
        client.start('def')
    assert client.caused_events(['abc', 'def', 'ghi']) == {'abc': 2}, 'a failed start causes no event'


# ---------------------------------------------------------------- small helpers

def test_argument_spec_and_helpers():
    spec = docker_connection.docker_argument_spec(app=dict(type='str', required=True))
    assert spec['docker_host']['default'] == 'unix:///var/run/docker.sock'
    assert spec['api_version']['default'] == 'auto'
    assert spec['app'] == dict(type='str', required=True)
    assert 'timeout' in spec and 'state_dir' not in spec, 'the state directory is not a Docker option'
    spec['docker_host']['default'] = 'changed'
    assert docker_connection.DOCKER_COMMON_ARGS['docker_host']['default'] == 'unix:///var/run/docker.sock'
    assert docker_connection._unix_socket_path('unix:///run/docker.sock') == '/run/docker.sock'
    assert docker_connection._unix_socket_path('tcp://127.0.0.1:2376') is None
    assert docker_connection._version_tuple('1.41') == (1, 41)
    assert docker_connection._version_tuple('1.41') > docker_connection._version_tuple('1.9')
    assert docker_connection._version_tuple('garbage') == (0,)
    assert docker_connection._one_line('a\n\n  b  \nc') == 'a b c'


# ---------------------------------------------------------------- bugs (failing tests, not committed)
# Docker.call re-raises docker.errors.NotFound untranslated (meant for inspect/remove, which handle it), but
# create_container/start/stop/rename/update_restart_policy do not handle it: a 404 escapes as a raw SDK
# exception, which the executor (catches DokkuPsError) and runner.run (catches DokkuPsError) do not catch,
# so e.g. scaling up an app whose recorded image was pruned ends in a traceback instead of a one-line error.

@pytest.mark.parametrize('method, api_method, args', [
    ('create_container', 'create_container',
     ({'image': 'sha256:' + 'a' * 64, 'command': None, 'env': [], 'labels': {}, 'restart_policy': 'no',
       'ports': None, 'init': True}, 'demo.web.1')),
    ('start', 'start', ('abc', 'demo.web.1')),
    ('stop', 'stop', ('abc', 10, 'demo.web.1')),
    ('rename', 'rename', ('abc', 'demo.web.1')),
    ('update_restart_policy', 'update_container', ('abc', 'no', 'demo.web.1')),
])
def test_bug_not_found_becomes_a_one_line_dokku_ps_error(method, api_method, args):
    from docker.errors import ImageNotFound
    from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
    client = _docker_with(_FakeAPI(**{api_method: ImageNotFound('404 Client Error: Not Found ("No such image")')}))
    with pytest.raises(DokkuPsError):
        getattr(client, method)(*args)


# ---------------------------------------------------------------- the daemon's clock (Date header) and event waits

class _Response(object):
    def __init__(self, date=None):
        self.headers = {'Date': date} if date else {}


class _EventsApi(object):
    def __init__(self, events=()):
        self.calls = []
        self.events_to_send = list(events)

    def events(self, since, until, filters, decode):
        self.calls.append((since, until, filters))
        return _Stream(self.events_to_send)


class _Stream(object):
    def __init__(self, items):
        self.items = items
        self.closed = False

    def __iter__(self):
        return iter(self.items)

    def close(self):
        self.closed = True


def _clocked_docker(api=None):
    docker = Docker.__new__(Docker)
    docker.host, docker.timeout, docker.requests = HOST, 60, 0
    docker._count_lock = threading.Lock()
    docker._last_date = None
    docker._latest_second = None
    docker.redactor = Redactor()
    docker.api = api
    return docker


def _http_date(timestamp):
    return email.utils.formatdate(timestamp, usegmt=True)


def test_clock_offset_is_learned_from_the_date_header_of_any_answer():
    docker = _clocked_docker()
    assert docker.clock_offset() == 0.0, 'nothing answered yet'
    docker._count(_Response())
    assert docker.requests == 1 and docker.clock_offset() == 0.0
    docker._count(_Response(_http_date(time.time() + 0.4)))
    assert docker.clock_offset() == 0.0, 'within the tolerance'
    docker._count(_Response(_http_date(time.time() + 300)))
    assert 298 <= docker.clock_offset() <= 302
    docker._count(_Response(_http_date(time.time() - 3600)))
    assert -3602 <= docker.clock_offset() <= -3598
    docker._count(_Response('not a date'))
    assert docker.clock_offset() == 0.0
    assert docker.requests == 5


@pytest.mark.parametrize('skew', [0, 300, -300])
def test_event_waits_ask_for_the_daemons_time_window(skew):
    api = _EventsApi(events=[{'status': 'die'}])
    docker = _clocked_docker(api)
    docker._count(_Response(_http_date(time.time() + skew)))
    before = time.time()
    assert docker.container_events('c0ffee', 5, ('die',)) == ['die']
    (since, until, filters), = api.calls
    assert filters == {'container': ['c0ffee'], 'event': ['die']}
    # the window starts a little before the daemon's now and ends at the deadline, both in daemon time
    assert before + skew - 4 <= since <= before + skew
    assert before + skew + 4 <= until <= before + skew + 7


def test_daemon_time_follows_this_hosts_clock_within_the_second_the_daemon_last_said():
    docker = _clocked_docker()
    assert docker.daemon_time() is None, 'nothing answered yet'
    now = time.time()
    docker._count(_Response(_http_date(now)))
    assert abs(docker.daemon_time() / 1e9 - now) < 1.01
    # concurrent answers may arrive out of order: the latest second counts
    docker._count(_Response(_http_date(now + 50)))
    docker._count(_Response(_http_date(now - 50)))
    docker._count(_Response('not a date'))
    assert docker.requests == 4
    assert int(now + 50) * 1e9 <= docker.daemon_time() <= (int(now + 50) + 1) * 1e9, 'the daemon said it was later'


def test_events_between_asks_for_nanoseconds_and_never_for_the_future_of_since():
    calls = []

    class _Stream(list):
        def close(self):
            calls.append('closed')

    class _Api(object):
        def events(self, **kwargs):
            calls.append(kwargs)
            return _Stream([{'Action': 'start'}])

    docker = _docker_with(_Api())
    assert docker.events_between(1700000000123456789, 1700000005000000000) == [{'Action': 'start'}]
    assert calls == [{'since': '1700000000.123456789', 'until': '1700000005.000000000', 'decode': True}, 'closed']
    del calls[:]
    docker.events_between(1700000005000000000, 1700000000000000000)
    assert calls[0]['until'] == calls[0]['since'] == '1700000005.000000000'


class _FlakyUpdates(_FakeAPI):
    """update_container fails ``failures`` times the way Docker does for a container between two restarts."""

    def __init__(self, failures):
        super(_FlakyUpdates, self).__init__()
        self.failures = failures

    def update_container(self, *args, **kwargs):
        self.calls.append(('update_container', args, kwargs))
        if self.failures:
            self.failures -= 1
            raise APIError('500 Server Error', explanation='Cannot update container 47: runc did not terminate '
                           'successfully: exit status 1: container not running : unknown')


def test_an_update_that_meets_a_restarting_container_is_tried_again():
    client = _docker_with(_FlakyUpdates(2))
    client.update_restart_policy('abc', 'no', 'demo.worker.1')
    assert [call[0] for call in client.api.calls] == ['update_container'] * 3
    assert client.caused_events(['abc']) == {'abc': 1}


def test_an_update_that_keeps_failing_says_so():
    client = _docker_with(_FlakyUpdates(docker_client.UPDATE_ATTEMPTS))
    with pytest.raises(DockerError, match='update the restart policy of demo.worker.1: .*container not running'):
        client.update_restart_policy('abc', 'no', 'demo.worker.1')
    assert len(client.api.calls) == docker_client.UPDATE_ATTEMPTS and client.caused_events(['abc']) == {}
    other = _docker_with(_FakeAPI(update_container=APIError('404 Client Error', explanation='No such container')))
    with pytest.raises(DockerError, match='No such container'):
        other.update_restart_policy('abc', 'no')
    assert len(other.api.calls) == 1, 'other errors are not tried again'
