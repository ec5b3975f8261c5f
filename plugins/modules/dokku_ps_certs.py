#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: dokku_ps_certs
short_description: Renew the HTTPS certificates of apps when due (one, several, or all of a host)
version_added: 0.1.0
description:
  - Dokku's C(letsencrypt:auto-renew) for the apps defined with M(dokku_ps.docker.dokku_ps_app) that serve HTTPS
    (O(dokku_ps.docker.dokku_ps_app#module:https=acme) or V(provided)). The role P(dokku_ps.docker.tls_renewal#role)
    runs it every day on every app of a host (the playbook C(dokku_ps.docker.renew)).
  - A certificate from ACME is renewed when its renewal is due (the CA's renewal information, ARI, when it offers
    it, else when a third of its lifetime remains), issued again when the app's domains, the CA or the account
    changed, and left alone otherwise; the CA is contacted at no other time. The new certificate is served after
    C(nginx -t) and one reload, without a failed request.
  - A certificate nginx no longer has (its files removed or changed by hand) is installed again from the copy
    kept in the state directory, without contacting the CA.
  - A provided certificate read from paths on the host (O(dokku_ps.docker.dokku_ps_app#module:tls_certificate_path))
    is read and checked again (its key, its chain, every domain, not expired) and installed when it changed there,
    for example after another tool renewed it.
  - Before the certificate, the app's nginx config is brought in step with its running web containers; no
    container is created, started, replaced or stopped.
  - Apps without HTTPS (O(dokku_ps.docker.dokku_ps_app#module:https=off), or their proxy off) and apps never deployed are skipped, with the reason.
  - Every target app is attempted, even when one fails; the task fails at the end if any app failed (a CA that
    refuses, a challenge nginx does not serve, a provided certificate that expired), and the result lists each
    app's outcome. A failed renewal is recorded (C(last_error) in M(dokku_ps.docker.dokku_ps_report)) and leaves
    the certificate in place served.
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
      - Says which certificates would be renewed or issued, and why, without contacting the CA.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A second run renews nothing (the renewed certificate is not due) and contacts no CA, unless O(force=true).
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
  force:
    description:
      - Renew every certificate from ACME now, whether due or not (for example after a key may have leaked).
        Provided certificates are not affected.
      - Mind the CA's rate limits (Let's Encrypt allows five certificates for the same set of names a week).
    type: bool
    default: false
  parallel:
    description:
      - How many apps are worked on at once. V(1) (or V(0)) works on one app after the other, V(-1) on one app
        per CPU; values below V(-1) are refused.
      - The renewals themselves go one at a time through the run's one ACME account; the other apps are read and
        checked meanwhile.
    type: int
    default: 1
notes:
  - The options O(acme_directory), O(acme_email) and O(acme_ca_bundle) must be those the certificates were issued
    with (set them once with C(module_defaults)); other values count as a changed CA or account, and the
    certificates are issued again from that CA.
seealso:
  - module: dokku_ps.docker.dokku_ps_app
  - module: dokku_ps.docker.dokku_ps_report
'''

EXAMPLES = r'''
- name: Renew every certificate of the host that is due
  dokku_ps.docker.dokku_ps_certs:
    all: true
    acme_email: ops@example.com
  register: renewal

- name: Show what would be renewed, without contacting the CA
  dokku_ps.docker.dokku_ps_certs:
    apps: [shop, blog]
    acme_email: ops@example.com
  check_mode: true

- name: Renew the certificate of one app now, due or not
  dokku_ps.docker.dokku_ps_certs:
    app: shop
    force: true
    acme_email: ops@example.com
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
certificate:
  description:
    - What became of the app's certificate (in check mode, would become); V(null) for an app skipped.
  returned: when O(app) is given and the app did not fail
  type: dict
  sample:
    source: acme
    action: renewed
    reason: renewal is due (2026-03-01T10:00:00Z)
    names:
      - shop.example.com
      - www.shop.example.com
    not_after: '2026-06-01T09:00:00Z'
    fingerprint: sha256:5f1c...
    renew_at: '2026-05-02T09:00:00Z'
  contains:
    source:
      description: Where the certificate comes from, V(acme) or V(provided).
      type: str
    action:
      description:
        - V(renewed) (its renewal was due, or O(force)), V(issued) (no certificate from ACME yet, or its domains, CA
          or account changed), V(installed) (installed again or anew from what the app has, without the CA), or
          V(unchanged).
      type: str
    reason:
      description: Why it was renewed or issued.
      type: str
      returned: when renewed or issued
    names:
      description: The names the certificate covers.
      type: list
      elements: str
    not_after:
      description: When the certificate expires (UTC, ISO 8601).
      type: str
    fingerprint:
      description: The SHA-256 fingerprint of the certificate, C(sha256:) and hex.
      type: str
    renew_at:
      description: From when it is renewed (UTC, ISO 8601); V(null) for a provided certificate.
      type: str
apps:
  description:
    - Each app's outcome under the app's name, with the keys a task naming one app returns at the top level (see the
      README, Results). Every outcome has the keys below (C(apps.<name>.status) and so on).
    - Also C(certificate), what became of the app's certificate, as at the top level.
  returned: when O(apps) or O(all) is given
  type: dict
  sample:
    shop:
      name: shop
      status: changed
      reason: 'renewed: renewal is due (2026-03-01T10:00:00Z)'
      certificate:
        source: acme
        action: renewed
    blog:
      name: blog
      status: skipped
      reason: 'no HTTPS (https: off)'
      certificate: null
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
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_certs as ops_certs


def main():
    module = build_module(
        dict(
            app=dict(type='str', aliases=['name']),
            apps=dict(type='list', elements='str'),
            force=dict(type='bool', default=False),
            parallel=dict(type='int', default=1),
            **{'all': dict(type='bool', default=False)}
        ),
        mutually_exclusive=[['app', 'apps', 'all']],
    )
    run(module, ops_certs.parse, ops_certs.run)


if __name__ == '__main__':
    main()
