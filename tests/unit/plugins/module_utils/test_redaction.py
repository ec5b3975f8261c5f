# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of redaction.py: which env values are secret, their pieces, masking of outside text, sanitized
inspect data, masked envs of results and diffs, the -vvv invocation and Ansible's masking."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import MASK, Redactor


# ---------------------------------------------------------------- which values, which pieces

@pytest.mark.parametrize('piece', ['1', 'ab', 'abc', 'true', 'False', 'YES', 'no', 'on', 'off', 'none', 'null',
                                   '8080', '12345', ''])
def test_short_numeric_and_common_pieces_are_not_masked(piece):
    assert not redaction.maskable(piece)


@pytest.mark.parametrize('piece', ['abcd', 'beta', '123456', 'truely', 'p4ss', 'a b c'])
def test_specific_pieces_are_masked(piece):
    assert redaction.maskable(piece)


def test_secret_values_follow_dokkus_allow_list():
    env = {'DYNO': 'web.1', 'PORT': '5000', 'PATH': '/bin', 'DOKKU_X': 'shown', 'DOCKER_Y': 'shown',
           'TOKEN': 'hidden', 'PATHS': 'hidden-too'}
    assert sorted(redaction.secret_values(env)) == ['hidden', 'hidden-too']
    entries = ['%s=%s' % item for item in env.items()] + ['NOVALUE', 'EQ=a=b']
    assert sorted(redaction.secret_values(entries)) == ['', 'a=b', 'hidden', 'hidden-too']
    assert redaction.secret_values(None) == [] and redaction.secret_values({}) == []


def test_pieces_of_a_multi_line_value_are_its_lines_and_words():
    found = redaction.pieces('line-one\nline-two is here')
    for piece in ('line-one\nline-two is here', 'line-one', 'line-two is here', 'line-two', 'here'):
        assert piece in found
    assert 'is' not in found, 'too short to mask'
    assert 'line-one\\nline-two is here' in found, 'JSON and Go write the newline as \\n'


def test_pieces_in_the_quoting_of_docker_json_python_and_a_shell():
    value = 'it\'s "q"\x00tail'
    found = redaction.pieces(value)
    assert 'it\'s \\"q\\"\\x00tail' in found          # Go %q (Docker's error messages)
    assert json.dumps(value)[1:-1] in found           # JSON
    assert repr(value)[1:-1] in found                 # Python
    assert shlex.quote(value)[1:-1] in found          # a shell's single quotes
    assert 'tail' in found and 'it\'s' in found


# ---------------------------------------------------------------- masking outside text

def test_a_multi_line_secret_is_masked_in_a_log_tail_cut_into_lines():
    redactor = Redactor(env={'PEM': 'line-one\nline-two'})
    log = 'ok\nline-one\nline-two\nbye'
    masked = ' | '.join(redactor.text(log).splitlines())
    assert masked == 'ok | XXXXXX | bye'
    assert ' | '.join(redactor.text(line) for line in log.splitlines()) == 'ok | XXXXXX | XXXXXX | bye'


def test_a_secret_quoted_by_docker_is_masked():
    redactor = Redactor(env={'TOKEN': 'before\x00s3cr3t-after'})
    message = 'environment variable value can\'t contain null(\\x00): "TOKEN=before\\x00s3cr3t-after"'
    assert redactor.text(message) == 'environment variable value can\'t contain null(\\x00): "TOKEN=XXXXXX"'


def test_each_word_of_a_secret_is_masked_where_field_splitting_put_it():
    redactor = Redactor(env={'SECRET': 'alpha beta'})
    assert redactor.text('sh -c sleep alpha beta') == 'sh -c sleep XXXXXX'
    assert redactor.text('beta, then alpha') == 'XXXXXX, then XXXXXX'
    assert redactor.data(['sh', '-c', 'sleep 3600', 'alpha', 'beta']) == ['sh', '-c', 'sleep 3600', MASK, MASK]


def test_short_values_do_not_garble_text():
    redactor = Redactor(env={'WORKERS': '1', 'DEBUG': 'true', 'ROLE': 'web', 'DB_PORT': '5432'})
    text = 'shop.web.1 true listening on 5432'
    assert not redactor
    assert redactor.text(text) == text


def test_public_names_are_kept_whole():
    redactor = Redactor(env={'APP_NAME': 'shop', 'KIND': 'worker', 'IMG': 'shop:1.4', 'OTHER': 'myshop-x'},
                        public=['myshop', 'shop', 'worker', 'shop:1.4'])
    assert redactor.text('Conflict: /myshop.worker.1 is in use (shop:1.4)') == \
        'Conflict: /myshop.worker.1 is in use (shop:1.4)'
    # a secret that runs past a public name is masked, the public name does not cut it short
    assert redactor.text('token myshop-x here') == 'token XXXXXX here'


def test_a_public_name_never_hides_a_longer_overlapping_secret():
    redactor = Redactor(env={'A': 'shop', 'B': 'hopsecret'}, public=['myshop'])
    assert redactor.text('myshopsecret') == 'mysXXXXXX'


def test_longest_piece_first():
    redactor = Redactor(env={'A': 'abcd', 'B': 'abcdefgh'})
    assert redactor.text('abcdefgh abcd xabcdx') == 'XXXXXX XXXXXX xXXXXXXx'


def test_data_returns_a_copy_and_masks_keys_and_values():
    redactor = Redactor(env={'A': 'sekrit-1'})
    data = {'sekrit-1': ['x sekrit-1', 3, None, {'k': ('sekrit-1',)}]}
    before = copy.deepcopy(data)
    assert redactor.data(data) == {MASK: ['x ' + MASK, 3, None, {'k': [MASK]}]}
    assert data == before
    empty = Redactor()
    copied = empty.data(data)
    assert copied == data and copied is not data


def test_values_added_later_are_masked_too():
    redactor = Redactor()
    assert redactor.text('one sekrit-1') == 'one sekrit-1'
    redactor.add_env({'A': 'sekrit-1'})
    assert redactor.text('one sekrit-1') == 'one XXXXXX'


_alphabet = st.sampled_from(list('abcXYZ019 -_=:/@\'"\\\n\t\x00$%'))
_values = st.text(alphabet=_alphabet, min_size=1, max_size=24)


def _shapes(value):
    """The shapes a value takes in text written by Docker, a shell, JSON, Python or a log tail."""
    yield value
    yield ' | '.join(value.splitlines())
    yield ' '.join(value.split())
    yield json.dumps({'v': value})
    yield json.dumps(value, ensure_ascii=False)
    yield '"%s"' % redaction._go_quote('KEY=' + value)
    yield repr(value)
    yield shlex.quote(value)


@settings(max_examples=300, deadline=None)
@given(_values, st.text(alphabet=_alphabet, max_size=12))
def test_no_maskable_piece_of_a_secret_survives_in_any_shape(value, noise):
    redactor = Redactor(env={'SECRET': value})
    for shape in _shapes(value):
        masked = redactor.text(noise + shape + noise)
        for word in set(value.splitlines()) | set(redaction._SEPARATORS.split(value)) | set([value]):
            word = word.strip()
            if redaction.maskable(word):
                assert word not in masked.replace(MASK, '\x01'), (value, shape, masked)


# ---------------------------------------------------------------- sanitize_inspect (ps:inspect)

def _inspect():
    return {
        'Id': 'c0ffee',
        'Name': '/demo.web.1',
        'Path': '/app/server',
        'Args': ['--token', 'supersecret', '--db=postgres://u:pw@db/app', 'ab'],
        'State': {'Status': 'running', 'Running': True},
        'Config': {
            'Env': [
                'DYNO=web.1',
                'PORT=5000',
                'PATH=/usr/local/bin:/usr/bin',
                'DOKKU_APP_TYPE=herokuish',
                'DOCKER_HOST_IP=10.0.0.1',
                'SECRET=supersecret',
                'DATABASE_URL=postgres://u:pw@db/app',
                'SHORT=ab',
                'EMPTY=',
                'WITH_EQUALS=a=b=c',
                'NOVALUE',
                'APP=demo',
            ],
            'Cmd': ['/app/server', '--token', 'supersecret'],
            'Entrypoint': None,
            'Image': 'sha256:' + 'a' * 64,
            'Labels': {'com.dokku.app-name': 'demo', 'note': 'uses supersecret inside'},
        },
        'HostConfig': {'RestartPolicy': {'Name': 'on-failure', 'MaximumRetryCount': 10}, 'Init': True},
        'RestartCount': 0,
    }


def test_sanitize_inspect_masks_env_values_except_the_allow_list():
    result = redaction.sanitize_inspect(_inspect(), public=['demo'])
    assert result['Config']['Env'] == [
        'DYNO=web.1',
        'PORT=5000',
        'PATH=/usr/local/bin:/usr/bin',
        'DOKKU_APP_TYPE=herokuish',
        'DOCKER_HOST_IP=10.0.0.1',
        'SECRET=XXXXXX',
        'DATABASE_URL=XXXXXX',
        'SHORT=XXXXXX',
        'EMPTY=XXXXXX',
        'WITH_EQUALS=XXXXXX',
        'NOVALUE=XXXXXX',
        'APP=XXXXXX',
    ]


def test_sanitize_inspect_masks_secret_values_found_elsewhere_but_not_the_apps_names():
    result = redaction.sanitize_inspect(_inspect(), public=['demo'])
    assert result['Args'] == ['--token', MASK, '--db=' + MASK, 'ab']   # 'ab' is too short to mask in text
    assert result['Config']['Cmd'] == ['/app/server', '--token', MASK]
    assert result['Config']['Labels'] == {'com.dokku.app-name': 'demo', 'note': 'uses XXXXXX inside'}
    assert result['Name'] == '/demo.web.1', 'an env value equal to the app name does not garble its names'
    assert 'supersecret' not in json.dumps(result) and 'pw@db' not in json.dumps(result)
    for key in ('Id', 'Path', 'State', 'HostConfig', 'RestartCount'):
        assert result[key] == _inspect()[key]
    assert result['Config']['Entrypoint'] is None and result['Config']['Image'] == _inspect()['Config']['Image']


def test_sanitize_inspect_with_the_runs_redactor_and_without_touching_its_input():
    data = _inspect()
    data['Args'].append('other-app-secret')
    before = copy.deepcopy(data)
    result = redaction.sanitize_inspect(data, Redactor(env={'X': 'other-app-secret'}))
    assert data == before and result is not data and result['Config'] is not data['Config']
    assert result['Args'][-1] == MASK


def test_sanitize_inspect_allow_listed_values_are_never_masked_elsewhere():
    data = {'Config': {'Env': ['PATH=/usr/bin', 'DOKKU_X=visible'], 'Cmd': ['/usr/bin/run', 'visible']}}
    assert redaction.sanitize_inspect(data) == data


@pytest.mark.parametrize('data', [{}, {'Config': None}, {'Config': {}}, {'Config': {'Env': []}, 'Args': ['x']},
                                  {'Config': {'Env': None}, 'Args': ['x']}])
def test_sanitize_inspect_without_env(data):
    assert redaction.sanitize_inspect(data) == data


@pytest.mark.parametrize('key', ['DYNO', 'PORT', 'PATH', 'DOKKU_', 'DOKKU_LETSENCRYPT', 'DOCKER_X'])
def test_sanitize_inspect_allow_list(key):
    assert redaction.sanitize_inspect({'Config': {'Env': ['%s=value' % key]}})['Config']['Env'] == ['%s=value' % key]


@pytest.mark.parametrize('key', ['dyno', 'PATHS', 'MY_PATH', 'DOKKU', 'XDOKKU_A', 'docker_x', 'PORT2'])
def test_sanitize_inspect_near_misses_are_masked(key):
    assert redaction.sanitize_inspect({'Config': {'Env': ['%s=value' % key]}})['Config']['Env'] == ['%s=XXXXXX' % key]


# ---------------------------------------------------------------- masked_env (results and diffs)

def test_masked_env_without_comparison():
    assert redaction.masked_env({'A': '1', 'B': 'secret'}) == {'A': MASK, 'B': MASK}
    assert redaction.masked_env(None) == {} and redaction.masked_env({}) == {}


def test_masked_env_marks_added_and_changed():
    env = {'SAME': 'v', 'CHANGED': 'new-secret', 'ADDED': 'added-secret'}
    other = {'SAME': 'v', 'CHANGED': 'old-secret', 'REMOVED': 'gone'}
    assert redaction.masked_env(env, other) == {'SAME': MASK, 'CHANGED': MASK + ' (changed)',
                                                'ADDED': MASK + ' (added)'}
    assert redaction.masked_env(env, {}) == dict((key, MASK + ' (added)') for key in env)


# ---------------------------------------------------------------- -vvv invocation and Ansible's masking

class _Module(object):
    def __init__(self, values):
        self.no_log_values = set(values)


def test_invocation_masks_env_values_at_the_top_and_in_app_declarations():
    params = {'name': 'shop', 'env': {'A': '1', 'B': 'sekrit'},
              'apps': [{'name': 'a', 'env': {'C': 'other'}}, {'name': 'b'}, 'junk'], 'state_dir': '/x'}
    before = copy.deepcopy(params)
    args, envs = redaction.invocation(params)
    assert params == before, 'the module parameters themselves are not changed'
    assert args['env'] == {'A': MASK, 'B': MASK}
    assert args['apps'] == [{'name': 'a', 'env': {'C': MASK}}, {'name': 'b'}, 'junk']
    assert args['name'] == 'shop' and args['state_dir'] == '/x'
    assert envs == [{'A': '1', 'B': 'sekrit'}, {'C': 'other'}]
    assert 'sekrit' not in json.dumps(args) and 'other' not in json.dumps(args)


def test_invocation_without_env():
    args, envs = redaction.invocation({'name': 'shop', 'env': None, 'apps': None})
    assert envs == [] and args == {'name': 'shop', 'env': None, 'apps': None}


def test_env_values_are_taken_out_of_ansibles_substring_masking_and_nothing_else():
    module = _Module(['1', 'sekrit', 'vault-password', 'other'])
    redaction.release_from_ansible_masking(module, [{'A': '1', 'B': 'sekrit', 'C': None}, {'D': 'other'}])
    assert module.no_log_values == set(['vault-password'])
