# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule and one text per kind of name (module_utils/_names.py), used everywhere names are checked."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _names as names
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import check_app_name
from tests.unit.helpers import refused


@pytest.mark.parametrize('rule, words', [
    (names.APP_NAME_RULE, ['at most 63 characters', 'lowercase letters, digits, dots and dashes',
                           'starting with a letter or a digit', names.APP_NAME_PATTERN]),
    (names.PROCESS_TYPE_RULE, ['at most 63 characters', 'lowercase letters, digits and dashes',
                               'starting and ending with a letter or a digit', names.PROCESS_TYPE_PATTERN]),
    (names.ENV_KEY_RULE, ['letters, digits and underscores', 'not starting with a digit', names.ENV_KEY_PATTERN]),
])
def test_every_rule_is_said_in_words_and_as_the_pattern(rule, words):
    for word in words:
        assert word in rule


@pytest.mark.parametrize('check, bad, rule', [
    (lambda value: names.validate_app_name(value, 'name'), 'UPPER', names.APP_NAME_RULE),
    (lambda value: names.validate_app_name(value, 'name'), 'a' * 64, names.APP_NAME_RULE),
    (lambda value: names.validate_app_name(value, 'apps'), '-x', names.APP_NAME_RULE),
    (check_app_name, '../x', names.APP_NAME_RULE),
    (lambda value: names.validate_process_type(value, 'scale'), 'w' * 64, names.PROCESS_TYPE_RULE),
    (lambda value: validation.validate_formation({value: 1}, 'scale'), 'Web', names.PROCESS_TYPE_RULE),
    (lambda value: parsers.parse_procfile('%s: sleep 1\n' % value, source='procfile'), 'web_1',
     names.PROCESS_TYPE_RULE),
    (lambda value: parsers.parse_dokku_scale('%s=1\n' % value, source='DOKKU_SCALE'), 'w' * 64,
     names.PROCESS_TYPE_RULE),
    (lambda value: validation.validate_env({value: 'x'}, 'env'), '1ABC', names.ENV_KEY_RULE),
])
def test_every_place_that_checks_a_name_says_the_same_rule(check, bad, rule):
    assert rule in refused(check, bad)


def test_the_predicates():
    assert not names.is_app_name('a' * 64) and names.is_app_name('a' * 63)
    assert names.is_process_type('w' * 63) and not names.is_process_type('w-')
    assert names.is_env_key('_A1') and not names.is_env_key('A-B')


SPEC_APP_RE = re.compile(r'[a-z0-9][a-z0-9.-]*')          # SPEC 2, used with fullmatch


SPEC_TYPE_RE = re.compile(r'[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?')


FAST = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize('name', ['a', '0', 'my-app', 'app.v2', 'a1-b2.c3', 'x' * 63, '9lives'])
def test_app_name_valid(name):
    assert names.validate_app_name(name) == name


@pytest.mark.parametrize('name', ['', 'Demo', 'APP', '-app', '.app', 'my_app', 'my/app', 'my app', ' app', 'app ',
                                  'x' * 64, u'caf\u00e9', None, 5, ['app']])
def test_app_name_invalid(name):
    message = refused(names.validate_app_name, name, 'name')
    assert message.startswith('name: ')


def test_app_name_message_names_the_rule():
    message = refused(names.validate_app_name, 'Bad_Name', 'app')
    assert message.startswith('app: ')
    assert names.APP_NAME_PATTERN in message
    assert '63' in message


@FAST
@given(st.text(alphabet='abcXYZ019.-_/ ', max_size=70))
def test_app_name_property_matches_spec_rule(name):
    ok = len(name) <= 63 and SPEC_APP_RE.fullmatch(name) is not None
    if ok:
        assert names.validate_app_name(name) == name
    else:
        refused(names.validate_app_name, name)


@pytest.mark.parametrize('ptype', ['web', 'worker', 'w', '1', 'clock-2', 'a' * 63, 'a-b-c', '0x'])
def test_process_type_valid(ptype):
    assert names.validate_process_type(ptype) == ptype


@pytest.mark.parametrize('ptype', ['', 'Web', '-web', 'web-', 'we_b', 'web.1', 'a' * 64, 'we b', None, 3])
def test_process_type_invalid(ptype):
    message = refused(names.validate_process_type, ptype, 'scale')
    assert message.startswith('scale: ')
    assert 'DNS label' in message


@FAST
@given(st.text(alphabet='abWZ09-_.', max_size=66))
def test_process_type_property_matches_spec_rule(ptype):
    if SPEC_TYPE_RE.fullmatch(ptype):
        assert names.validate_process_type(ptype) == ptype
    else:
        refused(names.validate_process_type, ptype)


@pytest.mark.parametrize('name', ['demo\n', 'a\n'])
def test_bug_app_name_with_trailing_newline_is_refused(name):
    refused(names.validate_app_name, name)


def test_bug_process_type_with_trailing_newline_is_refused():
    refused(names.validate_process_type, 'web\n')


@FAST
@given(st.text(alphabet='abc019.-\n', max_size=10))
def test_bug_app_name_property_with_newlines(name):
    ok = len(name) <= 63 and SPEC_APP_RE.fullmatch(name) is not None
    if ok:
        assert names.validate_app_name(name) == name
    else:
        refused(names.validate_app_name, name)


def test_ordered_types_web_first():
    assert names.ordered_types(['worker', 'web', 'clock']) == ['web', 'clock', 'worker']
    assert names.ordered_types({'b', 'a'}) == ['a', 'b']
    assert names.ordered_types(['web']) == ['web']
    assert names.ordered_types([]) == []
    assert names.ordered_types(['web', 'web', 'a']) == ['web', 'a']
