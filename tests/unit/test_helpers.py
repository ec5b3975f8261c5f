# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unit tests' shared helpers (tests/unit/helpers.py): refusals read as one line, the app document factory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import APP_SCHEMA, validate
from tests.unit.helpers import app_document, app_with_app_json, raised, refused


# ---------------------------------------------------------------- refusals

def _refuse(message):
    raise ValidationError('field', message)


def _fail(error):
    raise error


def test_refused_is_the_one_line_message():
    assert refused(_refuse, 'must be a number') == 'field: must be a number'
    assert refused(_refuse, message='is empty') == 'field: is empty'


@pytest.mark.parametrize('message', ['two\nlines', 'a trailing line break\n'])
def test_a_refusal_of_more_than_one_line_fails_the_test(message):
    with pytest.raises(AssertionError, match='error messages are one line'):
        refused(_refuse, message)


def test_no_refusal_or_another_error_fails_the_test():
    with pytest.raises(pytest.fail.Exception):
        refused(lambda: None)
    with pytest.raises(DokkuPsError):
        refused(_fail, DokkuPsError('not a refusal'))
    error = raised(DokkuPsError, _fail, DokkuPsError('a failure', field='x'))
    assert str(error) == 'a failure' and error.details == {'field': 'x'}


# ---------------------------------------------------------------- app documents

def test_an_app_document_holds_every_key_of_the_schema_and_is_valid():
    doc = app_document()
    validate(copy.deepcopy(doc), APP_SCHEMA, 'app_document()')
    assert set(doc) == set(APP_SCHEMA['properties'])
    assert set(doc['properties']) == set(APP_SCHEMA['properties']['properties']['properties'])
    assert set(doc['proxy']) == set(APP_SCHEMA['properties']['proxy']['properties'])
    assert set(doc['policy_window']) == set(APP_SCHEMA['properties']['policy_window']['properties'])


def test_an_app_document_takes_changes_and_leaves_out_keys():
    doc = app_document(name='shop', formation={'web': 2}, without=['releases', 'policy_window'])
    assert doc['name'] == 'shop' and doc['formation'] == {'web': 2}
    assert 'releases' not in doc and 'policy_window' not in doc
    with pytest.raises(AssertionError, match='not keys of an app document: colour, extra'):
        app_document(colour='blue', without=['extra'])


def test_each_app_document_is_a_fresh_copy():
    first = app_document()
    first['env']['QUEUE'] = 'changed'
    first['proxy']['domains'].append('x.test')
    first['properties']['restart_policy'] = 'always'
    assert app_document() == app_document() != first


def test_an_app_with_app_json_is_valid():
    doc = app_with_app_json({'web': []}, {'web': {'quantity': 1, 'max_parallel': None}}, name='shop')
    validate(doc, APP_SCHEMA, 'app_with_app_json()')
    assert doc['name'] == 'shop' and doc['app_json']['source'] == 'app_json option'
