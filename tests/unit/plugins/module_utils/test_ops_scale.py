# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_scale (module_utils/_ops_scale.py): its parameters, and the release type it never scales up."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_scale as ops_scale
from tests.unit.helpers import app_document, refused


def test_validate_scale_params():
    assert ops_scale.validate_scale_params('demo', None) is None
    assert ops_scale.validate_scale_params('demo', {'web': '2', 'worker': 0}) == {'web': 2, 'worker': 0}
    assert ops_scale.validate_scale_params('demo', {}) == {}


@pytest.mark.parametrize('name, scale, prefix', [
    ('Demo', {'web': 1}, 'app: '),
    ('', None, 'app: '),
    ('demo', {'web': -1}, 'scale.web: '),
    ('demo', {'web': '-1'}, 'scale.web: '),
    ('demo', {'web': 'two'}, 'scale.web: '),
    ('demo', {'web': 1.5}, 'scale.web: '),
    ('demo', {'web': True}, 'scale.web: '),
    ('demo', {'Web': 1}, 'scale: '),
    ('demo', {'web_1': 1}, 'scale: '),
    ('demo', ['web'], 'scale: '),
])
def test_validate_scale_params_errors(name, scale, prefix):
    message = refused(ops_scale.validate_scale_params, name, scale)
    assert message.startswith(prefix)


def test_bug_validate_scale_params_refuses_trailing_newlines():
    refused(ops_scale.validate_scale_params, 'demo', {'web\n': 1})


# -- the release type: the command of the release phase, never a process -----------------------------------------

@pytest.mark.parametrize('processes', [{'web': 'server', 'release': 'rake db:migrate'}, {'web': 'server'}])
def test_scaling_release_above_0_is_refused(processes):
    doc = app_document(processes=processes, formation={'web': 1})
    message = refused(ops_scale.apply_scale, doc, {'web': 2, 'release': 1})
    assert message.startswith('scale.release: release is the command of the release phase')
    assert 'cannot be scaled above 0' in message
    assert doc['formation'] == {'web': 1}, 'nothing changed'
    assert refused(ops_scale.apply_scale, doc, {'release': 1}, field='apps[0].scale').startswith(
        'apps[0].scale.release: ')


def test_scaling_release_to_0_is_accepted():
    doc = app_document(processes={'web': 'server', 'release': 'rake db:migrate'}, formation={'web': 1})
    assert ops_scale.apply_scale(doc, {'release': 0, 'web': 2}) == {'web': {'before': 1, 'after': 2}}
    assert doc['formation'] == {'web': 2, 'release': 0}
    undefined = app_document(processes={'web': 'server'}, formation={'web': 1})
    assert ops_scale.apply_scale(undefined, {'release': 0}) == {}
    assert undefined['formation'] == {'web': 1}
