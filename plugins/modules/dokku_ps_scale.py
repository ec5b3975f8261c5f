#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_scale
short_description: Set how many containers each process type of an app runs
version_added: 0.1.0
description:
  - Sets the formation of an app (Dokku's C(ps:scale)), the number of instances per process type.
  - Scaling up creates only the missing instances; scaling down removes the highest indices first (restart
    policy V(no), stop with the app's stop timeout, remove). Containers of types whose count does not change
    are not touched (Dokku redeploys every container of a changed type; this module does not).
  - Without O(scale), returns the current formation and changes nothing.
  - With O(skip_deploy=true), for an app that was never deployed, or for an app that was stopped on purpose,
    the formation is only recorded; the next start or deploy applies it.
  - An app whose image carries a C(DOKKU_SCALE) file takes its formation from that file and cannot be
    scaled by hand.
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
      - The diff shows the formation before and after.
  idempotent:
    support: full
options:
  app:
    description:
      - The app name, as defined with M(dokku_ps.docker.dokku_ps_app).
    type: str
    required: true
    aliases: [name]
  scale:
    description:
      - "Instances wanted per process type, for example C({web: 2, worker: 1}). Types not listed keep their count."
      - Counts are integers >= 0; strings of digits such as V("2") are accepted.
      - A type the app's processes do not define can only be set to 0.
    type: dict
  skip_deploy:
    description:
      - Only record the formation; do not create or remove containers.
    type: bool
    default: false
seealso:
  - module: dokku_ps.docker.dokku_ps_app
  - module: dokku_ps.docker.dokku_ps_report
'''

EXAMPLES = r'''
- name: Run two web and one worker containers
  dokku_ps.docker.dokku_ps_scale:
    app: shop
    scale:
      web: 2
      worker: 1

- name: Read the current formation
  dokku_ps.docker.dokku_ps_scale:
    app: shop
  register: shop_scale

- name: Record a formation for the next deploy only
  dokku_ps.docker.dokku_ps_scale:
    app: shop
    scale:
      worker: 4
    skip_deploy: true
'''

RETURN = r'''
# BEGIN shared results (generated from plugins/module_utils/_result_docs.py by scripts/sync_declaration.py)
name:
  description: The app's name.
  returned: always
  type: str
  sample: shop
status:
  description: V(changed), V(unchanged), V(skipped) (the app was left alone, C(reason) says why) or V(failed) (the
    task then fails; in a several-apps run, after every app was attempted).
  returned: always
  type: str
  sample: changed
reason:
  description: Why the app has this status (such as V(not deployed), V(already running) or the error of a failed
    app), or an empty string.
  returned: always
  type: str
  sample: ''
containers:
  description:
    - What the run did (in check mode, would do) to the app's containers, by container name. Every key is always
      present, the same keys in every module (see the README, Results); a run that changes nothing, such as a report,
      has six empty lists.
  returned: always
  type: dict
  sample:
    created:
      - shop.web.2
    started: []
    replaced:
      - shop.web.1
    stopped: []
    removed: []
    updated: []
  contains:
    created:
      description: Containers created (a missing instance, or a scale up).
      type: list
      elements: str
    started:
      description: Existing containers started again (stopped, never started, or unpaused).
      type: list
      elements: str
    replaced:
      description: Containers replaced by a new one at the same name (a new definition, a restart, a dead container).
      type: list
      elements: str
    stopped:
      description: Containers stopped and kept (restart policy V(no) first).
      type: list
      elements: str
    removed:
      description: Containers stopped and removed (a scale down, a process type gone, an app deleted).
      type: list
      elements: str
    updated:
      description: Containers whose restart policy was changed in place (same container, no restart).
      type: list
      elements: str
formation:
  description: Instances wanted per process type, after the run.
  returned: always
  type: dict
  sample:
    web: 2
    worker: 1
properties:
  description: Raw (the app's own), global and computed values of the restart policy, the stop timeout, restore
    and the releases kept.
  returned: always
  type: dict
  sample:
    restart_policy:
      raw: null
      global: null
      computed: on-failure:10
    stop_timeout_seconds:
      raw: null
      global: null
      computed: 30
    restore:
      raw: true
      computed: true
    keep_releases:
      raw: null
      global: null
      computed: 5
proxy_changed:
  description:
    - The apps whose nginx config this run changed (in check mode, would change), for apps whose proxy is on or
      was just turned off. In diff mode the diff shows the configs before and after under C(nginx).
  returned: when a config changed
  type: list
  elements: str
  sample:
    - shop
# END shared results
before:
  description: Instances per process type before the run.
  returned: always
  type: dict
  sample: {"web": 1, "worker": 0}
formation_changes:
  description: The process types whose count changed, with their counts before and after.
  returned: always
  type: dict
  sample: {"web": {"before": 1, "after": 2}}
can_scale:
  description: False when the formation is set by the quantities of the app's C(app.json) or by the image's C(DOKKU_SCALE) file.
  returned: always
  type: bool
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_scale as ops_scale


def main():
    module = build_module(
        dict(
            app=dict(type='str', required=True, aliases=['name']),
            scale=dict(type='dict', no_log=False),
            skip_deploy=dict(type='bool', default=False),
        ),
    )
    run(module, ops_scale.parse, ops_scale.run)


if __name__ == '__main__':
    main()
