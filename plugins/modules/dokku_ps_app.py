#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_app
short_description: Define, deploy and delete a Dokku-style app on a Docker host
version_added: 0.1.0
description:
  - Records the definition of an app (image, process types, env, web port) in the state store on the
    Docker host and, with O(deploy=true), makes its containers match it.
  - An app is made of process types (V(web), V(worker), ...); each type runs as many containers as its
    formation says, named C(<app>.<type>.<index>) and labelled the way Dokku labels them.
  - A new app starts with the formation C(web=1) (when it has a web process or runs the image's own
    command) and every other type at 0. Use M(dokku_ps.docker.dokku_ps_scale) to change it.
  - When the definition changes, containers whose specification no longer matches are replaced with zero
    downtime (the new container is up before the old one is stopped and removed), V(web) first.
  - An app that was stopped on purpose (its restore flag is false) keeps its containers stopped; a new
    definition is recorded and used at its next start.
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
      - To read a Procfile or C(DOKKU_SCALE) out of a new image, a container is created (never started) and
        removed again, also in check mode.
  diff_mode:
    support: full
    details:
      - Env values are never shown; the diff says which keys were added or changed.
  idempotent:
    support: full
options:
  # BEGIN app declaration (generated from plugins/module_utils/_declaration.py by scripts/sync_declaration.py)
  name:
    description:
      - 'The app name, at most 63 characters: lowercase letters, digits, dots and dashes, starting with a letter
        or a digit (Dokku''s rule).'
    type: str
    required: true
    aliases:
      - app
  state:
    description:
      - V(present) records the definition (and deploys it with O(deploy=true)).
      - V(absent) stops every container of the app (restart policy V(no) first, then a stop with the app's stop
        timeout), removes them, and deletes the app's state.
    type: str
    default: present
    choices:
      - present
      - absent
  image:
    description:
      - A reference to an image on the Docker host (name, name:tag or id). Required to create an app.
      - The reference is resolved to an image id on every run, so a tag that now points to a new image is a change
        of definition. When omitted, the recorded reference and image id are kept.
      - Images are never pulled.
    type: str
  processes:
    description:
      - The process types of the app as a dict of type to command, like the lines of a Procfile.
      - Commands are split into arguments with shell-like quoting after C($VAR) and C(${VAR}) are expanded from
        the app's env (C($PORT) is the web port for V(web) and empty for other types). They are not run through
        a shell unless the command calls one.
      - An empty dict means the app runs the image's own command (and can scale any valid type name).
      - When none of O(processes), O(procfile) and O(procfile_path) is given, the recorded processes are kept (a
        new app runs the image's own command).
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
      - Publish the V(web) port on the host. V(false) (the default for a new app) publishes nothing; a port number
        publishes it on that host port, which only one web container can hold (scaling web above 1 is refused, and
        a replacement stops the old container first, with a warning); V(auto) gives each web container an ephemeral
        host port (M(dokku_ps.docker.dokku_ps_report) shows the ports).
      - When omitted, the recorded value is kept.
    type: raw
  checks:
    description:
      - The checks a new container must pass before the container it replaces is retired (deploys, restarts, rebuilds),
        per process type. A type's value is a mode string or a dict with the keys below.
      - V(mode) is V(enabled) (the default), V(skipped) (no checks, still zero downtime) or V(disabled) (no checks
        and the old container is stopped before the new one starts, Dokku's meaning).
      - V(uptime) (seconds) the container must stay up without restarting; V(http) (web only) a list of checks,
        each a path optionally followed by the content the answer must contain (V(/about Our Team)) or a dict with
        V(path), V(content), V(host) (Host header) and V(scheme) (V(http) or V(https)); V(command) a command run
        inside the container that must exit 0; V(wait) seconds before the first attempt (default 5), V(timeout)
        seconds per attempt (default 30), V(attempts) (default 5).
      - A type without checks of its own here gets the V(startup) and V(readiness) checks of the app's C(app.json)
        (O(app_json), docs/app-json.md), else, for V(web), the image's Dokku C(CHECKS) file if it has one, else
        Dokku's default check, which is that the container is still up, without restarts, after 10 seconds. A V(mode)
        applies to the checks of every source.
      - HTTP checks go to the container's address on its Docker network, or to the loopback address when the port
        is published on the host; nowhere else.
      - New containers that replace nothing (scaling up, a first deploy) are only checked to be running.
      - When omitted, the recorded checks are kept.
    type: dict
  app_json:
    description:
      - The app's Dokku C(app.json), as a dict or as JSON text (docs/app-json.md). Its V(formation) sets the instances
        of the types it lists (every other type then runs 0, and the app cannot be scaled by hand) and how many
        instances of a type are replaced at once (V(max_parallel)); its V(healthchecks) gate replacements (V(startup),
        V(readiness)) and become Docker health checks of the containers (V(liveness)). Keys that do not concern
        processes are ignored.
      - Given here, it wins over an C(app.json) in the image's WORKDIR, which applies otherwise (read once per image
        id, and validated either way). An empty dict or text removes the option, so the image's file applies again;
        when omitted, the recorded value is kept.
    type: raw
  proxy:
    description:
      - Put the app's V(web) containers behind the host's nginx, which balances requests between them round robin
        (docs/proxy.md). V(false) (the default for a new app) removes the app's nginx config; when omitted, the
        recorded value is kept.
      - Proxied V(web) containers join the collection's Docker network C(dokku-ps) at fixed addresses, so nginx
        reaches them again after Docker restarts them on its own; turning the proxy on or off replaces them.
      - nginx itself is installed by the role P(dokku_ps.docker.proxy#role); which nginx is driven is set by the
        C(nginx_*) options.
    type: bool
  proxy_ports:
    description:
      - Port mappings of the proxy in Dokku's C(scheme:host-port:container-port) form, for example V(http:80:5000),
        or V(https:443:5000) (served once the app has a certificate, O(https)). One mapping per host port.
      - An empty list means Dokku's default, V(http:80:<web_port>); when omitted, the recorded value is kept. With
        a certificate, every V(http:80:<port>) mapping gets its V(https:443:<port>) unless the app maps V(https)
        itself (Dokku's rule).
    type: list
    elements: str
  domains:
    description:
      - The names the proxy answers for (nginx's C(server_name)), so several apps share a host port. DNS names or
        V(*.) wildcards. Without domains the app answers every name on its host ports, which it then needs to itself.
        When omitted, the recorded value is kept.
    type: list
    elements: str
  wait_to_retire:
    description:
      - Seconds the old V(web) containers keep serving the requests they already have after the proxy switched to
        the new ones, before they are stopped (Dokku's C(wait-to-retire)); also after a scale down. Default 10 (Dokku
        waits 60 in the background; here the task waits). When omitted, the recorded value is kept.
    type: int
  https:
    description:
      - 'Serve the app over HTTPS with a certificate covering all its O(domains) (docs/tls.md): V(acme) has it issued
        over ACME (http-01, through the host''s nginx, at deploy time, and renewed when a third of its lifetime
        remains), V(provided) serves the certificate and key given in O(tls_certificate) and O(tls_key) (or read
        from O(tls_certificate_path) and O(tls_key_path)), V(off) (the default for a new app) serves http only and
        removes the app''s certificate.'
      - Needs the proxy (O(proxy)) and at least one domain. The CA and the ACME account are set by the C(acme_*)
        options. When omitted, the recorded value is kept.
    type: str
    choices:
      - 'off'
      - acme
      - provided
  tls_certificate:
    description:
      - 'With O(https=provided): the certificate and its chain as PEM text (leaf first), for example from a vault.
        Checked before anything changes: it matches O(tls_key), its chain is in order, it covers every domain and
        has not expired. When omitted, the certificate in place is kept.'
    type: str
  tls_key:
    description:
      - 'With O(https=provided): the private key of O(tls_certificate) as PEM text, without a passphrase. Written
        for nginx with mode 0600 and never shown.'
    type: str
  tls_certificate_path:
    description:
      - 'With O(https=provided): read the certificate (with its chain) from this file on the managed host instead,
        at every run, so a certificate renewed there by another tool is served once it changes.'
    type: str
  tls_key_path:
    description:
      - 'With O(https=provided): the file of the private key on the managed host, read with O(tls_certificate_path).'
    type: str
  https_redirect:
    description:
      - Redirect http requests to https (301, keeping the host and the URI) once the app has a certificate. Default
        V(true); when omitted, the recorded value is kept.
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
      - 'Run this release of the app (a rollback, docs/releases.md): its image (by id, whatever its tag points at
        now), processes, env, web port, publishing, checks, proxy settings and app.json come back through the usual
        zero-downtime rollout, and the rollback is recorded as a new release. The formation and the properties stay;
        the formation is fitted to the release''s processes.'
      - 'Idempotent: a run when the app already runs that release (or a rollback to it) changes nothing. A release
        that is no longer kept, or whose image is no longer on the Docker host, is refused before anything changes.
        M(dokku_ps.docker.dokku_ps_report) lists the kept releases; the one before the current one is its C(previous_release).'
      - While a release is pinned, the keys of the declaration that a release replaces (O(image), O(processes),
        O(procfile), O(procfile_path), O(env), O(web_port), O(publish), O(checks), O(app_json), O(proxy), O(proxy_ports),
        O(domains), O(wait_to_retire), O(https), O(tls_certificate_path), O(tls_key_path), O(https_redirect), O(hsts),
        O(hsts_include_subdomains), O(hsts_max_age), O(hsts_preload)) are not applied, with a warning; remove the
        pin to deploy the declaration again.
    type: int
  scheduler:
    description:
      - 'What runs the app''s processes: V(docker-local) (containers on the Docker daemon the task connects to,
        the default) or V(swarm) (one replicated service per process type on the swarm whose manager that daemon
        is; docs/swarm.md says what works there yet). When omitted, the recorded scheduler is kept (a new app: the
        global one, O(dokku_ps.docker.dokku_ps_policy#module:scheduler), else V(docker-local)). A deployed app cannot
        move to another scheduler.'
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
  deploy:
    description:
      - Make the containers match the declaration (create missing ones, replace changed ones, remove those of types
        that are no longer defined). The first deploy of an app creates the containers of its formation and marks
        it deployed.
      - With V(false) the declaration is only recorded; no container is created, started, stopped, replaced or removed,
        and an app never deployed stays undeployed. It applies at the next deploy, start or restore.
    type: bool
    default: true
  # END app declaration
seealso:
  - module: dokku_ps.docker.dokku_ps_scale
  - module: dokku_ps.docker.dokku_ps_report
'''

EXAMPLES = r'''
- name: Deploy an app whose process types come from a dict
  dokku_ps.docker.dokku_ps_app:
    name: shop
    image: shop:1.4.2
    processes:
      web: bin/server --port $PORT
      worker: bin/jobs --queue default
    env:
      DATABASE_URL: "{{ vault_shop_database_url }}"

- name: Deploy an app that ships its Procfile in the image
  dokku_ps.docker.dokku_ps_app:
    name: blog
    image: blog:latest
    procfile_path: Procfile

- name: Record a new definition without touching containers
  dokku_ps.docker.dokku_ps_app:
    name: shop
    image: shop:1.5.0
    deploy: false

- name: A web app on host port 8080, checked over HTTP before each rollout
  dokku_ps.docker.dokku_ps_app:
    name: site
    image: site:2.0
    procfile_path: Procfile
    publish: 8080
    checks:
      web:
        http:
          - /health ok
          - path: /
            content: Welcome
        attempts: 10
      worker: skipped

- name: Go back to release 4 of the shop (dokku_ps_report lists the releases; a rollback is release 6, say)
  dokku_ps.docker.dokku_ps_app:
    name: shop
    release: 4

- name: Delete an app and its containers
  dokku_ps.docker.dokku_ps_app:
    name: shop
    state: absent
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
  returned: when O(state=present)
  type: dict
  sample:
    web: 2
    worker: 1
properties:
  description: Raw (the app's own), global and computed values of the restart policy, the stop timeout, restore
    and the releases kept.
  returned: when O(state=present)
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
image:
  description: The recorded image reference.
  returned: when O(state=present)
  type: str
  sample: shop:1.4.2
image_id:
  description: The image id the containers run.
  returned: when O(state=present)
  type: str
  sample: sha256:4f1e9c0d...
deployed:
  description: Whether the app has been deployed.
  returned: when O(state=present)
  type: bool
can_scale:
  description: False when the formation is set by the quantities of the app's C(app.json) or by the image's C(DOKKU_SCALE) file.
  returned: when O(state=present)
  type: bool
release:
  description:
    - The app's current release after the run (in check mode, the one the run would record), never its env
      (docs/releases.md). C(new) is true when this run made it; C(made_by) is V(deploy) or V(rollback), and
      C(rollback_of) the release number a rollback went back to.
  returned: when O(state=present)
  type: dict
  sample: {"number": 4, "created_at": "2026-12-04T10:00:00Z", "made_by": "rollback", "rollback_of": 2,
           "image": "shop:1.4.2", "image_id": "sha256:4f1e9c0d...", "new": true}
release_phase:
  description:
    - The release phase this run ran (in check mode, would run) before and after rolling out a new release
      (docs/oneoffs.md), V(null) when none was due. C(commands) lists the phases the app has (V(predeploy),
      V(release), V(postdeploy)); C(ran) each one-off that ran, with its container, exit status C(rc),
      C(timed_out), C(seconds) and its last C(output) lines, env values masked.
  returned: when O(state=present)
  type: dict
  sample: {"release": 5, "commands": ["predeploy", "release"], "ran": [{"phase": "predeploy",
           "container": "shop.predeploy.48213", "rc": 0, "timed_out": false, "seconds": 1.2, "output": ["ok"]}]}
'''

from ansible_collections.dokku_ps.docker.plugins.module_utils._runner import build_module, run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _declaration as declaration
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_app as ops_app


def main():
    module = build_module(
        declaration.argument_spec(declaration.APP),
        mutually_exclusive=declaration.MUTUALLY_EXCLUSIVE,
    )
    run(module, ops_app.parse, ops_app.run)


if __name__ == '__main__':
    main()
