# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proxy work of one run: each app's nginx config kept in step with its web processes, one reload for a run.

The run context holds one ``ProxyRun``. A rollout that retires, removes or stops web processes of a proxied app
switches the app's config at once (``switch``: one reload, before the old processes stop); everything else a run
changes (new or started processes, settings, a config that drifted) is queued (``sync``) and applied together at
the end of the run (``flush``: one reload for all apps). A run that changes nothing writes no file and sends no
reload. Where the web processes are (their addresses) is the scheduler's business: it hands their addresses in.
docs/proxy.md tells the whole story.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import os
import threading

from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config

# The nginx a run drives and how it listens (the module options of doc fragment dokku_ps.docker.nginx, checked):
# nginx's binary, main config, the include directory the collection owns, pid file and prefix, the address the
# servers listen on (None: every IPv4 interface), and the subnet of the proxy network.
ProxyOptions = collections.namedtuple('ProxyOptions', 'binary conf include_dir pid_file prefix listen_address subnet')


def upstream_members(text):
    """The ``address:port`` members of the upstreams of an app's live config (none when it has no members)."""
    found = set()
    for line in (text or '').splitlines():
        line = line.strip()
        if line.startswith('server ') and line.endswith(';'):
            found.add(line[len('server '):-1].strip())
    return sorted(found)


class ProxyRun(object):
    """The proxy work of one module run (see the module docstring). Thread-safe. Every method takes the app's
    ProxySettings (_proxy_settings.settings_of), read once by the caller."""

    def __init__(self, options, check_mode=False, run=None, webroot=None):
        self.options = options
        self.check_mode = check_mode
        self.listen_address = options.listen_address
        # the directory of the ACME http-01 challenges (one directory per app under it), for apps with https: acme
        self.webroot = webroot
        self.nginx = nginx.Nginx(include_dir=options.include_dir, binary=options.binary, conf=options.conf,
                                 pid_file=options.pid_file, prefix=options.prefix, run=run)
        self._lock = threading.Lock()
        self._pending = {}
        # app -> (certificate with chain, key) to install with the app's next config, or None to remove its own
        self._certificates = {}
        # app -> the config change applied or predicted by this run ({'before', 'after'})
        self.changes = {}
        # app -> (settings, addresses) its last config was rendered from (rerender)
        self._rendered = {}

    # -- certificates -------------------------------------------------------------------------------------------

    def install_certificate(self, app, chain, key):
        """Serve this certificate (PEM, with its chain) and key for the app from its next config on: written with it,
        under the same lock, the key 0600, tested with it by ``nginx -t``, restored with it when the test fails."""
        with self._lock:
            self._certificates[app] = (chain, key)

    def remove_certificate(self, app):
        """The app serves no certificate from its next config on (its files go with that config)."""
        with self._lock:
            self._certificates[app] = None

    def certificate(self, app):
        """The certificate files the app's next config names (CertificateFiles), or None: the certificate about to be
        installed, else the one in place (both of its files there), unless it is about to be removed."""
        with self._lock:
            pending = self._certificates.get(app, False)
        if pending is None:
            return None
        crt, key = nginx.certificate_names(app)
        if pending is False and (self.nginx.read(crt) is None or self.nginx.read(key) is None):
            return None
        return proxy_config.CertificateFiles(self.nginx.path(crt), self.nginx.path(key))

    def webroot_of(self, app):
        """The directory of the app's ACME challenge files."""
        return None if self.webroot is None else os.path.join(self.webroot, app)

    # -- configs ------------------------------------------------------------------------------------------------

    def wanted(self, app, settings, addresses):
        """The app's config with these members, or None when its proxy is off."""
        if not settings.enabled:
            return None
        return proxy_config.render(app, settings, addresses, listen_address=self.listen_address,
                                   certificate=self.certificate(app), webroot=self.webroot_of(app))

    def concerns(self, app, settings):
        """True when the app is proxied, or has a config left (its proxy was just turned off, or it is deleted)."""
        return settings.enabled or self.nginx.read(nginx.conf_name(app)) is not None

    def report(self, app, settings):
        """What dokku_ps_report shows of the app's proxy: its settings and the members of its live config."""
        text = self.nginx.read(nginx.conf_name(app))
        if not settings.enabled and text is None:
            return {'enabled': False}
        return {
            'enabled': settings.enabled,
            'ports': [str(mapping) for mapping in settings.mappings],
            'domains': list(settings.domains),
            'wait_to_retire': settings.wait_to_retire,
            'config': self.nginx.path(nginx.conf_name(app)) if text is not None else None,
            'members': upstream_members(text),
        }

    def check_ready(self, app, settings):
        """Before any process of a proxied app changes: the nginx the run drives must be there."""
        if settings.enabled and not os.path.isdir(self.nginx.include_dir):
            raise proxy_config.ProxyError(
                'app %s has its proxy on, but the nginx include directory %s does not exist: install nginx with the '
                'role dokku_ps.docker.proxy, or point nginx_include_dir at your nginx\'s' % (app,
                                                                                             self.nginx.include_dir))

    def remove(self, app):
        """Now: the app's config goes (the app is deleted; its processes stop after this)."""
        with self._lock:
            self._pending.pop(app, None)
        return self._apply({app: None})

    def switch(self, app, settings, before, after):
        """Now (a rollout): the app's config with the members ``after`` (``before``: its members until now, the
        ones about to retire among them). Returns True when nginx was reloaded without members it had (they then
        drain before they stop)."""
        with self._lock:
            self._pending.pop(app, None)
        reloaded = self._apply({app: self.wanted(app, settings, after)})
        return reloaded and bool(set(before) - set(after))

    def sync(self, app, settings, addresses):
        """At the end of the run: the app's config for the web processes at ``addresses`` (as they run now);
        queued, applied by ``flush`` with every other app's."""
        with self._lock:
            self._rendered[app] = (settings, addresses)
        self.queue(app, self.wanted(app, settings, addresses))

    def rerender(self, app):
        """The app's queued config again, with its certificate as it now is (installed or removed since)."""
        with self._lock:
            rendered = self._rendered.get(app)
        if rendered is not None:
            self.queue(app, self.wanted(app, *rendered))

    def flush_app(self, app):
        """Now: the app's queued config (an ACME challenge must be served before the CA is asked). Returns True when
        nginx was reloaded."""
        with self._lock:
            if app not in self._pending:
                return False
            text = self._pending.pop(app)
        return self._apply({app: text})

    def predict(self, app, settings, addresses, coming):
        """Check mode, for work that changes web processes: the config after it, as far as it can be known before
        the new processes have their addresses (``addresses``: the members that stay; ``coming``: the names of the
        processes the run would start, named in a comment)."""
        text = self.wanted(app, settings, addresses)
        if text is not None and coming:
            text += '# and the web containers this run starts: %s\n' % ', '.join(sorted(coming))
        current = self.nginx.read(nginx.conf_name(app))
        if text != current:
            with self._lock:
                self.changes[app] = {'before': current, 'after': text}

    def queue(self, app, text):
        with self._lock:
            self._pending[app] = text

    def flush(self):
        """Apply every queued config at once (one ``nginx -t``, one reload); check mode only predicts. Returns
        the apps whose config changed (or would)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            certificates = [app for app in self._certificates if app not in pending]
        for app in certificates:
            # a certificate installed without a change of config (a renewal): written with the config as it is
            text = self.nginx.read(nginx.conf_name(app))
            if text is not None:
                pending[app] = text
        self._apply(pending)
        return sorted(app for app in pending if app in self.changes)

    def _apply(self, configs):
        """Write the apps' configs ({app: text, or None to remove it}) as nginx files with the certificates about
        to be installed or removed with them, and the catch-all of the https ports; test and reload nginx."""
        if not configs:
            return False
        files = nginx.conf_files(configs)
        with self._lock:
            for app in configs:
                if app in self._certificates:
                    chain_key = self._certificates.pop(app)
                    files.update(nginx.certificate_files(app, *(chain_key or (None, None))))
                elif configs[app] is None:
                    files.update(nginx.certificate_files(app, None, None))  # a deleted app's certificate goes
        files[nginx.CATCH_ALL_CONF] = self._catch_all(configs)
        planned = self.nginx.plan(files)
        if not planned:
            return False
        with self._lock:
            for name, change in planned.items():
                app, suffix = nginx.split_name(name)
                if suffix == nginx.CONF_SUFFIX and app != nginx.CATCH_ALL:
                    # configs only: a certificate's key never reaches a diff
                    self.changes[app] = {'before': change['before'], 'after': change['after']}
        if self.check_mode:
            return False
        return self.nginx.apply(files).reloaded

    def _catch_all(self, configs):
        """The catch-all config for the https ports of every app's config once ``configs`` are written (None: no
        https port, no catch-all)."""
        ports = set()
        for app in set(self.nginx.apps()) | set(configs):
            text = configs[app] if app in configs else self.nginx.read(nginx.conf_name(app))
            ports |= proxy_config.https_ports(text)
        text = proxy_config.render_catch_all(ports, self.listen_address)
        return None if text is None else nginx.NginxFile(text, nginx.CONF_MODE)
