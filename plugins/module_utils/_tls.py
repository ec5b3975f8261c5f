# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS of the apps of a run: each app's certificate checked, issued, renewed, installed or removed (docs/tls.md).

Before anything changes (``check``), a declaration's TLS settings are checked against the app: the proxy on, its
domains, a provided certificate that matches its key, is in order, covers every domain and has not expired. After
the app's processes converged and its config was queued (``commit``), its certificate follows: a provided one is
installed when it differs from the one served; one from ACME is issued when the app has none, when its names,
CA or account changed, or when renewal is due (the CA's renewal information, else when a third of its lifetime
remains), and at no other time. The certificate and its key are kept in the state directory (``certs/<app>.json``)
and written with the app's nginx config, tested and reloaded with it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import http.client
import json
import os
import threading
import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._acme import AcmeCA, AcmeError
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import (
    HTTP, TLS_ACME, TLS_OFF, TLS_PROVIDED, served_mappings, settings_of)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _tls_certs as certs
from ansible_collections.dokku_ps.docker.plugins.module_utils._tls_probe import served_certificate

# What a run did (check mode: would do) with an app's certificate (``certificate.action`` of its outcome).
ISSUED, RENEWED, INSTALLED, REMOVED, UNCHANGED = 'issued', 'renewed', 'installed', 'removed', 'unchanged'
CHANGES = (ISSUED, RENEWED, INSTALLED, REMOVED)
# seconds a check of a challenge through nginx, or of the certificate nginx serves, may take
PROBE_TIMEOUT = 5
# seconds a challenge is asked for through nginx until it is served (nginx applies a reload a moment after it was
# asked to), and the pause between two tries
CHALLENGE_WAIT = 10
POLL_PAUSE = 0.1
WEBROOT_MODE = 0o755


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _stamp(moment):
    return None if moment is None else moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _parse(text):
    return None if not text else datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(
        tzinfo=datetime.timezone.utc)


class TlsRun(object):
    """The certificates of a run's apps (the run context holds one). ``options``: the run's _options.AcmeOptions."""

    def __init__(self, ctx, options):
        self.ctx = ctx
        self.options = options
        self._ca = None
        self._lock = threading.Lock()
        # app -> (certificate with chain, key, summary) a declaration of this run provided, checked
        self._given = {}
        # renew every certificate from ACME now, due or not (dokku_ps_certs force)
        self.force = False

    def ca(self):
        with self._lock:
            if self._ca is None:
                self._ca = AcmeCA(self.options, self.ctx.store)
            return self._ca

    # -- before anything changes ------------------------------------------------------------------------------------

    def check(self, doc, values):
        """Refuse TLS settings the app cannot have, before any process or file changes; a provided certificate is
        read and checked here (``values``: the declaration, _definitions.validate_app_params)."""
        app = doc['name']
        settings = settings_of(doc)
        mode = settings.tls.mode
        text = 'tls_certificate' in values
        if mode != TLS_PROVIDED and (text or 'tls_certificate_path' in values):
            raise ValidationError('tls_certificate' if text else 'tls_certificate_path',
                                  'is for https: provided (the app\'s https is %s)' % mode)
        if mode == TLS_OFF:
            for index, mapping in enumerate(settings.mappings):
                if mapping.scheme != HTTP:
                    raise ValidationError('proxy_ports[%d]' % index, 'an https mapping needs the app\'s certificate: '
                                          'set https (acme or provided), or map http')
            return
        if not settings.enabled:
            raise ValidationError('https', 'needs the app\'s proxy (proxy: true): nginx serves the certificate')
        if not settings.domains:
            raise ValidationError('https', 'needs the app\'s domains: its certificate names them')
        if mode == TLS_ACME:
            wildcards = [domain for domain in settings.domains if domain.startswith('*.')]
            if wildcards:
                raise ValidationError('domains', 'the wildcard %s cannot be validated over http-01, the only ACME '
                                      'challenge here: provide that certificate (https: provided), see docs/tls.md'
                                      % wildcards[0])
            return
        if text:
            chain, key, fields = values['tls_certificate'], values['tls_key'], ('tls_certificate', 'tls_key')
        elif settings.tls.certificate_path:
            chain = _read_host_file(settings.tls.certificate_path, 'tls_certificate_path')
            key = _read_host_file(settings.tls.key_path, 'tls_key_path')
            fields = ('tls_certificate_path', 'tls_key_path')
        else:
            stored = self._stored(app)
            if stored is None:
                raise ValidationError('tls_certificate', 'https: provided needs a certificate: give tls_certificate '
                                      'and tls_key, or tls_certificate_path and tls_key_path')
            chain, key, fields = stored['chain'], stored['key'], ('tls_certificate', 'tls_key')
        self.ctx.redactor.add_values([key])
        summary = certs.check_provided(chain, key, settings.domains, now(), *fields)
        self._given[app] = (chain, key, summary)

    # -- after the app's processes converged -----------------------------------------------------------------------

    def commit(self, doc):
        """The app's certificate after its processes converged and its config was queued: installed, issued,
        renewed or removed as its settings say (check mode: what would be). Returns the ``certificate`` of the app's
        outcome (None for an app without HTTPS that had none); ``doc['certificate']`` records what is served."""
        app = doc['name']
        settings = settings_of(doc)
        mode = settings.tls.mode if settings.enabled else TLS_OFF
        current = doc.get('certificate')
        if mode == TLS_OFF:
            if current is None and self._stored(app) is None:
                return None
            if not self.ctx.check_mode:
                self.ctx.proxy.remove_certificate(app)
                self.ctx.proxy.rerender(app)
                self.ctx.store.delete_secret('certs', app + '.json')
                doc['certificate'] = None
            return {'source': None, 'action': REMOVED}
        if mode == TLS_PROVIDED:
            return self._provided(doc, current)
        return self._acme(doc, settings, current)

    def _provided(self, doc, current):
        app = doc['name']
        if app not in self._given:
            # a run without a declaration (start, restart, scale...): the certificate kept, or read from its paths
            self.check(doc, {})
        chain, key, summary = self._given[app]
        if (current or {}).get('fingerprint') == summary['fingerprint'] and self._installed(app, chain, key):
            return _outcome(current, UNCHANGED)
        record = dict(summary, source=TLS_PROVIDED, installed_at=_stamp(now()))
        if not self.ctx.check_mode:
            self._install(doc, chain, key, record)
        return _outcome(record, INSTALLED)

    def _acme(self, doc, settings, current):
        app = doc['name']
        stored = self._stored(app)
        account = {'directory': self.options.directory, 'email': self.options.email}
        reason = None
        if stored is None or not current or current.get('source') != TLS_ACME:
            reason = 'the app has no certificate from ACME'
        elif sorted(current.get('names') or []) != sorted(settings.domains):
            reason = 'its domains changed'
        elif current.get('account') != account:
            reason = 'its ACME CA or account changed'
        elif not self.ctx.check_mode:
            current = self._ask_ari(doc, stored, current)
        if reason is None and _parse(current.get('renew_at')) is not None and now() >= _parse(current['renew_at']):
            reason = 'renewal is due (%s)' % current['renew_at']
        if reason is None and self.force:
            reason = 'renewal was asked for (force)'

        if reason is None:
            if not self.ctx.check_mode and not self._installed(app, stored['chain'], stored['key']):
                self._install(doc, stored['chain'], stored['key'], current)
                return _outcome(current, INSTALLED)
            return _outcome(current, UNCHANGED)
        action = RENEWED if reason.startswith('renewal') else ISSUED
        if self.ctx.check_mode:
            return dict(_outcome(current, action), reason=reason)
        try:
            chain, key = self._issue(app, settings)
        except AcmeError as exc:
            doc['certificate'] = dict(current or {'source': TLS_ACME}, last_error={'at': _stamp(now()),
                                                                                   'message': str(exc)})
            raise
        record = dict(certs.summary(certs.load_chain(chain, 'certificate')), source=TLS_ACME, account=account,
                      installed_at=_stamp(now()), last_error=None)
        record.update(self._renewal(chain, record))
        self._install(doc, chain, key, record)
        return dict(_outcome(record, action), reason=reason)

    # -- ACME ----------------------------------------------------------------------------------------------------

    def _issue(self, app, settings):
        """A new certificate for the app's domains: its http config (with the challenge location) goes live first,
        each challenge is checked through nginx before the CA is asked. Returns (certificate with chain, key)."""
        self.ctx.proxy.flush_app(app)
        directory = self.ctx.proxy.webroot_of(app)
        _make_webroot(self.options.webroot, directory)
        mapping = _challenge_mapping(settings)
        address = self.ctx.proxy.listen_address or '127.0.0.1'

        def serve(token, validation, domain):
            path = os.path.join(directory, token)
            with open(path, 'w') as handle:
                handle.write(validation)
            os.chmod(path, 0o644)
            _check_challenge(address, mapping.host_port, domain, token, validation)

        def unserve(token):
            try:
                os.unlink(os.path.join(directory, token))
            except OSError:
                pass
        key = certs.new_key()
        self.ctx.redactor.add_values([key])
        chain = self.ca().issue(list(settings.domains), key, serve, unserve)
        return chain, key

    def _renewal(self, chain, record):
        """When the certificate is renewed: the CA's renewal information (ARI) when it offers it, else when a third
        of its lifetime remains."""
        try:
            renew_at, next_check = self.ca().renewal_time(chain)
        except AcmeError:
            renew_at, next_check = None, None
        lifetime = certs.renewal_due_at(record['not_before'], record['not_after'])
        return {'renew_at': _stamp(renew_at or lifetime), 'renew_source': 'ari' if renew_at else 'lifetime',
                'ari_retry_after': _stamp(next_check) if renew_at else None}

    def _ask_ari(self, doc, stored, current):
        """The CA's renewal information again when it said to ask again by now (no contact before)."""
        retry = _parse(current.get('ari_retry_after'))
        if retry is None or now() < retry:
            return current
        updated = dict(current, **self._renewal(stored['chain'], current))
        doc['certificate'] = updated
        return updated

    # -- the certificate kept and served ----------------------------------------------------------------------------

    def _stored(self, app):
        data = self.ctx.store.read_secret('certs', app + '.json')
        if data is None:
            return None
        stored = json.loads(data.decode('utf-8'))
        self.ctx.redactor.add_values([stored['key']])
        return stored

    def _installed(self, app, chain, key):
        """Whether nginx's files of the app are this certificate and key (and its config names them)."""
        crt, private = nginx.certificate_names(app)
        return self.ctx.proxy.nginx.read(crt) == chain and self.ctx.proxy.nginx.read(private) == key

    def _install(self, doc, chain, key, record):
        app = doc['name']
        self.ctx.store.write_secret('certs', app + '.json', json.dumps({'chain': chain, 'key': key}).encode('ascii'))
        self.ctx.proxy.install_certificate(app, chain, key)
        self.ctx.proxy.rerender(app)
        doc['certificate'] = record

    def forget(self, app):
        """The app is deleted: its kept certificate goes (its nginx files go with its config)."""
        if not self.ctx.check_mode:
            self.ctx.store.delete_secret('certs', app + '.json')

    # -- the report --------------------------------------------------------------------------------------------------

    def report(self, doc):
        """What dokku_ps_report shows of the app's certificate: where it comes from, what it is, when it is renewed,
        the last error, and whether nginx serves it (a TLS handshake on the app's https port)."""
        settings = settings_of(doc)
        current = doc.get('certificate')
        if settings.tls.mode == TLS_OFF and not current:
            return {'source': None}
        shown = dict((key, value) for key, value in (current or {}).items() if key != 'installed_at')
        shown['source'] = settings.tls.mode
        shown['served'] = None
        mappings = [mapping for mapping in served_mappings(settings, current) if mapping.scheme != HTTP]
        if current and current.get('fingerprint') and mappings and settings.domains:
            served = served_certificate(self.ctx.proxy.listen_address or '127.0.0.1', mappings[0].host_port,
                                        settings.domains[0].replace('*', 'dokku-ps-probe', 1), PROBE_TIMEOUT)
            shown['served'] = served == current['fingerprint']
        return shown


def _outcome(record, action):
    record = record or {}
    return {'source': record.get('source'), 'action': action, 'names': record.get('names'),
            'not_after': record.get('not_after'), 'fingerprint': record.get('fingerprint'),
            'renew_at': record.get('renew_at')}


def changed(outcome):
    """Whether an app's certificate outcome is a change."""
    return bool(outcome) and outcome['action'] in CHANGES


def _read_host_file(path, field):
    try:
        with open(path, 'rb') as handle:
            data = handle.read(1024 * 1024)
    except (IOError, OSError) as exc:
        raise ValidationError(field, 'cannot read %s on the managed host: %s' % (path, exc.strerror or exc))
    try:
        return data.decode('ascii')
    except UnicodeDecodeError:
        raise ValidationError(field, '%s is not PEM text' % path)


def _make_webroot(webroot, directory):
    for path in (webroot, directory):
        if not os.path.isdir(path):
            os.makedirs(path)
        os.chmod(path, WEBROOT_MODE)


def _challenge_mapping(settings):
    """The http mapping the CA's validation reaches: host port 80 (where the CA connects) when the app maps it,
    else its first http mapping."""
    http = [mapping for mapping in settings.mappings if mapping.scheme == HTTP]
    for mapping in http:
        if mapping.host_port == 80:
            return mapping
    if not http:
        raise ValidationError('proxy_ports', 'an app with https: acme needs an http mapping: the CA validates over http')
    return http[0]


def _check_challenge(address, port, domain, token, validation, seconds=CHALLENGE_WAIT):
    """The challenge file of ``domain`` as nginx serves it, before the CA is asked: a clear error instead of a
    failed validation (and an order used up) when nginx does not serve it. nginx applies a reload a moment after it
    was asked to: the file is asked for again, every POLL_PAUSE seconds, for at most ``seconds``."""
    url = 'http://%s:%d%s%s' % (address, port, proxy_config.CHALLENGE_PATH, token)
    deadline = time.monotonic() + seconds
    while True:
        status, body, problem = _fetch(address, port, domain, token)
        if status == 200 and body == validation:
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_PAUSE)
    if problem is not None:
        raise AcmeError('nginx does not serve the ACME challenge of %s at %s: %s' % (domain, url, problem))
    raise AcmeError('nginx does not serve the ACME challenge of %s at %s (HTTP %d): is nginx running, and does the '
                    'CA reach this host on port 80 for that name?' % (domain, url, status))


def _fetch(address, port, domain, token):
    """(status, body, problem) of one GET of a challenge file through nginx with the domain's Host header."""
    connection = http.client.HTTPConnection(address, port, timeout=PROBE_TIMEOUT)
    try:
        connection.request('GET', proxy_config.CHALLENGE_PATH + token, headers={'Host': domain})
        response = connection.getresponse()
        return response.status, response.read(4096).decode('utf-8', 'replace').strip(), None
    except (OSError, http.client.HTTPException) as exc:
        return 0, '', str(exc)
    finally:
        connection.close()
