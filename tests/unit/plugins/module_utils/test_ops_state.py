# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_state (module_utils/_ops_state.py): its parameters and parallel."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_state as ops_state
from tests.unit.helpers import refused


def state(**params):
    base = {'app': None, 'apps': None, 'all': False, 'state': 'started', 'process_type': None, 'parallel': 1}
    base.update(params)
    return ops_state.validate_state_params(base)


@pytest.mark.parametrize('parallel, workers', [(1, 1), (0, 1), (None, 1), (4, 4)])
def test_parallel(parallel, workers):
    assert state(app='demo', parallel=parallel)[3] == workers


def test_parallel_minus_one_is_one_per_cpu(monkeypatch):
    monkeypatch.setattr(ops_state.os, 'cpu_count', lambda: 6)
    assert state(all=True, parallel=-1)[3] == 6


@pytest.mark.parametrize('params, field', [
    ({'app': 'demo', 'parallel': -2}, 'parallel'),
    ({'app': 'demo', 'parallel': True}, 'parallel'),
    ({}, 'app'),
    ({'app': 'Bad'}, 'app'),
    ({'apps': ['demo', 'x_y']}, 'apps'),
    ({'app': 'demo', 'process_type': 'web'}, 'process_type'),
    ({'apps': ['a', 'b'], 'state': 'restarted', 'process_type': 'web'}, 'process_type'),
    ({'all': True, 'state': 'restarted', 'process_type': 'web'}, 'process_type'),
    ({'app': 'demo', 'state': 'restarted', 'process_type': 'Web'}, 'process_type'),
    ({'app': 'demo', 'state': 'paused'}, 'state'),
])
def test_state_refusals_name_the_field(params, field):
    message = refused(state, **params)
    assert message.startswith(field + ':')


def test_state_targets():
    assert state(all=True)[0] is None
    assert state(apps=['a', 'b'])[0] == ['a', 'b']
    assert state(app='a', state='restarted', process_type='worker')[:3] == (['a'], 'restarted', 'worker')
