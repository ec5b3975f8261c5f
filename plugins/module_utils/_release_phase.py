# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release phase of a deploy: app.json's predeploy script and the Procfile's release command before the rollout,
app.json's postdeploy script after it (docs/oneoffs.md).

A release's phase runs once, when the release goes live: a run that records a new release and rolls it out runs it
(a deploy, a change of env, a rollback: Heroku's rule), before any long-running process changes. A release recorded
without a rollout (``deploy: false``, a stopped app) is marked ``pending`` and its phase runs with the next run of
the app's declaration that rolls it out. Restarts, scaling, restores and runs that change nothing run nothing.

Each command runs in a one-off of the new release (its image, its env, the app's network) through the app's
scheduler (AppScheduler.run_once), attached, within the time limit of a phase. A predeploy or release command that
fails (an exit status other than 0, or its time limit) fails the task before the rollout: the previous release keeps
serving and stays current, nothing is recorded. A postdeploy that fails leaves the release live and recorded; the
app document says so (``release_phase.status``) and the task fails.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json as app_json
from ansible_collections.dokku_ps.docker.plugins.module_utils._context import timestamp
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases

DONE = 'done'
PENDING = 'pending'
FAILED = 'postdeploy failed'
STATUSES = (DONE, PENDING, FAILED)


class ReleasePhaseFailed(DokkuPsError):
    """A command of the release phase failed; ``details['phase']`` is what the outcome shows of it."""


def commands(doc):
    """The commands of the app's release phase, [(phase, command)] in the order they run."""
    scripts = app_json.scripts(doc.get('app_json'))
    processes = doc.get('processes') or {}
    found = []
    if scripts['predeploy']:
        found.append((oneoff.PREDEPLOY, scripts['predeploy']))
    if processes.get(oneoff.RELEASE_TYPE):
        found.append((oneoff.RELEASE_COMMAND, processes[oneoff.RELEASE_TYPE]))
    if scripts['postdeploy']:
        found.append((oneoff.POSTDEPLOY, scripts['postdeploy']))
    return found


def upcoming_number(doc):
    """The number of the release a write of ``doc`` records (its definition differs from its current release's),
    or None when it records none."""
    last = releases.current(doc)
    if last is None:
        return 1
    if releases.same_definition(last['definition'], releases.definition_of(doc)):
        return None
    return last['number'] + 1


class ReleasePhase(object):
    """The release phase of one app in one run of its declaration. ``rolls_out``: the run rolls the app's
    definition out (not stopped, not ``deploy: false``). Changes ``doc['release_phase']``."""

    def __init__(self, ctx, doc, rolls_out, timeout):
        self.ctx = ctx
        self.doc = doc
        self.timeout = timeout
        self.commands = commands(doc)
        self.ran = []
        new = upcoming_number(doc)
        recorded = doc.get('release_phase') or {}
        pending = (recorded.get('status') == PENDING and new is None
                   and recorded.get('release') == releases.current_number(doc))
        self.number = None
        if not self.commands:
            if new is not None:
                doc.pop('release_phase', None)
        elif rolls_out and (new is not None or pending):
            self.number = new if new is not None else recorded['release']
        elif new is not None:
            doc['release_phase'] = {'release': new, 'status': PENDING, 'at': None, 'phases': []}

    @property
    def due(self):
        return self.number is not None

    def _run(self, phase, command):
        started = time.time()
        req = oneoff.request(oneoff.RELEASE, command, timeout=self.timeout, phase=phase)
        result = self.ctx.scheduler(self.doc).run_once(self.doc, req)
        entry = {'phase': phase, 'container': result.name, 'rc': result.status, 'timed_out': result.timed_out,
                 'seconds': round(time.time() - started, 1), 'output': oneoff.last_lines(result)}
        self.ran.append(entry)
        if result.timed_out or result.status != 0:
            what = 'the %s command of release %d' % (phase, self.number)
            raise ReleasePhaseFailed(oneoff.failure(self.doc['name'], what, result, self.timeout), phase=entry)
        return entry

    def before(self):
        """Before the rollout: predeploy, then release. Raises ReleasePhaseFailed (nothing recorded). Check mode
        runs nothing."""
        if not self.due or self.ctx.check_mode:
            return
        for phase, command in self.commands:
            if phase != oneoff.POSTDEPLOY:
                self._run(phase, command)

    def after(self, write):
        """After the rollout (the release is live and recorded): postdeploy; then the phase is recorded in the app's
        document, written with ``write(doc)``. Raises ReleasePhaseFailed when postdeploy failed."""
        if not self.due or self.ctx.check_mode:
            return
        status = DONE
        failure = None
        try:
            for phase, command in self.commands:
                if phase == oneoff.POSTDEPLOY:
                    self._run(phase, command)
        except ReleasePhaseFailed as exc:
            status = FAILED
            failure = exc
        self.doc['release_phase'] = {'release': self.number, 'status': status, 'at': timestamp(),
                                     'phases': [dict((k, v) for k, v in entry.items() if k != 'output')
                                                for entry in self.ran]}
        write(self.doc)
        if failure is not None:
            raise ReleasePhaseFailed('%s (release %d is live and current)' % (failure, self.number),
                                     **failure.details)

    def outcome(self):
        """The ``release_phase`` of the app's outcome: the release whose phase this run ran (in check mode: would
        run), the commands, and what each did; None when nothing was due."""
        if not self.due:
            return None
        return {'release': self.number, 'commands': [phase for phase, _command in self.commands],
                'ran': list(self.ran)}
