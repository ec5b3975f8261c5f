# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proxy work of one run (module_utils/_proxy.py): members, settings, conflicts, addresses, queued and
immediate configs, check mode; against fakes of the Docker client and of nginx's command line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy as proxy
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_config import ProxyError


def summary(name, state='running', address='172.16.240.2', app='shop', configured=True, cid=None):
    endpoint = {'IPAddress': address if state == 'running' else ''}
    if configured:
        endpoint['IPAMConfig'] = {'IPv4Address': address}
    return {'Id': cid or name, 'Names': ['/' + name], 'State': state, 'Labels': {'com.dokku.app-name': app},
            'NetworkSettings': {'Networks': {'dokku-ps': endpoint}}}


def doc(enabled=True, **proxy_settings):
    settings = {'enabled': enabled, 'ports': None, 'domains': [], 'wait_to_retire': None}
    settings.update(proxy_settings)
    return {'name': 'shop', 'web_port': 5000, 'proxy': settings}


def test_members_are_the_running_web_containers_of_the_app():
    summaries = [
        summary('shop.web.1', address='172.16.240.2'),
        summary('shop.web.2', state='restarting', address='172.16.240.3'),
        summary('shop.web.3', state='exited', address='172.16.240.4'),
        summary('shop.web.1.upcoming-ab12', address='172.16.240.5'),
        summary('shop.worker.1', address='172.16.240.6'),
        summary('shop.web.4', address='172.16.240.7', app='other'),
        summary('shop.web.5', address='172.16.240.8', configured=False),
        {'Id': 'x', 'Names': ['/shop.web.6'], 'State': 'running', 'Labels': {'com.dokku.app-name': 'shop'}},
    ]
    assert proxy.members('shop', summaries) == ['172.16.240.2', '172.16.240.3', '172.16.240.5', '172.16.240.8']
    assert proxy.members('shop', summaries, exclude=['shop.web.1']) == ['172.16.240.3', '172.16.240.5',
                                                                        '172.16.240.8']


def test_settings_defaults_and_the_reported_view():
    mappings, domains, wait = proxy.settings(doc())
    assert [str(m) for m in mappings] == ['http:80:5000'] and domains == () and wait == 10
    mappings, domains, wait = proxy.settings(doc(ports=['http:8080:5000', 'http:81:5001'], domains=['b.test', 'a.test'],
                                                 wait_to_retire=0))
    assert [str(m) for m in mappings] == ['http:81:5001', 'http:8080:5000'] and domains == ('a.test', 'b.test')
    assert wait == 0
    assert proxy.enabled(doc()) and not proxy.enabled(doc(False)) and not proxy.enabled({'name': 'x'})


def test_conflicts_with_other_apps():
    others = [dict(doc(domains=['a.test']), name='one'), dict(doc(False), name='off'), None]
    proxy.check_conflicts(doc(domains=['b.test']), others)  # another domain on the same port
    with pytest.raises(ValidationError, match=r'^domains\[0\]: is already served by app one'):
        proxy.check_conflicts(doc(domains=['a.test']), others)
    with pytest.raises(ValidationError, match=r'^proxy_ports: host port 80 is already used by app one'):
        proxy.check_conflicts(doc(), others)
    proxy.check_conflicts(doc(ports=['http:81:5000']), others)
    proxy.check_conflicts(doc(False), [dict(doc(), name='one')])  # a proxy that is off takes nothing


def test_upstream_members_of_a_live_config():
    text = proxy.ProxyRun(None, {}).wanted(doc(ports=['http:80:5000', 'http:81:5001']),
                                           ['172.16.240.3', '172.16.240.2'])
    assert proxy.upstream_members(text) == ['172.16.240.2:5000', '172.16.240.2:5001', '172.16.240.3:5000',
                                            '172.16.240.3:5001']
    assert proxy.upstream_members(proxy.ProxyRun(None, {}).wanted(doc(), [])) == []
    assert proxy.upstream_members(None) == []


class FakeDocker(object):
    def __init__(self, network=True, summaries=()):
        self.network = network
        self.summaries = list(summaries)
        self.calls = []

    def inspect_network(self, name):
        self.calls.append(('inspect_network', name))
        if not self.network:
            return None
        return {'IPAM': {'Config': [{'Subnet': '172.16.240.0/20', 'Gateway': '172.16.240.1',
                                     'IPRange': '172.16.255.0/24'}]}}

    def create_network(self, name, subnet, ip_range, labels):
        self.calls.append(('create_network', name, subnet, ip_range))
        self.network = True

    def list_containers(self, filters):
        self.calls.append(('list', filters))
        return list(self.summaries)


def test_addresses_are_picked_once_and_the_network_is_created_when_missing():
    docker = FakeDocker(network=False, summaries=[summary('shop.web.1', address='172.16.240.2'),
                                                  summary('x.web.1', state='exited', address='172.16.240.3')])
    run = proxy.ProxyRun(docker, {'proxy_subnet': '172.16.240.0/20'})
    assert run.address() == '172.16.240.4' and run.address() == '172.16.240.5'
    assert docker.calls[:2] == [('inspect_network', 'dokku-ps'),
                                ('create_network', 'dokku-ps', '172.16.240.0/20', '172.16.255.0/24')]
    assert [call[0] for call in docker.calls].count('list') == 1, 'one list call per run'
    docker.summaries.append(summary('y.web.1', address='172.16.240.6'))
    assert run.address(refresh=True) == '172.16.240.7', 'another run took one: learnt again, none handed twice'


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
    return proxy.ProxyRun(FakeDocker(), params, check_mode=check_mode, run=recorder), recorder, include


def test_queued_configs_are_applied_together_and_a_no_op_applies_nothing(tmp_path):
    run, recorder, include = make_run(tmp_path)
    run.sync(doc(), addresses=['172.16.240.2'])
    run.sync(dict(doc(), name='blog'), addresses=['172.16.240.3'])
    assert recorder.argvs == [], 'queued, not applied'
    assert run.flush() == ['blog', 'shop']
    assert sum('-t' in argv for argv in recorder.argvs) == 1 and sum('reload' in argv for argv in recorder.argvs) == 1
    assert sorted(os.listdir(str(include))) == ['.lock', 'blog.conf', 'shop.conf']

    again, recorder, _include = make_run(tmp_path)
    again.sync(doc(), addresses=['172.16.240.2'])
    assert again.flush() == [] and recorder.argvs == [] and again.changes == {}


def test_a_switch_is_applied_at_once_and_says_whether_members_left(tmp_path):
    run, recorder, include = make_run(tmp_path)
    summaries = [summary('shop.web.1', cid='old', address='172.16.240.2'),
                 summary('shop.web.1.upcoming-ab', cid='new', address='172.16.240.3')]
    assert run.switch(doc(), summaries, exclude=['old']) is True
    assert sum('reload' in argv for argv in recorder.argvs) == 1
    assert proxy.upstream_members((include / 'shop.conf').read_text()) == ['172.16.240.3:5000']
    assert run.switch(doc(), summaries, exclude=['old']) is False, 'unchanged: no reload, nothing to drain'
    assert run.switch(doc(), [summary('shop.web.2', cid='n2', address='172.16.240.4')] + summaries, exclude=[]) \
        is False, 'nobody left the upstream: nothing to drain'


def test_check_mode_predicts_and_writes_nothing(tmp_path):
    run, recorder, include = make_run(tmp_path, check_mode=True)
    run.sync(doc(), addresses=['172.16.240.2'])
    assert run.flush() == ['shop'] and recorder.argvs == [] and os.listdir(str(include)) == []
    assert run.changes['shop']['before'] is None and 'server 172.16.240.2:5000;' in run.changes['shop']['after']
    plan = planner.Plan()
    plan.phases.append([planner.Action(planner.CREATE, 'shop.web.1', 'web', 1)])
    (tmp_path / 'second').mkdir()
    predicting, _recorder, _include = make_run(tmp_path / 'second', check_mode=True)
    predicting.predict(doc(), [], plan)
    assert predicting.changes['shop']['after'].endswith('# and the web containers this run starts: shop.web.1\n')


def test_a_config_nginx_refuses_is_restored_and_named(tmp_path):
    run, _recorder, include = make_run(tmp_path, test_fails=True)
    run.sync(doc(), addresses=['172.16.240.2'])
    with pytest.raises(ProxyError, match='shop'):
        run.flush()
    assert os.listdir(str(include)) == ['.lock'], 'the new file did not stay'


def test_nothing_is_ready_without_an_include_directory(tmp_path):
    run = proxy.ProxyRun(FakeDocker(), {'nginx_include_dir': str(tmp_path / 'missing')})
    with pytest.raises(ProxyError, match='role dokku_ps.docker.proxy'):
        run.check_ready(doc())
    run.check_ready(doc(False))


def test_nginx_options_are_checked_before_anything_changes():
    proxy.validate_params({'proxy_listen_address': '127.0.0.1', 'proxy_subnet': '172.16.240.0/20'})
    with pytest.raises(ValidationError, match='^proxy_subnet: '):
        proxy.validate_params({'proxy_subnet': '172.16.240.1/20'})
    with pytest.raises(ValidationError, match='^proxy_listen_address: '):
        proxy.validate_params({'proxy_listen_address': 'not an address'})


def test_the_app_config_is_read_reported_and_compared_by_app_name(tmp_path):
    run, _recorder, include = make_run(tmp_path)
    assert not run.concerns(doc(False)) and run.report(doc(False)) == {'enabled': False}
    run.sync(doc(), addresses=['172.16.240.2'])
    run.flush()
    assert sorted(run.changes) == ['shop'] and run.changes['shop']['before'] is None
    text = (include / 'shop.conf').read_text()
    assert run.changes['shop']['after'] == text
    assert oct(os.stat(str(include / 'shop.conf')).st_mode & 0o777) == '0o644'
    assert run.concerns(doc(False)), 'a config is left'
    assert run.report(doc()) == {'enabled': True, 'ports': ['http:80:5000'], 'domains': [], 'wait_to_retire': 10,
                                 'config': str(include / 'shop.conf'), 'members': ['172.16.240.2:5000']}
    assert not run.differs('shop', text) and run.differs('shop', None) and run.differs('blog', 'x')
    with pytest.raises(ValidationError, match='^app: '):
        run.differs('../shop', None)
    assert run.remove('shop') is True and os.listdir(str(include)) == ['.lock']
    assert run.changes['shop'] == {'before': text, 'after': None}
