# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app.json: Dokku's process manifest, read, validated and normalised (pure, no Docker).

Dokku reads two keys of an app's ``app.json`` for its processes: ``formation`` (how many containers of each
process type, and how many of them a deploy replaces at once) and ``healthchecks`` (the checks of each process
type, run by Dokku's docker-container-healthchecker). This file turns such a document -- JSON text out of an
image, or the dict of the inline ``app_json`` option -- into the normalised form the rest of the collection
uses, and refuses a bad one in one line naming where it came from, the field path and the rule.

It also reads the keys of processes that run once (docs/oneoffs.md): ``scripts.dokku.predeploy`` and
``scripts.dokku.postdeploy`` (commands of the release phase) and ``cron`` (commands run on a schedule). Every
other top-level key (``buildpacks``, ``env``, ``addons``, ``name``, other ``scripts``, ...) is ignored. Inside a
formation entry, ``autoscaling`` and ``service`` (k3s-only in Dokku) are accepted and ignored; inside a healthcheck
entry, ``description``, ``httpHeaders``, ``warn`` and ``onFailure`` are.

Normalised document (what :func:`parse` returns)::

    {'formation': None or {ptype: {'quantity': int or None, 'max_parallel': int or None}},
     'healthchecks': None or {ptype: [entry, ...]},
     # only when the document has the key (so a document without them normalises as it did before them):
     'scripts': {'predeploy': str or None, 'postdeploy': str or None},
     'cron': [{'id': str, 'command': str, 'schedule': str, 'concurrency_policy': 'allow' | 'forbid' | 'replace',
               'maintenance': bool}, ...]}

One healthcheck entry, with Dokku's defaults filled in::

    {'type': 'startup' | 'liveness' | 'readiness',   # default startup
     'name': str,                                    # default '<ptype>-<type>-<n>', n counts that type's entries
     'path': str or None, 'content': str or None,    # HTTP check only
     'command': [str, ...] or None,                  # command check only
     'port': int or None,                            # None: not given; the caller uses the app's web port/PORT
     'attempts': int, 'timeout': int, 'wait': int,   # defaults 3, 5, 5 (seconds)
     'initial_delay': int,                           # default 0 (seconds)
     'uptime': int or None,                          # uptime check only (0 when not given)
     'listening': bool,                              # True: listening check
     'scheme': 'http' | 'https'}                     # default http

Which check an entry is follows Dokku's healthchecker: exactly one of ``command`` (run in the container),
``path`` (HTTP GET), ``listening: true`` (a process listens on the port) or, when none of them is given, an
uptime check (the container runs, never restarted, ``uptime`` seconds after it started; 0 by default). An entry
that sets two of them (``uptime`` counting only above 0, as in Dokku) is refused, as Dokku's healthchecker
refuses it at deploy time. In the normalised entry the other three are None/False, so::

    command is not None -> command;  listening -> listening;  path is not None -> HTTP;  else uptime (an int)

Go reads a JSON 0 or "" as "not given"; Dokku then uses the default. Where that would mean something else here
the value is refused instead (``attempts``, ``timeout`` and ``wait`` of 0, a ``port`` of 0, a ``path`` of ""),
so no document silently means one thing to Dokku and another one here. ``null`` means "not given" everywhere.

``jsonschema`` comes guarded from ``_schema.py``: this file always imports, and :func:`parse` fails in one line
naming the library when it is missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from ansible_collections.dokku_ps.docker.plugins.module_utils import _app_json_errors as errors
from ansible_collections.dokku_ps.docker.plugins.module_utils import _cron_schedule as cron_schedule
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import PROCESS_TYPE_PATTERN, PROCESS_TYPE_RULE
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import HAS_JSONSCHEMA, JSONSCHEMA_IMPORT_ERROR


APP_JSON_FILE = 'app.json'
HEALTHCHECK_TYPES = ('startup', 'liveness', 'readiness')

# Dokku's defaults (docker-container-healthchecker: GetAttempts, GetTimeout, GetWait, GetInitialDelay, GetPath).
DEFAULT_TYPE = 'startup'
DEFAULT_ATTEMPTS = 3
DEFAULT_TIMEOUT = 5
DEFAULT_WAIT = 5
DEFAULT_INITIAL_DELAY = 0
DEFAULT_UPTIME = 0
DEFAULT_SCHEME = 'http'

# Keys Dokku documents that do not concern this collection: accepted (any value) and ignored.
IGNORED_FORMATION_KEYS = ('autoscaling', 'service')
IGNORED_HEALTHCHECK_KEYS = ('description', 'httpHeaders', 'onFailure', 'warn')

# Seconds and counts stay far below what a Docker duration in nanoseconds (int64) can hold.
MAX_INTEGER = 2147483647


def _nullable_integer(minimum):
    return {'type': ['integer', 'null'], 'minimum': minimum, 'maximum': MAX_INTEGER}


_FORMATION_ENTRY = {
    'type': 'object',
    'additionalProperties': False,
    'properties': dict([
        ('quantity', _nullable_integer(0)),
        ('max_parallel', _nullable_integer(1)),
    ] + [(key, {}) for key in IGNORED_FORMATION_KEYS]),
}

_HEALTHCHECK_ENTRY = {
    'type': 'object',
    'additionalProperties': False,
    'properties': dict([
        ('type', {'enum': list(HEALTHCHECK_TYPES) + [None]}),
        ('name', {'type': ['string', 'null']}),
        ('path', {'type': ['string', 'null'], 'pattern': r'^/', 'x-rule': "must start with '/'"}),
        ('content', {'type': ['string', 'null']}),
        ('command', {
            'type': ['array', 'null'],
            'items': {'type': 'string', 'pattern': r'^[^\u0000]*$',
                      'x-rule': 'contains a NUL character, which no process can receive'},
        }),
        ('port', {'type': ['integer', 'null'], 'minimum': 1, 'maximum': 65535}),
        ('attempts', _nullable_integer(1)),
        ('timeout', _nullable_integer(1)),
        ('wait', _nullable_integer(1)),
        ('initialDelay', _nullable_integer(0)),
        ('uptime', _nullable_integer(0)),
        ('listening', {'type': ['boolean', 'null']}),
        ('scheme', {'type': ['string', 'null'], 'pattern': r'^([Hh][Tt][Tt][Pp][Ss]?)?$',
                    'x-rule': 'must be http or https'}),
    ] + [(key, {}) for key in IGNORED_HEALTHCHECK_KEYS]),
}

CONCURRENCY_POLICIES = ('allow', 'forbid', 'replace')
DEFAULT_CONCURRENCY_POLICY = 'allow'
_NO_NUL = {'type': ['string', 'null'], 'pattern': r'^[^\u0000]*$',
           'x-rule': 'contains a NUL character, which no process can receive'}

_SCRIPTS = {
    'type': ['object', 'null'],
    'properties': {
        'dokku': {
            'type': ['object', 'null'],
            'properties': {'predeploy': _NO_NUL, 'postdeploy': _NO_NUL},
        },
    },
}

_CRON_ENTRY = {
    'type': 'object',
    'additionalProperties': False,
    'required': ['command', 'schedule'],
    'properties': {
        'command': {'type': 'string', 'minLength': 1, 'pattern': r'^[^\u0000\n\r]*$',
                    'x-rule': 'must be one line without NUL characters'},
        'schedule': {'type': 'string'},
        'concurrency_policy': {'enum': list(CONCURRENCY_POLICIES) + [None]},
        'maintenance': {'type': ['boolean', 'null']},
    },
}

_PROCESS_TYPE_NAME = {'type': 'string', 'pattern': PROCESS_TYPE_PATTERN + r'(?!\n)', 'x-rule': PROCESS_TYPE_RULE}

APP_JSON_SCHEMA = {
    '$schema': 'http://json-schema.org/draft-07/schema#',
    '$id': 'https://dokku-ps.invalid/schemas/app-json.json',
    'title': "the keys of Dokku's app.json that concern processes (every other key is ignored)",
    'type': 'object',
    'properties': {
        'formation': {
            'type': ['object', 'null'],
            'propertyNames': _PROCESS_TYPE_NAME,
            'additionalProperties': _FORMATION_ENTRY,
        },
        'healthchecks': {
            'type': ['object', 'null'],
            'propertyNames': _PROCESS_TYPE_NAME,
            'additionalProperties': {'type': ['array', 'null'], 'items': _HEALTHCHECK_ENTRY},
        },
        'scripts': _SCRIPTS,
        'cron': {'type': ['array', 'null'], 'items': _CRON_ENTRY},
    },
}


# -- reading ---------------------------------------------------------------------------------------------------

def _reject_constant(name):
    raise ValueError('%s is not a JSON value' % name)


def _decode(value, source):
    """JSON text (str or bytes) -> the decoded value; a dict is taken as it is."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, (str, bytes)):
        raise ValidationError(source, 'must be a JSON object or its text (found %s)' % errors.found(value))
    value = parsers.decode_text(value, source)
    try:
        return json.loads(value, parse_constant=_reject_constant)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise ValidationError(source, 'invalid JSON: %s at line %d column %d' % (exc.msg, exc.lineno, exc.colno))
        raise ValidationError(source, 'invalid JSON: %s' % exc)
    except RecursionError:
        raise ValidationError(source, 'invalid JSON: nested too deeply')


def _normalise_formation(formation):
    if formation is None:
        return None
    return dict((ptype, {'quantity': entry.get('quantity'), 'max_parallel': entry.get('max_parallel')})
                for ptype, entry in formation.items())


_STRATEGY_WORDS = (('command', 'command'), ('path', 'path'), ('listening', 'listening: true'),
                   ('uptime', 'uptime above 0'))


def _normalise_entry(entry, ptype, index, counts, source):
    path = ['healthchecks', ptype, index]
    command = entry.get('command') or None           # [] is Dokku's "no command"
    check_path = entry.get('path')
    listening = bool(entry.get('listening'))
    uptime = entry.get('uptime')
    set_ = {'command': command is not None, 'path': check_path is not None, 'listening': listening,
            'uptime': bool(uptime)}
    chosen = [words for key, words in _STRATEGY_WORDS if set_[key]]
    if len(chosen) > 1:
        errors.fail(source, path, 'sets both %s and %s; an entry is one check: a command, an HTTP path, a listening '
                    'check or an uptime (Dokku refuses this too)' % (chosen[0], chosen[1]))
    content = entry.get('content') or None
    if content is not None and check_path is None:
        errors.fail(source, path + ['content'], 'is only looked for by an HTTP check: give the path to request too '
                    "(Dokku's healthchecker would not check it)")
    kind = entry.get('type') or DEFAULT_TYPE
    counts[kind] = counts.get(kind, 0) + 1
    is_uptime = command is None and check_path is None and not listening
    return {
        'type': kind,
        'name': entry.get('name') or '%s-%s-%d' % (ptype, kind, counts[kind]),
        'path': check_path,
        'content': content,
        'command': list(command) if command is not None else None,
        'port': entry.get('port'),
        'attempts': entry.get('attempts') or DEFAULT_ATTEMPTS,
        'timeout': entry.get('timeout') or DEFAULT_TIMEOUT,
        'wait': entry.get('wait') or DEFAULT_WAIT,
        'initial_delay': entry.get('initialDelay') or DEFAULT_INITIAL_DELAY,
        'uptime': (uptime or DEFAULT_UPTIME) if is_uptime else None,
        'listening': listening,
        'scheme': (entry.get('scheme') or DEFAULT_SCHEME).lower(),
    }


def _normalise_healthchecks(healthchecks, source):
    if healthchecks is None:
        return None
    result = {}
    for ptype, entries in healthchecks.items():
        counts = {}
        result[ptype] = [_normalise_entry(entry, ptype, index, counts, source)
                         for index, entry in enumerate(entries or [])]
    return result


def parse(value, source):
    """Read, validate and normalise an app.json document.

    ``value``: JSON text (str or bytes, UTF-8, a BOM allowed) or an already decoded dict (the inline
    ``app_json`` option). ``source``: words naming where it came from, in every error (``'app_json'``,
    ``'/app/app.json in image shop:1'``). Returns the normalised document (see the module docstring). Raises
    :class:`ValidationError` ``<source>: <field path>: <rule>``, one line, for invalid JSON (with its line and
    column), a top level that is not an object, and every breach of :data:`APP_JSON_SCHEMA` or of the rules
    around it (one check per healthcheck entry, ``content`` only with ``path``). A missing ``jsonschema``
    raises a one-line :class:`DokkuPsError` naming the library.
    """
    if not HAS_JSONSCHEMA:
        raise DokkuPsError('%s: cannot validate app.json: the Python library jsonschema is missing on the managed '
                           'host (install python3-jsonschema or pip install jsonschema): %s'
                           % (source, JSONSCHEMA_IMPORT_ERROR))
    document = _decode(value, source)
    if not isinstance(document, dict):
        raise ValidationError(source, 'the top level must be a JSON object (found %s)' % errors.found(document))
    problems = sorted(errors.validator_class()(APP_JSON_SCHEMA).iter_errors(document), key=errors.sort_key)
    if problems:
        path, rule = errors.schema_problem(problems[0])
        errors.fail(source, path, rule)
    found = {
        'formation': _normalise_formation(document.get('formation')),
        'healthchecks': _normalise_healthchecks(document.get('healthchecks'), source),
    }
    if 'scripts' in document:
        dokku = (document.get('scripts') or {}).get('dokku') or {}
        found['scripts'] = {'predeploy': dokku.get('predeploy') or None, 'postdeploy': dokku.get('postdeploy') or None}
    if 'cron' in document:
        found['cron'] = _normalise_cron(document.get('cron') or [], source)
    return found


def _normalise_cron(entries, source):
    result = []
    for index, entry in enumerate(entries):
        try:
            schedule = cron_schedule.validate(entry['schedule'], 'schedule')
        except ValidationError as exc:
            errors.fail(source, ['cron', index, 'schedule'], exc.details['rule'])
        command = entry['command'].strip()
        if not command:
            errors.fail(source, ['cron', index, 'command'], 'must not be empty')
        found = {'command': command, 'schedule': schedule,
                 'concurrency_policy': entry.get('concurrency_policy') or DEFAULT_CONCURRENCY_POLICY,
                 'maintenance': bool(entry.get('maintenance'))}
        found['id'] = cron_id(found)
        if any(other['id'] == found['id'] for other in result):
            errors.fail(source, ['cron', index], 'repeats an entry before it (the same command on the same schedule)')
        result.append(found)
    return result


def cron_id(entry):
    """A cron entry's id: what it runs and when, hashed (12 hex digits); the same entry keeps its id."""
    material = json.dumps([entry['schedule'], entry['command']], separators=(',', ':')).encode('utf-8')
    return hashlib.sha256(material).hexdigest()[:12]


# -- using a normalised document -------------------------------------------------------------------------------

def _quantities(doc):
    formation = (doc or {}).get('formation') or {}
    return dict((ptype, entry['quantity']) for ptype, entry in formation.items() if entry['quantity'] is not None)


def check_processes(doc, processes, source):
    """Refuse a quantity above 0 for a process type that ``processes`` (the app's types, a dict, or None when
    unknown) does not define, naming ``source`` and ``formation.<type>.quantity`` (Dokku: the deploy fails with
    "<type> is not a valid process name to scale up"). A quantity of 0 for an unknown type is fine (Dokku)."""
    if processes is None:
        return
    for ptype, quantity in sorted(_quantities(doc).items()):
        if quantity > 0 and ptype == 'release':
            errors.fail(source, ['formation', ptype, 'quantity'], '%d, but release is the command of the release '
                        'phase, which runs once per release and never as a long-running process (use 0)' % quantity)
        if quantity > 0 and ptype not in processes:
            defined = ', '.join(sorted(processes)) or 'none'
            errors.fail(source, ['formation', ptype, 'quantity'],
                        '%d for a process type the app does not define (its types: %s); %s is not a valid process '
                        'name to scale up' % (quantity, defined, ptype))


def formation(doc, processes):
    """The formation the document sets, or None when it owns none.

    None when there is no ``formation`` or none of its entries has a ``quantity``: Dokku then leaves the scale
    alone (and manual scaling allowed). Otherwise the whole formation Dokku sets (``clearExisting``): the listed
    quantities, and every other type of ``processes`` at 0 -- an unlisted ``web`` too. When ``processes`` is
    known, listed types it does not define are left out (a 0 for them retires nothing that could run;
    :func:`check_processes` refuses a count above 0); when it is None (unknown), the listed types are the whole
    formation.
    """
    quantities = _quantities(doc)
    if not quantities:
        return None
    if processes is None:
        return quantities
    result = dict((ptype, 0) for ptype in processes)
    result.update((ptype, count) for ptype, count in quantities.items() if ptype in processes)
    return result


def scripts(doc):
    """``{'predeploy': str or None, 'postdeploy': str or None}`` of a normalised document (None: no document)."""
    found = (doc or {}).get('scripts') or {}
    return {'predeploy': found.get('predeploy'), 'postdeploy': found.get('postdeploy')}


def cron_entries(doc):
    """The normalised cron entries of a document, in its order ([] without any)."""
    return list((doc or {}).get('cron') or [])


def max_parallel(doc, ptype):
    """``formation.<ptype>.max_parallel`` (an int >= 1), or None when not given."""
    entry = ((doc or {}).get('formation') or {}).get(ptype)
    return entry['max_parallel'] if entry else None


def healthchecks(doc, ptype, kind):
    """The normalised healthcheck entries of ``ptype`` of one ``kind`` (startup, liveness, readiness), in the
    document's order; [] when there are none."""
    if kind not in HEALTHCHECK_TYPES:
        raise ValueError('kind must be one of %s, not %r' % (', '.join(HEALTHCHECK_TYPES), kind))
    entries = ((doc or {}).get('healthchecks') or {}).get(ptype) or []
    return [entry for entry in entries if entry['type'] == kind]
