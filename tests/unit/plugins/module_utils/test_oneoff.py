# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes that run once (module_utils/_oneoff.py): the request, the argv it resolves to, the words of a failure,
and what an outcome shows."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from tests.unit.helpers import app_document, refused

PROCESSES = {'web': 'server --port $PORT', 'console': 'python -i $APP_MODULE', 'ps': 'echo $PS'}


def doc_with(processes=None):
    return app_document(name='shop', processes=dict(PROCESSES) if processes is None else processes)


def result(status=0, stdout='', stderr='', timed_out=False, kept=False, name='shop.run.12345'):
    return oneoff.Result(name, status, stdout, stderr, timed_out, kept)


# -- request -------------------------------------------------------------------------------------------------------

def test_the_kinds_and_phases():
    assert oneoff.KINDS == ('run', 'cron', 'release')
    assert oneoff.PHASES == ('predeploy', 'release', 'postdeploy')
    assert oneoff.RELEASE_TYPE == 'release'


def test_a_request_has_defaults_and_a_copy_of_its_env():
    env = {'A': '1'}
    req = oneoff.request(oneoff.RUN, 'echo hi', env=env)
    assert req == oneoff.Request('run', 'echo hi', {'A': '1'}, oneoff.DEFAULT_RUN_TIMEOUT, False, False, None, None,
                                 None)
    env['B'] = '2'
    assert req.env == {'A': '1'}, 'a copy'
    assert oneoff.request(oneoff.CRON, 'x', cron_id='0123456789ab', concurrency='forbid').env == {}
    release = oneoff.request(oneoff.RELEASE, None, timeout=5, phase=oneoff.PREDEPLOY)
    assert (release.kind, release.command, release.timeout, release.phase) == ('release', None, 5, 'predeploy')


@pytest.mark.parametrize('kind', ['web', 'Run', '', None, 'release-phase'])
def test_a_request_of_another_kind_is_refused(kind):
    with pytest.raises(ValueError, match='kind must be one of run, cron, release'):
        oneoff.request(kind, 'echo')


# -- argv ----------------------------------------------------------------------------------------------------------

def test_a_string_is_split_like_a_procfile_command_with_env():
    doc = doc_with()
    assert oneoff.argv(doc, 'echo $GREETING "to $WHO" ${MISSING:-x}', {'GREETING': 'hi there', 'WHO': 'you all'}) == \
        ['echo', 'hi', 'there', 'to you all', 'x']
    assert oneoff.argv(doc, "sh -c 'a && b'", {}) == ['sh', '-c', 'a && b']


def test_a_list_is_kept_word_for_word():
    doc = doc_with()
    assert oneoff.argv(doc, ['echo', '$GREETING', 'a b'], {'GREETING': 'hi'}) == ['echo', '$GREETING', 'a b']
    assert oneoff.argv(doc, ('ls',), {}) == ['ls']


def test_a_first_word_naming_a_process_type_stands_for_its_command():
    doc = doc_with()
    env = {'APP_MODULE': 'shop.main'}
    assert oneoff.argv(doc, 'console --quiet "two words"', env) == ['python', '-i', 'shop.main', '--quiet', 'two words']
    assert oneoff.argv(doc, ['console', '$X'], env) == ['python', '-i', 'shop.main', '$X']
    # the type's own command: $PORT is empty (a one-off listens nowhere) and $PS is the type
    assert oneoff.argv(doc, 'web', {'PORT': '5000'}) == ['server', '--port']
    assert oneoff.argv(doc, 'ps', {}) == ['echo', 'ps']
    # only the first word, and only a type of this app
    assert oneoff.argv(doc, 'echo console', env) == ['echo', 'console']
    assert oneoff.argv(doc, 'worker', {}) == ['worker']
    assert oneoff.argv(doc_with({}), 'console', {}) == ['console']
    assert oneoff.argv(app_document(processes=None), 'console', {}) == ['console']


def test_no_command_runs_the_images_own():
    assert oneoff.argv(doc_with(), None, {'A': 'b'}) is None


@pytest.mark.parametrize('command', [[], ['echo', 1], ['echo', None], ('ls', b'x')])
def test_a_bad_list_is_refused(command):
    assert refused(oneoff.argv, doc_with(), command, {}) == 'command: must be a non-empty string or list of strings'
    assert refused(oneoff.argv, doc_with(), command, {}, field='cron.0.command').startswith('cron.0.command: ')


@pytest.mark.parametrize('command', ['', '   ', '# only a comment', "echo 'open", 'echo "open', 'echo \\'])
def test_a_string_that_splits_badly_is_refused_naming_the_field(command):
    assert refused(oneoff.argv, doc_with(), command, {}).startswith('command: ')
    assert refused(oneoff.argv, doc_with(), command, {}, field='scripts').startswith('scripts: ')


def test_a_refusal_never_shows_an_env_value():
    message = refused(oneoff.argv, doc_with(), "echo $SECRET '", {'SECRET': 'hunter2-secret'})
    assert 'hunter2-secret' not in message


# -- tail, failure, outcome ------------------------------------------------------------------------------------------

def test_tail_keeps_the_last_lines():
    text = ''.join('line %d\n' % n for n in range(30))
    assert oneoff.tail(text) == ['line %d' % n for n in range(10, 30)]
    assert oneoff.tail(text, 2) == ['line 28', 'line 29']
    assert oneoff.tail('a\nb') == ['a', 'b']
    assert oneoff.tail('') == [] and oneoff.tail(None) == []


def test_a_failure_names_the_exit_status_and_the_last_output():
    found = result(status=3, stdout='migrating\nno such table\n', stderr='Traceback\nError: boom\n')
    assert oneoff.failure('shop', 'the predeploy command of release 3', found) == (
        'app shop: the predeploy command of release 3 exited with status 3; its last output: migrating | '
        'no such table | Traceback | Error: boom')
    # stdout without its last line break still ends a line of its own
    assert oneoff.failure('shop', 'x', result(status=1, stdout='out', stderr='err')).endswith('output: out | err')


def test_a_failure_shows_only_the_last_lines():
    found = result(status=1, stdout=''.join('%d\n' % n for n in range(50)))
    message = oneoff.failure('shop', 'x', found)
    assert message.endswith('its last output: %s' % ' | '.join(str(n) for n in range(30, 50)))
    assert '| 29 |' not in message and '\n' not in message


def test_a_failure_at_the_time_limit_and_one_without_output():
    stopped = result(status=None, stdout='still working\n', timed_out=True)
    assert oneoff.failure('shop', 'the release command of release 2', stopped, timeout=60) == (
        'app shop: the release command of release 2 did not finish within 60 s and was stopped; its last output: '
        'still working')
    assert oneoff.failure('shop', 'the postdeploy command of release 1', result(status=137)) == (
        'app shop: the postdeploy command of release 1 exited with status 137; it wrote no output')
    assert oneoff.failure('shop', 'x', result(status=2, stderr='only err')).endswith('its last output: only err')


def test_outcome_shows_every_fact_of_a_result():
    found = result(status=0, stdout='one\ntwo\n', stderr='warn\n', kept=True)
    assert oneoff.outcome(found) == {
        'container': 'shop.run.12345', 'rc': 0, 'stdout': 'one\ntwo\n', 'stderr': 'warn\n',
        'stdout_lines': ['one', 'two'], 'stderr_lines': ['warn'], 'timed_out': False, 'kept': True}
    detached = oneoff.outcome(result(status=None))
    assert detached['rc'] is None and detached['stdout_lines'] == [] and detached['stderr_lines'] == []
