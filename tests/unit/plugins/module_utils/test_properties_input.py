# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based tests of everything that reads user input or files (no Docker).

test_parsers.py already shows that the Procfile / DOKKU_SCALE parsers and split_command only raise
ValidationError on arbitrary text. Here:

- every validator and every module-level parameter validator (app, scale, policy, state, fleet) given
  ARBITRARY values (any JSON-like structure, as a playbook may pass) either returns or raises ValidationError
  with a one-line message that names a field -- never another exception;
- the state store's reader given arbitrary bytes or arbitrary JSON documents either returns a document
  that passes the schema or raises StateError naming the file -- never another exception;
- the CHECKS parser only raises ValidationError;
- a state document that is a FIFO or a device is refused at once (it used to hang or read without end);
- round trips: a generated valid Procfile / DOKKU_SCALE parses back to what generated it, valid counts and
  policies are accepted and normalised idempotently.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import multiprocessing
import os

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _limits as limits
from ansible_collections.dokku_ps.docker.plugins.module_utils import _check_rules as rules
from ansible_collections.dokku_ps.docker.plugins.module_utils import _names as names
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import StateError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import APP_SCHEMA, GLOBAL_SCHEMA, validate
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_fleet as ops_fleet
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_policy as ops_policy
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_scale as ops_scale
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_state as ops_state
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import restart_policy_from_docker, restart_policy_to_docker
from tests.unit.helpers import app_document, one_line, refused

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                     st.sampled_from(['web', 'worker', '1', '-1', '2.0', ' 3 ', 'on-failure:2', 'no', '', 'true']))
ANY = st.recursive(_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(['web', 'worker', 'Web', 'A', 'DYNO'])),
                    children, max_size=4)), max_leaves=12)
NAMES = st.one_of(st.text(max_size=70), st.sampled_from(['ft-a', 'Bad_Name', 'a' * 64, '-x', 'a..b', 'ft-a\n']))
# What Ansible's argument specs let through to the module_utils: type='str' -> str, 'dict' -> dict, 'int' -> int,
# 'raw' -> anything; a missing option is None.
STR = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(['web: sleep 1', 'web: a\nweb: b', 'on-failure:2']))
_KEYS = st.one_of(st.text(max_size=8), st.sampled_from(['web', 'Web', 'DYNO']))
DICT = st.one_of(st.none(), st.dictionaries(_KEYS, ANY, max_size=4))
INT = st.one_of(st.none(), st.integers(-10 ** 6, 10 ** 6))


def _refused_properly(func, *args):
    try:
        return func(*args)
    except ValidationError as exc:
        one_line(exc)
        assert exc.details.get('field'), 'the error names a field'
        return exc


@settings(max_examples=300, deadline=None)
@given(ANY)
def test_value_validators_only_raise_validation_error(value):
    _refused_properly(names.validate_app_name, value, 'name')
    _refused_properly(names.validate_process_type, value, 'process_type')
    _refused_properly(validation.coerce_quantity, value, 'scale.web')
    _refused_properly(validation.validate_formation, value, 'scale')
    _refused_properly(validation.validate_restart_policy, value, 'restart_policy')
    _refused_properly(validation.validate_stop_timeout, value, 'stop_timeout_seconds')
    _refused_properly(validation.validate_env, value, 'env')
    _refused_properly(validation.validate_port, value, 'web_port')
    _refused_properly(validation.validate_image_reference, value, 'image')
    _refused_properly(validation.validate_procfile_path, value, 'procfile_path')
    _refused_properly(rules.validate_checks, value, 'checks')
    _refused_properly(rules.validate_checks, {'web': value}, 'checks')
    _refused_properly(rules.validate_checks, {'web': {'http': value, 'command': value}}, 'checks')
    _refused_properly(ops_state.resolve_parallel, value)


@settings(max_examples=300, deadline=None)
@given(NAMES, DICT, INT, DICT, STR, STR)
def test_app_and_scale_parameters_only_raise_validation_error(name, env, web_port, processes, procfile, image):
    params = {'name': name, 'env': env, 'web_port': web_port, 'processes': processes, 'procfile': procfile,
              'image': image}
    _refused_properly(definitions.validate_app_params, params)
    _refused_properly(ops_scale.validate_scale_params, name, processes)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), NAMES), st.one_of(st.none(), st.booleans()), STR, ANY, ANY)
def test_policy_parameters_only_raise_validation_error(app, is_global, policy, timeout, restore):
    params = {'app': app, 'global': is_global, 'restart_policy': policy, 'stop_timeout_seconds': timeout,
              'restore': restore}
    result = _refused_properly(ops_policy.validate_policy_params, params)
    if isinstance(result, dict):
        for key, value in result.items():
            assert key in ops_policy.PROPERTIES
            if value is not None and key == 'restart_policy':
                assert validation.validate_restart_policy(value) == value


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ops_state.STATES), st.one_of(st.none(), NAMES),
       st.one_of(st.none(), st.lists(NAMES, max_size=3)), st.one_of(st.none(), st.booleans()), STR, INT)
def test_state_parameters_only_raise_validation_error(state, app, apps, every, process_type, parallel):
    params = {'state': state, 'app': app, 'apps': apps, 'all': every, 'process_type': process_type,
              'parallel': parallel}
    _refused_properly(ops_state.validate_state_params, params)


_declaration = st.fixed_dictionaries({'name': NAMES, 'state': st.sampled_from(ops_fleet.APP_STATES)}, optional={
    'image': STR, 'processes': DICT, 'env': DICT, 'web_port': INT, 'scale': DICT, 'restart_policy': STR,
    'stop_timeout_seconds': ANY})


@settings(max_examples=300, deadline=None)
@given(st.lists(_declaration, max_size=3), INT)
def test_fleet_parameters_only_raise_validation_error(apps, parallel):
    result = _refused_properly(ops_fleet.validate_fleet_params, {'apps': apps, 'parallel': parallel})
    if isinstance(result, ValidationError):
        assert str(result).startswith(('apps', 'parallel')), str(result)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), ANY.map(lambda v: json.dumps(v).encode())))
def test_state_reader_only_raises_state_error(tmp_path_factory, data):
    root = tmp_path_factory.mktemp('state')
    (root / 'apps').mkdir()
    (root / 'apps' / 'ft-a.json').write_bytes(data)
    (root / 'global.json').write_bytes(data)
    for path in (root / 'apps' / 'ft-a.json', root / 'global.json'):
        path.chmod(0o600)  # as the store writes them: a looser mode is refused before the content is read
    store = StateStore(str(root))
    for read, schema in ((lambda: store.read_app('ft-a'), APP_SCHEMA), (store.read_global, GLOBAL_SCHEMA)):
        try:
            document = read()
        except StateError as exc:
            message = str(exc)
            assert '\n' not in message and str(root) in message, message
        else:
            validate(document, schema, 'again')


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary()))
def test_checks_parser_only_raises_validation_error(text):
    _refused_properly(parsers.parse_checks_file, text)


_types = st.from_regex(names.PROCESS_TYPE_PATTERN, fullmatch=True).filter(lambda t: '\n' not in t)

# texts with the characters that matter here: NUL, other control characters, $ expansions, quotes, long runs
_WILD = st.one_of(st.text(max_size=20), st.sampled_from(['\x00', 'a\x00b', '$X$X$X', '"$X"', "'", '\r\n', 'x' * 70000]))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(['X', 'TOKEN', 'A_1', 'DYNO', 'bad-key']), _WILD, max_size=3),
       st.one_of(st.none(), st.dictionaries(st.sampled_from(['web', 'worker', 'Web']), _WILD, max_size=3)),
       st.sampled_from(['processes', 'procfile', 'procfile_path']), st.one_of(st.none(), _WILD))
def test_process_limits_only_raise_validation_error(env, processes, source, check_command):
    """Validated env and processes, then the kernel's limits on the built document: only ValidationError, and
    no message ever holds an env value."""
    try:
        env = validation.validate_env(env)
        values = definitions.validate_app_params({'name': 'ft-a', 'processes': processes})
        configured = rules.validate_checks({'worker': {'command': check_command}} if check_command else None)
    except ValidationError:
        return
    doc = app_document(name='ft-a', image='x:1', env=env, processes=values.get('processes'), process_source=source,
                       procfile_path='Procfile', formation={'web': 1}, checks=configured or {})
    result = _refused_properly(limits.check_process_limits, doc)
    if isinstance(result, ValidationError):
        for value in env.values():
            if len(value) >= 8:
                assert value not in str(result)


_commands = st.text(alphabet='abcxyz019 -_/.', min_size=1, max_size=20).filter(lambda c: c.strip())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_types, _commands, min_size=1, max_size=5), st.sampled_from(['\n', '\r\n']),
       st.booleans())
def test_generated_procfiles_round_trip(processes, newline, comments):
    lines = []
    for ptype, command in processes.items():
        if comments:
            lines.append('# %s' % ptype)
        lines.append('%s: %s' % (ptype, command))
    parsed = parsers.parse_procfile(newline.join(lines) + newline)
    assert dict(parsed) == dict((ptype, command.strip()) for ptype, command in processes.items())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_types, st.integers(0, 10 ** 4), min_size=1, max_size=5))
def test_generated_dokku_scale_round_trips(formation):
    text = ''.join('%s=%d\n' % item for item in formation.items())
    assert dict(parsers.parse_dokku_scale(text)) == formation


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_types, st.one_of(st.integers(0, 999), st.integers(0, 999).map(str)), max_size=5))
def test_valid_formations_are_normalised_idempotently(scale):
    once = validation.validate_formation(scale)
    assert once == validation.validate_formation(once)
    assert all(isinstance(count, int) and count >= 0 for count in once.values())


@given(st.sampled_from(['no', 'always', 'unless-stopped', 'on-failure']) | st.integers(1, 10 ** 6).map(
    lambda n: 'on-failure:%d' % n))
def test_valid_policies_round_trip_through_docker(policy):
    assume(policy != 'on-failure')
    assert validation.validate_restart_policy(policy) == policy
    assert restart_policy_from_docker(restart_policy_to_docker(policy)) == policy


def _read_in_a_child(state_dir, queue):
    try:
        StateStore(state_dir).read_app('ft-a')
        queue.put('read')
    except StateError as exc:
        queue.put('StateError: %s' % exc)


@pytest.mark.parametrize('make', [os.mkfifo, lambda path: os.symlink('/dev/zero', path)], ids=['fifo', 'device'])
def test_state_document_that_is_not_a_regular_file_is_refused_in_time(tmp_path, make):
    """A FIFO would block open() forever and a device read without end: both are refused at once."""
    (tmp_path / 'apps').mkdir()
    make(str(tmp_path / 'apps' / 'ft-a.json'))
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_read_in_a_child, args=(str(tmp_path), queue))
    child.start()
    child.join(10)
    if child.is_alive():
        child.kill()
        child.join()
        raise AssertionError('read_app did not return within 10 s')
    outcome = queue.get(timeout=5)
    assert outcome.startswith('StateError') and 'ft-a.json' in outcome and 'regular file' in outcome, outcome


@pytest.mark.parametrize('value', [float('inf'), float('-inf'), float('nan'), 1.5])
def test_non_integral_publish_and_port_are_refused_in_one_line(value):
    """Bug 6 of docs/reliability.md: publish is type raw, so a playbook can pass .inf."""
    for func, field in ((validation.validate_publish, 'publish'), (validation.validate_port, 'web_port')):
        message = refused(func, value, field)
        assert message.startswith(field)
