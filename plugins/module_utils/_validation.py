# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option values: the rules every option value of the modules follows, as one-line ValidationErrors.

Counts, restart policies, stop timeouts, env, image references, Procfile paths, ports and publishing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._limits import MAX_STRING_BYTES, text_bytes
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import (
    ENV_KEY_RULE, is_env_key, validate_process_type, WEB)
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import RESTART_POLICY_PATTERN


RESTART_POLICY_RULE = 'must be one of no, always, unless-stopped, on-failure or on-failure:N with N >= 1'


RESERVED_ENV_KEYS = ('DYNO', 'PORT')


# Characters no image reference contains (Docker's grammar allows letters, digits and . _ - : / @ + [ ]).
_IMAGE_REFERENCE_CHAR_RE = re.compile(r'[^A-Za-z0-9._:/@+\[\]-]')


_POLICY_RE = re.compile(RESTART_POLICY_PATTERN)


_INTEGER_RE = re.compile(r'\s*-?[0-9]+\s*')


def _integer(value, field):
    """An int from an int, an integral float or a string of digits; anything else is refused."""
    if isinstance(value, bool):
        raise ValidationError(field, '%r is not an integer >= 0' % (value,))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():  # excludes inf and nan
        return int(value)
    if isinstance(value, str) and _INTEGER_RE.fullmatch(value):
        return int(value)
    raise ValidationError(field, '%r is not an integer >= 0' % (value,))


def coerce_quantity(value, field):
    """An instance count: an integer >= 0; strings of digits are accepted ("2" -> 2)."""
    number = _integer(value, field)
    if number < 0:
        raise ValidationError(field, '%d is negative; counts must be integers >= 0' % number)
    return number


def validate_formation(scale, field='scale'):
    """Validate a dict type -> count. Returns a new dict with int counts."""
    if not isinstance(scale, dict):
        raise ValidationError(field, 'must be a dict of process type to count')
    result = {}
    for ptype, count in scale.items():
        validate_process_type(ptype, '%s' % field)
        result[ptype] = coerce_quantity(count, '%s.%s' % (field, ptype))
    return result


def validate_restart_policy(value, field='restart_policy'):
    if not isinstance(value, str) or not _POLICY_RE.fullmatch(value):
        raise ValidationError(field, '%r is invalid: %s' % (value, RESTART_POLICY_RULE))
    return value


def validate_stop_timeout(value, field='stop_timeout_seconds'):
    number = _integer(value, field)
    if number < 0:
        raise ValidationError(field, '%d is negative; it must be an integer >= 0' % number)
    return number


def validate_env(env, field='env'):
    """Env keys must be shell-style names; values are turned into strings (None -> '')."""
    if env is None:
        return {}
    if not isinstance(env, dict):
        raise ValidationError(field, 'must be a dict of NAME to value')
    result = {}
    for key, value in env.items():
        if not is_env_key(key):
            raise ValidationError(field, 'key %r %s' % (key, ENV_KEY_RULE))
        if key in RESERVED_ENV_KEYS:
            raise ValidationError(field, '%s is set by dokku_ps for every container (use web_port for PORT)' % key)
        if value is None:
            value = ''
        elif isinstance(value, bool):
            value = 'true' if value else 'false'
        elif isinstance(value, (dict, list)):
            raise ValidationError(field, 'the value of %s must be a string or a number' % key)
        value = str(value)
        if '\x00' in value:
            raise ValidationError(field, 'the value of %s contains a NUL character, which Docker cannot pass to a '
                                  'process (the value is not shown)' % key)
        size = text_bytes('%s=%s' % (key, value))
        if size > MAX_STRING_BYTES:
            raise ValidationError(field, 'the entry %s=... is %d bytes; one environment entry may be at most %d bytes '
                                  '(Linux MAX_ARG_STRLEN; the value is not shown)' % (key, size, MAX_STRING_BYTES))
        result[key] = value
    return result


def validate_image_reference(value, field='image'):
    """A local image reference (``name[:tag][@digest]`` or an image id): surrounding whitespace is trimmed;
    whitespace, control characters and other characters no reference has are refused, and so are ``.`` and
    ``..`` path segments (the SDK puts the reference in a URL path, where they would name another endpoint)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, 'must be a non-empty image reference')
    reference = value.strip()
    bad = _IMAGE_REFERENCE_CHAR_RE.search(reference)
    if bad:
        raise ValidationError(field, '%s is not an image reference: character %d is %s (an image reference '
                              'is made of letters, digits and . _ - : / @ + [ ])'
                              % (_shown(reference), bad.start() + 1, _char_name(bad.group())))
    if any(part in ('.', '..') for part in reference.split('/')):
        raise ValidationError(field, '%s is not an image reference: it has a . or .. path segment'
                              % _shown(reference))
    return reference


def validate_procfile_path(value, field='procfile_path'):
    """A path relative to the image's WORKDIR: no NUL (no file name has one)."""
    if not isinstance(value, str):
        raise ValidationError(field, 'must be a path relative to the image WORKDIR')
    if '\x00' in value:
        raise ValidationError(field, '%s contains a NUL character, which no file name has' % _shown(value))
    path = value.strip().strip('/')
    if not path:
        raise ValidationError(field, 'must be a path relative to the image WORKDIR')
    return path


def _shown(text, limit=80):
    """``repr`` of a non-secret user text, shortened to keep a message one short line."""
    if len(text) > limit:
        text = text[:limit] + '...'
    return repr(text)


def _char_name(char):
    if char == '\x00':
        return 'NUL'
    if char.isspace():
        return 'whitespace (%r)' % char
    if ord(char) < 32 or char == '\x7f':
        return 'a control character (%r)' % char
    return repr(char)


def validate_port(value, field):
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValidationError(field, '%r is not a port number (1-65535)' % (value,))
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(field, '%r is not a port number (1-65535)' % (value,))
    if number < 1 or number > 65535:
        raise ValidationError(field, '%d is not a port number (1-65535)' % number)
    return number


def validate_publish(value, field='publish'):
    """false / absent (no host port), a host port, or 'auto' (one ephemeral host port per web container)."""
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() in ('false', 'no', '')):
        return False
    if isinstance(value, str) and value.strip().lower() == 'auto':
        return 'auto'
    if isinstance(value, str) and not _INTEGER_RE.fullmatch(value):
        raise ValidationError(field, "%r must be false, a host port (1-65535) or 'auto'" % (value,))
    return validate_port(value, field)


def check_publish(doc, field='publish'):
    """A fixed host port can be held by one web container only."""
    publish = doc.get('publish')
    count = (doc.get('formation') or {}).get(WEB, 0)
    if publish not in (None, False, 'auto') and count > 1:
        raise ValidationError(field, "app %s publishes web on the fixed host port %s, which one container can hold, "
                              "but web is scaled to %d (use publish: auto for one host port per container)"
                              % (doc['name'], publish, count))
