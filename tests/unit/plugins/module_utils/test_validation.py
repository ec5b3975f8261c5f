# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option values (module_utils/_validation.py): counts, restart policies, stop timeouts, env, image references, Procfile paths, ports, publishing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation
from tests.unit.helpers import raised, refused


@pytest.mark.parametrize('value, expected', [(2, 2), ('2', 2), (' 3 ', 3), (0, 0), ('0', 0), (2.0, 2), (100, 100)])
def test_coerce_quantity_accepts(value, expected):
    result = validation.coerce_quantity(value, 'scale.web')
    assert result == expected
    assert isinstance(result, int) and not isinstance(result, bool)


@pytest.mark.parametrize('value', [-1, '-1', 'abc', 1.5, True, False, None, [], {}, '', '1.5', '2x'])
def test_coerce_quantity_refuses_with_field_name(value):
    error = raised(ValidationError, validation.coerce_quantity, value, 'scale.worker')
    assert str(error).startswith('scale.worker: ')
    assert error.details['field'] == 'scale.worker'


def test_coerce_quantity_negative_message_says_negative():
    assert 'negative' in refused(validation.coerce_quantity, '-1', 'scale.web')


def test_validate_formation():
    assert validation.validate_formation({'web': '2', 'worker': 0}) == {'web': 2, 'worker': 0}
    assert validation.validate_formation({}) == {}
    assert refused(validation.validate_formation, ['web']).startswith('scale: ')
    assert refused(validation.validate_formation, {'Web': 1}).startswith('scale: ')
    assert refused(validation.validate_formation, {'web': -2}).startswith('scale.web: ')
    assert refused(validation.validate_formation, {'web': 'x'}).startswith('scale.web: ')


VALID_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:1', 'on-failure:20', 'on-failure:10']


@pytest.mark.parametrize('policy', VALID_POLICIES)
def test_restart_policy_valid(policy):
    assert validation.validate_restart_policy(policy) == policy


@pytest.mark.parametrize('policy', ['bogus', 'on-failure:abc', 'on-failure:-1', 'on-failure:0', 'on-failure:',
                                    '', None, 'Always', 'on-failure:01', ' no', 'no ', 5])
def test_restart_policy_invalid(policy):
    message = refused(validation.validate_restart_policy, policy)
    assert message.startswith('restart_policy: ')
    assert 'on-failure:N' in message


@pytest.mark.parametrize('value, expected', [(0, 0), ('30', 30), (30, 30), (' 5 ', 5)])
def test_stop_timeout_valid(value, expected):
    assert validation.validate_stop_timeout(value) == expected


@pytest.mark.parametrize('value', [-1, '-1', 'abc', '', None, True, '1.5'])
def test_stop_timeout_invalid(value):
    message = refused(validation.validate_stop_timeout, value)
    assert message.startswith('stop_timeout_seconds: ')


def test_validate_env_stringifies_values():
    env = validation.validate_env({'A': 1, 'B': None, 'C': True, 'D': False, 'E': 'text', '_F': 1.5, 'lower_ok': ''})
    assert env == {'A': '1', 'B': '', 'C': 'true', 'D': 'false', 'E': 'text', '_F': '1.5', 'lower_ok': ''}
    assert validation.validate_env(None) == {}


@pytest.mark.parametrize('key', ['1A', 'A-B', 'A B', '', 'A.B', 'A=B'])
def test_validate_env_bad_keys(key):
    message = refused(validation.validate_env, {key: 'v'})
    assert message.startswith('env: ')


@pytest.mark.parametrize('key', ['DYNO', 'PORT'])
def test_validate_env_reserved_keys(key):
    message = refused(validation.validate_env, {key: '1'})
    assert key in message


@pytest.mark.parametrize('value', [{'a': 1}, [1, 2]])
def test_validate_env_refuses_structured_values_without_showing_them(value):
    message = refused(validation.validate_env, {'SECRET': value})
    assert 'SECRET' in message


def test_validate_env_not_a_dict():
    refused(validation.validate_env, ['A=1'])


def test_validate_env_error_never_shows_a_value():
    message = refused(validation.validate_env, {'OK': 'topsecret-value', 'bad key': 'other-secret'})
    assert 'topsecret-value' not in message and 'other-secret' not in message


@pytest.mark.parametrize('value, expected', [(1, 1), ('5000', 5000), (65535, 65535)])
def test_validate_port_valid(value, expected):
    assert validation.validate_port(value, 'web_port') == expected


@pytest.mark.parametrize('value', [0, 65536, -1, 'http', None, True])
def test_validate_port_invalid(value):
    assert refused(validation.validate_port, value, 'web_port').startswith('web_port: ')


def test_bug_restart_policy_with_trailing_newline_is_refused():
    refused(validation.validate_restart_policy, 'always\n')


def test_bug_env_key_with_trailing_newline_is_refused():
    refused(validation.validate_env, {'FOO\n': 'x'})


@pytest.mark.parametrize('value', [float('inf'), float('-inf'), float('nan'), 1.5])
def test_ports_refuse_non_integral_floats(value):
    for check in (lambda v: validation.validate_port(v, 'web_port'), lambda v: validation.validate_publish(v, 'publish')):
        refused(check, value)
    refused(validation.coerce_quantity, value, 'scale.web')


SECRET = 's3cr3t-TOKEN-value'


def _no_secret(message, *secrets):
    for secret in (SECRET,) + secrets:
        assert secret not in message, message
        assert secret[:8] not in message, message


@pytest.mark.parametrize('value', [SECRET + '\x00', '\x00' + SECRET, 's3cr3t\x00TOKEN', '\x00'])
def test_validate_env_refuses_nul_naming_the_key_never_the_value(value):
    message = refused(validation.validate_env, {'OK': 'fine', 'TOKEN': value})
    assert message.startswith('env: ') and 'TOKEN' in message and 'NUL' in message
    _no_secret(message, 's3cr3t', 'TOKEN-value')
    assert '\x00' not in message


@pytest.mark.parametrize('reference', ['shop:1.4.2', 'dokku-ps-test/base:latest', 'localhost:5000/a/b:c',
                                       'sha256:' + 'a' * 64, 'a' * 12, 'repo@sha256:' + 'b' * 64,
                                       '[::1]:5000/x:y', ' shop:1 ', 'Shop:V1..2'])
def test_validate_image_reference_accepts(reference):
    assert validation.validate_image_reference(reference) == reference.strip()


@pytest.mark.parametrize('reference, what', [
    ('shop:1\x00x', 'NUL'), ('shop :1', 'whitespace'), ('shop:\t1', 'whitespace'), ('sh\nop', 'whitespace'),
    ('shop\x1b[0m', 'control character'), ('shop\x7f', 'control character'), ('shop?x=1', "'?'"),
    ('a/../containers/x', '..'), ('x/..', '..'), ('./x', '.'), ('', 'non-empty'), (None, 'non-empty'),
    (5, 'non-empty'),
])
def test_validate_image_reference_refuses(reference, what):
    message = refused(validation.validate_image_reference, reference)
    assert message.startswith('image: ') and what in message
    assert '\x00' not in message and '\x1b' not in message


def test_validate_procfile_path():
    assert validation.validate_procfile_path(' /config/Procfile ') == 'config/Procfile'
    message = refused(validation.validate_procfile_path, 'Proc\x00file')
    assert message.startswith('procfile_path: ') and 'NUL' in message and '\x00' not in message
    for value in ('/', ' ', 5):
        assert refused(validation.validate_procfile_path, value).startswith('procfile_path: ')
