# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proxy work of one run: addresses for new web containers, and each app's nginx config kept in step.

The run context holds one ``ProxyRun``. A rollout that retires, removes or stops web containers of a proxied
app switches the app's config at once (``switch``: one reload, before the old containers stop); everything else
a run changes (new or started containers, settings, a config that drifted) is queued (``sync``) and applied
together at the end of the run (``flush``: one reload for all apps). A run that changes nothing writes no file
and sends no reload. docs/proxy.md tells the whole story.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx
from ansible_collections.dokku_ps.docker.plugins.module_utils import _planner as planner
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs

DEFAULT_WAIT_TO_RETIRE = 10
NETWORK_LABEL = 'io.dokku-ps.network'
# how many times a web container is created again when another run took its address meanwhile
ADDRESS_ATTEMPTS = 5

# The module options that say which nginx is driven and how it listens (doc fragment dokku_ps.docker.nginx).
NGINX_ARGS = dict(
    nginx_binary=dict(type='path', default=nginx.DEFAULT_BINARY),
    nginx_conf=dict(type='path', default=nginx.DEFAULT_CONF),
    nginx_include_dir=dict(type='path', default=nginx.DEFAULT_INCLUDE_DIR),
    nginx_pid_file=dict(type='path', default=nginx.DEFAULT_PID_FILE),
    nginx_prefix=dict(type='path'),
    proxy_listen_address=dict(type='str'),
    proxy_subnet=dict(type='str', default=proxy_config.DEFAULT_SUBNET),
)


def enabled(doc):
    return bool(((doc or {}).get('proxy') or {}).get('enabled'))


def settings(doc):
    """(mappings, domains, seconds to wait before retiring) of an app whose proxy is on."""
    proxy = (doc or {}).get('proxy') or {}
    web_port = doc.get('web_port') or specs.DEFAULT_WEB_PORT
    mappings = proxy_config.parse_mappings(proxy.get('ports'), web_port, 'proxy_ports')
    domains = proxy_config.parse_domains(proxy.get('domains') or [], 'domains')
    wait = proxy.get('wait_to_retire')
    return mappings, domains, DEFAULT_WAIT_TO_RETIRE if wait is None else wait


def upstream_members(text):
    """The ``address:port`` members of the upstreams of an app's live config (none when it has no members)."""
    found = set()
    for line in (text or '').splitlines():
        line = line.strip()
        if line.startswith('server ') and line.endswith(';'):
            found.add(line[len('server '):-1].strip())
    return sorted(found)


def check_conflicts(doc, others):
    """Refuse proxy settings that share a host port + domain with another app's (``others``: their documents)."""
    if not enabled(doc):
        return
    mappings, domains, _wait = settings(doc)
    taken = dict((other['name'], settings(other)[:2]) for other in others
                 if other and other.get('name') != doc['name'] and enabled(other))
    proxy_config.check_conflicts(doc['name'], mappings, domains, taken, field='proxy_ports')


def members(app, summaries, exclude=()):
    """The addresses on the proxy network of the app's web containers that run (Docker's restarting counts:
    Docker brings it back at the same address), the ones being brought up included, without ``exclude`` (ids
    of containers about to be retired or stopped)."""
    found = []
    for summary in summaries:
        if summary.get('Id') in exclude or summary.get('State') not in ('running', 'restarting'):
            continue
        if (summary.get('Labels') or {}).get(specs.LABEL_APP) != app:
            continue  # a foreign container on one of the app's names is never a member
        parsed = None
        for name in summary.get('Names') or []:
            parsed = specs.parse_container_name(app, name)
            if parsed is not None:
                break
        if parsed is None or parsed[0] != specs.WEB:
            continue
        endpoint = ((summary.get('NetworkSettings') or {}).get('Networks') or {}).get(specs.PROXY_NETWORK) or {}
        address = (endpoint.get('IPAMConfig') or {}).get('IPv4Address') or endpoint.get('IPAddress')
        if address:
            found.append(address)
    return sorted(set(found))


class ProxyRun(object):
    """The proxy work of one module run (see the module docstring). Thread-safe."""

    def __init__(self, docker, params, check_mode=False, run=None):
        self.docker = docker
        self.check_mode = check_mode
        params = params or {}
        self.listen_address = proxy_config.validate_listen_address(params.get('proxy_listen_address'))
        self.subnet = params.get('proxy_subnet') or proxy_config.DEFAULT_SUBNET
        self.nginx = nginx.Nginx(include_dir=params.get('nginx_include_dir') or nginx.DEFAULT_INCLUDE_DIR,
                                 binary=params.get('nginx_binary') or nginx.DEFAULT_BINARY,
                                 conf=params.get('nginx_conf') or nginx.DEFAULT_CONF,
                                 pid_file=params.get('nginx_pid_file') or nginx.DEFAULT_PID_FILE,
                                 prefix=params.get('nginx_prefix'), run=run)
        self._lock = threading.Lock()
        self._used = None
        self._pending = {}
        # app -> the config change applied or predicted by this run ({'before', 'after'})
        self.changes = {}

    # -- addresses ----------------------------------------------------------------------------------------------

    def _load(self):
        """The proxy network (created when missing) and every address on it, running containers or not."""
        data = self.docker.inspect_network(specs.PROXY_NETWORK)
        if data is None:
            self.docker.create_network(specs.PROXY_NETWORK, self.subnet, proxy_config.DEFAULT_DYNAMIC_RANGE,
                                       {NETWORK_LABEL: 'proxy'})
            data = self.docker.inspect_network(specs.PROXY_NETWORK) or {}
        config = ((data.get('IPAM') or {}).get('Config') or [{}])[0]
        self._subnet = config.get('Subnet') or self.subnet
        self._gateway = config.get('Gateway')
        self._range = config.get('IPRange') or None
        summaries = self.docker.list_containers({'network': [specs.PROXY_NETWORK]})
        return proxy_config.addresses_in_use(summaries, specs.PROXY_NETWORK)

    def address(self, refresh=False):
        """A free address on the proxy network for a new web container, never handed out twice in a run;
        ``refresh`` learns the addresses in use again (another run took the one picked)."""
        with self._lock:
            if self._used is None or refresh:
                handed = self._used or set()
                self._used = self._load() | handed
            picked = proxy_config.pick_addresses(self._subnet, self._used, gateway=self._gateway,
                                                 dynamic_range=self._range)[0]
            self._used.add(picked)
            return picked

    # -- configs ------------------------------------------------------------------------------------------------

    def wanted(self, doc, addresses):
        """The app's config with these members, or None when its proxy is off."""
        if not enabled(doc):
            return None
        mappings, domains, _wait = settings(doc)
        return proxy_config.render(doc['name'], mappings, domains, addresses, listen_address=self.listen_address)

    def differs(self, app, text):
        """True when the app's live config is not ``text`` (None: no file)."""
        return bool(self.nginx.plan(nginx.conf_files({app: text})))

    def concerns(self, doc):
        """True when the app is proxied, or has a config left (its proxy was just turned off, or it is deleted)."""
        return enabled(doc) or self.nginx.read(nginx.conf_name(doc['name'])) is not None

    def report(self, doc):
        """What dokku_ps_report shows of the app's proxy: its settings and the members of its live config."""
        text = self.nginx.read(nginx.conf_name(doc['name']))
        if not enabled(doc) and text is None:
            return {'enabled': False}
        mappings, domains, wait = settings(doc)
        return {
            'enabled': enabled(doc),
            'ports': [str(mapping) for mapping in mappings],
            'domains': list(domains),
            'wait_to_retire': wait,
            'config': self.nginx.path(nginx.conf_name(doc['name'])) if text is not None else None,
            'members': upstream_members(text),
        }

    def check_ready(self, doc):
        """Before any container of a proxied app changes: the nginx the run drives must be there."""
        if enabled(doc) and not os.path.isdir(self.nginx.include_dir):
            raise proxy_config.ProxyError(
                'app %s has its proxy on, but the nginx include directory %s does not exist: install nginx with the '
                'role dokku_ps.docker.proxy, or point nginx_include_dir at your nginx\'s' % (doc['name'],
                                                                                             self.nginx.include_dir))

    def remove(self, app):
        """Now: the app's config goes (the app is deleted; its containers stop after this)."""
        with self._lock:
            self._pending.pop(app, None)
        return self._apply({app: None})

    def switch(self, doc, summaries, exclude):
        """Now (a rollout): the app's config without the containers ``exclude`` is about to retire. Returns True
        when nginx was reloaded without members it had (they then drain before they stop)."""
        before = members(doc['name'], summaries)
        after = members(doc['name'], summaries, exclude)
        with self._lock:
            self._pending.pop(doc['name'], None)
        reloaded = self._apply({doc['name']: self.wanted(doc, after)})
        return reloaded and bool(set(before) - set(after))

    def sync(self, doc, summaries=None, addresses=None):
        """At the end of the run: the app's config for its web containers as they run now (``summaries`` of a
        list call, or ``addresses``); queued, applied by ``flush`` with every other app's."""
        if addresses is None:
            addresses = members(doc['name'], summaries or [])
        self.queue(doc['name'], self.wanted(doc, addresses))

    def predict(self, doc, summaries, plan):
        """Check mode, for a plan that changes web containers: the config after it, as far as it can be known
        before the new containers have their addresses (they are named in a comment)."""
        leaving = set(action.container.id for action in plan.actions
                      if action.process_type == specs.WEB and action.container is not None
                      and action.kind in (planner.REPLACE, planner.REMOVE, planner.STOP, planner.RECREATE))
        text = self.wanted(doc, members(doc['name'], summaries, leaving))
        coming = [action.name for action in plan.actions if action.process_type == specs.WEB
                  and action.kind in (planner.CREATE, planner.REPLACE, planner.RECREATE, planner.START)]
        if text is not None and coming:
            text += '# and the web containers this run starts: %s\n' % ', '.join(sorted(coming))
        current = self.nginx.read(nginx.conf_name(doc['name']))
        if text != current:
            with self._lock:
                self.changes[doc['name']] = {'before': current, 'after': text}

    def queue(self, app, text):
        with self._lock:
            self._pending[app] = text

    def flush(self):
        """Apply every queued config at once (one ``nginx -t``, one reload); check mode only predicts. Returns
        the apps whose config changed (or would)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        self._apply(pending)
        return sorted(app for app in pending if app in self.changes)

    def _apply(self, files):
        if not files:
            return False
        files = nginx.conf_files(files)
        planned = self.nginx.plan(files)
        if not planned:
            return False
        with self._lock:
            for name, change in planned.items():
                self.changes[nginx.split_name(name)[0]] = {'before': change['before'], 'after': change['after']}
        if self.check_mode:
            return False
        return self.nginx.apply(files).reloaded


def validate_params(params):
    """The nginx options of a module, checked before anything changes."""
    proxy_config.validate_listen_address(params.get('proxy_listen_address'), 'proxy_listen_address')
    subnet = params.get('proxy_subnet')
    if subnet is not None:
        try:
            proxy_config.pick_addresses(subnet, ())
        except (ValueError, TypeError):
            raise ValidationError('proxy_subnet', 'must be an IPv4 network such as %s' % proxy_config.DEFAULT_SUBNET)


class AppProxy(object):
    """What the executor needs of the proxy for one app's plan: addresses for its new web containers, and the
    switch of its config in the middle of a web phase (``list_containers()`` lists the app's containers)."""

    def __init__(self, run, doc, list_containers):
        self.run = run
        self.doc = doc
        self._list = list_containers
        self.wait = settings(doc)[2] if enabled(doc) else 0

    def address(self, refresh=False):
        return self.run.address(refresh)

    def switch(self, exclude):
        return self.run.switch(self.doc, self._list(), exclude)
