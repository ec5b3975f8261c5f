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
import shlex

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
    if spec.get('healthcheck'):
        # the same: containers of apps without an app.json liveness check keep the hash they had before
        material['healthcheck'] = spec['healthcheck']
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
    healthcheck = docker_healthcheck(app_doc, ptype)
    if healthcheck is not None:
        # only when there is one: a spec without the key is the spec of every container made before app.json
        spec['healthcheck'] = healthcheck
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


# -- app.json healthchecks: which entries, which port, and liveness as Docker's HEALTHCHECK -----------------------
# (docs/decisions.md, "Checks: where they come from"). The app document carries the normalised app.json under
# ``app_json`` (None without one); its ``healthchecks`` map a process type to its entries in document order.

# the kinds of app.json entry that gate a replacement, in the order they run
GATING_CHECK_TYPES = ('startup', 'readiness')


LIVENESS = 'liveness'


# the kinds of check one app.json entry is (see entry_kind)
COMMAND_CHECK = 'command'


LISTENING_CHECK = 'listening'


UPTIME_CHECK = 'uptime'


HTTP_CHECK = 'http'


NANOSECONDS = 10 ** 9


# Docker takes durations of a health check of 0 (which means: the image's value) or at least 1 ms
MIN_HEALTH_DURATION = 10 ** 6


def app_json_checks(app_doc, ptype, check_types):
    """The app.json healthcheck entries of ``ptype`` whose ``type`` is one of ``check_types``: every entry of the
    first type in document order, then every entry of the next type, and so on."""
    entries = (((app_doc.get('app_json') or {}).get('healthchecks')) or {}).get(ptype) or []
    return [entry for check_type in check_types for entry in entries if entry.get('type') == check_type]


def entry_kind(entry):
    """What one app.json entry checks: a command when it has one; else the port when ``listening``; else the
    uptime when it has an uptime and no path; else an HTTP request to its path (``/`` when it has none)."""
    if entry.get('command'):
        return COMMAND_CHECK
    if entry.get('listening'):
        return LISTENING_CHECK
    if entry.get('uptime') is not None and not entry.get('path'):
        return UPTIME_CHECK
    return HTTP_CHECK


def check_port(app_doc, ptype, port=None):
    """The container port a check of ``ptype`` targets: ``port`` when given; else web's port (the PORT its
    containers get, ``web_port``) for web, and Dokku's default port 5000 for the other types, which get no PORT."""
    if port:
        return int(port)
    if ptype == WEB:
        return app_doc.get('web_port') or DEFAULT_WEB_PORT
    return DEFAULT_WEB_PORT


def _seconds(value, floor):
    """Seconds as Docker's nanoseconds, at least ``floor`` nanoseconds."""
    return max(int(value or 0) * NANOSECONDS, floor)


def _http_health_script(entry, port):
    """A shell command that fetches the entry's URL from inside the container with whichever client the image has
    (busybox or GNU wget, else curl) and, with ``content``, looks for it in the answer. Every value is quoted; the
    content is matched by the shell itself (a ``case`` pattern: a literal substring, newlines included), so no
    grep is needed."""
    scheme = entry.get('scheme') or 'http'
    url = shlex.quote('%s://127.0.0.1:%d%s' % (scheme, port, entry.get('path') or '/'))
    insecure = (' --no-check-certificate', 'k') if scheme == 'https' else ('', '')
    fetch = 'wget -q%s -O - %s || curl -fsS%s %s' % (insecure[0], url, insecure[1], url)
    if entry.get('content'):
        return ('body=$(%s) && case "$body" in *%s*) ;; *) echo "the answer does not contain the expected '
                'content" >&2; exit 1;; esac' % (fetch, shlex.quote(entry['content'])))
    return '{ %s; } >/dev/null' % fetch


def _listening_health_script(port):
    """A shell command that passes when a TCP socket of the container listens on ``port`` (state 0A in
    /proc/net/tcp or tcp6), with nothing but the shell's own ``read`` and ``case``."""
    return ('for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] || continue; '
            'while read -r sl local remote st rest; do case "$local $st" in *:%04X\\ 0A) exit 0;; esac; '
            'done < "$f"; done; echo "nothing listens on port %d" >&2; exit 1' % (port, port))


def docker_healthcheck(app_doc, ptype):
    """The Docker HEALTHCHECK (the Engine API's HealthConfig) of the containers of ``ptype``, from the app.json's
    liveness entries of that type; None without one.

    One entry: a command runs as it is (``CMD``); an HTTP check fetches ``http://127.0.0.1:<port><path>`` inside
    the container (``CMD-SHELL``, see _http_health_script); a listening check reads /proc/net/tcp{,6}. Interval is
    the entry's ``wait`` (at least 1 s: 0 would mean Docker's default of 30 s), Timeout its ``timeout`` (at least
    1 s), Retries its ``attempts``, StartPeriod its ``initial_delay`` (0 becomes 1 ms, so the image's own start
    period is not inherited). Several entries become one test that passes when all of them pass, in order, each in
    its own subshell: the shortest wait, the sum of the timeouts (time for all of them), the most attempts, the
    longest initial delay. Uptime entries are left out (a running container is up: Docker has nothing to check;
    see ignored_liveness)."""
    entries = [entry for entry in app_json_checks(app_doc, ptype, (LIVENESS,)) if entry_kind(entry) != UPTIME_CHECK]
    if not entries:
        return None
    tests = []
    for entry in entries:
        kind = entry_kind(entry)
        if kind == COMMAND_CHECK:
            tests.append((list(entry['command']), ' '.join(shlex.quote(word) for word in entry['command'])))
        elif kind == LISTENING_CHECK:
            tests.append((None, _listening_health_script(check_port(app_doc, ptype, entry.get('port')))))
        else:
            tests.append((None, _http_health_script(entry, check_port(app_doc, ptype, entry.get('port')))))
    if len(tests) == 1 and tests[0][0] is not None:
        test = ['CMD'] + tests[0][0]
    elif len(tests) == 1:
        test = ['CMD-SHELL', tests[0][1]]
    else:
        test = ['CMD-SHELL', ' && '.join('( %s )' % script for _argv, script in tests)]
    return {
        'Test': test,
        'Interval': _seconds(min(entry.get('wait') or 0 for entry in entries), NANOSECONDS),
        'Timeout': _seconds(sum(entry.get('timeout') or 0 for entry in entries), NANOSECONDS),
        'Retries': max(max(entry.get('attempts') or 1 for entry in entries), 1),
        'StartPeriod': _seconds(max(entry.get('initial_delay') or 0 for entry in entries), MIN_HEALTH_DURATION),
    }


def ignored_liveness(app_doc):
    """One sentence per app.json liveness entry that no Docker HEALTHCHECK carries (uptime checks), for the run's
    warnings."""
    notes = []
    for ptype in ordered_types((((app_doc.get('app_json') or {}).get('healthchecks')) or {}).keys()):
        for entry in app_json_checks(app_doc, ptype, (LIVENESS,)):
            if entry_kind(entry) == UPTIME_CHECK:
                notes.append('the liveness check %r of %s in the app.json is an uptime check, which Docker cannot run '
                             'in a running container: it is ignored (uptime checks gate rollouts as startup or '
                             'readiness checks)' % (entry.get('name'), ptype))
    return notes
