# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACME CA: one account per directory URL and e-mail, issuance over http-01, renewal information (ARI).

Drives certbot's ``acme`` library, imported at the first use of the CA (``_libraries``): this file always imports,
a run that needs no certificate never loads the library and its cryptography (a tenth of a second of every module
run otherwise), and a run that needs the CA fails in one line when the library is missing. The account's key is
kept in the state directory (``acme/<id>.json``, 0600). Every answer of the CA that is an error becomes one line
naming what failed: a challenge the CA could not validate, a rate limit with when to try again, a CA that cannot be
reached, a deadline that passed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import threading
import types

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError

_LIBRARIES = types.SimpleNamespace()  # the ACME libraries, once ``_libraries`` imported them


def _libraries():
    """The ACME client libraries as a namespace (jose, acme_client, challenges, crypto_util, acme_errors, messages,
    ec, requests), imported at the first call; AcmeError in one line when they are missing on the managed host."""
    if not vars(_LIBRARIES):
        try:
            import josepy as jose
            from acme import challenges, client as acme_client, crypto_util, errors as acme_errors, messages
            from cryptography.hazmat.primitives.asymmetric import ec
            import requests
        except ImportError:
            raise AcmeError('the Python library acme (certbot\'s ACME client, with josepy and cryptography) is '
                            'missing on the managed host: pip install acme')
        vars(_LIBRARIES).update(jose=jose, challenges=challenges, acme_client=acme_client, crypto_util=crypto_util,
                                acme_errors=acme_errors, messages=messages, ec=ec, requests=requests)
    return _LIBRARIES


USER_AGENT = 'dokku_ps.docker'
# seconds one request to the CA may take (each; the whole issuance is bounded by the run's acme_timeout)
REQUEST_TIMEOUT = 30
RATE_LIMITED = 'rateLimited'


class AcmeError(DokkuPsError):
    """The CA could not issue (or tell about) a certificate; the message says why in one line."""


def _one_line(text):
    return ' '.join(str(text or '').split())


def account_id(directory, email):
    """The name of the account's file in the state directory: one account per (directory URL, e-mail)."""
    digest = hashlib.sha256(('%s\n%s' % (directory, email or '')).encode('utf-8')).hexdigest()
    return 'account-%s.json' % digest[:32]


class AcmeCA(object):
    """The ACME CA of a run (``options``: _options.AcmeOptions), its account kept in ``store`` (the state store).
    The connection is made at first use: a run that needs no certificate never contacts the CA."""

    def __init__(self, options, store):
        self.options = options
        self.store = store
        self._client = None
        self._last_retry_after = None
        # the apps of a run worked on in parallel share the account: one of them talks to the CA at a time
        self._lock = threading.RLock()

    def _explain(self, exc, what):
        """One line for an error of the CA or of the way to it."""
        lib = _libraries()
        if isinstance(exc, lib.messages.Error):
            detail = _one_line(exc.detail or exc.title or exc.typ)
            if exc.code == RATE_LIMITED:
                retry = self._last_retry_after
                return AcmeError('the ACME CA %s refused to %s: rate limited (%s)%s' % (
                    self.options.directory, what, detail,
                    '; try again after %s' % retry if retry else '; try again later'))
            return AcmeError('the ACME CA %s refused to %s: %s (%s)'
                             % (self.options.directory, what, detail, exc.code or exc.typ))
        if isinstance(exc, lib.acme_errors.ValidationError):
            problems = []
            for authorization in exc.failed_authzrs:
                error = None
                for challenge in authorization.body.challenges:
                    if challenge.error is not None:
                        error = challenge.error
                problems.append('%s: %s' % (authorization.body.identifier.value,
                                            _one_line(error.detail if error is not None else 'invalid')))
            return AcmeError('the ACME CA %s could not validate the http-01 challenge of %s' % (
                self.options.directory, '; '.join(problems)))
        if isinstance(exc, lib.acme_errors.TimeoutError):
            return AcmeError('the ACME CA %s did not %s within %d s (acme_timeout)' % (
                self.options.directory, what, self.options.timeout))
        if isinstance(exc, lib.requests.exceptions.RequestException):
            return AcmeError('cannot reach the ACME CA %s to %s: %s' % (self.options.directory, what,
                                                                        _one_line(exc)))
        return AcmeError('the ACME CA %s failed to %s: %s' % (self.options.directory, what, _one_line(exc)))

    def _record_retry_after(self, response, *args, **kwargs):
        self._last_retry_after = response.headers.get('Retry-After')
        return response

    def client(self):
        """The ACME client on the run's account (loaded, or created and kept in the state directory)."""
        with self._lock:
            return self._open()

    def _open(self):
        lib = _libraries()
        if self._client is not None:
            return self._client
        name = account_id(self.options.directory, self.options.email)
        stored = self.store.read_secret('acme', name)
        if stored is not None:
            account = json.loads(stored.decode('utf-8'))
            key = lib.jose.JWK.json_loads(json.dumps(account['key']))
        else:
            account = None
            key = lib.jose.JWKEC(key=lib.ec.generate_private_key(lib.ec.SECP256R1()))
        try:
            net = lib.acme_client.ClientNetwork(key, alg=lib.jose.ES256, verify_ssl=self.options.ca_bundle or True,
                                                user_agent=USER_AGENT, timeout=REQUEST_TIMEOUT)
            net.session.hooks['response'].append(self._record_retry_after)
            directory = lib.acme_client.ClientV2.get_directory(self.options.directory, net)
            client = lib.acme_client.ClientV2(directory, net)
            registration = lib.messages.NewRegistration.from_data(
                email=self.options.email, terms_of_service_agreed=True)
            if account is not None:
                registration = registration.update(only_return_existing=True)
            try:
                client.new_account(registration)
            except lib.acme_errors.ConflictError as conflict:
                # the CA knows this key already: its account, at the URL it gives
                client.net.account = lib.messages.RegistrationResource(uri=conflict.location)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._explain(exc, 'open the account')
        if account is None:
            stored = {'directory': self.options.directory, 'email': self.options.email,
                      'key': json.loads(key.json_dumps())}
            self.store.write_secret('acme', name, json.dumps(stored, indent=2).encode('utf-8'))
        self._client = client
        return client

    def issue(self, names, key_pem, serve, unserve):
        """A certificate for ``names`` (the first one first) and the key ``key_pem``: an order, each http-01
        challenge served through ``serve(token, validation)`` (which writes it where nginx serves it and checks it
        through nginx; it raises when nginx does not serve it) before the CA is asked, then the order finalized.
        ``unserve(token)`` removes each token again. Returns the certificate with its chain (PEM text)."""
        with self._lock:
            return self._issue(names, key_pem, serve, unserve)

    def _issue(self, names, key_pem, serve, unserve):
        client = self.client()
        lib = _libraries()
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=self.options.timeout)
        tokens = []
        try:
            try:
                order = client.new_order(lib.crypto_util.make_csr(key_pem.encode('ascii'), list(names)))
            except Exception as exc:  # pylint: disable=broad-except
                raise self._explain(exc, 'open an order for %s' % ', '.join(names))
            answers = []
            for authorization in order.authorizations:
                if authorization.body.status == lib.messages.STATUS_VALID:
                    continue
                challenge = None
                for candidate in authorization.body.challenges:
                    if isinstance(candidate.chall, lib.challenges.HTTP01):
                        challenge = candidate
                if challenge is None:
                    raise AcmeError('the ACME CA %s offers no http-01 challenge for %s' % (
                        self.options.directory, authorization.body.identifier.value))
                response, validation = challenge.response_and_validation(client.net.key)
                token = challenge.chall.encode('token')
                tokens.append(token)
                serve(token, validation, authorization.body.identifier.value)
                answers.append((challenge, response))
            try:
                for challenge, response in answers:
                    client.answer_challenge(challenge, response)
                order = client.poll_and_finalize(order, deadline=deadline)
            except Exception as exc:  # pylint: disable=broad-except
                raise self._explain(exc, 'issue a certificate for %s' % ', '.join(names))
            return order.fullchain_pem
        finally:
            for token in tokens:
                unserve(token)

    def renewal_time(self, chain_pem):
        """(when to renew, when to ask again) by the CA's renewal information (ARI); (None, when to ask again) for
        a CA without it. Times are aware UTC datetimes."""
        with self._lock:
            client = self.client()
            try:
                renew_at, next_check = client.renewal_time(chain_pem.encode('ascii'))
            except Exception as exc:  # pylint: disable=broad-except
                raise self._explain(exc, 'tell when to renew the certificate')
        return _aware(renew_at), _aware(next_check)


def _aware(moment):
    """A datetime as an aware UTC one (the library gives the next check in local, naive time)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.astimezone(datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)
