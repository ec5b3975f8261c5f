# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker-local report (module_utils/_scheduler_local_report.py): published ports, drift and health of each dyno."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_local_report as local_report
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from tests.unit.helpers import OTHER_IMAGE_ID, app_document

POLICY = 'on-failure:10'


def test_published_ports():
    ports = [
        {'PrivatePort': 5000, 'Type': 'tcp'},
        {'IP': '::', 'PrivatePort': 5000, 'PublicPort': 32768, 'Type': 'tcp'},
        {'IP': '0.0.0.0', 'PrivatePort': 5000, 'PublicPort': 32768, 'Type': 'tcp'},
        {'IP': '0.0.0.0', 'PrivatePort': 53, 'PublicPort': 5353, 'Type': 'udp'},
    ]
    assert local_report._published_ports(ports) == [
        {'container_port': 53, 'host_port': 5353, 'host_ip': '0.0.0.0', 'protocol': 'udp'},
        {'container_port': 5000, 'host_port': 32768, 'host_ip': '0.0.0.0', 'protocol': 'tcp'},
        {'container_port': 5000, 'host_port': 32768, 'host_ip': '::', 'protocol': 'tcp'},
    ]


def test_published_ports_nothing_published():
    assert local_report._published_ports(None) == []
    assert local_report._published_ports([]) == []
    assert local_report._published_ports([{'PrivatePort': 5000, 'Type': 'tcp'}]) == []


# ---------------------------------------------------------------- health and drift of each dyno

@pytest.mark.parametrize('data, expected', [
    ({}, None),
    ({'State': {'Status': 'running'}}, None),
    ({'State': {'Status': 'running', 'Health': {'Status': 'healthy', 'FailingStreak': 0}}}, 'healthy'),
    ({'State': {'Health': {'Status': 'unhealthy'}}}, 'unhealthy'),
    ({'State': {'Health': {'Status': 'starting'}}}, 'starting'),
    ({'State': {'Health': None}}, None),
])
def test_health(data, expected):
    assert local_report.health(data) == expected


def container(doc, state='running', policy=POLICY, spec_doc=None):
    """One of the app's containers as the list call shows it, created from ``spec_doc`` (default: ``doc``)."""
    spec = specs.build_spec(spec_doc or doc, policy, 'web', 1)
    summary = {'Id': 'c' * 64, 'Names': ['/' + spec['name']], 'Labels': dict(spec['labels']), 'State': state}
    return planner.Container(summary, doc['name'])


def inspect_data(policy):
    name, _sep, count = policy.partition(':')
    return {'HostConfig': {'RestartPolicy': {'Name': name, 'MaximumRetryCount': int(count or 0)}}}


def test_drift_of_a_container_made_from_the_current_definition():
    doc = app_document()
    assert local_report.drift(doc, container(doc), inspect_data(POLICY), (POLICY, POLICY)) == \
        {'definition_current': True, 'restart_policy_current': True}


@pytest.mark.parametrize('change', [{'env': {'TOKEN': 'x'}}, {'image_id': OTHER_IMAGE_ID},
                                    {'processes': {'web': 'serve --fast', 'worker': 'work'}}, {'web_port': 8080}])
def test_drift_of_a_definition_recorded_without_a_deploy(change):
    before = app_document(formation={'web': 1, 'worker': 0})
    now = app_document(formation={'web': 1, 'worker': 0}, **change)
    found = container(now, spec_doc=before)
    assert local_report.drift(now, found, inspect_data(POLICY), (POLICY, POLICY)) == \
        {'definition_current': False, 'restart_policy_current': True}
    inventory = planner.Inventory(now['name'], [{'Id': found.id, 'Names': ['/' + found.name], 'Labels': found.labels,
                                                 'State': 'running'}])
    assert [a.kind for a in planner.plan_converge(now, POLICY, inventory).actions] == [planner.REPLACE], \
        'what the planner replaces'


def test_a_new_restart_policy_alone_keeps_the_definition_current():
    doc = app_document()
    found = container(doc, policy='always')
    assert local_report.drift(doc, found, inspect_data('always'), (POLICY, POLICY)) == \
        {'definition_current': True, 'restart_policy_current': False}


def test_drift_reads_the_policy_docker_reports():
    doc = app_document()
    # changed by hand: the label says on-failure:10, Docker says always
    assert local_report.drift(doc, container(doc), inspect_data('always'), (POLICY, POLICY))['restart_policy_current'] \
        is False
    # set in place by dokku_ps_policy: recorded in applied_policies, and Docker says so too
    found = container(doc, policy='always')
    doc['applied_policies'] = {found.id: POLICY}
    assert local_report.drift(doc, found, inspect_data(POLICY), (POLICY, POLICY))['restart_policy_current'] is True
    # no inspect data (the container went away meanwhile): what was recorded
    assert local_report.drift(doc, container(doc, policy='always'), {}, (POLICY, POLICY))['restart_policy_current'] \
        is True


@pytest.mark.parametrize('state, policy, current', [
    ('exited', 'no', True),           # a stopped app's containers are at 'no' on purpose
    ('exited', POLICY, False),        # a daemon restart would bring it back
    ('running', POLICY, True),        # started by hand: it runs under the app's policy
    ('running', 'no', False),
    ('dead', 'always', True),         # no policy is ever set on it
])
def test_drift_of_a_stopped_apps_containers(state, policy, current):
    doc = app_document()
    found = container(doc, state=state, policy=policy)
    assert local_report.drift(doc, found, inspect_data(policy), (POLICY, 'no')) == \
        {'definition_current': True, 'restart_policy_current': current}
