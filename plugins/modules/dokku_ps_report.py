#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_report
short_description: Report on apps and their containers, with sanitized inspect data
version_added: 0.1.0
description:
  - Read-only report of one app or every app on the host (Dokku's C(ps:report)), optionally with
    C(docker inspect) data whose env values are masked (Dokku's C(ps:inspect)) and the processes running in
    each container (the old C(dokku ps <app>)).
  - Never changes anything.
author:
  - dokku_ps contributors (@dokku-ps)
extends_documentation_fragment:
  - dokku_ps.docker.docker
  - dokku_ps.docker.attributes
  - dokku_ps.docker.attributes.actiongroup
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  app:
    description:
      - The app to report on. When omitted, every app of the host is reported.
    type: str
    aliases: [name]
  global:
    description:
      - Report only the global properties.
    type: bool
    default: false
  inspect:
    description:
      - Add C(docker inspect) data per container. Every C(Config.Env) value is replaced by C(XXXXXX) except
        C(DYNO), C(PORT), C(PATH) and keys starting with C(DOKKU_) or C(DOCKER_) (Dokku's allow-list); a masked
        value that also appears elsewhere in the data (for example in a command line) is masked there too.
    type: bool
    default: false
  top:
    description:
      - Add the processes running inside each running container (Docker's top API).
    type: bool
    default: false
seealso:
  - module: dokku_ps.docker.dokku_ps_app
  - module: dokku_ps.docker.dokku_ps_scale
'''

EXAMPLES = r'''
- name: Report on every app
  dokku_ps.docker.dokku_ps_report:
  register: ps

- name: Sanitized inspect data of one app
  dokku_ps.docker.dokku_ps_report:
    app: shop
    inspect: true

- name: Global properties
  dokku_ps.docker.dokku_ps_report:
    global: true
'''

RETURN = r'''
apps:
  description: One entry per app (empty with O(global=true)).
  returned: always
  type: dict
  sample:
    shop:
      deployed: true
      processes: 2
      running: "true"
      restore: true
      can_scale: true
      formation: {"web": 1, "worker": 1}
      restart_policy: {"raw": null, "global": null, "computed": "on-failure:10"}
      stop_timeout_seconds: {"raw": null, "global": null, "computed": 30}
      dynos:
        web.1:
          name: shop.web.1
          id: 9b0e...
          status: running
          restart_count: 0
          restart_policy: on-failure:10
          ports: []
  contains:
    deployed:
      description: Whether the app has been deployed.
      type: bool
    processes:
      description: Number of containers of the app.
      type: int
    running:
      description: V(true) when every container runs, V(false) when none does (or there are none), else V(mixed).
      type: str
    restore:
      description: Whether a restore (after a reboot) starts the app.
      type: bool
    can_scale:
      description: False when the image's C(DOKKU_SCALE) file sets the formation.
      type: bool
    formation:
      description: Instances wanted per process type.
      type: dict
    restart_policy:
      description: Raw (app), global and computed restart policy.
      type: dict
    stop_timeout_seconds:
      description: Raw (app), global and computed stop timeout.
      type: dict
    dynos:
      description:
        - Per instance (C(web.1), ...) the container name, id, status, restart count, restart policy, published
          ports, and with O(inspect) or O(top) the sanitized inspect data and the process list.
      type: dict
global:
  description: Global and computed values of the global properties.
  returned: always
  type: dict
  sample: {"restart_policy": {"global": null, "computed": "on-failure:10"},
           "stop_timeout_seconds": {"global": null, "computed": 30}}
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils.runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import service


def operation(ctx, params):
    if params['global']:
        return {'changed': False, 'apps': {}, 'global': service.global_report(ctx.store.read_global())}
    return service.report(ctx, params['app'], inspect=params['inspect'], top=params['top'])


def main():
    module = build_module(
        dict(
            app=dict(type='str', aliases=['name']),
            inspect=dict(type='bool', default=False),
            top=dict(type='bool', default=False),
            **{'global': dict(type='bool', default=False)}
        ),
        mutually_exclusive=[['app', 'global']],
    )
    run(module, operation)


if __name__ == '__main__':
    main()
