# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proxy work of one run (module_utils/_proxy.py): queued and immediate configs, check mode, the report;
against a fake of nginx's command line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy as proxy
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_config import ProxyError
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import NO_PROXY, settings_of
from tests.unit.helpers import app_document


def settings(enabled=True, **proxy_settings):
    """The ProxySettings of app shop with these document settings."""
    values = dict(NO_PROXY, enabled=enabled)
    values.update(proxy_settings)
    return settings_of(app_document(name='shop', web_port=5000, proxy=values))


class Recorder(object):
    """nginx's command line: ``nginx -t`` and ``nginx -s reload`` succeed unless told otherwise."""

    def __init__(self, test_fails=False):
        self.argvs = []
        self.test_fails = test_fails

    def __call__(self, argv):
        self.argvs.append(argv)
        if '-t' in argv and self.test_fails:
            return 1, '', 'nginx: [emerg] unknown directive "this" in /x.conf:1\nnginx: configuration file test failed'
        return 0, '', ''


def make_run(tmp_path, check_mode=False, test_fails=False):
    include = tmp_path / 'dokku-ps'
    include.mkdir(exist_ok=True)
    pid = tmp_path / 'nginx.pid'
    pid.write_text('1\n')
    recorder = Recorder(test_fails)
    params = {'nginx_include_dir': str(include), 'nginx_binary': '/usr/sbin/nginx', 'nginx_conf': '/x/nginx.conf',
              'nginx_pid_file': str(pid)}
    return proxy.ProxyRun(options.proxy_options(params), check_mode=check_mode, run=recorder), recorder, include


def test_upstream_members_of_a_live_config(tmp_path):
    run, _recorder, _include = make_run(tmp_path)
    text = run.wanted('shop', settings(ports=['http:80:5000', 'http:81:5001']), ['172.16.240.3', '172.16.240.2'])
    assert proxy.upstream_members(text) == ['172.16.240.2:5000', '172.16.240.2:5001', '172.16.240.3:5000',
                                            '172.16.240.3:5001']
    assert proxy.upstream_members(run.wanted('shop', settings(), [])) == []
    assert proxy.upstream_members(None) == []
    assert run.wanted('shop', settings(False), ['172.16.240.2']) is None, 'no config for a proxy that is off'


def test_queued_configs_are_applied_together_and_a_no_op_applies_nothing(tmp_path):
    run, recorder, include = make_run(tmp_path)
    run.sync('shop', settings(), ['172.16.240.2'])
    run.sync('blog', settings(), ['172.16.240.3'])
    assert recorder.argvs == [], 'queued, not applied'
    assert run.flush() == ['blog', 'shop']
    assert sum('-t' in argv for argv in recorder.argvs) == 1 and sum('reload' in argv for argv in recorder.argvs) == 1
    assert sorted(os.listdir(str(include))) == ['.lock', 'blog.conf', 'shop.conf']

    again, recorder, _include = make_run(tmp_path)
    again.sync('shop', settings(), ['172.16.240.2'])
    assert again.flush() == [] and recorder.argvs == [] and again.changes == {}


def test_a_switch_is_applied_at_once_and_says_whether_members_left(tmp_path):
    run, recorder, include = make_run(tmp_path)
    before, after = ['172.16.240.2', '172.16.240.3'], ['172.16.240.3']
    assert run.switch('shop', settings(), before, after) is True
    assert sum('reload' in argv for argv in recorder.argvs) == 1
    assert proxy.upstream_members((include / 'shop.conf').read_text()) == ['172.16.240.3:5000']
    assert run.switch('shop', settings(), before, after) is False, 'unchanged: no reload, nothing to drain'
    assert run.switch('shop', settings(), after, ['172.16.240.3', '172.16.240.4']) is False, \
        'nobody left the upstream: nothing to drain'


def test_check_mode_predicts_and_writes_nothing(tmp_path):
    run, recorder, include = make_run(tmp_path, check_mode=True)
    run.sync('shop', settings(), ['172.16.240.2'])
    assert run.flush() == ['shop'] and recorder.argvs == [] and os.listdir(str(include)) == []
    assert run.changes['shop']['before'] is None and 'server 172.16.240.2:5000;' in run.changes['shop']['after']
    (tmp_path / 'second').mkdir()
    predicting, _recorder, _include = make_run(tmp_path / 'second', check_mode=True)
    predicting.predict('shop', settings(), [], ['shop.web.1'])
    assert predicting.changes['shop']['after'].endswith('# and the web containers this run starts: shop.web.1\n')


def test_a_config_nginx_refuses_is_restored_and_named(tmp_path):
    run, _recorder, include = make_run(tmp_path, test_fails=True)
    run.sync('shop', settings(), ['172.16.240.2'])
    with pytest.raises(ProxyError, match='shop'):
        run.flush()
    assert os.listdir(str(include)) == ['.lock'], 'the new file did not stay'


def test_nothing_is_ready_without_an_include_directory(tmp_path):
    run = proxy.ProxyRun(options.proxy_options({'nginx_include_dir': str(tmp_path / 'missing')}))
    with pytest.raises(ProxyError, match='role dokku_ps.docker.proxy'):
        run.check_ready('shop', settings())
    run.check_ready('shop', settings(False))


def test_the_report_shows_the_settings_and_the_live_members(tmp_path):
    run, _recorder, include = make_run(tmp_path)
    assert run.report('shop', settings(False)) == {'enabled': False}
    assert not run.concerns('shop', settings(False)) and run.concerns('shop', settings())
    run.sync('shop', settings(domains=['a.test']), ['172.16.240.2'])
    run.flush()
    assert run.concerns('shop', settings(False)), 'a config left behind still concerns the run'
    assert run.report('shop', settings(False, domains=['a.test'], wait_to_retire=3)) == {
        'enabled': False, 'ports': ['http:80:5000'], 'domains': ['a.test'], 'wait_to_retire': 3,
        'config': str(include / 'shop.conf'), 'members': ['172.16.240.2:5000']}


def test_the_app_config_is_written_by_app_name_and_removed(tmp_path):
    run, _recorder, include = make_run(tmp_path)
    run.sync('shop', settings(), ['172.16.240.2'])
    run.flush()
    assert sorted(run.changes) == ['shop'] and run.changes['shop']['before'] is None
    text = (include / 'shop.conf').read_text()
    assert run.changes['shop']['after'] == text
    assert oct(os.stat(str(include / 'shop.conf')).st_mode & 0o777) == '0o644'
    assert run.remove('shop') is True and os.listdir(str(include)) == ['.lock']
    assert run.changes['shop'] == {'before': text, 'after': None}
    with pytest.raises(ValidationError, match='^app: '):
        run.remove('../shop')
