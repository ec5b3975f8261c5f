# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The executor: carries out a plan's container actions against Docker.

The actions of one phase run concurrently on a bounded thread pool (the daemon serves about 8
concurrent requests well); phases run in order, and a phase with a failure stops the plan there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import concurrent.futures
import contextlib
import os
import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils._checks import require_running
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs

DEFAULT_MAX_WORKERS = 8


def max_workers():
    try:
        value = int(os.environ.get('DOKKU_PS_MAX_WORKERS', DEFAULT_MAX_WORKERS))
    except ValueError:
        value = DEFAULT_MAX_WORKERS
    return max(1, value)


def for_each(func, items, parallel):
    """``func(item)`` for every item, ``parallel`` at a time (serially when 1); results in the items' order."""
    items = list(items)
    if parallel <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(parallel, len(items))) as pool:
        return list(pool.map(func, items))


class ActionPool(object):
    """The container actions of a whole run share one bound: however many apps are worked on at once
    (``parallel``), at most ``max_workers()`` container actions talk to the daemon at a time, and an app waiting for
    its slowest action leaves the free slots to the other apps' actions.

    A slot is held while an action makes Docker requests, not while it only waits: a check listening to the
    container's event stream or probing it over HTTP (``idle()``) gives its slot to another action meanwhile, so
    the run has more threads (``WAITING_FACTOR`` times the slots) than slots. Actions never submit work to the
    pool themselves, so waiting on their futures cannot deadlock.
    """

    WAITING_FACTOR = 4

    def __init__(self, workers=None):
        self.workers = workers or max_workers()
        self._slots = threading.BoundedSemaphore(self.workers)
        self._holding = threading.local()
        self._pool = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self):
        with self._slots:
            self._holding.value = True
            try:
                yield
            finally:
                self._holding.value = False

    @contextlib.contextmanager
    def idle(self):
        """Around a wait inside an action: the action's slot serves others until the wait is over."""
        if not getattr(self._holding, 'value', False):
            yield
            return
        self._holding.value = False
        self._slots.release()
        try:
            yield
        finally:
            self._slots.acquire()
            self._holding.value = True

    def _run(self, func, args):
        with self.slot():
            return func(*args)

    def submit(self, func, *args):
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.workers * self.WAITING_FACTOR)
            return self._pool.submit(self._run, func, args)

    def close(self):
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


class ExecutionError(DokkuPsError):
    """Some container actions failed; ``done`` lists what was carried out before."""


# The minimal start check: the new container is running (not exited, not restarting).
running_check = require_running


class Executor(object):
    def __init__(self, docker, stop_timeout, check=running_check, workers=None, stop_first=None, pool=None):
        self.docker = docker
        # the run's shared ActionPool; without one, each phase gets a pool of ``workers`` of its own
        self.pool = pool
        self.stop_timeout = stop_timeout
        self.check = check
        self.workers = workers or max_workers()
        # spec -> True when the old container must be retired before its replacement starts
        self.stop_first = stop_first or (lambda spec: False)

    # -- single actions ------------------------------------------------------------------------------------

    def _make_way(self, container):
        """A dead container, or one being removed: gone once this returns. A removal that fails leaves the
        container dead (the list call may still say 'removing' for it), so it is removed again after the wait."""
        if container.removing:
            self.docker.wait_removed(container.id, container.name)
        self.docker.remove(container.id, container.name, force=True)

    def _create(self, action):
        spec = action.spec
        if action.container is not None:
            self._make_way(action.container)
        container_id = self.docker.create_container(spec, spec['name'])
        try:
            self.docker.start(container_id, spec['name'])
        except DokkuPsError:
            self.docker.remove(container_id, spec['name'], force=True)
            raise
        return container_id

    def _recreate(self, action):
        self._make_way(action.container)
        return self._create(planner.Action(planner.CREATE, action.name, action.process_type, action.index,
                                           spec=action.spec))

    def _start(self, action):
        """Start a stopped container, or unpause a paused one, with the computed restart policy put back first."""
        container = action.container
        self.docker.update_restart_policy(container.id, action.spec['restart_policy'], container.name)
        if container.paused:
            self.docker.unpause(container.id, container.name)
        else:
            self.docker.start(container.id, container.name)
        return container.id

    def _halt(self, container_id, name, paused=False):
        """Restart policy 'no' first (so the daemon never brings it back), then stop. A paused container is
        unpaused before: frozen, its process would not get the stop signal and only die at the stop timeout."""
        self.docker.update_restart_policy(container_id, 'no', name)
        if paused:
            self.docker.unpause(container_id, name)
        self.docker.stop(container_id, self.stop_timeout, name)

    def _retire(self, container_id, name, paused=False):
        """Halt, then remove."""
        self._halt(container_id, name, paused)
        self.docker.remove(container_id, name, force=True)

    def _remove(self, action):
        container = action.container
        if not container.settled:
            self._make_way(container)
        elif container.active:
            self._retire(container.id, container.name, container.paused)
        else:
            self.docker.remove(container.id, container.name, force=True)
        return container.id

    def _replace(self, action):
        spec = action.spec
        if self.stop_first(spec):
            # checks disabled, or a fixed host port: the old container goes first (downtime, warned about)
            self._retire(action.container.id, action.container.name, action.container.paused)
            new_id = self.docker.create_container(spec, spec['name'])
            try:
                self.docker.start(new_id, spec['name'])
                self.check(self.docker, new_id, spec)
            except DokkuPsError:
                self._retire(new_id, spec['name'])
                raise
            return new_id
        temporary = specs.upcoming_name(spec['app'], spec['process_type'], spec['index'])
        new_id = self.docker.create_container(spec, temporary)
        try:
            self.docker.start(new_id, temporary)
            self.check(self.docker, new_id, spec)
        except DokkuPsError:
            self._retire(new_id, temporary)
            raise
        self._retire(action.container.id, action.container.name, action.container.paused)
        self.docker.rename(new_id, spec['name'])
        return new_id

    def _cleanup(self, action):
        self._make_way(action.container)
        return action.container.id

    def _stop(self, action):
        container = action.container
        self._halt(container.id, container.name, container.paused)
        return container.id

    def _update_policy(self, action):
        container = action.container
        self.docker.update_restart_policy(container.id, action.policy, container.name)
        return container.id

    def run_action(self, action):
        handler = {
            planner.CREATE: self._create,
            planner.START: self._start,
            planner.REPLACE: self._replace,
            planner.REMOVE: self._remove,
            planner.CLEANUP: self._cleanup,
            planner.STOP: self._stop,
            planner.UPDATE_POLICY: self._update_policy,
            planner.RECREATE: self._recreate,
        }[action.kind]
        return handler(action)

    # -- plans ---------------------------------------------------------------------------------------------

    @staticmethod
    def _collect(futures, done, failures):
        for action, future in futures:
            try:
                done.append((action, future.result()))
            except DokkuPsError as exc:
                failures.append((action, exc))

    def run(self, plan):
        """Run every phase. Returns the list of (action, container id) carried out."""
        done = []
        for phase in plan.phases:
            failures = []
            if self.pool is not None:
                futures = [(action, self.pool.submit(self.run_action, action)) for action in phase]
                self._collect(futures, done, failures)
            elif len(phase) == 1 or self.workers == 1:
                for action in phase:
                    try:
                        done.append((action, self.run_action(action)))
                    except DokkuPsError as exc:
                        failures.append((action, exc))
            else:
                with concurrent.futures.ThreadPoolExecutor(max_workers=min(self.workers, len(phase))) as pool:
                    self._collect([(action, pool.submit(self.run_action, action)) for action in phase],
                                  done, failures)
            if failures:
                counts = {}
                for _action, exc in failures:
                    counts[str(exc)] = counts.get(str(exc), 0) + 1
                detail = '; '.join(message if count == 1 else '%s (%d times)' % (message, count)
                                   for message, count in sorted(counts.items()))
                raise ExecutionError('%d of %d container action(s) failed: %s' % (len(failures), len(phase), detail),
                                     done=done, failures=failures)
        return done
