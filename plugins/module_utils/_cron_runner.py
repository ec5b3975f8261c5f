# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The program a cron entry runs: one app.json cron command as a one-off container, its result recorded.

This file stands alone (the Python standard library and the Docker SDK only): _cron.py writes its text into the state
directory, and each line of an app's cron file runs ``<python> <that copy> <the app's cron spec> <entry id>``. The
spec (``<state_dir>/cron/<app>.json``, 0600, written by the collection at each deploy) holds everything the run needs,
so the runner makes no decision of its own: the Docker host, whether the app is active, and per entry its concurrency
policy and the one-off's create spec (the current release's image, env, command, network and labels).

It applies Dokku's concurrency policy (``allow``; ``forbid``: skipped while a run of the entry is running;
``replace``: that run is stopped first), creates ``<app>.cron.<n>``, waits for it (up to the entry's time limit),
removes it and writes the result to ``<state_dir>/cron/<app>.<id>.last.json`` (0600), which dokku_ps_report shows.
It prints one line per run (never the output) for the cron log.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import random
import sys
import time

LABEL_APP = 'com.dokku.app-name'
LABEL_CRON_ID = 'com.dokku.cron-id'
LABEL_DYNO = 'com.dokku.dyno'
LAST_LINES = 20


def _say(line):
    """One line on standard output (the cron log)."""
    sys.stdout.write(line + '\n')


def _now():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


def _write(path, data):
    temporary = '%s.tmp-%d' % (path, os.getpid())
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'w') as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.rename(temporary, path)


def _running(api, app, cron_id):
    """The app's runs of the entry that run now (two apps may have the same entry, and so the same id)."""
    return api.containers(filters={'label': ['%s=%s' % (LABEL_CRON_ID, cron_id), '%s=%s' % (LABEL_APP, app)],
                                   'status': ['running']})


def run_entry(api, spec, entry, last_path):
    """Run one entry; returns the result written to ``last_path``."""
    result = {'id': entry['id'], 'schedule': entry['schedule'], 'started_at': _now(), 'finished_at': None,
              'container': None, 'rc': None, 'result': None, 'output': []}
    policy = entry.get('concurrency_policy') or 'allow'
    if policy != 'allow':
        running = _running(api, spec['app'], entry['id'])
        if running and policy == 'forbid':
            result.update(result='skipped', finished_at=_now(),
                          output=['skipped: %s still runs (concurrency_policy forbid)'
                                  % running[0]['Names'][0].lstrip('/')])
            _write(last_path, result)
            return result
        for summary in running:
            api.update_container(summary['Id'], restart_policy={'Name': 'no'})
            api.stop(summary['Id'], timeout=10)
    create = entry['create']
    for attempt in range(5):
        number = random.randint(10000, 99999)
        name = '%s.cron.%d' % (spec['app'], number)
        labels = dict(create['labels'], **{LABEL_DYNO: 'cron.%d' % number})
        env = [item for item in create['env'] if not item.startswith('DYNO=')] + ['DYNO=cron.%d' % number]
        host_config = api.create_host_config(init=True, restart_policy={'Name': 'no'},
                                             network_mode=create.get('network'))
        try:
            created = api.create_container(image=create['image'], command=create['command'], name=name,
                                           environment=env, labels=labels, host_config=host_config, detach=True)
            break
        except Exception as exc:  # pylint: disable=broad-except
            if '409' not in str(exc) or attempt == 4:
                raise
    container = created['Id']
    result['container'] = name
    try:
        api.start(container)
        try:
            outcome = api.wait(container, timeout=entry.get('timeout') or 86400)
            result['rc'] = outcome.get('StatusCode')
            result['result'] = 'succeeded' if result['rc'] == 0 else 'failed'
        except Exception:  # pylint: disable=broad-except
            api.stop(container, timeout=10)
            result['result'] = 'timed out'
        text = api.logs(container, stdout=True, stderr=True).decode('utf-8', errors='replace')
        result['output'] = text.rstrip('\n').splitlines()[-LAST_LINES:]
    finally:
        api.remove_container(container, force=True)
    result['finished_at'] = _now()
    _write(last_path, result)
    return result


def main(argv):
    if len(argv) != 3:
        _say('usage: %s <cron spec> <entry id>' % argv[0])
        return 2
    spec_path, cron_id = argv[1], argv[2]
    with open(spec_path) as handle:
        spec = json.load(handle)
    entry = [found for found in spec['entries'] if found['id'] == cron_id]
    stamp = '%s dokku-ps-cron %s %s' % (_now(), spec['app'], cron_id)
    if not entry:
        _say('%s: no such entry any more, nothing run' % stamp)
        return 0
    if not spec.get('active'):
        _say('%s: the app is stopped, nothing run' % stamp)
        return 0
    import docker  # the SDK the collection's modules use, on the same Python
    api = docker.APIClient(base_url=spec['docker_host'], version='auto', timeout=60)
    last_path = os.path.join(os.path.dirname(spec_path), '%s.%s.last.json' % (spec['app'], cron_id))
    try:
        result = run_entry(api, spec, entry[0], last_path)
    except Exception as exc:  # pylint: disable=broad-except
        # Docker refused or went away: recorded for the report like any failed run, in one line
        result = {'id': cron_id, 'schedule': entry[0]['schedule'], 'started_at': None, 'finished_at': _now(),
                  'container': None, 'rc': None, 'result': 'failed',
                  'output': [('error: %s' % exc).splitlines()[0][:300]]}
        _write(last_path, result)
    _say('%s: %s %s (exit status %s)' % (stamp, result['container'] or '-', result['result'], result['rc']))
    return 0 if result['result'] in ('succeeded', 'skipped') else 1


if __name__ == '__main__':
    raise SystemExit(main(sys.argv))
