# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What module_utils/_tls_certs.py says of a certificate (summary, fingerprint) and what it makes for ACME: keys,
certificate requests, the renewal time and the ACME Renewal Information identifier (RFC 9773)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _tls_certs as tls
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from tests.support.certs import DAY, NOW, UTC, key_pem, make, new_key, pem, pki
from tests.unit.helpers import raised, refused

JANUARY = datetime.datetime(2026, 1, 1, tzinfo=UTC)
# RFC 9773, 4.1: the example's Authority Key Identifier keyIdentifier and serial number, and its identifier
RFC_KEY_IDENTIFIER = bytes.fromhex('69885B6B87464041E1B37B847BA0AE2CDE01C8D4')
RFC_SERIAL = 0x0087654321
RFC_ARI_ID = 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE'


def der(issued):
    return issued.cert.public_bytes(serialization.Encoding.DER)


# -- what a certificate is -----------------------------------------------------------------------------------------

def test_the_summary_says_what_the_leaf_is():
    root, intermediate, _leaf = pki()
    leaf = intermediate.issue('shop.test', names=['www.shop.test', 'shop.test'], serial=RFC_SERIAL,
                              not_before=JANUARY, days=90)
    assert tls.summary(tls.load_chain(pem(leaf, intermediate, root), 'c')) == {
        'subject': 'CN=shop.test',
        'names': ['shop.test', 'www.shop.test'],
        'issuer': 'CN=Test Intermediate CA',
        'not_before': '2026-01-01T00:00:00Z',
        'not_after': '2026-04-01T00:00:00Z',
        'fingerprint': 'sha256:' + hashlib.sha256(der(leaf)).hexdigest(),
        'serial': '87654321',
    }


@pytest.mark.parametrize('serial, shown', [(0x123, '0123'), (0x1234, '1234'), (1, '01'),
                                           (2 ** 159 - 1, '7f' + 'f' * 38)])
def test_the_serial_is_hex_in_whole_bytes(serial, shown):
    assert tls.summary([make('x', serial=serial).cert])['serial'] == shown


def test_the_summary_holds_nothing_of_the_key():
    leaf = make('shop.test', names=['shop.test'], kind='rsa')
    shown = repr(tls.summary([leaf.cert]))
    assert not [line for line in leaf.key_pem().splitlines() + leaf.key_pem('traditional').splitlines()
                if line in shown]


def test_the_fingerprint_is_the_leafs():
    _root, intermediate, leaf = pki()
    expected = 'sha256:' + hashlib.sha256(der(leaf)).hexdigest()
    assert tls.fingerprint(pem(leaf, intermediate)) == expected == tls.fingerprint_of_der(der(leaf))
    assert refused(tls.fingerprint, leaf.key_pem()).startswith('certificate: holds a private key')


# -- keys and certificate requests for ACME --------------------------------------------------------------------------

def test_a_new_key_is_an_unencrypted_p256_key_in_pkcs8():
    text = tls.new_key()
    assert text.startswith('-----BEGIN PRIVATE KEY-----\n')
    key = tls.load_key(text, 'key')
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == 'secp256r1'
    assert tls.new_key() != text


@pytest.mark.parametrize('kind', ['ec', 'rsa', 'ed25519'])
def test_a_request_names_every_domain_once_and_the_first_as_cn(kind):
    key = new_key(kind)
    request = x509.load_pem_x509_csr(tls.csr(key_pem(key), ['Shop.test', 'www.shop.test', 'shop.test.',
                                                            '*.shop.test']).encode('ascii'))
    assert request.is_signature_valid
    assert request.subject.rfc4514_string() == 'CN=shop.test'
    names = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ['shop.test', 'www.shop.test', '*.shop.test']
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    assert (request.public_key().public_bytes(serialization.Encoding.DER, public) ==
            key.public_key().public_bytes(serialization.Encoding.DER, public))


def test_a_first_domain_too_long_for_the_cn_leaves_the_subject_empty():
    long_name = '.'.join(['a' * 30] * 3) + '.test'
    request = x509.load_pem_x509_csr(tls.csr(tls.new_key(), [long_name, 'shop.test']).encode('ascii'))
    assert request.subject.rfc4514_string() == ''
    assert request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == [long_name, 'shop.test']


def test_a_request_is_refused_without_domains_or_with_a_bad_key():
    key = tls.new_key()
    assert refused(tls.csr, key, []) == 'domains: a certificate request needs at least one domain'
    assert refused(tls.csr, key, ['', ' ']) == 'domains: a certificate request needs at least one domain'
    assert refused(tls.csr, key, ['bücher.test']).startswith('domains: holds a name a certificate request cannot')
    encrypted = key_pem(new_key(), password=b'secret')
    assert refused(tls.csr, encrypted, ['shop.test']).startswith('key: encrypted private keys are not supported')


# -- when to renew -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('days, hours_left', [(90, 30 * 24), (45, 15 * 24), (6, 2 * 24), (365, 2920)])
def test_renewal_is_due_when_a_third_of_the_lifetime_remains(days, hours_left):
    not_after = JANUARY + days * DAY
    due = tls.renewal_due_at(JANUARY, not_after)
    assert due == not_after - datetime.timedelta(hours=hours_left)
    assert due.tzinfo is not None and due.utcoffset() == datetime.timedelta(0)
    assert not tls.is_due(JANUARY, not_after, due - datetime.timedelta(seconds=1))
    assert tls.is_due(JANUARY, not_after, due) and tls.is_due(JANUARY, not_after, not_after + DAY)


def test_a_lifetime_one_second_short_of_90_days_is_due_30_days_before_expiry():
    not_after = JANUARY + 90 * DAY - datetime.timedelta(seconds=1)
    assert tls.renewal_due_at(JANUARY, not_after) == not_after - 30 * DAY


def test_renewal_takes_the_summarys_text_and_any_timezone():
    summary = tls.summary([make('x', not_before=JANUARY, days=90).cert])
    due = tls.renewal_due_at(summary['not_before'], summary['not_after'])
    assert due == datetime.datetime(2026, 3, 2, tzinfo=UTC)
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert tls.renewal_due_at(JANUARY.astimezone(paris), JANUARY.replace(tzinfo=None) + 90 * DAY) == due
    assert tls.is_due(summary['not_before'], summary['not_after'], '2026-03-02T00:00:00Z')
    assert not tls.is_due(summary['not_before'], summary['not_after'], NOW - 100 * DAY)


def test_a_certificate_without_a_lifetime_cannot_be_renewed_on_time():
    message = str(raised(DokkuPsError, tls.renewal_due_at, JANUARY, JANUARY))
    assert message == 'a certificate valid from 2026-01-01T00:00:00Z until 2026-01-01T00:00:00Z has no lifetime'


# -- the ACME Renewal Information identifier -------------------------------------------------------------------------

def test_the_ari_identifier_of_the_rfc_9773_example():
    assert tls.ari_id(RFC_KEY_IDENTIFIER, RFC_SERIAL) == RFC_ARI_ID
    _root, intermediate, _leaf = pki()
    leaf = intermediate.issue('shop.test', names=['shop.test'], serial=RFC_SERIAL, key_identifier=RFC_KEY_IDENTIFIER)
    assert tls.ari_cert_id(pem(leaf, intermediate)) == RFC_ARI_ID


def test_the_ari_identifier_names_the_issuers_key():
    _root, intermediate, leaf = pki()
    issuer_key = intermediate.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    prefix = base64.urlsafe_b64encode(issuer_key).decode('ascii').rstrip('=')
    assert tls.ari_cert_id(pem(leaf)).split('.')[0] == prefix


@pytest.mark.parametrize('serial, encoded', [(0, 'AA'), (0x7f, 'fw'), (0x80, 'AIA'), (0xff, 'AP8'), (0x0100, 'AQA'),
                                             (-1, '_w'), (-128, 'gA'), (-129, '_38')])
def test_the_serial_is_its_der_integer_in_twos_complement(serial, encoded):
    assert tls.ari_id(b'\x01', serial) == 'AQ.' + encoded


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-2 ** 160, max_value=2 ** 160))
def test_the_serial_bytes_are_the_shortest_twos_complement(serial):
    encoded = tls.ari_id(b'k', serial).split('.')[1]
    data = base64.urlsafe_b64decode(encoded + '=' * (-len(encoded) % 4))
    assert int.from_bytes(data, 'big', signed=True) == serial
    if len(data) > 1:
        assert not (data[0] == 0 and data[1] < 0x80) and not (data[0] == 0xff and data[1] >= 0x80)


def test_a_certificate_without_an_authority_key_identifier_has_no_ari_identifier():
    leaf = make('shop.test', names=['shop.test'], key_identifier=None)
    assert refused(tls.ari_cert_id, pem(leaf)) == (
        'certificate: has no Authority Key Identifier (keyIdentifier): ACME renewal information (RFC 9773) cannot '
        'name it')
    assert refused(tls.ari_cert_id, pem(leaf), field='tls_certificate').startswith('tls_certificate: has no')
