# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check rules: the ``checks`` option's values, and which checks a new container of a type must pass, from where.

Per process type (docs/decisions.md, "Checks: where they come from"): ``dokku_ps_app``'s ``checks`` option when
it defines checks, else the app.json's startup and readiness entries, else for ``web`` the image's CHECKS file,
else the default. The option's checks and the CHECKS file: an uptime check (the container stays up, without
restarting, for N seconds), a command run inside the container (exit status 0), and for ``web`` HTTP checks
(path, expected content, Host header, TLS). ``mode`` is ``enabled``, ``skipped`` (no checks, still zero-downtime)
or ``disabled`` (Dokku's meaning: the old container is stopped before the new one starts), whatever the source.
The runtime checks (_checker.py) run what :func:`effective` returns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._health import GATING_CHECK_TYPES, app_json_checks
from ansible_collections.dokku_ps.docker.plugins.module_utils._limits import MAX_STRING_BYTES, text_bytes
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import WEB, validate_process_type
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation

MODES = ('enabled', 'skipped', 'disabled')
DEFAULT_UPTIME = 10           # Dokku's default check: the container is still up after 10 s
DEFAULTS = {'wait': 5, 'timeout': 30, 'attempts': 5}   # Dokku's CHECKS defaults (WAIT, TIMEOUT, ATTEMPTS)
KEYS = ('mode', 'uptime', 'wait', 'timeout', 'attempts', 'http', 'command')


def _integer(value, field, minimum):
    number = validation.coerce_quantity(value, field)
    if number < minimum:
        raise ValidationError(field, '%d is below the minimum of %d' % (number, minimum))
    return number


def _http_check(item, field):
    if isinstance(item, str):
        parsed = parsers.parse_checks_file(item, source=field)['http']
        if len(parsed) != 1:
            raise ValidationError(field, 'one check per item: a path, optionally followed by the expected content')
        return parsed[0]
    if not isinstance(item, dict) or not isinstance(item.get('path'), str) or not item['path'].startswith('/'):
        raise ValidationError(field, 'must be a path (/health) or a dict with path, content, host and scheme')
    unknown = sorted(repr(key) for key in set(item) - set(['path', 'content', 'host', 'scheme']))
    if unknown:
        raise ValidationError(field, 'unknown key(s) %s' % ', '.join(unknown))
    scheme = item.get('scheme') or 'http'
    if scheme not in ('http', 'https'):
        raise ValidationError(field, 'scheme must be http or https')
    for key in ('host', 'content'):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise ValidationError(field, '%s must be a string' % key)
    problem = parsers.http_target_problem(item['path'], item.get('host') or None)
    if problem:
        raise ValidationError(field, problem)
    return {'path': item['path'], 'content': item.get('content') or None, 'host': item.get('host') or None,
            'scheme': scheme}


def validate_checks(value, field='checks'):
    """The ``checks`` option -> {type: normalised config}. A type's value may be a mode string."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError(field, 'must be a dict of process type to checks')
    result = {}
    for ptype, config in value.items():
        validate_process_type(ptype, field)
        where = '%s.%s' % (field, ptype)
        if isinstance(config, str):
            config = {'mode': config}
        if not isinstance(config, dict):
            raise ValidationError(where, 'must be a mode (enabled, skipped, disabled) or a dict')
        unknown = sorted(repr(key) for key in set(config) - set(KEYS))
        if unknown:
            raise ValidationError(where, 'unknown key(s) %s; known keys: %s' % (', '.join(unknown), ', '.join(KEYS)))
        normal = {'mode': config.get('mode') or 'enabled'}
        if normal['mode'] not in MODES:
            raise ValidationError('%s.mode' % where, '%r must be one of %s' % (normal['mode'], ', '.join(MODES)))
        if config.get('uptime') is not None:
            normal['uptime'] = _integer(config['uptime'], '%s.uptime' % where, 0)
        for key, minimum in (('wait', 0), ('timeout', 1), ('attempts', 1)):
            if config.get(key) is not None:
                normal[key] = _integer(config[key], '%s.%s' % (where, key), minimum)
        if config.get('http'):
            if ptype != WEB:
                raise ValidationError('%s.http' % where, 'HTTP checks are for web, the only type with a port')
            items = config['http'] if isinstance(config['http'], list) else [config['http']]
            normal['http'] = [_http_check(item, '%s.http' % where) for item in items]
        if config.get('command'):
            command = config['command']
            if isinstance(command, str):
                command = ['/bin/sh', '-c', command]
            if not isinstance(command, list) or not all(isinstance(part, str) for part in command):
                raise ValidationError('%s.command' % where, 'must be a shell command string or a list of strings')
            # what the kernel refuses in an exec's argv (values are never shown: a command may carry a token)
            for number, part in enumerate(command, 1):
                word = 'the command' if isinstance(config['command'], str) else 'item %d' % number
                if '\x00' in part:
                    raise ValidationError('%s.command' % where, '%s contains a NUL character, which no process can '
                                          'receive' % word)
                if text_bytes(part) > MAX_STRING_BYTES:
                    raise ValidationError('%s.command' % where, '%s is %d bytes; one argument may be at most %d bytes '
                                          '(Linux MAX_ARG_STRLEN; the value is not shown)'
                                          % (word, text_bytes(part), MAX_STRING_BYTES))
            normal['command'] = command
        result[ptype] = normal
    return result


# the sources of checks, as failures name them ("checks from the ...")
OPTION_SOURCE = 'checks option'


APP_JSON_SOURCE = 'app.json'


CHECKS_FILE_SOURCE = 'CHECKS file in the image'


DEFAULT_SOURCE = 'default'


def defines_checks(option):
    """True when a type's entry of the ``checks`` option has checks of its own (not only a mode or settings)."""
    option = option or {}
    return bool(option.get('http') or option.get('command')) or option.get('uptime') is not None


def effective(doc, ptype):
    """The checks a new container of ``ptype`` must pass, with ``source``: the ``checks`` option's own checks,
    else the app.json's startup and readiness entries (``entries``, in the order they run), else for web the
    image's CHECKS file, else Dokku's default (still up after 10 s). The option's ``mode`` applies whatever the
    source; its ``wait``, ``timeout`` and ``attempts`` apply to its own checks, the CHECKS file's (over the file's
    values) and the default, never to app.json entries, which carry their own. Defaults filled in."""
    option = dict(((doc.get('checks') or {}).get(ptype)) or {})
    entries = app_json_checks(doc, ptype, GATING_CHECK_TYPES)
    settings = dict((key, option[key]) for key in ('mode', 'wait', 'timeout', 'attempts') if key in option)
    if defines_checks(option):
        config, source = option, OPTION_SOURCE
    elif entries:
        config = {'mode': option.get('mode') or 'enabled', 'entries': entries}
        source = APP_JSON_SOURCE
        config['app_json'] = (doc.get('app_json') or {}).get('source')
    elif ptype == WEB and doc.get('image_checks'):
        config, source = dict(doc['image_checks']), CHECKS_FILE_SOURCE
        config.update(settings)
    else:
        config, source = settings, DEFAULT_SOURCE
    config.setdefault('mode', 'enabled')
    if config['mode'] != 'enabled':
        # skipped or disabled: the option decides, and nothing of the other sources runs
        source = OPTION_SOURCE
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    if source != APP_JSON_SOURCE and config.get('uptime') is None and not config.get('http') \
            and not config.get('command'):
        config['uptime'] = DEFAULT_UPTIME
    config['source'] = source
    return config


def describe_source(config):
    """Where the checks came from, for the end of a failure: "checks from the <this>"."""
    if config['source'] == APP_JSON_SOURCE and config.get('app_json'):
        return '%s: %s' % (APP_JSON_SOURCE, config['app_json'])
    return config['source']


def sources(doc):
    """Where each process type of the app's formation takes its checks from (:func:`effective`'s ``source``)."""
    return dict((ptype, effective(doc, ptype)['source']) for ptype in sorted(doc.get('formation') or {}))
