# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The program a cron entry runs (module_utils/_cron_runner.py): one entry as a one-off container under its
concurrency policy, and its result recorded; on a fake of the Docker SDK's low-level API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import sys
import types

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _cron_runner as cron_runner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from ansible_collections.dokku_ps.docker.plugins.module_utils._app_json import cron_id
from tests.unit.helpers import IMAGE_ID, app_document

DOCKER_HOST = 'unix:///var/run/docker.sock'


def cron_entry(policy='allow', command='python manage.py clearsessions', **extra):
    found = {'command': command, 'schedule': '0 3 * * *', 'concurrency_policy': policy, 'maintenance': False}
    found['id'] = cron_id(found)
    # what the collection writes for the runner (_scheduler_local.LocalApp.cron_spec)
    req = oneoff.request(oneoff.CRON, command, cron_id=found['id'], concurrency=policy)
    spec = specs.oneoff_spec(app_document(name='shop', env={'QUEUE': 'jobs'}), req, 0)
    found['create'] = dict((key, spec[key]) for key in ('image', 'command', 'env', 'labels', 'network'))
    found.update(extra)
    return found


def spec_of(*entries, **changes):
    spec = {'app': 'shop', 'docker_host': DOCKER_HOST, 'active': True, 'entries': list(entries)}
    spec.update(changes)
    return spec


class FakeAPI(object):
    """The calls the runner makes of docker.APIClient: ``running`` the containers the list call shows (the daemon's
    filters are the test's business: it lists what it is given), ``status`` the exit status ``wait`` answers (an
    exception: raised, as the SDK does at its read timeout), ``output`` what ``logs`` answers, ``conflicts`` how many
    creates fail with a 409 first."""

    def __init__(self, running=(), status=0, output=b'', conflicts=0):
        self.running = list(running)
        self.status = status
        self.output = output
        self.conflicts = conflicts
        self.calls = []

    def _record(self, method, *args, **kwargs):
        self.calls.append((method, args, kwargs))

    def methods(self):
        return [call[0] for call in self.calls]

    def containers(self, filters=None):
        self._record('containers', filters=filters)
        return list(self.running)

    def update_container(self, container, **kwargs):
        self._record('update_container', container, **kwargs)

    def stop(self, container, timeout=None):
        self._record('stop', container, timeout=timeout)

    def create_host_config(self, **kwargs):
        self._record('create_host_config', **kwargs)
        return dict(kwargs)

    def create_container(self, **kwargs):
        self._record('create_container', **kwargs)
        if self.conflicts:
            self.conflicts -= 1
            raise Exception('409 Client Error for http+docker://localhost/containers/create: Conflict')
        return {'Id': 'new-%s' % kwargs['name']}

    def start(self, container):
        self._record('start', container)

    def wait(self, container, timeout=None):
        self._record('wait', container, timeout=timeout)
        if isinstance(self.status, Exception):
            raise self.status
        return {'StatusCode': self.status, 'Error': None}

    def logs(self, container, stdout=True, stderr=True):
        self._record('logs', container, stdout=stdout, stderr=stderr)
        return self.output

    def remove_container(self, container, force=False):
        self._record('remove_container', container, force=force)

    def called(self, method):
        return [(args, kwargs) for name, args, kwargs in self.calls if name == method]


@pytest.fixture
def numbers(monkeypatch):
    drawn = []

    def randint(low, high):
        assert (low, high) == (10000, 99999)
        return drawn.pop(0) if drawn else 12345
    monkeypatch.setattr(cron_runner.random, 'randint', randint)
    return drawn


def _last(path):
    with open(path) as handle:
        return json.load(handle)


# -- run_entry -----------------------------------------------------------------------------------------------------

def test_allow_creates_the_one_off_waits_and_records_the_result(tmp_path, numbers):
    entry = cron_entry()
    api = FakeAPI(status=0, output=''.join('line %d\n' % n for n in range(30)).encode())
    last = str(tmp_path / 'shop.last.json')
    found = cron_runner.run_entry(api, spec_of(entry), entry, last)
    assert api.methods() == ['create_host_config', 'create_container', 'start', 'wait', 'logs', 'remove_container']
    (_args, create), = api.called('create_container')
    assert create['name'] == 'shop.cron.12345' and create['image'] == IMAGE_ID
    assert create['command'] == ['python', 'manage.py', 'clearsessions'] and create['detach'] is True
    assert [item for item in create['environment'] if item.startswith('DYNO=')] == ['DYNO=cron.12345']
    assert 'QUEUE=jobs' in create['environment']
    assert create['labels'][cron_runner.LABEL_DYNO] == 'cron.12345'
    assert create['labels'][cron_runner.LABEL_CRON_ID] == entry['id'] == create['labels'][specs.LABEL_CRON_ID]
    assert create['labels'][specs.LABEL_CONTAINER_TYPE] == 'cron' and create['labels'][specs.LABEL_APP] == 'shop'
    assert create['host_config'] == {'init': True, 'restart_policy': {'Name': 'no'}, 'network_mode': None}
    assert api.called('wait') == [(('new-shop.cron.12345',), {'timeout': 86400})]
    assert api.called('remove_container') == [(('new-shop.cron.12345',), {'force': True})]
    assert found['container'] == 'shop.cron.12345' and found['rc'] == 0 and found['result'] == 'succeeded'
    assert found['output'] == ['line %d' % n for n in range(10, 30)]
    assert found['started_at'] and found['finished_at'] and found['schedule'] == '0 3 * * *'
    assert _last(last) == found
    assert stat.S_IMODE(os.stat(last).st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ['shop.last.json'], 'no temporary file left'
    assert api.called('containers') == [], 'allow asks for no running one'


def test_a_failing_command_is_recorded_as_failed(tmp_path, numbers):
    entry = cron_entry(timeout=30)
    api = FakeAPI(status=2, output=b'boom\n')
    found = cron_runner.run_entry(api, spec_of(entry), entry, str(tmp_path / 'last.json'))
    assert (found['rc'], found['result'], found['output']) == (2, 'failed', ['boom'])
    assert api.called('wait')[0][1] == {'timeout': 30}


def test_the_proxy_network_is_joined(tmp_path, numbers):
    entry = cron_entry()
    entry['create']['network'] = 'dokku-ps'
    api = FakeAPI()
    cron_runner.run_entry(api, spec_of(entry), entry, str(tmp_path / 'last.json'))
    assert api.called('create_host_config')[0][1]['network_mode'] == 'dokku-ps'


def test_forbid_skips_while_a_run_of_the_entry_runs(tmp_path, numbers):
    entry = cron_entry(policy='forbid')
    api = FakeAPI(running=[{'Id': 'old', 'Names': ['/shop.cron.55555']}])
    last = str(tmp_path / 'last.json')
    found = cron_runner.run_entry(api, spec_of(entry), entry, last)
    assert api.methods() == ['containers']
    labels = ['%s=%s' % (cron_runner.LABEL_CRON_ID, entry['id']), '%s=%s' % (cron_runner.LABEL_APP, 'shop')]
    assert api.called('containers') == [((), {'filters': {'label': labels, 'status': ['running']}})]
    assert found['result'] == 'skipped' and found['container'] is None and found['rc'] is None
    assert found['output'] == ['skipped: shop.cron.55555 still runs (concurrency_policy forbid)']
    assert _last(last) == found


def test_forbid_runs_when_none_runs(tmp_path, numbers):
    entry = cron_entry(policy='forbid')
    api = FakeAPI()
    found = cron_runner.run_entry(api, spec_of(entry), entry, str(tmp_path / 'last.json'))
    assert api.methods()[:2] == ['containers', 'create_host_config'] and found['result'] == 'succeeded'


def test_replace_stops_the_running_one_first(tmp_path, numbers):
    entry = cron_entry(policy='replace')
    api = FakeAPI(running=[{'Id': 'old', 'Names': ['/shop.cron.55555']}])
    found = cron_runner.run_entry(api, spec_of(entry), entry, str(tmp_path / 'last.json'))
    assert api.methods()[:4] == ['containers', 'update_container', 'stop', 'create_host_config']
    assert api.called('update_container') == [(('old',), {'restart_policy': {'Name': 'no'}})]
    assert api.called('stop') == [(('old',), {'timeout': 10})]
    assert found['result'] == 'succeeded'


def test_a_wait_that_times_out_stops_the_one_off(tmp_path, numbers):
    entry = cron_entry()
    api = FakeAPI(status=Exception('UnixHTTPConnectionPool: Read timed out.'), output=b'half done\n')
    found = cron_runner.run_entry(api, spec_of(entry), entry, str(tmp_path / 'last.json'))
    assert api.methods() == ['create_host_config', 'create_container', 'start', 'wait', 'stop', 'logs',
                             'remove_container']
    assert api.called('stop') == [(('new-shop.cron.12345',), {'timeout': 10})]
    assert (found['rc'], found['result'], found['output']) == (None, 'timed out', ['half done'])


def test_a_name_already_taken_draws_another_number(tmp_path, numbers):
    numbers.extend([11111, 22222])
    entry = cron_entry()
    api = FakeAPI(conflicts=1)
    found = cron_runner.run_entry(api, spec_of(entry), entry, str(tmp_path / 'last.json'))
    assert [kwargs['name'] for _args, kwargs in api.called('create_container')] == [
        'shop.cron.11111', 'shop.cron.22222']
    assert found['container'] == 'shop.cron.22222'
    assert api.called('create_container')[1][1]['labels'][cron_runner.LABEL_DYNO] == 'cron.22222'


def test_names_taken_at_every_attempt_fail(tmp_path, numbers):
    entry = cron_entry()
    api = FakeAPI(conflicts=5)
    with pytest.raises(Exception, match='409'):
        cron_runner.run_entry(api, spec_of(entry), entry, str(tmp_path / 'last.json'))
    assert len(api.called('create_container')) == 5 and 'start' not in api.methods()


# -- main ----------------------------------------------------------------------------------------------------------

def _spec_file(tmp_path, spec):
    path = tmp_path / 'shop.json'
    path.write_text(json.dumps(spec))
    return str(path)


def test_main_without_its_two_arguments_prints_its_usage(capsys):
    assert cron_runner.main(['dokku-ps-cron-run']) == 2
    assert cron_runner.main(['dokku-ps-cron-run', 'a', 'b', 'c']) == 2
    assert capsys.readouterr().out.startswith('usage: dokku-ps-cron-run <cron spec> <entry id>')


def test_main_runs_nothing_for_an_entry_no_longer_there(tmp_path, capsys):
    path = _spec_file(tmp_path, spec_of(cron_entry()))
    assert cron_runner.main(['runner', path, 'ffffffffffff']) == 0
    assert capsys.readouterr().out.rstrip().endswith('dokku-ps-cron shop ffffffffffff: no such entry any more, '
                                                     'nothing run')
    assert sorted(os.listdir(str(tmp_path))) == ['shop.json']


def test_main_runs_nothing_while_the_app_is_stopped(tmp_path, capsys):
    entry = cron_entry()
    path = _spec_file(tmp_path, spec_of(entry, active=False))
    assert cron_runner.main(['runner', path, entry['id']]) == 0
    assert capsys.readouterr().out.rstrip().endswith('the app is stopped, nothing run')
    assert sorted(os.listdir(str(tmp_path))) == ['shop.json']


@pytest.mark.parametrize('status, rc, word', [(0, 0, 'succeeded'), (1, 1, 'failed')])
def test_main_runs_the_entry_with_the_sdk_and_says_how_it_went(tmp_path, capsys, monkeypatch, numbers, status, rc,
                                                               word):
    entry = cron_entry()
    path = _spec_file(tmp_path, spec_of(entry))
    made = []

    def api_client(base_url=None, version=None, timeout=None):
        made.append((base_url, version, timeout))
        return FakeAPI(status=status)
    monkeypatch.setitem(sys.modules, 'docker', types.SimpleNamespace(APIClient=api_client))
    assert cron_runner.main(['runner', path, entry['id']]) == rc
    assert made == [(DOCKER_HOST, 'auto', 60)]
    assert capsys.readouterr().out.rstrip().endswith(': shop.cron.12345 %s (exit status %d)' % (word, status))
    assert _last(str(tmp_path / ('shop.%s.last.json' % entry['id'])))['result'] == word


def test_a_docker_error_is_recorded_as_a_failed_run(tmp_path, monkeypatch):
    entry = cron_entry()
    spec = spec_of(entry)
    spec_path = tmp_path / 'shop.json'
    spec_path.write_text(json.dumps(spec))

    class Broken(object):
        def __init__(self, **kwargs):
            pass

        def containers(self, **kwargs):
            raise RuntimeError('Cannot connect to the Docker daemon\nsecond line')
        create_host_config = containers

    fake_docker = type(sys)('docker')
    fake_docker.APIClient = Broken
    monkeypatch.setitem(sys.modules, 'docker', fake_docker)
    assert cron_runner.main(['runner', str(spec_path), entry['id']]) == 1
    with open(str(tmp_path / ('shop.%s.last.json' % entry['id']))) as handle:
        last = json.load(handle)
    assert last['result'] == 'failed' and last['output'] == ['error: Cannot connect to the Docker daemon']
