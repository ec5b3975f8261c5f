# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes that run once: what a one-off is asked to run, what it answered, and how a failure is told. Pure.

Three things run a command once in an app's release, each in its own container that is never a web or worker
process (docs/oneoffs.md): the release phase of a deploy (``release``: app.json ``scripts.dokku.predeploy``, the
Procfile ``release`` command, ``scripts.dokku.postdeploy``), one-off runs of dokku_ps_run (``run``) and app.json
``cron`` entries (``cron``). The scheduler of the app runs them (_scheduler.AppScheduler.run_once); this file holds
what every scheduler shares: the request, the result, the command a request resolves to, and the words of a failure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import split_command

# the kinds of one-offs, as Dokku labels their containers (com.dokku.container-type)
RUN = 'run'
CRON = 'cron'
RELEASE = 'release'
KINDS = (RUN, CRON, RELEASE)

# the phases of a release, in the order they run around the rollout (Dokku's names)
PREDEPLOY = 'predeploy'
RELEASE_COMMAND = 'release'
POSTDEPLOY = 'postdeploy'
PHASES = (PREDEPLOY, RELEASE_COMMAND, POSTDEPLOY)

# The Procfile type that is the release phase's command, never a long-running process.
RELEASE_TYPE = 'release'

# Longest time a phase of the release may run (seconds) unless the app says otherwise; a one-off run's default.
DEFAULT_PHASE_TIMEOUT = 600
DEFAULT_RUN_TIMEOUT = 600
# How many of the last lines of its output a failure shows.
FAILURE_LINES = 20

# What to run once. ``kind``: RUN, CRON or RELEASE; ``command``: a string (split like a Procfile command; its first
# word may name a Procfile type, whose command it stands for, as ``dokku run`` does) or a list (the argv as given);
# None runs the image's own command. ``env``: extra variables (dokku_ps_run's ``env``). ``timeout``: seconds to wait
# for an attached one; ``detach``: start it and return its name; ``keep``: keep its container once it ended.
# ``phase``: the phase of a release; ``cron_id`` and ``concurrency``: a cron entry's id and policy.
Request = collections.namedtuple('Request', 'kind command env timeout detach keep phase cron_id concurrency')

# What a one-off did: its container's ``name``; ``status`` its exit status (None: detached, or stopped at its
# time limit: ``timed_out``); ``stdout``/``stderr`` the text it wrote (masked), empty for a detached one; ``kept``:
# its container is still there.
Result = collections.namedtuple('Result', 'name status stdout stderr timed_out kept')


def request(kind, command, env=None, timeout=DEFAULT_RUN_TIMEOUT, detach=False, keep=False, phase=None,
            cron_id=None, concurrency=None):
    if kind not in KINDS:
        raise ValueError('kind must be one of %s' % ', '.join(KINDS))
    return Request(kind, command, dict(env or {}), timeout, detach, keep, phase, cron_id, concurrency)


def argv(doc, command, env, field='command'):
    """The argv a one-off of the app ``doc`` runs: ``command`` split like a Procfile command with ``env`` (a
    list is taken as it is); when its first word is a process type of the app, that type's command with the
    other words after it (Dokku's ``run``). None: the image's own command. Raises ValidationError for a command
    that splits into nothing or has unbalanced quotes (never showing an env value)."""
    if command is None:
        return None
    if isinstance(command, (list, tuple)):
        if not command or not all(isinstance(word, str) for word in command):
            raise ValidationError(field, 'must be a non-empty string or list of strings')
        words = list(command)
    else:
        words = split_command(command, env, '', field=field)
    processes = doc.get('processes') or {}
    if words and words[0] in processes:
        words = split_command(processes[words[0]], env, '', process_type=words[0]) + words[1:]
    return words


def tail(text, lines=FAILURE_LINES):
    """The last ``lines`` lines of ``text``."""
    found = (text or '').rstrip('\n').splitlines()
    return found[-lines:]


def last_lines(result, lines=FAILURE_LINES):
    """The last ``lines`` lines a one-off wrote: its standard output's, then its standard error's."""
    return (tail(result.stdout, lines) + tail(result.stderr, lines))[-lines:]


def failure(app, what, result, timeout=None):
    """The one-line error of a one-off that failed (``what``: 'the predeploy script of release 3', ...): its exit
    status or its time limit, then the last lines of its output (already masked), joined with ' | '."""
    if result.timed_out:
        reason = 'did not finish within %d s and was stopped' % timeout
    else:
        reason = 'exited with status %s' % result.status
    output = last_lines(result)
    shown = ('; its last output: %s' % ' | '.join(output)) if output else '; it wrote no output'
    return 'app %s: %s %s%s' % (app, what, reason, shown)


def outcome(result):
    """What a result shows of a one-off (dokku_ps_run, the release phase)."""
    return {'container': result.name, 'rc': result.status, 'stdout': result.stdout, 'stderr': result.stderr,
            'stdout_lines': result.stdout.splitlines(), 'stderr_lines': result.stderr.splitlines(),
            'timed_out': result.timed_out, 'kept': result.kept}
