# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checker: runs the checks that gate a rollout on a new container (docker-local), before the old one retires.

What runs comes from _check_rules.effective: the option's own checks, the CHECKS file's or the default (uptime,
command, HTTP), or the app.json's startup and readiness entries one after the other, each with its own settings
(HTTP, command, uptime and listening checks). A new web container that listens on TCP ports but not on its own port
fails the default check; when an HTTP check gets no answer, the failure says which ports the container listens on
(read from /proc/net/tcp{,6} inside it, _listening.py).

Waiting is done on Docker's event stream (``die``/``restart``/``oom`` of the new container end a wait at
once), never with a blind sleep.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import functools
import http.client
import ssl
import threading
import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _check_rules as rules
from ansible_collections.dokku_ps.docker.plugins.module_utils import _health as health
from ansible_collections.dokku_ps.docker.plugins.module_utils._listening import (
    READ_LISTENING_COMMANDS, listening_problem, parse_listening, reachable_ports)
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import WEB
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor

RETRY_PAUSE = 1
LOG_LINES = 10


class CheckFailed(DockerError):
    """A new container did not pass its checks (the message has the check's output and the log tail)."""


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
        return rules.effective(self.doc, spec['process_type'])

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
            if config['source'] == rules.APP_JSON_SOURCE:
                for entry in config['entries']:
                    self._entry(container_id, spec, entry, started)
            else:
                self._own(container_id, spec, config, started)
            require_running(docker, container_id, spec)
        except CheckFailed as exc:
            raise CheckFailed('%s (checks from the %s)%s'
                              % (exc, rules.describe_source(config), self._log_tail(container_id)))

    def _own(self, container_id, spec, config, started):
        """The checks of the option, the CHECKS file or the default."""
        port = health.check_port(self.doc, spec['process_type'])
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
        if config['source'] == rules.DEFAULT_SOURCE and spec['process_type'] == WEB:
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
        kind = health.entry_kind(entry)
        if kind == health.UPTIME_CHECK:
            self._wait(container_id, spec, entry['uptime'] - (time.time() - started), during)
            return
        self._wait(container_id, spec, entry.get('initial_delay') or 0, during)
        port = health.check_port(self.doc, ptype, entry.get('port'))
        timeout = entry.get('timeout') or rules.DEFAULTS['timeout']
        explain_port = None
        if kind == health.COMMAND_CHECK:
            what = 'command %s' % _one_line(' '.join(entry['command']))
            attempt = functools.partial(self._command, container_id, entry['command'], timeout)
        elif kind == health.LISTENING_CHECK:
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
