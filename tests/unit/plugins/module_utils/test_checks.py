# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks option, the CHECKS file and which checks apply (pure logic)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _checks as checks
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import parse_checks_file


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
    with pytest.raises(ValidationError) as info:
        parse_checks_file(text)
    assert str(info.value).startswith('CHECKS:')


def test_validate_checks_normalises():
    result = checks.validate_checks({
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
    with pytest.raises(ValidationError) as info:
        checks.validate_checks(value)
    assert str(info.value).startswith(field + ':')


def test_effective_checks_precedence():
    image_checks = {'wait': 1, 'http': [{'path': '/', 'content': None, 'host': None, 'scheme': 'http'}]}
    doc = {'checks': {'worker': {'mode': 'enabled', 'uptime': 3}}, 'image_checks': image_checks}
    web = checks.effective(doc, 'web')
    assert web['source'] == 'CHECKS file in the image' and web['wait'] == 1 and web.get('uptime') is None
    assert web['attempts'] == checks.DEFAULTS['attempts']
    worker = checks.effective(doc, 'worker')
    assert worker['source'] == 'checks option' and worker['uptime'] == 3
    clock = checks.effective(doc, 'clock')
    assert clock['source'] == 'default' and clock['uptime'] == checks.DEFAULT_UPTIME
    doc['checks']['web'] = {'mode': 'skipped'}
    assert checks.effective(doc, 'web')['mode'] == 'skipped', "the option wins over the image's CHECKS file"


def test_stop_first():
    checker = checks.Checker(None, {'checks': {'web': {'mode': 'disabled'}}, 'env': {}})
    assert checker.stop_first({'process_type': 'web', 'ports': None})
    assert not checker.stop_first({'process_type': 'worker', 'ports': None})
    assert checker.stop_first({'process_type': 'worker', 'ports': {'container': 5000, 'host': 8080}})
    assert not checker.stop_first({'process_type': 'worker', 'ports': {'container': 5000, 'host': None}})


# ---------------------------------------------------------------- input Docker, the kernel or HTTP cannot take

@pytest.mark.parametrize('command, what', [
    ('test -f /tmp/re\x00ady', 'the command contains a NUL'),
    (['test', '-f', '/tmp/\x00'], 'item 3 contains a NUL'),
    ('x' * 131072, 'the command is 131072 bytes'),
    (['test', 'y' * 131072], 'item 2 is 131072 bytes'),
])
def test_validate_checks_refuses_commands_the_kernel_cannot_run(command, what):
    with pytest.raises(ValidationError) as info:
        checks.validate_checks({'worker': {'command': command}})
    message = str(info.value)
    assert message.startswith('checks.worker.command: ') and what in message, message
    assert '\x00' not in message and 'xxxxxxxx' not in message and 'yyyyyyyy' not in message


def test_validate_checks_accepts_a_command_at_the_limit():
    result = checks.validate_checks({'worker': {'command': ['test', 'y' * 131071]}})
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
    with pytest.raises(ValidationError) as info:
        checks.validate_checks({'web': {'http': [item]}})
    message = str(info.value)
    assert message.startswith('checks.web.http: ') and what in message, message
    assert '\n' not in message and '\r' not in message and '\x00' not in message


def test_validate_checks_keeps_ordinary_http_targets():
    result = checks.validate_checks({'web': {'http': [{'path': '/health?x=%20', 'host': 'example.com:8080'},
                                                      '//example.com/about ok']}})
    assert result['web']['http'] == [
        {'path': '/health?x=%20', 'content': None, 'host': 'example.com:8080', 'scheme': 'http'},
        {'path': '/about', 'content': 'ok', 'host': 'example.com', 'scheme': 'http'},
    ]


# ---------------------------------------------------------------- failure messages: outside text masked, own words not

class _DyingDocker(object):
    """A new container that dies at once, after logging ``log``; a check command prints ``output``."""

    def __init__(self, log, output=''):
        self.log = log
        self.output = output

    def container_events(self, container_id, seconds, kinds):
        return ['die']

    def logs_tail(self, container_id, lines):
        return self.log.splitlines()

    def exec_run(self, container_id, command):
        return 1, self.output

    def inspect_container(self, container_id):
        return {'State': {'Running': True, 'Restarting': False, 'Status': 'running'}}


SECRET_ENV = {'PEM': 'pem-line-one\npem-line-two', 'SPLIT': 'alpha-word beta-word', 'APP_NAME': 'shop',
              'ROLE': 'web', 'WORKERS': '1'}


def _checker(docker, checks_config):
    from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
    doc = {'name': 'shop', 'env': SECRET_ENV, 'checks': checks.validate_checks(checks_config), 'web_port': 5000}
    return checks.Checker(docker, doc, redactor=Redactor(env=SECRET_ENV, public=['shop', 'web']))


def test_a_failed_check_masks_each_line_of_the_log_but_not_its_own_words():
    docker = _DyingDocker('ok\npem-line-one\npem-line-two\nalpha-word beta-word\nbye')
    checker = _checker(docker, {'web': {'uptime': 3}})
    with pytest.raises(checks.CheckFailed) as info:
        checker(docker, 'c1', {'name': 'shop.web.1', 'process_type': 'web', 'ports': None})
    message = str(info.value)
    assert message == ('shop.web.1 died while its checks ran (checks from the checks option); last log lines: '
                       'ok | XXXXXX | XXXXXX | bye')


def test_a_failed_check_command_masks_its_output():
    docker = _DyingDocker('', output='pem-line-one\npem-line-two\n')
    docker.container_events = lambda *args: []
    checker = _checker(docker, {'web': {'command': 'echo "$PEM"; exit 1', 'attempts': 1, 'wait': 0}})
    with pytest.raises(checks.CheckFailed) as info:
        checker(docker, 'c1', {'name': 'shop.web.1', 'process_type': 'web', 'ports': None})
    message = str(info.value)
    assert 'exit status 1: XXXXXX' in message and 'pem-line' not in message
    assert message.startswith('shop.web.1 failed its check command /bin/sh -c echo "$PEM"; exit 1 after 1 attempt')
