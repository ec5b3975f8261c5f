#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_state
short_description: Start, stop, restart, rebuild or restore apps (one, several, or all of a host)
version_added: 0.1.0
description:
  - Dokku's C(ps:start), C(ps:stop), C(ps:restart), C(ps:rebuild) and C(ps:restore), with C(--all) and
    C(--parallel), on the apps defined with M(dokku_ps.docker.dokku_ps_app).
  - V(started) makes the formation run. Stopped containers that still match the app's definition are started
    again (same containers, the computed restart policy put back first), missing ones are created, changed ones
    replaced. The restore flag becomes V(true).
  - V(stopped) sets the restart policy of every running container to V(no) (so a daemon restart never brings it
    back), then stops it with the stop timeout. Containers are kept. The restore flag becomes V(false).
  - V(restarted) replaces every container (or those of O(process_type)) with a fresh one from the same image
    id, with zero downtime (the new container is up before the old one goes), V(web) first.
  - V(rebuilt) resolves the app's image reference again (the tag may point at a new image), re-reads a
    Procfile and C(DOKKU_SCALE) from the image, then replaces every container.
  - V(restored) brings every deployed app whose restore flag is V(true) to V(started), reusing the containers
    that still match; apps that were never deployed, or were stopped on purpose, are skipped, and the result
    says why. Run it after a reboot.
  - Apps that were never deployed are skipped with the reason C(not deployed), for every state.
  - Every target app is attempted, even when one fails; the task fails at the end if any app failed, and the
    result lists each app's outcome.
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
    support: none
  idempotent:
    support: partial
    details:
      - V(started), V(stopped) and V(restored) are idempotent; V(restarted) and V(rebuilt) replace containers
        on every run.
options:
  app:
    description:
      - One app.
    type: str
    aliases: [name]
  apps:
    description:
      - Several apps.
    type: list
    elements: str
  all:
    description:
      - Every app defined on the host.
    type: bool
    default: false
  state:
    description:
      - What to do, see the description.
    type: str
    required: true
    choices: [started, stopped, restarted, rebuilt, restored]
  process_type:
    description:
      - With O(state=restarted) and one app, replace only the containers of this process type.
    type: str
  parallel:
    description:
      - How many apps are worked on at once. V(1) (or V(0)) works on one app after the other, V(-1) on one app
        per CPU; values below V(-1) are refused.
      - The container actions of all apps share one pool of 8 concurrent Docker requests (environment variable
        E(DOKKU_PS_MAX_WORKERS) on the managed host), so a higher O(parallel) never multiplies the load on the
        daemon; it lets more apps use the pool's free slots. A restore of many small apps is fastest with
        V(8) or more.
    type: int
    default: 1
seealso:
  - module: dokku_ps.docker.dokku_ps_policy
  - module: dokku_ps.docker.dokku_ps_report
'''

EXAMPLES = r'''
- name: Stop an app (it stays stopped after a reboot)
  dokku_ps.docker.dokku_ps_state:
    app: shop
    state: stopped

- name: Restart only the workers
  dokku_ps.docker.dokku_ps_state:
    app: shop
    state: restarted
    process_type: worker

- name: After a reboot, bring back every app that was running, one per CPU at a time
  dokku_ps.docker.dokku_ps_state:
    all: true
    state: restored
    parallel: -1
  register: restore

- name: Rebuild every app after moving image tags
  dokku_ps.docker.dokku_ps_state:
    all: true
    state: rebuilt
    parallel: 4
'''

RETURN = r'''
state:
  description: The state asked for.
  returned: always
  type: str
  sample: restored
# BEGIN shared results (generated from plugins/module_utils/_result_docs.py by scripts/sync_declaration.py)
name:
  description: The app's name.
  returned: when O(app) is given
  type: str
  sample: shop
status:
  description: V(changed), V(unchanged), V(skipped) (the app was left alone, C(reason) says why) or V(failed) (the
    task then fails; in a several-apps run, after every app was attempted).
  returned: when O(app) is given
  type: str
  sample: changed
reason:
  description: Why the app has this status (such as V(not deployed), V(already running) or the error of a failed
    app), or an empty string.
  returned: when O(app) is given
  type: str
  sample: ''
containers:
  description:
    - What the run did (in check mode, would do) to the app's containers, by container name. Every key is always
      present, the same keys in every module (see the README, Results); a run that changes nothing, such as a report,
      has six empty lists.
  returned: when O(app) is given
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
  returned: when O(app) is given
  type: dict
  sample:
    web: 2
    worker: 1
properties:
  description: Raw (the app's own), global and computed values of the restart policy, the stop timeout, restore
    and the releases kept.
  returned: when O(app) is given
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
apps_changed:
  description: The apps that changed.
  returned: when O(apps) or O(all) is given
  type: list
  elements: str
  sample:
    - shop
apps_skipped:
  description: The apps skipped, with the reason.
  returned: when O(apps) or O(all) is given
  type: dict
  sample:
    blog: restore flag is false (the app was stopped on purpose)
apps_failed:
  description: The apps that failed, with the error (the task then fails after every app was attempted).
  returned: when O(apps) or O(all) is given
  type: dict
  sample: {}
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
restore:
  description: Whether a restore (after a reboot) starts the app.
  returned: when O(app) is given
  type: bool
apps:
  description:
    - Each app's outcome under the app's name, with the keys a task naming one app returns at the top level (see the
      README, Results). Every outcome has the keys below (C(apps.<name>.status) and so on).
    - Also C(restore), whether a restore (after a reboot) starts the app.
  returned: when O(apps) or O(all) is given
  type: dict
  sample:
    shop:
      name: shop
      status: changed
      reason: restored
      restore: true
      containers:
        created: []
        started:
        - shop.web.1
        replaced: []
        stopped: []
        removed: []
        updated: []
      formation:
        web: 1
      properties: {}
    blog:
      name: blog
      status: skipped
      reason: restore flag is false (the app was stopped on purpose)
  contains:
    # BEGIN shared results of each app (generated from plugins/module_utils/_result_docs.py by scripts/sync_declaration.py)
    name:
      description: The app's name.
      returned: always
      type: str
      sample: shop
    status:
      description: V(changed), V(unchanged), V(skipped) (the app was left alone, C(reason) says why) or V(failed)
        (the task then fails; in a several-apps run, after every app was attempted).
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
          present, the same keys in every module (see the README, Results); a run that changes nothing, such as
          a report, has six empty lists.
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
      returned: when the app's state document was read
      type: dict
      sample:
        web: 2
        worker: 1
    properties:
      description: Raw (the app's own), global and computed values of the restart policy, the stop timeout, restore
        and the releases kept.
      returned: when the app's state document was read
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
    # END shared results of each app
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_state as ops_state


def main():
    module = build_module(
        dict(
            app=dict(type='str', aliases=['name']),
            apps=dict(type='list', elements='str'),
            state=dict(type='str', required=True, choices=list(ops_state.STATES)),
            process_type=dict(type='str'),
            parallel=dict(type='int', default=1),
            **{'all': dict(type='bool', default=False)}
        ),
        mutually_exclusive=[['app', 'apps', 'all']],
    )
    run(module, ops_state.parse, ops_state.run)


if __name__ == '__main__':
    main()
