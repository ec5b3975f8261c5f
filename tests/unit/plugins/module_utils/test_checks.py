# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks option, the CHECKS file and which checks apply (pure logic)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import checks
from ansible_collections.dokku_ps.docker.plugins.module_utils.errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils.parsers import parse_checks_file


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
