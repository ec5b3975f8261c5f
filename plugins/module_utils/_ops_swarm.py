# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_swarm and dokku_ps_swarm_node: the cluster the swarm scheduler runs on (docs/swarm.md, Forming the
cluster).

dokku_ps_swarm makes the daemon at ``docker_host`` a member of a swarm, or not: ``present`` initializes a new swarm
(no ``join_addrs``) or joins the managers at ``join_addrs`` with a token; ``absent`` leaves. A daemon already in a
swarm is left alone (``changed: false``), unless ``join_addrs`` names managers of none of the swarm it is in: then it
is refused, since leaving one cluster for another takes its tasks away and is not done behind the user's back.

dokku_ps_swarm_node changes, through a manager, what the swarm records of one node: its labels (placement
constraints), its availability (``drain`` moves its tasks away) and its role; ``absent`` removes a node that is
down (after it left, or was lost).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy
import ipaddress

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError

SWARM_PORT = 2377
# the states a daemon's swarm membership can be in (the daemon's Swarm.LocalNodeState)
INACTIVE, PENDING, ACTIVE, ERROR, LOCKED = 'inactive', 'pending', 'active', 'error', 'locked'

MemberRequest = collections.namedtuple(
    'MemberRequest', 'state advertise_addr listen_addr data_path_addr default_addr_pool subnet_size join_addrs '
                     'join_token force return_join_tokens')
NodeRequest = collections.namedtuple('NodeRequest', 'node state labels labels_absent availability role force')


def _address(value, field, port_needed=False):
    """``host`` or ``host:port`` (``[v6]:port`` for IPv6; Docker also takes an interface name); with
    ``port_needed`` a missing port becomes the swarm's (2377)."""
    if not isinstance(value, str) or not value.strip() or any(char.isspace() for char in value):
        raise ValidationError(field, '%r is not an address (host or host:port)' % (value,))
    if value.startswith('['):
        port = value.partition(']')[2][1:]
    else:
        port = value.rpartition(':')[2] if value.count(':') == 1 else ''
    if (port or value.endswith(':')) and (not port.isdigit() or not 0 < int(port) < 65536):
        raise ValidationError(field, '%r has no valid port (1 to 65535)' % (value,))
    if port_needed and not port:
        return '%s:%d' % (value, SWARM_PORT)
    return value


def parse_member(params):
    """dokku_ps_swarm's parameters -> a MemberRequest, every value checked before Docker is asked."""
    join_addrs = [_address(value, 'join_addrs', port_needed=True) for value in params.get('join_addrs') or []]
    token = params.get('join_token')
    if join_addrs and not token:
        raise ValidationError('join_token', 'is required with join_addrs (the manager or worker token of the swarm)')
    if token and not join_addrs:
        raise ValidationError('join_addrs', 'is required with join_token (the managers to join)')
    pools = params.get('default_addr_pool') or []
    for pool in pools:
        try:
            ipaddress.ip_network(pool, strict=True)
        except ValueError:
            raise ValidationError('default_addr_pool', '%r is not a network in CIDR notation (10.20.0.0/16)' % (pool,))
    subnet_size = params.get('subnet_size')
    if subnet_size is not None and not 8 <= subnet_size <= 29:
        raise ValidationError('subnet_size', '%s is not a prefix length from 8 to 29' % subnet_size)
    if join_addrs and (pools or subnet_size is not None):
        raise ValidationError('default_addr_pool', 'belongs to the swarm and is set when it is initialized, not '
                              'when a node joins')
    advertise = params.get('advertise_addr')
    data_path = params.get('data_path_addr')
    return MemberRequest(
        state=params['state'], advertise_addr=_address(advertise, 'advertise_addr') if advertise else None,
        listen_addr=_address(params['listen_addr'], 'listen_addr'),
        data_path_addr=_address(data_path, 'data_path_addr') if data_path else None,
        default_addr_pool=list(pools), subnet_size=subnet_size, join_addrs=join_addrs, join_token=token,
        force=params['force'], return_join_tokens=params['return_join_tokens'])


def member_facts(info):
    """What a result says of a daemon's membership, from its ``Swarm`` information."""
    cluster = info.get('Cluster') or {}
    return {'state': info.get('LocalNodeState') or INACTIVE, 'node_id': info.get('NodeID') or None,
            'node_address': info.get('NodeAddr') or None, 'manager': bool(info.get('ControlAvailable')),
            'cluster_id': cluster.get('ID') or None,
            'managers': sorted(manager.get('Addr') for manager in info.get('RemoteManagers') or [] if manager.get('Addr'))}


def run_member(ctx, req):
    """dokku_ps_swarm."""
    docker = ctx.docker
    before = docker.swarm_info()
    facts = member_facts(before)
    state = facts['state']
    changed = False
    if state in (LOCKED, ERROR, PENDING):
        raise DokkuPsError('the Docker daemon at %s is in a swarm that is %s%s: %s' % (
            docker.host, state, ' (%s)' % before.get('Error') if before.get('Error') else '', _HINTS[state]))
    if req.state == 'absent':
        if state == ACTIVE:
            changed = True
            if not ctx.check_mode:
                docker.leave_swarm(force=req.force)
    elif state == ACTIVE:
        if req.join_addrs and not set(req.join_addrs) & set(facts['managers']):
            raise ValidationError('join_addrs', 'the Docker daemon at %s is already in a swarm, whose managers are %s, '
                                  'none of %s: leave it first (state: absent), then join'
                                  % (docker.host, ', '.join(facts['managers']) or 'unknown',
                                     ', '.join(req.join_addrs)))
    else:
        changed = True
        if not ctx.check_mode:
            if req.join_addrs:
                docker.join_swarm(req.join_addrs, req.join_token, req.listen_addr, req.advertise_addr,
                                  req.data_path_addr)
            else:
                docker.init_swarm(req.advertise_addr, req.listen_addr, req.data_path_addr, req.default_addr_pool,
                                  req.subnet_size)
    after = member_facts(docker.swarm_info()) if changed and not ctx.check_mode else facts
    result = {'changed': changed, 'swarm': after, 'diff': {'before': {'swarm': facts}, 'after': {'swarm': after}}}
    if changed and ctx.check_mode:
        result['diff']['after'] = {'swarm': dict(facts, state=ACTIVE if req.state == 'present' else INACTIVE)}
    if req.state == 'absent' and changed:
        # the managers keep listing the node (down) until it is removed by its ID
        result['left_node_id'] = facts['node_id']
    if req.return_join_tokens and req.state == 'present' and after['manager']:
        tokens = docker.join_tokens()
        result['join_tokens'] = {'manager': tokens.get('Manager'), 'worker': tokens.get('Worker')}
    return result


_HINTS = {
    LOCKED: 'unlock it first (docker swarm unlock, with the unlock key)',
    ERROR: 'leave it (state: absent, force: true) and join again',
    PENDING: 'it is still joining; run again once it is active, or leave (state: absent, force: true)',
}


# -- nodes --------------------------------------------------------------------------------------------------

def parse_node(params):
    """dokku_ps_swarm_node's parameters -> a NodeRequest."""
    node = params['node']
    if not isinstance(node, str) or not node.strip():
        raise ValidationError('node', 'must be a node\'s hostname or ID')
    labels = {}
    for key, value in (params.get('labels') or {}).items():
        if not key or any(char.isspace() for char in key):
            raise ValidationError('labels', '%r is not a label key (no spaces, not empty)' % (key,))
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError('labels', 'the value of %s must be a string or a number, not %s'
                                  % (key, type(value).__name__))
        labels[key] = str(value)
    absent = params.get('labels_absent') or []
    both = sorted(set(absent) & set(labels))
    if both:
        raise ValidationError('labels_absent', 'names %s, which labels sets' % ', '.join(both))
    return NodeRequest(node.strip(), params['state'], labels, list(absent), params.get('availability'),
                       params.get('role'), params['force'])


def node_facts(node):
    spec = node.get('Spec') or {}
    status = node.get('Status') or {}
    return {'id': node.get('ID'), 'hostname': (node.get('Description') or {}).get('Hostname'),
            'role': spec.get('Role'), 'availability': spec.get('Availability'), 'labels': spec.get('Labels') or {},
            'state': status.get('State'), 'address': status.get('Addr'),
            'leader': bool((node.get('ManagerStatus') or {}).get('Leader'))}


def find_node(nodes, wanted):
    """The node whose ID (or a unique prefix of it) or hostname is ``wanted``; None when none is."""
    by_id = [node for node in nodes if node['ID'] == wanted]
    if by_id:
        return by_id[0]
    by_name = [node for node in nodes if (node.get('Description') or {}).get('Hostname') == wanted]
    if len(by_name) > 1:
        raise ValidationError('node', 'hostname %s is taken by %d nodes (%s): name one by its ID'
                              % (wanted, len(by_name), ', '.join(sorted(node['ID'] for node in by_name))))
    if by_name:
        return by_name[0]
    by_prefix = [node for node in nodes if node['ID'].startswith(wanted)]
    return by_prefix[0] if len(by_prefix) == 1 else None


def wanted_spec(spec, req):
    """The node's spec after the request (a copy; the spec Docker keeps has the same keys)."""
    spec = copy.deepcopy(spec)
    labels = dict(spec.get('Labels') or {})
    labels.update(req.labels)
    for key in req.labels_absent:
        labels.pop(key, None)
    spec['Labels'] = labels
    if req.availability:
        spec['Availability'] = req.availability
    if req.role:
        spec['Role'] = req.role
    return spec


def run_node(ctx, req):
    """dokku_ps_swarm_node."""
    docker = ctx.docker
    manager, state = docker.swarm_state()
    if not manager:
        raise ValidationError('docker_host', 'the Docker daemon at %s is not a swarm manager (its swarm state: %s): '
                              'nodes are changed through a manager' % (docker.host, state))
    nodes = docker.list_nodes()
    node = find_node(nodes, req.node)
    if req.state == 'absent':
        if node is None:
            return {'changed': False, 'node': None}
        facts = node_facts(node)
        if facts['state'] != 'down' and not req.force:
            raise DokkuPsError('node %s is %s: make it leave the swarm first (dokku_ps_swarm with state: absent on its '
                               'daemon), or remove it anyway with force: true' % (req.node, facts['state']))
        if facts['role'] == 'manager':
            raise DokkuPsError('node %s is a manager: demote it first (role: worker), then remove it' % req.node)
        if not ctx.check_mode:
            docker.remove_node(node['ID'], force=req.force)
        return {'changed': True, 'node': facts, 'diff': {'before': {'node': facts}, 'after': {'node': None}}}
    if node is None:
        raise ValidationError('node', 'no node %s in the swarm (its nodes: %s)' % (req.node, ', '.join(sorted(
            '%s (%s)' % ((found.get('Description') or {}).get('Hostname'), found['ID']) for found in nodes))))
    spec = node.get('Spec') or {}
    wanted = wanted_spec(spec, req)
    before = node_facts(node)
    changed = wanted != spec
    after = node_facts(dict(node, Spec=wanted))
    if changed and not ctx.check_mode:
        docker.update_node(node['ID'], node['Version']['Index'], wanted)
    return {'changed': changed, 'node': after, 'diff': {'before': {'node': before}, 'after': {'node': after}}}
