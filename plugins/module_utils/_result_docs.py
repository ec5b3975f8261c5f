# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RETURN entries every module shares (the app outcome, the summaries of several apps, proxy_changed), once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

# scripts/sync_declaration.py writes these entries into the modules' RETURN between BEGIN/END markers, at the top
# level and under apps.contains, each with the ``returned`` of its place; a unit test fails when a copy differs.
# This file imports nothing, so _results.py takes CONTAINER_WORK from here and the script loads it by path.

# what a run did to containers, in the order a reader expects them: (key, description)
CONTAINERS = (
    ('created', 'Containers created (a missing instance, or a scale up).'),
    ('started', 'Existing containers started again (stopped, never started, or unpaused).'),
    ('replaced', 'Containers replaced by a new one at the same name (a new definition, a restart, a dead container).'),
    ('stopped', 'Containers stopped and kept (restart policy V(no) first).'),
    ('removed', 'Containers stopped and removed (a scale down, a process type gone, an app deleted).'),
    ('updated', 'Containers whose restart policy was changed in place (same container, no restart).'),
)
CONTAINER_WORK = tuple(key for key, _description in CONTAINERS)

# the keys of every app outcome: (key, entry without its ``returned``)
OUTCOME = (
    ('name', dict(description='The app\'s name.', type='str', sample='shop')),
    ('status', dict(
        description='V(changed), V(unchanged), V(skipped) (the app was left alone, C(reason) says why) or V(failed) '
                    '(the task then fails; in a several-apps run, after every app was attempted).',
        type='str', sample='changed')),
    ('reason', dict(
        description='Why the app has this status (such as V(not deployed), V(already running) or the error of a '
                    'failed app), or an empty string.',
        type='str', sample='')),
    ('containers', dict(
        description=[
            'What the run did (in check mode, would do) to the app\'s containers, by container name. Every key is '
            'always present, the same keys in every module (see the README, Results); a run that changes nothing, '
            'such as a report, has six empty lists.',
        ],
        type='dict',
        sample=dict(created=['shop.web.2'], started=[], replaced=['shop.web.1'], stopped=[], removed=[], updated=[]),
        contains=dict((key, dict(description=description, type='list', elements='str'))
                      for key, description in CONTAINERS))),
)

# the keys of an app outcome wherever the app's state document was read
DOCUMENT = (
    ('formation', dict(description='Instances wanted per process type, after the run.', type='dict',
                       sample={'web': 2, 'worker': 1})),
    ('properties', dict(
        description='Raw (the app\'s own), global and computed values of the restart policy, the stop timeout, '
                    'restore and the releases kept.',
        type='dict',
        sample={'restart_policy': {'raw': None, 'global': None, 'computed': 'on-failure:10'},
                'stop_timeout_seconds': {'raw': None, 'global': None, 'computed': 30},
                'restore': {'raw': True, 'computed': True},
                'keep_releases': {'raw': None, 'global': None, 'computed': 5}})),
)

# the summaries beside ``apps`` in the result of a module working on several apps
SUMMARIES = (
    ('apps_changed', dict(description='The apps that changed.', type='list', elements='str', sample=['shop'])),
    ('apps_skipped', dict(description='The apps skipped, with the reason.', type='dict',
                          sample={'blog': 'restore flag is false (the app was stopped on purpose)'})),
    ('apps_failed', dict(
        description='The apps that failed, with the error (the task then fails after every app was attempted).',
        type='dict', sample={})),
)

PROXY_CHANGED = ('proxy_changed', 'when a config changed', dict(
    description=[
        'The apps whose nginx config this run changed (in check mode, would change), for apps whose proxy is on or '
        'was just turned off. In diff mode the diff shows the configs before and after under C(nginx).',
    ],
    type='list', elements='str', sample=['shop']))

# under apps.contains: every app of a several-apps result has the outcome keys, and formation and properties
# wherever its state document was read
EACH_APP = 'always'
EACH_APP_DOCUMENT = 'when the app\'s state document was read'


def _with_returned(entries, returned):
    out = []
    for key, entry in entries:
        documented = {}
        for field in ('description', 'returned', 'type', 'elements', 'sample', 'contains'):
            if field == 'returned':
                documented[field] = returned
            elif field in entry:
                documented[field] = copy.deepcopy(entry[field])
        out.append((key, documented))
    return out


def entries(outcome=None, document=None, summaries=None, proxy_changed=False):
    """The shared RETURN entries of one place (a dict, in documentation order), each group with the ``returned``
    given for it: the outcome's keys (``outcome``), its ``formation`` and ``properties`` (``document``, by default
    as ``outcome``), the summaries of several apps (``summaries``) and ``proxy_changed``. A group given None (or
    False) is left out."""
    if document is None:
        document = outcome
    found = []
    if outcome is not None:
        found += _with_returned(OUTCOME, outcome)
    if document not in (None, False):
        found += _with_returned(DOCUMENT, document)
    if summaries is not None:
        found += _with_returned(SUMMARIES, summaries)
    if proxy_changed:
        key, returned, entry = PROXY_CHANGED
        found += _with_returned([(key, entry)], returned)
    return dict(found)


def each_app():
    """The shared entries under ``apps.contains``: the keys of each app's outcome in a several-apps result."""
    return entries(outcome=EACH_APP, document=EACH_APP_DOCUMENT)
