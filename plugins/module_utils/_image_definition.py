# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an image defines for an app: its Procfile, DOKKU_SCALE, CHECKS and app.json, and the formation fitted to them.

The files are read out of the image once per image id (and run); which of app.json and DOKKU_SCALE owns the
formation (an owned formation cannot be scaled by hand); what the kernel would refuse of the processes it gives.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json as app_json
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import NotFoundError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _formation as formation
from ansible_collections.dokku_ps.docker.plugins.module_utils._health import ignored_liveness
from ansible_collections.dokku_ps.docker.plugins.module_utils._limits import check_process_limits
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers


DOKKU_SCALE_FILE = 'DOKKU_SCALE'


CHECKS_FILE = 'CHECKS'


# the app.json option as given, and the app.json the image carries: ``app_json`` is the one that applies
APP_JSON_OPTION = 'app_json_option'
APP_JSON_IMAGE = 'app_json_image'
APP_JSON_OPTION_SOURCE = 'app_json option'


def with_source(document, source):
    document = dict(document)
    document['source'] = source
    return document


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
        image_app_json = with_source(app_json.parse(files[app_json_path], where), where)
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


def recorded_image(ctx, old):
    data = ctx.image(old['image_id'])
    if data is None:
        raise NotFoundError('image: the image %s (%s) app %s runs is no longer on the Docker host; name an image to '
                            'deploy' % (old['image'], old['image_id'], old['name']))
    return data
