# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of _docker_connection.py: plain-sentence connection errors, the checks of ``DockerConnection.__init__``,
``call``'s translation and scrubbing, the daemon's clock, the typed connection options.

No Docker daemon is used: sockets are paths that do not exist, sockets nobody listens on, and a tiny fake
HTTP server on a unix socket in a temporary directory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import threading
import time

import pytest
import requests.exceptions
from docker.errors import APIError, DockerException, NotFound

from ansible_collections.dokku_ps.docker.plugins.module_utils import _docker_connection as docker_connection
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import (
    DockerConnection, DockerOptions, docker_options, explain_connection_error)
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError, DockerUnavailable
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
from tests.unit.docker_daemon import FakeDaemon, Response, http_date

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


# ---------------------------------------------------------------- DockerConnection.__init__

def test_docker_socket_missing(tmp_path):
    host = 'unix://%s' % (tmp_path / 'nonexistent' / 'docker.sock')
    with pytest.raises(DockerUnavailable) as info:
        DockerConnection(docker_options({'docker_host': host, 'timeout': 2}))
    message = str(info.value)
    assert MISSING in message and 'socket does not exist' in message and host in message
    assert '\n' not in message


def test_docker_socket_missing_fixed_path():
    with pytest.raises(DockerUnavailable) as info:
        DockerConnection(docker_options({'docker_host': 'unix:///nonexistent/docker.sock'}))
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
        DockerConnection(docker_options({'docker_host': 'unix://%s' % path, 'timeout': 2}))
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
            DockerConnection(docker_options({'docker_host': 'unix://' + path, 'timeout': 2}))
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
            DockerConnection(docker_options({'docker_host': 'unix://' + path, 'timeout': 0.3}))
    finally:
        server.close()
    assert 'did not answer within 0.3 seconds' in str(info.value)


def test_docker_too_old_api_is_refused(tmp_path):
    path = str(tmp_path / 'old.sock')
    with FakeDaemon(path, '1.40'):
        with pytest.raises(DockerUnavailable) as info:
            DockerConnection(docker_options({'docker_host': 'unix://' + path, 'timeout': 2}))
    assert 'speaks API 1.40; dokku_ps needs 1.41 or newer' in str(info.value)


def test_docker_connects_and_counts_the_version_probe(tmp_path):
    path = str(tmp_path / 'ok.sock')
    with FakeDaemon(path, '1.45') as daemon:
        client = DockerConnection(docker_options({'docker_host': 'unix://' + path, 'timeout': 2}))
        assert client.api_version == '1.45'
        assert client.requests == 1
        assert len(daemon.paths) == 1 and daemon.paths[0].endswith('/version')
        client.api.close()


# ---------------------------------------------------------------- DockerConnection.call error translation

def _bare_connection():
    client = DockerConnection.__new__(DockerConnection)
    client.host = HOST
    client.timeout = 9
    client.redactor = Redactor()
    client._count_lock = threading.Lock()
    return client


def test_call_translates_api_errors_to_one_line():
    def fail():
        raise APIError('500 Server Error', explanation='Conflict.\nThe container name is already in use\n')
    with pytest.raises(DockerError) as info:
        _bare_connection().call('create container demo.web.1', fail)
    assert str(info.value) == ('Docker API error while trying to create container demo.web.1: Conflict. '
                               'The container name is already in use')


def test_call_scrubs_dockers_words_but_not_its_own():
    """Docker's error text may quote what it was sent: every piece of a secret in it is masked; the collection's
    own words around it (the container name, even when an env value equals the app name) stay as they are."""
    client = _bare_connection()
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
    client = _bare_connection()
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
        _bare_connection().call('inspect', missing)
    assert info.value.details['status'] == 404
    assert _bare_connection().call_optional('inspect', missing) is None


@pytest.mark.parametrize('exc, text', [
    (requests.exceptions.ReadTimeout('Read timed out. (read timeout=9)'), 'did not answer within 9 seconds'),
    (requests.exceptions.ConnectionError("FileNotFoundError(2, 'No such file or directory')"), MISSING),
    (PermissionError(13, 'Permission denied'), 'docker group'),
])
def test_call_translates_transport_errors(exc, text):
    def fail():
        raise exc
    with pytest.raises(DockerUnavailable) as info:
        _bare_connection().call('list containers', fail)
    assert text in str(info.value)
    assert '\n' not in str(info.value)


def test_call_returns_the_result():
    assert _bare_connection().call('x', lambda a, b=0: a + b, 1, b=2) == 3


# ---------------------------------------------------------------- small helpers

def test_helpers():
    assert docker_connection._unix_socket_path('unix:///run/docker.sock') == '/run/docker.sock'
    assert docker_connection._unix_socket_path('tcp://127.0.0.1:2376') is None
    assert docker_connection._version_tuple('1.41') == (1, 41)
    assert docker_connection._version_tuple('1.41') > docker_connection._version_tuple('1.9')
    assert docker_connection._version_tuple('garbage') == (0,)
    assert docker_connection._one_line('a\n\n  b  \nc') == 'a b c'


# ---------------------------------------------------------------- the daemon's clock (Date header)


def _clocked_connection():
    connection = DockerConnection.__new__(DockerConnection)
    connection.host, connection.timeout, connection.requests = HOST, 60, 0
    connection._count_lock = threading.Lock()
    connection._last_date = None
    connection._latest_second = None
    connection.redactor = Redactor()
    return connection


def test_clock_offset_is_learned_from_the_date_header_of_any_answer():
    docker = _clocked_connection()
    assert docker.clock_offset() == 0.0, 'nothing answered yet'
    docker._count(Response())
    assert docker.requests == 1 and docker.clock_offset() == 0.0
    docker._count(Response(http_date(time.time() + 0.4)))
    assert docker.clock_offset() == 0.0, 'within the tolerance'
    docker._count(Response(http_date(time.time() + 300)))
    assert 298 <= docker.clock_offset() <= 302
    docker._count(Response(http_date(time.time() - 3600)))
    assert -3602 <= docker.clock_offset() <= -3598
    docker._count(Response('not a date'))
    assert docker.clock_offset() == 0.0
    assert docker.requests == 5


def test_daemon_time_follows_this_hosts_clock_within_the_second_the_daemon_last_said():
    docker = _clocked_connection()
    assert docker.daemon_time() is None, 'nothing answered yet'
    now = time.time()
    docker._count(Response(http_date(now)))
    assert abs(docker.daemon_time() / 1e9 - now) < 1.01
    # concurrent answers may arrive out of order: the latest second counts
    docker._count(Response(http_date(now + 50)))
    docker._count(Response(http_date(now - 50)))
    docker._count(Response('not a date'))
    assert docker.requests == 4
    assert int(now + 50) * 1e9 <= docker.daemon_time() <= (int(now + 50) + 1) * 1e9, 'the daemon said it was later'


# ---------------------------------------------------------------- the typed connection options

def test_docker_options_default_what_the_parameters_leave_out():
    defaults = DockerOptions(host='unix:///var/run/docker.sock', tls=False, validate_certs=False, ca_path=None,
                             client_cert=None, client_key=None, api_version='auto', timeout=60)
    assert docker_options({}) == defaults
    unset = dict((key, None) for key in docker_connection.DOCKER_COMMON_ARGS)
    assert docker_options(unset) == defaults, 'options the module leaves unset (None) take the defaults too'


def test_docker_options_take_the_values_and_nothing_else():
    params = {'docker_host': 'tcp://10.0.0.5:2376', 'tls': True, 'validate_certs': True, 'ca_path': '/etc/d/ca.pem',
              'client_cert': '/etc/d/cert.pem', 'client_key': '/etc/d/key.pem', 'api_version': '1.43', 'timeout': 7,
              'state_dir': '/var/lib/dokku-ps', 'name': 'shop'}
    assert docker_options(params) == ('tcp://10.0.0.5:2376', True, True, '/etc/d/ca.pem', '/etc/d/cert.pem',
                                      '/etc/d/key.pem', '1.43', 7)


def test_the_constructor_takes_docker_options_never_the_parameters(tmp_path):
    with pytest.raises(TypeError, match=r'DockerOptions \(docker_options\(params\)\), not dict'):
        DockerConnection({'docker_host': 'unix:///nonexistent/docker.sock'})
    path = str(tmp_path / 'ok.sock')
    with FakeDaemon(path, '1.44'):
        client = DockerConnection(DockerOptions('unix://' + path, False, False, None, None, None, 'auto', 3))
        assert (client.host, client.timeout, client.api_version, client.requests) == ('unix://' + path, 3, '1.44', 1)
        client.api.close()


def test_tls_from_the_options_and_docker_cert_path(tmp_path, monkeypatch):
    for name in ('ca.pem', 'cert.pem', 'key.pem'):
        (tmp_path / name).write_text('')
    ca, cert, key = (str(tmp_path / name) for name in ('ca.pem', 'cert.pem', 'key.pem'))
    monkeypatch.delenv('DOCKER_CERT_PATH', raising=False)
    assert docker_connection._tls_config(docker_options({'ca_path': ca})) is None, 'no TLS unless asked for'
    plain = docker_connection._tls_config(docker_options({'tls': True}))
    assert plain.verify is False and plain.cert is None
    full = docker_connection._tls_config(docker_options({'validate_certs': True, 'ca_path': ca, 'client_cert': cert,
                                                         'client_key': key}))
    assert full.verify == ca and full.cert == (cert, key)
    monkeypatch.setenv('DOCKER_CERT_PATH', str(tmp_path))
    found = docker_connection._tls_config(docker_options({'validate_certs': True}))
    assert found.verify == ca and found.cert == (cert, key)
