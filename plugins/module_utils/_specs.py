# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container specs: what containers an app runs, their names, labels, specs, hashes and process limits.

The formation, container names and labels, the spec of each container (command, env, restart policy) and its
hash, and the limits the kernel puts on a process.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import hashlib
import json
import os
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import PROCESS_TYPE_PATTERN
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import split_command


DEFAULT_WEB_PORT = 5000


WEB = 'web'


# Dokku's labels, and our own in the io.dokku-ps namespace.
LABEL_MARKER = 'dokku'


LABEL_APP = 'com.dokku.app-name'


LABEL_PROCESS_TYPE = 'com.dokku.process-type'


LABEL_DYNO = 'com.dokku.dyno'


LABEL_CONTAINER_TYPE = 'com.dokku.container-type'


LABEL_SPEC_HASH = 'io.dokku-ps.spec-hash'


LABEL_RESTART_POLICY = 'io.dokku-ps.restart-policy'


UPCOMING = 'upcoming'
# the Docker network of proxied web containers (docs/proxy.md)
PROXY_NETWORK = 'dokku-ps'


# What the kernel lets a container's process receive (execve): one argv word or KEY=value env entry of at most
# MAX_ARG_STRLEN bytes with its terminating NUL (Linux: 32 pages of 4 KiB), and all of them together under
# ARG_MAX (a quarter of the stack limit: 2 MiB with Docker's default 8 MiB). Our bound for argv and env
# together is half of that, counted as the kernel counts (each string's bytes, its NUL and its 8-byte pointer):
# the rest is left for what Docker adds (the image's ENTRYPOINT and ENV, HOSTNAME, docker-init's argv).
MAX_ARG_STRLEN = 131072


MAX_STRING_BYTES = MAX_ARG_STRLEN - 1


MAX_PROCESS_BYTES = 1024 * 1024


POINTER_BYTES = 8


# The longest index counted in DYNO when the limits are checked (9 digits): a later scale-up never adds bytes.
_LONGEST_INDEX = 10 ** 9 - 1


_TYPE_RE = re.compile(PROCESS_TYPE_PATTERN)


_INDEX_RE = re.compile(r'[1-9][0-9]*')


def text_bytes(text):
    """The length of ``text`` in UTF-8 as the process receives it (a lone surrogate counts as the 3 bytes of
    the replacement character Docker puts in its place)."""
    return len(text.encode('utf-8', 'surrogatepass'))


def container_name(app, ptype, index):
    return '%s.%s.%d' % (app, ptype, index)


def upcoming_name(app, ptype, index):
    return '%s.%s-%s' % (container_name(app, ptype, index), UPCOMING, binascii.hexlify(os.urandom(4)).decode('ascii'))


def name_filter(app):
    """Docker `name` filter (a regular expression) matching exactly the names an app may use."""
    return r'^/?%s\.[a-z0-9-]+\.[1-9][0-9]*(\.%s-[0-9a-f]+)?$' % (re.escape(app), UPCOMING)


# Every name any app may use (a superset of each name_filter): the filter of a run's snapshot (see
# context.Context.take_snapshot), one list call for the containers of many apps.
ANY_APP_NAME_FILTER = r'^/?[a-z0-9][a-z0-9.-]*\.[a-z0-9-]+\.[1-9][0-9]*(\.%s-[0-9a-f]+)?$' % UPCOMING


def app_of_container_name(name):
    """The only app that may own a container name ('<app>.<type>.<index>[.upcoming-<hex>]'; a process type has no
    dot), or None. ``parse_container_name(app, name)`` accepts the name for this app and for no other."""
    parts = name.lstrip('/').split('.')
    if len(parts) >= 4 and parts[-1].startswith(UPCOMING + '-'):
        parts = parts[:-1]
    if len(parts) < 3:
        return None
    app = '.'.join(parts[:-2])
    return app if parse_container_name(app, name) is not None else None


def parse_container_name(app, name):
    """'<app>.<type>.<index>[.upcoming-<hex>]' -> (type, index, upcoming) or None."""
    name = name.lstrip('/')
    prefix = app + '.'
    if not name.startswith(prefix):
        return None
    parts = name[len(prefix):].split('.')
    upcoming = False
    if len(parts) == 3 and parts[2].startswith(UPCOMING + '-'):
        upcoming = True
        parts = parts[:2]
    if len(parts) != 2 or not _TYPE_RE.fullmatch(parts[0]) or not _INDEX_RE.fullmatch(parts[1]):
        return None
    return parts[0], int(parts[1]), upcoming


def spec_hash(spec):
    """Hash of everything that needs a new container when it changes (not the restart policy)."""
    material = {
        'image': spec['image'],
        'command': spec['command'],
        'env': spec['env'],
        'ports': spec['ports'],
        'init': spec['init'],
    }
    if spec.get('network'):
        # only when set: the containers of apps without a proxy keep the hash they had before the proxy existed
        material['network'] = spec['network']
    encoded = json.dumps(material, sort_keys=True, separators=(',', ':')).encode('utf-8')
    return hashlib.sha256(encoded).hexdigest()


def process_command(app_doc, ptype):
    """The command string of a type, or None when the app runs the image's own command."""
    processes = app_doc.get('processes')
    if processes is None:
        return None
    return processes.get(ptype)


def type_is_defined(app_doc, ptype):
    processes = app_doc.get('processes')
    return processes is None or ptype in processes


def process_env(app_doc, ptype, index):
    """The env of a container of ``ptype`` (the app's, plus DYNO and PORT) and the value of PORT."""
    web_port = app_doc.get('web_port') or DEFAULT_WEB_PORT
    port_value = str(web_port) if ptype == WEB else ''
    env = dict(app_doc.get('env') or {})
    env['DYNO'] = '%s.%d' % (ptype, index)
    env['PORT'] = port_value
    return env, port_value


def build_spec(app_doc, restart_policy, ptype, index):
    """The full create specification of one container."""
    app = app_doc['name']
    dyno = '%s.%d' % (ptype, index)
    web_port = app_doc.get('web_port') or DEFAULT_WEB_PORT
    env, port_value = process_env(app_doc, ptype, index)
    command = process_command(app_doc, ptype)
    argv = None
    if command is not None:
        argv = split_command(command, env, port_value, process_type=ptype)
    ports = None
    publish = app_doc.get('publish')
    if ptype == WEB and publish not in (None, False):
        ports = {'container': web_port, 'host': None if publish == 'auto' else int(publish)}
    # a proxied web container lives on the proxy's network, at an address the executor picks when it creates it
    network = PROXY_NETWORK if ptype == WEB and (app_doc.get('proxy') or {}).get('enabled') else None
    spec = {
        'name': container_name(app, ptype, index),
        'app': app,
        'process_type': ptype,
        'index': index,
        'image': app_doc['image_id'],
        'command': argv,
        'env': ['%s=%s' % (key, env[key]) for key in sorted(env)],
        'ports': ports,
        'init': True,
        'restart_policy': restart_policy,
        'network': network,
    }
    spec['hash'] = spec_hash(spec)
    spec['labels'] = {
        LABEL_MARKER: '',
        LABEL_APP: app,
        LABEL_PROCESS_TYPE: ptype,
        LABEL_DYNO: dyno,
        LABEL_CONTAINER_TYPE: 'deploy',
        LABEL_SPEC_HASH: spec['hash'],
        LABEL_RESTART_POLICY: restart_policy,
    }
    return spec


def _process_bytes(strings):
    """What ``strings`` cost in a process's argv or env, counted as the kernel counts: bytes, NUL, pointer."""
    return sum(text_bytes(text) + 1 + POINTER_BYTES for text in strings)


def _command_field(doc, ptype):
    """The field that names where the command of ``ptype`` comes from, for messages."""
    source = doc.get('process_source')
    if source == 'procfile':
        return 'procfile (process type %s)' % ptype
    if source == 'procfile_path':
        return 'procfile_path (process type %s of the Procfile %s in image %s)' % (
            ptype, doc.get('procfile_path'), doc.get('image'))
    return 'processes.%s' % ptype


def _check_process(field, what, argv, env, ptype):
    """One process: argv words and env entries within MAX_STRING_BYTES, all of them within MAX_PROCESS_BYTES."""
    for number, word in enumerate(argv, 1):
        if '\x00' in word:
            raise ValidationError(field, 'word %d of %s contains a NUL character, which no process can receive'
                                  % (number, what))
        size = text_bytes(word)
        if size > MAX_STRING_BYTES:
            raise ValidationError(field, 'word %d of %s is %d bytes; one argument may be '
                                  'at most %d bytes (Linux MAX_ARG_STRLEN; the value is not shown)'
                                  % (number, what, size, MAX_STRING_BYTES))
    for entry in env:
        size = text_bytes(entry)
        if size > MAX_STRING_BYTES:
            raise ValidationError('env', 'the entry %s=... of process type %s is %d bytes; one environment entry may '
                                  'be at most %d bytes (Linux MAX_ARG_STRLEN; the value is not shown)'
                                  % (entry.partition('=')[0], ptype, size, MAX_STRING_BYTES))
    argv_bytes = _process_bytes(argv)
    env_bytes = _process_bytes(env)
    if argv_bytes + env_bytes > MAX_PROCESS_BYTES:
        environment = 'the environment (%s, %d bytes)' % (_count(len(env), 'entry', 'entries'), env_bytes)
        if argv:
            detail = '%s (%s, %d bytes) and %s' % (what, _count(len(argv), 'word', 'words'), argv_bytes, environment)
        else:
            detail = environment
        # the field is the larger part: the command, or the env
        raise ValidationError(field if argv_bytes > env_bytes else 'env',
                              '%s of process type %s: %d bytes, above the limit of %d bytes (1 MiB) for '
                              'the arguments and environment of one process (each string counted with its NUL '
                              'and an 8-byte pointer; values are not shown)'
                              % (detail, ptype, argv_bytes + env_bytes, MAX_PROCESS_BYTES))


def _count(number, one, many):
    return '%d %s' % (number, one if number == 1 else many)


def check_process_limits(doc):
    """Refuse a definition whose processes the kernel could not start (checked on the built document, after
    Procfile expansion, for every process type, and for the command of a type's command check, which Docker
    runs with the container's environment):

    * a command with a NUL character (no process can receive one; Docker's docker-init would loop on
      ``invalid argument``);
    * an argv word or a ``KEY=value`` env entry above MAX_STRING_BYTES (131071 bytes, Linux's MAX_ARG_STRLEN
      with the NUL);
    * argv and env together above MAX_PROCESS_BYTES (1 MiB), counted as the kernel does (bytes + NUL + 8-byte
      pointer per string), half of the 2 MiB ARG_MAX of Docker's default stack limit: the rest is for what
      Docker adds.

    DYNO is counted with a 9-digit index, so a later scale-up cannot go over. Messages name the field, the
    process type and the sizes, never a value (an expanded command may hold secrets). Apps that run the image's
    own command are checked for their environment (the image's command is the image's business).
    """
    processes = doc.get('processes')
    if processes is None:
        types = set(doc.get('formation') or {}) | set([WEB])
    else:
        types = set(processes)
    for ptype in ordered_types(types):
        env, port = process_env(doc, ptype, _LONGEST_INDEX)
        entries = ['%s=%s' % (key, env[key]) for key in sorted(env)]
        argv = []
        field = _command_field(doc, ptype) if processes is not None else 'env'
        command = process_command(doc, ptype)
        if command is not None:
            if '\x00' in command:
                raise ValidationError(field, 'the command contains a NUL character (at character %d), which no '
                                      'process can receive' % (command.index('\x00') + 1))
            argv = split_command(command, env, port, process_type=ptype, field=field)
        _check_process(field, 'the command after variable expansion', argv, entries, ptype)
    for ptype in sorted(doc.get('checks') or {}):
        check_command = (doc['checks'][ptype] or {}).get('command')
        if check_command:
            env, _port = process_env(doc, ptype, _LONGEST_INDEX)
            entries = ['%s=%s' % (key, env[key]) for key in sorted(env)]
            _check_process('checks.%s.command' % ptype, 'the check command', list(check_command), entries, ptype)


def initial_formation(processes):
    """A new app: web=1 when it has a web process or runs the image command; every other type 0."""
    if processes is None:
        return {WEB: 1}
    formation = dict((ptype, 0) for ptype in processes)
    if WEB in processes:
        formation[WEB] = 1
    return formation


def reconcile_formation(formation, processes, dokku_scale=None):
    """Fit a stored formation to (new) processes.

    Returns (formation, dropped) where dropped lists the types that left the processes while scaled
    above 0 (their containers get removed at the next deploy). A DOKKU_SCALE file from the image sets the
    counts of the types it lists.
    """
    result = dict(formation or {})
    dropped = []
    if dokku_scale:
        result.update(dokku_scale)
    if processes is not None:
        for ptype in list(result):
            if ptype not in processes:
                if result[ptype] > 0 and not (dokku_scale and ptype in dokku_scale):
                    dropped.append(ptype)
                del result[ptype]
        for ptype in processes:
            result.setdefault(ptype, 0)
    return result, sorted(dropped)


def ordered_types(types):
    """web first, then the other types alphabetically (Dokku's deploy order)."""
    types = set(types)
    head = [WEB] if WEB in types else []
    return head + sorted(types - set([WEB]))
