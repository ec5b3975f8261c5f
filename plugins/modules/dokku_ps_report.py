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
  returned: when neither O(app) nor O(global) is given
  type: list
  elements: str
  sample:
    - shop
apps_skipped:
  description: The apps skipped, with the reason.
  returned: when neither O(app) nor O(global) is given
  type: dict
  sample:
    blog: restore flag is false (the app was stopped on purpose)
apps_failed:
  description: The apps that failed, with the error (the task then fails after every app was attempted).
  returned: when neither O(app) nor O(global) is given
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
deployed:
  description: Whether the app has been deployed.
  returned: when O(app) is given
  type: bool
processes:
  description: Number of containers of the app.
  returned: when O(app) is given
  type: int
running:
  description: V(true) when every container runs, V(false) when none does (or there are none), else V(mixed).
  returned: when O(app) is given
  type: str
restore:
  description: Whether a restore (after a reboot) starts the app (the computed C(properties.restore)).
  returned: when O(app) is given
  type: bool
can_scale:
  description: False when the formation is set by the quantities of the app's C(app.json) or by the image's C(DOKKU_SCALE) file.
  returned: when O(app) is given
  type: bool
image:
  description: The recorded image reference.
  returned: when O(app) is given
  type: str
image_id:
  description: The image id the app's definition records.
  returned: when O(app) is given
  type: str
release:
  description: The app's current release (its number, when it was recorded, what made it, its image), never its env.
  returned: when O(app) is given
  type: dict
  sample: {"number": 6, "created_at": "2026-12-04T10:00:00Z", "made_by": "rollback", "rollback_of": 4,
           "image": "shop:1.4.2", "image_id": "sha256:4f1e9c0d..."}
previous_release:
  description:
    - The number of the kept release before the current one (what C(heroku releases:rollback) without a number goes
      back to), to pin with the option C(release) of M(dokku_ps.docker.dokku_ps_app); null when there is none.
  returned: when O(app) is given
  type: int
  sample: 5
releases:
  description:
    - The kept releases of the app, newest first (docs/releases.md), each with C(number), C(created_at),
      C(made_by) (V(deploy) or V(rollback)), C(rollback_of), C(image), C(image_id), C(processes), C(env) (the keys,
      every value masked as V(XXXXXX)) and C(current) (true for the one the app runs).
  returned: when O(app) is given
  type: list
  elements: dict
  sample: [{"number": 6, "created_at": "2026-12-04T10:00:00Z", "made_by": "rollback", "rollback_of": 4,
            "image": "shop:1.4.2", "image_id": "sha256:4f1e9c0d...", "processes": {"web": "bin/server"},
            "env": {"DATABASE_URL": "XXXXXX"}, "current": true}]
oneoffs:
  description:
    - The app's one-offs that exist now (docs/oneoffs.md), release phase, M(dokku_ps.docker.dokku_ps_run) and cron
      containers, each with its C(name), C(kind) (V(release), V(run) or V(cron)), Docker's C(state) and C(status),
      and its C(cron_id) or release C(phase) when it has one. They are never counted in C(processes).
  returned: when one app is reported, and for each app under C(apps)
  type: list
  elements: dict
  sample: [{"name": "shop.run.48213", "kind": "run", "state": "running", "status": "Up 3 minutes",
            "cron_id": null, "phase": null}]
cron:
  description:
    - The app's app.json cron entries, each with its C(id), C(schedule), C(command), C(concurrency_policy),
      C(maintenance), whether it is C(installed) in the host's cron file, and its C(last_run) (V(null) before
      the first one) with C(started_at), C(finished_at), C(container), C(rc), C(result) (V(succeeded), V(failed),
      V(skipped) or V(timed out)) and the last C(output) lines, env values masked.
  returned: when one app is reported, and for each app under C(apps)
  type: list
  elements: dict
release_phase:
  description:
    - What the release phase of the app's current release did (docs/oneoffs.md), V(null) when it has none,
      C(release), C(status) (V(done), V(pending) when recorded without a rollout so it runs at the next one,
      or V(postdeploy failed)), C(at) and the C(phases) that ran with their exit status.
  returned: when one app is reported, and for each app under C(apps)
  type: dict
dynos:
  description:
    - Per instance (C(web.1), ...) the container name, id, status, restart count, restart policy, published
      ports, start time, and with O(inspect) or O(top) the sanitized inspect data and the process list.
    - C(health) is the health Docker reports for a container with a C(HEALTHCHECK) (V(starting), V(healthy) or
      V(unhealthy)), V(null) without one.
    - C(definition_current) is V(false) when the next deploy or rebuild would replace the container because the
      app's recorded definition changed since it was created (image, command, env, port, published port, proxy
      network; for example after O(dokku_ps.docker.dokku_ps_app#module:deploy=false)). The planner's own rule.
    - C(restart_policy_current) is V(false) when the container's restart policy, as Docker reports it, is not the
      one it should have (for example after C(docker update --restart)); the next run that converges the app sets
      it back in place. An app that is stopped keeps its stopped containers at V(no) on purpose, which is current;
      a container that is dead or being removed always counts as current.
    - These come from the one list call and the one inspect per container the report makes anyway.
    - For an app on O(dokku_ps.docker.dokku_ps_app#module:scheduler=swarm), per task (C(web.1) is slot 1) C(name),
      C(id), C(status) and C(desired_state) (the task's), C(node) (its node's address), C(ports)
      (C(published:target)), C(started_at), C(health) (V(healthy) once running and V(starting) before when the
      service has a C(HEALTHCHECK), since Swarm counts a task as running only once healthy and replaces one that is
      not; V(null) without one) and C(definition_current) (whether its service matches the app's definition).
  returned: when O(app) is given
  type: dict
  sample: {"web.1": {"name": "shop.web.1", "id": "9b0e...", "status": "running", "restart_count": 0,
                     "restart_policy": "on-failure:10", "ports": [], "started_at": "2026-12-04T10:00:00Z",
                     "health": "healthy", "definition_current": false, "restart_policy_current": true}}
sources:
  description:
    - Where the app's formation and checks come from.
    - C(formation) is V(app.json) when the app's app.json sets the quantity of a process type, V(DOKKU_SCALE) when
      the image's C(DOKKU_SCALE) file sets it, else V(scale) (M(dokku_ps.docker.dokku_ps_scale), the C(scale) of a
      declaration, or the default).
    - C(checks) gives, per process type of the formation, where the checks a new container must pass come from,
      for example V(checks option), V(CHECKS file in the image) or V(default).
    - C(app_json) names what the app's app.json was read from (the option, or the file in the image), V(null)
      when the app has none.
  returned: when O(app) is given
  type: dict
  sample: {"formation": "scale", "checks": {"web": "checks option", "worker": "default"}, "app_json": null}
apps:
  description:
    - Each app's outcome under the app's name, with the keys a task naming one app returns at the top level (see the
      README, Results). Every outcome has the keys below (C(apps.<name>.status) and so on).
    - Also the report keys of a task naming one app (C(deployed), C(processes), C(running), C(restore), C(can_scale),
      C(image), C(image_id), C(dynos), C(sources), C(proxy), C(release), C(previous_release), C(releases)).
  returned: when neither O(app) nor O(global) is given
  type: dict
  sample:
    shop:
      name: shop
      status: unchanged
      deployed: true
      processes: 1
      running: 'true'
      formation:
        web: 1
      dynos: {}
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
global:
  description: Global and computed values of the global properties.
  returned: always
  type: dict
  sample: {"restart_policy": {"global": null, "computed": "on-failure:10"},
           "stop_timeout_seconds": {"global": null, "computed": 30},
           "keep_releases": {"global": null, "computed": 5},
           "scheduler": {"global": null, "computed": "docker-local"}}
proxy:
  description:
    - The app's web proxy, when it is on or has a config left (docs/proxy.md). V(enabled) false alone otherwise.
    - C(ports) the port mappings, C(domains), C(wait_to_retire) in seconds, C(config) the path of its nginx config,
      and C(members) the C(address:port) entries of its live upstreams (empty while nginx answers 503).
  returned: when O(app) is given
  type: dict
  sample: {"enabled": true, "ports": ["http:80:5000"], "domains": ["shop.example.com"], "wait_to_retire": 10,
           "config": "/etc/nginx/dokku-ps/shop.conf", "members": ["172.16.240.2:5000", "172.16.240.3:5000"]}
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_report as ops_report


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
    run(module, ops_report.parse, ops_report.run)


if __name__ == '__main__':
    main()
