# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that gate a rollout: a new container must pass them before the old one is retired.

Per process type (docs/decisions.md, "Checks: where they come from"): ``dokku_ps_app``'s ``checks`` option when
it defines checks, else the app.json's startup and readiness entries, else for ``web`` the image's CHECKS file,
else the default. The option's checks and the CHECKS file: an uptime check (the container stays up, without
restarting, for N seconds), a command run inside the container (exit status 0), and for ``web`` HTTP checks
(path, expected content, Host header, TLS). App.json entries run one after the other, each with its own
settings: HTTP (any type), command, uptime and listening checks. ``mode`` is ``enabled``, ``skipped`` (no checks,
still zero-downtime) or ``disabled`` (Dokku's meaning: the old container is stopped before the new one starts),
whatever the source.

A new web container that listens on TCP ports but not on its own port fails the default check; when an HTTP check
gets no answer, the failure says which ports the container listens on (read from /proc/net/tcp{,6} inside it).

Waiting is done on Docker's event stream (``die``/``restart``/``oom`` of the new container end a wait at
once), never with a blind sleep.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import functools
import http.client
import ipaddress
import ssl
import threading
import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_process_type
from ansible_collections.dokku_ps.docker.plugins.module_utils import _parsers as parsers
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation

MODES = ('enabled', 'skipped', 'disabled')
DEFAULT_UPTIME = 10           # Dokku's default check: the container is still up after 10 s
DEFAULTS = {'wait': 5, 'timeout': 30, 'attempts': 5}   # Dokku's CHECKS defaults (WAIT, TIMEOUT, ATTEMPTS)
RETRY_PAUSE = 1
LOG_LINES = 10
KEYS = ('mode', 'uptime', 'wait', 'timeout', 'attempts', 'http', 'command')


class CheckFailed(DockerError):
    """A new container did not pass its checks (the message has the check's output and the log tail)."""


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
            if ptype != specs.WEB:
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
                if specs.text_bytes(part) > specs.MAX_STRING_BYTES:
                    raise ValidationError('%s.command' % where, '%s is %d bytes; one argument may be at most %d bytes '
                                          '(Linux MAX_ARG_STRLEN; the value is not shown)'
                                          % (word, specs.text_bytes(part), specs.MAX_STRING_BYTES))
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
    entries = specs.app_json_checks(doc, ptype, specs.GATING_CHECK_TYPES)
    settings = dict((key, option[key]) for key in ('mode', 'wait', 'timeout', 'attempts') if key in option)
    if defines_checks(option):
        config, source = option, OPTION_SOURCE
    elif entries:
        config = {'mode': option.get('mode') or 'enabled', 'entries': entries}
        source = APP_JSON_SOURCE
        config['app_json'] = (doc.get('app_json') or {}).get('source')
    elif ptype == specs.WEB and doc.get('image_checks'):
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


# app.json liveness entries -> the container's Docker HEALTHCHECK: the mapping lives in _specs, since build_spec puts
# it on the container spec and _specs sits below this file; the same function under this name
docker_healthcheck = specs.docker_healthcheck


def _describe_source(config):
    """Where the checks came from, for the end of a failure: "checks from the <this>"."""
    if config['source'] == APP_JSON_SOURCE and config.get('app_json'):
        return '%s: %s' % (APP_JSON_SOURCE, config['app_json'])
    return config['source']


# -- the ports a container listens on (Dokku's port-listening check) ---------------------------------------------

# TCP_LISTEN in the "st" column of /proc/net/tcp and /proc/net/tcp6
_LISTEN = '0A'


# what reads the two tables inside a container: ``cat``, else the shell's own ``read`` (an image without cat)
READ_LISTENING_COMMANDS = (
    ['cat', '/proc/net/tcp', '/proc/net/tcp6'],
    ['/bin/sh', '-c', 'for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] || continue; '
     'while IFS= read -r line; do printf "%s\\n" "$line"; done < "$f"; done'],
)


def _proc_address(text):
    """The address of a /proc/net/tcp{,6} line as text: the kernel prints each 32-bit word in the host's byte
    order (little-endian on the platforms Docker runs on)."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    if len(raw) not in (4, 16):
        return None
    swapped = b''.join(raw[at:at + 4][::-1] for at in range(0, len(raw), 4))
    address = ipaddress.ip_address(swapped)
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def parse_listening(text):
    """The (address, port) pairs of the listening TCP sockets (state 0A) in the text of /proc/net/tcp and
    /proc/net/tcp6 (both may follow each other; lines that are no socket are skipped), sorted, without repeats.
    None when the text holds no such table (nothing could be read)."""
    found = set()
    table = False
    for line in (text or '').splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == 'sl' and fields[1] == 'local_address':
            table = True
            continue
        if len(fields) < 4 or not fields[0].endswith(':') or ':' not in fields[1] or fields[3] != _LISTEN:
            continue
        address, _sep, port = fields[1].rpartition(':')
        address = _proc_address(address)
        try:
            number = int(port, 16)
        except ValueError:
            continue
        if address is not None:
            found.add((address, number))
    if not table:
        return None
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


def _loopback(address):
    return ipaddress.ip_address(address).is_loopback


def reachable_ports(sockets):
    """The ports of ``sockets`` that listen on an address other than loopback (reachable from outside)."""
    return sorted(set(port for address, port in sockets if not _loopback(address)))


def _ports_text(ports):
    return ','.join(str(port) for port in ports) or 'none'


def listening_problem(sockets, expected):
    """Why ``sockets`` (parse_listening) fail a check that ``expected`` is listened on from outside the container,
    or None: unreadable, nothing listening, other ports only (Dokku's "expected=5000 actual=5001"), or the
    loopback address only."""
    if sockets is None:
        return 'could not read the listening ports'
    ports = sorted(set(port for _address, port in sockets))
    if not ports:
        return 'it listens on no TCP port: expected=%d actual=none' % expected
    if expected not in ports:
        return 'listening on unexpected port(s): expected=%d actual=%s' % (expected, _ports_text(ports))
    if expected not in reachable_ports(sockets):
        loopback = sorted(address for address, port in sockets if port == expected)
        return ('it listens on port %d on the loopback address only (%s), which nothing outside the container '
                'reaches' % (expected, ', '.join(loopback)))
    return None


@contextlib.contextmanager
def _no_slot_to_give():
    yield


class _Problem(str):
    """What went wrong in one attempt; ``unanswered`` when the container did not answer at all (refused, reset,
    timed out), which is when the ports it listens on are worth telling."""
    unanswered = False


def _unanswered(text):
    problem = _Problem(text)
    problem.unanswered = True
    return problem


def _one_line(text):
    return text.replace('\r', '\\r').replace('\n', '\\n')


class Checker(object):
    """Runs the checks of new containers of one app (the executor calls it)."""

    def __init__(self, docker, doc, idle=None, redactor=None):
        self.docker = docker
        self.doc = doc
        # a context manager around waits that need no slot of the run's ActionPool (its ``idle``)
        self.idle = idle or _no_slot_to_give
        # masks the app's secrets in what the container says (its log, a check command's output); the messages
        # of the checks themselves are the collection's own words and are never masked
        self.redactor = redactor or Redactor(env=doc.get('env'))

    def config(self, spec):
        return effective(self.doc, spec['process_type'])

    def stop_first(self, spec):
        """True when the old container must go before the new one starts: checks disabled (Dokku), or a fixed
        host port that two containers cannot hold at once."""
        fixed_port = bool(spec.get('ports') and spec['ports'].get('host'))
        return self.config(spec)['mode'] == 'disabled' or fixed_port

    def __call__(self, docker, container_id, spec):
        config = self.config(spec)
        if config['mode'] != 'enabled':
            require_running(docker, container_id, spec)
            return
        started = time.time()
        try:
            if config['source'] == APP_JSON_SOURCE:
                for entry in config['entries']:
                    self._entry(container_id, spec, entry, started)
            else:
                self._own(container_id, spec, config, started)
            require_running(docker, container_id, spec)
        except CheckFailed as exc:
            raise CheckFailed('%s (checks from the %s)%s'
                              % (exc, _describe_source(config), self._log_tail(container_id)))

    def _own(self, container_id, spec, config, started):
        """The checks of the option, the CHECKS file or the default."""
        port = specs.check_port(self.doc, spec['process_type'])
        if config.get('http') or config.get('command'):
            self._wait(container_id, spec, config['wait'])
            for check in config.get('http') or []:
                self._attempts(container_id, spec, config['attempts'], RETRY_PAUSE,
                               functools.partial(self._http, container_id, spec, check, config['timeout'], port),
                               'check GET %s' % check['path'], port=port)
            if config.get('command'):
                self._attempts(container_id, spec, config['attempts'], RETRY_PAUSE,
                               functools.partial(self._command, container_id, config['command'], config['timeout']),
                               'check command %s' % ' '.join(config['command']))
        if config.get('uptime'):
            remaining = config['uptime'] - (time.time() - started)
            self._wait(container_id, spec, remaining)
        if config['source'] == DEFAULT_SOURCE and spec['process_type'] == specs.WEB:
            self._default_listening(container_id, spec, port)

    def _default_listening(self, container_id, spec, port):
        """Dokku's port-listening check, as a gate of the default check of web: a container that listens on ports
        reachable from outside, none of them its own port, fails. One that listens on nothing (a web process
        that is not a server), or whose ports cannot be read, passes as before."""
        sockets = self._listening_sockets(container_id)
        if not sockets:
            return
        if reachable_ports(sockets) and port not in set(number for _address, number in sockets):
            raise CheckFailed('%s is %s' % (spec['name'], listening_problem(sockets, port)))

    def _entry(self, container_id, spec, entry, started):
        """One app.json entry, with its own initial delay, attempts, wait between attempts, timeout and port."""
        ptype = spec['process_type']
        label = '%s check %r' % (entry.get('type'), entry.get('name'))
        during = 'its %s' % label
        kind = specs.entry_kind(entry)
        if kind == specs.UPTIME_CHECK:
            self._wait(container_id, spec, entry['uptime'] - (time.time() - started), during)
            return
        self._wait(container_id, spec, entry.get('initial_delay') or 0, during)
        port = specs.check_port(self.doc, ptype, entry.get('port'))
        timeout = entry.get('timeout') or DEFAULTS['timeout']
        explain_port = None
        if kind == specs.COMMAND_CHECK:
            what = 'command %s' % _one_line(' '.join(entry['command']))
            attempt = functools.partial(self._command, container_id, entry['command'], timeout)
        elif kind == specs.LISTENING_CHECK:
            what = 'listening on port %d' % port
            attempt = functools.partial(self._listening_check, container_id, port)
        else:
            check = {'path': entry.get('path') or '/', 'content': entry.get('content') or None, 'host': None,
                     'scheme': entry.get('scheme') or 'http'}
            what = 'GET %s%s on port %d' % ('https ' if check['scheme'] == 'https' else '', check['path'], port)
            attempt = functools.partial(self._http, container_id, spec, check, timeout, port)
            explain_port = port
        self._attempts(container_id, spec, entry.get('attempts') or 1, entry.get('wait') or 0, attempt,
                       '%s (%s)' % (label, what), during, port=explain_port)

    def _listening_check(self, container_id, port):
        return listening_problem(self._listening_sockets(container_id), port)

    # -- pieces ------------------------------------------------------------------------------------------------

    def _log_tail(self, container_id):
        try:
            text = self.docker.logs_tail(container_id, LOG_LINES)
        except DockerError:
            return ''
        # masked as a whole before it is cut into lines: a multi-line secret is then masked whole too
        lines = [line.strip() for line in self.redactor.text('\n'.join(text)).splitlines() if line.strip()]
        if not lines:
            return '; the container logged nothing'
        return '; last log lines: %s' % ' | '.join(lines)

    def _wait(self, container_id, spec, seconds, during='its checks'):
        """Wait ``seconds`` on the container's event stream; fail at once if it dies or restarts."""
        if seconds <= 0:
            return
        with self.idle():
            events = self.docker.container_events(container_id, seconds, ('die', 'oom', 'restart'))
        if events:
            what = 'restarted' if events[0] == 'restart' else 'died'
            raise CheckFailed('%s %s while %s ran' % (spec['name'], what, during))

    def _attempts(self, container_id, spec, attempts, pause, attempt, what, during='its checks', port=None):
        """Up to ``attempts`` tries of ``attempt`` with ``pause`` seconds between them. An HTTP check (``port``)
        that never got an answer says which ports the container listens on."""
        problem = None
        for number in range(1, attempts + 1):
            problem = attempt()
            if problem is None:
                return
            if number < attempts:
                self._wait(container_id, spec, pause, during)
        if port is not None and getattr(problem, 'unanswered', False):
            note = listening_problem(self._listening_sockets(container_id), port)
            if note:
                problem = '%s; %s' % (problem, note)
        raise CheckFailed('%s failed its %s after %d attempt(s): %s' % (spec['name'], what, attempts, problem))

    def _listening_sockets(self, container_id):
        """The listening TCP sockets of a running container (parse_listening), read inside it through the exec
        API; None when nothing could read them (no ``cat`` and no shell in the image, or the container stopped)."""
        for command in READ_LISTENING_COMMANDS:
            try:
                _exit_code, output = self.docker.exec_run(container_id, command)
            except DockerError:
                return None
            # a missing /proc/net/tcp6 (IPv6 off) makes cat exit 1 after printing the IPv4 table
            sockets = parse_listening(output)
            if sockets is not None:
                return sockets
        return None

    def _address(self, container_id, spec, port):
        """Where a check reaches ``port`` of the container: the published host port on 127.0.0.1 when that port
        is published, else the container's address on its Docker network."""
        data = self.docker.inspect_container(container_id) or {}
        settings = data.get('NetworkSettings') or {}
        if spec.get('ports') and spec['ports']['container'] == port:
            bindings = (settings.get('Ports') or {}).get('%s/tcp' % port) or []
            for binding in bindings:
                if binding.get('HostPort'):
                    return '127.0.0.1', int(binding['HostPort'])
        for network in (settings.get('Networks') or {}).values():
            if network.get('IPAddress'):
                return network['IPAddress'], port
        return None, port

    def _http(self, container_id, spec, check, timeout, port):
        """None when the check passes, else what went wrong."""
        host, port = self._address(container_id, spec, port)
        if host is None:
            return 'the container has no address on a Docker network and no published port'
        if check['scheme'] == 'https':
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        headers = {'Host': check['host']} if check['host'] else {}
        try:
            with self.idle():  # talks to the container, not to the daemon
                connection.request('GET', check['path'], headers=headers)
                response = connection.getresponse()
                body = response.read(1024 * 1024).decode('utf-8', errors='replace')
        except (OSError, http.client.HTTPException) as exc:
            return _unanswered('no answer from %s:%s (%s)' % (host, port, self.redactor.text(str(exc))))
        finally:
            connection.close()
        if response.status >= 400:
            return 'HTTP %d from %s:%s%s' % (response.status, host, port, check['path'])
        if check['content'] and check['content'] not in body:
            return 'the response does not contain %r' % check['content']
        return None

    def _command(self, container_id, command, timeout):
        outcome = {}

        def run():
            try:
                outcome['result'] = self.docker.exec_run(container_id, command)
            except DockerError as exc:
                outcome['error'] = str(exc)

        thread = threading.Thread(target=run)
        thread.daemon = True
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            return 'no result within %d s' % timeout
        if 'error' in outcome:
            return outcome['error']
        exit_code, output = outcome['result']
        if exit_code != 0:
            tail = ' '.join(self.redactor.text(output).strip().splitlines()[-3:])
            return 'exit status %s%s' % (exit_code, (': %s' % tail) if tail else '')
        return None


def require_running(docker, container_id, spec):
    """The minimal check of every new container: it runs (not exited, not restarting)."""
    data = docker.inspect_container(container_id)
    state = (data or {}).get('State') or {}
    if not state.get('Running') or state.get('Restarting'):
        raise CheckFailed('%s did not stay up after start (status %s, exit code %s)'
                          % (spec['name'], state.get('Status', 'missing'), state.get('ExitCode')))
