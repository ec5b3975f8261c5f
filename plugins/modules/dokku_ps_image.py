#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_image
short_description: Copy an image a Docker daemon lacks from another daemon, without a registry
version_added: 0.1.0
description:
  - Copies the image O(image) from the daemon at O(source_docker_host) to the daemon at O(docker_host) (C(docker
    save) into C(docker load), streamed through the module, never stored), so that every node of a swarm has the
    image of an app declared with O(dokku_ps.docker.dokku_ps_app#module:scheduler=swarm) when no registry is at
    hand. The role P(dokku_ps.docker.swarm#role) copies a list of images to every node.
  - The image keeps its ID, which is how the swarm scheduler references it in its services. A daemon that has the
    image (by ID) is not sent it again; given a name, the daemon gets the tag when it lacks it.
  - The collection never pulls. With a registry, push the image there and let the nodes pull it instead.
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
      - Says whether the image would be copied or tagged; reads the source's image, sends nothing.
  diff_mode:
    support: full
    details:
      - The diff shows the image on O(docker_host) (ID and tags) before and after.
  idempotent:
    support: full
options:
  image:
    description:
      - The image, as C(repository[:tag]) (the tag defaults to V(latest)) or as its ID.
    type: str
    required: true
  source_docker_host:
    description:
      - URL of the daemon that has the image, reached with the other connection options of this task (TLS, API
        version, timeout) and from where the task runs, for example C(ssh://root@manager-1) or
        C(tcp://10.0.0.11:2376).
    type: str
    required: true
notes:
  - The source and O(docker_host) may be on other hosts than the one the task runs on; the image goes through the
    host the task runs on.
seealso:
  - module: dokku_ps.docker.dokku_ps_swarm
'''

EXAMPLES = r'''
- name: Give a worker of the swarm the app's image from the manager that built it
  dokku_ps.docker.dokku_ps_image:
    docker_host: unix:///var/run/docker.sock
    image: shop:1.4.2
    source_docker_host: ssh://root@manager-1
'''

RETURN = r'''
copied:
  description: Whether the image was (in check mode, would be) sent to O(docker_host).
  returned: always
  type: bool
image:
  description: The image on O(docker_host) after the run (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    id:
      description: The image's ID, the same on both daemons.
      type: str
      sample: sha256:4f1c5a0d...
    tags:
      description: Its tags on O(docker_host).
      type: list
      elements: str
      sample: [shop:1.4.2]
    size:
      description: Its size in bytes.
      type: int
    reference:
      description: O(image) as given.
      type: str
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_image as ops_image


def main():
    module = build_module(
        dict(
            image=dict(type='str', required=True),
            source_docker_host=dict(type='str', required=True),
        ),
    )
    run(module, ops_image.parse, ops_image.run)


if __name__ == '__main__':
    main()
