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
    (restart policy V(on-failure:10), stop timeout V(30), restore V(true), releases kept V(5)).
  - A restart policy change is applied to the existing containers B(in place) through Docker's update API,
    keeping the same containers without a restart (Dokku needs a rebuild for this). A global change reaches every deployed app
    that inherits it. Containers of an app that was stopped on purpose keep the policy V(no) while stopped.
  - Options left out are not changed. An empty string unsets a property back to its inherited value.
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
      - Set the global properties (O(restart_policy), O(stop_timeout_seconds), O(keep_releases) and O(scheduler)
        only).
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
  scheduler:
    description:
      - Global only. The scheduler a new app gets when its declaration names none
        (O(dokku_ps.docker.dokku_ps_app#module:scheduler)), V(docker-local) or V(swarm) (Dokku's C(scheduler:set
        --global)); apps that exist keep theirs. The default is V(docker-local).
      - An empty string unsets it.
    type: str
  keep_releases:
    description:
      - How many releases an app keeps (docs/releases.md), an integer >= 1; the default is V(5). The oldest releases
        beyond it are dropped when it is set (for a global value, from every app that inherits it), and whenever a
        new release is recorded. The current release is never dropped.
      - The images of kept releases are never removed by the collection (it removes no image at all), so a
        rollback to a kept release finds its image unless someone removed it by hand.
      - An empty string unsets it.
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

- name: Keep the last 10 releases of every app that does not set its own number
  dokku_ps.docker.dokku_ps_policy:
    global: true
    keep_releases: 10

- name: Back to the inherited restart policy
  dokku_ps.docker.dokku_ps_policy:
    app: shop
    restart_policy: ""
'''

RETURN = r'''
# BEGIN shared results (generated from plugins/module_utils/_result_docs.py by scripts/sync_declaration.py)
name:
  description: The app's name.
  returned: when O(global=false)
  type: str
  sample: shop
status:
  description: V(changed), V(unchanged), V(skipped) (the app was left alone, C(reason) says why) or V(failed) (the
    task then fails; in a several-apps run, after every app was attempted).
  returned: when O(global=false)
  type: str
  sample: changed
reason:
  description: Why the app has this status (such as V(not deployed), V(already running) or the error of a failed
    app), or an empty string.
  returned: when O(global=false)
  type: str
  sample: ''
containers:
  description:
    - What the run did (in check mode, would do) to the app's containers, by container name. Every key is always
      present, the same keys in every module (see the README, Results); a run that changes nothing, such as a report,
      has six empty lists.
  returned: when O(global=false)
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
  returned: when O(global=false)
  type: dict
  sample:
    web: 2
    worker: 1
properties:
  description: Raw (the app's own), global and computed values of the restart policy, the stop timeout, restore
    and the releases kept.
  returned: when O(global=false)
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
  returned: when O(global=true)
  type: list
  elements: str
  sample:
    - shop
apps_skipped:
  description: The apps skipped, with the reason.
  returned: when O(global=true)
  type: dict
  sample:
    blog: restore flag is false (the app was stopped on purpose)
apps_failed:
  description: The apps that failed, with the error (the task then fails after every app was attempted).
  returned: when O(global=true)
  type: dict
  sample: {}
# END shared results
releases_dropped:
  description: The numbers of the app's releases that a smaller O(keep_releases) dropped (in check mode, would drop).
  returned: when O(global=false)
  type: list
  elements: int
  sample: [1, 2]
property_changes:
  description: The raw values that changed, before and after (the app's, or the global ones with O(global=true)).
  returned: always
  type: dict
  sample: {"restart_policy": {"before": null, "after": "always"}}
global:
  description: Global and computed value of the global properties.
  returned: when O(global=true)
  type: dict
  sample: {"restart_policy": {"global": null, "computed": "on-failure:10"},
           "stop_timeout_seconds": {"global": 60, "computed": 60},
           "keep_releases": {"global": null, "computed": 5},
           "scheduler": {"global": "swarm", "computed": "swarm"}}
apps:
  description:
    - Each app's outcome under the app's name, with the keys a task naming one app returns at the top level (see the
      README, Results). Every outcome has the keys below (C(apps.<name>.status) and so on).
    - With O(global=true) and a new restart policy, every deployed app that inherits it, its containers updated in place under C(containers.updated).
    - With O(global=true) and a smaller O(keep_releases), every app that inherits it and kept more releases, with
      C(releases_dropped).
  returned: when O(global=true)
  type: dict
  sample:
    blog:
      name: blog
      status: changed
      reason: inherits the global restart policy
      containers:
        created: []
        started: []
        replaced: []
        stopped: []
        removed: []
        updated:
        - blog.web.1
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
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_policy as ops_policy


def main():
    module = build_module(
        dict(
            app=dict(type='str', aliases=['name']),
            restart_policy=dict(type='str'),
            stop_timeout_seconds=dict(type='raw'),
            restore=dict(type='raw'),
            keep_releases=dict(type='raw'),
            scheduler=dict(type='str'),
            **{'global': dict(type='bool', default=False)}
        ),
        mutually_exclusive=[['app', 'global']],
    )
    run(module, ops_policy.parse, ops_policy.run)


if __name__ == '__main__':
    main()
