# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker-local scheduler: an app's processes are containers on the host's one Docker daemon.

What the operations ask (_scheduler.AppScheduler) is answered with the planner (a plan from ONE list call of the
app's containers, or from the run's snapshot of every app's), the executor (the plan's container actions on the
run's one bounded pool, checked by the checker), the restart policies changed behind the collection's back
(_policy_drift.PolicyWatch), and the static addresses of proxied web containers (_proxy_addresses). Its report
reads the containers' inspect data (_scheduler_local_report.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils import _checker as checker
from ansible_collections.dokku_ps.docker.plugins.module_utils._concurrency import ActionPool
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils._executor import Executor
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import WEB
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils._policy_drift import PolicyWatch
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import (
    DEFAULT_RESTART_POLICY, app_is_active, computed_property, desired_restart_policies)
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_addresses import AddressBook, members
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import settings_of
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_local_oneoff as local_oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_local_report as local_report
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs

# what a switch of the proxy takes out of the upstream in check mode: these actions retire or stop their container
LEAVING = (planner.REPLACE, planner.REMOVE, planner.STOP, planner.RECREATE)
# what brings a web container up in check mode's prediction of the config
COMING = (planner.CREATE, planner.REPLACE, planner.RECREATE, planner.START)


class LocalRun(scheduler.SchedulerRun):
    """What the docker-local apps of one run share: the action pool, the restart-policy watch, the addresses handed
    to new proxied web containers, and the snapshot of every app's containers (a run over many apps)."""

    kind = scheduler.DOCKER_LOCAL

    def __init__(self, ctx):
        self.ctx = ctx
        self.docker = ctx.docker
        # every container action of the run, whatever the app, goes through this one bounded pool
        self.actions = ActionPool()
        # restart policies changed behind the collection's back (see _policy_drift.PolicyWatch)
        self.policies = PolicyWatch(ctx.docker, ctx.check_mode)
        self.addresses = AddressBook(ctx.docker, ctx.proxy.options.subnet)
        # app -> container summaries of the run's snapshot (prefetch), None without one
        self._snapshot = None

    def app(self, name):
        return LocalApp(self, name)

    def close(self):
        self.actions.close()

    def list(self, app):
        """The app's containers, from ONE list call (see specs.name_filter)."""
        return self.docker.list_containers({'name': [specs.name_filter(app)]})

    def inventory(self, app, doc=None):
        """The app's containers, from ONE list call. With the app's document, their restart policies are verified
        too (PolicyWatch.verify)."""
        inventory = planner.Inventory(app, self.list(app))
        if doc is not None:
            self.policies.verify(inventory, doc)
        return inventory

    def prefetch(self, names):
        """ONE list call for the containers of every app (a run over many apps): their no-op is then proven
        without a list call per app (see plan). ``names``: the apps of the run, whose policy windows are then
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
                window = (self.ctx.store.read_app(name) or {}).get('policy_window')
            except DokkuPsError:
                continue  # that app fails on its own, later
            if window is not None and groups.get(name):
                since.append(window['since'])
        if since:
            self.policies.events_since(min(since))

    def plan(self, app, make_plan, doc, will_write=False):
        """``make_plan(inventory)`` -> the plan, with its inventory (``plan.inventory``). ``doc``: the app's document
        (its restart policies are verified against Docker, see PolicyWatch.verify).

        With a snapshot (prefetch) the plan is made from it first. The snapshot was listed before the app's lock was
        taken, so it may be stale: it is only trusted to prove a no-op (nothing to do in Docker and, ``will_write``
        false, nothing to record). Anything else is planned again from an exact list made under the lock. A no-op
        proven from the snapshot writes nothing, so it stands for the moment of the snapshot."""
        if self._snapshot is not None:
            inventory = planner.Inventory(app, self._snapshot.get(app, []))
            self.policies.verify(inventory, doc)
            plan = make_plan(inventory)
            if not plan.changed and not will_write and not self.policies.records(inventory):
                plan.inventory = inventory
                return plan
        inventory = self.inventory(app, doc)
        plan = make_plan(inventory)
        plan.inventory = inventory
        return plan

    def report(self, docs, global_doc, inspect=False, top=False):
        return local_report.report(self, docs, global_doc, inspect=inspect, top=top)


class LocalApp(scheduler.AppScheduler):
    """The docker-local scheduler of one app: plans (_planner.Plan, with the inventory they were made from) and
    their execution."""

    def __init__(self, run, name):
        self.run = run
        self.ctx = run.ctx
        self.name = name

    # -- planning ---------------------------------------------------------------------------------------------

    def converge(self, doc, global_doc, types=None, replace=True, start=True, force_replace=False,
                 will_write=False):
        policy = computed_property(doc, global_doc, 'restart_policy')
        return self.run.plan(self.name, lambda inventory: planner.plan_converge(
            doc, policy, inventory, types=types, replace=replace, start=start, force_replace=force_replace),
            doc, will_write)

    def stop(self, doc, will_write=False):
        return self.run.plan(self.name, lambda inventory: planner.plan_stop(doc, inventory), doc, will_write)

    def policies(self, doc, global_doc):
        running, stopped = desired_restart_policies(doc, global_doc, app_is_active(doc, global_doc))
        inventory = self.run.inventory(self.name, doc)
        plan = planner.plan_policy(doc, running, inventory, stopped_policy=stopped)
        plan.inventory = inventory
        return plan

    def delete(self, doc):
        inventory = self.run.inventory(self.name)
        plan = planner.plan_converge(doc, DEFAULT_RESTART_POLICY, inventory, remove_all=True)
        plan.inventory = inventory
        return plan

    # -- doing ------------------------------------------------------------------------------------------------

    def apply(self, work, doc, global_doc):
        """Carry the plan out; returns the document keys to record (``applied_policies``: the restart policies set
        in place; ``policy_window``: up to when they are known) and whether they must be written: containers
        changed, or had to be inspected (a bookkeeping write, so the next run need not inspect them again)."""
        watch = self.run.policies
        inventory = getattr(work, 'inventory', None)
        window = watch.window(inventory)
        keys = {} if window is None else {'policy_window': window}
        if work.changed:
            self._mark_policies_unknown(work)
            done = self._execute(work, doc, global_doc)
            keys['applied_policies'] = planner.applied_policies(doc, inventory, done)
            watch.caused(window, done)
            return keys, True
        if watch.records(inventory):
            # what the inspected containers really have replaces what was recorded (the inventory is exact here:
            # plan never proves a no-op from its snapshot when containers were inspected)
            keys['applied_policies'] = planner.applied_policies(doc, inventory, [])
            return keys, True
        return keys, False

    def _execute(self, plan, doc, global_doc):
        """Carry out a plan with the app's stop timeout; returns the (action, container id) pairs done."""
        timeout = computed_property(doc, global_doc, 'stop_timeout_seconds')
        check = checker.Checker(self.ctx.docker, doc, idle=self.run.actions.idle, redactor=self.ctx.redactor)
        for action in plan.actions:
            if action.kind == planner.REPLACE and check.stop_first(action.spec):
                reason = ('its checks are disabled' if check.config(action.spec)['mode'] == 'disabled'
                          else 'it publishes the fixed host port %s' % action.spec['ports']['host'])
                self.ctx.warn('%s is replaced by stopping the old container first, because %s: expect a short '
                              'downtime' % (action.name, reason))
        proxy = None
        settings = settings_of(doc)
        if plan.touches(WEB) and self.ctx.proxy.concerns(self.name, settings):
            self.ctx.proxy.check_ready(self.name, settings)
            proxy = AppProxy(self, settings)
        return Executor(self.ctx.docker, timeout, check=check, stop_first=check.stop_first, pool=self.run.actions,
                        proxy=proxy).run(plan)

    def _mark_policies_unknown(self, plan):
        """Before restart policies change in place, record them as unknown in the stored document: a run
        killed half-way then leaves 'unknown', which the next plan never takes for the desired policy, instead
        of a recorded policy that Docker may not have. The stored document is updated, not the new one, so a
        failed rollout still leaves the recorded definition as it was."""
        touched = [action.container.id for action in plan.actions
                   if action.kind in (planner.START, planner.STOP, planner.UPDATE_POLICY) and action.container]
        if not touched:
            return
        stored = self.ctx.read_app(self.name)
        if stored is None:
            return
        applied = dict(stored.get('applied_policies') or {})
        applied.update((container_id, planner.UNKNOWN_POLICY) for container_id in touched)
        stored['applied_policies'] = applied
        self.ctx.store.write_app(stored)

    # -- one-offs ---------------------------------------------------------------------------------------------------

    def run_once(self, doc, req):
        return local_oneoff.run_once(self.ctx.docker, self.ctx.redactor, doc, req)

    def cron_spec(self, doc, entries, active):
        return {'app': self.name, 'docker_host': self.ctx.docker.host, 'active': bool(active),
                'entries': [dict(entry, create=local_oneoff.cron_create_spec(doc, entry)) for entry in entries]}

    # -- the proxy ----------------------------------------------------------------------------------------------

    def sync_proxy(self, doc, work):
        """The app's nginx config for its web containers as they run after ``work`` (queued; applied at the end of
        the run with every app's). Work that changed web containers is followed by a list call (their addresses);
        otherwise the inventory the work was planned from serves, so a run that changes nothing makes no request
        for this; work planned from no inventory (_scheduler.nothing: the processes left alone) lists them, in check
        mode too. Check mode predicts: work that changes web containers changes the config anyway (new
        addresses)."""
        proxy = self.ctx.proxy
        settings = settings_of(doc)
        if not proxy.concerns(self.name, settings):
            return
        inventory = getattr(work, 'inventory', None)
        web_changed = work.touches(WEB)
        # the web containers the work retired, removed or stopped: never members, also when the daemon's list still
        # shows one running a moment after its stop returned (its list view is updated a moment later)
        leaving = set(action.container.id for action in getattr(work, 'actions', ())
                      if action.process_type == WEB and action.container is not None and action.kind in LEAVING)
        if self.ctx.check_mode:
            summaries = inventory.summaries if inventory is not None else self.run.list(self.name)
            if web_changed:
                coming = [action.name for action in work.actions
                          if action.process_type == WEB and action.kind in COMING]
                proxy.predict(self.name, settings, members(self.name, summaries, leaving), coming)
            else:
                proxy.sync(self.name, settings, members(self.name, summaries))
            return
        if web_changed or inventory is None:
            summaries = self.run.list(self.name)
        else:
            summaries = inventory.summaries
        proxy.sync(self.name, settings, members(self.name, summaries, leaving))


class AppProxy(object):
    """What the executor needs of the proxy for one app's plan: addresses for its new web containers, and the
    switch of its config in the middle of a web phase, and how long the old containers drain (``wait``)."""

    def __init__(self, app, settings):
        self.app = app
        self.settings = settings
        self.wait = settings.wait_to_retire if settings.enabled else 0

    def address(self, refresh=False):
        return self.app.run.addresses.address(refresh)

    def switch(self, exclude):
        """The config without the containers ``exclude`` is about to retire, from a fresh list of the app's
        containers (the new ones are up by now)."""
        summaries = self.app.run.list(self.app.name)
        return self.app.ctx.proxy.switch(self.app.name, self.settings, members(self.app.name, summaries),
                                         members(self.app.name, summaries, exclude))
