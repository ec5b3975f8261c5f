#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_policy
short_description: Set the process properties of an app or of the host (restart policy, stop timeout, restore)
version_added: 0.1.0
description:
  - Sets Dokku's process properties (C(ps:set)) for one app, or globally with O(global=true).
  - The computed value of a property is the app's value, else the global one, else the default
    (restart policy V(on-failure:10), stop timeout V(30), restore V(true)).
  - A restart policy change is applied to the existing containers B(in place) through Docker's update API,
    keeping the same containers without a restart (Dokku needs a rebuild for this). A global change reaches every deployed app
    that inherits it. Containers of an app that was stopped on purpose keep the policy V(no) while stopped.
  - Options left out are not changed. An empty string unsets a property back to its inherited value.
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
    support: full
    details:
      - The diff shows the raw (app or global) properties before and after.
  idempotent:
    support: full
options:
  app:
    description:
      - The app whose properties are set. Required unless O(global=true).
    type: str
    aliases: [name]
  global:
    description:
      - Set the global properties (O(restart_policy) and O(stop_timeout_seconds) only).
    type: bool
    default: false
  restart_policy:
    description:
      - V(no), V(always), V(unless-stopped), V(on-failure), or V(on-failure:N) with N >= 1.
      - An empty string unsets it.
    type: str
  stop_timeout_seconds:
    description:
      - Seconds Docker waits after SIGTERM before it kills a container, for every stop. An integer >= 0.
      - An empty string unsets it.
    type: raw
  restore:
    description:
      - Whether a restore (for example after a reboot) starts the app. Set to V(false) by a stop and to V(true)
        by a start or deploy. App only.
      - An empty string unsets it (the default is V(true)).
    type: raw
seealso:
  - module: dokku_ps.docker.dokku_ps_state
  - module: dokku_ps.docker.dokku_ps_report
'''

EXAMPLES = r'''
- name: Always restart the shop's containers (applied in place)
  dokku_ps.docker.dokku_ps_policy:
    app: shop
    restart_policy: always

- name: Give every app 60 seconds to stop
  dokku_ps.docker.dokku_ps_policy:
    global: true
    stop_timeout_seconds: 60

- name: Back to the inherited restart policy
  dokku_ps.docker.dokku_ps_policy:
    app: shop
    restart_policy: ""
'''

RETURN = r'''
app:
  description: The app (absent with O(global=true)).
  returned: when O(global=false)
  type: str
  sample: shop
properties:
  description: Raw (app), global and computed value of every property of the app.
  returned: when O(global=false)
  type: dict
  sample: {"restart_policy": {"raw": "always", "global": null, "computed": "always"},
           "stop_timeout_seconds": {"raw": null, "global": null, "computed": 30},
           "restore": {"raw": true, "computed": true}}
global:
  description: Global and computed value of the global properties.
  returned: when O(global=true)
  type: dict
  sample: {"restart_policy": {"global": null, "computed": "on-failure:10"},
           "stop_timeout_seconds": {"global": 60, "computed": 60}}
changes:
  description: The raw values that changed, before and after.
  returned: always
  type: dict
  sample: {"restart_policy": {"before": null, "after": "always"}}
containers_updated:
  description: Containers of the app whose restart policy was changed in place.
  returned: when O(global=false)
  type: list
  elements: str
  sample: ["shop.web.1", "shop.worker.1"]
apps_updated:
  description: Per app inheriting the global restart policy, the containers changed in place.
  returned: when O(global=true)
  type: dict
  sample: {"blog": ["blog.web.1"]}
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils.runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import lifecycle


def main():
    module = build_module(
        dict(
            app=dict(type='str', aliases=['name']),
            restart_policy=dict(type='str'),
            stop_timeout_seconds=dict(type='raw'),
            restore=dict(type='raw'),
            **{'global': dict(type='bool', default=False)}
        ),
        mutually_exclusive=[['app', 'global']],
    )
    run(module, lifecycle.set_properties, validate=lifecycle.validate_policy_params)


if __name__ == '__main__':
    main()
