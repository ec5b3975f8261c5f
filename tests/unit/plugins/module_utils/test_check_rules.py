# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check rules (module_utils/_check_rules.py): the checks option, the CHECKS file and which checks apply, from where."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _check_rules as rules
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import parse_checks_file
from tests.unit.helpers import app_json_document, healthcheck_entry as app_json_entry
from tests.unit.helpers import refused


def test_checks_file_format():
    parsed = parse_checks_file('WAIT=2\r\n# comment\n/about  Our Amazing Team\n//example.com/x\n'
                               'https://secure.test/a ok\n/images/logo.png\nATTEMPTS=3\nTIMEOUT=9\n')
    assert parsed == {'wait': 2, 'attempts': 3, 'timeout': 9, 'http': [
        {'path': '/about', 'content': 'Our Amazing Team', 'host': None, 'scheme': 'http'},
        {'path': '/x', 'content': None, 'host': 'example.com', 'scheme': 'http'},
        {'path': '/a', 'content': 'ok', 'host': 'secure.test', 'scheme': 'https'},
        {'path': '/images/logo.png', 'content': None, 'host': None, 'scheme': 'http'},
    ]}


@pytest.mark.parametrize('text', ['WAIT=abc\n', 'ATTEMPTS=0\n', 'about.html\n', '//\n', 'https:///x\n'])
def test_checks_file_errors(text):
    message = refused(parse_checks_file, text)
    assert message.startswith('CHECKS:')


def test_validate_checks_normalises():
    result = rules.validate_checks({
        'web': {'http': ['/health ok', {'path': '/', 'content': 'Welcome', 'scheme': 'https'}], 'attempts': '3'},
        'worker': 'skipped',
        'clock': {'command': 'test -f /tmp/ready', 'uptime': 2},
    })
    assert result['web']['http'] == [
        {'path': '/health', 'content': 'ok', 'host': None, 'scheme': 'http'},
        {'path': '/', 'content': 'Welcome', 'host': None, 'scheme': 'https'},
    ]
    assert result['web']['attempts'] == 3
    assert result['worker'] == {'mode': 'skipped'}
    assert result['clock'] == {'mode': 'enabled', 'command': ['/bin/sh', '-c', 'test -f /tmp/ready'], 'uptime': 2}


@pytest.mark.parametrize('value, field', [
    ({'Web': 'skipped'}, 'checks'),
    ({'web': 'sometimes'}, 'checks.web.mode'),
    ({'worker': {'http': ['/']}}, 'checks.worker.http'),
    ({'web': {'http': ['no-slash']}}, 'checks.web.http'),
    ({'web': {'attempts': 0}}, 'checks.web.attempts'),
    ({'web': {'timeout': -1}}, 'checks.web.timeout'),
    ({'web': {'retries': 3}}, 'checks.web'),
    ({'web': {'command': 5}}, 'checks.web.command'),
    (['web'], 'checks'),
])
def test_validate_checks_refusals(value, field):
    message = refused(rules.validate_checks, value)
    assert message.startswith(field + ':')


def test_effective_checks_precedence():
    image_checks = {'wait': 1, 'http': [{'path': '/', 'content': None, 'host': None, 'scheme': 'http'}]}
    doc = {'checks': {'worker': {'mode': 'enabled', 'uptime': 3}}, 'image_checks': image_checks}
    web = rules.effective(doc, 'web')
    assert web['source'] == 'CHECKS file in the image' and web['wait'] == 1 and web.get('uptime') is None
    assert web['attempts'] == rules.DEFAULTS['attempts']
    worker = rules.effective(doc, 'worker')
    assert worker['source'] == 'checks option' and worker['uptime'] == 3
    clock = rules.effective(doc, 'clock')
    assert clock['source'] == 'default' and clock['uptime'] == rules.DEFAULT_UPTIME
    doc['checks']['web'] = {'mode': 'skipped'}
    assert rules.effective(doc, 'web')['mode'] == 'skipped', "the option wins over the image's CHECKS file"


# ---------------------------------------------------------------- input Docker, the kernel or HTTP cannot take

@pytest.mark.parametrize('command, what', [
    ('test -f /tmp/re\x00ady', 'the command contains a NUL'),
    (['test', '-f', '/tmp/\x00'], 'item 3 contains a NUL'),
    ('x' * 131072, 'the command is 131072 bytes'),
    (['test', 'y' * 131072], 'item 2 is 131072 bytes'),
])
def test_validate_checks_refuses_commands_the_kernel_cannot_run(command, what):
    message = refused(rules.validate_checks, {'worker': {'command': command}})
    assert message.startswith('checks.worker.command: ') and what in message, message
    assert '\x00' not in message and 'xxxxxxxx' not in message and 'yyyyyyyy' not in message


def test_validate_checks_accepts_a_command_at_the_limit():
    result = rules.validate_checks({'worker': {'command': ['test', 'y' * 131071]}})
    assert result['worker']['command'][1] == 'y' * 131071


@pytest.mark.parametrize('item, what', [
    ({'path': '/he\x00alth'}, 'the path'),
    ({'path': '/a\r\nX-Smuggled: 1'}, 'the path'),
    ({'path': '/a b'}, 'a space'),
    ({'path': '/caf\u00e9'}, 'non-ASCII'),
    ({'path': '/', 'host': 'example.com\r\n X-Smuggled: 1'}, 'the host'),
    ({'path': '/', 'host': 'ex\x00ample.com'}, 'the host'),
    ({'path': '/', 'host': 'exa mple.com'}, 'the host'),
    ({'path': '/', 'host': ['example.com']}, 'host must be a string'),
    ({'path': '/', 'content': 5}, 'content must be a string'),
    ('/he\x00alth ok', 'the path'),
    ('//ex\x01ample.com/ ok', 'the host'),
])
def test_validate_checks_refuses_http_targets_http_cannot_send(item, what):
    message = refused(rules.validate_checks, {'web': {'http': [item]}})
    assert message.startswith('checks.web.http: ') and what in message, message
    assert '\r' not in message and '\x00' not in message


def test_validate_checks_keeps_ordinary_http_targets():
    result = rules.validate_checks({'web': {'http': [{'path': '/health?x=%20', 'host': 'example.com:8080'},
                                                     '//example.com/about ok']}})
    assert result['web']['http'] == [
        {'path': '/health?x=%20', 'content': None, 'host': 'example.com:8080', 'scheme': 'http'},
        {'path': '/about', 'content': 'ok', 'host': 'example.com', 'scheme': 'http'},
    ]


# ---------------------------------------------------------------- where checks come from: option, app.json, CHECKS

APP_JSON_SOURCE = '/app/app.json in image shop:v2'


def app_json(healthchecks):
    return app_json_document(healthchecks, source=APP_JSON_SOURCE)


IMAGE_CHECKS = {'wait': 1, 'attempts': 2, 'http': [{'path': '/', 'content': None, 'host': None, 'scheme': 'http'}]}


def test_app_json_checks_come_after_the_options_own_checks_and_before_the_checks_file():
    entries = [app_json_entry('readiness', 'r1'), app_json_entry('liveness', 'l1'), app_json_entry('startup', 's1')]
    doc = {'app_json': app_json({'web': entries, 'worker': [app_json_entry('startup', 'w1', command=['true'])],
                                 'clock': [app_json_entry('liveness', 'only-liveness', command=['true'])]}),
           'image_checks': IMAGE_CHECKS, 'checks': None}
    web = rules.effective(doc, 'web')
    assert web['source'] == 'app.json' and web['mode'] == 'enabled' and web['app_json'] == APP_JSON_SOURCE
    assert [item['name'] for item in web['entries']] == ['s1', 'r1'], 'startup entries, then readiness; no liveness'
    assert 'uptime' not in web and 'http' not in web, 'the entries replace every other check'
    assert rules.effective(doc, 'worker')['source'] == 'app.json', 'app.json checks any process type'
    assert rules.effective(doc, 'clock')['source'] == 'default', 'a liveness check does not gate a rollout'
    assert rules.effective(doc, 'clock')['uptime'] == rules.DEFAULT_UPTIME

    # the option's own checks win; its mode applies to the app.json's
    doc['checks'] = rules.validate_checks({'web': {'http': ['/own']}, 'worker': 'skipped'})
    assert rules.effective(doc, 'web')['source'] == 'checks option'
    assert rules.effective(doc, 'web')['http'][0]['path'] == '/own'
    worker = rules.effective(doc, 'worker')
    # skipped or disabled: nothing of the other sources runs, so the option is named as the source
    assert worker['source'] == 'checks option' and worker['mode'] == 'skipped'
    doc['checks'] = rules.validate_checks({'web': {'mode': 'disabled', 'attempts': 9}})
    web = rules.effective(doc, 'web')
    assert web['source'] == 'checks option' and web['mode'] == 'disabled'
    assert web['entries'][0]['attempts'] == 1, "an entry keeps its own settings, not the option's"


def test_the_checks_file_takes_the_options_mode_and_settings():
    doc = {'image_checks': IMAGE_CHECKS, 'checks': rules.validate_checks({'web': {'mode': 'enabled', 'attempts': 7}})}
    web = rules.effective(doc, 'web')
    assert web['source'] == 'CHECKS file in the image' and web['http'] == IMAGE_CHECKS['http']
    assert web['attempts'] == 7 and web['wait'] == 1, "the option's attempts over the file's, the file's wait"
    doc['checks'] = rules.validate_checks({'web': 'skipped'})
    assert rules.effective(doc, 'web')['mode'] == 'skipped'
    assert rules.effective({'checks': {'web': {'mode': 'enabled'}}}, 'web')['source'] == 'default'
    assert rules.effective({'app_json': None}, 'web') == {
        'mode': 'enabled', 'uptime': 10, 'wait': 5, 'timeout': 30, 'attempts': 5, 'source': 'default'}
