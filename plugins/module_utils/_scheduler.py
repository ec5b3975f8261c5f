# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler seam: what the operations ask of whatever runs an app's processes, and what it must answer.

An operation states its intent for one app (converge it, stop it, restart some types, set its restart policies,
delete it) to the app's scheduler, chosen from the app's document (:func:`kind_of`, the one place the choice
branches), and gets back the *work*: what the scheduler will do, or in check mode would do, to the app's processes.
The run context (_context.Context) commits that work (the scheduler carries it out, the context records the
document and its release) and asks the scheduler to keep the app's proxy config in step.

``docker-local`` (_scheduler_local.py: containers on the one Docker daemon of the host) is the one implementation
today. A second scheduler implements :class:`AppScheduler` and :class:`SchedulerRun`, returns work objects that
answer what :class:`Work` answers, and is added to :data:`KINDS` and to ``Context.schedulers``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results

# containers on the host's one Docker daemon, named <app>.<type>.<index> (docs/architecture.md)
DOCKER_LOCAL = 'docker-local'
# replicated services of a Docker Swarm, one per process type (_scheduler_swarm.py)
SWARM = 'swarm'
KINDS = (DOCKER_LOCAL, SWARM)


def kind_of(doc):
    """The scheduler of an app: what its document says, else ``docker-local``."""
    return (doc or {}).get('scheduler') or DOCKER_LOCAL


class Work(object):
    """What a scheduler does to an app's processes in one run (check mode: would do). This one does nothing; a
    scheduler's own work objects answer the same four things."""

    def __init__(self):
        self.warnings = []

    @property
    def changed(self):
        """True when carrying the work out changes something."""
        return False

    def summary(self):
        """The ``containers`` of the app's outcome: the keys of results.CONTAINER_WORK, each a sorted list of names."""
        return results.container_work(None)

    def touches(self, process_type):
        """True when the work changes processes of ``process_type``."""
        return False


def nothing():
    """Work that does nothing: an app whose processes are left alone (not deployed, stopped, skip_deploy...)."""
    return Work()


class AppScheduler(object):
    """The scheduler of one app in one run. The planning methods learn the app's processes themselves (a run over
    many apps may have learnt them all at once, see SchedulerRun.prefetch) and return the work; nothing changes
    until ``apply``. ``doc`` is the app document the work is for, ``global_doc`` the global one."""

    def converge(self, doc, global_doc, types=None, replace=True, start=True, force_replace=False,
                 will_write=False):
        """The work that brings the app's processes to ``doc``: its formation running with its definition and restart
        policy. ``types``: only these process types; ``replace``: replace processes whose definition changed (a
        deploy); ``start``: start processes that are down; ``force_replace``: replace every process (restart,
        rebuild). ``will_write``: the run records the document anyway (the work may not be proven from a
        prefetched view then). Raises ConflictError when a process cannot be placed, before anything changes."""
        raise NotImplementedError

    def stop(self, doc, will_write=False):
        """The work that stops every process of the app and keeps them (restart policy ``no``)."""
        raise NotImplementedError

    def policies(self, doc, global_doc):
        """The work that gives every process of the app its restart policy, in place."""
        raise NotImplementedError

    def delete(self, doc):
        """The work that removes every process of the app (the app is deleted)."""
        raise NotImplementedError

    def apply(self, work, doc, global_doc):
        """Carry ``work`` out (never in check mode). Returns ``(keys, must_write)``: the document keys the scheduler
        keeps about the app's processes, to record when the document is written, and whether they must be written
        even when nothing else changed."""
        raise NotImplementedError

    def run_once(self, doc, req):
        """Run a command once in the app's release ``doc`` (``req``: _oneoff.Request), in a process of its own that
        is labelled as the app's one-off (never counted as one of its process types); returns an _oneoff.Result.
        Never called in check mode."""
        raise NotImplementedError

    def cron_spec(self, doc, entries, active):
        """What the cron runner of the host needs to run the app's cron ``entries`` (normalised app.json entries)
        as one-offs of its release ``doc`` (_cron.py); ``active``: the app runs (a stopped app's entries run
        nothing). Raises ValidationError for a command that cannot be split."""
        raise NotImplementedError

    def sync_proxy(self, doc, work):
        """Queue the app's proxy config for its web processes as they run after ``work`` (check mode: as they would
        run), on the run's proxy (_proxy.ProxyRun)."""
        raise NotImplementedError


class SchedulerRun(object):
    """What one kind of scheduler shares between the apps of a run (views of the processes, pools, caches)."""

    kind = None

    def app(self, name):
        """The AppScheduler of app ``name``."""
        raise NotImplementedError

    def prefetch(self, names):
        """A run over the apps ``names``: learn their processes at once, so that apps with nothing to do cost no
        request of their own. Apps of another scheduler are ignored."""
        raise NotImplementedError

    def report(self, docs, global_doc, inspect=False, top=False):
        """What dokku_ps_report shows of the processes of the apps ``docs``: {app: {'processes': count, 'running':
        Dokku's flag, 'dynos': {dyno: entry}}} (docs/architecture.md, "The scheduler seam")."""
        raise NotImplementedError

    def close(self):
        """End of the run."""
