# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App definitions: the app document a declaration describes, compared and shown without secrets.

The image is resolved and what it defines is read (Procfile, DOKKU_SCALE, CHECKS, app.json); two definitions compare by
the keys that make a change of definition; results and diffs show a definition without its env values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json as app_json
from ansible_collections.dokku_ps.docker.plugins.module_utils import _check_rules as check_rules
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import (
    DokkuPsError, NotFoundError, ValidationError)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _formation as formation
from ansible_collections.dokku_ps.docker.plugins.module_utils._health import ignored_liveness
from ansible_collections.dokku_ps.docker.plugins.module_utils._limits import check_process_limits
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import (
    DEFAULT_WEB_PORT, validate_app_name, validate_process_type)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_settings as proxy_settings
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import SCHEMA_VERSION
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation


DOKKU_SCALE_FILE = 'DOKKU_SCALE'


CHECKS_FILE = 'CHECKS'


DEFINITION_KEYS = ('image', 'image_id', 'processes', 'process_source', 'procfile_path', 'env', 'web_port',
                   'publish', 'formation', 'dokku_scale', 'checks', 'image_checks', 'proxy', 'app_json')
# the app.json option as given, and the app.json the image carries: ``app_json`` is the one that applies
APP_JSON_OPTION = 'app_json_option'
APP_JSON_IMAGE = 'app_json_image'
APP_JSON_OPTION_SOURCE = 'app_json option'

# the declaration keys of the proxy -> their place in the document's ``proxy``
PROXY_KEYS = (('proxy', 'enabled'), ('proxy_ports', 'ports'), ('domains', 'domains'),
              ('wait_to_retire', 'wait_to_retire'))


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
        values['env'] = validation.validate_env(params['env'])
    if params.get('web_port') is not None:
        values['web_port'] = validation.validate_port(params['web_port'], 'web_port')
    if params.get('publish') is not None:
        values['publish'] = validation.validate_publish(params['publish'], 'publish')
    if params.get('checks') is not None:
        values['checks'] = check_rules.validate_checks(params['checks'], 'checks')
    if params.get('processes') is not None:
        values['processes'] = _validate_processes(params['processes'])
        values['process_source'] = 'processes' if values['processes'] else 'none'
    elif params.get('procfile') is not None:
        values['processes'] = parsers.parse_procfile(params['procfile'], source='procfile')
        values['process_source'] = 'procfile'
    elif params.get('procfile_path') is not None:
        values['procfile_path'] = validation.validate_procfile_path(params['procfile_path'], 'procfile_path')
        values['process_source'] = 'procfile_path'
    if params.get('image') is not None:
        values['image'] = validation.validate_image_reference(params['image'], 'image')
    if params.get('app_json') is not None:
        values['app_json'] = _validate_app_json_option(params['app_json'])
    values.update(_validate_proxy_params(params))
    if params.get('release') is not None:
        values['release'] = releases.validate_number(params['release'], 'release')
    return values


def _validate_app_json_option(value):
    """The ``app_json`` option -> the normalised document with its source, or None (an empty dict or text: the
    option is cleared and the image's own app.json applies again)."""
    if value == {} or isinstance(value, str) and not value.strip():
        return None
    if not isinstance(value, (dict, str)):
        raise ValidationError('app_json', 'must be a dict or its JSON text')
    return _with_source(app_json.parse(value, APP_JSON_OPTION_SOURCE), APP_JSON_OPTION_SOURCE)


def _with_source(document, source):
    document = dict(document)
    document['source'] = source
    return document


def _validate_proxy_params(params):
    """The proxy keys of a declaration that are given, normalised: ``proxy`` (bool), ``proxy_ports`` (the mappings
    as texts, None for Dokku's default), ``domains`` (sorted, lowercase), ``wait_to_retire`` (seconds)."""
    values = {}
    if params.get('proxy') is not None:
        if not isinstance(params['proxy'], bool):
            raise ValidationError('proxy', '%r is not a boolean' % (params['proxy'],))
        values['proxy'] = params['proxy']
    if params.get('proxy_ports') is not None:
        ports = params['proxy_ports']
        # the default mapping depends on web_port, which is known only with the document: kept as None
        values['proxy_ports'] = ([str(mapping) for mapping in proxy_settings.parse_mappings(ports, 1, 'proxy_ports')]
                                 if ports else None)
    if params.get('domains') is not None:
        values['domains'] = list(proxy_settings.parse_domains(params['domains'], 'domains'))
    if params.get('wait_to_retire') is not None:
        values['wait_to_retire'] = validation.validate_stop_timeout(params['wait_to_retire'], 'wait_to_retire')
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
    """What the image defines: (processes of a procfile_path app, procfile_path, DOKKU_SCALE formation, CHECKS,
    app.json), read once per image id unless ``force``. A document recorded before app.json was read has no
    ``app_json_image`` and reads the image again."""
    image_id = image_data['Id']
    image = values.get('image') or (old or {}).get('image')
    source = values.get('process_source', (old or {}).get('process_source', 'none'))
    procfile_path = values.get('procfile_path', (old or {}).get('procfile_path')) if source == 'procfile_path' else None
    if not force and old and old.get('image_id') == image_id and old.get('procfile_path') == procfile_path \
            and old.get('process_source') == source and APP_JSON_IMAGE in old:
        processes = old.get('processes') if source == 'procfile_path' else None
        return processes, procfile_path, old.get('dokku_scale'), old.get('image_checks'), old.get(APP_JSON_IMAGE)
    workdir = (image_data.get('Config') or {}).get('WorkingDir') or '/'
    scale_path = _image_path(workdir, DOKKU_SCALE_FILE)
    checks_path = _image_path(workdir, CHECKS_FILE)
    app_json_path = _image_path(workdir, app_json.APP_JSON_FILE)
    paths = [scale_path, checks_path, app_json_path]
    if procfile_path:
        paths.append(_image_path(workdir, procfile_path))
    files = ctx.image_files(image_id, paths)
    processes = None
    if procfile_path:
        text = files[paths[3]]
        if text is None:
            raise NotFoundError('procfile_path: %s does not exist in image %s' % (paths[3], image))
        processes = parsers.parse_procfile(text, source='%s in image %s' % (paths[3], image))
    dokku_scale = None
    if files[scale_path] is not None:
        dokku_scale = parsers.parse_dokku_scale(files[scale_path], source='%s in image %s' % (scale_path, image))
    image_checks = None
    if files[checks_path] is not None:
        image_checks = parsers.parse_checks_file(files[checks_path], source='%s in image %s' % (checks_path, image))
    image_app_json = None
    if files[app_json_path] is not None:
        # validated even when the app_json option wins over it, like the image's other files
        where = '%s in image %s' % (app_json_path, image)
        image_app_json = _with_source(app_json.parse(files[app_json_path], where), where)
    return processes, procfile_path, dokku_scale, image_checks, image_app_json


def apply_image(ctx, doc, old, values, image_data, force=False):
    """Put what the image defines into ``doc`` (processes of a ``procfile_path`` app, DOKKU_SCALE) and fit
    the formation to the processes. ``force`` reads the image's files again even for the same image id."""
    reference = doc['image']
    found = _definition_from_image(ctx, values, old, image_data, force)
    image_processes, procfile_path, dokku_scale, image_checks, image_app_json = found
    if doc['process_source'] == 'procfile_path':
        doc['processes'] = image_processes
        doc['procfile_path'] = procfile_path
    doc['dokku_scale'] = dokku_scale
    doc['image_checks'] = image_checks
    doc[APP_JSON_IMAGE] = image_app_json
    option = doc.get(APP_JSON_OPTION)
    doc['app_json'] = option if option is not None else image_app_json
    owned = None
    if doc['app_json'] is not None:
        app_json.check_processes(doc['app_json'], doc['processes'], doc['app_json']['source'])
        owned = app_json.formation(doc['app_json'], doc['processes'])
        if doc['app_json'] != (old or {}).get('app_json'):
            for note in ignored_liveness(doc):
                ctx.warn(note)
    if owned is not None:
        if dokku_scale is not None:
            ctx.warn('the DOKKU_SCALE file in image %s is ignored: the formation of %s (%s) sets the formation '
                     '(Dokku\'s precedence)' % (reference, doc['app_json']['source'], doc['name']))
    else:
        _check_dokku_scale(dokku_scale, doc['processes'], reference)
    start = old.get('formation') if old else formation.initial_formation(doc['processes'])
    if owned is not None:
        doc['formation'], dropped = _owned_formation(start, doc['processes'], owned)
    else:
        doc['formation'], dropped = formation.reconcile_formation(start, doc['processes'], dokku_scale)
    for ptype in dropped if old else ():
        ctx.warn('process type %s is no longer defined by the processes; its containers are removed at '
                 'the next deploy' % ptype)
    # what the kernel would refuse to pass to a process (after $VAR expansion), also for a rebuild's new Procfile
    check_process_limits(doc)


def _owned_formation(formation, processes, owned):
    """The formation app.json sets (Dokku clears the previous one: the listed quantities, every other type 0; with
    no processes known only the listed types stay). Returns (formation, dropped) like formation.reconcile_formation."""
    result = dict((ptype, count) for ptype, count in owned.items() if count > 0 or processes is None
                  or ptype in processes)
    dropped = sorted(ptype for ptype, count in (formation or {}).items()
                     if count > 0 and processes is not None and ptype not in processes)
    return result, dropped


def formation_owner(doc):
    """What sets the app's formation at every deploy: 'app.json', 'DOKKU_SCALE', or None (dokku_ps_scale and the
    declarations' scale do). An owned formation cannot be scaled by hand."""
    if doc.get('app_json') is not None and app_json.formation(doc['app_json'], doc.get('processes')) is not None:
        return 'app.json'
    if doc.get('dokku_scale') is not None:
        return 'DOKKU_SCALE'
    return None


def can_scale(doc):
    return formation_owner(doc) is None


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
    view['release'] = releases.current_number(doc)
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
        'web_port': DEFAULT_WEB_PORT,
        'publish': None,
        'formation': {},
        'dokku_scale': None,
        'checks': {},
        'image_checks': None,
        'properties': {'restart_policy': None, 'stop_timeout_seconds': None, 'restore': None},
        'deployed': False,
    }
    return doc


def build_definition(ctx, values, old):
    """The app document ``values`` (from validate_app_params) describe, on top of the recorded one ``old``:
    image resolved to an id, processes, env, web port, what the image defines, and the formation fitted."""
    reference = values.get('image') or (old or {}).get('image')
    if not reference:
        raise ValidationError('image', 'is required to create app %s' % values['name'])
    if values.get('image') or not (old or {}).get('image_id'):
        image_data = resolve_image(ctx, reference)
    else:
        # a run that does not name the image keeps the recorded image id (docs/decisions.md), so a moved tag never
        # undoes a rollback (docs/releases.md); dokku_ps_state rebuilt resolves the reference again
        image_data = _recorded_image(ctx, old)
    doc = _new_document(values, old)
    doc['image'] = reference
    doc['image_id'] = image_data['Id']
    for key in ('env', 'web_port', 'publish', 'checks'):
        if key in values:
            doc[key] = values[key]
    if 'app_json' in values:
        doc[APP_JSON_OPTION] = values['app_json']
    if any(key in values for key, _field in PROXY_KEYS):
        doc['proxy'] = dict(doc.get('proxy') or proxy_settings.NO_PROXY)
        for key, field in PROXY_KEYS:
            if key in values:
                doc['proxy'][field] = values[key]
    if 'process_source' in values:
        doc['process_source'] = values['process_source']
        doc['procfile_path'] = values.get('procfile_path')
        if values['process_source'] != 'procfile_path':
            doc['processes'] = values['processes']
    apply_image(ctx, doc, old, values, image_data)
    return ctx.know(doc)


def _recorded_image(ctx, old):
    data = ctx.image(old['image_id'])
    if data is None:
        raise NotFoundError('image: the image %s (%s) app %s runs is no longer on the Docker host; name an image to '
                            'deploy' % (old['image'], old['image_id'], old['name']))
    return data


def build_declared(ctx, values, old):
    """The app document of a declaration: ``build_definition``, or the release it pins (``release``) as
    ``build_pinned`` makes it. Returns (document, the release number a rollback goes back to, or None)."""
    if values.get('release') is not None:
        return build_pinned(ctx, values, old)
    return build_definition(ctx, values, old), None


def build_pinned(ctx, values, old):
    """The app document of a declaration that pins release ``values['release']`` (docs/releases.md): the recorded
    document when the app runs that release already; else the release's definition on top of the recorded
    document (formation and properties kept, the formation fitted to the release's processes), checked like a
    deploy. The release's image is looked up by id: a release whose image is gone is refused before anything
    changes. Returns (document, the number rolled back to, or None for a release that already runs)."""
    name = values['name']
    number = values['release']
    if old is None:
        raise ValidationError('release', 'app %s has no releases yet: deploy it first' % name)
    if releases.runs(old, number):
        return ctx.know(copy.deepcopy(old)), None
    release = releases.target(old, number, name)
    definition = release['definition']
    image_data = ctx.image(definition['image_id'])
    if image_data is None:
        raise NotFoundError('release: release %d of app %s cannot be rolled back to: its image %s (%s) is no longer '
                            'on the Docker host (dokku_ps never pulls; load that image again, or pin another release)'
                            % (number, name, definition['image'], definition['image_id']))
    doc = _new_document(values, old)
    for key in releases.RELEASE_KEYS:
        value = copy.deepcopy(definition.get(key))
        if key == 'proxy' and value is None:
            if 'proxy' in doc:
                doc['proxy'] = dict(proxy_settings.NO_PROXY)
            continue
        if value is None and key in ('web_port', 'checks', 'publish'):
            continue  # recorded by an earlier version without it: what the app has now stays
        doc[key] = value
    # the release's files of the image were read when it was recorded: reused, not read again
    known = dict(old, **dict((key, definition.get(key)) for key in (
        'image_id', 'procfile_path', 'process_source', 'processes', 'dokku_scale', 'image_checks', APP_JSON_IMAGE)))
    apply_image(ctx, doc, known, {'image': doc['image'], 'process_source': doc['process_source'],
                                  'procfile_path': doc['procfile_path']}, image_data)
    return ctx.know(doc), number


def check_proxy(ctx, doc, old, others=None, gone=()):
    """Refuse proxy settings that share a host port and domain with another app's, when they change (the other
    apps' documents are read then; ``others``: the documents the same run declares, ``gone``: apps it deletes)."""
    proxy = doc.get('proxy') or {}
    if not proxy.get('enabled') or (old or {}).get('proxy') == proxy and (old or {}).get('web_port') == doc.get(
            'web_port'):
        return
    others = dict((other['name'], other) for other in (others or []) if other.get('name') != doc['name'])
    documents = list(others.values())
    for name in ctx.store.list_apps():
        if name == doc['name'] or name in others or name in gone:
            continue
        try:
            documents.append(ctx.store.read_app(name))
        except DokkuPsError:
            continue  # a damaged document fails its own app, not this one
    taken = {}
    for other in documents:
        if other and other.get('name') != doc['name']:
            settings = proxy_settings.settings_of(other)
            if settings.enabled:
                taken[other['name']] = settings
    proxy_settings.check_conflicts(doc['name'], proxy_settings.settings_of(doc), taken, field='proxy_ports')


def read_defined_app(ctx, name):
    doc = ctx.read_app(name)
    if doc is None:
        raise NotFoundError('app: %s is not defined on this host (create it with dokku_ps_app first)' % name)
    return doc


# Where an app's formation comes from (``sources.formation``): the formation of its app.json, the image's
# DOKKU_SCALE file, or the counts set through dokku_ps_scale and declarations' ``scale`` (or the default).
FORMATION_SCALE = 'scale'


def formation_source(doc):
    """Where the app's formation comes from: 'app.json' when its app.json sets the quantity of a process type,
    'DOKKU_SCALE' when the image's DOKKU_SCALE file sets it, else 'scale' (definitions.formation_owner)."""
    return formation_owner(doc) or FORMATION_SCALE


def sources(doc):
    """Where the app's formation and, per process type of the formation, its checks come from (the checks a new
    container must pass, see _check_rules.effective), and what the app's app.json document was read from (None
    without one)."""
    return {
        'formation': formation_source(doc),
        'checks': check_rules.sources(doc),
        'app_json': (doc.get('app_json') or {}).get('source'),
    }
