# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names: the one rule and text for each kind of name (apps, process types, env keys), and the type everyone knows.

Every module, the parsers, the state store and the JSON Schema of the state documents take their rule from here,
so a name refused in one place is refused everywhere, with the same words.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError

# Dokku's rule for new app names, plus the 63-character limit of SPEC 2.
APP_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]*$"
APP_NAME_MAX_LENGTH = 63
APP_NAME_RULE = ('must be at most %d characters: lowercase letters, digits, dots and dashes, starting with a letter '
                 'or a digit (%s)' % (APP_NAME_MAX_LENGTH, APP_NAME_PATTERN))

# A DNS label (RFC 1123), Dokku's documented rule for process types.
PROCESS_TYPE_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
PROCESS_TYPE_RULE = ('must be at most 63 characters: lowercase letters, digits and dashes, starting and ending with '
                     'a letter or a digit (a DNS label, %s)' % PROCESS_TYPE_PATTERN)

# Environment variable names (POSIX shell names).
ENV_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ENV_KEY_RULE = ('must be letters, digits and underscores, not starting with a digit (a shell variable name, %s)'
                % ENV_KEY_PATTERN)

# The one process type with a port: the one the proxy and the HTTP checks reach, and the first of a deploy.
WEB = 'web'
# The port web listens on inside its containers (PORT) unless the app says otherwise: Dokku's default.
DEFAULT_WEB_PORT = 5000

_APP_RE = re.compile(APP_NAME_PATTERN)
_TYPE_RE = re.compile(PROCESS_TYPE_PATTERN)
_ENV_KEY_RE = re.compile(ENV_KEY_PATTERN)


def is_app_name(value):
    return isinstance(value, str) and len(value) <= APP_NAME_MAX_LENGTH and _APP_RE.fullmatch(value) is not None


def is_process_type(value):
    return isinstance(value, str) and _TYPE_RE.fullmatch(value) is not None


def is_env_key(value):
    return isinstance(value, str) and _ENV_KEY_RE.fullmatch(value) is not None


def validate_app_name(name, field='name'):
    """``name`` when it is a valid app name, else a ValidationError naming ``field`` and the rule."""
    if not isinstance(name, str) or not name:
        raise ValidationError(field, 'an app name is required')
    if not is_app_name(name):
        raise ValidationError(field, '%r %s' % (name, APP_NAME_RULE))
    return name


def validate_process_type(name, field='process type'):
    """``name`` when it is a valid process type, else a ValidationError naming ``field`` and the rule."""
    if not is_process_type(name):
        raise ValidationError(field, '%r %s' % (name, PROCESS_TYPE_RULE))
    return name


def ordered_types(types):
    """web first, then the other types alphabetically (Dokku's deploy order)."""
    types = set(types)
    head = [WEB] if WEB in types else []
    return head + sorted(types - set([WEB]))
