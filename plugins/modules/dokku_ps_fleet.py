#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_fleet
short_description: Converge many apps of a Docker host in one call
version_added: 0.1.0
description:
  - Brings every app of O(apps) to its declaration in one module invocation, with the same logic as
    M(dokku_ps.docker.dokku_ps_app), M(dokku_ps.docker.dokku_ps_scale), M(dokku_ps.docker.dokku_ps_policy) and
    M(dokku_ps.docker.dokku_ps_state). A host with 50 apps converges, or confirms that nothing changed, in one
    task instead of 200.
  - Each app converges in one pass. Its definition, formation and properties are recorded first and its
    containers planned once, so no container is created only to be removed again.
  - Every declaration is validated before anything changes. Apps are then worked on O(parallel) at a time;
    an app that fails never stops the others, and the task fails at the end naming it.
  - With O(prune=true), apps recorded on the host but not declared are deleted with their containers.
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
      - The diff shows the definition of each changed app before and after, env values masked.
  idempotent:
    support: full
options:
  apps:
    description:
      - The apps of the host.
      - Each item takes the options of M(dokku_ps.docker.dokku_ps_app) (V(name), V(image), V(processes),
        V(procfile), V(procfile_path), V(env), V(web_port)), V(scale) as in M(dokku_ps.docker.dokku_ps_scale),
        V(restart_policy) and V(stop_timeout_seconds) as in M(dokku_ps.docker.dokku_ps_policy), and V(state).
      - V(state=started) (the default) deploys the app and makes its formation run; V(stopped) stops its
        containers and keeps them (the app stays down after a reboot); V(absent) deletes the app and its
        containers.
      - Keys that are left out keep their recorded value, as with the single-app modules.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The app name (Dokku's rule, at most 63 characters).
        type: str
        required: true
      state:
        description: V(started), V(stopped) or V(absent).
        type: str
        choices: [started, stopped, absent]
        default: started
      image:
        description: A local image reference, see M(dokku_ps.docker.dokku_ps_app). Required to create an app.
        type: str
      processes:
        description: Process types as a dict of type to command.
        type: dict
      procfile:
        description: Process types as Procfile text.
        type: str
      procfile_path:
        description: Path of a Procfile in the image, relative to its WORKDIR.
        type: str
      env:
        description: Environment of every container of the app. Values are never logged or returned.
        type: dict
      web_port:
        description: The port V(web) listens on inside its containers (C(PORT)).
        type: int
      publish:
        description: Publish the web port on the host (V(false), a port, or V(auto)), see M(dokku_ps.docker.dokku_ps_app).
        type: raw
      checks:
        description: Checks per process type gating rollouts, see M(dokku_ps.docker.dokku_ps_app).
        type: dict
      scale:
        description: Instances per process type; types not listed keep their count.
        type: dict
      restart_policy:
        description: The app's restart policy (an empty string unsets it).
        type: str
      stop_timeout_seconds:
        description: The app's stop timeout (an empty string unsets it).
        type: raw
      deploy:
        description:
          - With V(false) the declaration is only recorded (definition, scale, properties, and the restore flag of
            its O(apps[].state)); no container is created, started, stopped, replaced or removed, and an app never
            deployed stays undeployed. It applies at the next deploy (a run with V(true)), start or restore, as
            O(dokku_ps.docker.dokku_ps_app#module:deploy=false) does for one app.
          - Cannot be V(false) with O(apps[].state=absent).
        type: bool
        default: true
  prune:
    description:
      - Delete the apps recorded on the host that O(apps) does not declare, with their containers.
      - Off by default. Turn it on only when O(apps) lists B(every) app of the host.
    type: bool
    default: false
  parallel:
    description:
      - How many apps are worked on at once. V(1) serial, V(-1) one per CPU; values below V(-1) are refused.
      - The container actions of all apps share one pool of 8 concurrent Docker requests (see
        M(dokku_ps.docker.dokku_ps_state)).
    type: int
    default: 4
seealso:
  - module: dokku_ps.docker.dokku_ps_app
  - module: dokku_ps.docker.dokku_ps_state
'''

EXAMPLES = r'''
- name: Converge every app of the host
  dokku_ps.docker.dokku_ps_fleet:
    apps:
      - name: shop
        image: shop:1.4.2
        processes:
          web: bin/server --port $PORT
          worker: bin/jobs
        scale: {web: 2, worker: 1}
        restart_policy: always
      - name: blog
        image: blog:latest
        procfile_path: Procfile
      - name: old-api
        state: stopped
    prune: false
'''

RETURN = r'''
apps:
  description:
    - Per app, its outcome, with the keys a task naming one app returns at the top level (see the README, Results), namely
      C(name), C(status) (V(changed), V(unchanged), V(skipped) or V(failed)), C(reason), C(containers) (the six lists
      V(created), V(started), V(replaced), V(stopped), V(removed), V(updated)), and C(formation) and C(properties)
      wherever the app's document could be read.
    - Also C(state) (the declared state), C(formation_changes) and C(property_changes) (before and after), and C(pruned) for an app deleted by O(prune).
  returned: always
  type: dict
  sample: {"shop": {"name": "shop", "status": "changed", "reason": "", "state": "started", "formation": {"web": 2, "worker": 1}, "formation_changes": {"web": {"before": 1, "after": 2}}, "property_changes": {}, "containers": {"created": ["shop.web.2"], "started": [], "replaced": [], "stopped": [], "removed": [], "updated": []}}}
apps_changed:
  description: The apps that changed.
  returned: always
  type: list
  elements: str
  sample: ["shop"]
apps_skipped:
  description: The apps skipped, with the reason.
  returned: always
  type: dict
  sample: {"blog": "restore flag is false (the app was stopped on purpose)"}
apps_failed:
  description: The apps that failed, with the error (the task then fails after every app was attempted).
  returned: always
  type: dict
  sample: {}
apps_pruned:
  description: The apps deleted because they were not declared (with O(prune=true)).
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils.runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import fleet


def main():
    module = build_module(
        dict(
            apps=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                state=dict(type='str', default='started', choices=['started', 'stopped', 'absent']),
                image=dict(type='str'),
                processes=dict(type='dict'),
                procfile=dict(type='str'),
                procfile_path=dict(type='str'),
                env=dict(type='dict', no_log=True),
                web_port=dict(type='int'),
                publish=dict(type='raw'),
                checks=dict(type='dict'),
                scale=dict(type='dict'),
                restart_policy=dict(type='str'),
                stop_timeout_seconds=dict(type='raw'),
                deploy=dict(type='bool', default=True),
            ), mutually_exclusive=[['processes', 'procfile', 'procfile_path']]),
            prune=dict(type='bool', default=False),
            parallel=dict(type='int', default=4),
        ),
    )
    run(module, fleet.converge, validate=fleet.validate_fleet_params)


if __name__ == '__main__':
    main()
