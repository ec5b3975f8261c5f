# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scheduler for the unit tests of the run context and the operations: it records what it is asked and answers
with the work and the report the test gives it, so the operations are tested without Docker.

``install(monkeypatch)`` makes it the scheduler of every app (``docker-local``'s place in _context.SCHEDULERS) and
returns the :class:`Recorder` every FakeRun of the test shares.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils import _context as context
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler


class FakeWork(scheduler.Work):
    """Work that changes the processes named in ``summary`` (results.CONTAINER_WORK keys -> names) of ``types``."""

    def __init__(self, summary=None, types=(), warnings=()):
        super(FakeWork, self).__init__()
        self._summary = dict(results.container_work(None), **(summary or {}))
        self.types = set(types)
        self.warnings = list(warnings)

    @property
    def changed(self):
        return any(self._summary.values())

    def summary(self):
        return dict((key, sorted(names)) for key, names in self._summary.items())

    def touches(self, process_type):
        return process_type in self.types


class Recorder(object):
    """What the test wants the scheduler to answer, and what it was asked, in order (``calls``: tuples whose first
    item is the method's name, then the app's name and what identifies the request)."""

    def __init__(self):
        self.calls = []
        self.work = {}          # method name -> the work it returns (default: nothing)
        self.keys = {}          # what apply returns to record
        self.must_write = False
        self.fail = None        # an exception apply raises
        self.processes = {}     # app -> its report entry

    def names(self, method):
        return [call[1] for call in self.calls if call[0] == method]


class FakeApp(scheduler.AppScheduler):

    def __init__(self, recorder, name):
        self.recorder = recorder
        self.name = name

    def _planned(self, method, *details):
        self.recorder.calls.append((method, self.name) + details)
        return self.recorder.work.get(method) or scheduler.nothing()

    def converge(self, doc, global_doc, types=None, replace=True, start=True, force_replace=False,
                 will_write=False):
        return self._planned('converge', dict(types=types, replace=replace, start=start,
                                              force_replace=force_replace, will_write=will_write))

    def stop(self, doc, will_write=False):
        return self._planned('stop', dict(will_write=will_write))

    def policies(self, doc, global_doc):
        return self._planned('policies')

    def delete(self, doc):
        return self._planned('delete')

    def apply(self, work, doc, global_doc):
        self.recorder.calls.append(('apply', self.name, work))
        if self.recorder.fail is not None:
            raise self.recorder.fail
        return dict(self.recorder.keys), self.recorder.must_write

    def sync_proxy(self, doc, work):
        self.recorder.calls.append(('sync_proxy', self.name, work))


class FakeRun(scheduler.SchedulerRun):
    kind = scheduler.DOCKER_LOCAL
    recorder = None

    def __init__(self, ctx):
        self.ctx = ctx
        self.closed = False

    def app(self, name):
        return FakeApp(self.recorder, name)

    def prefetch(self, names):
        self.recorder.calls.append(('prefetch', tuple(names)))

    def report(self, docs, global_doc, inspect=False, top=False):
        self.recorder.calls.append(('report', tuple(doc['name'] for doc in docs), inspect, top))
        nothing = {'processes': 0, 'running': 'false', 'dynos': {}}
        return dict((doc['name'], self.recorder.processes.get(doc['name'], nothing)) for doc in docs)

    def close(self):
        self.closed = True
        self.recorder.calls.append(('close',))


def install(monkeypatch):
    """Every app's scheduler is a FakeRun's for the rest of the test; returns their shared Recorder."""
    recorder = Recorder()
    monkeypatch.setattr(FakeRun, 'recorder', recorder)
    monkeypatch.setitem(context.SCHEDULERS, scheduler.DOCKER_LOCAL, FakeRun)
    return recorder
