# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_run's operation: run a command once in an app's current release (Dokku's ``run`` and ``run:detached``).

The one-off gets the release's image and env (with the task's ``env`` on top and ``DYNO=run.<n>``), the app's
network (the proxy's when the app is proxied), and is named and labelled as the app's one-off (docs/oneoffs.md).
Attached, the task waits for it up to ``timeout`` and returns its exit status and output (env values masked); a
status other than 0 fails the task, as ansible.builtin.command does. Detached, the task returns its container's
name at once. Like ansible.builtin.command it is not idempotent: it runs, and reports a change, every time (guard it
with ``when:`` where a command must run once).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _validation as validation

RunRequest = collections.namedtuple('RunRequest', 'app command env timeout detach keep')


def parse(params):
    """The module's parameters -> a RunRequest, every value checked before anything is asked of Docker."""
    validate_app_name(params['app'], 'app')
    command = params['command']
    if isinstance(command, list):
        if not command or not all(isinstance(word, str) and word for word in command):
            raise ValidationError('command', 'a list must hold at least one word, each a non-empty string')
    elif not isinstance(command, str) or not command.strip():
        raise ValidationError('command', 'must be a non-empty string or a list of words')
    env = validation.validate_env(params['env']) if params.get('env') else {}
    timeout = params['timeout']
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ValidationError('timeout', '%r is not a number of seconds of 1 or more' % (timeout,))
    return RunRequest(params['app'], command, env, timeout, params['detach'], params['keep'])


def run(ctx, req):
    """dokku_ps_run."""
    doc = definitions.read_defined_app(ctx, req.app)
    if not doc.get('deployed'):
        raise ValidationError('app', 'app %s has not been deployed: a one-off runs in its current release, and it has '
                              'none running yet (deploy it first)' % req.app)
    ctx.redactor.add_env(req.env)
    env = dict(doc.get('env') or {})
    env.update(req.env)
    # the command is split now, so a bad one is refused before anything runs
    argv = oneoff.argv(doc, req.command, env)
    release = releases.current_number(doc)
    if ctx.check_mode:
        outcome = results.app_outcome(req.app, 'changed', release=release, run={'argv_words': len(argv)})
        return results.one_app(outcome)
    found = ctx.scheduler(doc).run_once(doc, oneoff.request(oneoff.RUN, req.command, env=req.env, timeout=req.timeout,
                                                            detach=req.detach, keep=req.keep))
    shown = oneoff.outcome(found)
    outcome = results.one_app(results.app_outcome(req.app, 'changed', release=release, run=shown))
    outcome.update(stdout=found.stdout, stderr=found.stderr, stdout_lines=shown['stdout_lines'],
                   stderr_lines=shown['stderr_lines'], container=found.name)
    if found.status is not None:
        # Ansible fails any task whose rc is not 0, so a detached one (no status yet) returns none
        outcome['rc'] = found.status
    if found.timed_out:
        raise DokkuPsError('app %s: the one-off %s did not finish within %d s and was stopped'
                           % (req.app, found.name, req.timeout), result=outcome)
    if not req.detach and found.status != 0:
        raise DokkuPsError('app %s: the one-off %s exited with status %s' % (req.app, found.name, found.status),
                           result=outcome)
    return outcome
