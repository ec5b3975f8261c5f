# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run context: what the operations of one module run share, and how an app's work is committed.

The Docker client, the state store, the proxy, check mode, warnings, the redactor, caches, app locks, and the
schedulers of the run (_scheduler.py): an operation gets an app's scheduler from its document, which plans the
app's work, and commits it here (the scheduler carries it out; the document and its release are recorded).

Each operation takes the app's lock (except in check mode and for read-only work), reads the state documents,
asks the app's scheduler for the work, and (unless in check mode) commits it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import datetime
import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json as app_json
from ansible_collections.dokku_ps.docker.plugins.module_utils._cron import CronTable
from ansible_collections.dokku_ps.docker.plugins.module_utils._properties import computed_property
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils._scheduler_local import LocalRun
from ansible_collections.dokku_ps.docker.plugins.module_utils._scheduler_swarm import SwarmRun
from ansible_collections.dokku_ps.docker.plugins.module_utils._tls import TlsRun

# every scheduler kind (_scheduler.KINDS) -> the class of its SchedulerRun
SCHEDULERS = {scheduler.DOCKER_LOCAL: LocalRun, scheduler.SWARM: SwarmRun}


class Context(object):
    """What every operation needs: the Docker client, the state store and the run's mode."""

    def __init__(self, docker, store, proxy, check_mode=False, acme=None, connect=None):
        self.docker = docker
        # host -> a client of another daemon with the run's connection options (the image copy's source, the
        # nodes of a swarm); made by the runner, which alone knows the Docker client's class
        self._connect = connect
        self._others = {}
        self.store = store
        self.check_mode = check_mode
        self.warnings = []
        self._images = {}
        self._files = {}
        self._image_lock = threading.Lock()
        # masks the env values of every app the run reads in what comes from outside (logs, Docker's errors)
        self.redactor = redaction.Redactor()
        docker.redactor = self.redactor
        # the nginx proxy: each app's config, switched in a rollout or queued and applied once at the end (_proxy)
        self.proxy = proxy
        # kind -> the scheduler's SchedulerRun, made at first use (scheduler_run)
        self._schedulers = {}
        self._lock = threading.Lock()
        # the apps' certificates (_tls.py; ``acme``: the run's _options.AcmeOptions)
        self.tls = TlsRun(self, acme)
        self._cron = None

    @property
    def cron(self):
        """The apps' app.json cron entries on the host (_cron.CronTable), made at first use."""
        if self._cron is None:
            self._cron = CronTable(self.store.state_dir, check_mode=self.check_mode)
        return self._cron

    def docker_at(self, host):
        """A client of the daemon at ``host`` with the run's other connection options (made once per host)."""
        with self._lock:
            if host == self.docker.host:
                return self.docker
            if host not in self._others:
                if self._connect is None:
                    raise TypeError('this run context connects to no other daemon')
                client = self._connect(host)
                client.redactor = self.redactor
                self._others[host] = client
            return self._others[host]

    def close(self):
        for run in list(self._schedulers.values()):
            run.close()

    def warn(self, message):
        self.warnings.append(message)

    def know(self, doc):
        """Register an app document's secrets (its env values) and public names with the run's redactor."""
        if doc:
            self.redactor.add_env(doc.get('env'))
            for release in releases.kept(doc):
                self.redactor.add_env(release['definition'].get('env'))
            self.redactor.add_public(redaction.public_names(doc))
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

    # -- the schedulers ---------------------------------------------------------------------------------------

    def scheduler_run(self, kind):
        """The part of scheduler ``kind`` the apps of this run share (made at first use)."""
        with self._lock:
            found = self._schedulers.get(kind)
            if found is None:
                found = self._schedulers[kind] = SCHEDULERS[kind](self)
            return found

    def scheduler(self, doc):
        """The scheduler of the app ``doc`` describes (_scheduler.AppScheduler): the one place where an app's
        scheduler is chosen (_scheduler.kind_of)."""
        return self.scheduler_run(scheduler.kind_of(doc)).app(doc['name'])

    def prefetch(self, names):
        """A run over the apps ``names``: every scheduler in use learns their processes at once
        (SchedulerRun.prefetch); docker-local always (it costs one list call)."""
        for kind in scheduler.KINDS:
            if kind == scheduler.DOCKER_LOCAL or kind in self._schedulers:
                self.scheduler_run(kind).prefetch(names)

    def plan_cron(self, doc, active):
        """(the app's app.json cron entries, what the host's cron runner needs for them: its scheduler's cron_spec),
        for CronTable.sync once the app converged; made before anything changes, so a command that cannot be split
        is refused first. ``active``: the app runs after the run. No entries for an app never deployed."""
        entries = app_json.cron_entries(doc.get('app_json')) if doc.get('deployed') else []
        return entries, (self.scheduler(doc).cron_spec(doc, entries, active) if entries else None)

    def report(self, docs, global_doc, inspect=False, top=False):
        """What the schedulers report of the processes of the apps ``docs`` (SchedulerRun.report), by app."""
        found = {}
        for kind in scheduler.KINDS:
            mine = [doc for doc in docs if scheduler.kind_of(doc) == kind]
            if mine:
                found.update(self.scheduler_run(kind).report(mine, global_doc, inspect=inspect, top=top))
        return found

    def commit(self, work, doc, global_doc, write, proxy=True, rollback_of=None):
        """Outside check mode: the app's scheduler carries ``work`` out, then ``doc`` is recorded if ``write``, if
        the work changed processes, or if the scheduler learnt what it must keep (SchedulerRun.apply). With
        ``proxy``, the app's nginx config follows its web processes (not for a run that only records), and its
        certificate its TLS settings: returns the ``certificate`` of its outcome (_tls.TlsRun.commit).

        A document about to be written whose definition differs from its current release's gets a new release
        (``rollback_of``: the release number a rollback goes back to), and keeps the last ``keep_releases``; in
        check mode ``doc`` shows the release the run would record.

        A failing work raises before the write, so the recorded definition stays as it was and a later start
        never brings up a rejected version (nor a release of it).
        """
        release = None
        if write or work.changed:
            release = releases.record(doc, timestamp(), computed_property(doc, global_doc, 'keep_releases'),
                                      releases.ROLLBACK if rollback_of else releases.DEPLOY, rollback_of)
        app = self.scheduler(doc)
        if self.check_mode:
            if proxy:
                app.sync_proxy(doc, work)
                return self.tls.commit(doc)
            return None
        keys, must_write = app.apply(work, doc, global_doc)
        changed = write or work.changed
        if changed or must_write:
            doc.update(keys)
            if changed:
                doc['updated_at'] = timestamp()
                if release is not None:
                    release['created_at'] = doc['updated_at']  # when it went live, after its rollout
            self.store.write_app(doc)
        if not proxy:
            return None
        app.sync_proxy(doc, work)
        return self._commit_certificate(doc)

    def _commit_certificate(self, doc):
        """The app's certificate after its processes converged (_tls.TlsRun.commit); what it records of the
        certificate is written, a failure too (``certificate.last_error``) before the failure is raised."""
        before = copy.deepcopy(doc.get('certificate'))
        try:
            outcome = self.tls.commit(doc)
        finally:
            if doc.get('certificate') != before:
                self.store.write_app(doc)
        return outcome


def timestamp():
    """Now, as the state documents record it (``updated_at``)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
