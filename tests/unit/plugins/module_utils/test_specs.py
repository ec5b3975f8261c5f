# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container specs (module_utils/_specs.py): names, labels, the spec of a container and its hash, formations, the kernel limits of a process."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation


IMAGE_ID = 'sha256:' + 'a' * 64


OTHER_IMAGE_ID = 'sha256:' + 'b' * 64


FAST = settings(max_examples=200, deadline=None)


def refused(func, *args, **kwargs):
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert '\n' not in message, 'error messages are one line: %r' % message
    return message


VALID_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:1', 'on-failure:20', 'on-failure:10']


def test_container_name_and_parse():
    assert specs.container_name('demo', 'web', 1) == 'demo.web.1'
    assert specs.container_name('app.v2', 'worker', 12) == 'app.v2.worker.12'
    assert specs.parse_container_name('demo', 'demo.web.1') == ('web', 1, False)
    assert specs.parse_container_name('demo', '/demo.web.1') == ('web', 1, False)
    assert specs.parse_container_name('app.v2', '/app.v2.worker.12') == ('worker', 12, False)
    assert specs.parse_container_name('demo', 'demo.web.3.upcoming-0af3') == ('web', 3, True)


@pytest.mark.parametrize('name', ['other.web.1', 'demo.web', 'demo.web.x', 'demo.Web.1', 'demo.web.1.1700000000',
                                  'demo.web.1.upcoming', 'demo.web.worker.1', 'demo', 'demo.', 'demo-2.web.1',
                                  'demo.-web.1', 'demo..1', 'demox.web.1'])
def test_parse_container_name_refuses(name):
    assert specs.parse_container_name('demo', name) is None


def test_upcoming_name_shape_and_parse():
    name = specs.upcoming_name('demo', 'web', 2)
    assert re.fullmatch(r'demo\.web\.2\.upcoming-[0-9a-f]{8}', name)
    assert specs.parse_container_name('demo', name) == ('web', 2, True)
    assert specs.upcoming_name('demo', 'web', 2) != name
    assert re.search(specs.name_filter('demo'), name)
    assert re.search(specs.name_filter('demo'), '/' + name)


def _matches(app, name):
    return re.search(specs.name_filter(app), name) is not None


@pytest.mark.parametrize('name', ['demo.web.1', '/demo.web.1', 'demo.worker.12', '/demo.clock-2.3',
                                  'demo.web.1.upcoming-deadbeef', '/demo.web.1.upcoming-0'])
def test_name_filter_matches_the_apps_names(name):
    assert _matches('demo', name)


@pytest.mark.parametrize('name', ['demo.web.1.1700000000', '/demo.web.1.1700000000', 'demo.web.web.1',
                                  '/demo.web.worker.2', 'xdemo.web.1', 'demo.web.1x', 'demo.web', 'demoXweb.1',
                                  'demo.web.1.upcoming-XYZ', 'demo.web.1.upcoming-', '//demo.web.1', 'demo-2.web.1',
                                  'pre/demo.web.1', 'demo.WEB.1'])
def test_name_filter_rejects_other_names(name):
    assert not _matches('demo', name)


def test_name_filter_separates_demo_and_demo_web():
    assert _matches('demo.web', 'demo.web.web.1')
    assert not _matches('demo', 'demo.web.web.1')
    assert not _matches('demo.web', 'demo.web.1')
    assert not _matches('demo.web', '/demo.web.1.upcoming-ab')
    assert _matches('demo', '/demo.web.1.upcoming-ab')


def test_name_filter_escapes_dots_in_the_app_name():
    assert _matches('app.v2', 'app.v2.web.1')
    assert not _matches('app.v2', 'appXv2.web.1')


_apps = st.builds(lambda head, tail: head + tail, st.sampled_from('ab1'), st.text(alphabet='ab1.-', max_size=8))


_types = st.builds(lambda head, rest: head + rest, st.sampled_from('ab1'),
                   st.one_of(st.just(''), st.builds(lambda middle, tail: middle + tail,
                                                    st.text(alphabet='ab1-', max_size=4), st.sampled_from('a1'))))


@FAST
@given(_apps, _apps, _types, st.integers(min_value=1, max_value=10 ** 6), st.booleans(), st.booleans())
def test_name_filter_property(app, other_app, ptype, index, upcoming, slash):
    name = specs.upcoming_name(other_app, ptype, index) if upcoming else specs.container_name(other_app, ptype, index)
    if slash:
        name = '/' + name
    assert _matches(app, name) == (app == other_app)
    parsed = specs.parse_container_name(app, name)
    if app == other_app:
        assert parsed == (ptype, index, upcoming)


@FAST
@given(_apps, _types, st.integers(min_value=1, max_value=10 ** 6), st.booleans(), st.booleans())
def test_snapshot_filter_and_grouping_cover_every_name_of_every_app(app, ptype, index, upcoming, slash):
    """The run's snapshot (one list call for many apps) must see every container any app's own list call sees,
    and group it under that app: a container missed there could hide work from a no-op."""
    name = specs.upcoming_name(app, ptype, index) if upcoming else specs.container_name(app, ptype, index)
    if slash:
        name = '/' + name
    assert re.search(specs.ANY_APP_NAME_FILTER, name)
    assert specs.app_of_container_name(name) == app


@FAST
@given(_apps, st.text(alphabet='ab1.-/', min_size=1, max_size=16))
def test_app_of_container_name_is_the_only_app_that_parses_the_name(app, name):
    if specs.parse_container_name(app, name) is not None:
        assert specs.app_of_container_name(name) == app
    if _matches(app, name):
        assert re.search(specs.ANY_APP_NAME_FILTER, name)


@pytest.mark.parametrize('name, app', [('demo.web.1', 'demo'), ('/app.v2.worker.12', 'app.v2'),
                                       ('demo.web.1.upcoming-ab', 'demo'), ('demo.web.web.1', 'demo.web'),
                                       ('demo.web.1.upcoming-ab.3', 'demo.web.1'), ('demo.web', None),
                                       ('demo', None), ('/x.y.upcoming-0', None)])
def test_app_of_container_name(name, app):
    assert specs.app_of_container_name(name) == app


def _app(**extra):
    doc = {
        'name': 'demo',
        'image_id': IMAGE_ID,
        'processes': {'web': 'server --port $PORT', 'worker': 'work --queue $QUEUE --port=$PORT'},
        'env': {'QUEUE': 'jobs', 'ZED': 'last', 'ALPHA': 'first'},
        'web_port': 5000,
        'publish': None,
    }
    doc.update(extra)
    return doc


def test_build_spec_web():
    spec = specs.build_spec(_app(), 'on-failure:10', 'web', 1)
    assert spec['name'] == 'demo.web.1'
    assert spec['app'] == 'demo' and spec['process_type'] == 'web' and spec['index'] == 1
    assert spec['image'] == IMAGE_ID
    assert spec['command'] == ['server', '--port', '5000']
    assert spec['env'] == ['ALPHA=first', 'DYNO=web.1', 'PORT=5000', 'QUEUE=jobs', 'ZED=last']
    assert spec['env'] == sorted(spec['env'])
    assert spec['init'] is True
    assert spec['ports'] is None
    assert spec['restart_policy'] == 'on-failure:10'
    assert spec['labels'] == {
        'dokku': '',
        'com.dokku.app-name': 'demo',
        'com.dokku.process-type': 'web',
        'com.dokku.dyno': 'web.1',
        'com.dokku.container-type': 'deploy',
        'io.dokku-ps.spec-hash': spec['hash'],
        'io.dokku-ps.restart-policy': 'on-failure:10',
    }
    assert re.fullmatch(r'[0-9a-f]{64}', spec['hash'])


def test_build_spec_other_type_has_empty_port():
    spec = specs.build_spec(_app(), 'always', 'worker', 3)
    assert spec['name'] == 'demo.worker.3'
    assert 'PORT=' in spec['env']
    assert 'DYNO=worker.3' in spec['env']
    assert spec['command'] == ['work', '--queue', 'jobs', '--port=']
    assert spec['labels']['com.dokku.dyno'] == 'worker.3'
    assert spec['labels']['com.dokku.process-type'] == 'worker'
    assert spec['labels']['io.dokku-ps.restart-policy'] == 'always'


def test_build_spec_custom_web_port_and_publish():
    spec = specs.build_spec(_app(web_port=8080, publish='auto'), 'no', 'web', 2)
    assert 'PORT=8080' in spec['env']
    assert spec['command'] == ['server', '--port', '8080']
    assert spec['ports'] == {'container': 8080, 'host': None}
    spec = specs.build_spec(_app(publish=8000), 'no', 'web', 1)
    assert spec['ports'] == {'container': 5000, 'host': 8000}
    assert specs.build_spec(_app(publish=8000), 'no', 'worker', 1)['ports'] is None
    assert specs.build_spec(_app(publish=False), 'no', 'web', 1)['ports'] is None


def test_build_spec_without_processes_runs_image_command():
    spec = specs.build_spec(_app(processes=None, env={}), 'no', 'web', 1)
    assert spec['command'] is None
    assert spec['env'] == ['DYNO=web.1', 'PORT=5000']
    spec = specs.build_spec(_app(processes=None, env=None), 'no', 'anything', 4)
    assert spec['command'] is None
    assert spec['env'] == ['DYNO=anything.4', 'PORT=']


def test_build_spec_app_env_cannot_override_dyno_and_port():
    spec = specs.build_spec(_app(env={'DYNO': 'x', 'PORT': '1'}), 'no', 'web', 1)
    assert 'DYNO=web.1' in spec['env'] and 'PORT=5000' in spec['env']
    assert 'DYNO=x' not in spec['env'] and 'PORT=1' not in spec['env']


def _hash(policy='on-failure:10', ptype='web', index=1, **extra):
    return specs.build_spec(_app(**extra), policy, ptype, index)['hash']


def test_spec_hash_changes_with_what_needs_a_new_container():
    base = _hash()
    assert _hash(image_id=OTHER_IMAGE_ID) != base
    assert _hash(processes={'web': 'server --other $PORT'}) != base
    assert _hash(env={'QUEUE': 'jobs', 'ZED': 'last', 'ALPHA': 'changed'}) != base
    assert _hash(env={'QUEUE': 'jobs', 'ZED': 'last', 'ALPHA': 'first', 'NEW': ''}) != base
    assert _hash(web_port=8080) != base
    assert _hash(publish='auto') != base
    assert _hash(index=2) != base


def test_spec_hash_ignores_the_restart_policy_and_is_stable():
    base = _hash()
    for policy in VALID_POLICIES:
        assert _hash(policy=policy) == base
    assert _hash() == base
    # env order in the app document does not matter
    assert _hash(env={'ALPHA': 'first', 'ZED': 'last', 'QUEUE': 'jobs'}) == base


def test_spec_hash_function_directly():
    spec = specs.build_spec(_app(), 'no', 'web', 1)
    assert specs.spec_hash(spec) == spec['hash']
    changed = dict(spec, restart_policy='always', labels={}, name='other')
    assert specs.spec_hash(changed) == spec['hash']
    assert specs.spec_hash(dict(spec, init=False)) != spec['hash']


def test_initial_formation():
    assert specs.initial_formation(None) == {'web': 1}
    assert specs.initial_formation({'web': 'a', 'worker': 'b'}) == {'web': 1, 'worker': 0}
    assert specs.initial_formation({'worker': 'b', 'clock': 'c'}) == {'worker': 0, 'clock': 0}


def test_reconcile_formation_drops_missing_types_and_reports_scaled_ones():
    formation = {'web': 2, 'worker': 3, 'idle': 0, 'old': 1}
    processes = {'web': 'a', 'worker': 'b', 'new': 'c'}
    result, dropped = specs.reconcile_formation(formation, processes)
    assert result == {'web': 2, 'worker': 3, 'new': 0}
    assert dropped == ['old']
    assert formation == {'web': 2, 'worker': 3, 'idle': 0, 'old': 1}, 'input left alone'


def test_reconcile_formation_zero_types_are_not_reported():
    result, dropped = specs.reconcile_formation({'web': 1, 'gone': 0}, {'web': 'x'})
    assert result == {'web': 1}
    assert dropped == []


def test_reconcile_formation_several_dropped_sorted():
    _result, dropped = specs.reconcile_formation({'zz': 1, 'aa': 2, 'web': 1}, {'web': 'x'})
    assert dropped == ['aa', 'zz']


def test_reconcile_formation_without_processes_keeps_everything():
    assert specs.reconcile_formation({'web': 1, 'any': 4}, None) == ({'web': 1, 'any': 4}, [])
    assert specs.reconcile_formation(None, None) == ({}, [])


def test_reconcile_formation_dokku_scale_sets_counts():
    result, dropped = specs.reconcile_formation({'web': 1, 'worker': 0}, {'web': 'a', 'worker': 'b'},
                                                {'worker': 4, 'web': 2})
    assert result == {'web': 2, 'worker': 4}
    assert dropped == []


def test_ordered_types_web_first():
    assert specs.ordered_types(['worker', 'web', 'clock']) == ['web', 'clock', 'worker']
    assert specs.ordered_types({'b', 'a'}) == ['a', 'b']
    assert specs.ordered_types(['web']) == ['web']
    assert specs.ordered_types([]) == []
    assert specs.ordered_types(['web', 'web', 'a']) == ['web', 'a']


def test_bug_parse_container_name_refuses_type_with_newline():
    assert specs.parse_container_name('demo', 'demo.web\n.1') is None


SECRET = 's3cr3t-TOKEN-value'


def _limits_doc(**extra):
    doc = _app(image='shop:1', process_source='processes', formation={'web': 1, 'worker': 0}, checks={})
    doc.update(extra)
    return doc


def _no_secret(message, *secrets):
    for secret in (SECRET,) + secrets:
        assert secret not in message, message
        assert secret[:8] not in message, message


def test_validate_env_entry_limit_is_exact_and_counts_bytes():
    room = specs.MAX_STRING_BYTES - len('TOKEN=')
    assert validation.validate_env({'TOKEN': 'x' * room})['TOKEN'] == 'x' * room
    message = refused(validation.validate_env, {'TOKEN': 'x' * (room + 1)})
    assert message.startswith('env: ') and 'TOKEN' in message
    assert '%d bytes' % (specs.MAX_STRING_BYTES + 1) in message and str(specs.MAX_STRING_BYTES) in message
    assert 'xxxxxxxx' not in message
    # bytes, not characters: a 2-byte character counts twice
    message = refused(validation.validate_env, {'TOKEN': '\u00e9' * (room // 2 + 1)})
    assert 'TOKEN' in message and '\u00e9' not in message


def test_text_bytes_never_fails_on_lone_surrogates():
    assert specs.text_bytes('a\u00e9\ud800') == 1 + 2 + 3


def test_check_process_limits_accepts_an_ordinary_definition():
    assert specs.check_process_limits(_limits_doc()) is None
    assert specs.check_process_limits(_limits_doc(processes=None)) is None
    assert specs.check_process_limits(_limits_doc(checks={'web': {'command': ['/bin/sh', '-c', 'true']}})) is None


def test_check_process_limits_refuses_nul_in_a_command():
    doc = _limits_doc(processes={'web': 'sleep\x00 1', 'worker': 'work'})
    message = refused(specs.check_process_limits, doc)
    assert message.startswith('processes.web: ') and 'NUL' in message and 'character 6' in message


@pytest.mark.parametrize('source, field', [
    ('processes', 'processes.web'),
    ('procfile', 'procfile (process type web)'),
    ('procfile_path', 'procfile_path (process type web of the Procfile Procfile in image shop:1)'),
])
def test_check_process_limits_refuses_a_long_expanded_word_without_the_value(source, field):
    value = SECRET + 'x' * 100000
    doc = _limits_doc(process_source=source, procfile_path='Procfile' if source == 'procfile_path' else None,
                      processes={'web': 'run --token=$TOKEN$TOKEN', 'worker': 'work'}, env={'TOKEN': value})
    message = refused(specs.check_process_limits, doc)
    assert message.startswith(field + ': '), message
    size = len('--token=') + 2 * len(value)
    assert 'word 2' in message and '%d bytes' % size in message and str(specs.MAX_STRING_BYTES) in message
    _no_secret(message, 'xxxxxxxx')


def test_check_process_limits_word_limit_is_exact():
    half = specs.MAX_STRING_BYTES // 2
    for extra, accepted in ((0, True), (1, False)):
        # two values that fit as env entries make one word of exactly the limit (or one byte more)
        doc = _limits_doc(processes={'web': 'run $A$B', 'worker': 'work'},
                          env={'A': 'x' * half, 'B': 'x' * (specs.MAX_STRING_BYTES - half + extra)})
        if accepted:
            assert specs.check_process_limits(doc) is None
        else:
            assert refused(specs.check_process_limits, doc).startswith('processes.web: word 2 ')


def test_check_process_limits_counts_dyno_with_the_longest_index():
    # a word that holds $DYNO fits for web.1 but not for web.999999999: refused, so scaling up never breaks it
    value = 'x' * (specs.MAX_STRING_BYTES - len('web.1'))
    doc = _limits_doc(processes={'web': 'run $PAD$DYNO', 'worker': 'work'}, env={'PAD': value})
    assert specs.build_spec(doc, 'no', 'web', 1)['command'][1] == value + 'web.1'
    assert refused(specs.check_process_limits, doc).startswith('processes.web: word 2 ')


def test_check_process_limits_refuses_a_too_long_total_without_values():
    # every word is within its own limit, all of them together are not
    value = SECRET + 'y' * 100000
    doc = _limits_doc(processes={'web': 'run' + ' $TOKEN' * 11, 'worker': 'work'}, env={'TOKEN': value})
    message = refused(specs.check_process_limits, doc)
    assert message.startswith('processes.web: ') and 'process type web' in message
    assert '12 words' in message and str(specs.MAX_PROCESS_BYTES) in message and '1 MiB' in message
    _no_secret(message, 'yyyyyyyy')
    # the worker does not use it: it alone would be fine
    doc['processes']['web'] = 'run'
    assert specs.check_process_limits(doc) is None


def test_check_process_limits_total_of_the_environment_names_env():
    env = dict(('K%d' % number, SECRET + 'z' * 120000) for number in range(9))
    for processes in (None, {'web': 'run', 'worker': 'work'}):
        message = refused(specs.check_process_limits, _limits_doc(processes=processes, env=env))
        assert message.startswith('env: ') and 'the environment (' in message and 'process type web' in message
        _no_secret(message, 'zzzzzzzz')
    # 8 of them fit
    env.pop('K0')
    assert specs.check_process_limits(_limits_doc(env=env)) is None


def test_check_process_limits_total_is_counted_like_the_kernel():
    # many empty words: 1 byte each but 9 with their pointer
    doc = _limits_doc(env={}, processes={'web': 'run' + " ''" * (specs.MAX_PROCESS_BYTES // 9), 'worker': 'w'})
    assert refused(specs.check_process_limits, doc).startswith('processes.web: ')
    doc['processes']['web'] = 'run' + " ''" * (specs.MAX_PROCESS_BYTES // 10)
    assert specs.check_process_limits(doc) is None


def test_check_process_limits_checks_the_check_command_with_the_env():
    env = {'TOKEN': SECRET + 'q' * 120000}
    doc = _limits_doc(env=env, checks={'worker': {'command': ['check'] + ['w' * 120000] * 8}})
    message = refused(specs.check_process_limits, doc)
    assert message.startswith('checks.worker.command: ') and 'the check command' in message
    _no_secret(message, 'qqqqqqqq', 'wwwwwwww')
    doc['checks'] = {'worker': {'command': ['check', 'a\x00b']}}
    assert refused(specs.check_process_limits, doc).startswith('checks.worker.command: word 2 ')
    doc['checks'] = {'worker': {'command': ['check', 'w' * (specs.MAX_STRING_BYTES + 1)]}}
    assert refused(specs.check_process_limits, doc).startswith('checks.worker.command: word 2 ')


def test_check_process_limits_refuses_an_env_entry_of_an_old_document():
    doc = _limits_doc(env={'TOKEN': SECRET + 'x' * specs.MAX_STRING_BYTES})
    message = refused(specs.check_process_limits, doc)
    assert message.startswith('env: ') and 'TOKEN' in message
    _no_secret(message, 'xxxxxxxx')


def test_check_process_limits_keeps_the_syntax_errors_of_split_command():
    doc = _limits_doc(process_source='procfile', processes={'web': "sleep 'unbalanced", 'worker': 'w'})
    assert refused(specs.check_process_limits, doc).startswith('procfile (process type web): unterminated')


# ---------------------------------------------------------------- app.json liveness -> Docker HEALTHCHECK, spec hash

# The hashes of three containers as every release before app.json computed them: an upgrade must not replace
# the containers of apps without a liveness check.
HASHES_BEFORE_APP_JSON = [
    ('web', 1, {}, 'bfa23ea7acce7c86a24be3f323dd3d6303184e25e16c17f44663b875bb4c1f68'),
    ('worker', 2, {}, '5814831bb14922d5f8067c7e862e6fcdbc353428e3b5f66e8debfdd9bdd5237c'),
    ('web', 1, {'proxy': {'enabled': True}, 'publish': 'auto'},
     '8781c71efb56265afe9fab8bc5ccda5da99fab3933e979ec28fe1d9c5972392c'),
]


def entry(check_type='liveness', name='check', **fields):
    """An app.json healthcheck entry as the app document carries it (defaults filled in)."""
    result = {'type': check_type, 'name': name, 'path': None, 'content': None, 'command': None, 'port': None,
              'attempts': 3, 'timeout': 5, 'wait': 2, 'initial_delay': 0, 'uptime': None, 'listening': False,
              'scheme': 'http'}
    result.update(fields)
    return result


def with_app_json(healthchecks=None, formation=None, **extra):
    return _app(app_json={'source': 'app_json option', 'formation': formation, 'healthchecks': healthchecks},
                **extra)


@pytest.mark.parametrize('ptype, index, extra, wanted', HASHES_BEFORE_APP_JSON)
def test_spec_hash_of_apps_without_a_liveness_check_is_the_one_before_app_json(ptype, index, extra, wanted):
    without = specs.build_spec(_app(**extra), 'on-failure:10', ptype, index)
    assert 'healthcheck' not in without and without['hash'] == wanted
    # an app.json without liveness checks (a formation, startup and readiness checks, an uptime liveness check
    # Docker cannot run) changes nothing on the container either
    for app_json in (None, {}, {'web': [entry('startup', path='/health'), entry('readiness', command=['true'])],
                                'worker': [entry('liveness', uptime=5)]}):
        doc = with_app_json(app_json, formation={'web': {'quantity': 2, 'max_parallel': 1}}, **extra)
        spec = specs.build_spec(doc, 'on-failure:10', ptype, index)
        assert 'healthcheck' not in spec and spec['hash'] == wanted, app_json
        assert spec == dict(without, labels=spec['labels']) and spec['labels'] == without['labels']


def test_a_liveness_check_is_on_the_spec_and_in_its_hash():
    base = specs.build_spec(_app(), 'no', 'web', 1)
    doc = with_app_json({'web': [entry(command=['test', '-f', '/tmp/ok'])]})
    spec = specs.build_spec(doc, 'no', 'web', 1)
    assert spec['healthcheck'] == {'Test': ['CMD', 'test', '-f', '/tmp/ok'], 'Interval': 2 * 10 ** 9,
                                   'Timeout': 5 * 10 ** 9, 'Retries': 3, 'StartPeriod': 10 ** 6}
    assert spec['hash'] != base['hash'] and spec['labels'][specs.LABEL_SPEC_HASH] == spec['hash']
    assert specs.spec_hash(spec) == spec['hash']
    changed = with_app_json({'web': [entry(command=['test', '-f', '/tmp/ok'], attempts=4)]})
    assert specs.build_spec(changed, 'no', 'web', 1)['hash'] != spec['hash'], 'a changed liveness check replaces'
    # the liveness check of web is not the worker's
    assert 'healthcheck' not in specs.build_spec(doc, 'no', 'worker', 1)
    assert specs.build_spec(doc, 'no', 'worker', 1)['hash'] == specs.build_spec(_app(), 'no', 'worker', 1)['hash']
    # the restart policy still stays out of the hash
    assert specs.build_spec(doc, 'always', 'web', 1)['hash'] == spec['hash']


def test_entry_kind_and_order():
    assert specs.entry_kind(entry(command=['true'], path='/x', listening=True)) == specs.COMMAND_CHECK
    assert specs.entry_kind(entry(listening=True, path='/x')) == specs.LISTENING_CHECK
    assert specs.entry_kind(entry(uptime=5)) == specs.UPTIME_CHECK
    assert specs.entry_kind(entry(uptime=5, path='/x')) == specs.HTTP_CHECK
    assert specs.entry_kind(entry(path='/x')) == specs.HTTP_CHECK
    assert specs.entry_kind(entry()) == specs.HTTP_CHECK, 'an entry without anything is an HTTP check of /'
    doc = with_app_json({'web': [entry('readiness', 'r1'), entry('liveness', 'l1'), entry('startup', 's1'),
                                 entry('readiness', 'r2'), entry('startup', 's2')]})
    names = [item['name'] for item in specs.app_json_checks(doc, 'web', specs.GATING_CHECK_TYPES)]
    assert names == ['s1', 's2', 'r1', 'r2']
    assert specs.app_json_checks(doc, 'worker', specs.GATING_CHECK_TYPES) == []
    assert specs.app_json_checks(_app(), 'web', specs.GATING_CHECK_TYPES) == []
    assert specs.app_json_checks(with_app_json(None), 'web', specs.GATING_CHECK_TYPES) == []


def test_check_port():
    assert specs.check_port(_app(web_port=8080), 'web') == 8080
    assert specs.check_port(_app(web_port=None), 'web') == specs.DEFAULT_WEB_PORT
    assert specs.check_port(_app(web_port=8080), 'worker') == 5000, "Dokku's port for types without PORT"
    assert specs.check_port(_app(web_port=8080), 'web', 9000) == 9000
    assert specs.check_port(_app(web_port=8080), 'worker', 9000) == 9000


def test_docker_healthcheck_durations():
    def health(**fields):
        return specs.docker_healthcheck(with_app_json({'web': [entry(command=['true'], **fields)]}), 'web')

    assert health(wait=7, timeout=3, attempts=4, initial_delay=20) == {
        'Test': ['CMD', 'true'], 'Interval': 7 * 10 ** 9, 'Timeout': 3 * 10 ** 9, 'Retries': 4,
        'StartPeriod': 20 * 10 ** 9}
    floored = health(wait=0, timeout=0, attempts=1, initial_delay=0)
    # 0 would mean "the image's value, else Docker's default" (30 s); durations are 0 or at least 1 ms
    assert floored['Interval'] == 10 ** 9 and floored['Timeout'] == 10 ** 9
    assert floored['StartPeriod'] == specs.MIN_HEALTH_DURATION and floored['Retries'] == 1
    assert specs.docker_healthcheck(_app(), 'web') is None
    assert specs.docker_healthcheck(with_app_json({'web': [entry('startup', command=['true'])]}), 'web') is None


def test_docker_healthcheck_http_and_listening_tests():
    doc = with_app_json({'web': [entry(path='/health')], 'worker': [entry(path='/up', port=8000, scheme='https')],
                         'clock': [entry(listening=True)]}, web_port=8080)
    web = specs.docker_healthcheck(doc, 'web')['Test']
    assert web == ['CMD-SHELL', "{ wget -q -O - http://127.0.0.1:8080/health || "
                                "curl -fsS http://127.0.0.1:8080/health; } >/dev/null"]
    worker = specs.docker_healthcheck(doc, 'worker')['Test'][1]
    assert 'wget -q --no-check-certificate -O - https://127.0.0.1:8000/up' in worker
    assert 'curl -fsSk https://127.0.0.1:8000/up' in worker
    clock = specs.docker_healthcheck(doc, 'clock')['Test']
    assert clock[0] == 'CMD-SHELL' and '*:1388\\ 0A) exit 0' in clock[1], 'port 5000 is 1388 in /proc/net/tcp'
    assert '/proc/net/tcp /proc/net/tcp6' in clock[1]


def test_docker_healthcheck_quotes_every_value():
    nasty = "it's $HOME `id` \"x\" *"
    doc = with_app_json({'web': [entry(path="/a'b$c", content=nasty)]})
    script = specs.docker_healthcheck(doc, 'web')['Test'][1]
    assert "'http://127.0.0.1:5000/a'\"'\"'b$c'" in script
    assert 'case "$body" in *' + "'it'\"'\"'s $HOME `id` \"x\" *'" + '*)' in script


def _run_health_script(tmp_path, script, body, client='wget', status=0):
    """Run a CMD-SHELL test with /bin/sh and a fake HTTP client on PATH that records its arguments and prints
    ``body``: what the shell makes of the quoting, without a container."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / 'body').write_bytes(body.encode('utf-8'))
    fake = bin_dir / client
    fake.write_text('#!/bin/sh\nfor arg in "$@"; do printf "%%s\\n" "$arg"; done > "%s"\ncat "%s"\nexit %d\n'
                    % (tmp_path / 'args', tmp_path / 'body', status))
    fake.chmod(0o755)
    if not (bin_dir / 'cat').exists():
        (bin_dir / 'cat').symlink_to(shutil.which('cat'))
    # nothing but the fake client and cat: no wget or curl of this host answers instead
    env = {'PATH': str(bin_dir), 'HOME': '/expanded-home'}
    done = subprocess.run(['/bin/sh', '-c', script], env=env, capture_output=True, timeout=10, check=False)
    return done.returncode, (tmp_path / 'args').read_text().splitlines()


def test_docker_healthcheck_script_runs_in_a_shell_with_every_value_literal(tmp_path):
    nasty = "it's $HOME `id` \"x\" *"
    script = specs.docker_healthcheck(with_app_json({'web': [entry(path="/a'b$c", content=nasty)]}), 'web')['Test'][1]
    code, args = _run_health_script(tmp_path, script, 'before %s\nafter' % nasty)
    assert code == 0 and args == ['-q', '-O', '-', "http://127.0.0.1:5000/a'b$c"]
    code, _args = _run_health_script(tmp_path, script, "it's /expanded-home uid=0 \"x\" *")
    assert code == 1, 'the content is matched literally, never expanded'
    code, _args = _run_health_script(tmp_path, script, 'an error page %s' % nasty, status=1)
    assert code != 0, 'a failed request fails even when its body has the content'
    plain = specs.docker_healthcheck(with_app_json({'web': [entry(path='/up')]}), 'web')['Test'][1]
    assert _run_health_script(tmp_path, plain, 'anything')[0] == 0
    assert _run_health_script(tmp_path, plain, 'anything', status=8)[0] != 0
    # an image with curl and no wget
    (tmp_path / 'bin' / 'wget').unlink()
    code, args = _run_health_script(tmp_path, plain, 'anything', client='curl')
    assert code == 0 and args == ['-fsS', 'http://127.0.0.1:5000/up']


def test_docker_healthcheck_several_entries_must_all_pass():
    doc = with_app_json({'web': [
        entry(name='a', command=['test', '-f', "/tmp/it's"], wait=10, timeout=2, attempts=2, initial_delay=5),
        entry(name='b', listening=True, wait=3, timeout=4, attempts=5, initial_delay=1),
        entry(name='c', uptime=30),
    ]})
    health = specs.docker_healthcheck(doc, 'web')
    assert health['Test'][0] == 'CMD-SHELL'
    parts = health['Test'][1].split(' && ')
    assert parts[0] == "( test -f '/tmp/it'\"'\"'s' )" and parts[1].startswith('( for f in /proc/net/tcp')
    assert len(parts) == 2, 'the uptime entry has no Docker form'
    assert health['Interval'] == 3 * 10 ** 9, 'the shortest wait'
    assert health['Timeout'] == 6 * 10 ** 9, 'time for every entry'
    assert health['Retries'] == 5 and health['StartPeriod'] == 5 * 10 ** 9


def test_ignored_liveness_names_uptime_entries():
    doc = with_app_json({'worker': [entry(name='up', uptime=5), entry(name='cmd', command=['true'])],
                         'web': [entry('startup', name='start', uptime=5)]})
    notes = specs.ignored_liveness(doc)
    assert len(notes) == 1 and "liveness check 'up' of worker" in notes[0] and 'ignored' in notes[0]
    assert specs.ignored_liveness(_app()) == []
