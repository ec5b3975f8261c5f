# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_policy (module_utils/_ops_policy.py): its parameters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_policy as ops_policy
from tests.unit.helpers import refused


def policy(**params):
    base = {'app': 'demo', 'global': False, 'restart_policy': None, 'stop_timeout_seconds': None, 'restore': None}
    base.update(params)
    return ops_policy.validate_policy_params(base)


@pytest.mark.parametrize('params, expected', [
    ({'restart_policy': 'always'}, {'restart_policy': 'always'}),
    ({'restart_policy': 'on-failure:20'}, {'restart_policy': 'on-failure:20'}),
    ({'restart_policy': ''}, {'restart_policy': None}),
    ({'stop_timeout_seconds': '45'}, {'stop_timeout_seconds': 45}),
    ({'stop_timeout_seconds': 0}, {'stop_timeout_seconds': 0}),
    ({'stop_timeout_seconds': ''}, {'stop_timeout_seconds': None}),
    ({'restore': False}, {'restore': False}),
    ({'restore': 'yes'}, {'restore': True}),
    ({'restore': ''}, {'restore': None}),
    ({'keep_releases': 3}, {'keep_releases': 3}),
    ({'keep_releases': '10'}, {'keep_releases': 10}),
    ({'keep_releases': ''}, {'keep_releases': None}),
    ({}, {}),
])
def test_policy_values(params, expected):
    assert policy(**params) == expected


@pytest.mark.parametrize('params, field', [
    ({'restart_policy': 'bogus'}, 'restart_policy'),
    ({'restart_policy': 'on-failure:abc'}, 'restart_policy'),
    ({'restart_policy': 'on-failure:-1'}, 'restart_policy'),
    ({'restart_policy': 'on-failure:0'}, 'restart_policy'),
    ({'stop_timeout_seconds': -1}, 'stop_timeout_seconds'),
    ({'stop_timeout_seconds': 'abc'}, 'stop_timeout_seconds'),
    ({'restore': 'maybe'}, 'restore'),
    ({'keep_releases': 0}, 'keep_releases'),
    ({'keep_releases': 'all'}, 'keep_releases'),
    ({'app': 'Bad_Name'}, 'app'),
    ({'app': None}, 'app'),
    ({'app': None, 'global': True, 'restore': True}, 'restore'),
    ({'scheduler': 'swarm'}, 'scheduler'),
    ({'app': None, 'global': True, 'scheduler': 'k8s'}, 'scheduler'),
])
def test_policy_refusals_name_the_field(params, field):
    message = refused(policy, **params)
    assert message.startswith(field + ':')


def test_global_takes_the_global_properties():
    assert policy(app=None, **{'global': True, 'restart_policy': 'no', 'stop_timeout_seconds': 5}) == {
        'restart_policy': 'no', 'stop_timeout_seconds': 5}
    assert policy(app=None, **{'global': True, 'keep_releases': 2}) == {'keep_releases': 2}
    assert policy(app=None, **{'global': True, 'scheduler': 'swarm'}) == {'scheduler': 'swarm'}
    assert policy(app=None, **{'global': True, 'scheduler': ' '}) == {'scheduler': None}, 'unset'
    assert refused(policy, scheduler='swarm') == ('scheduler: is set globally (global: true) here: an app\'s scheduler '
                                                  'is a key of its declaration (dokku_ps_app scheduler)')
