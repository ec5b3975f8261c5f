# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module does around its operation (module_utils/_runner.py): parameters parsed once into the
request the operation takes, before any connection; the shared options; failures in one line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _runner as runner
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import DockerOptions
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError


class _Exit(Exception):
    pass


class _Module(object):
    """An AnsibleModule as far as run() uses it."""

    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = False
        self.no_log_values = set()
        self.warnings = []
        self.exited = None
        self.failed = None

    def warn(self, message):
        self.warnings.append(message)

    def run_command(self, argv):
        raise AssertionError('no program runs here: %r' % (argv,))

    def exit_json(self, **result):
        self.exited = result
        raise _Exit()

    def fail_json(self, **result):
        self.failed = result
        raise _Exit()


@pytest.fixture
def connected(monkeypatch):
    """run() with a fake Docker client, state store and context; returns what they saw."""
    seen = {'docker': 0}

    class Docker(object):
        def __init__(self, options):
            assert isinstance(options, DockerOptions), 'the client takes typed options, not the module parameters'
            seen['docker'] += 1

    class Proxy(object):
        changes = {}

        def flush(self):
            seen['flushed'] = seen.get('flushed', 0) + 1

    class Context(object):
        def __init__(self, docker, store, proxy, check_mode=False, acme=None, connect=None):
            self.warnings = ['careful']
            self.proxy = Proxy()

        def close(self):
            seen['closed'] = True

    monkeypatch.setattr(runner, 'require_sdk', lambda module: None)
    monkeypatch.setattr(runner, 'Docker', Docker)
    monkeypatch.setattr(runner, 'StateStore', lambda path: path)
    monkeypatch.setattr(runner, 'Context', Context)
    monkeypatch.setattr(runner, 'ProxyRun', lambda options, check_mode=False, run=None, webroot=None: None)
    return seen


def test_the_operation_takes_the_request_parse_made_once(connected):
    calls = []

    def parse(params):
        calls.append(params)
        return ('request', params['name'])

    def operation(ctx, request):
        assert request == ('request', 'shop')
        return {'changed': True, 'diff': {'before': 1}}

    module = _Module({'name': 'shop', 'state_dir': '/tmp/x'})
    with pytest.raises(_Exit):
        runner.run(module, parse, operation)
    assert calls == [module.params], 'parsed once'
    assert module.exited == {'changed': True} and module.warnings == ['careful'] and connected['closed']
    assert connected['flushed'] == 1, 'the queued nginx configs are applied once, at the end'


def test_bad_input_fails_before_docker_is_asked(connected):
    def parse(params):
        raise ValidationError('name', 'must be at most 63 characters')

    module = _Module({'name': 'x' * 64})
    with pytest.raises(_Exit):
        runner.run(module, parse, lambda ctx, request: pytest.fail('no operation for bad input'))
    assert module.failed == {'msg': 'name: must be at most 63 characters'}
    assert connected['docker'] == 0


def test_env_values_leave_ansibles_masking_and_the_invocation_shows_them_masked(connected):
    module = _Module({'name': 'shop', 'env': {'TOKEN': 's3cret-value', 'ONE': '1'}})
    module.no_log_values.update(['s3cret-value', '1', 'unrelated'])
    with pytest.raises(_Exit):
        runner.run(module, lambda params: params, lambda ctx, request: {'changed': False})
    assert module.no_log_values == set(['unrelated'])
    assert module.exited['invocation']['module_args']['env'] == {'TOKEN': 'XXXXXX', 'ONE': 'XXXXXX'}
    assert 's3cret-value' not in repr(module.exited)


def test_the_argument_spec_has_the_connection_and_state_dir_options(monkeypatch):
    captured = {}

    def module(**kwargs):
        captured.update(kwargs)
        return 'module'

    monkeypatch.setattr(runner, 'AnsibleModule', module)
    assert runner.build_module({'app': dict(type='str')}, mutually_exclusive=[['a', 'b']]) == 'module'
    spec = captured['argument_spec']
    assert spec['app'] == dict(type='str') and spec['state_dir'] == dict(type='path')
    assert spec['docker_host']['default'] == 'unix:///var/run/docker.sock'
    assert captured['supports_check_mode'] is True and captured['mutually_exclusive'] == [['a', 'b']]
    assert ['client_cert', 'client_key'] in captured['required_together']
