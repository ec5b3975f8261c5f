# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process properties (module_utils/_properties.py): the global report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import (
    computed_property, desired_restart_policies, global_report, property_report, restart_policy_from_docker,
    restart_policy_to_docker)


def test_global_report_defaults():
    expected = {'restart_policy': {'global': None, 'computed': 'on-failure:10'},
                'stop_timeout_seconds': {'global': None, 'computed': 30},
                'keep_releases': {'global': None, 'computed': 5},
                'scheduler': {'global': None, 'computed': 'docker-local'}}
    assert global_report(None) == expected
    assert global_report({}) == expected
    assert global_report({'properties': {'restart_policy': None, 'stop_timeout_seconds': None}}) == expected


def test_global_report_values():
    report = global_report({'properties': {'restart_policy': 'always', 'stop_timeout_seconds': 0, 'keep_releases': 2,
                                           'scheduler': 'swarm'}})
    assert report == {'restart_policy': {'global': 'always', 'computed': 'always'},
                      'stop_timeout_seconds': {'global': 0, 'computed': 0},
                      'keep_releases': {'global': 2, 'computed': 2},
                      'scheduler': {'global': 'swarm', 'computed': 'swarm'}}


VALID_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:1', 'on-failure:20', 'on-failure:10']


@pytest.mark.parametrize('policy', VALID_POLICIES)
def test_restart_policy_docker_round_trip(policy):
    docker_form = restart_policy_to_docker(policy)
    assert set(docker_form) == {'Name', 'MaximumRetryCount'}
    assert restart_policy_from_docker(docker_form) == policy


def test_restart_policy_to_docker_values():
    assert restart_policy_to_docker('on-failure:10') == {'Name': 'on-failure', 'MaximumRetryCount': 10}
    assert restart_policy_to_docker('always') == {'Name': 'always', 'MaximumRetryCount': 0}
    assert restart_policy_to_docker('no') == {'Name': 'no', 'MaximumRetryCount': 0}


@pytest.mark.parametrize('docker_form, expected', [
    (None, 'no'),
    ({}, 'no'),
    ({'Name': '', 'MaximumRetryCount': 0}, 'no'),
    ({'Name': 'on-failure', 'MaximumRetryCount': 0}, 'on-failure'),
    ({'Name': 'on-failure', 'MaximumRetryCount': 3}, 'on-failure:3'),
    ({'Name': 'unless-stopped'}, 'unless-stopped'),
])
def test_restart_policy_from_docker(docker_form, expected):
    assert restart_policy_from_docker(docker_form) == expected


def test_computed_property_precedence():
    app = {'properties': {'restart_policy': 'always', 'stop_timeout_seconds': None, 'restore': None}}
    glob = {'properties': {'restart_policy': 'no', 'stop_timeout_seconds': 7}}
    assert computed_property(app, glob, 'restart_policy') == 'always'
    assert computed_property(app, glob, 'stop_timeout_seconds') == 7
    assert computed_property(app, glob, 'restore') is True
    assert computed_property(None, None, 'restart_policy') == 'on-failure:10'
    assert computed_property({}, {}, 'stop_timeout_seconds') == 30
    # restore has no global level
    assert computed_property({}, {'properties': {'restore': False}}, 'restore') is True
    assert computed_property({'properties': {'restore': False}}, None, 'restore') is False


def test_property_report_shape():
    report = property_report({'properties': {'restart_policy': 'always'}},
                             {'properties': {'stop_timeout_seconds': 3}})
    assert report['restart_policy'] == {'raw': 'always', 'global': None, 'computed': 'always'}
    assert report['stop_timeout_seconds'] == {'raw': None, 'global': 3, 'computed': 3}
    assert report['restore'] == {'raw': None, 'computed': True}


def test_desired_restart_policies():
    app = {'properties': {'restart_policy': 'always'}}
    assert desired_restart_policies(app, None, True) == ('always', 'always')
    assert desired_restart_policies(app, None, False) == ('always', 'no')
    assert desired_restart_policies({}, {'properties': {'restart_policy': 'unless-stopped'}}, True) == \
        ('unless-stopped', 'unless-stopped')
    assert desired_restart_policies(None, None, False) == ('on-failure:10', 'no')
