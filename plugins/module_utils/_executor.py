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
import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._checker import require_running
from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import max_workers
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import between_runs
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError, DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import WEB
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_addresses import is_address_in_use
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs


class ExecutionError(DokkuPsError):
    """Some container actions failed; ``done`` lists what was carried out before."""


# The minimal start check: the new container is running (not exited, not restarting).
running_check = require_running


# how many times a proxied web container is created again when another run took its address meanwhile
ADDRESS_ATTEMPTS = 5
# what leaves the proxy's upstream in a phase: these actions retire or stop the container they act on
LEAVING = (planner.REPLACE, planner.REMOVE, planner.STOP)


class Executor(object):
    """Runs plans. ``proxy`` (an AppProxy of the run's proxy, for an app whose web containers are behind nginx)
    gives proxied web containers their addresses and switches the app's config during a web phase: new
    containers come up and pass their checks, nginx switches to them in one reload, the old ones drain for the
    app's wait_to_retire seconds, then they stop."""

    def __init__(self, docker, stop_timeout, check=running_check, workers=None, stop_first=None, pool=None,
                 proxy=None):
        self.docker = docker
        self.proxy = proxy
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

    def _create_started(self, spec, name, retire=False):
        """Create and start a container; a proxied web container gets an address of the proxy network, and
        another one when a concurrent run took it meanwhile (Docker creates such a container and refuses its
        start: it is removed and created again). A container that does not start is removed (``retire``: the
        replacement's way, restart policy 'no' and a stop first)."""
        address = self.proxy.address() if self.proxy is not None and spec.get('network') else None
        for attempt in range(ADDRESS_ATTEMPTS):
            container_id = self.docker.create_container(spec, name, address)
            try:
                self.docker.start(container_id, name)
                return container_id
            except DokkuPsError as exc:
                if retire:
                    self._retire(container_id, name)
                else:
                    self.docker.remove(container_id, name, force=True)
                if address is None or not is_address_in_use(exc) or attempt == ADDRESS_ATTEMPTS - 1:
                    raise
                address = self.proxy.address(refresh=True)

    def _create(self, action):
        spec = action.spec
        if action.container is not None:
            self._make_way(action.container)
        return self._create_started(spec, spec['name'])

    def _recreate(self, action):
        self._make_way(action.container)
        return self._create_started(action.spec, action.spec['name'])

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
        unpaused before: frozen, its process would not get the stop signal and only die at the stop timeout. A
        container Docker keeps restarting can refuse the update between two runs of its process: it is stopped
        first then (a stop ends its restarts), and gets 'no' once stopped."""
        try:
            self.docker.update_restart_policy(container_id, 'no', name)
        except DockerError as exc:
            if not between_runs(exc):
                raise
            self.docker.stop(container_id, self.stop_timeout, name)
            self.docker.update_restart_policy(container_id, 'no', name)
            return
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
            new_id = self._create_started(spec, spec['name'], retire=True)
            try:
                self.check(self.docker, new_id, spec)
            except DokkuPsError:
                self._retire(new_id, spec['name'])
                raise
            return new_id
        new_id = self._bring_up(action)
        self._hand_over(action, new_id)
        return new_id

    def _bring_up(self, action):
        """The first half of a replacement: the new container under a temporary name, started and checked (a
        failing one is retired). The old one still runs."""
        spec = action.spec
        temporary = specs.upcoming_name(spec['app'], spec['process_type'], spec['index'])
        new_id = self._create_started(spec, temporary, retire=True)
        try:
            self.check(self.docker, new_id, spec)
        except DokkuPsError:
            self._retire(new_id, temporary)
            raise
        return new_id

    def _hand_over(self, action, new_id):
        """The second half: the old container retired, the new one takes its name."""
        self._retire(action.container.id, action.container.name, action.container.paused)
        self.docker.rename(new_id, action.spec['name'])

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

    def _switched(self, phase):
        """True when the phase changes who serves the app's web requests behind the proxy, so the proxy has to
        switch between its two halves."""
        return (self.proxy is not None and any(action.process_type == WEB for action in phase)
                and any(action.kind in LEAVING and action.container is not None for action in phase))

    def _submit_all(self, func, actions):
        """``func(action)`` for every action, concurrently: (done pairs, failures)."""
        done, failures = [], []
        if self.pool is not None:
            self._collect([(action, self.pool.submit(func, action)) for action in actions], done, failures)
        else:
            for action in actions:
                try:
                    done.append((action, func(action)))
                except DokkuPsError as exc:
                    failures.append((action, exc))
        return done, failures

    def _run_switched(self, phase, done):
        """A web phase behind the proxy: everything new comes up first (replacements under temporary names,
        checked); the proxy switches to the web containers that will run (one reload); the ones leaving drain
        for wait_to_retire seconds; then they stop. A failure before the switch retires what came up for the
        replacements and leaves the proxy config as it was."""
        handing = [a for a in phase if a.kind == planner.REPLACE and not self.stop_first(a.spec)]
        leaving = [a for a in phase if a.kind in (planner.REMOVE, planner.STOP)]
        first = [a for a in phase if a not in handing and a not in leaving]
        brought, failures = self._submit_all(
            lambda action: self._bring_up(action) if action.kind == planner.REPLACE and action in handing
            else self.run_action(action), handing + first)
        up = [(action, new_id) for action, new_id in brought if action in handing]
        done.extend((action, result) for action, result in brought if action not in handing)
        if not failures:
            exclude = set(action.container.id for action in handing + leaving if action.container is not None)
            try:
                if self.proxy.switch(exclude) and exclude:
                    # the old containers finish the requests nginx's old workers still send them
                    time.sleep(self.proxy.wait)
            except DokkuPsError as exc:
                failures.append((phase[0], exc))
        if failures:
            for action, new_id in up:
                self._retire(new_id, specs.upcoming_name(action.spec['app'], action.process_type, action.index))
            return failures
        pairs = dict((id(action), new_id) for action, new_id in up)

        def second(action):
            if action.kind == planner.REPLACE:
                self._hand_over(action, pairs[id(action)])
                return pairs[id(action)]
            return self.run_action(action)

        second_done, failures = self._submit_all(second, handing + leaving)
        done.extend(second_done)
        return failures

    def run(self, plan):
        """Run every phase. Returns the list of (action, container id) carried out."""
        done = []
        for phase in plan.phases:
            failures = []
            if self._switched(phase):
                failures = self._run_switched(phase, done)
            elif self.pool is not None:
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
