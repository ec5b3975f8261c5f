# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unit tests' fake Docker client (tests/unit/fake_docker.py): the real client's interface, Docker's answers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import EVENT_BUFFER, Docker
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError
from ansible_collections.dokku_ps.docker.plugins.module_utils._specs import LABEL_APP, LABEL_RESTART_POLICY
from tests.unit.fake_docker import Call, FakeDocker, calls_of, inspect_of, summary


def _public_methods(cls):
    return dict((name, member) for name, member in inspect.getmembers(cls, inspect.isfunction)
                if not name.startswith('_'))


def test_every_method_of_the_fake_is_a_method_of_the_client_with_the_same_parameters():
    real = _public_methods(Docker)
    fake = _public_methods(FakeDocker)
    assert fake, 'the fake has methods'
    for name, method in sorted(fake.items()):
        assert name in real, 'FakeDocker.%s is no method of Docker' % name
        assert inspect.signature(method) == inspect.signature(real[name]), name


def test_the_fake_answers_every_call_of_the_client():
    """Every container, image, network, event and exec call of the client, and the daemon's clock: a test never
    needs a fake of its own (the connection's calls, call and clock_offset, are the client's business)."""
    own = set(name for name, member in vars(Docker).items() if inspect.isfunction(member) and not name.startswith('_'))
    assert own | {'daemon_time'} <= set(_public_methods(FakeDocker))


def _two():
    return [summary('a1', 'shop.web.1', {LABEL_APP: 'shop', LABEL_RESTART_POLICY: 'always'}),
            summary('b1', 'other.web.1', {LABEL_APP: 'other'}, state='exited',
                    NetworkSettings={'Networks': {'dokku-ps': {'IPAddress': ''}}})]


def test_list_filters_as_the_daemon_does():
    docker = FakeDocker(_two())
    assert [c['Id'] for c in docker.list_containers({'name': [r'^/?shop\.']})] == ['a1']
    assert [c['Id'] for c in docker.list_containers({'label': [LABEL_APP]})] == ['a1', 'b1']
    assert [c['Id'] for c in docker.list_containers({'label': ['%s=other' % LABEL_APP]})] == ['b1']
    assert [c['Id'] for c in docker.list_containers({'network': ['dokku-ps']})] == ['b1']
    assert [c['Id'] for c in docker.list_containers({'status': ['running']})] == ['a1']
    assert [c['Id'] for c in docker.list_containers({'status': ['created', 'exited'], 'label': [LABEL_APP]})] == ['b1']
    assert docker.list_containers({})[0] is not docker.containers[0], 'copies'
    with pytest.raises(AssertionError, match='does not filter by ancestor'):
        docker.list_containers({'ancestor': ['x']})
    assert calls_of(docker, 'list_containers')[0] == Call('list_containers', None, None, {'name': [r'^/?shop\.']})


def test_inspect_data_follows_the_containers():
    docker = FakeDocker(_two(), policies={'b1': 'on-failure:3'})
    assert docker.inspect_container('a1')['HostConfig']['RestartPolicy'] == {'Name': 'always', 'MaximumRetryCount': 0}
    assert docker.inspect_container('b1')['HostConfig']['RestartPolicy'] == \
        {'Name': 'on-failure', 'MaximumRetryCount': 3}
    assert docker.inspect_container('b1')['State']['Running'] is False
    assert docker.inspect_container('gone') is None
    assert inspect_of(docker.containers[0])['Name'] == '/shop.web.1'
    docker.containers.append(summary('c1', 'shop.web.2', {LABEL_RESTART_POLICY: 'no'}, state='paused'))
    docker.update_restart_policy('c1', 'unless-stopped')
    data = docker.inspect_container('c1')
    assert data['State']['Paused'] and data['HostConfig']['RestartPolicy']['Name'] == 'unless-stopped'


def test_containers_change_as_docker_changes_them():
    docker = FakeDocker(down=['*.upcoming-*'])
    spec = {'image': 'sha256:' + 'a' * 64, 'labels': {LABEL_APP: 'shop'}, 'restart_policy': 'no', 'network': 'net'}
    cid = docker.create_container(spec, 'shop.web.1', '10.0.0.2')
    assert docker.created == [cid] and len(cid) == 64 and docker.containers[0]['State'] == 'created'
    assert docker.containers[0]['NetworkSettings']['Networks']['net']['IPAMConfig'] == {'IPv4Address': '10.0.0.2'}
    docker.start(cid, 'shop.web.1')
    docker.update_restart_policy(cid, 'always', 'shop.web.1')
    data = docker.inspect_container(cid)
    assert data['State']['Running'] and data['HostConfig']['RestartPolicy']['Name'] == 'always'
    assert docker.caused_events([cid, 'other']) == {cid: 2}
    docker.rename(cid, 'shop.web.2')
    docker.stop(cid, 10)
    assert docker.list_containers({'name': ['shop.web.2']})[0]['State'] == 'exited'
    docker.remove(cid, force=True)
    assert docker.containers == [] and docker.inspect_container(cid) is None and docker.names[cid] == 'shop.web.2'
    upcoming = docker.create_container(spec, 'shop.web.1.upcoming-ab')
    docker.start(upcoming)
    assert docker.inspect_container(upcoming)['State'] == {'Status': 'exited', 'Running': False, 'Paused': False,
                                                           'Restarting': False, 'ExitCode': 3}
    assert [call.method for call in docker.calls][:3] == ['create_container', 'start', 'update_restart_policy']
    assert docker.calls[1] == Call('start', cid, 'shop.web.1', None)


def test_failures_are_worded_as_the_client_words_them():
    docker = FakeDocker(_two(), fail=[('start', 'shop.*'), ('stop', '*', 'Address already in use', 1)])
    with pytest.raises(DockerError, match=r'^Docker API error while trying to start container shop\.web\.1: boom$'):
        docker.start('a1')
    with pytest.raises(DockerError, match=r'to stop container other\.web\.1: Address already in use$'):
        docker.stop('b1', 10)
    docker.stop('b1', 10)
    assert [call.method for call in docker.calls] == ['start', 'stop', 'stop']
    assert docker.inspect_container('a1')['State']['Status'] == 'running', 'a failed call changes nothing'


def test_events_execs_logs_and_networks():
    events = [{'Type': 'container', 'Action': 'die', 'Actor': {'ID': 'a1'}, 'timeNano': n}
              for n in range(EVENT_BUFFER + 4)]
    docker = FakeDocker(events=events, now=10 ** 18)
    assert docker.daemon_time() == 10 ** 18
    assert [e['timeNano'] for e in docker.events_between(0, 10)] == [4, 5, 6, 7, 8, 9, 10], 'the latest 256 only'
    assert docker.container_events('a1', 3, ('die', 'oom')) == ['die']
    assert docker.container_events('b1', 3, ('die',)) == [] and docker.container_events('a1', 3, ('oom',)) == []
    docker.execs[('check',)] = [(1, 'no'), (0, 'yes')]
    assert [docker.exec_run('a1', ['check']) for _i in range(3)] == [(1, 'no'), (0, 'yes'), (0, 'yes')]
    assert docker.exec_run('a1', ['other']) == (0, '')
    docker.logged['a1'] = 'one\ntwo\nthree\n'
    assert docker.logs_tail('a1', 2) == ['two', 'three'] and docker.logs_tail('b1', 2) == []
    assert docker.inspect_network('net') is None
    docker.create_network('net', '172.16.240.0/20', '172.16.255.0/24', {'io.dokku-ps.network': 'proxy'})
    assert docker.inspect_network('net')['IPAM']['Config'] == [
        {'Subnet': '172.16.240.0/20', 'Gateway': '172.16.240.1', 'IPRange': '172.16.255.0/24'}]
    docker.files['sha256:x'] = {'/app/Procfile': 'web: run\n'}
    assert docker.read_files('sha256:x', ['/app/Procfile', '/app/CHECKS']) == \
        {'/app/Procfile': 'web: run\n', '/app/CHECKS': None}
    assert docker.read_files('sha256:x', ['/app/Procfile'], max_bytes=3) == {'/app/Procfile': None}


def test_a_command_run_once_ends_at_its_start_and_an_auto_removed_container_goes():
    docker = FakeDocker(finish={'shop.run.*': (7, 'out\n', 'err\n')}, now=5)
    spec = {'image': 'sha256:' + 'a' * 64, 'labels': {LABEL_APP: 'shop'}, 'restart_policy': 'no'}
    cid = docker.create_container(spec, 'shop.run.12345')
    assert docker.inspect_container(cid)['HostConfig']['AutoRemove'] is False
    docker.start(cid)
    assert docker.container_events(cid, 60, ('die',)) == ['die']
    assert docker.events[-1]['Actor'] == {'ID': cid, 'Attributes': {'name': 'shop.run.12345', 'exitCode': '7'}}
    assert docker.inspect_container(cid)['State']['ExitCode'] == 7
    assert docker.logs(cid) == ('out\n', 'err\n') and docker.logs_tail(cid, 1) == ['err']
    assert docker.logs('other') == ('', '') and calls_of(docker, 'logs')[0] == Call('logs', cid, 'shop.run.12345', None)
    # one that matches no glob keeps running; Docker removes an AutoRemove container once it exited
    detached = docker.create_container(dict(spec, auto_remove=True), 'shop.worker.run')
    assert docker.inspect_container(detached)['HostConfig']['AutoRemove'] is True
    docker.start(detached)
    assert docker.container_events(detached, 60, ('die',)) == []
    assert docker.inspect_container(detached)['State']['Running']
    docker.stop(detached, 10)
    assert docker.inspect_container(detached) is None and [c['Id'] for c in docker.containers] == [cid]
    ended = docker.create_container(dict(spec, auto_remove=True), 'shop.run.2')
    docker.start(ended)
    assert docker.inspect_container(ended) is None, 'gone once it ended'


def test_a_failure_may_carry_the_daemons_status():
    docker = FakeDocker(fail=[('create_container', 'shop.*', 'Conflict. The name is already in use', 1, 409),
                              ('start', '*', 'no such image', None, 404)])
    spec = {'image': 'sha256:' + 'a' * 64, 'labels': {}, 'restart_policy': 'no'}
    with pytest.raises(DockerError, match=r'to create container shop\.run\.1: Conflict') as info:
        docker.create_container(spec, 'shop.run.1')
    assert info.value.details == {'status': 409}
    cid = docker.create_container(spec, 'shop.run.1')
    for _attempt in range(2):
        with pytest.raises(DockerError) as info:
            docker.start(cid)
        assert info.value.details == {'status': 404}, 'None: every time'
    with pytest.raises(DockerError) as info:
        FakeDocker(fail=[('stop', '*')]).stop('x', 1)
    assert info.value.details == {'status': None}
