# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrency: work on many items at once (``for_each``), and the run's one bounded pool of actions (``ActionPool``).

The daemon serves about 8 concurrent requests well (``max_workers``, ``DOKKU_PS_MAX_WORKERS``): apps of a run are
worked on ``parallel`` at a time with ``for_each``, and every container action of the run, whatever its app, holds a
slot of the one ActionPool while it makes requests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import concurrent.futures
import contextlib
import os
import threading

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
