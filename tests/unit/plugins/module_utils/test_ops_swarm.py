# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_swarm and dokku_ps_swarm_node (module_utils/_ops_swarm.py): their parameters, and what they ask of a
fake daemon in each membership state (the real one: tests/integration/test_swarm_role.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_swarm as ops
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from tests.unit.fake_docker import FakeDocker, node
from tests.unit.helpers import raised, refused


def member(**given):
    base = {'state': 'present', 'advertise_addr': None, 'listen_addr': '0.0.0.0:2377', 'data_path_addr': None,
            'default_addr_pool': None, 'subnet_size': None, 'join_addrs': None, 'join_token': None, 'force': False,
            'return_join_tokens': False}
    base.update(given)
    return base


def node_params(**given):
    base = {'node': 'n2', 'state': 'present', 'labels': None, 'labels_absent': None, 'availability': None,
            'role': None, 'force': False}
    base.update(given)
    return base


HOST = 'unix:///run/node.sock'


def daemon(state='inactive', manager=False, managers=(), nodes=None):
    """The fake daemon in a membership state: ``managers`` it knows, ``nodes`` of its swarm."""
    docker = FakeDocker(host=HOST, swarm_manager=manager, nodes=nodes)
    docker.swarm_node_state, docker.remote_managers = state, list(managers)
    return docker


def done(docker):
    """The calls that changed something (not the reads)."""
    return [(call.method, call.arg) for call in docker.calls
            if call.method not in ('swarm_info', 'swarm_state', 'list_nodes', 'join_tokens')]


class Ctx(object):
    def __init__(self, docker, check_mode=False):
        self.docker, self.check_mode = docker, check_mode


# -- dokku_ps_swarm: parse -----------------------------------------------------------------------------------------

def test_parse_takes_the_parameters_and_gives_join_addresses_the_swarm_port():
    req = ops.parse_member(member(join_addrs=['10.0.0.2', '10.0.0.3:4000', '[fd00::1]'], join_token='t',
                                  advertise_addr='eth1'))
    assert req.join_addrs == ['10.0.0.2:2377', '10.0.0.3:4000', '[fd00::1]:2377']
    assert req.advertise_addr == 'eth1' and req.join_token == 't'
    req = ops.parse_member(member(default_addr_pool=['10.20.0.0/16'], subnet_size=24))
    assert req.default_addr_pool == ['10.20.0.0/16'] and req.subnet_size == 24 and req.join_addrs == []


@pytest.mark.parametrize('given, start', [
    ({'join_addrs': ['10.0.0.2']}, 'join_token: is required with join_addrs'),
    ({'join_token': 't'}, 'join_addrs: is required with join_token'),
    ({'join_addrs': ['10.0.0.2:99999'], 'join_token': 't'}, "join_addrs: '10.0.0.2:99999' has no valid port"),
    ({'advertise_addr': '10.0.0.2:'}, "advertise_addr: '10.0.0.2:' has no valid port"),
    ({'listen_addr': 'a b'}, "listen_addr: 'a b' is not an address"),
    ({'default_addr_pool': ['10.20.0.1/16']}, "default_addr_pool: '10.20.0.1/16' is not a network in CIDR"),
    ({'subnet_size': 30}, 'subnet_size: 30 is not a prefix length from 8 to 29'),
    ({'join_addrs': ['m'], 'join_token': 't', 'subnet_size': 24}, 'default_addr_pool: belongs to the swarm'),
])
def test_parse_refuses_bad_input_naming_the_field(given, start):
    assert refused(ops.parse_member, member(**given)).startswith(start)


# -- dokku_ps_swarm: run -------------------------------------------------------------------------------------------

def test_a_daemon_in_no_swarm_initializes_one_and_says_so_in_check_mode_first():
    docker = daemon(nodes=[node('n1', '10.0.0.2')])
    req = ops.parse_member(member(advertise_addr='10.0.0.2', return_join_tokens=True))
    planned = ops.run_member(Ctx(docker, check_mode=True), req)
    assert planned['changed'] and done(docker) == [] and 'join_tokens' not in planned
    assert planned['diff']['after']['swarm']['state'] == 'active'
    result = ops.run_member(Ctx(docker), req)
    assert result['changed'] and done(docker) == [('init_swarm', ('10.0.0.2', '0.0.0.0:2377', None, [], None))]
    assert result['swarm']['manager'] and result['swarm']['node_id'] == 'n1'
    assert result['swarm']['managers'] == ['10.0.0.2:2377']
    assert result['join_tokens'] == {'manager': 'SWMTKN-1-m', 'worker': 'SWMTKN-1-w'}
    again = ops.run_member(Ctx(docker), req)
    assert not again['changed'] and len(done(docker)) == 1 and again['join_tokens']['worker'] == 'SWMTKN-1-w'


def test_a_daemon_joins_the_managers_once():
    docker = daemon()
    req = ops.parse_member(member(join_addrs=['10.0.0.2'], join_token='SWMTKN-1-w', advertise_addr='10.0.0.3'))
    result = ops.run_member(Ctx(docker), req)
    assert result['changed'] and not result['swarm']['manager'] and 'join_tokens' not in result
    assert done(docker) == [('join_swarm', (['10.0.0.2:2377'], 'SWMTKN-1-w', '0.0.0.0:2377', '10.0.0.3', None))]
    assert not ops.run_member(Ctx(docker), req)['changed'] and len(done(docker)) == 1


def test_a_daemon_in_another_swarm_is_refused_rather_than_moved():
    docker = daemon(state='active', managers=['10.9.0.2:2377'])
    req = ops.parse_member(member(join_addrs=['10.0.0.2'], join_token='t'))
    message = refused(ops.run_member, Ctx(docker), req)
    assert message.startswith('join_addrs: the Docker daemon at unix:///run/node.sock is already in a swarm, whose '
                              'managers are 10.9.0.2:2377, none of 10.0.0.2:2377: leave it first')
    assert done(docker) == []


@pytest.mark.parametrize('state, words', [('locked', 'unlock it first'), ('error', 'leave it'),
                                          ('pending', 'still joining')])
def test_a_membership_that_is_not_settled_fails_saying_what_to_do(state, words):
    error = raised(DokkuPsError, ops.run_member, Ctx(daemon(state=state)), ops.parse_member(member()))
    assert 'is in a swarm that is %s' % state in str(error) and words in str(error)


def test_absent_leaves_once_with_force_passed_on():
    docker = daemon(state='active', manager=True)
    req = ops.parse_member(member(state='absent', force=True))
    assert ops.run_member(Ctx(docker, check_mode=True), req)['changed'] and done(docker) == []
    result = ops.run_member(Ctx(docker), req)
    assert result['changed'] and done(docker) == [('leave_swarm', True)] and result['swarm']['state'] == 'inactive'
    assert result['left_node_id'] == 'node1', 'the ID the managers still list'
    assert not ops.run_member(Ctx(docker), req)['changed']


# -- dokku_ps_swarm_node -------------------------------------------------------------------------------------------

def _cluster(**node2):
    node2.setdefault('role', 'worker')
    return daemon(state='active', manager=True, nodes=[node('n1', '10.0.0.2'), node('n2', '10.0.0.3', **node2)])


def test_node_parse_converts_numbers_and_refuses_the_rest():
    assert ops.parse_node(node_params(labels={'zone': 1, 'ssd': 'yes'})).labels == {'zone': '1', 'ssd': 'yes'}
    assert refused(ops.parse_node, node_params(labels={'ssd': True})).startswith('labels: the value of ssd must be')
    assert refused(ops.parse_node, node_params(labels={'a b': 'x'})).startswith("labels: 'a b' is not a label key")
    assert refused(ops.parse_node, node_params(labels={'a': 'x'}, labels_absent=['a'])) == \
        'labels_absent: names a, which labels sets'
    assert refused(ops.parse_node, node_params(node=' ')).startswith('node: must be')


def test_labels_availability_and_role_change_once_through_a_manager():
    docker = _cluster()
    req = ops.parse_node(node_params(labels={'zone': 'b'}, availability='drain', role='manager'))
    planned = ops.run_node(Ctx(docker, check_mode=True), req)
    assert planned['changed'] and done(docker) == []
    assert planned['node']['labels'] == {'zone': 'b'} and planned['diff']['before']['node']['labels'] == {}
    result = ops.run_node(Ctx(docker), req)
    assert done(docker) == [('update_node', (1, {'Role': 'manager', 'Availability': 'drain', 'Labels': {'zone': 'b'}}))]
    assert result['node']['role'] == 'manager' and result['node']['hostname'] == 'n2'
    assert not ops.run_node(Ctx(docker), req)['changed'] and len(done(docker)) == 1
    docker.nodes[1]['Spec']['Labels']['keep'] = 'x'
    ops.run_node(Ctx(docker), ops.parse_node(node_params(labels_absent=['zone'])))
    assert done(docker)[-1][1][1]['Labels'] == {'keep': 'x'}, 'other labels stay'


def test_a_node_is_found_by_id_prefix_or_hostname_and_an_unknown_one_is_refused_listing_them():
    docker = _cluster()
    assert ops.find_node(docker.nodes, 'n2')['ID'] == 'n2'
    message = refused(ops.run_node, Ctx(docker), ops.parse_node(node_params(node='n9', labels={'a': 'b'})))
    assert message == 'node: no node n9 in the swarm (its nodes: n1 (n1), n2 (n2))'
    assert ops.find_node(docker.nodes, 'n') is None, 'a prefix of two IDs names neither'
    twins = [node('a1', '10.0.0.2'), node('b1', '10.0.0.3')]
    for twin in twins:
        twin['Description']['Hostname'] = 'web'
    assert refused(ops.find_node, twins, 'web') == 'node: hostname web is taken by 2 nodes (a1, b1): name one by its ID'


def test_only_a_manager_changes_nodes():
    message = refused(ops.run_node, Ctx(daemon(state='active')), ops.parse_node(node_params()))
    assert message.startswith('docker_host: the Docker daemon at unix:///run/node.sock is not a swarm manager')


def test_absent_removes_a_node_that_is_down_and_refuses_one_that_is_not():
    req = ops.parse_node(node_params(state='absent'))
    error = raised(DokkuPsError, ops.run_node, Ctx(_cluster()), req)
    assert str(error).startswith('node n2 is ready: make it leave the swarm first')
    docker = _cluster(state='down')
    assert ops.run_node(Ctx(docker, check_mode=True), req)['changed'] and done(docker) == []
    assert ops.run_node(Ctx(docker), req)['changed'] and done(docker) == [('remove_node', False)]
    assert [entry['ID'] for entry in docker.nodes] == ['n1']
    gone = ops.run_node(Ctx(docker), ops.parse_node(node_params(node='n9', state='absent')))
    assert gone == {'changed': False, 'node': None}
    manager = _cluster(state='down', role='manager')
    assert 'demote it first' in str(raised(DokkuPsError, ops.run_node, Ctx(manager), req))
