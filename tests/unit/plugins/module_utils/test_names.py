# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule and one text per kind of name (module_utils/_names.py), used everywhere names are checked."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _names as names, _parsers as parsers, _validation as validation
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import check_app_name


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
    with pytest.raises(ValidationError) as caught:
        check(bad)
    assert rule in str(caught.value) and '\n' not in str(caught.value)


def test_the_predicates():
    assert not names.is_app_name('a' * 64) and names.is_app_name('a' * 63)
    assert names.is_process_type('w' * 63) and not names.is_process_type('w-')
    assert names.is_env_key('_A1') and not names.is_env_key('A-B')
