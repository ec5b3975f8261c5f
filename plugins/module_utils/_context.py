# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run context: what the operations of one module run share, and how a plan is made and committed.

The Docker client, the state store, check mode, warnings, the redactor, caches, app locks and the one action
pool of the run.

Each operation takes the app's lock (except in check mode and for read-only work), reads the state documents,
learns the app's containers with ONE list call, plans, and (unless in check mode) executes the plan and writes
the new state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils import _checker as checker
from ansible_collections.dokku_ps.docker.plugins.module_utils._definitions import public_names
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import ActionPool
from ansible_collections.dokku_ps.docker.plugins.module_utils._executor import Executor
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import WEB
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils._policy_drift import PolicyWatch
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import computed_property
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import AppProxy, ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs


class Context(object):
    """What every operation needs: the Docker client, the state store and the run's mode."""

    def __init__(self, docker, store, check_mode=False, params=None, run=None):
        self.docker = docker
        self.store = store
        self.check_mode = check_mode
        self.warnings = []
        self._images = {}
        self._files = {}
        self._image_lock = threading.Lock()
        # every container action of the run, whatever the app, goes through this one bounded pool
        self.actions = ActionPool()
        # app -> container summaries of the run's snapshot (take_snapshot), None without one
        self._snapshot = None
        # masks the env values of every app the run reads in what comes from outside (logs, Docker's errors)
        self.redactor = redaction.Redactor()
        docker.redactor = self.redactor
        # restart policies changed behind the collection's back (see _policy_drift.PolicyWatch)
        self.policies = PolicyWatch(docker, check_mode)
        # the nginx proxy: addresses of new web containers, each app's config (``params``: the nginx options of
        # the module; ``run``: runs nginx's argv, module.run_command in a module)
        self.proxy = ProxyRun(docker, params, check_mode, run)

    def close(self):
        self.actions.close()

    def warn(self, message):
        self.warnings.append(message)

    def know(self, doc):
        """Register an app document's secrets (its env values) and public names with the run's redactor."""
        if doc:
            self.redactor.add_env(doc.get('env'))
            for release in releases.kept(doc):
                self.redactor.add_env(release['definition'].get('env'))
            self.redactor.add_public(public_names(doc))
        return doc

    def read_app(self, name):
        """The app's document from the state store (None when it has none), its secrets registered. A document
        written before releases existed gets its definition as release 1 (releases.seed; written with its next
        change)."""
        return self.know(releases.seed(self.store.read_app(name), timestamp()))

    def image_files(self, image_id, paths):
        """Text files read out of an image (see Docker.read_files), read once per image and run."""
        key = (image_id, tuple(paths))
        with self._image_lock:
            found = self._files.get(key)
        if found is None:
            found = self.docker.read_files(image_id, paths)
            with self._image_lock:
                self._files[key] = found
        return found

    def image(self, reference):
        """Inspect data of an image (None if absent), looked up once per reference and run."""
        with self._image_lock:
            if reference not in self._images:
                self._images[reference] = self.docker.inspect_image(reference)
            return self._images[reference]

    @contextlib.contextmanager
    def app_lock(self, app):
        """The app's exclusive lock; check mode only reads, so it takes none (writes are atomic)."""
        if self.check_mode:
            yield
        else:
            with self.store.lock(app):
                yield

    @contextlib.contextmanager
    def global_lock(self):
        """The lock of the global document (none in check mode)."""
        if self.check_mode:
            yield
        else:
            with self.store.lock_global():
                yield

    def inventory(self, app, doc=None):
        """The app's containers, from ONE list call (see specs.name_filter). With the app's document, their restart
        policies are verified too (PolicyWatch.verify)."""
        summaries = self.docker.list_containers({'name': [specs.name_filter(app)]})
        inventory = planner.Inventory(app, summaries)
        if doc is not None:
            self.policies.verify(inventory, doc)
        return inventory

    def take_snapshot(self, names=()):
        """ONE list call for the containers of every app (a run over many apps): their no-op is then proven
        without a list call per app (see plan_app). ``names``: the apps of the run, whose policy windows are then
        read from the daemon's events in one request too."""
        groups = {}
        for summary in self.docker.list_containers({'name': [specs.ANY_APP_NAME_FILTER]}):
            for name in summary.get('Names') or []:
                app = specs.app_of_container_name(name)
                if app is not None:
                    groups.setdefault(app, []).append(summary)
                    break
        self._snapshot = groups
        since = []
        for name in names:
            try:
                window = (self.store.read_app(name) or {}).get('policy_window')
            except DokkuPsError:
                continue  # that app fails on its own, later
            if window is not None and groups.get(name):
                since.append(window['since'])
        if since:
            self.policies.events_since(min(since))

    def plan_app(self, app, make_plan, doc, will_write=False):
        """``make_plan(inventory)`` -> plan; returns (inventory, plan). ``doc``: the app's document (its restart
        policies are verified against Docker, see PolicyWatch.verify).

        With a snapshot (take_snapshot) the plan is made from it first. The snapshot was listed before the
        app's lock was taken, so it may be stale: it is only trusted to prove a no-op (nothing to do in
        Docker and, ``will_write`` false, nothing to record). Anything else is planned again from an exact
        list made under the lock. A no-op proven from the snapshot writes nothing, so it stands for the
        moment of the snapshot."""
        if self._snapshot is not None:
            inventory = planner.Inventory(app, self._snapshot.get(app, []))
            self.policies.verify(inventory, doc)
            plan = make_plan(inventory)
            if not plan.changed and not will_write and not self.policies.records(inventory):
                return inventory, plan
        inventory = self.inventory(app, doc)
        return inventory, make_plan(inventory)

    # -- restart policies changed behind the collection's back --------------------------------------------------

    def run_plan(self, plan, doc, global_doc):
        """Carry out a plan with the app's stop timeout; returns the (action, container id) pairs done."""
        timeout = computed_property(doc, global_doc, 'stop_timeout_seconds')
        check = checker.Checker(self.docker, doc, idle=self.actions.idle, redactor=self.redactor)
        for action in plan.actions:
            if action.kind == planner.REPLACE and check.stop_first(action.spec):
                reason = ('its checks are disabled' if check.config(action.spec)['mode'] == 'disabled'
                          else 'it publishes the fixed host port %s' % action.spec['ports']['host'])
                self.warn('%s is replaced by stopping the old container first, because %s: expect a short '
                          'downtime' % (action.name, reason))
        proxy = None
        if plan.touches(WEB) and self.proxy.concerns(doc):
            self.proxy.check_ready(doc)
            proxy = AppProxy(self.proxy, doc, lambda: self._list(doc['name']))
        return Executor(self.docker, timeout, check=check, stop_first=check.stop_first,
                        pool=self.actions, proxy=proxy).run(plan)

    def _list(self, app):
        """The app's containers, from ONE list call."""
        return self.docker.list_containers({'name': [specs.name_filter(app)]})

    def sync_proxy(self, doc, inventory, plan):
        """The app's nginx config for its web containers as they run after ``plan`` (queued; applied at the end of
        the run with every app's). A plan that changed web containers is followed by a list call (their addresses);
        otherwise the inventory of the run serves, so a run that changes nothing makes no request for this. Check
        mode predicts: a plan that changes web containers changes the config anyway (new addresses)."""
        if not self.proxy.concerns(doc):
            return
        web_changed = plan.touches(WEB)
        if self.check_mode:
            summaries = inventory.summaries if inventory is not None else []
            if web_changed:
                self.proxy.predict(doc, summaries, plan)
            else:
                self.proxy.sync(doc, summaries)
            return
        if web_changed or inventory is None:
            summaries = self._list(doc['name'])
        else:
            summaries = inventory.summaries
        self.proxy.sync(doc, summaries)

    def _mark_policies_unknown(self, name, plan):
        """Before restart policies change in place, record them as unknown in the stored document: a run
        killed half-way then leaves 'unknown', which the next plan never takes for the desired policy, instead
        of a recorded policy that Docker may not have. The stored document is updated, not the new one, so a
        failed rollout still leaves the recorded definition as it was."""
        touched = [action.container.id for action in plan.actions
                   if action.kind in (planner.START, planner.STOP, planner.UPDATE_POLICY) and action.container]
        if not touched:
            return
        stored = self.read_app(name)
        if stored is None:
            return
        applied = dict(stored.get('applied_policies') or {})
        applied.update((container_id, planner.UNKNOWN_POLICY) for container_id in touched)
        stored['applied_policies'] = applied
        self.store.write_app(stored)

    def commit(self, plan, doc, global_doc, inventory, write, proxy=True, rollback_of=None):
        """Outside check mode: carry out the plan, then record ``doc`` if ``write`` or if restart policies
        were set in place (they are remembered in ``applied_policies``, since labels cannot change). With
        ``proxy``, the app's nginx config follows its web containers (not for a run that only records).

        A document about to be written whose definition differs from its current release's gets a new release
        (``rollback_of``: the release number a rollback goes back to), and keeps the last ``keep_releases``; in
        check mode ``doc`` shows the release the run would record.

        A failing plan raises before the write, so the recorded definition stays as it was and a later start
        never brings up a rejected version (nor a release of it).
        """
        release = None
        if write or plan.changed:
            release = releases.record(doc, timestamp(), computed_property(doc, global_doc, 'keep_releases'),
                                      releases.ROLLBACK if rollback_of else releases.DEPLOY, rollback_of)
        if self.check_mode:
            if proxy:
                self.sync_proxy(doc, inventory, plan)
            return
        window = self.policies.window(inventory)
        # containers had to be inspected: what was learnt is recorded (a bookkeeping write, not a change of the
        # desired state: updated_at stays), so the next run need not inspect them again
        bookkeeping = self.policies.records(inventory)
        if plan.changed:
            self._mark_policies_unknown(doc['name'], plan)
            done = self.run_plan(plan, doc, global_doc)
            doc['applied_policies'] = planner.applied_policies(doc, inventory, done)
            self.policies.caused(window, done)
            write = True
        elif bookkeeping:
            # what the inspected containers really have replaces what was recorded (the inventory is exact here:
            # plan_app never proves a no-op from its snapshot when containers were inspected)
            doc['applied_policies'] = planner.applied_policies(doc, inventory, [])
        if write or bookkeeping:
            if window is not None:
                doc['policy_window'] = window
            if write:
                doc['updated_at'] = timestamp()
                if release is not None:
                    release['created_at'] = doc['updated_at']  # when it went live, after its rollout
            self.store.write_app(doc)
        if proxy:
            self.sync_proxy(doc, inventory, plan)


def timestamp():
    """Now, as the state documents record it (``updated_at``)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
