# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app.json cron entries on the host (module_utils/_cron.py): the cron file of an app, its spec and runner, their
removal, and the report of the last runs; in a temporary state directory and cron directory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import sys

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _cron as cron
from ansible_collections.dokku_ps.docker.plugins.module_utils import _cron_runner as cron_runner
from ansible_collections.dokku_ps.docker.plugins.module_utils._app_json import cron_id

PYTHON = '/usr/bin/python3'


def entry(command='python manage.py clearsessions', schedule='0 3 * * *', policy='allow', maintenance=False):
    found = {'command': command, 'schedule': schedule, 'concurrency_policy': policy, 'maintenance': maintenance}
    found['id'] = cron_id(found)
    return found


NIGHTLY = entry()
HOURLY = entry('python manage.py send_mail', '@hourly', policy='forbid')
PAUSED = entry('python manage.py report', '*/5 * * * *', maintenance=True)
SPEC = {'app': 'shop', 'docker_host': 'unix:///var/run/docker.sock', 'active': True, 'entries': []}


@pytest.fixture
def table(tmp_path):
    (tmp_path / 'cron.d').mkdir()
    return cron.CronTable(str(tmp_path / 'state'), python=PYTHON, directory=str(tmp_path / 'cron.d'))


def _read(path):
    with open(path) as handle:
        return handle.read()


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _files(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


# -- names and text ------------------------------------------------------------------------------------------------

def test_the_file_name_has_no_dot():
    assert cron.file_name('shop') == 'dokku-ps-cron-shop'
    assert cron.file_name('shop.v2.eu') == 'dokku-ps-cron-shop_v2_eu'


def test_the_cron_directory(monkeypatch):
    monkeypatch.delenv(cron.CRON_DIR_VARIABLE, raising=False)
    assert cron.cron_dir() == '/etc/cron.d'
    monkeypatch.setenv(cron.CRON_DIR_VARIABLE, '/tmp/elsewhere')
    assert cron.cron_dir() == '/tmp/elsewhere'
    assert cron.CronTable('/var/lib/dokku-ps').cron_dir == '/tmp/elsewhere'


def test_a_table_runs_the_modules_python_unless_told():
    assert cron.CronTable('/var/lib/dokku-ps').python == sys.executable
    assert cron.CronTable('/var/lib/dokku-ps', python=PYTHON).python == PYTHON


def test_render_file_leaves_maintenance_entries_out():
    text = cron.render_file('shop', [NIGHTLY, PAUSED, HOURLY], PYTHON, '/s/cron/dokku-ps-cron-run', '/s/cron/shop.json',
                            '/s/cron/shop.log')
    lines = text.splitlines()
    assert text.endswith('\n')
    assert lines[0].startswith('# dokku_ps: the app.json cron entries of app shop')
    assert lines[1:3] == ['SHELL=/bin/sh', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']
    assert lines[3:] == [
        '0 3 * * * root /usr/bin/python3 /s/cron/dokku-ps-cron-run /s/cron/shop.json %s >> /s/cron/shop.log 2>&1'
        % NIGHTLY['id'],
        '@hourly root /usr/bin/python3 /s/cron/dokku-ps-cron-run /s/cron/shop.json %s >> /s/cron/shop.log 2>&1'
        % HOURLY['id'],
    ]
    assert PAUSED['id'] not in text and PAUSED['command'] not in text


def test_the_runner_text_is_the_runner_module():
    with open(cron_runner.__file__.replace('.pyc', '.py')) as handle:
        assert cron.runner_text() == handle.read()


# -- sync ----------------------------------------------------------------------------------------------------------

def test_sync_writes_the_runner_the_spec_and_the_cron_file(table):
    spec = dict(SPEC, entries=[dict(NIGHTLY, create={'image': 'sha256:x'})])
    assert table.sync('shop', [NIGHTLY, HOURLY], spec) is True
    paths = table.paths('shop')
    assert paths == {'cron': os.path.join(table.cron_dir, 'dokku-ps-cron-shop'),
                     'spec': os.path.join(table.dir, 'shop.json'), 'log': os.path.join(table.dir, 'shop.log'),
                     'runner': os.path.join(table.dir, 'dokku-ps-cron-run')}
    assert _read(paths['runner']) == cron.runner_text() and _mode(paths['runner']) == 0o700
    assert json.loads(_read(paths['spec'])) == spec and _mode(paths['spec']) == 0o600
    assert _read(paths['spec']) == json.dumps(spec, indent=2, sort_keys=True) + '\n'
    assert _read(paths['cron']) == cron.render_file('shop', [NIGHTLY, HOURLY], PYTHON, paths['runner'],
                                                    paths['spec'], paths['log'])
    assert _mode(paths['cron']) == 0o644
    assert _mode(table.dir) == 0o700
    assert not os.path.exists(paths['log']), 'cron writes the log'
    assert table.sync('shop', [NIGHTLY, HOURLY], spec) is False, 'the second run changes nothing'


def test_sync_writes_what_differs(table):
    table.sync('shop', [NIGHTLY], SPEC)
    paths = table.paths('shop')
    assert table.sync('shop', [NIGHTLY, HOURLY], SPEC) is True
    assert HOURLY['id'] in _read(paths['cron'])
    assert table.sync('shop', [NIGHTLY, HOURLY], dict(SPEC, active=False)) is True
    assert json.loads(_read(paths['spec']))['active'] is False
    os.chmod(paths['spec'], 0o644)
    assert table.sync('shop', [NIGHTLY, HOURLY], dict(SPEC, active=False)) is True
    assert _mode(paths['spec']) == 0o600, 'a mode changed by hand is put back'


def test_check_mode_predicts_and_writes_nothing(table):
    checking = cron.CronTable(table.state_dir, check_mode=True, python=PYTHON, directory=table.cron_dir)
    assert checking.sync('shop', [NIGHTLY], SPEC) is True
    assert not os.path.exists(table.state_dir) and _files(table.cron_dir) == []
    table.sync('shop', [NIGHTLY], SPEC)
    assert checking.sync('shop', [NIGHTLY], SPEC) is False
    assert checking.sync('shop', [NIGHTLY, HOURLY], SPEC) is True
    assert HOURLY['id'] not in _read(table.paths('shop')['cron'])
    assert checking.sync('shop', [], SPEC) is True
    assert checking.remove('shop') is True
    assert os.path.exists(table.paths('shop')['cron']) and os.path.exists(table.paths('shop')['spec'])


def test_sync_without_entries_removes(table):
    table.sync('shop', [NIGHTLY], SPEC)
    assert table.sync('shop', [], SPEC) is True
    assert _files(table.cron_dir) == [] and _files(table.dir) == ['dokku-ps-cron-run']
    assert table.sync('shop', [], SPEC) is False


# -- remove --------------------------------------------------------------------------------------------------------

def test_remove_deletes_the_apps_files_and_no_other_apps(table):
    for app in ('shop', 'shop.web', 'blog'):
        table.sync(app, [NIGHTLY], dict(SPEC, app=app))
        for found in (NIGHTLY, HOURLY):
            with open(os.path.join(table.dir, '%s.%s.last.json' % (app, found['id'])), 'w') as handle:
                handle.write('{}')
    with open(table.paths('shop')['log'], 'w') as handle:
        handle.write('a line\n')
    assert table.remove('shop') is True
    assert _files(table.cron_dir) == ['dokku-ps-cron-blog', 'dokku-ps-cron-shop_web']
    assert _files(table.dir) == sorted(
        ['blog.json', 'dokku-ps-cron-run', 'shop.log', 'shop.web.json']
        + ['%s.%s.last.json' % (app, found['id']) for app in ('blog', 'shop.web') for found in (NIGHTLY, HOURLY)])
    assert table.remove('shop') is False, 'nothing left'


def test_remove_of_an_app_that_never_had_entries(table):
    assert table.remove('shop') is False
    assert not os.path.exists(table.dir)


# -- report --------------------------------------------------------------------------------------------------------

def test_report_shows_each_entry_installed_and_its_last_run_masked(table):
    table.sync('shop', [NIGHTLY, HOURLY, PAUSED], SPEC)
    last = {'id': NIGHTLY['id'], 'schedule': NIGHTLY['schedule'], 'started_at': '2026-01-01T03:00:00Z',
            'finished_at': '2026-01-01T03:00:05Z', 'container': 'shop.cron.12345', 'rc': 0, 'result': 'succeeded',
            'output': ['token s3cr3t-token', 'done']}
    with open(os.path.join(table.dir, 'shop.%s.last.json' % NIGHTLY['id']), 'w') as handle:
        json.dump(last, handle)
    rows = table.report('shop', [NIGHTLY, HOURLY, PAUSED], mask=lambda line: line.replace('s3cr3t-token', 'XXXXXX'))
    assert [(row['id'], row['installed']) for row in rows] == [
        (NIGHTLY['id'], True), (HOURLY['id'], True), (PAUSED['id'], False)]
    assert rows[0] == {'id': NIGHTLY['id'], 'schedule': '0 3 * * *', 'command': NIGHTLY['command'],
                       'concurrency_policy': 'allow', 'maintenance': False, 'installed': True,
                       'last_run': dict(last, output=['token XXXXXX', 'done'])}
    assert rows[1]['concurrency_policy'] == 'forbid' and rows[1]['last_run'] is None
    assert rows[2]['maintenance'] is True
    unmasked = table.report('shop', [NIGHTLY])
    assert unmasked[0]['last_run']['output'] == ['token s3cr3t-token', 'done']


def test_report_of_an_app_without_its_cron_file(table):
    rows = table.report('shop', [NIGHTLY])
    assert rows[0]['installed'] is False and rows[0]['last_run'] is None
    assert table.report('shop', []) == []
