# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operations the modules call: define/deploy or delete an app, scale it, report on it.

Each operation takes the app's lock (except in check mode and for read-only work), reads the state
documents, learns the app's containers with ONE list call, plans, and (unless in check mode) executes
the plan and writes the new state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import datetime
import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import EVENT_BUFFER
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, NotFoundError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._executor import ActionPool, Executor, for_each, max_workers
from ansible_collections.dokku_ps.docker.plugins.module_utils import _checks as checks
from ansible_collections.dokku_ps.docker.plugins.module_utils import _model as model
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name, validate_process_type
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import SCHEMA_VERSION

DOKKU_SCALE_FILE = 'DOKKU_SCALE'
# events after which a container's restart policy may not be what the collection set (see verify_policies)
SUSPECT_EVENTS = ('update', 'start')
# nanoseconds: a window of the daemon's events ends this long before its estimated now (no wait for the daemon);
# the events a run caused are taken to have happened before its end plus CAUSED_MARGIN
WINDOW_MARGIN = 50 * 10 ** 6
CAUSED_MARGIN = 500 * 10 ** 6
CHECKS_FILE = 'CHECKS'
DEFINITION_KEYS = ('image', 'image_id', 'processes', 'process_source', 'procfile_path', 'env', 'web_port',
                   'publish', 'formation', 'dokku_scale', 'checks', 'image_checks')


class Context(object):
    """What every operation needs: the Docker client, the state store and the run's mode."""

    def __init__(self, docker, store, check_mode=False):
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
        # restart policies changed behind our back: the run's window of the daemon's events, and the
        # policies of the containers inspected so far (see verify_policies)
        self._events = None
        self._events_lock = threading.Lock()
        self._inspected = {}

    def close(self):
        self.actions.close()

    def warn(self, message):
        self.warnings.append(message)

    def know(self, doc):
        """Register an app document's secrets (its env values) and public names with the run's redactor."""
        if doc:
            self.redactor.add_env(doc.get('env'))
            self.redactor.add_public(public_names(doc))
        return doc

    def read_app(self, name):
        """The app's document from the state store (None when it has none), its secrets registered."""
        return self.know(self.store.read_app(name))

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
        """The app's containers, from ONE list call (see model.name_filter). With the app's document, their restart
        policies are verified too (verify_policies)."""
        summaries = self.docker.list_containers({'name': [model.name_filter(app)]})
        inventory = planner.Inventory(app, summaries)
        if doc is not None:
            self.verify_policies(inventory, doc)
        return inventory

    def take_snapshot(self, names=()):
        """ONE list call for the containers of every app (a run over many apps): their no-op is then proven
        without a list call per app (see plan_app). ``names``: the apps of the run, whose policy windows are then
        read from the daemon's events in one request too."""
        groups = {}
        for summary in self.docker.list_containers({'name': [model.ANY_APP_NAME_FILTER]}):
            for name in summary.get('Names') or []:
                app = model.app_of_container_name(name)
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
            self._policy_events(min(since))

    def plan_app(self, app, make_plan, doc, will_write=False):
        """``make_plan(inventory)`` -> plan; returns (inventory, plan). ``doc``: the app's document (its restart
        policies are verified against Docker, see verify_policies).

        With a snapshot (take_snapshot) the plan is made from it first. The snapshot was listed before the
        app's lock was taken, so it may be stale: it is only trusted to prove a no-op (nothing to do in
        Docker and, ``will_write`` false, nothing to record). Anything else is planned again from an exact
        list made under the lock. A no-op proven from the snapshot writes nothing, so it stands for the
        moment of the snapshot."""
        if self._snapshot is not None:
            inventory = planner.Inventory(app, self._snapshot.get(app, []))
            self.verify_policies(inventory, doc)
            plan = make_plan(inventory)
            if not plan.changed and not will_write and not self._records(inventory):
                return inventory, plan
        inventory = self.inventory(app, doc)
        return inventory, make_plan(inventory)

    # -- restart policies changed behind the collection's back --------------------------------------------------

    def _policy_events(self, since):
        """(the daemon's events from ``since`` on, whether they are all there, the window's end): ONE request per
        run, whose answer serves every later ``since`` of the run."""
        with self._events_lock:
            window = self._events
            if window is None or since < window['since']:
                until = self._now()
                window = {'since': since, 'until': until, 'events': self.docker.events_between(since, until)}
                self._events = window
        events = [event for event in window['events'] if _event_time(event) >= since]
        # the daemon keeps its latest EVENT_BUFFER events: a full answer lacks older ones, unless it reaches
        # back past ``since``
        complete = (len(window['events']) < EVENT_BUFFER
                    or min(_event_time(event) for event in window['events']) < since)
        return events, complete, window['until']

    def _now(self):
        """A moment just passed on the daemon's clock (nanoseconds), up to which its events can be read without
        waiting: what happens later is read by the next run."""
        now = self.docker.daemon_time()
        return 0 if now is None else now - WINDOW_MARGIN

    def verify_policies(self, inventory, doc):
        """Restart policies changed behind the collection's back (``docker update --restart``).

        A container's labels and the document's ``applied_policies`` say what the collection set, and the list
        call does not show restart policies. So the collection reads the daemon's events since the app's policies
        were last known (``policy_window.since``, nanoseconds of the daemon's clock): ONE request. A container is
        inspected when it has an 'update' or 'start' event (a daemon restart starts containers too) that the
        collection did not cause itself: its own events of the last run that wrote the document are counted in
        ``policy_window.caused`` and happened before ``policy_window.caused_before``. Every container is inspected
        when the daemon no longer holds all events since then (it keeps its latest 256, and none across its
        restarts: then some of the collection's own events are missing too), or when the app was never checked.
        What Docker reports becomes ``container.actual_policy`` for the planner."""
        containers = [c for c in inventory.containers() if c.settled]
        window = (doc or {}).get('policy_window')
        inventory.checked_until = self._now()
        if not containers:
            return
        uncertain = containers
        if window is not None:
            events, complete, inventory.checked_until = self._policy_events(window['since'])
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
            return container.id, (model.restart_policy_from_docker((data.get('HostConfig') or {}).get('RestartPolicy'))
                                  if data else None)

        found = for_each(policy, missing, max_workers())
        with self._events_lock:
            self._inspected.update(found)
        for container in uncertain:
            container.actual_policy = self._inspected.get(container.id)
        inventory.inspected = bool(uncertain)

    def _records(self, inventory):
        """True when a run outside check mode has something to record about ``inventory``: containers it had to
        inspect (so the next run need not inspect them again)."""
        return not self.check_mode and inventory is not None and inventory.inspected

    def run_plan(self, plan, doc, global_doc):
        """Carry out a plan with the app's stop timeout; returns the (action, container id) pairs done."""
        timeout = model.computed_property(doc, global_doc, 'stop_timeout_seconds')
        checker = checks.Checker(self.docker, doc, idle=self.actions.idle, redactor=self.redactor)
        for action in plan.actions:
            if action.kind == planner.REPLACE and checker.stop_first(action.spec):
                reason = ('its checks are disabled' if checker.config(action.spec)['mode'] == 'disabled'
                          else 'it publishes the fixed host port %s' % action.spec['ports']['host'])
                self.warn('%s is replaced by stopping the old container first, because %s: expect a short '
                          'downtime' % (action.name, reason))
        return Executor(self.docker, timeout, check=checker, stop_first=checker.stop_first,
                        pool=self.actions).run(plan)

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

    def commit(self, plan, doc, global_doc, inventory, write):
        """Outside check mode: carry out the plan, then record ``doc`` if ``write`` or if restart policies
        were set in place (they are remembered in ``applied_policies``, since labels cannot change).

        A failing plan raises before the write, so the recorded definition stays as it was and a later start
        never brings up a rejected version.
        """
        if self.check_mode:
            return
        # the restart policies are known up to the end of the window verify_policies read; the events this run
        # causes come later, and are recorded as its own so that the next run expects them (see verify_policies)
        checked = None if inventory is None else inventory.checked_until
        window = None if checked is None else {'since': checked, 'caused': {}, 'caused_before': checked}
        # containers had to be inspected: what was learnt is recorded (a bookkeeping write, not a change of the
        # desired state: updated_at stays), so the next run need not inspect them again
        bookkeeping = self._records(inventory)
        if plan.changed:
            self._mark_policies_unknown(doc['name'], plan)
            done = self.run_plan(plan, doc, global_doc)
            doc['applied_policies'] = planner.applied_policies(doc, inventory, done)
            if window is not None:
                window['caused'] = self.docker.caused_events(set(container_id for _action, container_id in done))
                # every event of what this run did happened before now (with a margin for the clocks)
                window['caused_before'] = max(checked, self._now() + CAUSED_MARGIN)
            write = True
        elif self._records(inventory):
            # what the inspected containers really have replaces what was recorded (the inventory is exact here:
            # plan_app never proves a no-op from its snapshot when containers were inspected)
            doc['applied_policies'] = planner.applied_policies(doc, inventory, [])
        if write or bookkeeping:
            if window is not None:
                doc['policy_window'] = window
            if write:
                doc['updated_at'] = _now()
            self.store.write_app(doc)


def _event_time(event):
    """When an event happened, in nanoseconds of the daemon's clock (see ``Docker.daemon_time``)."""
    return event.get('timeNano') or (event.get('time') or 0) * 10 ** 9


def public_names(doc):
    """The names of an app that results show anyway (never taken for secrets): the app, its process types and
    its image reference."""
    names = [doc.get('name'), doc.get('image')]
    names.extend(doc.get('formation') or {})
    names.extend(doc.get('processes') or {})
    return [name for name in names if name]


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


# -------------------------------------------------------------------------------------------------------------
# dokku_ps_app
# -------------------------------------------------------------------------------------------------------------

def _validate_processes(processes):
    if processes is None:
        return None
    if not isinstance(processes, dict):
        raise ValidationError('processes', 'must be a dict of process type to command')
    if not processes:
        return None
    result = {}
    for ptype, command in processes.items():
        validate_process_type(ptype, 'processes')
        if not isinstance(command, str) or not command.strip():
            raise ValidationError('processes.%s' % ptype, 'the command must be a non-empty string')
        result[ptype] = command.strip()
    return result


def validate_app_params(params):
    """Check every app option that can be checked without Docker. Returns the normalised values."""
    validate_app_name(params['name'], 'name')
    values = {'name': params['name']}
    if params.get('env') is not None:
        values['env'] = model.validate_env(params['env'])
    if params.get('web_port') is not None:
        values['web_port'] = model.validate_port(params['web_port'], 'web_port')
    if params.get('publish') is not None:
        values['publish'] = model.validate_publish(params['publish'], 'publish')
    if params.get('checks') is not None:
        values['checks'] = checks.validate_checks(params['checks'], 'checks')
    if params.get('processes') is not None:
        values['processes'] = _validate_processes(params['processes'])
        values['process_source'] = 'processes' if values['processes'] else 'none'
    elif params.get('procfile') is not None:
        values['processes'] = parsers.parse_procfile(params['procfile'], source='procfile')
        values['process_source'] = 'procfile'
    elif params.get('procfile_path') is not None:
        values['procfile_path'] = model.validate_procfile_path(params['procfile_path'], 'procfile_path')
        values['process_source'] = 'procfile_path'
    if params.get('image') is not None:
        values['image'] = model.validate_image_reference(params['image'], 'image')
    return values


def resolve_image(ctx, reference):
    data = ctx.image(reference)
    if data is None:
        raise NotFoundError('image: %s was not found on the Docker host (dokku_ps never pulls; build, load or pull '
                            'it first)' % reference)
    return data


def _image_path(workdir, relative):
    workdir = (workdir or '/').rstrip('/')
    return '%s/%s' % (workdir, relative.lstrip('/'))


def _definition_from_image(ctx, values, old, image_data, force=False):
    """What the image defines: (processes of a procfile_path app, procfile_path, DOKKU_SCALE formation, CHECKS),
    read once per image id unless ``force``."""
    image_id = image_data['Id']
    image = values.get('image') or (old or {}).get('image')
    source = values.get('process_source', (old or {}).get('process_source', 'none'))
    procfile_path = values.get('procfile_path', (old or {}).get('procfile_path')) if source == 'procfile_path' else None
    if not force and old and old.get('image_id') == image_id and old.get('procfile_path') == procfile_path \
            and old.get('process_source') == source:
        processes = old.get('processes') if source == 'procfile_path' else None
        return processes, procfile_path, old.get('dokku_scale'), old.get('image_checks')
    workdir = (image_data.get('Config') or {}).get('WorkingDir') or '/'
    scale_path = _image_path(workdir, DOKKU_SCALE_FILE)
    checks_path = _image_path(workdir, CHECKS_FILE)
    paths = [scale_path, checks_path]
    if procfile_path:
        paths.append(_image_path(workdir, procfile_path))
    files = ctx.image_files(image_id, paths)
    processes = None
    if procfile_path:
        text = files[paths[2]]
        if text is None:
            raise NotFoundError('procfile_path: %s does not exist in image %s' % (paths[2], image))
        processes = parsers.parse_procfile(text, source='%s in image %s' % (paths[2], image))
    dokku_scale = None
    if files[scale_path] is not None:
        dokku_scale = parsers.parse_dokku_scale(files[scale_path], source='%s in image %s' % (scale_path, image))
    image_checks = None
    if files[checks_path] is not None:
        image_checks = parsers.parse_checks_file(files[checks_path], source='%s in image %s' % (checks_path, image))
    return processes, procfile_path, dokku_scale, image_checks


def apply_image(ctx, doc, old, values, image_data, force=False):
    """Put what the image defines into ``doc`` (processes of a ``procfile_path`` app, DOKKU_SCALE) and fit
    the formation to the processes. ``force`` reads the image's files again even for the same image id."""
    reference = doc['image']
    found = _definition_from_image(ctx, values, old, image_data, force)
    image_processes, procfile_path, dokku_scale, image_checks = found
    if doc['process_source'] == 'procfile_path':
        doc['processes'] = image_processes
        doc['procfile_path'] = procfile_path
    doc['dokku_scale'] = dokku_scale
    doc['image_checks'] = image_checks
    _check_dokku_scale(dokku_scale, doc['processes'], reference)
    if old:
        doc['formation'], dropped = model.reconcile_formation(old.get('formation'), doc['processes'], dokku_scale)
        for ptype in dropped:
            ctx.warn('process type %s is no longer defined by the processes; its containers are removed at '
                     'the next deploy' % ptype)
    else:
        doc['formation'], _dropped = model.reconcile_formation(model.initial_formation(doc['processes']),
                                                               doc['processes'], dokku_scale)
    # what the kernel would refuse to pass to a process (after $VAR expansion), also for a rebuild's new Procfile
    model.check_process_limits(doc)


def _check_dokku_scale(dokku_scale, processes, image):
    if not dokku_scale:
        return
    for ptype, count in sorted(dokku_scale.items()):
        if count > 0 and processes is not None and ptype not in processes:
            raise ValidationError('DOKKU_SCALE in image %s' % image, '%s is not a valid process name to scale up'
                                  % ptype)


def _definition(doc):
    """The parts of an app document whose change is a change of the app's definition."""
    if doc is None:
        return None
    return dict((key, doc.get(key)) for key in DEFINITION_KEYS)


def definition_changed(old, new):
    return _definition(old) != _definition(new)


def definition_view(doc, compare_to=None):
    """What a diff or a result shows of an app document: never an env value."""
    if doc is None:
        return {}
    view = dict((key, copy.deepcopy(doc.get(key))) for key in DEFINITION_KEYS)
    view['env'] = redaction.masked_env(doc.get('env') or {}, (compare_to.get('env') or {}) if compare_to else None)
    view['deployed'] = doc.get('deployed', False)
    return view


def _new_document(values, old):
    doc = copy.deepcopy(old) if old else {
        'schema_version': SCHEMA_VERSION,
        'name': values['name'],
        'image': None,
        'image_id': None,
        'processes': None,
        'process_source': 'none',
        'procfile_path': None,
        'env': {},
        'web_port': model.DEFAULT_WEB_PORT,
        'publish': None,
        'formation': {},
        'dokku_scale': None,
        'checks': {},
        'image_checks': None,
        'properties': {'restart_policy': None, 'stop_timeout_seconds': None, 'restore': None},
        'deployed': False,
    }
    return doc


def app_is_active(doc, global_doc):
    return doc.get('deployed') and model.computed_property(doc, global_doc, 'restore') is not False


def build_definition(ctx, values, old):
    """The app document ``values`` (from validate_app_params) describe, on top of the recorded one ``old``:
    image resolved to an id, processes, env, web port, what the image defines, and the formation fitted."""
    reference = values.get('image') or (old or {}).get('image')
    if not reference:
        raise ValidationError('image', 'is required to create app %s' % values['name'])
    image_data = resolve_image(ctx, reference)
    doc = _new_document(values, old)
    doc['image'] = reference
    doc['image_id'] = image_data['Id']
    for key in ('env', 'web_port', 'publish', 'checks'):
        if key in values:
            doc[key] = values[key]
    if 'process_source' in values:
        doc['process_source'] = values['process_source']
        doc['procfile_path'] = values.get('procfile_path')
        if values['process_source'] != 'procfile_path':
            doc['processes'] = values['processes']
    apply_image(ctx, doc, old, values, image_data)
    return ctx.know(doc)


def define_app(ctx, params):
    """dokku_ps_app state=present."""
    values = validate_app_params(params)
    name = values['name']
    with ctx.app_lock(name):
        old = ctx.read_app(name)
        global_doc = ctx.store.read_global()
        doc = build_definition(ctx, values, old)
        model.check_publish(doc)
        definition_changed = _definition(old) != _definition(doc)
        plan = planner.Plan()
        inventory = None
        first_deploy = False
        if params.get('deploy', True):
            if not doc.get('deployed'):
                first_deploy = True
                doc['deployed'] = True
                doc['properties']['restore'] = True
            if app_is_active(doc, global_doc):
                policy = model.computed_property(doc, global_doc, 'restart_policy')
                inventory = ctx.inventory(name, doc)
                plan = planner.plan_converge(doc, policy, inventory)
            elif definition_changed:
                ctx.warn('app %s is stopped: the new definition is recorded and applies at its next start' % name)
        ctx.warnings.extend(plan.warnings)

        changed = definition_changed or first_deploy or plan.changed
        ctx.commit(plan, doc, global_doc, inventory, write=changed)
        return results.one_app(app_outcome(doc, global_doc, plan, changed),
                               diff={'before': definition_view(old), 'after': definition_view(doc, old)})


def app_outcome(doc, global_doc, plan, changed, **extra):
    """The outcome of dokku_ps_app for a defined app: its definition, formation, properties and container work."""
    return results.app_outcome(doc['name'], results.status_of(changed), plan=plan, doc=doc, global_doc=global_doc,
                               image=doc.get('image'), image_id=doc.get('image_id'),
                               deployed=doc.get('deployed', False), can_scale=doc.get('dokku_scale') is None,
                               **extra)


def delete_app(ctx, name):
    """dokku_ps_app state=absent: stop (policy 'no' first) and remove every container, then the state."""
    validate_app_name(name, 'name')
    with ctx.app_lock(name):
        return delete_app_locked(ctx, name)


def delete_app_locked(ctx, name):
    """delete_app for a caller that already holds the app's lock."""
    old = ctx.read_app(name)
    global_doc = ctx.store.read_global()
    doc = old or {'name': name, 'formation': {}}
    inventory = ctx.inventory(name)
    plan = planner.plan_converge(doc, model.DEFAULT_RESTART_POLICY, inventory, remove_all=True)
    changed = plan.changed or old is not None
    if not ctx.check_mode:
        if plan.changed:
            ctx.run_plan(plan, doc, global_doc)
        if old is not None:
            ctx.store.delete_app(name)
    return results.one_app(results.app_outcome(name, results.status_of(changed), plan=plan),
                           diff={'before': definition_view(old), 'after': {}})


# -------------------------------------------------------------------------------------------------------------
# dokku_ps_scale
# -------------------------------------------------------------------------------------------------------------

def read_defined_app(ctx, name):
    doc = ctx.read_app(name)
    if doc is None:
        raise NotFoundError('app: %s is not defined on this host (create it with dokku_ps_app first)' % name)
    return doc


def validate_scale_params(name, scale):
    validate_app_name(name, 'app')
    return None if scale is None else model.validate_formation(scale, 'scale')


def apply_scale(doc, scale, field='scale'):
    """Set the counts of ``scale`` in ``doc['formation']`` (Dokku's ps:scale rules).

    Returns {type: {'before', 'after'}} of the counts that change. Refuses manual scaling of an app whose image
    has a DOKKU_SCALE file, and counts above 0 for types the processes do not define; a 0 for such a type is
    accepted and not kept.
    """
    name = doc['name']
    if doc.get('dokku_scale') is not None:
        raise ValidationError(field, 'app %s takes its formation from the DOKKU_SCALE file in image %s and cannot '
                              'be scaled manually (remove the file from the image to scale by hand)'
                              % (name, doc.get('image')))
    for ptype in sorted(scale):
        if scale[ptype] > 0 and not model.type_is_defined(doc, ptype):
            raise ValidationError(field, '%s is not a valid process name to scale up' % ptype)
    before = dict(doc.get('formation') or {})
    after = dict(before)
    for ptype, count in scale.items():
        if count == 0 and not model.type_is_defined(doc, ptype):
            after.pop(ptype, None)
        else:
            after[ptype] = count
    doc['formation'] = after
    return dict((ptype, {'before': before.get(ptype, 0), 'after': after.get(ptype, 0)})
                for ptype in sorted(set(before) | set(after)) if before.get(ptype, 0) != after.get(ptype, 0))


def scale_app(ctx, name, scale, skip_deploy=False):
    scale = validate_scale_params(name, scale)
    if scale is None:
        doc = read_defined_app(ctx, name)
        return results.one_app(_scale_outcome(doc, ctx.store.read_global(), None, {}, False))
    with ctx.app_lock(name):
        doc = read_defined_app(ctx, name)
        global_doc = ctx.store.read_global()
        new_doc = copy.deepcopy(doc)
        changes = apply_scale(new_doc, scale)
        model.check_publish(new_doc, 'scale')
        before = dict(doc.get('formation') or {})
        after = new_doc['formation']

        plan = planner.Plan()
        inventory = None
        if skip_deploy:
            pass
        elif not doc.get('deployed'):
            ctx.warn('app %s has not been deployed: the formation is recorded and applies at its first deploy' % name)
        elif not app_is_active(doc, global_doc):
            ctx.warn('app %s is stopped: the formation is recorded and applies at its next start' % name)
        else:
            policy = model.computed_property(doc, global_doc, 'restart_policy')
            inventory = ctx.inventory(name, new_doc)
            plan = planner.plan_converge(new_doc, policy, inventory, types=sorted(scale), replace=False, start=False)
            ctx.warnings.extend(plan.warnings)
        changed = bool(changes) or plan.changed
        ctx.commit(plan, new_doc, global_doc, inventory, write=bool(changes))
        return results.one_app(_scale_outcome(new_doc, global_doc, plan, changes, changed, before),
                               diff={'before': {'formation': before}, 'after': {'formation': after}})


def _scale_outcome(doc, global_doc, plan, changes, changed, before=None):
    """dokku_ps_scale's outcome: the formation after the run, the whole formation ``before`` it (SPEC) and the
    changed counts (``formation_changes``)."""
    formation = dict(doc.get('formation') or {})
    return results.app_outcome(doc['name'], results.status_of(changed), plan=plan, doc=doc, global_doc=global_doc,
                               before=formation if before is None else before, formation_changes=changes,
                               can_scale=doc.get('dokku_scale') is None)


# -------------------------------------------------------------------------------------------------------------
# dokku_ps_report
# -------------------------------------------------------------------------------------------------------------

def _published_ports(ports):
    result = []
    for port in ports or []:
        if port.get('PublicPort'):
            result.append({'container_port': port.get('PrivatePort'), 'host_port': port.get('PublicPort'),
                           'host_ip': port.get('IP'), 'protocol': port.get('Type')})
    return sorted(result, key=lambda p: (p['container_port'] or 0, p['host_ip'] or ''))


def report(ctx, app=None, inspect=False, top=False):
    """dokku_ps_report: the report of one app at the top level, or of every app under ``apps`` (``app`` None).
    Never changes anything."""
    global_doc = ctx.store.read_global()
    if app is not None:
        validate_app_name(app, 'app')
        docs = [read_defined_app(ctx, app)]
        summaries = ctx.docker.list_containers({'label': ['%s=%s' % (model.LABEL_APP, app)]})
    else:
        docs = [doc for doc in (ctx.read_app(name) for name in ctx.store.list_apps()) if doc is not None]
        summaries = ctx.docker.list_containers({'label': [model.LABEL_APP]}) if docs else []
    inventories = dict((doc['name'], planner.Inventory(doc['name'], summaries)) for doc in docs)
    containers = [c for inv in inventories.values() for c in inv.containers()]

    def details(container):
        data = ctx.docker.inspect_container(container.id) or {}
        processes = None
        if top and container.state == 'running':
            processes = ctx.docker.top(container.id)
        return container.id, data, processes

    inspected = dict((cid, (data, processes)) for cid, data, processes in for_each(details, containers, max_workers()))
    outcomes = []
    for doc in docs:
        inventory = inventories[doc['name']]
        dynos = {}
        public = public_names(doc)
        for container in inventory.containers():
            data, processes = inspected.get(container.id, ({}, None))
            state = data.get('State') or {}
            entry = {
                'name': container.name,
                'id': container.id,
                'status': state.get('Status') or container.state,
                'restart_count': data.get('RestartCount', 0),
                'restart_policy': model.restart_policy_from_docker((data.get('HostConfig') or {}).get('RestartPolicy')),
                'ports': _published_ports(container.ports),
                'started_at': state.get('StartedAt'),
            }
            if inspect and data:
                entry['inspect'] = redaction.sanitize_inspect(data, ctx.redactor, public)
            if top:
                entry['top'] = redaction.mask_container_data(processes, data, ctx.redactor, public)
            dynos[container.dyno] = entry
        outcomes.append(results.app_outcome(
            doc['name'], 'unchanged', doc=doc, global_doc=global_doc,
            deployed=doc.get('deployed', False),
            processes=len(inventory.containers()),
            running=planner.running_state(inventory.containers()),
            restore=model.computed_property(doc, global_doc, 'restore'),
            can_scale=doc.get('dokku_scale') is None,
            image=doc.get('image'),
            image_id=doc.get('image_id'),
            dynos=dynos,
        ))
    if app is not None:
        return results.one_app(outcomes[0], **{'global': global_report(global_doc)})
    return results.many_apps(outcomes, **{'global': global_report(global_doc)})


def global_report(global_doc):
    props = (global_doc or {}).get('properties') or {}
    result = {}
    for key in model.GLOBAL_PROPERTIES:
        result[key] = {'global': props.get(key), 'computed': props.get(key) if props.get(key) is not None
                       else model.PROPERTY_DEFAULTS[key]}
    return result
