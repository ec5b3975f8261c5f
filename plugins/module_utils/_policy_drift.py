# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart policies changed behind the collection's back, found from the daemon's events.

A container's labels and the app document's ``applied_policies`` say what the collection set, and the list call
does not show restart policies. Each app document records up to when its containers' policies are known
(``policy_window``); a run reads the daemon's events of that window and inspects only the containers with an
``update`` or ``start`` event the collection did not cause itself (docs/decisions.md, "Restart policies changed by
hand").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import EVENT_BUFFER
from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import for_each, max_workers
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import restart_policy_from_docker

# events after which a container's restart policy may not be what the collection set
SUSPECT_EVENTS = ('update', 'start')
# nanoseconds: a window of the daemon's events ends this long before its estimated now (no wait for the daemon);
# the events a run caused are taken to have happened before its end plus CAUSED_MARGIN
WINDOW_MARGIN = 50 * 10 ** 6
CAUSED_MARGIN = 500 * 10 ** 6


def _event_time(event):
    """When an event happened, in nanoseconds of the daemon's clock (see ``Docker.daemon_time``)."""
    return event.get('timeNano') or (event.get('time') or 0) * 10 ** 9


class PolicyWatch(object):
    """The restart-policy verification of one run (the run context holds one): the daemon's events, read once,
    and the policies of the containers inspected so far. Thread-safe."""

    def __init__(self, docker, check_mode=False):
        self.docker = docker
        self.check_mode = check_mode
        self._events = None
        self._lock = threading.Lock()
        self._inspected = {}

    def events_since(self, since):
        """(the daemon's events from ``since`` on, whether they are all there, the window's end): ONE request per
        run, whose answer serves every later ``since`` of the run."""
        with self._lock:
            window = self._events
            if window is None or since < window['since']:
                until = self.now()
                window = {'since': since, 'until': until, 'events': self.docker.events_between(since, until)}
                self._events = window
        events = [event for event in window['events'] if _event_time(event) >= since]
        # the daemon keeps its latest EVENT_BUFFER events: a full answer lacks older ones, unless it reaches
        # back past ``since``
        complete = (len(window['events']) < EVENT_BUFFER
                    or min(_event_time(event) for event in window['events']) < since)
        return events, complete, window['until']

    def now(self):
        """A moment just passed on the daemon's clock (nanoseconds), up to which its events can be read without
        waiting: what happens later is read by the next run."""
        now = self.docker.daemon_time()
        return 0 if now is None else now - WINDOW_MARGIN

    def verify(self, inventory, doc):
        """Find the restart policies of ``inventory``'s containers changed behind the collection's back.

        The daemon's events since the app's policies were last known (``policy_window.since``, nanoseconds of the
        daemon's clock) are read: ONE request. A container is inspected when it has an 'update' or 'start' event
        (a daemon restart starts containers too) that the collection did not cause itself: its own events of the
        last run that wrote the document are counted in ``policy_window.caused`` and happened before
        ``policy_window.caused_before``. Every container is inspected when the daemon no longer holds all events
        since then (it keeps its latest 256, and none across its restarts: then some of the collection's own
        events are missing too), or when the app was never checked. What Docker reports becomes
        ``container.actual_policy`` for the planner."""
        containers = [c for c in inventory.containers() if c.settled]
        window = (doc or {}).get('policy_window')
        inventory.checked_until = self.now()
        if not containers:
            return
        uncertain = containers
        if window is not None:
            events, complete, inventory.checked_until = self.events_since(window['since'])
            own = window.get('caused') or {}
            boundary = window.get('caused_before', window['since'])
            before, after = {}, {}
            for event in events:
                if event.get('Type') == 'container' and event.get('Action') in SUSPECT_EVENTS:
                    counts = before if _event_time(event) < boundary else after
                    container_id = (event.get('Actor') or {}).get('ID')
                    counts[container_id] = counts.get(container_id, 0) + 1
            if complete and all(before.get(cid, 0) >= count for cid, count in own.items()):
                uncertain = [c for c in containers if after.get(c.id) or before.get(c.id, 0) > own.get(c.id, 0)]
        missing = [c for c in uncertain if c.id not in self._inspected]

        def policy(container):
            data = self.docker.inspect_container(container.id)
            return container.id, (restart_policy_from_docker((data.get('HostConfig') or {}).get('RestartPolicy'))
                                  if data else None)

        found = for_each(policy, missing, max_workers())
        with self._lock:
            self._inspected.update(found)
        for container in uncertain:
            container.actual_policy = self._inspected.get(container.id)
        inventory.inspected = bool(uncertain)

    def records(self, inventory):
        """True when a run outside check mode has something to record about ``inventory``: containers it had to
        inspect (so the next run need not inspect them again)."""
        return not self.check_mode and inventory is not None and inventory.inspected

    def window(self, inventory):
        """The ``policy_window`` a run that commits ``inventory`` records (None when it verified none): the
        restart policies are known up to the end of the window ``verify`` read; the events this run causes come
        later, and are recorded as its own (``caused``) so that the next run expects them."""
        checked = None if inventory is None else inventory.checked_until
        return None if checked is None else {'since': checked, 'caused': {}, 'caused_before': checked}

    def caused(self, window, done):
        """Record in ``window`` the events the run's actions ``done`` ((action, container id) pairs) caused."""
        if window is None:
            return
        window['caused'] = self.docker.caused_events(set(container_id for _action, container_id in done))
        # every event of what this run did happened before now (with a margin for the clocks)
        window['caused_before'] = max(window['since'], self.now() + CAUSED_MARGIN)
