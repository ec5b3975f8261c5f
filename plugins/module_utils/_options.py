# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options every module shares (Docker connection, state_dir, the nginx it drives), parsed once into RunOptions.

Every module takes them all (doc fragments dokku_ps.docker.docker, dokku_ps.docker.state_dir and
dokku_ps.docker.nginx), so that ``module_defaults`` of the action group set them once. The runner parses them into a
RunOptions before it connects; nothing below it reads the module's parameters.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import (
    DOCKER_COMMON_ARGS, DOCKER_REQUIRED_TOGETHER, docker_options)
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyOptions
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_addresses import DEFAULT_SUBNET, pick_addresses
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_config import validate_listen_address
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import resolve_state_dir

# Let's Encrypt's production CA, where the ACME options lead by default (docs/tls.md).
DEFAULT_ACME_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory'
DEFAULT_ACME_WEBROOT = '/var/lib/dokku-ps-acme'
DEFAULT_ACME_TIMEOUT = 120

# Where the desired state lives on the managed host (doc fragment dokku_ps.docker.state_dir).
STATE_ARGS = dict(state_dir=dict(type='path'))

# Which nginx is driven and how it listens (doc fragment dokku_ps.docker.nginx).
NGINX_ARGS = dict(
    nginx_binary=dict(type='path', default=nginx.DEFAULT_BINARY),
    nginx_conf=dict(type='path', default=nginx.DEFAULT_CONF),
    nginx_include_dir=dict(type='path', default=nginx.DEFAULT_INCLUDE_DIR),
    nginx_pid_file=dict(type='path', default=nginx.DEFAULT_PID_FILE),
    nginx_prefix=dict(type='path'),
    proxy_listen_address=dict(type='str'),
    proxy_subnet=dict(type='str', default=DEFAULT_SUBNET),
    acme_directory=dict(type='str', default=DEFAULT_ACME_DIRECTORY),
    acme_email=dict(type='str'),
    acme_ca_bundle=dict(type='path'),
    acme_webroot=dict(type='path', default=DEFAULT_ACME_WEBROOT),
    acme_timeout=dict(type='int', default=DEFAULT_ACME_TIMEOUT),
)

REQUIRED_TOGETHER = DOCKER_REQUIRED_TOGETHER

# The shared options of one run: ``docker`` (a _docker_connection.DockerOptions), ``state_dir`` (resolved),
# ``proxy`` (a _proxy.ProxyOptions), ``acme`` (an AcmeOptions).
RunOptions = collections.namedtuple('RunOptions', 'docker state_dir proxy acme')

# The ACME CA of a run (docs/tls.md): its directory URL, the account's contact address (None: none), the CA bundle
# its HTTPS server is verified against (None: the system's), the webroot of the http-01 challenges, and the seconds
# one issuance may take.
AcmeOptions = collections.namedtuple('AcmeOptions', 'directory email ca_bundle webroot timeout')


def argument_spec(own):
    """A module's argument spec: its ``own`` options, and every shared one."""
    spec = dict((key, dict(value)) for key, value in DOCKER_COMMON_ARGS.items())
    spec.update((key, dict(value)) for key, value in STATE_ARGS.items())
    spec.update((key, dict(value)) for key, value in NGINX_ARGS.items())
    spec.update(own)
    return spec


def proxy_options(params):
    """The nginx options of a module's parameters, checked (a one-line refusal naming the option)."""
    listen_address = validate_listen_address(params.get('proxy_listen_address'), 'proxy_listen_address')
    subnet = params.get('proxy_subnet')
    if subnet is not None:
        try:
            pick_addresses(subnet, ())
        except (ValueError, TypeError):
            raise ValidationError('proxy_subnet', 'must be an IPv4 network such as %s' % DEFAULT_SUBNET)
    return ProxyOptions(binary=params.get('nginx_binary') or nginx.DEFAULT_BINARY,
                        conf=params.get('nginx_conf') or nginx.DEFAULT_CONF,
                        include_dir=params.get('nginx_include_dir') or nginx.DEFAULT_INCLUDE_DIR,
                        pid_file=params.get('nginx_pid_file') or nginx.DEFAULT_PID_FILE,
                        prefix=params.get('nginx_prefix'), listen_address=listen_address,
                        subnet=subnet or DEFAULT_SUBNET)


def acme_options(params):
    """The ACME options of a module's parameters, checked (a one-line refusal naming the option)."""
    directory = params.get('acme_directory') or DEFAULT_ACME_DIRECTORY
    if not directory.startswith('https://') or any(char.isspace() for char in directory):
        raise ValidationError('acme_directory', 'must be an https:// URL (the ACME directory of the CA)')
    email = params.get('acme_email') or None
    if email is not None and (email.count('@') != 1 or any(char.isspace() or char in ',;<>' for char in email)):
        raise ValidationError('acme_email', 'must be one e-mail address')
    timeout = params.get('acme_timeout')
    timeout = DEFAULT_ACME_TIMEOUT if timeout is None else timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 10:
        raise ValidationError('acme_timeout', 'must be a number of seconds, 10 or more')
    return AcmeOptions(directory=directory, email=email, ca_bundle=params.get('acme_ca_bundle') or None,
                       webroot=params.get('acme_webroot') or DEFAULT_ACME_WEBROOT, timeout=timeout)


def parse(params):
    """A module's parameters -> RunOptions, every shared option checked once."""
    proxy = proxy_options(params)
    return RunOptions(docker=docker_options(params), state_dir=resolve_state_dir(params.get('state_dir')), proxy=proxy,
                      acme=acme_options(params))
