# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redaction: env values never leave the collection, in any shape.

Everything about secrets is here:

* which env values are secret: every value whose key is not on Dokku's public list (``DYNO``, ``PORT``,
  ``PATH``, ``DOKKU_*``, ``DOCKER_*``);
* the pieces of a secret that text may carry: the whole value, each of its lines, each word of it (what a
  shell's or a Procfile's field splitting makes of it), and each of these in the quoting Docker (Go's ``%q``),
  JSON, Python or a shell writes them in (:func:`pieces`);
* which pieces are too short or too common to mask inside text (:func:`maskable`): fewer than
  :data:`MIN_LENGTH` characters, a number of fewer than :data:`MIN_DIGITS` digits, or a word such as ``true``;
  masking those would turn every ``1`` of a text into ``XXXXXX`` and protect nothing;
* :class:`Redactor`: masks those pieces in text that comes from outside the collection (container logs, the
  output of check commands, Docker's error messages, inspect and top data). The collection's own words are
  never passed through it, and the names it shows anyway (app names, process types, image references) are
  never taken for secrets;
* :func:`sanitize_inspect` (Dokku's ``ps:inspect``), :func:`masked_env` (what results and diffs show of an
  env), and :func:`invocation` (the module arguments Ansible shows with ``-vvv``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re
import threading

MASK = 'XXXXXX'
PUBLIC_ENV_KEYS = ('DYNO', 'PORT', 'PATH')
PUBLIC_ENV_PREFIXES = ('DOKKU_', 'DOCKER_')
MIN_LENGTH = 4
MIN_DIGITS = 6
COMMON_WORDS = frozenset(('true', 'false', 'yes', 'no', 'on', 'off', 'none', 'null', 'nil'))

_SEPARATORS = re.compile(r'[\s\x00-\x1f\x7f]+')
_DIGITS = re.compile(r'[0-9]+')
_GO_ESCAPES = {'\a': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
               '"': '\\"', '\\': '\\\\'}


def env_key_is_public(key):
    """Dokku's allow-list: these env values are shown as they are; every other value is a secret."""
    return key in PUBLIC_ENV_KEYS or key.startswith(PUBLIC_ENV_PREFIXES)


def secret_values(env):
    """The secret values of an env: a dict, or a list of ``KEY=value`` entries (Docker's ``Config.Env``)."""
    if not env:
        return []
    if isinstance(env, dict):
        items = env.items()
    else:
        items = (entry.partition('=')[::2] for entry in env if isinstance(entry, str))
    return [str(value) for key, value in items if value is not None and not env_key_is_public(str(key))]


def maskable(piece):
    """True when ``piece`` is long and specific enough to be masked wherever it appears in a text."""
    if len(piece) < MIN_LENGTH or piece.lower() in COMMON_WORDS:
        return False
    return not (_DIGITS.fullmatch(piece) and len(piece) < MIN_DIGITS)


def _go_quote(text):
    """The inside of Go's ``%q`` of ``text`` (Docker quotes values in its error messages this way)."""
    out = []
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            out.append('\\x%02x' % ord(char))
        else:
            out.append(char)
    return ''.join(out)


def _shell_quote(text):
    """The single-quoted form a shell or ``shlex.quote`` gives ``text``, without its outer quotes."""
    return text.replace("'", "'\"'\"'")


def quoted_forms(text):
    """``text`` as JSON, Go, Python and a shell write it inside quotes (the same text when nothing is escaped)."""
    return set([
        text,
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        _go_quote(text),
        repr(text)[1:-1],
        _shell_quote(text),
    ])


def pieces(value):
    """Every piece of ``value`` that must not appear in a text: the value, its lines and its words, each also in
    the quoted forms of :func:`quoted_forms`. Pieces that :func:`maskable` refuses are left out."""
    value = str(value)
    parts = set([value])
    parts.update(value.splitlines())
    parts.update(_SEPARATORS.split(value))
    found = set()
    for part in parts:
        part = part.strip()
        if not maskable(part):
            continue
        found.update(form for form in quoted_forms(part) if maskable(form))
    return found


class Redactor(object):
    """Masks the pieces of known secrets in text that came from outside the collection.

    One per run (``Context.redactor``, shared with the Docker client for its error messages): every app document
    the run reads adds its secrets (:meth:`add_env`) and its public names (:meth:`add_public`). A piece equal to a
    public name is not masked: the collection shows those names anyway, and masking them would garble its
    container names. Thread-safe."""

    def __init__(self, env=None, public=()):
        self._lock = threading.Lock()
        self._pieces = set()
        self._public = set()
        self._pattern = None
        self._dirty = False
        if env:
            self.add_env(env)
        self.add_public(public)

    def add_env(self, env):
        """Add the secret values of ``env`` (see :func:`secret_values`)."""
        self.add_values(secret_values(env))

    def add_values(self, values):
        found = set()
        for value in values:
            found.update(pieces(value))
        with self._lock:
            if not found <= self._pieces:
                self._pieces.update(found)
                self._dirty = True

    def add_public(self, words):
        words = set(str(word) for word in words if word)
        with self._lock:
            if not words <= self._public:
                self._public.update(words)
                self._dirty = True

    def _compiled(self):
        with self._lock:
            if self._dirty or self._pattern is None:
                self._pattern = _compile(self._pieces - self._public, self._public) or False
                self._dirty = False
            return self._pattern

    def __bool__(self):
        return bool(self._compiled())

    __nonzero__ = __bool__

    def text(self, text):
        """``text`` with every secret piece replaced by ``XXXXXX`` (the longest piece that matches at a position
        wins). A piece found entirely inside one of the public names is left there: a secret ``shop`` does not
        garble the container name ``myshop.web.1``, while a secret that runs past a public name is masked."""
        compiled = self._compiled()
        if not compiled or not isinstance(text, str):
            return text
        secret, public = compiled
        spans = [match.span() for match in public.finditer(text)] if public is not None else []
        out = []
        last = position = 0
        while True:
            match = secret.search(text, position)
            if match is None:
                break
            start, end = match.span()
            if any(low <= start and end <= high for low, high in spans):
                position = start + 1
                continue
            out.append(text[last:start])
            out.append(MASK)
            last = position = end
        out.append(text[last:])
        return ''.join(out)

    def data(self, value):
        """A copy of a data structure (dicts, lists, strings) with :meth:`text` applied to every string, keys
        included."""
        pattern = self._compiled()
        if not pattern:
            return copy.deepcopy(value)
        return self._data(value)

    def _data(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (list, tuple)):
            return [self._data(item) for item in value]
        if isinstance(value, dict):
            return dict((self._data(key), self._data(item)) for key, item in value.items())
        return value


def _alternation(words):
    """A regular expression matching any of ``words``, the longest first where several match at one position."""
    return re.compile('|'.join(re.escape(word) for word in sorted(words, key=lambda word: (-len(word), word))))


def _compile(secret, public):
    """(pattern of the secret pieces, pattern of the public names or None) for :meth:`Redactor.text`, or None
    without secrets."""
    if not secret:
        return None
    return _alternation(secret), (_alternation(public) if public else None)


def sanitize_inspect(data, redactor=None, public=()):
    """Docker's inspect data as ``ps:inspect`` shows it: every ``Config.Env`` value masked except Dokku's
    allow-list, and every piece of those values masked wherever else it appears (a Procfile command expands
    ``$VAR`` into ``Cmd`` and ``Args``, split into words). ``redactor`` adds the run's other secrets."""
    data = data or {}
    env = (data.get('Config') or {}).get('Env')
    masked = mask_container_data(data, data, redactor, public)
    config = masked.get('Config') or {}
    if isinstance(env, list):
        config['Env'] = [_masked_entry(entry) for entry in env if isinstance(entry, str)]
    return masked


def mask_container_data(value, inspect_data, redactor=None, public=()):
    """A copy of ``value`` (data about a container: its inspect data, its processes) with every piece of the
    container's own secret env values masked (from ``inspect_data``, which may hold older values than the app's
    document), and those of ``redactor`` (the run's)."""
    env = ((inspect_data or {}).get('Config') or {}).get('Env')
    masked = Redactor(env=env, public=public).data(value)
    return redactor.data(masked) if redactor is not None else masked


def _masked_entry(entry):
    """A ``KEY=value`` entry of ``Config.Env`` as ps:inspect shows it."""
    key = entry.partition('=')[0]
    return entry if env_key_is_public(key) else '%s=%s' % (key, MASK)


def masked_env(env, other=None):
    """What a result or a diff shows of an env: every value masked; against ``other`` (the previous env) it says
    which keys were added or changed."""
    result = {}
    for key, value in (env or {}).items():
        if other is None or other.get(key) == value:
            result[key] = MASK
        elif key not in other:
            result[key] = MASK + ' (added)'
        else:
            result[key] = MASK + ' (changed)'
    return result


def invocation(params):
    """The module arguments shown with ``-vvv`` (``invocation.module_args``): env values masked, at the top level
    (``env``) and in app declarations (``apps[].env``). Returns (arguments, the env dicts that were masked)."""
    args = dict(params)
    envs = []
    if isinstance(args.get('env'), dict) and args['env']:
        envs.append(args['env'])
        args['env'] = dict((key, MASK) for key in args['env'])
    if isinstance(args.get('apps'), list):
        apps = []
        for app in args['apps']:
            if isinstance(app, dict) and isinstance(app.get('env'), dict) and app['env']:
                envs.append(app['env'])
                app = dict(app, env=dict((key, MASK) for key in app['env']))
            apps.append(app)
        args['apps'] = apps
    return args, envs


def release_from_ansible_masking(module, envs):
    """``env`` options are ``no_log``, so Ansible would replace each of their values wherever it appears in the
    output: a value such as ``1`` would garble every container name. The collection never returns env values and
    masks them in what comes from outside (this module), so they are taken out of Ansible's substring masking."""
    for env in envs:
        module.no_log_values.difference_update(str(value) for value in env.values() if value is not None)


def public_names(doc):
    """The names of an app that results show anyway (never taken for secrets): the app, its process types and
    its image reference."""
    names = [doc.get('name'), doc.get('image')]
    names.extend(doc.get('formation') or {})
    names.extend(doc.get('processes') or {})
    return [name for name in names if name]
