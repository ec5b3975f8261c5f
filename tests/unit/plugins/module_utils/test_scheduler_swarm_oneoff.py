# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""swarm's one-offs (module_utils/_scheduler_swarm_oneoff.py): the release's container on the manager's daemon, off
the proxy's network; the app's one-offs found by one list call and shown as docker-local shows them (the scheduler's
use of them: test_scheduler_swarm.py; on a real swarm: tests/integration/test_swarm_scheduler.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_swarm_oneoff as swarm_oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from tests.unit.fake_docker import FakeDocker, calls_of, summary
from tests.unit.helpers import IMAGE_ID, app_document, refused

PROXIED = {'enabled': True, 'ports': ['http:80:5000'], 'domains': [], 'wait_to_retire': None, 'tls': None}


def _oneoff(name, kind, state='running', **labels):
    labels = dict({specs.LABEL_APP: 'demo', specs.LABEL_CONTAINER_TYPE: kind}, **labels)
    return summary(name[:4] + 'id', name, labels, state=state)


def test_the_one_offs_document_has_no_proxy_network_and_keeps_the_rest():
    doc = app_document(name='demo', proxy=PROXIED)
    seen = swarm_oneoff.oneoff_doc(doc)
    assert seen['proxy']['enabled'] is False and seen['proxy']['ports'] == ['http:80:5000']
    assert doc['proxy']['enabled'] is True, 'the document itself is left alone'
    entry = {'id': 'tick', 'command': 'tick', 'schedule': '@daily', 'concurrency_policy': 'allow'}
    spec = swarm_oneoff.cron_spec(FakeDocker(host='tcp://m:2375'), doc, [entry], False)
    assert spec['docker_host'] == 'tcp://m:2375' and spec['active'] is False and spec['app'] == 'demo'
    assert spec['entries'][0]['create']['network'] is None and spec['entries'][0]['create']['image'] == doc['image_id']


def test_the_apps_one_offs_are_one_list_call_and_shown_like_docker_locals():
    docker = FakeDocker([_oneoff('demo.run.12345', 'run'),
                         _oneoff('demo.release.23456', 'release', state='exited', dokku_phase_script='predeploy'),
                         summary('w1', 'demo-web.1.abc', {specs.LABEL_APP: 'demo', specs.LABEL_CONTAINER_TYPE: 'deploy'}),
                         _oneoff('other.run.34567', 'run', **{specs.LABEL_APP: 'other'})])
    found = swarm_oneoff.oneoffs(docker, 'demo')
    assert [swarm_oneoff.name_of(entry) for entry in found] == ['demo.release.23456', 'demo.run.12345']
    assert [swarm_oneoff.kind_of(entry) for entry in found] == ['release', 'run']
    assert len(calls_of(docker, 'list_containers')) == 1
    shown = swarm_oneoff.report(found)
    assert shown[0] == {'name': 'demo.release.23456', 'kind': 'release', 'state': 'exited', 'status': shown[0]['status'],
                        'cron_id': None, 'phase': 'predeploy'}


def test_a_manager_without_the_image_is_named():
    docker = FakeDocker(host='tcp://m:2375')
    doc = app_document(name='demo', image='demo:1')
    message = refused(swarm_oneoff.require_image, docker, doc)
    assert message == ('image: app demo runs its one-offs on the swarm manager at tcp://m:2375, which lacks the image '
                       'demo:1 (%s): copy it there (dokku_ps.docker.dokku_ps_image)' % IMAGE_ID)
    docker.images[IMAGE_ID] = {'Id': IMAGE_ID}
    swarm_oneoff.require_image(docker, doc)
