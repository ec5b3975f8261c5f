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

from ansible_collections.dokku_ps.docker.plugins.module_utils.errors import NotFoundError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils.executor import ActionPool, Executor, for_each, max_workers
from ansible_collections.dokku_ps.docker.plugins.module_utils import checks
from ansible_collections.dokku_ps.docker.plugins.module_utils import model
from ansible_collections.dokku_ps.docker.plugins.module_utils import parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils import planner
from ansible_collections.dokku_ps.docker.plugins.module_utils.schema import SCHEMA_VERSION

MASK = 'XXXXXX'
DOKKU_SCALE_FILE = 'DOKKU_SCALE'
CHECKS_FILE = 'CHECKS'
ENV_ALLOW_KEYS = ('DYNO', 'PORT', 'PATH')
ENV_ALLOW_PREFIXES = ('DOKKU_', 'DOCKER_')
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

    def close(self):
        self.actions.close()

    def warn(self, message):
        self.warnings.append(message)

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

    def inventory(self, app):
        """The app's containers, from ONE list call (see model.name_filter)."""
        summaries = self.docker.list_containers({'name': [model.name_filter(app)]})
        return planner.Inventory(app, summaries)

    def take_snapshot(self):
        """ONE list call for the containers of every app (a run over many apps): their no-op is then proven
        without a list call per app (see plan_app)."""
        groups = {}
        for summary in self.docker.list_containers({'name': [model.ANY_APP_NAME_FILTER]}):
            for name in summary.get('Names') or []:
                app = model.app_of_container_name(name)
                if app is not None:
                    groups.setdefault(app, []).append(summary)
                    break
        self._snapshot = groups

    def plan_app(self, app, make_plan, will_write=False):
        """``make_plan(inventory)`` -> plan; returns (inventory, plan).

        With a snapshot (take_snapshot) the plan is made from it first. The snapshot was listed before the
        app's lock was taken, so it may be stale: it is only trusted to prove a no-op (nothing to do in
        Docker and, ``will_write`` false, nothing to record). Anything else is planned again from an exact
        list made under the lock. A no-op proven from the snapshot writes nothing, so it stands for the
        moment of the snapshot."""
        if self._snapshot is not None:
            inventory = planner.Inventory(app, self._snapshot.get(app, []))
            plan = make_plan(inventory)
            if not plan.changed and not will_write:
                return inventory, plan
        inventory = self.inventory(app)
        return inventory, make_plan(inventory)

    def run_plan(self, plan, doc, global_doc):
        """Carry out a plan with the app's stop timeout; returns the (action, container id) pairs done."""
        timeout = model.computed_property(doc, global_doc, 'stop_timeout_seconds')
        checker = checks.Checker(self.docker, doc, idle=self.actions.idle)
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
        stored = self.store.read_app(name)
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
        if plan.changed:
            self._mark_policies_unknown(doc['name'], plan)
            done = self.run_plan(plan, doc, global_doc)
            applied = planner.applied_policies(doc, inventory, done)
            stored = (self.store.read_app(doc['name']) or {}).get('applied_policies') or {}
            if applied != stored or applied != (doc.get('applied_policies') or {}):
                doc['applied_policies'] = applied
                write = True
        if write:
            doc['updated_at'] = _now()
            self.store.write_app(doc)


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
        model.validate_process_type(ptype, 'processes')
        if not isinstance(command, str) or not command.strip():
            raise ValidationError('processes.%s' % ptype, 'the command must be a non-empty string')
        result[ptype] = command.strip()
    return result


def validate_app_params(params):
    """Check every app option that can be checked without Docker. Returns the normalised values."""
    model.validate_app_name(params['name'], 'name')
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


def _masked_env(env, other=None):
    """Env with every value masked; against ``other`` (the previous env) it says which values changed."""
    result = {}
    for key, value in (env or {}).items():
        if other is None or other.get(key) == value:
            result[key] = MASK
        elif key not in other:
            result[key] = MASK + ' (added)'
        else:
            result[key] = MASK + ' (changed)'
    return result


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
    view['env'] = _masked_env(doc.get('env') or {}, (compare_to.get('env') or {}) if compare_to else None)
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
    return doc


def define_app(ctx, params):
    """dokku_ps_app state=present."""
    values = validate_app_params(params)
    name = values['name']
    with ctx.app_lock(name):
        old = ctx.store.read_app(name)
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
                inventory = ctx.inventory(name)
                plan = planner.plan_converge(doc, policy, inventory)
            elif definition_changed:
                ctx.warn('app %s is stopped: the new definition is recorded and applies at its next start' % name)
        ctx.warnings.extend(plan.warnings)

        changed = definition_changed or first_deploy or plan.changed
        ctx.commit(plan, doc, global_doc, inventory, write=changed)
        return {
            'changed': changed,
            'app': app_result(doc, global_doc, plan),
            'diff': {'before': definition_view(old), 'after': definition_view(doc, old)},
        }


def app_result(doc, global_doc, plan):
    return {
        'name': doc['name'],
        'image': doc.get('image'),
        'image_id': doc.get('image_id'),
        'deployed': doc.get('deployed', False),
        'formation': dict(doc.get('formation') or {}),
        'can_scale': doc.get('dokku_scale') is None,
        'properties': model.property_report(doc, global_doc),
        'containers': plan.summary(),
    }


def delete_app(ctx, name):
    """dokku_ps_app state=absent: stop (policy 'no' first) and remove every container, then the state."""
    model.validate_app_name(name, 'name')
    with ctx.app_lock(name):
        return delete_app_locked(ctx, name)


def delete_app_locked(ctx, name):
    """delete_app for a caller that already holds the app's lock."""
    old = ctx.store.read_app(name)
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
    return {
        'changed': changed,
        'app': {'name': name, 'containers': plan.summary()},
        'diff': {'before': definition_view(old), 'after': {}},
    }


# -------------------------------------------------------------------------------------------------------------
# dokku_ps_scale
# -------------------------------------------------------------------------------------------------------------

def read_defined_app(ctx, name):
    doc = ctx.store.read_app(name)
    if doc is None:
        raise NotFoundError('app: %s is not defined on this host (create it with dokku_ps_app first)' % name)
    return doc


def validate_scale_params(name, scale):
    model.validate_app_name(name, 'app')
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
        formation = dict(doc.get('formation') or {})
        return {'changed': False, 'formation': formation, 'before': formation, 'changes': {},
                'can_scale': doc.get('dokku_scale') is None,
                'containers': planner.Plan().summary()}
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
            inventory = ctx.inventory(name)
            plan = planner.plan_converge(new_doc, policy, inventory, types=sorted(scale), replace=False, start=False)
            ctx.warnings.extend(plan.warnings)
        changed = bool(changes) or plan.changed
        ctx.commit(plan, new_doc, global_doc, inventory, write=bool(changes))
        return {
            'changed': changed,
            'formation': after,
            'before': before,
            'changes': changes,
            'can_scale': True,
            'containers': plan.summary(),
            'diff': {'before': {'formation': before}, 'after': {'formation': after}},
        }


# -------------------------------------------------------------------------------------------------------------
# dokku_ps_report
# -------------------------------------------------------------------------------------------------------------

def _env_is_public(key):
    return key in ENV_ALLOW_KEYS or key.startswith(ENV_ALLOW_PREFIXES)


def env_secrets(data):
    """The env values of a container that a report must never show (Dokku's allow-list is public)."""
    secrets = set()
    for entry in ((data or {}).get('Config') or {}).get('Env') or []:
        key, _sep, value = entry.partition('=')
        if not _env_is_public(key) and len(value) >= 3:
            secrets.add(value)
    return sorted(secrets, key=len, reverse=True)


def scrub(value, secrets):
    """Replace every occurrence of a secret in the strings of a data structure (returns a copy)."""
    if not secrets:
        return copy.deepcopy(value)
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return dict((key, scrub(item, secrets)) for key, item in value.items())
    return value


def sanitize_inspect(data, secrets=None):
    """Mask every Config.Env value except Dokku's allow-list, and any occurrence of a masked value elsewhere
    (a Procfile command may have expanded a secret into Cmd/Args)."""
    if secrets is None:
        secrets = env_secrets(data)
    original_env = ((data or {}).get('Config') or {}).get('Env')
    data = scrub(data, secrets)
    config = data.get('Config') or {}
    if 'Env' in config:
        masked = []
        for entry in original_env or []:
            key, _sep, _value = entry.partition('=')
            masked.append(entry if _env_is_public(key) else '%s=%s' % (key, MASK))
        config['Env'] = masked
    return data


def _published_ports(ports):
    result = []
    for port in ports or []:
        if port.get('PublicPort'):
            result.append({'container_port': port.get('PrivatePort'), 'host_port': port.get('PublicPort'),
                           'host_ip': port.get('IP'), 'protocol': port.get('Type')})
    return sorted(result, key=lambda p: (p['container_port'] or 0, p['host_ip'] or ''))


def report(ctx, app=None, inspect=False, top=False):
    """dokku_ps_report: per-app reports (every app when ``app`` is None). Never changes anything."""
    global_doc = ctx.store.read_global()
    if app is not None:
        model.validate_app_name(app, 'app')
        docs = [read_defined_app(ctx, app)]
        summaries = ctx.docker.list_containers({'label': ['%s=%s' % (model.LABEL_APP, app)]})
    else:
        docs = [doc for doc in (ctx.store.read_app(name) for name in ctx.store.list_apps()) if doc is not None]
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
    apps = {}
    for doc in docs:
        inventory = inventories[doc['name']]
        props = model.property_report(doc, global_doc)
        dynos = {}
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
            secrets = env_secrets(data)
            if inspect and data:
                entry['inspect'] = sanitize_inspect(data, secrets)
            if top:
                entry['top'] = scrub(processes, secrets)
            dynos[container.dyno] = entry
        apps[doc['name']] = {
            'deployed': doc.get('deployed', False),
            'processes': len(inventory.containers()),
            'running': planner.running_state(inventory.containers()),
            'restore': props['restore']['computed'],
            'can_scale': doc.get('dokku_scale') is None,
            'image': doc.get('image'),
            'image_id': doc.get('image_id'),
            'formation': dict(doc.get('formation') or {}),
            'restart_policy': props['restart_policy'],
            'stop_timeout_seconds': props['stop_timeout_seconds'],
            'dynos': dynos,
        }
    return {'changed': False, 'apps': apps, 'global': global_report(global_doc)}


def global_report(global_doc):
    props = (global_doc or {}).get('properties') or {}
    result = {}
    for key in model.GLOBAL_PROPERTIES:
        result[key] = {'global': props.get(key), 'computed': props.get(key) if props.get(key) is not None
                       else model.PROPERTY_DEFAULTS[key]}
    return result
