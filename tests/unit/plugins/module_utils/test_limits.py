# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process limits (module_utils/_limits.py): what the kernel lets a process receive, checked without showing values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _limits as limits
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation
from tests.unit.helpers import app_document, refused


SECRET = 's3cr3t-TOKEN-value'


def _no_secret(message, *secrets):
    for secret in (SECRET,) + secrets:
        assert secret not in message, message
        assert secret[:8] not in message, message


def test_validate_env_entry_limit_is_exact_and_counts_bytes():
    room = limits.MAX_STRING_BYTES - len('TOKEN=')
    assert validation.validate_env({'TOKEN': 'x' * room})['TOKEN'] == 'x' * room
    message = refused(validation.validate_env, {'TOKEN': 'x' * (room + 1)})
    assert message.startswith('env: ') and 'TOKEN' in message
    assert '%d bytes' % (limits.MAX_STRING_BYTES + 1) in message and str(limits.MAX_STRING_BYTES) in message
    assert 'xxxxxxxx' not in message
    # bytes, not characters: a 2-byte character counts twice
    message = refused(validation.validate_env, {'TOKEN': '\u00e9' * (room // 2 + 1)})
    assert 'TOKEN' in message and '\u00e9' not in message


def test_text_bytes_never_fails_on_lone_surrogates():
    assert limits.text_bytes('a\u00e9\ud800') == 1 + 2 + 3


def test_check_process_limits_accepts_an_ordinary_definition():
    assert limits.check_process_limits(app_document()) is None
    assert limits.check_process_limits(app_document(processes=None)) is None
    assert limits.check_process_limits(app_document(checks={'web': {'command': ['/bin/sh', '-c', 'true']}})) is None


def test_check_process_limits_refuses_nul_in_a_command():
    doc = app_document(processes={'web': 'sleep\x00 1', 'worker': 'work'})
    message = refused(limits.check_process_limits, doc)
    assert message.startswith('processes.web: ') and 'NUL' in message and 'character 6' in message


@pytest.mark.parametrize('source, field', [
    ('processes', 'processes.web'),
    ('procfile', 'procfile (process type web)'),
    ('procfile_path', 'procfile_path (process type web of the Procfile Procfile in image shop:1)'),
])
def test_check_process_limits_refuses_a_long_expanded_word_without_the_value(source, field):
    value = SECRET + 'x' * 100000
    doc = app_document(image='shop:1', process_source=source,
                       procfile_path='Procfile' if source == 'procfile_path' else None,
                       processes={'web': 'run --token=$TOKEN$TOKEN', 'worker': 'work'}, env={'TOKEN': value})
    message = refused(limits.check_process_limits, doc)
    assert message.startswith(field + ': '), message
    size = len('--token=') + 2 * len(value)
    assert 'word 2' in message and '%d bytes' % size in message and str(limits.MAX_STRING_BYTES) in message
    _no_secret(message, 'xxxxxxxx')


def test_check_process_limits_word_limit_is_exact():
    half = limits.MAX_STRING_BYTES // 2
    for extra, accepted in ((0, True), (1, False)):
        # two values that fit as env entries make one word of exactly the limit (or one byte more)
        doc = app_document(processes={'web': 'run $A$B', 'worker': 'work'},
                           env={'A': 'x' * half, 'B': 'x' * (limits.MAX_STRING_BYTES - half + extra)})
        if accepted:
            assert limits.check_process_limits(doc) is None
        else:
            assert refused(limits.check_process_limits, doc).startswith('processes.web: word 2 ')


def test_check_process_limits_counts_dyno_with_the_longest_index():
    # a word that holds $DYNO fits for web.1 but not for web.999999999: refused, so scaling up never breaks it
    value = 'x' * (limits.MAX_STRING_BYTES - len('web.1'))
    doc = app_document(processes={'web': 'run $PAD$DYNO', 'worker': 'work'}, env={'PAD': value})
    assert specs.build_spec(doc, 'no', 'web', 1)['command'][1] == value + 'web.1'
    assert refused(limits.check_process_limits, doc).startswith('processes.web: word 2 ')


def test_check_process_limits_refuses_a_too_long_total_without_values():
    # every word is within its own limit, all of them together are not
    value = SECRET + 'y' * 100000
    doc = app_document(processes={'web': 'run' + ' $TOKEN' * 11, 'worker': 'work'}, env={'TOKEN': value})
    message = refused(limits.check_process_limits, doc)
    assert message.startswith('processes.web: ') and 'process type web' in message
    assert '12 words' in message and str(limits.MAX_PROCESS_BYTES) in message and '1 MiB' in message
    _no_secret(message, 'yyyyyyyy')
    # the worker does not use it: it alone would be fine
    doc['processes']['web'] = 'run'
    assert limits.check_process_limits(doc) is None


def test_check_process_limits_total_of_the_environment_names_env():
    env = dict(('K%d' % number, SECRET + 'z' * 120000) for number in range(9))
    for processes in (None, {'web': 'run', 'worker': 'work'}):
        message = refused(limits.check_process_limits, app_document(processes=processes, env=env))
        assert message.startswith('env: ') and 'the environment (' in message and 'process type web' in message
        _no_secret(message, 'zzzzzzzz')
    # 8 of them fit
    env.pop('K0')
    assert limits.check_process_limits(app_document(env=env)) is None


def test_check_process_limits_total_is_counted_like_the_kernel():
    # many empty words: 1 byte each but 9 with their pointer
    doc = app_document(env={}, processes={'web': 'run' + " ''" * (limits.MAX_PROCESS_BYTES // 9), 'worker': 'w'})
    assert refused(limits.check_process_limits, doc).startswith('processes.web: ')
    doc['processes']['web'] = 'run' + " ''" * (limits.MAX_PROCESS_BYTES // 10)
    assert limits.check_process_limits(doc) is None


def test_check_process_limits_checks_the_check_command_with_the_env():
    env = {'TOKEN': SECRET + 'q' * 120000}
    doc = app_document(env=env, checks={'worker': {'command': ['check'] + ['w' * 120000] * 8}})
    message = refused(limits.check_process_limits, doc)
    assert message.startswith('checks.worker.command: ') and 'the check command' in message
    _no_secret(message, 'qqqqqqqq', 'wwwwwwww')
    doc['checks'] = {'worker': {'command': ['check', 'a\x00b']}}
    assert refused(limits.check_process_limits, doc).startswith('checks.worker.command: word 2 ')
    doc['checks'] = {'worker': {'command': ['check', 'w' * (limits.MAX_STRING_BYTES + 1)]}}
    assert refused(limits.check_process_limits, doc).startswith('checks.worker.command: word 2 ')


def test_check_process_limits_refuses_an_env_entry_of_an_old_document():
    doc = app_document(env={'TOKEN': SECRET + 'x' * limits.MAX_STRING_BYTES})
    message = refused(limits.check_process_limits, doc)
    assert message.startswith('env: ') and 'TOKEN' in message
    _no_secret(message, 'xxxxxxxx')


def test_check_process_limits_keeps_the_syntax_errors_of_split_command():
    doc = app_document(process_source='procfile', processes={'web': "sleep 'unbalanced", 'worker': 'w'})
    assert refused(limits.check_process_limits, doc).startswith('procfile (process type web): unterminated')
