#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_run
short_description: Run a command once in an app's current release (Dokku's run and run:detached)
version_added: 0.1.0
description:
  - Runs a command in a new container made from the app's current release, the one M(dokku_ps.docker.dokku_ps_app)
    deployed last (its image by id and its env), on the app's network (the proxy's network when the app is
    proxied), the way C(dokku run) does.
  - The container is named C(<app>.run.<n>) (a random five-digit C(n)), gets C(DYNO=run.<n>) and Dokku's labels
    with C(com.dokku.container-type=run), so M(dokku_ps.docker.dokku_ps_report) lists it under the app's
    one-offs, M(dokku_ps.docker.dokku_ps_state) with V(stopped) stops it, deleting the app removes it, and it never
    counts as one of the app's process types.
  - Attached (the default), the task waits for the command up to O(timeout), returns its exit status and output
    (env values masked) and removes the container; a status other than 0 fails the task, as
    C(ansible.builtin.command) does. Detached, the task returns the container's name at once, and Docker removes
    the container when the command ends.
  - Not idempotent, like C(ansible.builtin.command) -- it runs and reports a change every time. Guard it with
    C(when) where a command must run only once. In check mode nothing runs; the task only checks the app and the
    command.
  - The release phase of a deploy (app.json's C(scripts.dokku.predeploy), the Procfile's C(release),
    C(scripts.dokku.postdeploy)) runs through M(dokku_ps.docker.dokku_ps_app), not through this module.
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
    support: none
options:
  app:
    description:
      - The app, defined and deployed with M(dokku_ps.docker.dokku_ps_app).
    type: str
    required: true
    aliases: [name]
  command:
    description:
      - The command. A string is split into words like a Procfile command (C($VAR) expanded from the app's env and
        O(env); no shell unless the command calls one, such as V(sh -c 'a && b')); a list is taken word for word.
      - When its first word is a process type of the app, that type's command is run with the other words after it
        (Dokku's C(run)), so V(console) runs the Procfile's C(console) line.
    type: raw
    required: true
  env:
    description:
      - Variables to add to (or override in) the app's env, for this run only. Their values are masked like the
        app's.
    type: dict
  detach:
    description:
      - Start the command and return at once with its container's name (Dokku's C(run:detached)).
    type: bool
    default: false
  timeout:
    description:
      - Attached, the longest time to wait, in seconds. A command still running then is stopped and the task
        fails.
    type: int
    default: 600
  keep:
    description:
      - Keep the container once the command ended (for its logs, or C(docker inspect)); it is removed when the app is
        deleted.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Run the database migrations of shop's current release
  dokku_ps.docker.dokku_ps_run:
    app: shop
    command: python manage.py migrate --noinput
  register: migrate

- name: A data fix in the background
  dokku_ps.docker.dokku_ps_run:
    app: shop
    command: [sh, -c, "python manage.py fix_orders > /tmp/fix.log"]
    detach: true
    env:
      FIX_DRY_RUN: "0"
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
# END shared results
rc:
  description: The command's exit status.
  returned: when the command ran attached and ended (not in check mode, not detached, not stopped at its time limit)
  type: int
  sample: 0
stdout:
  description: What the command wrote on its standard output (env values masked); empty when detached.
  returned: unless in check mode
  type: str
  sample: "Operations to perform: 3 migrations"
stdout_lines:
  description: RV(stdout) as lines.
  returned: unless in check mode
  type: list
  elements: str
stderr:
  description: What the command wrote on its standard error (env values masked); empty when detached.
  returned: unless in check mode
  type: str
  sample: ""
stderr_lines:
  description: RV(stderr) as lines.
  returned: unless in check mode
  type: list
  elements: str
container:
  description: The one-off's container name.
  returned: unless in check mode
  type: str
  sample: shop.run.48213
release:
  description: The number of the release the command ran in.
  returned: always
  type: int
  sample: 4
run:
  description: The same facts in one dict (C(container), C(rc), C(stdout), C(stderr), their lines, C(timed_out),
    C(kept)); in check mode only C(argv_words), the number of words the command was split into.
  returned: always
  type: dict
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_run as ops_run


def main():
    module = build_module(
        dict(
            app=dict(type='str', required=True, aliases=['name']),
            command=dict(type='raw', required=True),
            env=dict(type='dict', no_log=True),
            detach=dict(type='bool', default=False),
            timeout=dict(type='int', default=600),
            keep=dict(type='bool', default=False),
        ),
    )
    run(module, ops_run.parse, ops_run.run)


if __name__ == '__main__':
    main()
