# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app.json's refusals: where in the document, which rule, in the collection's words (never a secret value). Pure.

_app_json.py validates a document against its JSON Schema with the validator made here and turns the first
error into one line, ``<source>: <field path>: <rule>``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import PROCESS_TYPE_RULE
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import jsonschema

_MAX_SHOWN = 40
_SIMPLE_KEY_RE = re.compile(r'^[A-Za-z0-9_-]+$')

_TYPE_WORDS = {
    'object': 'an object', 'array': 'an array', 'string': 'a string', 'integer': 'an integer',
    'number': 'a number', 'boolean': 'true or false', 'null': 'null',
}


def show(value):
    """``repr`` of a short user-supplied string, shortened so a message stays one short line."""
    if len(value) > _MAX_SHOWN:
        value = value[:_MAX_SHOWN] + '...'
    return repr(value)


def path_text(path):
    """``['healthchecks', 'web', 0, 'type']`` -> ``healthchecks.web[0].type``."""
    out = ''
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += '[%d]' % part
        elif isinstance(part, str) and len(part) <= _MAX_SHOWN and _SIMPLE_KEY_RE.fullmatch(part):
            out += ('.' if out else '') + part
        else:
            out += '[%s]' % (show(part) if isinstance(part, str) else repr(part))
    return out


def found(value):
    """What kind of JSON value ``value`` is, in words (never the value itself)."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, int):
        return 'an integer'
    if isinstance(value, float):
        return 'a number with a fraction' if math.isfinite(value) and not value.is_integer() else 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, list):
        return 'an array'
    if isinstance(value, dict):
        return 'an object'
    return 'a %s' % type(value).__name__


def fail(source, path, rule):
    where = path_text(path)
    raise ValidationError(source, '%s: %s' % (where, rule) if where else rule)


def schema_problem(error):
    """(path, rule) of one jsonschema error, in the collection's words, with no long or secret value in it."""
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    if 'propertyNames' in error.schema_path:
        # the instance is the key itself; the path stops at the object holding it
        if not isinstance(instance, str):
            return path, 'process type names must be strings (found %s)' % found(instance)
        path.append(instance)
        return path, 'invalid process type name: %s' % PROCESS_TYPE_RULE
    if error.validator == 'additionalProperties':
        known = sorted(schema.get('properties') or {})
        extra = sorted((key for key in instance if key not in known), key=str)
        if not isinstance(extra[0], str):
            return path, 'keys must be strings (found %s)' % found(extra[0])
        path.append(extra[0])
        return path, 'unknown key; known keys: %s' % ', '.join(known)
    if error.validator == 'type':
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = [_TYPE_WORDS.get(name, name) for name in wanted if name != 'null']
        return path, 'must be %s (found %s)' % (' or '.join(words), found(instance))
    if error.validator == 'required':
        return path, 'misses the key %s' % error.message.split("'")[1]
    if error.validator == 'minLength':
        return path, 'must not be empty'
    if error.validator == 'minimum':
        return path, 'must be at least %d (found %s)' % (error.validator_value, instance)
    if error.validator == 'maximum':
        return path, 'must be at most %d (found %s)' % (error.validator_value, instance)
    if error.validator == 'enum':
        allowed = ', '.join(str(value) for value in error.validator_value if value is not None)
        shown = show(instance) if isinstance(instance, str) else found(instance)
        return path, 'must be one of %s (found %s)' % (allowed, shown)
    if error.validator == 'pattern' and schema.get('x-rule'):
        if (len(path) >= 2 and path[-2] == 'command') or path[-1:] in (['command'], ['predeploy'], ['postdeploy']):
            return path, schema['x-rule']          # a command may carry a token: never shown
        return path, '%s (found %s)' % (schema['x-rule'], show(instance))
    return path, 'breaks the rule %r of the app.json schema' % error.validator  # pragma: no cover - every keyword above


def validator_class():
    base = getattr(jsonschema, 'Draft7Validator', None)
    if base is None:
        raise DokkuPsError('the Python library jsonschema on the managed host is too old to validate app.json '
                           '(need 3.0 or newer)')

    def is_integer(checker, instance):
        # Go's encoding/json (Dokku) refuses 1.0 for an int and true for a number; so does this.
        return isinstance(instance, int) and not isinstance(instance, bool)

    return jsonschema.validators.extend(base, type_checker=base.TYPE_CHECKER.redefine('integer', is_integer))


def sort_key(error):
    path = list(error.absolute_path)
    # at one path, a wrong type first: a bound broken by a value of the wrong type says less
    return (len(path), [str(part) for part in path], error.validator != 'type', str(error.validator))
