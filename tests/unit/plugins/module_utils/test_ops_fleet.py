# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of fleet.py's validation of app declarations (pure; the converging is tested against Docker)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_fleet as ops_fleet
from tests.unit.helpers import raised, refused


def declaration(**extra):
    base = {'name': 'demo', 'image': 'busybox:latest', 'processes': {'web': 'run'}}
    base.update(extra)
    return base


def test_a_declaration_is_normalised():
    items, workers = ops_fleet.validate_fleet_params({'apps': [declaration(scale={'web': 2})], 'parallel': 3})
    assert workers == 3
    item = items[0]
    assert (item.name, item.state, item.deploy, item.scale) == ('demo', 'started', True, {'web': 2})
    assert item.values['processes'] == {'web': 'run'}


@pytest.mark.parametrize('deploy, state, expected', [(None, 'started', True), (True, 'stopped', True),
                                                     (False, 'started', False), (False, 'stopped', False),
                                                     (None, 'absent', True)])
def test_deploy_defaults_to_true(deploy, state, expected):
    assert ops_fleet.validate_declaration(declaration(deploy=deploy, state=state), 0).deploy is expected


@pytest.mark.parametrize('extra, field, rule', [
    ({'deploy': False, 'state': 'absent'}, 'apps[2].deploy', 'false cannot be combined with state absent'),
    ({'deploy': 'yes'}, 'apps[2].deploy', "'yes' is not a boolean"),
    ({'state': 'running'}, 'apps[2].state', "'running' must be one of started, stopped, absent"),
    ({'colour': 'blue'}, 'apps[2]', 'unknown key(s) colour'),
])
def test_bad_declarations_name_the_field(extra, field, rule):
    error = raised(ValidationError, ops_fleet.validate_declaration, declaration(**extra), 2)
    assert error.details['field'] == field
    assert rule in error.details['rule']


def test_an_app_declared_twice_is_refused():
    message = refused(ops_fleet.validate_fleet_params, {'apps': [declaration(), declaration()]})
    assert message.startswith('apps[1].name: ')
    assert 'declared twice' in message
