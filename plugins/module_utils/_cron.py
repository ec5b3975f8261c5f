# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app.json cron entries on the host: each app's cron file, the spec its lines run, and their last results.

Debian's ``cron`` daemon runs the entries (docs/oneoffs.md says why a cron file and not a systemd timer): one file per
app with cron entries, ``<cron_dir>/dokku-ps-cron-<app>`` (dots in the app's name become underscores: cron skips
file names with a dot), one line per entry that is not in maintenance::

    <schedule> root <python> <state_dir>/cron/dokku-ps-cron-run <state_dir>/cron/<app>.json <entry id> >> <log> 2>&1

``<python>`` is the interpreter that runs the collection's modules on the host (it has the Docker SDK). The runner
(_cron_runner.py, copied next to the specs) reads the app's spec, ``<state_dir>/cron/<app>.json`` (0600: it holds the
release's env), written here from the app's current release at each run of its declaration, and records each run in
``<state_dir>/cron/<app>.<id>.last.json``. Everything is written only when it differs, so a second run changes
nothing; deleting the app or its last entry removes its files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect
import json
import os
import re
import sys

from ansible_collections.dokku_ps.docker.plugins.module_utils import _cron_runner as cron_runner
from ansible_collections.dokku_ps.docker.plugins.module_utils._files import write_atomic

CRON_DIR = '/etc/cron.d'
# where the cron files go: the environment of the module may point elsewhere (tests, a chroot)
CRON_DIR_VARIABLE = 'DOKKU_PS_CRON_DIR'
FILE_PREFIX = 'dokku-ps-cron-'
RUNNER = 'dokku-ps-cron-run'
_LAST_RE = re.compile(r'^(?P<app>.+)\.(?P<id>[0-9a-f]{12})\.last\.json$')


def cron_dir():
    return os.environ.get(CRON_DIR_VARIABLE) or CRON_DIR


def file_name(app):
    """The app's cron file name: cron runs only files named with letters, digits, dashes and underscores."""
    return FILE_PREFIX + app.replace('.', '_')


def render_file(app, entries, python, runner, spec_path, log_path):
    """The text of the app's cron file (entries in maintenance left out)."""
    lines = ['# dokku_ps: the app.json cron entries of app %s (docs/oneoffs.md); written by the collection, do not '
             'edit' % app, 'SHELL=/bin/sh', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']
    for entry in entries:
        if entry['maintenance']:
            continue
        lines.append('%s root %s %s %s %s >> %s 2>&1'
                     % (entry['schedule'], python, runner, spec_path, entry['id'], log_path))
    return '\n'.join(lines) + '\n'


def runner_text():
    """The runner program's text (_cron_runner.py)."""
    return inspect.getsource(cron_runner)


class CronTable(object):
    """The cron files of the apps of one state directory. ``check_mode``: say what would change, write nothing."""

    def __init__(self, state_dir, check_mode=False, python=None, directory=None):
        self.state_dir = state_dir
        self.dir = os.path.join(state_dir, 'cron')
        self.check_mode = check_mode
        self.python = python or sys.executable
        self.cron_dir = directory or cron_dir()

    def paths(self, app):
        return {'cron': os.path.join(self.cron_dir, file_name(app)), 'spec': os.path.join(self.dir, app + '.json'),
                'log': os.path.join(self.dir, app + '.log'), 'runner': os.path.join(self.dir, RUNNER)}

    def sync(self, app, entries, spec):
        """Bring the app's cron file and spec to ``entries`` (normalised app.json cron entries, [] for none) and
        ``spec`` (what the runner needs: docker_host, active, entries with their create spec). Returns whether
        anything changed (in check mode: would change)."""
        if not entries:
            return self.remove(app)
        paths = self.paths(app)
        wanted = [
            (paths['runner'], runner_text(), 0o700),
            (paths['spec'], json.dumps(spec, indent=2, sort_keys=True) + '\n', 0o600),
            (paths['cron'], render_file(app, entries, self.python, paths['runner'], paths['spec'], paths['log']),
             0o644),
        ]
        changed = False
        for path, text, mode in wanted:
            if _read(path) == text and _mode(path) == mode:
                continue
            changed = True
            if not self.check_mode:
                directory = os.path.dirname(path)
                if not os.path.isdir(directory):
                    os.makedirs(directory, 0o700 if directory == self.dir else 0o755)
                write_atomic(path, text.encode('utf-8'), mode)
        return changed

    def remove(self, app):
        """Remove the app's cron file, spec and results (its log stays). Returns whether anything was there."""
        paths = self.paths(app)
        found = [path for path in (paths['cron'], paths['spec']) if os.path.exists(path)]
        found += [os.path.join(self.dir, name) for name in _listdir(self.dir) if _app_of_result(name) == app]
        if not self.check_mode:
            for path in found:
                os.remove(path)
        return bool(found)

    def report(self, app, entries, mask=None):
        """Per entry of the app: its schedule, command, policy, whether it is installed, and its last run (its output
        lines passed through ``mask``)."""
        installed = _read(self.paths(app)['cron']) or ''
        rows = []
        for entry in entries:
            last = _read(os.path.join(self.dir, '%s.%s.last.json' % (app, entry['id'])))
            rows.append({'id': entry['id'], 'schedule': entry['schedule'], 'command': entry['command'],
                         'concurrency_policy': entry['concurrency_policy'], 'maintenance': entry['maintenance'],
                         'installed': (' %s ' % entry['id']) in installed,
                         'last_run': _masked(json.loads(last), mask) if last else None})
        return rows


def _masked(last, mask):
    if mask is not None:
        last['output'] = [mask(line) for line in last.get('output') or []]
    return last


def _app_of_result(name):
    """The app of a cron entry's result file, ``<app>.<id>.last.json``; None for any other file."""
    match = _LAST_RE.match(name)
    return match.group('app') if match else None


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _mode(path):
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return None


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []
