# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm services (module_utils/_swarm_specs.py): names, the list filter, restart policies, the rolling update, the
endpoint, the whole spec and its hash."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _swarm_specs as swarm_specs
from tests.unit.helpers import IMAGE_ID, OTHER_IMAGE_ID, app_document, app_with_app_json, healthcheck_entry
from tests.unit.helpers import paced_entry as entry

SECOND = 10 ** 9


def test_a_service_is_named_as_one_dns_label():
    assert swarm_specs.service_name('shop', 'web') == 'shop-web'
    assert swarm_specs.service_name('shop.v2', 'worker') == 'shop-v2-worker'


def test_a_name_longer_than_swarm_allows_is_refused_naming_it():
    with pytest.raises(ValidationError) as caught:
        swarm_specs.service_name('a' * 60, 'worker')
    assert str(caught.value).startswith('name: app %s: the Swarm service of its worker processes' % ('a' * 60))
    assert 'longer than the 63 characters Swarm allows' in str(caught.value)
    assert len(swarm_specs.service_name('a' * 59, 'web')) == 63


def test_one_filter_finds_every_service_of_an_app():
    assert swarm_specs.service_filter('shop') == {'label': ['com.dokku.app-name=shop', 'io.dokku-ps.scheduler=swarm']}


@pytest.mark.parametrize('policy, expected', [
    ('no', {'Condition': 'none', 'Delay': 0}),
    ('always', {'Condition': 'any', 'Delay': 0}),
    ('unless-stopped', {'Condition': 'any', 'Delay': 0}),
    ('on-failure', {'Condition': 'on-failure', 'Delay': 0}),
    ('on-failure:10', {'Condition': 'on-failure', 'Delay': 0, 'MaxAttempts': 10}),
])
def test_restart_policies_map_to_swarms(policy, expected):
    assert swarm_specs.restart_policy(policy) == expected


def test_the_monitor_window_covers_the_health_check():
    assert swarm_specs.monitor_seconds(None) == swarm_specs.DEFAULT_MONITOR_SECONDS
    check = {'Interval': 2 * SECOND, 'Timeout': 5 * SECOND, 'Retries': 3, 'StartPeriod': 4 * SECOND}
    assert swarm_specs.monitor_seconds(check) == 4 + 3 * (2 + 5)
    assert swarm_specs.monitor_seconds({'Interval': SECOND // 2, 'Timeout': SECOND // 2, 'Retries': 1}) == 5
    assert swarm_specs.monitor_seconds({'Interval': 3 * SECOND + 1, 'Timeout': 3 * SECOND, 'Retries': 1}) == 7


def test_updates_start_first_and_roll_back_on_failure():
    update = swarm_specs.update_config(None, 12)
    assert update == {'Parallelism': 1, 'Delay': 0, 'FailureAction': 'rollback', 'Monitor': 12 * SECOND,
                      'MaxFailureRatio': 0, 'Order': 'start-first'}
    assert swarm_specs.update_config(3, 5)['Parallelism'] == 3
    rollback = swarm_specs.rollback_config(2, 5)
    assert rollback['FailureAction'] == 'pause' and rollback['Order'] == 'start-first' and rollback['Parallelism'] == 2


def test_web_publishes_its_port_in_host_mode_and_other_types_nothing():
    assert swarm_specs.endpoint_spec(app_document(), 'web') == {
        'Mode': 'dnsrr', 'Ports': [{'Protocol': 'tcp', 'TargetPort': 5000, 'PublishMode': 'host'}]}
    assert swarm_specs.endpoint_spec(app_document(web_port=8080), 'web')['Ports'][0]['TargetPort'] == 8080
    assert swarm_specs.endpoint_spec(app_document(), 'worker') == {'Mode': 'dnsrr'}


def test_the_whole_spec_of_a_web_service():
    spec = swarm_specs.service_spec(app_document(), 'web', 3, 'on-failure:10', 30, parallelism=2)
    assert spec['name'] == 'demo-web'
    assert spec['mode'] == {'Replicated': {'Replicas': 3}}
    container = spec['task_template']['ContainerSpec']
    assert container['Image'] == IMAGE_ID and container['Init'] is True
    assert container['Args'] == ['server', '--port', '5000'], "Args keep the image's ENTRYPOINT, as a command does"
    assert container['Env'] == ['ALPHA=first', 'DYNO=web.{{.Task.Slot}}', 'PORT=5000', 'QUEUE=jobs', 'ZED=last']
    assert container['StopGracePeriod'] == 30 * SECOND and 'Healthcheck' not in container
    assert container['Labels'] == {'dokku': '', 'com.dokku.app-name': 'demo', 'com.dokku.process-type': 'web',
                                   'com.dokku.container-type': 'deploy'}
    assert spec['task_template']['RestartPolicy'] == {'Condition': 'on-failure', 'Delay': 0, 'MaxAttempts': 10}
    # no checks declared: Dokku's default, still up after 10 s, is the monitor window
    assert spec['update_config']['Parallelism'] == 2 and spec['update_config']['Monitor'] == 10 * SECOND
    own = {'io.dokku-ps.scheduler': 'swarm', 'io.dokku-ps.spec-hash': spec['hash']}
    assert spec['labels'] == dict(container['Labels'], **own)


def test_a_worker_gets_no_port_and_dyno_expands_in_its_command():
    doc = app_document(processes={'worker': 'work --name $DYNO --port=$PORT'})
    spec = swarm_specs.service_spec(doc, 'worker', 1, 'always', 10)
    container = spec['task_template']['ContainerSpec']
    assert container['Args'] == ['work', '--name', 'worker.{{.Task.Slot}}', '--port=']
    assert 'PORT=' in container['Env'] and spec['endpoint_spec'] == {'Mode': 'dnsrr'}


def test_the_image_command_runs_when_the_app_has_no_processes():
    spec = swarm_specs.service_spec(app_document(processes=None, process_source='none'), 'web', 1, 'no', 10)
    assert 'Args' not in spec['task_template']['ContainerSpec']


def test_liveness_checks_become_the_task_healthcheck_and_the_monitor_window():
    doc = app_with_app_json({'web': [entry(command=['true'], attempts=2, wait=3, timeout=4)]})
    spec = swarm_specs.service_spec(doc, 'web', 1, 'no', 10)
    health = spec['task_template']['ContainerSpec']['Healthcheck']
    assert health['Test'] == ['CMD', 'true'] and health['Retries'] == 2
    assert spec['update_config']['Monitor'] == swarm_specs.monitor_seconds(health) * SECOND > 5 * SECOND


def test_startup_and_readiness_checks_join_the_healthcheck_and_uptime_sets_the_monitor_window():
    doc = app_with_app_json({'web': [entry(command=['true'], attempts=2, wait=3, timeout=4),
                                     healthcheck_entry('readiness', 'ready', path='/ready'),
                                     healthcheck_entry('startup', 'up', uptime=20)],
                             'worker': [healthcheck_entry('startup', 'up', uptime=3)]})
    spec = swarm_specs.service_spec(doc, 'web', 1, 'no', 10)
    health = spec['task_template']['ContainerSpec']['Healthcheck']
    # the readiness entry first (gating checks, then liveness), each in its own subshell; both must pass
    assert health['Test'][0] == 'CMD-SHELL' and health['Test'][1].index('/ready') < health['Test'][1].index('true')
    assert health['Retries'] == 2 and health['Timeout'] == 9 * SECOND
    liveness = {'Interval': 3 * SECOND, 'Timeout': 4 * SECOND, 'Retries': 2}
    assert spec['update_config']['Monitor'] == max(20, swarm_specs.monitor_seconds(liveness)) * SECOND
    worker = swarm_specs.service_spec(doc, 'worker', 1, 'no', 10)
    assert 'Healthcheck' not in worker['task_template']['ContainerSpec'], 'an uptime is no command'
    assert worker['update_config']['Monitor'] == swarm_specs.DEFAULT_MONITOR_SECONDS * SECOND, 'at least the default'
    longer = app_with_app_json({'worker': [healthcheck_entry('startup', 'up', uptime=12)]})
    assert swarm_specs.service_spec(longer, 'worker', 1, 'no', 10)['update_config']['Monitor'] == 12 * SECOND


def test_the_hash_follows_what_needs_a_rolling_update_and_not_the_replicas():
    base = swarm_specs.service_spec(app_document(), 'web', 1, 'no', 10)
    assert swarm_specs.service_spec(app_document(), 'web', 5, 'no', 10)['hash'] == base['hash']
    for changed in (swarm_specs.service_spec(app_document(image_id=OTHER_IMAGE_ID), 'web', 1, 'no', 10),
                    swarm_specs.service_spec(app_document(env={'A': 'b'}), 'web', 1, 'no', 10),
                    swarm_specs.service_spec(app_document(), 'web', 1, 'always', 10),
                    swarm_specs.service_spec(app_document(), 'web', 1, 'no', 11),
                    swarm_specs.service_spec(app_document(), 'web', 1, 'no', 10, parallelism=2)):
        assert changed['hash'] != base['hash']


def test_an_image_from_a_registry_is_referenced_by_its_digest_there():
    assert swarm_specs.from_registry('registry.example.com/shop:1') and swarm_specs.from_registry('10.0.0.5:5000/shop')
    assert swarm_specs.from_registry('localhost/shop')
    assert not swarm_specs.from_registry('shop:1') and not swarm_specs.from_registry('team/shop:1')
    assert not swarm_specs.from_registry(None)
    data = {'RepoDigests': ['other.example.com/shop@sha256:' + 'c' * 64, '10.0.0.5:5000/shop@sha256:' + 'd' * 64]}
    assert swarm_specs.digest_reference('10.0.0.5:5000/shop:1', data) == '10.0.0.5:5000/shop@sha256:' + 'd' * 64
    assert swarm_specs.digest_reference('10.0.0.5:5000/shop', data) == '10.0.0.5:5000/shop@sha256:' + 'd' * 64
    assert swarm_specs.digest_reference('10.0.0.5:5000/blog:1', data) is None, 'never pushed there'
    assert swarm_specs.digest_reference('10.0.0.5:5000/shop:1', {}) is None
    digest = '10.0.0.5:5000/shop@sha256:' + 'd' * 64
    by_digest = swarm_specs.service_spec(app_document(), 'web', 1, 'no', 10, image=digest)
    assert by_digest['task_template']['ContainerSpec']['Image'] == digest
    assert by_digest['hash'] != swarm_specs.service_spec(app_document(), 'web', 1, 'no', 10)['hash']


def _gating(**doc):
    return swarm_specs.gating_checks(app_document(**doc), 'web')


def test_the_checks_a_container_passes_on_docker_local_gate_the_tasks_on_swarm():
    # the default: still up after 10 s, no command
    assert _gating() == ([], 10, 'start-first')
    # the checks option: a command and HTTP checks with its wait, timeout and attempts, and its uptime
    checks = {'web': {'uptime': 3, 'attempts': 2, 'wait': 1, 'timeout': 4, 'command': ['true'],
                      'http': [{'path': '/health', 'content': 'ok', 'host': 'shop.test', 'scheme': 'http'}]}}
    entries, uptime, order = _gating(checks=checks)
    assert uptime == 3 and order == 'start-first'
    assert [(entry['name'], entry['command'], entry['path'], entry['host']) for entry in entries] == [
        ('command', ['true'], None, None), ('/health', None, '/health', 'shop.test')]
    assert all((entry['attempts'], entry['wait'], entry['timeout']) == (2, 1, 4) for entry in entries)
    spec = swarm_specs.service_spec(app_document(checks=checks), 'web', 1, 'no', 10)
    health = spec['task_template']['ContainerSpec']['Healthcheck']
    assert health['Test'][0] == 'CMD-SHELL' and "'Host: shop.test'" in health['Test'][1] and health['Retries'] == 2
    # the image's CHECKS file
    image_checks = {'http': [{'path': '/ready', 'content': None, 'host': None, 'scheme': 'http'}], 'wait': 2}
    entries, uptime, _order = _gating(image_checks=image_checks)
    assert [entry['path'] for entry in entries] == ['/ready'] and entries[0]['wait'] == 2 and uptime == 0
    # skipped: nothing; disabled: nothing, and the old task stops first (Dokku's meaning)
    assert _gating(checks={'web': {'mode': 'skipped'}}) == ([], 0, 'start-first')
    assert _gating(checks={'web': {'mode': 'disabled'}}) == ([], 0, 'stop-first')
    disabled = swarm_specs.service_spec(app_document(checks={'web': {'mode': 'disabled'}}), 'web', 1, 'no', 10)
    assert disabled['update_config']['Order'] == disabled['rollback_config']['Order'] == 'stop-first'
    assert disabled['update_config']['Monitor'] == swarm_specs.DEFAULT_MONITOR_SECONDS * SECOND
