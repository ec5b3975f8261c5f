# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACME CA (module_utils/_acme.py): one account file per directory and e-mail, and every error of the CA or of
the way to it as one line (the flow itself runs against pebble in tests/integration/test_tls.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import types

import pytest
import requests
from acme import errors as acme_errors, messages

from ansible_collections.dokku_ps.docker.plugins.module_utils import _acme as acme
from ansible_collections.dokku_ps.docker.plugins.module_utils._options import AcmeOptions

DIRECTORY = 'https://ca.test/directory'


def _ca(timeout=60):
    return acme.AcmeCA(AcmeOptions(DIRECTORY, 'ops@shop.test', None, '/var/lib/dokku-ps-acme', timeout), store=None)


def test_one_account_per_directory_and_email():
    one = acme.account_id(DIRECTORY, 'ops@shop.test')
    assert one == acme.account_id(DIRECTORY, 'ops@shop.test') and one.endswith('.json')
    assert one != acme.account_id(DIRECTORY, 'other@shop.test') != acme.account_id('https://x.test/d', 'ops@shop.test')
    assert acme.account_id(DIRECTORY, None) == acme.account_id(DIRECTORY, '')


def test_a_rate_limit_says_which_and_when_to_try_again():
    ca = _ca()
    ca._last_retry_after = 'Mon, 07 Dec 2026 10:00:00 GMT'
    error = messages.Error(typ='urn:ietf:params:acme:error:rateLimited', detail='too many certificates (5) already '
                           'issued for this exact set of identifiers in the last 168h0m0s')
    message = str(ca._explain(error, 'issue a certificate for shop.test'))
    assert message == ('the ACME CA %s refused to issue a certificate for shop.test: rate limited (too many '
                       'certificates (5) already issued for this exact set of identifiers in the last 168h0m0s); try '
                       'again after Mon, 07 Dec 2026 10:00:00 GMT' % DIRECTORY)
    ca._last_retry_after = None
    assert str(ca._explain(error, 'x')).endswith('; try again later')


@pytest.mark.parametrize('error, expected', [
    (messages.Error(typ='urn:ietf:params:acme:error:rejectedIdentifier', detail='Policy forbids\nthis name'),
     'refused to open an order: Policy forbids this name (rejectedIdentifier)'),
    (acme_errors.TimeoutError(), 'did not open an order within 60 s (acme_timeout)'),
    (requests.exceptions.ConnectionError('Connection refused'), 'cannot reach the ACME CA %s to open an order: '
     'Connection refused' % DIRECTORY),
    (RuntimeError('odd\nthing'), 'failed to open an order: odd thing'),
])
def test_every_error_of_the_ca_is_one_line(error, expected):
    message = str(_ca()._explain(error, 'open an order'))
    assert expected in message and '\n' not in message


def test_a_failed_validation_names_each_domain_and_what_the_ca_saw():
    challenge = messages.ChallengeBody(chall=None, status=messages.STATUS_INVALID,
                                       error=messages.Error(typ='urn:ietf:params:acme:error:connection',
                                                            detail='Connection refused'))
    authorization = messages.AuthorizationResource(body=messages.Authorization(
        identifier=messages.Identifier(typ=messages.IDENTIFIER_FQDN, value='shop.test'), challenges=[challenge]),
        uri='https://ca.test/authz/1')
    failure = acme_errors.ValidationError([authorization])
    assert str(_ca()._explain(failure, 'issue')) == ('the ACME CA %s could not validate the http-01 challenge of '
                                                     'shop.test: Connection refused' % DIRECTORY)


def test_without_the_library_a_run_fails_in_one_line(monkeypatch):
    monkeypatch.setattr(acme, '_LIBRARIES', types.SimpleNamespace())
    monkeypatch.setitem(sys.modules, 'josepy', None)  # what an import finds on a host without it
    with pytest.raises(acme.AcmeError, match='^the Python library acme .* is missing on the managed host'):
        _ca().client()


def test_a_module_run_loads_the_acme_libraries_only_when_it_needs_the_ca():
    """Importing the runner (what every module does) loads neither the ACME client, josepy nor cryptography
    (_tls_certs imports it at its first need): a run that issues and reads no certificate does not pay for them."""
    code = ('import sys; from ansible_collections.dokku_ps.docker.plugins.module_utils import _runner; '
            'print(sorted(name for name in ("acme", "josepy", "cryptography") if name in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, cwd=os.getcwd(),
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.strip() == '[]'
    assert acme._libraries().messages is messages
