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
from ansible_collections.dokku_ps.docker.plugins.module_utils import _image_definition as image_definition
from ansible_collections.dokku_ps.docker.plugins.module_utils._image_definition import (
    APP_JSON_IMAGE, APP_JSON_OPTION, APP_JSON_OPTION_SOURCE, formation_owner, with_source)
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import (
    DEFAULT_WEB_PORT, validate_app_name, validate_process_type)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_settings as proxy_settings
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import SCHEMA_VERSION
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation


DEFINITION_KEYS = ('image', 'image_id', 'processes', 'process_source', 'procfile_path', 'env', 'web_port',
                   'publish', 'formation', 'dokku_scale', 'checks', 'image_checks', 'proxy', 'app_json')
# the declaration keys of HTTPS -> their place in the document's ``proxy.tls`` (docs/tls.md); the certificate and
# key given as text are no setting: the run installs them (_tls.py) and the document records what it serves
TLS_KEYS = (('https', 'mode'), ('tls_certificate_path', 'certificate_path'), ('tls_key_path', 'key_path'),
            ('https_redirect', 'redirect'), ('hsts', 'hsts'), ('hsts_include_subdomains', 'hsts_include_subdomains'),
            ('hsts_max_age', 'hsts_max_age'), ('hsts_preload', 'hsts_preload'))
TLS_CONTENT = ('tls_certificate', 'tls_key')
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
    if params.get('scheduler') is not None:
        if params['scheduler'] not in scheduler.KINDS:
            raise ValidationError('scheduler', '%r is not one of %s' % (params['scheduler'], ', '.join(scheduler.KINDS)))
        values['scheduler'] = params['scheduler']
    if params.get('release_phase_timeout') is not None:
        values['release_phase_timeout'] = releases.validate_number(
            params['release_phase_timeout'], 'release_phase_timeout')
    return values


def _validate_app_json_option(value):
    """The ``app_json`` option -> the normalised document with its source, or None (an empty dict or text: the
    option is cleared and the image's own app.json applies again)."""
    if value == {} or isinstance(value, str) and not value.strip():
        return None
    if not isinstance(value, (dict, str)):
        raise ValidationError('app_json', 'must be a dict or its JSON text')
    return with_source(app_json.parse(value, APP_JSON_OPTION_SOURCE), APP_JSON_OPTION_SOURCE)


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
    values.update(_validate_tls_params(params))
    return values


def _validate_tls_params(params):
    """The HTTPS keys of a declaration that are given, checked: ``https`` one of its modes, the booleans, the HSTS
    max age, a certificate given with its key (as text or as paths on the host, not both). What needs the app's
    domains (the certificate's names, its key) is checked with the document (_tls.TlsRun.check)."""
    values = {}
    mode = params.get('https')
    if mode is not None:
        if mode not in proxy_settings.TLS_MODES:
            raise ValidationError('https', '%r must be one of %s' % (mode, ', '.join(proxy_settings.TLS_MODES)))
        values['https'] = mode
    for key in ('https_redirect', 'hsts', 'hsts_include_subdomains', 'hsts_preload'):
        if params.get(key) is not None:
            if not isinstance(params[key], bool):
                raise ValidationError(key, '%r is not a boolean' % (params[key],))
            values[key] = params[key]
    if params.get('hsts_max_age') is not None:
        values['hsts_max_age'] = validation.validate_stop_timeout(params['hsts_max_age'], 'hsts_max_age')
    for first, second in (TLS_CONTENT, ('tls_certificate_path', 'tls_key_path')):
        given = [key for key in (first, second) if params.get(key) is not None]
        if len(given) == 1:
            missing = second if given == [first] else first
            raise ValidationError(missing, 'is needed with %s: a certificate goes with its key' % given[0])
        for key in given:
            if not isinstance(params[key], str) or not params[key].strip():
                raise ValidationError(key, 'must be a non-empty string')
            values[key] = params[key] if key in TLS_CONTENT else params[key].strip()
    if 'tls_certificate' in values and 'tls_certificate_path' in values:
        raise ValidationError('tls_certificate', 'give the certificate as text or as a path on the host, not both')
    return values


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
        image_data = image_definition.resolve_image(ctx, reference)
    else:
        # a run that does not name the image keeps the recorded image id (docs/decisions.md), so a moved tag never
        # undoes a rollback (docs/releases.md); dokku_ps_state rebuilt resolves the reference again
        image_data = image_definition.recorded_image(ctx, old)
    doc = _new_document(values, old)
    doc['image'] = reference
    doc['image_id'] = image_data['Id']
    for key in ('env', 'web_port', 'publish', 'checks'):
        if key in values:
            doc[key] = values[key]
    if 'app_json' in values:
        doc[APP_JSON_OPTION] = values['app_json']
    if any(key in values for key, _field in PROXY_KEYS + TLS_KEYS):
        doc['proxy'] = dict(doc.get('proxy') or proxy_settings.NO_PROXY)
        for key, field in PROXY_KEYS:
            if key in values:
                doc['proxy'][field] = values[key]
    if any(key in values for key, _field in TLS_KEYS):
        tls = dict(doc['proxy'].get('tls') or proxy_settings.NO_TLS)
        for key, field in TLS_KEYS:
            if key in values:
                tls[field] = values[key]
        doc['proxy']['tls'] = tls
    if 'tls_certificate' in values and ((doc.get('proxy') or {}).get('tls') or {}).get('certificate_path'):
        # a certificate given as text replaces one read from paths
        doc['proxy'] = dict(doc['proxy'], tls=dict(doc['proxy']['tls'], certificate_path=None, key_path=None))
    if 'process_source' in values:
        doc['process_source'] = values['process_source']
        doc['procfile_path'] = values.get('procfile_path')
        if values['process_source'] != 'procfile_path':
            doc['processes'] = values['processes']
    image_definition.apply_image(ctx, doc, old, values, image_data)
    return ctx.know(doc)


def build_declared(ctx, values, old):
    """The app document of a declaration: ``build_definition``, or the release it pins (``release``) as
    ``build_pinned`` makes it. Returns (document, the release number a rollback goes back to, or None)."""
    if values.get('scheduler') is not None:
        check_scheduler_move(values['name'], values['scheduler'], old)
    if values.get('release') is not None:
        doc, rollback_of = build_pinned(ctx, values, old)
    else:
        doc, rollback_of = build_definition(ctx, values, old), None
    if values.get('scheduler') is not None:
        doc['scheduler'] = values['scheduler']
    elif old is None:
        # a new app declared without a scheduler gets the global one (dokku_ps_policy global), if set
        chosen = ((ctx.store.read_global() or {}).get('properties') or {}).get('scheduler')
        if chosen:
            doc['scheduler'] = chosen
    return doc, rollback_of


def check_scheduler_move(name, wanted, old):
    """An app that has processes stays on its scheduler (docs/swarm.md says how to move one)."""
    current = scheduler.kind_of(old)
    if old is not None and old.get('deployed') and wanted != current:
        raise ValidationError('scheduler', 'app %s runs on %s; moving a deployed app to %s is not supported: delete '
                              'it (state: absent), then declare it again with scheduler: %s (docs/swarm.md, Moving an '
                              'app)' % (name, current, wanted, wanted))


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
    image_definition.apply_image(ctx, doc, known, {'image': doc['image'], 'process_source': doc['process_source'],
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
