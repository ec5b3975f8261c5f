# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results: the one shape every module returns for the apps it worked on.

An *app outcome* is a dict with the same keys whatever the module:

* ``name``, ``status`` (``changed``, ``unchanged``, ``skipped`` or ``failed``) and ``reason``;
* ``containers``: the container work of the run, always the six keys of :data:`CONTAINER_WORK`, each a sorted
  list of container names (check mode: what the run would do);
* ``formation`` and ``properties`` (raw, global and computed values) wherever the app's document was read;
* the keys of one module, such as ``formation_changes`` or ``dynos``.

A module whose task names ONE app (``name`` or ``app``) returns that outcome's keys at the top level of its
result. A module working on several apps (``apps``, ``all``, a fleet's declarations, a global property) returns
``apps`` (name -> outcome) with the summaries ``apps_changed``, ``apps_skipped`` and ``apps_failed``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import AppsFailed
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import property_report
# what a run did to containers (the six keys in the order a reader expects them), written once with their docs
from ansible_collections.dokku_ps.docker.plugins.module_utils._result_docs import CONTAINER_WORK

STATUSES = ('changed', 'unchanged', 'skipped', 'failed')


def container_work(plan=None):
    """The ``containers`` of an outcome: every key of :data:`CONTAINER_WORK`, from a plan (none: nothing done)."""
    if plan is None:
        return dict((key, []) for key in CONTAINER_WORK)
    return plan.summary()


def app_outcome(name, status, reason='', plan=None, doc=None, global_doc=None, **extra):
    """One app's outcome (see the module docstring). ``doc``: the app's document after the run, when it has one
    (its formation and properties are then part of the outcome)."""
    outcome = {'name': name, 'status': status, 'reason': reason, 'containers': container_work(plan)}
    if doc is not None:
        outcome['formation'] = dict(doc.get('formation') or {})
        outcome['properties'] = property_report(doc, global_doc)
    outcome.update(extra)
    return outcome


def status_of(changed):
    return 'changed' if changed else 'unchanged'


def one_app(outcome, **extra):
    """The result of a module whose task names one app: the outcome's keys at the top level, plus ``changed``."""
    result = dict(outcome)
    result['changed'] = outcome['status'] == 'changed'
    result.update(extra)
    return result


def many_apps(outcomes, **extra):
    """The result of a module working on several apps: ``apps`` (name -> outcome) and the summaries."""
    apps = dict((outcome['name'], outcome) for outcome in outcomes)
    result = {
        'changed': any(outcome['status'] == 'changed' for outcome in apps.values()),
        'apps': apps,
        'apps_changed': sorted(name for name, outcome in apps.items() if outcome['status'] == 'changed'),
        'apps_skipped': dict((name, outcome['reason']) for name, outcome in sorted(apps.items())
                             if outcome['status'] == 'skipped'),
        'apps_failed': dict((name, outcome['reason']) for name, outcome in sorted(apps.items())
                            if outcome['status'] == 'failed'),
    }
    result.update(extra)
    return result


def raise_if_failed(result, total, shown=None):
    """Raise AppsFailed (one line naming each failed app) when ``result['apps_failed']`` is not empty; the
    failure carries ``shown`` (default: ``result``) as the module's result."""
    if result['apps_failed']:
        raise AppsFailed('%d of %d app(s) failed: %s' % (
            len(result['apps_failed']), total,
            '; '.join('%s: %s' % item for item in result['apps_failed'].items())),
            result=result if shown is None else shown)
