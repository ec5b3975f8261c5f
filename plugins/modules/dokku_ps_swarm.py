#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_swarm
short_description: Make a Docker daemon a member of a swarm (init or join), or make it leave
version_added: 0.1.0
description:
  - The cluster that apps declared with O(dokku_ps.docker.dokku_ps_app#module:scheduler=swarm) run on. The role
    P(dokku_ps.docker.swarm#role) forms a whole cluster from an inventory with this module and
    M(dokku_ps.docker.dokku_ps_swarm_node).
  - With O(state=present) and no O(join_addrs), a daemon in no swarm initializes a new one (C(docker swarm init))
    and becomes its first manager; with O(join_addrs) and O(join_token) it joins that swarm (C(docker swarm join)),
    as a manager or a worker depending on the token.
  - A daemon already in a swarm is left as it is (C(changed=false)), but when O(join_addrs) names none of the
    managers of the swarm it is in, the task fails rather than moving the node to another cluster.
  - With O(state=absent) the daemon leaves its swarm (C(docker swarm leave)); the node stays listed, as C(down), by
    the managers until it is removed with M(dokku_ps.docker.dokku_ps_swarm_node) O(state=absent).
  - A swarm that is locked, or a membership in error or still pending, fails the task with what to do.
author:
  - dokku_ps contributors (@dokku-ps)
extends_documentation_fragment:
  - dokku_ps.docker.docker
  - dokku_ps.docker.state_dir
  - dokku_ps.docker.nginx
  - dokku_ps.docker.attributes
  - dokku_ps.docker.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Says whether the daemon would initialize, join or leave a swarm, and does not.
  diff_mode:
    support: full
    details:
      - The diff shows the daemon's membership before and after.
  idempotent:
    support: full
options:
  state:
    description:
      - V(present) makes the daemon a member (initializing a swarm, or joining O(join_addrs)); V(absent) makes it
        leave.
    type: str
    choices: [present, absent]
    default: present
  advertise_addr:
    description:
      - The address other nodes reach this one at (C(--advertise-addr)), an address or an interface name, with an
        optional port. Needed when the host has several addresses.
    type: str
  listen_addr:
    description:
      - Where the daemon listens for the swarm's control traffic (C(--listen-addr)).
    type: str
    default: 0.0.0.0:2377
  data_path_addr:
    description:
      - The address the daemon sends the overlay networks' traffic from (C(--data-path-addr)).
    type: str
  default_addr_pool:
    description:
      - Networks in CIDR notation the swarm takes its overlay networks' subnets from (C(--default-addr-pool)); only
        when initializing.
    type: list
    elements: str
  subnet_size:
    description:
      - Prefix length of each subnet taken from O(default_addr_pool) (C(--default-addr-pool-mask-length), 8 to 29);
        only when initializing.
    type: int
  join_addrs:
    description:
      - Managers of the swarm to join, as C(host) or C(host:port) (port 2377 when none is given).
    type: list
    elements: str
  join_token:
    description:
      - The swarm's manager or worker join token (from O(return_join_tokens) on a manager); the token decides the
        role the daemon joins with.
    type: str
  force:
    description:
      - With O(state=absent), leave even when this is a manager (C(docker swarm leave --force)); the last manager
        leaving destroys the swarm.
    type: bool
    default: false
  return_join_tokens:
    description:
      - Return the swarm's join tokens (RV(join_tokens)) when the daemon is a manager. They are secrets that let any
        daemon join the cluster, so register the result with C(no_log=true).
    type: bool
    default: false
notes:
  - The swarm's ports must be open between the nodes (2377/tcp to the managers, 7946/tcp+udp and 4789/udp between
    all nodes).
  - Leaving and rejoining is described in the collection's docs/swarm.md (Forming the cluster).
seealso:
  - module: dokku_ps.docker.dokku_ps_swarm_node
  - module: dokku_ps.docker.dokku_ps_image
'''

EXAMPLES = r'''
- name: Initialize a swarm on the first manager
  dokku_ps.docker.dokku_ps_swarm:
    advertise_addr: 10.0.0.11
    return_join_tokens: true
  register: cluster
  no_log: true

- name: Join it as a worker
  dokku_ps.docker.dokku_ps_swarm:
    advertise_addr: 10.0.0.12
    join_addrs: [10.0.0.11]
    join_token: "{{ hostvars['manager-1'].cluster.join_tokens.worker }}"

- name: Leave the swarm
  dokku_ps.docker.dokku_ps_swarm:
    state: absent
'''

RETURN = r'''
swarm:
  description: The daemon's membership after the run (in check mode, as it is).
  returned: always
  type: dict
  contains:
    state:
      description: The daemon's swarm state (V(inactive), V(active), V(pending), V(error) or V(locked)).
      type: str
      sample: active
    node_id:
      description: The daemon's node ID in the swarm, or V(null).
      type: str
      sample: 3x9qk2v1t0l6d4m8n5p7r2s1a
    node_address:
      description: The address the node is reached at, or V(null).
      type: str
      sample: 10.0.0.12
    manager:
      description: Whether the daemon is a manager (it takes the swarm's orders).
      type: bool
    cluster_id:
      description: The swarm's ID, known to managers only.
      type: str
    managers:
      description: The managers the daemon knows, as C(address:port).
      type: list
      elements: str
      sample: [10.0.0.11:2377]
left_node_id:
  description: The node ID the daemon had in the swarm it left; the managers list that node (V(down)) until it is
    removed with M(dokku_ps.docker.dokku_ps_swarm_node) O(dokku_ps.docker.dokku_ps_swarm_node#module:state=absent).
  returned: when the daemon left a swarm (in check mode, would leave)
  type: str
join_tokens:
  description: The swarm's join tokens (secrets).
  returned: when O(return_join_tokens=true) and the daemon is a manager
  type: dict
  contains:
    manager:
      description: Joins as a manager.
      type: str
    worker:
      description: Joins as a worker.
      type: str
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_swarm as ops_swarm


def main():
    module = build_module(
        dict(
            state=dict(type='str', default='present', choices=['present', 'absent']),
            advertise_addr=dict(type='str'),
            listen_addr=dict(type='str', default='0.0.0.0:2377'),
            data_path_addr=dict(type='str'),
            default_addr_pool=dict(type='list', elements='str'),
            subnet_size=dict(type='int'),
            join_addrs=dict(type='list', elements='str'),
            join_token=dict(type='str', no_log=True),
            force=dict(type='bool', default=False),
            return_join_tokens=dict(type='bool', default=False),
        ),
    )
    run(module, ops_swarm.parse_member, ops_swarm.run_member)


if __name__ == '__main__':
    main()
