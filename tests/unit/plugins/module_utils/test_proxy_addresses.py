# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxy addresses (module_utils/_proxy_addresses.py): addresses in use, the lowest free ones, Docker's refusal recognised."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_addresses as proxy_addresses
from tests.unit.fake_docker import FakeDocker, calls_of


def endpoint_summary(network, configured=None, running=None):
    endpoint = {'IPAMConfig': {'IPv4Address': configured} if configured else None, 'IPAddress': running or ''}
    return {'NetworkSettings': {'Networks': {network: endpoint, 'bridge': {'IPAddress': '172.17.0.9'}}}}


def test_addresses_in_use_count_stopped_containers():
    summaries = [
        endpoint_summary('dokku-ps', configured='172.16.240.2', running='172.16.240.2'),  # running
        endpoint_summary('dokku-ps', configured='172.16.240.3'),  # exited or restarting: no IPAddress, still its address
        endpoint_summary('dokku-ps', running='172.16.255.7'),  # joined without an address (not ours)
        endpoint_summary('other', configured='10.0.0.2'),
        {'NetworkSettings': None},
    ]
    assert proxy_addresses.addresses_in_use(summaries, 'dokku-ps') == {'172.16.240.2', '172.16.240.3', '172.16.255.7'}


def test_pick_addresses_lowest_free_outside_gateway_and_dynamic_range():
    subnet, dynamic = proxy_addresses.DEFAULT_SUBNET, proxy_addresses.DEFAULT_DYNAMIC_RANGE
    assert proxy_addresses.pick_addresses(subnet, set(), dynamic_range=dynamic) == ['172.16.240.2']
    assert proxy_addresses.pick_addresses(subnet, {'172.16.240.2', '172.16.240.4'}, count=3) == [
        '172.16.240.3', '172.16.240.5', '172.16.240.6']
    assert proxy_addresses.pick_addresses('10.9.0.0/29', {'10.9.0.2'}, gateway='10.9.0.6', count=4) == [
        '10.9.0.1', '10.9.0.3', '10.9.0.4', '10.9.0.5']
    # the dynamic range is skipped
    used = set('10.9.0.%d' % host for host in range(2, 8))
    assert proxy_addresses.pick_addresses('10.9.0.0/28', used, dynamic_range='10.9.0.8/30') == ['10.9.0.12']
    with pytest.raises(proxy_addresses.ProxyError, match='no free address left for 2 container'):
        proxy_addresses.pick_addresses('10.9.0.0/30', set(), count=2)


def test_address_in_use_recognised():
    assert proxy_addresses.is_address_in_use('403 Client Error for http+docker://localhost/v1.45/containers/x/start: '
                                             'Forbidden ("Address already in use")')
    assert not proxy_addresses.is_address_in_use('409 Conflict: name already in use')


# ---------------------------------------------------------------- the web containers of an app, free addresses

def summary(name, state='running', address='172.16.240.2', app='shop', configured=True, cid=None):
    endpoint = {'IPAddress': address if state == 'running' else ''}
    if configured:
        endpoint['IPAMConfig'] = {'IPv4Address': address}
    return {'Id': cid or name, 'Names': ['/' + name], 'State': state, 'Labels': {'com.dokku.app-name': app},
            'NetworkSettings': {'Networks': {'dokku-ps': endpoint}}}


def test_members_are_the_running_web_containers_of_the_app():
    summaries = [
        summary('shop.web.1', address='172.16.240.2'),
        summary('shop.web.2', state='restarting', address='172.16.240.3'),
        summary('shop.web.3', state='exited', address='172.16.240.4'),
        summary('shop.web.1.upcoming-ab12', address='172.16.240.5'),
        summary('shop.worker.1', address='172.16.240.6'),
        summary('shop.web.4', address='172.16.240.7', app='other'),
        summary('shop.web.5', address='172.16.240.8', configured=False),
        {'Id': 'x', 'Names': ['/shop.web.6'], 'State': 'running', 'Labels': {'com.dokku.app-name': 'shop'}},
    ]
    assert proxy_addresses.members('shop', summaries) == ['172.16.240.2', '172.16.240.3', '172.16.240.5', '172.16.240.8']
    assert proxy_addresses.members('shop', summaries, exclude=['shop.web.1']) == ['172.16.240.3', '172.16.240.5',
                                                                                  '172.16.240.8']


def test_addresses_are_picked_once_and_the_network_is_created_when_missing():
    docker = FakeDocker([summary('shop.web.1', address='172.16.240.2'),
                         summary('x.web.1', state='exited', address='172.16.240.3')])
    book = proxy_addresses.AddressBook(docker, '172.16.240.0/20')
    assert book.address() == '172.16.240.4' and book.address() == '172.16.240.5'
    assert docker.calls[:2] == [('inspect_network', None, 'dokku-ps', None),
                                ('create_network', None, 'dokku-ps', ('172.16.240.0/20', '172.16.255.0/24',
                                                                      {proxy_addresses.NETWORK_LABEL: 'proxy'}))]
    assert calls_of(docker, 'list_containers') == [('list_containers', None, None, {'network': ['dokku-ps']})], \
        'one list call per run'
    docker.containers.append(summary('y.web.1', address='172.16.240.6'))
    assert book.address(refresh=True) == '172.16.240.7', 'another run took one: learnt again, none handed twice'
