# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module does around its operation: options, parse, connect, run, one-line failures.

The argument spec with the shared options (_options.py), the request and the shared options parsed before any
connection, the Docker client, state store and proxy of the run context, errors as one-line failures, the masked
-vvv invocation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dokku_ps.docker.plugins.module_utils._context import Context
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import Docker
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import require_sdk
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore


def build_module(argument_spec, **kwargs):
    """The AnsibleModule of a module of the collection: its own options, the Docker connection options,
    ``state_dir`` and the options of the nginx it drives for proxied apps (doc fragments dokku_ps.docker.docker,
    dokku_ps.docker.state_dir and dokku_ps.docker.nginx). Every module takes them all, so that ``module_defaults``
    of the action group can set them once."""
    required_together = list(options.REQUIRED_TOGETHER) + list(kwargs.pop('required_together', []))
    return AnsibleModule(argument_spec=options.argument_spec(argument_spec), supports_check_mode=True,
                         required_together=required_together, **kwargs)


def run(module, parse, operation):
    """Parse, connect, run ``operation(ctx, request)`` and exit with its result.

    ``parse(params)`` checks every parameter once and returns the typed request the operation takes (a
    ValidationError fails the task before Docker is even asked); ``operation`` returns a dict with ``changed``
    and optionally ``diff`` (shown in diff mode).
    """
    require_sdk(module)
    extra = {}
    # env values are masked in the invocation shown with -vvv, and taken out of Ansible's substring masking
    arguments, envs = redaction.invocation(module.params)
    if envs:
        redaction.release_from_ansible_masking(module, envs)
        extra['invocation'] = {'module_args': arguments}
    result = None
    ctx = None
    try:
        request = parse(module.params)
        shared = options.parse(module.params)
        docker = Docker(shared.docker)
        store = StateStore(shared.state_dir)
        proxy = ProxyRun(shared.proxy, check_mode=module.check_mode, run=module.run_command,
                         webroot=shared.acme.webroot)
        ctx = Context(docker, store, proxy, check_mode=module.check_mode, acme=shared.acme,
                      connect=lambda host: Docker(shared.docker._replace(host=host)))
        try:
            try:
                result = operation(ctx, request)
            except DokkuPsError as exc:
                # the apps that converged before another one failed still get their proxy config
                _finish_proxy(ctx, exc.details.get('result'))
                raise
            _finish_proxy(ctx, result)
        finally:
            ctx.close()
    except DokkuPsError as exc:
        # a multi-app run returns every app's outcome with its failure
        partial = dict(exc.details.get('result') or {})
        partial.pop('diff', None)
        partial.update(extra)
        module.fail_json(msg=str(exc), **partial)
    for warning in ctx.warnings:
        module.warn(warning)
    diff = result.pop('diff', None)
    if module._diff and diff is not None:
        result['diff'] = diff
    result.update(extra)
    module.exit_json(**result)


def _finish_proxy(ctx, result):
    """Apply the nginx configs the run queued (one reload for every app), and say in ``result`` which apps' configs
    changed (``proxy_changed``; check mode: would change), with their texts in the diff."""
    ctx.proxy.flush()
    if result is None or not ctx.proxy.changes:
        return
    apps = sorted(ctx.proxy.changes)
    result['proxy_changed'] = apps
    result['changed'] = True
    diff = result.get('diff')
    if diff is not None:
        diff.setdefault('before', {})['nginx'] = dict((app, ctx.proxy.changes[app]['before']) for app in apps)
        diff.setdefault('after', {})['nginx'] = dict((app, ctx.proxy.changes[app]['after']) for app in apps)
