# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every module shares (module_utils/_options.py): their argument spec and RunOptions, checked once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import DOCKER_COMMON_ARGS
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyOptions


def test_nginx_options_are_checked_before_anything_changes():
    options.proxy_options({'proxy_listen_address': '127.0.0.1', 'proxy_subnet': '172.16.240.0/20'})
    with pytest.raises(ValidationError, match='^proxy_subnet: '):
        options.proxy_options({'proxy_subnet': '172.16.240.1/20'})
    with pytest.raises(ValidationError, match='^proxy_listen_address: '):
        options.proxy_options({'proxy_listen_address': 'not an address'})


def test_run_options_parsed_once_with_their_defaults(monkeypatch):
    monkeypatch.setenv('DOKKU_PS_STATE_DIR', '/srv/state')
    parsed = options.parse({'docker_host': 'unix:///run/x.sock', 'timeout': 9, 'proxy_listen_address': '[::1]'})
    assert parsed.state_dir == '/srv/state'
    assert parsed.docker.host == 'unix:///run/x.sock' and parsed.docker.timeout == 9
    assert parsed.proxy == ProxyOptions(binary=nginx.DEFAULT_BINARY, conf=nginx.DEFAULT_CONF,
                                        include_dir=nginx.DEFAULT_INCLUDE_DIR, pid_file=nginx.DEFAULT_PID_FILE,
                                        prefix=None, listen_address='::1', subnet='172.16.240.0/20')
    assert options.parse({'state_dir': '/x'}).state_dir == '/x'


def test_every_module_takes_every_shared_option():
    spec = options.argument_spec({'app': dict(type='str', required=True)})
    for name in ('app', 'docker_host', 'timeout', 'state_dir', 'nginx_include_dir', 'proxy_listen_address',
                 'proxy_subnet'):
        assert name in spec, name
    assert spec['docker_host']['default'] == 'unix:///var/run/docker.sock'
    assert spec['api_version']['default'] == 'auto'
    assert spec['app'] == dict(type='str', required=True)
    spec['docker_host']['default'] = 'changed'
    assert DOCKER_COMMON_ARGS['docker_host']['default'] == 'unix:///var/run/docker.sock', 'the spec is a copy'
