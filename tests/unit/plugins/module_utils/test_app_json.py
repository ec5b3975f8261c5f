# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json as app_json
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import PROCESS_TYPE_RULE, is_process_type
from tests.unit import helpers

SOURCE = '/app/app.json in image shop:1'
ENTRY_KEYS = set(['type', 'name', 'path', 'content', 'command', 'port', 'attempts', 'timeout', 'wait',
                  'initial_delay', 'uptime', 'listening', 'scheme'])


def refused(value, source=SOURCE):
    """The one-line message parse() refuses ``value`` with, after the source it starts with."""
    message = helpers.refused(app_json.parse, value, source)
    assert message.startswith(source + ': ')
    return message[len(source) + 2:]


def check(**fields):
    return {'healthchecks': {'web': [fields]}}


def only_entry(**fields):
    return app_json.parse(check(**fields), SOURCE)['healthchecks']['web'][0]


# ---------------------------------------------------------------- constants and the normalised shape

def test_constants():
    assert app_json.APP_JSON_FILE == 'app.json'
    assert app_json.HEALTHCHECK_TYPES == ('startup', 'liveness', 'readiness')


def test_empty_document_owns_nothing():
    assert app_json.parse('{}', SOURCE) == {'formation': None, 'healthchecks': None}
    assert app_json.parse({'formation': None, 'healthchecks': None}, SOURCE) == {'formation': None,
                                                                                 'healthchecks': None}


def test_formation_entries_are_normalised():
    doc = app_json.parse({'formation': {'web': {'quantity': 2, 'max_parallel': 1}, 'worker': {'quantity': 0},
                                        'clock': {'max_parallel': 3}, 'cron': {}}}, SOURCE)
    assert doc['formation'] == {
        'web': {'quantity': 2, 'max_parallel': 1},
        'worker': {'quantity': 0, 'max_parallel': None},
        'clock': {'quantity': None, 'max_parallel': 3},
        'cron': {'quantity': None, 'max_parallel': None},
    }
    assert doc['healthchecks'] is None


def test_null_means_not_given():
    doc = app_json.parse({'formation': {'web': {'quantity': None, 'max_parallel': None}},
                          'healthchecks': {'web': [{'type': None, 'attempts': None, 'port': None, 'name': None,
                                                    'command': None, 'listening': None, 'scheme': None}],
                                           'worker': None}}, SOURCE)
    assert doc['formation'] == {'web': {'quantity': None, 'max_parallel': None}}
    assert doc['healthchecks']['worker'] == []
    assert doc['healthchecks']['web'][0] == only_entry()


# ---------------------------------------------------------------- healthcheck defaults and kinds

def test_defaults_are_dokkus():
    entry = only_entry(path='/health')
    assert set(entry) == ENTRY_KEYS
    assert entry == {'type': 'startup', 'name': 'web-startup-1', 'path': '/health', 'content': None,
                     'command': None, 'port': None, 'attempts': 3, 'timeout': 5, 'wait': 5, 'initial_delay': 0,
                     'uptime': None, 'listening': False, 'scheme': 'http'}


def test_every_field_given():
    entry = only_entry(type='readiness', name='ready', path='/ready', content='ok', port=8080, attempts=7,
                       timeout=2, wait=1, initialDelay=9, scheme='HTTPS', uptime=0, listening=False, command=[])
    assert entry == {'type': 'readiness', 'name': 'ready', 'path': '/ready', 'content': 'ok', 'command': None,
                     'port': 8080, 'attempts': 7, 'timeout': 2, 'wait': 1, 'initial_delay': 9, 'uptime': None,
                     'listening': False, 'scheme': 'https'}


def test_an_entry_with_no_strategy_is_an_uptime_check_as_in_dokku():
    # docker-container-healthchecker: no command, path or listening -> uptime check (0 s: running, not restarted)
    entry = only_entry()
    assert (entry['command'], entry['path'], entry['listening'], entry['uptime']) == (None, None, False, 0)
    assert only_entry(type='startup', uptime=30)['uptime'] == 30
    # a port or a scheme alone does not make an HTTP check
    assert only_entry(port=3000)['path'] is None


def test_command_check():
    entry = only_entry(command=['/app/check', '--fast'], timeout=3)
    assert entry['command'] == ['/app/check', '--fast']
    assert (entry['path'], entry['listening'], entry['uptime']) == (None, False, None)


def test_listening_check():
    entry = only_entry(listening=True, port=3000)
    assert (entry['listening'], entry['port'], entry['path'], entry['command'], entry['uptime']) == (
        True, 3000, None, None, None)


def test_http_check_with_uptime_zero_is_http():
    # Dokku counts uptime only above 0 when it looks for two strategies in one entry
    entry = only_entry(path='/', uptime=0)
    assert (entry['path'], entry['uptime']) == ('/', None)


def test_empty_strings_that_mean_not_given_in_dokku():
    entry = only_entry(path='/x', name='', content='', scheme='')
    assert (entry['name'], entry['content'], entry['scheme']) == ('web-startup-1', None, 'http')


def test_kind_of_every_normalised_entry_is_unambiguous():
    entries = [only_entry(command=['x']), only_entry(path='/'), only_entry(listening=True), only_entry(uptime=5),
               only_entry()]
    for entry in entries:
        kinds = [entry['command'] is not None, entry['path'] is not None, entry['listening'],
                 entry['uptime'] is not None]
        assert kinds.count(True) == 1, entry


def test_generated_names_are_deterministic_and_count_per_type():
    doc = {'healthchecks': {'web': [{'path': '/a'}, {'type': 'liveness', 'path': '/b'}, {'path': '/c', 'name': 'c'},
                                    {'path': '/d'}, {'type': 'liveness', 'command': ['x']}],
                            'worker': [{'uptime': 3}]}}
    first = app_json.parse(doc, SOURCE)
    again = app_json.parse(json.dumps(doc), SOURCE)
    assert first == again
    names = [entry['name'] for entry in first['healthchecks']['web']]
    assert names == ['web-startup-1', 'web-liveness-1', 'c', 'web-startup-3', 'web-liveness-2']
    assert first['healthchecks']['worker'][0]['name'] == 'worker-startup-1'


# ---------------------------------------------------------------- text, bytes, BOM, dict

DOC = {'name': 'shop', 'formation': {'web': {'quantity': 2}},
       'healthchecks': {'web': [{'type': 'startup', 'path': '/health', 'content': 'ok'}]}}


def test_text_bytes_bom_and_dict_give_the_same_document():
    text = json.dumps(DOC)
    expected = app_json.parse(DOC, SOURCE)
    assert app_json.parse(text, SOURCE) == expected
    assert app_json.parse(text.encode('utf-8'), SOURCE) == expected
    assert app_json.parse(u'\ufeff' + text, SOURCE) == expected
    assert app_json.parse(b'\xef\xbb\xbf' + text.encode('utf-8'), SOURCE) == expected


def test_the_dict_given_is_not_changed():
    given_doc = copy.deepcopy(DOC)
    app_json.parse(given_doc, SOURCE)
    assert given_doc == DOC


def test_non_ascii_text():
    doc = app_json.parse(u'{"healthchecks": {"web": [{"path": "/é", "content": "café"}]}}'.encode('utf-8'), SOURCE)
    assert doc['healthchecks']['web'][0]['content'] == u'café'


def test_invalid_utf8():
    assert refused(b'{"formation": "\xff"}') == 'not valid UTF-8 text (byte 15)'


def test_invalid_json_names_line_and_column():
    assert refused('{\n  "formation": {\n    "web": {"quantity": 1,}\n  }\n}') == (
        'invalid JSON: Expecting property name enclosed in double quotes at line 3 column 27')
    assert refused('') == 'invalid JSON: Expecting value at line 1 column 1'
    assert refused('{} {}') == 'invalid JSON: Extra data at line 1 column 4'


def test_nan_and_infinity_are_not_json():
    assert refused('{"formation": {"web": {"quantity": NaN}}}') == 'invalid JSON: NaN is not a JSON value'
    assert refused('{"x": -Infinity}') == 'invalid JSON: -Infinity is not a JSON value'


def test_deep_nesting_is_refused_in_one_line():
    assert refused('[' * 100000 + ']' * 100000) in ('invalid JSON: nested too deeply',
                                                    'the top level must be a JSON object (found an array)')


@pytest.mark.parametrize('text, found', [
    ('[]', 'an array'), ('"app"', 'a string'), ('3', 'an integer'), ('null', 'null'), ('true', 'a boolean'),
])
def test_top_level_must_be_an_object(text, found):
    assert refused(text) == 'the top level must be a JSON object (found %s)' % found


def test_value_of_another_python_type():
    assert refused(['formation']) == 'must be a JSON object or its text (found an array)'
    assert refused(3) == 'must be a JSON object or its text (found an integer)'


# ---------------------------------------------------------------- ignored keys

def test_top_level_keys_other_than_processes_scripts_and_cron_are_ignored():
    doc = {'name': 'x', 'description': 'y', 'buildpacks': [{'url': 'heroku/python'}],
           'env': {'SECRET': {'required': True}}, 'addons': ['heroku-postgresql'], 'stack': 'heroku-22',
           'repository': 'https://x', 'logo': 3, 'keywords': None, 'environments': {'test': {}}, 'success_url': '/'}
    assert app_json.parse(doc, SOURCE) == {'formation': None, 'healthchecks': None}


# ---------------------------------------------------------------- scripts and cron (docs/oneoffs.md)

def test_scripts_of_the_release_phase_are_read_and_others_ignored():
    doc = {'scripts': {'dokku': {'predeploy': 'touch /x', 'postdeploy': 'echo done'}, 'postdeploy': 'heroku only',
                       'pr-predestroy': 'x'}}
    parsed = app_json.parse(doc, SOURCE)
    assert parsed['scripts'] == {'predeploy': 'touch /x', 'postdeploy': 'echo done'}
    assert app_json.scripts(parsed) == {'predeploy': 'touch /x', 'postdeploy': 'echo done'}
    assert app_json.parse({'scripts': {}}, SOURCE)['scripts'] == {'predeploy': None, 'postdeploy': None}
    assert app_json.scripts(None) == {'predeploy': None, 'postdeploy': None}


def test_a_document_without_scripts_or_cron_normalises_as_before_them():
    assert set(app_json.parse({'formation': {'web': {'quantity': 1}}}, SOURCE)) == {'formation', 'healthchecks'}


def test_cron_entries_get_defaults_and_a_stable_id():
    doc = {'cron': [{'command': ' ./send-mail ', 'schedule': '0  3 * * *'},
                    {'command': 'x', 'schedule': '@HOURLY', 'concurrency_policy': 'forbid', 'maintenance': True}]}
    entries = app_json.cron_entries(app_json.parse(doc, SOURCE))
    assert entries[0]['command'] == './send-mail' and entries[0]['schedule'] == '0 3 * * *'
    assert entries[0]['concurrency_policy'] == 'allow' and entries[0]['maintenance'] is False
    assert entries[1]['schedule'] == '@hourly' and entries[1]['concurrency_policy'] == 'forbid'
    assert entries[1]['maintenance'] is True
    again = app_json.cron_entries(app_json.parse(doc, SOURCE))
    assert [e['id'] for e in again] == [e['id'] for e in entries]
    assert len(entries[0]['id']) == 12 and entries[0]['id'] != entries[1]['id']


@pytest.mark.parametrize('entry, expected', [
    ({'schedule': '@daily'}, 'cron[0]: misses the key command'),
    ({'command': 'x'}, 'cron[0]: misses the key schedule'),
    ({'command': 'x', 'schedule': '61 * * * *'}, 'cron[0].schedule: '),
    ({'command': 'x', 'schedule': '@every 5m'}, 'cron[0].schedule: '),
    ({'command': 'x', 'schedule': '@daily', 'concurrency_policy': 'sometimes'},
     'cron[0].concurrency_policy: must be one of allow, forbid, replace'),
    ({'command': 'x', 'schedule': '@daily', 'when': 'now'}, 'cron[0].when: unknown key'),
    ({'command': '', 'schedule': '@daily'}, 'cron[0].command: must not be empty'),
    ({'command': '   ', 'schedule': '@daily'}, 'cron[0].command: must not be empty'),
    ({'command': 'a\nb', 'schedule': '@daily'}, 'cron[0].command: must be one line'),
])
def test_bad_cron_entries_are_refused_naming_the_field(entry, expected):
    assert expected in refused({'cron': [entry]})


def test_the_same_cron_entry_twice_is_refused():
    entry = {'command': 'x', 'schedule': '@daily'}
    assert 'cron[1]: repeats an entry' in refused({'cron': [entry, entry]})


def test_a_release_type_cannot_get_a_quantity():
    parsed = app_json.parse({'formation': {'release': {'quantity': 1}}}, SOURCE)
    with pytest.raises(ValidationError) as caught:
        app_json.check_processes(parsed, {'web': 'x', 'release': 'y'}, SOURCE)
    assert 'formation.release.quantity: 1, but release is the command of the release phase' in str(caught.value)


def test_keys_dokku_has_that_do_not_concern_us_are_accepted_and_ignored():
    doc = app_json.parse({
        'formation': {'web': {'quantity': 1, 'autoscaling': {'min_quantity': 1, 'max_quantity': 9},
                              'service': {'exposed': True}}},
        'healthchecks': {'web': [{'path': '/', 'description': 'root', 'warn': True,
                                  'httpHeaders': [{'name': 'Host', 'value': 'shop.example.com'}],
                                  'onFailure': {'command': ['/notify'], 'url': 'https://hook'}}]},
    }, SOURCE)
    assert doc['formation'] == {'web': {'quantity': 1, 'max_parallel': None}}
    assert set(doc['healthchecks']['web'][0]) == ENTRY_KEYS
    assert app_json.IGNORED_FORMATION_KEYS == ('autoscaling', 'service')
    assert app_json.IGNORED_HEALTHCHECK_KEYS == ('description', 'httpHeaders', 'onFailure', 'warn')


# ---------------------------------------------------------------- refusals: one line, source, field path, rule

@pytest.mark.parametrize('doc, expected', [
    # wrong types
    ({'formation': []}, 'formation: must be an object (found an array)'),
    ({'formation': {'web': 2}}, 'formation.web: must be an object (found an integer)'),
    ({'formation': {'web': {'quantity': '2'}}}, 'formation.web.quantity: must be an integer (found a string)'),
    ({'formation': {'web': {'quantity': 1.5}}},
     'formation.web.quantity: must be an integer (found a number with a fraction)'),
    ({'formation': {'web': {'quantity': 1.0}}}, 'formation.web.quantity: must be an integer (found a number)'),
    ({'formation': {'web': {'quantity': True}}}, 'formation.web.quantity: must be an integer (found a boolean)'),
    ({'formation': {'web': {'quantity': -1.5}}},
     'formation.web.quantity: must be an integer (found a number with a fraction)'),
    ({'healthchecks': {'web': [{'port': 1e9}]}}, 'healthchecks.web[0].port: must be an integer (found a number)'),
    ({'healthchecks': []}, 'healthchecks: must be an object (found an array)'),
    ({'healthchecks': {'web': {'path': '/'}}}, 'healthchecks.web: must be an array (found an object)'),
    ({'healthchecks': {'web': ['/health']}}, 'healthchecks.web[0]: must be an object (found a string)'),
    ({'healthchecks': {'web': [{'port': '5000'}]}}, 'healthchecks.web[0].port: must be an integer (found a string)'),
    ({'healthchecks': {'web': [{'listening': 'yes'}]}},
     'healthchecks.web[0].listening: must be true or false (found a string)'),
    ({'healthchecks': {'web': [{'name': 5}]}}, 'healthchecks.web[0].name: must be a string (found an integer)'),
    ({'healthchecks': {'web': [{'path': '/', 'content': ['ok']}]}},
     'healthchecks.web[0].content: must be a string (found an array)'),
    ({'healthchecks': {'web': [{'attempts': 2.5}]}},
     'healthchecks.web[0].attempts: must be an integer (found a number with a fraction)'),
    # Dokku's command is a list of strings (Go's []string): a string is refused, like Dokku's JSON decoding does
    ({'healthchecks': {'web': [{'command': '/app/check'}]}},
     'healthchecks.web[0].command: must be an array (found a string)'),
    ({'healthchecks': {'web': [{'command': ['/app/check', 3]}]}},
     'healthchecks.web[0].command[1]: must be a string (found an integer)'),
    # counts and seconds
    ({'formation': {'web': {'quantity': -1}}}, 'formation.web.quantity: must be at least 0 (found -1)'),
    ({'formation': {'worker': {'max_parallel': 0}}}, 'formation.worker.max_parallel: must be at least 1 (found 0)'),
    ({'healthchecks': {'web': [{'attempts': 0}]}}, 'healthchecks.web[0].attempts: must be at least 1 (found 0)'),
    ({'healthchecks': {'web': [{'timeout': -3}]}}, 'healthchecks.web[0].timeout: must be at least 1 (found -3)'),
    ({'healthchecks': {'web': [{'wait': 0}]}}, 'healthchecks.web[0].wait: must be at least 1 (found 0)'),
    ({'healthchecks': {'web': [{'initialDelay': -1}]}},
     'healthchecks.web[0].initialDelay: must be at least 0 (found -1)'),
    ({'healthchecks': {'web': [{'uptime': -10}]}}, 'healthchecks.web[0].uptime: must be at least 0 (found -10)'),
    ({'healthchecks': {'web': [{'timeout': 2 ** 31}]}},
     'healthchecks.web[0].timeout: must be at most 2147483647 (found 2147483648)'),
    ({'healthchecks': {'web': [{'port': 0}]}}, 'healthchecks.web[0].port: must be at least 1 (found 0)'),
    ({'healthchecks': {'web': [{'port': 65536}]}}, 'healthchecks.web[0].port: must be at most 65535 (found 65536)'),
    # type, path, scheme
    ({'healthchecks': {'web': [{'type': 'http'}]}},
     "healthchecks.web[0].type: must be one of startup, liveness, readiness (found 'http')"),
    ({'healthchecks': {'web': [{'type': 'Startup'}]}},
     "healthchecks.web[0].type: must be one of startup, liveness, readiness (found 'Startup')"),
    ({'healthchecks': {'web': [{'type': ''}]}},
     "healthchecks.web[0].type: must be one of startup, liveness, readiness (found '')"),
    ({'healthchecks': {'web': [{'type': 1}]}},
     'healthchecks.web[0].type: must be one of startup, liveness, readiness (found an integer)'),
    ({'healthchecks': {'web': [{'path': 'health'}]}}, "healthchecks.web[0].path: must start with '/' (found 'health')"),
    ({'healthchecks': {'web': [{'path': ''}]}}, "healthchecks.web[0].path: must start with '/' (found '')"),
    ({'healthchecks': {'web': [{'path': '/', 'scheme': 'ftp'}]}},
     "healthchecks.web[0].scheme: must be http or https (found 'ftp')"),
    # unknown keys inside entries
    ({'formation': {'web': {'quantity': 1, 'count': 2}}},
     'formation.web.count: unknown key; known keys: autoscaling, max_parallel, quantity, service'),
    ({'healthchecks': {'web': [{'pth': '/'}]}},
     'healthchecks.web[0].pth: unknown key; known keys: attempts, command, content, description, httpHeaders, '
     'initialDelay, listening, name, onFailure, path, port, scheme, timeout, type, uptime, wait, warn'),
    ({'healthchecks': {'web': [{'initial_delay': 3}]}},
     'healthchecks.web[0].initial_delay: unknown key; known keys: attempts, command, content, description, '
     'httpHeaders, initialDelay, listening, name, onFailure, path, port, scheme, timeout, type, uptime, wait, warn'),
    # process type names
    ({'formation': {'Web': {'quantity': 1}}}, 'formation.Web: invalid process type name: %s' % PROCESS_TYPE_RULE),
    ({'healthchecks': {'web worker': []}},
     "healthchecks['web worker']: invalid process type name: %s" % PROCESS_TYPE_RULE),
    ({'formation': {'web\n': {}}}, "formation['web\\n']: invalid process type name: %s" % PROCESS_TYPE_RULE),
    ({'formation': {'-web': {}}}, 'formation.-web: invalid process type name: %s' % PROCESS_TYPE_RULE),
    # one check per entry, content with path
    ({'healthchecks': {'web': [{'command': ['x'], 'path': '/'}]}},
     'healthchecks.web[0]: sets both command and path; an entry is one check: a command, an HTTP path, a listening '
     'check or an uptime (Dokku refuses this too)'),
    ({'healthchecks': {'web': [{'path': '/', 'listening': True}]}},
     'healthchecks.web[0]: sets both path and listening: true; an entry is one check: a command, an HTTP path, a '
     'listening check or an uptime (Dokku refuses this too)'),
    ({'healthchecks': {'web': [{'uptime': 5, 'listening': True}]}},
     'healthchecks.web[0]: sets both listening: true and uptime above 0; an entry is one check: a command, an HTTP '
     'path, a listening check or an uptime (Dokku refuses this too)'),
    ({'healthchecks': {'web': [{'path': '/', 'uptime': 5}]}},
     'healthchecks.web[0]: sets both path and uptime above 0; an entry is one check: a command, an HTTP path, a '
     'listening check or an uptime (Dokku refuses this too)'),
    ({'healthchecks': {'web': [{'path': '/'}, {'content': 'ok'}]}},
     "healthchecks.web[1].content: is only looked for by an HTTP check: give the path to request too (Dokku's "
     "healthchecker would not check it)"),
])
def test_refusals_name_source_field_path_and_rule(doc, expected):
    assert refused(doc) == expected
    # the same through JSON text (whenever the document is JSON)
    assert refused(json.dumps(doc)) == expected


def test_refused_from_the_inline_option_too():
    assert refused({'formation': {'web': {'quantity': -2}}}, 'app_json') == \
        'formation.web.quantity: must be at least 0 (found -2)'


def test_non_finite_numbers_of_the_dict_form():
    for number in (float('inf'), float('-inf'), float('nan')):
        assert refused({'formation': {'web': {'quantity': number}}}) == (
            'formation.web.quantity: must be an integer (found a number)')


def test_keys_of_the_dict_form_must_be_strings():
    assert refused({'formation': {1: {}}}) == 'formation: process type names must be strings (found an integer)'
    assert refused({'formation': {'web': {1: 2}}}) == 'formation.web: keys must be strings (found an integer)'


def test_shallowest_problem_is_reported_first():
    doc = {'formation': {'web': {'quantity': -1}}, 'healthchecks': 'x'}
    assert refused(doc) == 'healthchecks: must be an object (found a string)'


# ---------------------------------------------------------------- messages never echo long values or commands

def test_long_values_are_shortened():
    message = refused({'healthchecks': {'web': [{'path': 'x' * 500}]}})
    assert message == "healthchecks.web[0].path: must start with '/' (found '%s...')" % ('x' * 40)
    message = refused({'healthchecks': {'web': [{'type': 'y' * 500}]}})
    assert 'y' * 41 not in message
    message = refused({'formation': {'z' * 500: {}}})
    assert 'z' * 41 not in message and len(message) < 300


def test_command_content_is_never_shown():
    token = 'sk_live_0123456789abcdef'
    for doc in ({'healthchecks': {'web': [{'command': ['curl', '-H', 'Bearer ' + token + '\x00']}]}},
                {'healthchecks': {'web': [{'command': ['curl', token], 'path': '/'}]}},
                {'healthchecks': {'web': [{'command': ['curl', token, 3]}]}}):
        message = refused(doc)
        assert token not in message and 'curl' not in message
    assert refused({'healthchecks': {'web': [{'command': ['a', 'b\x00c']}]}}) == (
        'healthchecks.web[0].command[1]: contains a NUL character, which no process can receive')


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=60),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(
                        st.sampled_from(['type', 'path', 'port', 'command', 'wait', 'quantity', 'web', 'x']),
                        children, max_size=4),
                    max_leaves=12))
def test_any_value_for_formation_or_healthchecks_is_normalised_or_refused_in_one_line(value):
    for doc in ({'formation': value}, {'healthchecks': value}, {'healthchecks': {'web': value}},
                {'healthchecks': {'web': [value]}}, {'formation': {'web': value}}):
        try:
            result = app_json.parse(doc, SOURCE)
        except ValidationError as exc:
            message = helpers.one_line(exc)
            assert message.startswith(SOURCE + ': ') and len(message) < 400
        else:
            assert set(result) == set(['formation', 'healthchecks'])


# ---------------------------------------------------------------- formation()

def parsed(formation_value):
    return app_json.parse({'formation': formation_value}, SOURCE)


def test_formation_none_without_formation_or_quantities():
    assert app_json.formation(app_json.parse({}, SOURCE), {'web': 'x'}) is None
    assert app_json.formation(parsed({}), {'web': 'x'}) is None
    assert app_json.formation(parsed({'web': {'max_parallel': 2}, 'worker': {'quantity': None}}),
                              {'web': 'x', 'worker': 'y'}) is None


def test_formation_unlisted_types_including_web_become_zero():
    processes = {'web': 'a', 'worker': 'b', 'clock': 'c'}
    assert app_json.formation(parsed({'worker': {'quantity': 2}}), processes) == {'web': 0, 'worker': 2, 'clock': 0}
    assert app_json.formation(parsed({'web': {'quantity': 3}, 'clock': {'max_parallel': 1}}), processes) == {
        'web': 3, 'worker': 0, 'clock': 0}


def test_formation_leaves_out_listed_types_the_processes_do_not_define():
    assert app_json.formation(parsed({'web': {'quantity': 1}, 'old': {'quantity': 0}}), {'web': 'a'}) == {'web': 1}


def test_formation_with_unknown_processes_is_the_listed_quantities():
    assert app_json.formation(parsed({'web': {'quantity': 2}, 'worker': {'quantity': 0}, 'x': {}}), None) == {
        'web': 2, 'worker': 0}
    assert app_json.formation(parsed({'worker': {'quantity': 1}}), None) == {'worker': 1}


# ---------------------------------------------------------------- check_processes()

def test_check_processes_refuses_a_count_above_zero_for_an_undefined_type():
    doc = parsed({'web': {'quantity': 1}, 'worker': {'quantity': 2}})
    message = helpers.refused(app_json.check_processes, doc, {'web': 'a', 'clock': 'b'}, SOURCE)
    assert message == ('%s: formation.worker.quantity: 2 for a process type the app does not define (its types: '
                       'clock, web); worker is not a valid process name to scale up' % SOURCE)


def test_check_processes_accepts_zero_unknown_and_quantity_free_entries():
    doc = parsed({'web': {'quantity': 1}, 'gone': {'quantity': 0}, 'other': {'max_parallel': 2}})
    app_json.check_processes(doc, {'web': 'a'}, SOURCE)
    app_json.check_processes(doc, None, SOURCE)
    app_json.check_processes(parsed({'worker': {'quantity': 5}}), None, SOURCE)
    app_json.check_processes(app_json.parse({}, SOURCE), {'web': 'a'}, SOURCE)


# ---------------------------------------------------------------- max_parallel() and healthchecks()

def test_max_parallel():
    doc = parsed({'web': {'quantity': 2, 'max_parallel': 2}, 'worker': {'quantity': 1}})
    assert app_json.max_parallel(doc, 'web') == 2
    assert app_json.max_parallel(doc, 'worker') is None
    assert app_json.max_parallel(doc, 'clock') is None
    assert app_json.max_parallel(app_json.parse({}, SOURCE), 'web') is None


def test_healthchecks_by_kind_in_document_order():
    doc = app_json.parse({'healthchecks': {
        'web': [{'path': '/a'}, {'type': 'liveness', 'command': ['x']}, {'type': 'readiness', 'path': '/r'},
                {'type': 'startup', 'uptime': 3}],
        'worker': [{'type': 'liveness', 'command': ['y']}]}}, SOURCE)
    assert [e['name'] for e in app_json.healthchecks(doc, 'web', 'startup')] == ['web-startup-1', 'web-startup-2']
    assert [e['path'] for e in app_json.healthchecks(doc, 'web', 'readiness')] == ['/r']
    assert [e['command'] for e in app_json.healthchecks(doc, 'worker', 'liveness')] == [['y']]
    assert app_json.healthchecks(doc, 'worker', 'startup') == []
    assert app_json.healthchecks(doc, 'clock', 'startup') == []
    assert app_json.healthchecks(app_json.parse({}, SOURCE), 'web', 'startup') == []
    with pytest.raises(ValueError):
        app_json.healthchecks(doc, 'web', 'uptime')


# ---------------------------------------------------------------- the library

def test_missing_jsonschema_is_one_line(monkeypatch):
    monkeypatch.setattr(app_json, 'HAS_JSONSCHEMA', False)
    monkeypatch.setattr(app_json, 'JSONSCHEMA_IMPORT_ERROR', ImportError("No module named 'jsonschema'"))
    error = helpers.raised(DokkuPsError, app_json.parse, '{}', SOURCE)
    assert str(error) == ("%s: cannot validate app.json: the Python library jsonschema is missing on the managed host "
                          "(install python3-jsonschema or pip install jsonschema): No module named 'jsonschema'"
                          % SOURCE)


def test_schema_is_a_valid_draft_7_schema():
    import jsonschema
    jsonschema.Draft7Validator.check_schema(app_json.APP_JSON_SCHEMA)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12), st.integers(min_value=-3, max_value=5), max_size=5))
def test_formation_names_follow_the_collections_rule(quantities):
    doc = {'formation': dict((name, {'quantity': count}) for name, count in quantities.items())}
    bad_name = any(not is_process_type(name) for name in quantities)
    bad_count = any(count < 0 for count in quantities.values())
    try:
        result = app_json.parse(doc, SOURCE)
    except ValidationError:
        assert bad_name or bad_count
    else:
        assert not bad_name and not bad_count
        assert app_json.formation(result, None) == (quantities or None)
