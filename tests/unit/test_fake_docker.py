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
from ansible_collections.dokku_ps.docker.plugins.module_utils import _swarm_specs as swarm_specs
from tests.unit.fake_docker import PORTS_FROM, Call, FakeDocker, calls_of, inspect_of, node, summary
from tests.unit.helpers import OTHER_IMAGE_ID, app_document


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
    """Every container, image, network, event, exec and swarm call of the client, and the daemon's clock: a test never
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


# ---------------------------------------------------------------- the swarm

def _spec(ptype='web', replicas=2, **changes):
    """The spec of the service of ``ptype`` of app demo, as the swarm scheduler sends it."""
    return swarm_specs.service_spec(app_document(**changes), ptype, replicas, 'on-failure:10', 30)


def _swarm(**kwargs):
    return FakeDocker(swarm_manager=True, nodes=[node('node1', '10.0.0.2'), node('node2', '10.0.0.3')], **kwargs)


def _running(docker, service_id):
    return sorted(docker.list_tasks({'service': [service_id], 'desired-state': ['running']}),
                  key=lambda task: task['Slot'])


def test_a_daemon_that_is_no_swarm_manager_answers_only_its_state():
    docker = FakeDocker()
    assert docker.swarm_state() == (False, 'inactive')
    with pytest.raises(DockerError, match=r'^Docker API error while trying to list services: This node is not a '
                                          r'swarm manager\. Use "docker swarm init"') as info:
        docker.list_services({})
    assert info.value.details == {'status': 503}
    docker.swarm_node_state = 'active'
    assert docker.swarm_state() == (False, 'active')
    with pytest.raises(DockerError, match=r'to create service demo-web: .*Worker nodes can\'t be used'):
        docker.create_service(_spec())
    assert [call.method for call in docker.calls] == ['swarm_state', 'list_services', 'swarm_state', 'create_service']
    assert docker.services == [] and docker.tasks == []
    assert FakeDocker(swarm_manager=True).swarm_state() == (True, 'active')
    assert FakeDocker(swarm_manager=True).list_nodes() == [node('node1', '10.0.0.2')], 'one node unless given'


def test_a_created_service_runs_its_replicas_at_once_spread_over_the_nodes():
    docker = _swarm()
    web = _spec('web', 3, web_port=5000)
    service_id = docker.create_service(web)
    worker_id = docker.create_service(_spec('worker', 1))
    service = docker.inspect_service(service_id)
    assert service['Spec'] == {'Name': 'demo-web', 'Labels': web['labels'], 'TaskTemplate': web['task_template'],
                               'Mode': {'Replicated': {'Replicas': 3}}, 'UpdateConfig': web['update_config'],
                               'RollbackConfig': web['rollback_config'], 'EndpointSpec': web['endpoint_spec']}
    assert service['ID'] == service_id and service['Version']['Index'] > 0 and 'UpdateStatus' not in service
    assert docker.inspect_service('demo-web')['ID'] == service_id, 'by name too'
    tasks = _running(docker, service_id)
    assert [(task['Slot'], task['NodeID'], task['DesiredState'], task['Status']['State']) for task in tasks] == [
        (1, 'node1', 'running', 'running'), (2, 'node2', 'running', 'running'), (3, 'node1', 'running', 'running')]
    assert [task['Status']['PortStatus']['Ports'] for task in tasks] == [
        [{'Protocol': 'tcp', 'TargetPort': 5000, 'PublishedPort': PORTS_FROM + n, 'PublishMode': 'host'}]
        for n in range(3)]
    assert len(set(task['ID'] for task in tasks)) == 3 and all(task['ServiceID'] == service_id for task in tasks)
    assert _running(docker, worker_id)[0]['Status']['PortStatus'] == {}, 'a worker publishes nothing'
    with pytest.raises(DockerError, match='to create service demo-web: .*name conflicts') as info:
        docker.create_service(web)
    assert info.value.details == {'status': 409}
    assert calls_of(docker, 'create_service')[0] == Call('create_service', None, 'demo-web', web)


def test_services_are_listed_by_label_like_the_daemon_does():
    docker = _swarm()
    docker.create_service(_spec('web'))
    docker.create_service(_spec('web', name='other'))

    def names(filters):
        return sorted(service['Spec']['Name'] for service in docker.list_services(filters))
    assert names(swarm_specs.service_filter('demo')) == ['demo-web']
    assert names({'label': [swarm_specs.LABEL_APP]}) == ['demo-web', 'other-web']
    assert names({'label': ['%s=other' % swarm_specs.LABEL_APP, '%s=docker-local' % swarm_specs.LABEL_SCHEDULER]}) == []
    assert names({'name': ['other']}) == ['other-web'] and names({}) == ['demo-web', 'other-web']
    assert docker.list_services({})[0] is not docker.services[0], 'copies'
    with pytest.raises(AssertionError, match='does not filter services by mode'):
        docker.list_services({'mode': ['global']})
    assert calls_of(docker, 'list_services')[0] == Call('list_services', None, None, swarm_specs.service_filter('demo'))


def test_tasks_are_listed_by_service_and_desired_state():
    docker = _swarm()
    web = docker.create_service(_spec('web', 2))
    docker.create_service(_spec('worker', 1))
    docker.update_service(web, _spec('web', 1))
    assert [task['Slot'] for task in docker.list_tasks({'service': [web]})] == [1, 2]
    assert [task['Slot'] for task in docker.list_tasks({'service': ['demo-web'], 'desired-state': ['running']})] == [1]
    assert [task['Slot'] for task in docker.list_tasks({'service': [web], 'desired-state': ['remove']})] == [2]
    assert len(docker.list_tasks({'desired-state': ['running']})) == 2
    assert docker.list_tasks({'service': ['gone']}) == []
    with pytest.raises(AssertionError, match='does not filter tasks by label'):
        docker.list_tasks({'label': ['x']})


def test_a_change_of_the_replicas_adds_and_removes_tasks_in_place():
    docker = _swarm()
    service_id = docker.create_service(_spec('web', 2))
    before = docker.inspect_service(service_id)
    ids = [task['ID'] for task in _running(docker, service_id)]
    docker.update_service(service_id, _spec('web', 3))
    after = docker.inspect_service(service_id)
    assert after['Version']['Index'] == before['Version']['Index'] + 1
    assert after['Spec']['Mode'] == {'Replicated': {'Replicas': 3}} and 'UpdateStatus' not in after, 'no rolling update'
    tasks = _running(docker, service_id)
    assert [task['ID'] for task in tasks][:2] == ids and tasks[2]['Slot'] == 3
    assert tasks[2]['Status']['PortStatus']['Ports'][0]['PublishedPort'] == PORTS_FROM + 2
    docker.update_service(service_id, _spec('web', 0))
    assert _running(docker, service_id) == []
    assert set(task['DesiredState'] for task in docker.list_tasks({'service': [service_id]})) == {'remove'}


def test_an_update_of_the_task_template_replaces_the_tasks():
    docker = _swarm()
    service_id = docker.create_service(_spec('web', 2))
    old = _running(docker, service_id)
    index = docker.inspect_service(service_id)['Version']['Index']
    new = _spec('web', 2, image_id=OTHER_IMAGE_ID)
    docker.update_service(service_id, new)
    service = docker.inspect_service(service_id)
    assert service['Version']['Index'] == index + 1
    assert service['Spec']['TaskTemplate']['ContainerSpec']['Image'] == OTHER_IMAGE_ID
    assert service['Spec']['Labels'][swarm_specs.LABEL_SPEC_HASH] == new['hash']
    assert service['UpdateStatus']['State'] == 'completed' and service['UpdateStatus']['StartedAt']
    tasks = _running(docker, service_id)
    assert [task['Slot'] for task in tasks] == [1, 2]
    assert not set(task['ID'] for task in tasks) & set(task['ID'] for task in old), 'new tasks'
    assert [task['Status']['PortStatus']['Ports'][0]['PublishedPort'] for task in tasks] == [PORTS_FROM + 2,
                                                                                             PORTS_FROM + 3]
    retired = docker.list_tasks({'service': [service_id], 'desired-state': ['shutdown']})
    assert sorted(task['ID'] for task in retired) == sorted(task['ID'] for task in old)
    assert all(task['Status']['State'] == 'shutdown' for task in retired)
    # the next update resets the status of the last one; a scale starts none
    docker.update_service(service_id, _spec('web', 3, image_id=OTHER_IMAGE_ID))
    assert 'UpdateStatus' not in docker.inspect_service(service_id)
    assert calls_of(docker, 'update_service')[0] == Call('update_service', service_id, 'demo-web', (new, False))


def test_force_replaces_the_tasks_of_the_same_spec_and_later_updates_keep_it():
    docker = _swarm()
    service_id = docker.create_service(_spec('web', 1))
    first = _running(docker, service_id)[0]['ID']
    docker.update_service(service_id, _spec('web', 1), force=True)
    service = docker.inspect_service(service_id)
    assert service['Spec']['TaskTemplate']['ForceUpdate'] == 1 and service['UpdateStatus']['State'] == 'completed'
    second = _running(docker, service_id)[0]['ID']
    assert second != first
    docker.update_service(service_id, _spec('web', 2))
    assert docker.inspect_service(service_id)['Spec']['TaskTemplate']['ForceUpdate'] == 1
    assert _running(docker, service_id)[0]['ID'] == second, 'a scale after a restart replaces nothing'
    docker.update_service(service_id, _spec('web', 2), force=True)
    assert docker.inspect_service(service_id)['Spec']['TaskTemplate']['ForceUpdate'] == 2


def test_an_update_that_keeps_no_task_starts_no_rolling_update():
    """As Swarm: a service scaled from 0, or to 0, has no task to update; its tasks start with the new spec."""
    docker = _swarm()
    service_id = docker.create_service(_spec('web', 0))
    assert _running(docker, service_id) == []
    docker.update_service(service_id, _spec('web', 1, image_id=OTHER_IMAGE_ID))
    assert 'UpdateStatus' not in docker.inspect_service(service_id)
    assert _running(docker, service_id)[0]['Spec']['ContainerSpec']['Image'] == OTHER_IMAGE_ID


def test_an_update_may_roll_back():
    docker = _swarm(rollback={'demo-web': 'update rolled back due to failure or early termination of task x'})
    service_id = docker.create_service(_spec('web', 2))
    worker_id = docker.create_service(_spec('worker', 1))
    old = docker.inspect_service(service_id)
    tasks = _running(docker, service_id)
    docker.update_service(service_id, _spec('web', 2, image_id=OTHER_IMAGE_ID))
    service = docker.inspect_service(service_id)
    assert service['UpdateStatus']['State'] == 'rollback_completed'
    assert service['UpdateStatus']['Message'] == 'update rolled back due to failure or early termination of task x'
    assert service['Spec'] == old['Spec'] and service['Version']['Index'] > old['Version']['Index']
    assert _running(docker, service_id) == tasks, 'the old tasks run on'
    docker.update_service(worker_id, _spec('worker', 1, image_id=OTHER_IMAGE_ID))
    assert docker.inspect_service(worker_id)['UpdateStatus']['State'] == 'completed', 'other services update'


def test_a_removed_service_goes_with_its_tasks():
    docker = _swarm()
    service_id = docker.create_service(_spec('web', 2))
    other = docker.create_service(_spec('worker', 1))
    docker.remove_service(service_id, 'demo-web')
    assert docker.inspect_service(service_id) is None and [s['ID'] for s in docker.services] == [other]
    assert set(task['ServiceID'] for task in docker.tasks) == {other}
    docker.remove_service(service_id, 'demo-web')
    assert calls_of(docker, 'remove_service') == [Call('remove_service', service_id, 'demo-web', None)] * 2
    with pytest.raises(DockerError, match=r'to inspect service demo-web: service %s not found' % service_id) as info:
        docker.update_service(service_id, _spec('web', 2))
    assert info.value.details == {'status': 404}


def test_a_swarm_call_fails_as_asked():
    docker = _swarm(fail=[('update_service', 'demo-*', 'rpc error: update out of sequence', 1)])
    service_id = docker.create_service(_spec('web', 1))
    with pytest.raises(DockerError, match=r'^Docker API error while trying to update service demo-web: rpc error'):
        docker.update_service(service_id, _spec('web', 3))
    assert len(_running(docker, service_id)) == 1, 'a failed call changes nothing'
    docker.update_service(service_id, _spec('web', 3))
    assert len(_running(docker, service_id)) == 3
