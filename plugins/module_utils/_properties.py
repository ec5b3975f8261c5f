# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process properties (Dokku's ps:set): defaults, app > global > default precedence, report, Docker form."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DEFAULT_RESTART_POLICY = 'on-failure:10'


DEFAULT_STOP_TIMEOUT = 30


# how many releases an app keeps (docs/releases.md): the current one and the four before it
DEFAULT_KEEP_RELEASES = 5


PROPERTY_DEFAULTS = {
    'restart_policy': DEFAULT_RESTART_POLICY,
    'stop_timeout_seconds': DEFAULT_STOP_TIMEOUT,
    'restore': True,
    'keep_releases': DEFAULT_KEEP_RELEASES,
    'scheduler': 'docker-local',
}


# the scheduler is global only: an app's is a key of its declaration, and the global one is what a new app declared
# without one gets (Dokku's scheduler:set --global)
GLOBAL_PROPERTIES = ('restart_policy', 'stop_timeout_seconds', 'keep_releases', 'scheduler')

# every property, in the order reports show them
PROPERTIES = ('restart_policy', 'stop_timeout_seconds', 'restore', 'keep_releases')


def computed_property(app_doc, global_doc, key):
    raw = ((app_doc or {}).get('properties') or {}).get(key)
    if raw is not None:
        return raw
    if key in GLOBAL_PROPERTIES:
        glob = ((global_doc or {}).get('properties') or {}).get(key)
        if glob is not None:
            return glob
    return PROPERTY_DEFAULTS[key]


def app_is_active(app_doc, global_doc):
    """An app whose containers should run: deployed, and not stopped on purpose (its restore flag is not false)."""
    return app_doc.get('deployed') and computed_property(app_doc, global_doc, 'restore') is not False


def desired_restart_policies(app_doc, global_doc, active):
    """(the restart policy of an app's running containers, of its stopped ones): the computed policy, and for an
    app that is not ``active`` (stopped on purpose, or never deployed) 'no' on its stopped containers, so that a
    daemon restart never brings them back."""
    computed = computed_property(app_doc, global_doc, 'restart_policy')
    return computed, computed if active else 'no'


def property_report(app_doc, global_doc):
    """raw / global / computed values of every property, as ps:report shows them."""
    app_props = (app_doc or {}).get('properties') or {}
    global_props = (global_doc or {}).get('properties') or {}
    report = {}
    for key in PROPERTIES:
        entry = {'raw': app_props.get(key), 'computed': computed_property(app_doc, global_doc, key)}
        if key in GLOBAL_PROPERTIES:
            entry['global'] = global_props.get(key)
        report[key] = entry
    return report


def restart_policy_to_docker(policy):
    name, _sep, count = policy.partition(':')
    return {'Name': name, 'MaximumRetryCount': int(count) if count else 0}


def restart_policy_from_docker(policy):
    """HostConfig.RestartPolicy -> our string form ('no' for an empty name)."""
    policy = policy or {}
    name = policy.get('Name') or 'no'
    count = policy.get('MaximumRetryCount') or 0
    if name == 'on-failure' and count:
        return 'on-failure:%d' % count
    return name


def global_report(global_doc):
    props = (global_doc or {}).get('properties') or {}
    result = {}
    for key in GLOBAL_PROPERTIES:
        result[key] = {'global': props.get(key), 'computed': props.get(key) if props.get(key) is not None
                       else PROPERTY_DEFAULTS[key]}
    return result
