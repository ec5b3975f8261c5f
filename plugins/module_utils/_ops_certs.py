# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_certs: the certificates of one app, a list or every app renewed when due (Dokku's
``letsencrypt:auto-renew``), or now with ``force``; what a daily schedule runs (roles/tls_renewal).

Each app with HTTPS is worked on under its lock: its TLS checked again (a provided certificate read from its paths
again), then committed with no work for its processes, so that its nginx config follows its running web processes
and its certificate is renewed when due, or installed again when nginx lost it (_tls.TlsRun.commit). Apps without
HTTPS are skipped with the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._ops_state import (
    each_app, names_one_app, resolve_parallel, validate_targets)
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import TLS_ACME, TLS_OFF, settings_of
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _tls as tls

# What a dokku_ps_certs task asks for, validated: ``apps`` None means every app; ``force`` renews every certificate
# from ACME now, due or not; ``single`` is a task that named one app (``app``), whose outcome is then the result's
# top level.
CertsRequest = collections.namedtuple('CertsRequest', 'apps force workers single')


def parse(params):
    """The module's parameters -> a CertsRequest (checked here, once, before anything changes)."""
    force = params.get('force')
    if force is not None and not isinstance(force, bool):
        raise ValidationError('force', '%r is not a boolean' % (force,))
    return CertsRequest(validate_targets(params), bool(force), resolve_parallel(params.get('parallel')),
                        names_one_app(params))


def run(ctx, request):
    """dokku_ps_certs."""
    ctx.tls.force = request.force
    # one ACME account and one connection to the CA serve the run: the apps' certificates are committed one at a
    # time, while the other apps are read and checked
    committing = threading.Lock()
    return each_app(ctx, request.apps, request.workers, request.single,
                    lambda name: renew(ctx, name, committing))


def without_https(doc):
    """Why the app has no certificate to renew, or None when it has HTTPS."""
    settings = settings_of(doc)
    if settings.tls.mode == TLS_OFF:
        return 'no HTTPS (https: off)'
    if not settings.enabled:
        return 'no HTTPS (its proxy is off)'
    if not doc.get('deployed'):
        return 'not deployed'
    return None


def renew(ctx, name, committing):
    """One app, under its lock. Returns its outcome: ``changed`` when its certificate was renewed, issued or
    installed (check mode: would be), with the ``certificate`` of _tls.TlsRun.commit."""
    doc = definitions.read_defined_app(ctx, name)
    global_doc = ctx.store.read_global()
    skipped = without_https(doc)
    if skipped is not None:
        return results.app_outcome(name, 'skipped', skipped, doc=doc, global_doc=global_doc, certificate=None)
    ctx.tls.check(doc, {})
    with committing:
        certificate = ctx.commit(scheduler.nothing(), doc, global_doc, write=False, proxy=True)
    return results.app_outcome(name, results.status_of(tls.changed(certificate)),
                               reason_of(certificate, ctx.check_mode), doc=doc, global_doc=global_doc,
                               certificate=certificate)


def reason_of(certificate, check_mode=False):
    """The outcome's reason, in one line: why the certificate was (check mode: would be) renewed, issued or
    installed, or why it was left alone."""
    certificate = certificate or {}
    action = certificate.get('action')
    acme = certificate.get('source') == TLS_ACME
    if action in (tls.RENEWED, tls.ISSUED):
        return '%s: %s' % ('would be %s' % action if check_mode else action, certificate.get('reason') or 'asked for')
    if action == tls.INSTALLED:
        return ('installed again: nginx did not serve the certificate kept for the app' if acme else
                'installed: the provided certificate differs from the one nginx serves')
    if action == tls.UNCHANGED and acme:
        renew_at = certificate.get('renew_at')
        return 'not due: renewal from %s' % renew_at if renew_at else 'not due'
    if action == tls.UNCHANGED:
        return 'provided: served as given (renewed by whoever provides it)'
    return action or ''
