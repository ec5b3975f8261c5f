# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of _docker_client.py: the container, image, network and exec calls, event waits and reads, restart
policy updates and the events a client causes. No Docker daemon is used: the SDK's API client is a fake, or talks
to the stand-in daemon of tests/unit/docker_daemon.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

import pytest
from docker.errors import APIError, NotFound

from ansible_collections.dokku_ps.docker.plugins.module_utils import _docker_client as docker_client
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import Docker
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import DockerConnection, docker_options
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
from tests.unit.docker_daemon import FakeDaemon, Response, http_date
from tests.unit.helpers import app_document, app_with_app_json

HOST = 'unix:///var/run/docker.sock'


# ---------------------------------------------------------------- the connection with the container calls

def test_the_client_is_the_connection_with_the_container_calls(tmp_path):
    assert issubclass(Docker, DockerConnection)
    with pytest.raises(TypeError):
        Docker({'docker_host': HOST})
    path = str(tmp_path / 'ok.sock')
    with FakeDaemon(path, '1.45'):
        client = Docker(docker_options({'docker_host': 'unix://' + path, 'timeout': 2}))
        assert client.requests == 1 and client.caused_events(['abc']) == {}
        client.api.close()


def _bare_docker():
    client = Docker.__new__(Docker)
    client.host = HOST
    client.timeout = 9
    client.redactor = Redactor()
    client._count_lock = threading.Lock()
    client._caused = {}
    return client


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
    doc = app_document(processes={'web': 'server $PORT'}, env={'A': '1'}, web_port=5000, publish='auto')
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
    doc = app_with_app_json({'web': [liveness]}, processes={'web': 'server $PORT'}, env={}, web_port=5000)
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


# ---------------------------------------------------------------- swarm services

class _ServiceApi(_FakeAPI):
    """docker.APIClient with one service, at version 7, whose task template has ``force_update`` as ForceUpdate
    (None: none)."""

    def __init__(self, force_update=None, **raises):
        super(_ServiceApi, self).__init__(**raises)
        template = {'ContainerSpec': {'Image': 'old'}}
        if force_update is not None:
            template['ForceUpdate'] = force_update
        self.current = {'ID': 'svc1', 'Version': {'Index': 7}, 'Spec': {'Name': 'demo-web', 'TaskTemplate': template}}

    def inspect_service(self, service_id):
        self.calls.append(('inspect_service', (service_id,), {}))
        if 'inspect_service' in self.raises:
            raise self.raises['inspect_service']
        return self.current

    def create_service(self, *args, **kwargs):
        self.calls.append(('create_service', args, kwargs))
        return {'ID': 'svc1'}

    def info(self):
        return {'Swarm': {'ControlAvailable': True, 'LocalNodeState': 'active'}}


def _service_spec(replicas=1):
    from ansible_collections.dokku_ps.docker.plugins.module_utils import _swarm_specs as swarm_specs
    return swarm_specs.service_spec(app_document(), 'web', replicas, 'on-failure:10', 30)


def test_create_service_passes_the_spec():
    spec = _service_spec(2)
    client = _docker_with(_ServiceApi())
    assert client.create_service(spec) == 'svc1'
    assert client.api.calls == [('create_service', (spec['task_template'],), {
        'name': 'demo-web', 'labels': spec['labels'], 'mode': {'Replicated': {'Replicas': 2}},
        'update_config': spec['update_config'], 'rollback_config': spec['rollback_config'],
        'endpoint_spec': spec['endpoint_spec']})]


@pytest.mark.parametrize('current, force, sent', [(None, False, 0), (None, True, 1), (1, False, 1), (1, True, 2)])
def test_update_service_sends_the_whole_spec_at_the_current_version_and_keeps_force_update(current, force, sent):
    """A change of ForceUpdate alone makes Swarm replace every task: an update that is no restart keeps the current
    one (after a restart, a scale would otherwise replace every task too); a restart sends one more."""
    spec = _service_spec(3)
    client = _docker_with(_ServiceApi(current))
    client.update_service('svc1', spec, force=force)
    assert [call[0] for call in client.api.calls] == ['inspect_service', 'update_service']
    _method, args, kwargs = client.api.calls[1]
    assert args == ('svc1', 7)
    assert kwargs['task_template'] == dict(spec['task_template'], ForceUpdate=sent)
    assert 'ForceUpdate' not in spec['task_template'], 'the spec is left as it was'
    assert kwargs['fetch_current_spec'] is False and kwargs['mode'] == {'Replicated': {'Replicas': 3}}
    assert kwargs['labels'] == spec['labels'] and kwargs['endpoint_spec'] == spec['endpoint_spec']


def test_swarm_state_gone_services_and_their_tasks():
    client = _docker_with(_ServiceApi(inspect_service=NotFound('gone'), tasks=NotFound('gone'),
                                      remove_service=NotFound('gone')))
    assert client.swarm_state() == (True, 'active')
    client.api.info = lambda: {}
    assert client.swarm_state() == (False, 'inactive')
    assert client.list_tasks({'service': ['svc1']}) == [] and client.inspect_service('svc1') is None
    client.remove_service('svc1', 'demo-web')
    with pytest.raises(DockerError, match=r'^Docker API error while trying to update service demo-web: no'):
        _docker_with(_ServiceApi(update_service=APIError('500 Server Error', explanation='no'))).update_service(
            'svc1', _service_spec())


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


# ---------------------------------------------------------------- event waits and reads, on the daemon's clock

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


@pytest.mark.parametrize('skew', [0, 300, -300])
def test_event_waits_ask_for_the_daemons_time_window(skew):
    api = _EventsApi(events=[{'status': 'die'}])
    docker = _clocked_docker(api)
    docker._count(Response(http_date(time.time() + skew)))
    before = time.time()
    assert docker.container_events('c0ffee', 5, ('die',)) == ['die']
    (since, until, filters), = api.calls
    assert filters == {'container': ['c0ffee'], 'event': ['die']}
    # the window starts a little before the daemon's now and ends at the deadline, both in daemon time
    assert before + skew - 4 <= since <= before + skew
    assert before + skew + 4 <= until <= before + skew + 7


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


# What Docker answers an update of a container caught between two runs of its process (both seen here).
BETWEEN_RUNS = ['Cannot update container 47: runc did not terminate successfully: exit status 1: container not '
                'running : unknown',
                'Cannot update container 47: cannot update a stopped container: unknown']


class _FlakyUpdates(_FakeAPI):
    """update_container fails ``failures`` times the way Docker does for a container between two restarts."""

    def __init__(self, failures, explanation=BETWEEN_RUNS[0]):
        super(_FlakyUpdates, self).__init__()
        self.failures = failures
        self.explanation = explanation

    def update_container(self, *args, **kwargs):
        self.calls.append(('update_container', args, kwargs))
        if self.failures:
            self.failures -= 1
            raise APIError('500 Server Error', explanation=self.explanation)


@pytest.mark.parametrize('explanation', BETWEEN_RUNS)
def test_an_update_that_meets_a_restarting_container_is_tried_again(explanation):
    client = _docker_with(_FlakyUpdates(2, explanation))
    client.update_restart_policy('abc', 'no', 'demo.worker.1')
    assert [call[0] for call in client.api.calls] == ['update_container'] * 3
    assert client.caused_events(['abc']) == {'abc': 1}
    assert docker_client.between_runs(DockerError(explanation))
    assert not docker_client.between_runs(DockerError('No such container: abc'))


def test_an_update_that_keeps_failing_says_so():
    client = _docker_with(_FlakyUpdates(docker_client.UPDATE_ATTEMPTS))
    with pytest.raises(DockerError, match='update the restart policy of demo.worker.1: .*container not running'):
        client.update_restart_policy('abc', 'no', 'demo.worker.1')
    assert len(client.api.calls) == docker_client.UPDATE_ATTEMPTS and client.caused_events(['abc']) == {}
    other = _docker_with(_FakeAPI(update_container=APIError('404 Client Error', explanation='No such container')))
    with pytest.raises(DockerError, match='No such container'):
        other.update_restart_policy('abc', 'no')
    assert len(other.api.calls) == 1, 'other errors are not tried again'
