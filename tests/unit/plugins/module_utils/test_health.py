# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App.json healthchecks (module_utils/_health.py): entry kinds and order, check ports, liveness as Docker HEALTHCHECK."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import subprocess

from ansible_collections.dokku_ps.docker.plugins.module_utils import _health as health
from ansible_collections.dokku_ps.docker.plugins.module_utils import _names as names
from tests.unit.helpers import app_document, app_with_app_json as with_app_json, paced_entry as entry


def test_entry_kind_and_order():
    assert health.entry_kind(entry(command=['true'], path='/x', listening=True)) == health.COMMAND_CHECK
    assert health.entry_kind(entry(listening=True, path='/x')) == health.LISTENING_CHECK
    assert health.entry_kind(entry(uptime=5)) == health.UPTIME_CHECK
    assert health.entry_kind(entry(uptime=5, path='/x')) == health.HTTP_CHECK
    assert health.entry_kind(entry(path='/x')) == health.HTTP_CHECK
    assert health.entry_kind(entry()) == health.HTTP_CHECK, 'an entry without anything is an HTTP check of /'
    doc = with_app_json({'web': [entry('readiness', 'r1'), entry('liveness', 'l1'), entry('startup', 's1'),
                                 entry('readiness', 'r2'), entry('startup', 's2')]})
    names = [item['name'] for item in health.app_json_checks(doc, 'web', health.GATING_CHECK_TYPES)]
    assert names == ['s1', 's2', 'r1', 'r2']
    assert health.app_json_checks(doc, 'worker', health.GATING_CHECK_TYPES) == []
    assert health.app_json_checks(app_document(), 'web', health.GATING_CHECK_TYPES) == []
    assert health.app_json_checks(with_app_json(None), 'web', health.GATING_CHECK_TYPES) == []


def test_check_port():
    assert health.check_port(app_document(web_port=8080), 'web') == 8080
    assert health.check_port(app_document(web_port=None), 'web') == names.DEFAULT_WEB_PORT
    assert health.check_port(app_document(web_port=8080), 'worker') == 5000, "Dokku's port for types without PORT"
    assert health.check_port(app_document(web_port=8080), 'web', 9000) == 9000
    assert health.check_port(app_document(web_port=8080), 'worker', 9000) == 9000


def test_docker_healthcheck_durations():
    def config(**fields):
        return health.docker_healthcheck(with_app_json({'web': [entry(command=['true'], **fields)]}), 'web')

    assert config(wait=7, timeout=3, attempts=4, initial_delay=20) == {
        'Test': ['CMD', 'true'], 'Interval': 7 * 10 ** 9, 'Timeout': 3 * 10 ** 9, 'Retries': 4,
        'StartPeriod': 20 * 10 ** 9}
    floored = config(wait=0, timeout=0, attempts=1, initial_delay=0)
    # 0 would mean "the image's value, else Docker's default" (30 s); durations are 0 or at least 1 ms
    assert floored['Interval'] == 10 ** 9 and floored['Timeout'] == 10 ** 9
    assert floored['StartPeriod'] == health.MIN_HEALTH_DURATION and floored['Retries'] == 1
    assert health.docker_healthcheck(app_document(), 'web') is None
    assert health.docker_healthcheck(with_app_json({'web': [entry('startup', command=['true'])]}), 'web') is None


def test_docker_healthcheck_http_and_listening_tests():
    doc = with_app_json({'web': [entry(path='/health')], 'worker': [entry(path='/up', port=8000, scheme='https')],
                         'clock': [entry(listening=True)]}, web_port=8080)
    web = health.docker_healthcheck(doc, 'web')['Test']
    assert web == ['CMD-SHELL', "{ wget -q -O - http://127.0.0.1:8080/health || "
                                "curl -fsS http://127.0.0.1:8080/health; } >/dev/null"]
    worker = health.docker_healthcheck(doc, 'worker')['Test'][1]
    assert 'wget -q --no-check-certificate -O - https://127.0.0.1:8000/up' in worker
    assert 'curl -fsSk https://127.0.0.1:8000/up' in worker
    clock = health.docker_healthcheck(doc, 'clock')['Test']
    assert clock[0] == 'CMD-SHELL' and '*:1388\\ 0A) exit 0' in clock[1], 'port 5000 is 1388 in /proc/net/tcp'
    assert '/proc/net/tcp /proc/net/tcp6' in clock[1]


def test_docker_healthcheck_quotes_every_value():
    nasty = "it's $HOME `id` \"x\" *"
    doc = with_app_json({'web': [entry(path="/a'b$c", content=nasty)]})
    script = health.docker_healthcheck(doc, 'web')['Test'][1]
    assert "'http://127.0.0.1:5000/a'\"'\"'b$c'" in script
    assert 'case "$body" in *' + "'it'\"'\"'s $HOME `id` \"x\" *'" + '*)' in script


def _run_health_script(tmp_path, script, body, client='wget', status=0):
    """Run a CMD-SHELL test with /bin/sh and a fake HTTP client on PATH that records its arguments and prints
    ``body``: what the shell makes of the quoting, without a container."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / 'body').write_bytes(body.encode('utf-8'))
    fake = bin_dir / client
    fake.write_text('#!/bin/sh\nfor arg in "$@"; do printf "%%s\\n" "$arg"; done > "%s"\ncat "%s"\nexit %d\n'
                    % (tmp_path / 'args', tmp_path / 'body', status))
    fake.chmod(0o755)
    if not (bin_dir / 'cat').exists():
        (bin_dir / 'cat').symlink_to(shutil.which('cat'))
    # nothing but the fake client and cat: no wget or curl of this host answers instead
    env = {'PATH': str(bin_dir), 'HOME': '/expanded-home'}
    done = subprocess.run(['/bin/sh', '-c', script], env=env, capture_output=True, timeout=10, check=False)
    return done.returncode, (tmp_path / 'args').read_text().splitlines()


def test_docker_healthcheck_script_runs_in_a_shell_with_every_value_literal(tmp_path):
    nasty = "it's $HOME `id` \"x\" *"
    script = health.docker_healthcheck(with_app_json({'web': [entry(path="/a'b$c", content=nasty)]}), 'web')['Test'][1]
    code, args = _run_health_script(tmp_path, script, 'before %s\nafter' % nasty)
    assert code == 0 and args == ['-q', '-O', '-', "http://127.0.0.1:5000/a'b$c"]
    code, _args = _run_health_script(tmp_path, script, "it's /expanded-home uid=0 \"x\" *")
    assert code == 1, 'the content is matched literally, never expanded'
    code, _args = _run_health_script(tmp_path, script, 'an error page %s' % nasty, status=1)
    assert code != 0, 'a failed request fails even when its body has the content'
    plain = health.docker_healthcheck(with_app_json({'web': [entry(path='/up')]}), 'web')['Test'][1]
    assert _run_health_script(tmp_path, plain, 'anything')[0] == 0
    assert _run_health_script(tmp_path, plain, 'anything', status=8)[0] != 0
    # an image with curl and no wget
    (tmp_path / 'bin' / 'wget').unlink()
    code, args = _run_health_script(tmp_path, plain, 'anything', client='curl')
    assert code == 0 and args == ['-fsS', 'http://127.0.0.1:5000/up']


def test_docker_healthcheck_several_entries_must_all_pass():
    doc = with_app_json({'web': [
        entry(name='a', command=['test', '-f', "/tmp/it's"], wait=10, timeout=2, attempts=2, initial_delay=5),
        entry(name='b', listening=True, wait=3, timeout=4, attempts=5, initial_delay=1),
        entry(name='c', uptime=30),
    ]})
    config = health.docker_healthcheck(doc, 'web')
    assert config['Test'][0] == 'CMD-SHELL'
    parts = config['Test'][1].split(' && ')
    assert parts[0] == "( test -f '/tmp/it'\"'\"'s' )" and parts[1].startswith('( for f in /proc/net/tcp')
    assert len(parts) == 2, 'the uptime entry has no Docker form'
    assert config['Interval'] == 3 * 10 ** 9, 'the shortest wait'
    assert config['Timeout'] == 6 * 10 ** 9, 'time for every entry'
    assert config['Retries'] == 5 and config['StartPeriod'] == 5 * 10 ** 9


def test_ignored_liveness_names_uptime_entries():
    doc = with_app_json({'worker': [entry(name='up', uptime=5), entry(name='cmd', command=['true'])],
                         'web': [entry('startup', name='start', uptime=5)]})
    notes = health.ignored_liveness(doc)
    assert len(notes) == 1 and "liveness check 'up' of worker" in notes[0] and 'ignored' in notes[0]
    assert health.ignored_liveness(app_document()) == []


def test_a_healthcheck_of_given_entries_leaves_uptimes_out_and_names_a_host():
    doc = with_app_json({'web': [entry('liveness', 'alive', command=['true'])]})
    assert health.healthcheck_of(doc, 'web', [entry('startup', 'up', uptime=7)]) is None, 'an uptime is no command'
    both = health.healthcheck_of(doc, 'web', [entry('startup', 'up', uptime=7),
                                              entry('readiness', 'ready', path='/ready', host='shop.test'),
                                              entry('liveness', 'alive', command=['true'])])
    assert both['Test'][0] == 'CMD-SHELL' and both['Test'][1].endswith('( true )')
    assert "--header 'Host: shop.test'" in both['Test'][1] and "-H 'Host: shop.test'" in both['Test'][1]
    alive = [entry('liveness', 'alive', command=['true'])]
    assert health.docker_healthcheck(doc, 'web') == health.healthcheck_of(doc, 'web', alive)
