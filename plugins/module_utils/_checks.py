# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that gate a rollout: a new container must pass them before the old one is retired.

Per process type (``dokku_ps_app``'s ``checks`` option, else for ``web`` the image's CHECKS file, else the
default): an uptime check (the container stays up, without restarting, for N seconds), a command run inside
the container (exit status 0), and for ``web`` HTTP checks (path, expected content, Host header, TLS).
``mode`` is ``enabled``, ``skipped`` (no checks, still zero-downtime) or ``disabled`` (Dokku's meaning: the
old container is stopped before the new one starts).

Waiting is done on Docker's event stream (``die``/``restart``/``oom`` of the new container end a wait at
once), never with a blind sleep.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import http.client
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


def effective(doc, ptype):
    """The checks a new container of ``ptype`` must pass: the app's own, else (web) the image's CHECKS file,
    else Dokku's default (still up after 10 s). Defaults filled in."""
    config = dict(((doc.get('checks') or {}).get(ptype)) or {})
    source = 'checks option'
    if not config and ptype == specs.WEB and doc.get('image_checks'):
        config = dict(doc['image_checks'])
        source = 'CHECKS file in the image'
    if not config:
        source = 'default'
    config.setdefault('mode', 'enabled')
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    if config.get('uptime') is None and not config.get('http') and not config.get('command'):
        config['uptime'] = DEFAULT_UPTIME
    config['source'] = source
    return config


@contextlib.contextmanager
def _no_slot_to_give():
    yield


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
            if config.get('http') or config.get('command'):
                self._wait(container_id, spec, config['wait'])
                for check in config.get('http') or []:
                    self._attempts(container_id, spec, config, lambda: self._http(container_id, spec, config, check),
                                   'GET %s' % check['path'])
                if config.get('command'):
                    self._attempts(container_id, spec, config, lambda: self._command(container_id, config),
                                   'command %s' % ' '.join(config['command']))
            if config.get('uptime'):
                remaining = config['uptime'] - (time.time() - started)
                self._wait(container_id, spec, remaining)
            require_running(docker, container_id, spec)
        except CheckFailed as exc:
            raise CheckFailed('%s (checks from the %s)%s' % (exc, config['source'], self._log_tail(container_id)))

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

    def _wait(self, container_id, spec, seconds):
        """Wait ``seconds`` on the container's event stream; fail at once if it dies or restarts."""
        if seconds <= 0:
            return
        with self.idle():
            events = self.docker.container_events(container_id, seconds, ('die', 'oom', 'restart'))
        if events:
            what = 'restarted' if events[0] == 'restart' else 'died'
            raise CheckFailed('%s %s while its checks ran' % (spec['name'], what))

    def _attempts(self, container_id, spec, config, attempt, what):
        problem = None
        for number in range(1, config['attempts'] + 1):
            problem = attempt()
            if problem is None:
                return
            if number < config['attempts']:
                self._wait(container_id, spec, RETRY_PAUSE)
        raise CheckFailed('%s failed its check %s after %d attempt(s): %s'
                          % (spec['name'], what, config['attempts'], problem))

    def _address(self, container_id, spec):
        data = self.docker.inspect_container(container_id) or {}
        settings = data.get('NetworkSettings') or {}
        port = spec['ports']['container'] if spec.get('ports') else (self.doc.get('web_port') or specs.DEFAULT_WEB_PORT)
        bindings = (settings.get('Ports') or {}).get('%s/tcp' % port) or []
        for binding in bindings:
            if binding.get('HostPort'):
                return '127.0.0.1', int(binding['HostPort'])
        for network in (settings.get('Networks') or {}).values():
            if network.get('IPAddress'):
                return network['IPAddress'], port
        return None, port

    def _http(self, container_id, spec, config, check):
        """None when the check passes, else what went wrong."""
        host, port = self._address(container_id, spec)
        if host is None:
            return 'the container has no address on a Docker network and no published port'
        if check['scheme'] == 'https':
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection = http.client.HTTPSConnection(host, port, timeout=config['timeout'], context=context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=config['timeout'])
        headers = {'Host': check['host']} if check['host'] else {}
        try:
            with self.idle():  # talks to the container, not to the daemon
                connection.request('GET', check['path'], headers=headers)
                response = connection.getresponse()
                body = response.read(1024 * 1024).decode('utf-8', errors='replace')
        except (OSError, http.client.HTTPException) as exc:
            return 'no answer from %s:%s (%s)' % (host, port, self.redactor.text(str(exc)))
        finally:
            connection.close()
        if response.status >= 400:
            return 'HTTP %d from %s:%s%s' % (response.status, host, port, check['path'])
        if check['content'] and check['content'] not in body:
            return 'the response does not contain %r' % check['content']
        return None

    def _command(self, container_id, config):
        outcome = {}

        def run():
            try:
                outcome['result'] = self.docker.exec_run(container_id, config['command'])
            except DockerError as exc:
                outcome['error'] = str(exc)

        thread = threading.Thread(target=run)
        thread.daemon = True
        thread.start()
        thread.join(config['timeout'])
        if thread.is_alive():
            return 'no result within %d s' % config['timeout']
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
