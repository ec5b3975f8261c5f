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
      # BEGIN app declaration (generated from plugins/module_utils/_declaration.py by scripts/sync_declaration.py)
      name:
        description:
          - 'The app name, at most 63 characters: lowercase letters, digits, dots and dashes, starting with a letter
            or a digit (Dokku''s rule).'
        type: str
        required: true
      state:
        description:
          - V(started) deploys the app and makes its formation run; V(stopped) stops its containers and keeps them
            (a restore after a reboot leaves it down); V(absent) deletes the app and its containers.
          - O(apps[].deploy=false) cannot be combined with V(absent).
        type: str
        default: started
        choices:
          - started
          - stopped
          - absent
      image:
        description:
          - A reference to an image on the Docker host (name, name:tag or id). Required to create an app.
          - The reference is resolved to an image id on every run, so a tag that now points to a new image is a
            change of definition. When omitted, the recorded reference and image id are kept.
          - Images are never pulled.
        type: str
      processes:
        description:
          - The process types of the app as a dict of type to command, like the lines of a Procfile.
          - Commands are split into arguments with shell-like quoting after C($VAR) and C(${VAR}) are expanded from
            the app's env (C($PORT) is the web port for V(web) and empty for other types). They are not run through
            a shell unless the command calls one.
          - An empty dict means the app runs the image's own command (and can scale any valid type name).
          - When none of O(apps[].processes), O(apps[].procfile) and O(apps[].procfile_path) is given, the recorded
            processes are kept (a new app runs the image's own command).
        type: dict
      procfile:
        description:
          - 'The process types as Procfile text, one C(type: command) per line, C(#) comments, CRLF tolerated, duplicates
            refused.'
        type: str
      procfile_path:
        description:
          - Read the Procfile out of the image, at this path relative to the image's WORKDIR (Dokku's C(procfile-path)).
            It is read again whenever the image id changes.
        type: str
      env:
        description:
          - Environment of every container of the app. Values are never logged or returned.
          - C(DYNO) and C(PORT) are set by the collection for every container and cannot be set here.
          - When omitted, the recorded env is kept; when given, it replaces the recorded env.
        type: dict
      web_port:
        description:
          - The port the V(web) process listens on inside its containers (C(PORT)). Defaults to 5000 for a new app;
            when omitted, the recorded value is kept.
        type: int
      publish:
        description:
          - Publish the V(web) port on the host. V(false) (the default for a new app) publishes nothing; a port
            number publishes it on that host port, which only one web container can hold (scaling web above 1 is
            refused, and a replacement stops the old container first, with a warning); V(auto) gives each web container
            an ephemeral host port (M(dokku_ps.docker.dokku_ps_report) shows the ports).
          - When omitted, the recorded value is kept.
        type: raw
      checks:
        description:
          - The checks a new container must pass before the container it replaces is retired (deploys, restarts,
            rebuilds), per process type. A type's value is a mode string or a dict with the keys below.
          - V(mode) is V(enabled) (the default), V(skipped) (no checks, still zero downtime) or V(disabled) (no
            checks and the old container is stopped before the new one starts, Dokku's meaning).
          - V(uptime) (seconds) the container must stay up without restarting; V(http) (web only) a list of checks,
            each a path optionally followed by the content the answer must contain (V(/about Our Team)) or a dict
            with V(path), V(content), V(host) (Host header) and V(scheme) (V(http) or V(https)); V(command) a command
            run inside the container that must exit 0; V(wait) seconds before the first attempt (default 5), V(timeout)
            seconds per attempt (default 30), V(attempts) (default 5).
          - A type without checks of its own here gets the V(startup) and V(readiness) checks of the app's C(app.json)
            (O(apps[].app_json), docs/app-json.md), else, for V(web), the image's Dokku C(CHECKS) file if it has
            one, else Dokku's default check, which is that the container is still up, without restarts, after 10
            seconds. A V(mode) applies to the checks of every source.
          - HTTP checks go to the container's address on its Docker network, or to the loopback address when the
            port is published on the host; nowhere else.
          - New containers that replace nothing (scaling up, a first deploy) are only checked to be running.
          - When omitted, the recorded checks are kept.
        type: dict
      app_json:
        description:
          - The app's Dokku C(app.json), as a dict or as JSON text (docs/app-json.md). Its V(formation) sets the
            instances of the types it lists (every other type then runs 0, and the app cannot be scaled by hand)
            and how many instances of a type are replaced at once (V(max_parallel)); its V(healthchecks) gate replacements
            (V(startup), V(readiness)) and become Docker health checks of the containers (V(liveness)). Keys that
            do not concern processes are ignored.
          - Given here, it wins over an C(app.json) in the image's WORKDIR, which applies otherwise (read once per
            image id, and validated either way). An empty dict or text removes the option, so the image's file applies
            again; when omitted, the recorded value is kept.
        type: raw
      proxy:
        description:
          - Put the app's V(web) containers behind the host's nginx, which balances requests between them round
            robin (docs/proxy.md). V(false) (the default for a new app) removes the app's nginx config; when omitted,
            the recorded value is kept.
          - Proxied V(web) containers join the collection's Docker network C(dokku-ps) at fixed addresses, so nginx
            reaches them again after Docker restarts them on its own; turning the proxy on or off replaces them.
          - nginx itself is installed by the role P(dokku_ps.docker.proxy#role); which nginx is driven is set by
            the C(nginx_*) options.
        type: bool
      proxy_ports:
        description:
          - Port mappings of the proxy in Dokku's C(scheme:host-port:container-port) form, for example V(http:80:5000),
            or V(https:443:5000) (served once the app has a certificate, O(apps[].https)). One mapping per host
            port.
          - An empty list means Dokku's default, V(http:80:<web_port>); when omitted, the recorded value is kept.
            With a certificate, every V(http:80:<port>) mapping gets its V(https:443:<port>) unless the app maps
            V(https) itself (Dokku's rule).
        type: list
        elements: str
      domains:
        description:
          - The names the proxy answers for (nginx's C(server_name)), so several apps share a host port. DNS names
            or V(*.) wildcards. Without domains the app answers every name on its host ports, which it then needs
            to itself. When omitted, the recorded value is kept.
        type: list
        elements: str
      wait_to_retire:
        description:
          - Seconds the old V(web) containers keep serving the requests they already have after the proxy switched
            to the new ones, before they are stopped (Dokku's C(wait-to-retire)); also after a scale down. Default
            10 (Dokku waits 60 in the background; here the task waits). When omitted, the recorded value is kept.
        type: int
      https:
        description:
          - 'Serve the app over HTTPS with a certificate covering all its O(apps[].domains) (docs/tls.md): V(acme)
            has it issued over ACME (http-01, through the host''s nginx, at deploy time, and renewed when a third
            of its lifetime remains), V(provided) serves the certificate and key given in O(apps[].tls_certificate)
            and O(apps[].tls_key) (or read from O(apps[].tls_certificate_path) and O(apps[].tls_key_path)), V(off)
            (the default for a new app) serves http only and removes the app''s certificate.'
          - Needs the proxy (O(apps[].proxy)) and at least one domain. The CA and the ACME account are set by the
            C(acme_*) options. When omitted, the recorded value is kept.
        type: str
        choices:
          - 'off'
          - acme
          - provided
      tls_certificate:
        description:
          - 'With O(apps[].https=provided): the certificate and its chain as PEM text (leaf first), for example
            from a vault. Checked before anything changes: it matches O(apps[].tls_key), its chain is in order,
            it covers every domain and has not expired. When omitted, the certificate in place is kept.'
        type: str
      tls_key:
        description:
          - 'With O(apps[].https=provided): the private key of O(apps[].tls_certificate) as PEM text, without a
            passphrase. Written for nginx with mode 0600 and never shown.'
        type: str
      tls_certificate_path:
        description:
          - 'With O(apps[].https=provided): read the certificate (with its chain) from this file on the managed
            host instead, at every run, so a certificate renewed there by another tool is served once it changes.'
        type: str
      tls_key_path:
        description:
          - 'With O(apps[].https=provided): the file of the private key on the managed host, read with O(apps[].tls_certificate_path).'
        type: str
      https_redirect:
        description:
          - Redirect http requests to https (301, keeping the host and the URI) once the app has a certificate.
            Default V(true); when omitted, the recorded value is kept.
        type: bool
      hsts:
        description:
          - Send the Strict-Transport-Security header over https (Dokku's C(hsts)). Default V(true).
        type: bool
      hsts_include_subdomains:
        description:
          - 'Add C(includeSubDomains) to the header. Default V(false), unlike Dokku: it makes browsers refuse plain
            http on every subdomain of the app''s names (docs/tls.md).'
        type: bool
      hsts_max_age:
        description:
          - The header's C(max-age) in seconds. Default V(15724800) (about six months, Dokku's).
        type: int
      hsts_preload:
        description:
          - Add C(preload) to the header. Default V(false).
        type: bool
      release:
        description:
          - 'Run this release of the app (a rollback, docs/releases.md): its image (by id, whatever its tag points
            at now), processes, env, web port, publishing, checks, proxy settings and app.json come back through
            the usual zero-downtime rollout, and the rollback is recorded as a new release. The formation and the
            properties stay; the formation is fitted to the release''s processes.'
          - 'Idempotent: a run when the app already runs that release (or a rollback to it) changes nothing. A release
            that is no longer kept, or whose image is no longer on the Docker host, is refused before anything changes.
            M(dokku_ps.docker.dokku_ps_report) lists the kept releases; the one before the current one is its C(previous_release).'
          - While a release is pinned, the keys of the declaration that a release replaces (O(apps[].image), O(apps[].processes),
            O(apps[].procfile), O(apps[].procfile_path), O(apps[].env), O(apps[].web_port), O(apps[].publish), O(apps[].checks),
            O(apps[].app_json), O(apps[].proxy), O(apps[].proxy_ports), O(apps[].domains), O(apps[].wait_to_retire),
            O(apps[].https), O(apps[].tls_certificate_path), O(apps[].tls_key_path), O(apps[].https_redirect), O(apps[].hsts),
            O(apps[].hsts_include_subdomains), O(apps[].hsts_max_age), O(apps[].hsts_preload)) are not applied,
            with a warning; remove the pin to deploy the declaration again.
        type: int
      scheduler:
        description:
          - 'What runs the app''s processes: V(docker-local) (containers on the Docker daemon the task connects
            to, the default) or V(swarm) (one replicated service per process type on the swarm whose manager that
            daemon is; docs/swarm.md says what works there yet). When omitted, the recorded scheduler is kept (a
            new app: the global one, O(dokku_ps.docker.dokku_ps_policy#module:scheduler), else V(docker-local)).
            A deployed app cannot move to another scheduler.'
        type: str
        choices:
          - docker-local
          - swarm
      release_phase_timeout:
        description:
          - 'Longest time, in seconds, each command of the release phase may run (app.json''s C(scripts.dokku.predeploy),
            the Procfile''s C(release) command, C(scripts.dokku.postdeploy); docs/oneoffs.md). A command still running
            then is stopped and counts as failed: a predeploy or release command fails the deploy before any container
            changes.'
        type: int
        default: 600
      scale:
        description:
          - 'Instances per process type, for example V({web: 2, worker: 1}); types not listed keep their count (M(dokku_ps.docker.dokku_ps_scale)''s
            rules).'
        type: dict
      restart_policy:
        description:
          - The app's restart policy, V(no), V(always), V(unless-stopped), V(on-failure) or V(on-failure:N) (M(dokku_ps.docker.dokku_ps_policy));
            an empty string unsets it. Quote V('no') in YAML, or it becomes a boolean.
        type: str
      stop_timeout_seconds:
        description:
          - The app's stop timeout in seconds, an integer of 0 or more; an empty string unsets it.
        type: raw
      keep_releases:
        description:
          - How many releases the app keeps, an integer of 1 or more (default 5, or the global value of M(dokku_ps.docker.dokku_ps_policy));
            the oldest beyond it are dropped, never the current one. An empty string unsets it.
        type: raw
      deploy:
        description:
          - Make the containers match the declaration (create missing ones, replace changed ones, remove those of
            types that are no longer defined). The first deploy of an app creates the containers of its formation
            and marks it deployed.
          - With V(false) the declaration is only recorded; no container is created, started, stopped, replaced
            or removed, and an app never deployed stays undeployed. It applies at the next deploy, start or restore.
        type: bool
        default: true
      # END app declaration
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

- name: Pin the shop to its release 7 (a rollback; the blog as declared)
  dokku_ps.docker.dokku_ps_fleet:
    apps:
      - name: shop
        image: shop:1.5.0
        release: 7
      - name: blog
        image: blog:latest
        procfile_path: Procfile
'''

RETURN = r'''
apps:
  description:
    - Each app's outcome under the app's name, with the keys a task naming one app returns at the top level (see the
      README, Results). Every outcome has the keys below (C(apps.<name>.status) and so on).
    - Also C(state) (the declared state), C(formation_changes) and C(property_changes) (before and after), and C(pruned) for an app deleted by O(prune).
    - And C(release), the app's current release after the run as M(dokku_ps.docker.dokku_ps_app) returns it (never
      its env), for every app that is not deleted, and C(release_phase), what its release phase ran (docs/oneoffs.md;
      V(null) when none was due).
  returned: always
  type: dict
  sample:
    shop:
      name: shop
      status: changed
      reason: ''
      state: started
      formation:
        web: 2
        worker: 1
      formation_changes:
        web:
          before: 1
          after: 2
      property_changes: {}
      containers:
        created:
        - shop.web.2
        started: []
        replaced: []
        stopped: []
        removed: []
        updated: []
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
# BEGIN shared results (generated from plugins/module_utils/_result_docs.py by scripts/sync_declaration.py)
apps_changed:
  description: The apps that changed.
  returned: always
  type: list
  elements: str
  sample:
    - shop
apps_skipped:
  description: The apps skipped, with the reason.
  returned: always
  type: dict
  sample:
    blog: restore flag is false (the app was stopped on purpose)
apps_failed:
  description: The apps that failed, with the error (the task then fails after every app was attempted).
  returned: always
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
apps_pruned:
  description: The apps deleted because they were not declared (with O(prune=true)).
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _declaration as declaration
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_fleet as ops_fleet


def main():
    module = build_module(
        dict(
            apps=dict(type='list', elements='dict', required=True, options=declaration.argument_spec(declaration.FLEET),
                      mutually_exclusive=declaration.MUTUALLY_EXCLUSIVE),
            prune=dict(type='bool', default=False),
            parallel=dict(type='int', default=4),
        ),
    )
    run(module, ops_fleet.parse, ops_fleet.run)


if __name__ == '__main__':
    main()
