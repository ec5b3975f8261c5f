#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_swarm_node
short_description: Set a swarm node's labels, availability and role, or remove a node that is down
version_added: 0.1.0
description:
  - Changes what a swarm records of one of its nodes through a manager (O(docker_host) must be a manager's
    daemon), that is its labels (which placement constraints select), its availability and its role (C(docker
    node update), C(docker node promote) and C(demote)).
  - Labels in O(labels) are set and those in O(labels_absent) removed; other labels are kept.
  - With O(state=absent) the node is removed from the swarm's list (C(docker node rm)); a node that is not V(down)
    is refused unless O(force=true), and a manager must be demoted first.
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
  diff_mode:
    support: full
    details:
      - The diff shows the node's role, availability and labels before and after.
  idempotent:
    support: full
options:
  node:
    description:
      - The node, by hostname or ID (or a unique prefix of its ID).
    type: str
    required: true
  state:
    description:
      - V(present) changes the node as asked; V(absent) removes it from the swarm.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description:
      - Labels set on the node (their values are strings).
    type: dict
  labels_absent:
    description:
      - Labels removed from the node.
    type: list
    elements: str
  availability:
    description:
      - V(active) takes tasks, V(pause) keeps its tasks but takes no new ones, V(drain) moves its tasks to other
        nodes.
    type: str
    choices: [active, pause, drain]
  role:
    description:
      - Promotes the node to a manager or demotes it to a worker.
    type: str
    choices: [manager, worker]
  force:
    description:
      - With O(state=absent), remove a node that is not V(down).
    type: bool
    default: false
seealso:
  - module: dokku_ps.docker.dokku_ps_swarm
'''

EXAMPLES = r'''
- name: Label a node for placement constraints
  dokku_ps.docker.dokku_ps_swarm_node:
    node: worker-2
    labels:
      zone: b

- name: Move every task off a node before its maintenance
  dokku_ps.docker.dokku_ps_swarm_node:
    node: worker-2
    availability: drain

- name: Forget a node that left
  dokku_ps.docker.dokku_ps_swarm_node:
    node: worker-2
    state: absent
'''

RETURN = r'''
node:
  description: The node after the run (in check mode, as it would be); V(null) when it does not exist.
  returned: always
  type: dict
  contains:
    id:
      description: The node's ID.
      type: str
    hostname:
      description: The node's hostname.
      type: str
    role:
      description: V(manager) or V(worker).
      type: str
    availability:
      description: V(active), V(pause) or V(drain).
      type: str
    labels:
      description: The node's labels.
      type: dict
    state:
      description: V(ready), V(down), V(unknown) or V(disconnected).
      type: str
    address:
      description: The node's address.
      type: str
    leader:
      description: Whether the node is the managers' leader.
      type: bool
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_swarm as ops_swarm


def main():
    module = build_module(
        dict(
            node=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            labels=dict(type='dict'),
            labels_absent=dict(type='list', elements='str'),
            availability=dict(type='str', choices=['active', 'pause', 'drain']),
            role=dict(type='str', choices=['manager', 'worker']),
            force=dict(type='bool', default=False),
        ),
    )
    run(module, ops_swarm.parse_node, ops_swarm.run_node)


if __name__ == '__main__':
    main()
