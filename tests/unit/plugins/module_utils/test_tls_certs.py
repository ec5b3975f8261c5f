# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules a brought certificate must pass (module_utils/_tls_certs.py): reading the PEM texts, the key, the chain,
the dates and the names; every refusal one line that shows no line of the texts given."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _tls_certs as tls
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from tests.support.certs import DAY, EC_PARAMETERS, NOW, key_pem, make, new_key, pem, pki
from tests.unit.helpers import raised, refused

FAST = settings(max_examples=200, deadline=None)
ENCRYPTED = 'encrypted private keys are not supported: give it without a passphrase, from a vault'


@pytest.fixture(scope='module')
def shop():
    """root, intermediate and leaf (shop.test, www.shop.test), EC P-256."""
    return pki()


def shown(message, *texts):
    """The lines of the PEM ``texts`` (and 16-character pieces of their base64) that ``message`` holds."""
    pieces = set()
    for text in texts:
        for line in text.splitlines():
            line = line.strip()
            if line:
                pieces.add(line)
            if line and not line.startswith('-----'):
                pieces.update(line[start:start + 16] for start in range(0, max(len(line) - 15, 1)))
    return sorted(piece for piece in pieces if piece in message)


def refused_quietly(texts, func, *args, **kwargs):
    """The one-line refusal of ``func(*args)``, checked to show nothing of ``texts``."""
    message = refused(func, *args, **kwargs)
    assert not shown(message, *texts), message
    return message


# -- reading a certificate and its chain ------------------------------------------------------------------------

def test_a_chain_is_read_leaf_first(shop):
    root, intermediate, leaf = shop
    chain = tls.load_chain(pem(leaf, intermediate, root), 'tls_certificate')
    assert [cert.subject.rfc4514_string() for cert in chain] == [
        'CN=shop.test', 'CN=Test Intermediate CA', 'CN=Test Root CA']


def test_text_around_the_blocks_and_windows_line_ends_are_read(shop):
    _root, intermediate, leaf = shop
    text = 'subject=CN=shop.test\n' + pem(leaf) + 'issuer: the intermediate\r\n' + pem(intermediate)
    assert len(tls.load_chain(text.replace('\n', '\r\n'), 'c')) == 2
    assert len(tls.load_chain(pem(leaf).encode('ascii'), 'c')) == 1


@pytest.mark.parametrize('text, rule', [
    ('', 'is empty: PEM text expected'),
    (None, 'is empty: PEM text expected'),
    ('  \n', 'is empty: PEM text expected'),
    ('MIIBszCCAVmgAwIBAgIUZ', 'is not PEM text (no BEGIN line with its END line)'),
    (b'\xff\xfe', 'is not PEM text (it holds bytes that are not ASCII)'),
    ('-----BEGIN CERTIFICATE-----\nMIIB\n', 'is not PEM text (no BEGIN line with its END line)'),
    ('-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n',
     'holds no certificate (PEM CERTIFICATE blocks expected)'),
    ('-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
     'holds a certificate request (CSR), not a certificate'),
])
def test_what_is_not_a_certificate_is_refused(text, rule):
    texts = [text] if isinstance(text, str) else []
    assert refused_quietly(texts, tls.load_chain, text, 'tls_certificate') == 'tls_certificate: ' + rule


def test_a_begin_line_without_its_end_is_refused(shop):
    text = pem(shop[2]) + '-----BEGIN CERTIFICATE-----\nMIIB\n'
    assert refused_quietly([text], tls.load_chain, text, 'c') == 'c: is not PEM text: a BEGIN line has no END line'


@pytest.mark.parametrize('form', ['pkcs8', 'traditional'])
def test_a_private_key_in_the_certificate_field_is_refused_and_never_shown(shop, form):
    for text in (shop[2].key_pem(form), pem(shop[2]) + shop[2].key_pem(form)):
        message = refused_quietly([text], tls.load_chain, text, 'tls_certificate')
        assert message.startswith('tls_certificate: holds a private key: ')


def test_blocks_besides_certificates_are_refused(shop):
    text = pem(shop[2]) + '-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n'
    assert 'holds PEM blocks that are not certificates' in refused_quietly([text], tls.load_chain, text, 'c')


def test_a_block_that_does_not_parse_is_named_by_its_place(shop):
    broken = pem(shop[1]).replace('MII', 'MIX', 1)
    text = pem(shop[2]) + broken
    message = refused_quietly([text], tls.load_chain, text, 'tls_certificate')
    assert message == 'tls_certificate: certificate 2 of 2 cannot be read (not an X.509 certificate)'


# -- reading a private key -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('kind, form', [('rsa', 'traditional'), ('rsa', 'pkcs8'), ('ec', 'traditional'),
                                        ('ec', 'pkcs8'), ('ed25519', 'pkcs8')])
def test_rsa_ec_and_ed25519_keys_are_read_in_every_pem_form(kind, form):
    key = new_key(kind)
    assert public_der(tls.load_key(key_pem(key, form), 'tls_key')) == public_der(key)


def public_der(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_the_ec_parameters_block_openssl_writes_before_a_key_is_allowed():
    key = new_key('ec')
    assert public_der(tls.load_key(EC_PARAMETERS + key_pem(key, 'traditional'), 'k')) == public_der(key)


@pytest.mark.parametrize('form', ['pkcs8', 'traditional'])
def test_an_encrypted_key_is_refused_with_the_way_out(form):
    text = key_pem(new_key('rsa' if form == 'traditional' else 'ec'), form, password=b'secret passphrase')
    assert refused_quietly([text], tls.load_key, text, 'tls_key') == 'tls_key: ' + ENCRYPTED


def test_a_certificate_in_the_key_field_is_refused(shop):
    leaf = shop[2]
    assert refused_quietly([pem(leaf)], tls.load_key, pem(leaf), 'tls_key') == (
        'tls_key: is a certificate, not a private key (the certificate has a field of its own)')
    both = leaf.key_pem() + pem(leaf)
    assert refused_quietly([both], tls.load_key, both, 'tls_key') == (
        'tls_key: holds a certificate as well as the key: give the private key alone')


def test_what_is_not_one_readable_key_is_refused(shop):
    key = shop[2].key_pem()
    cases = [
        ('', 'is empty: PEM text expected'),
        ('-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n', 'holds no private key ('),
        (key + shop[1].key_pem(), 'holds 2 private keys: give one'),
        (key + '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n', 'holds PEM blocks besides the'),
        (key.replace('MI', 'XX'), 'cannot be read as a private key (RSA, EC or Ed25519, in PEM: PKCS#8, PKCS#1 or'),
        (key_pem(new_key('ec'), 'openssh'), 'an OpenSSH private key is not supported ('),
        (key_pem(new_key('secp256k1')), 'an EC key on the curve secp256k1 is not supported (P-256, P-384 or P-521)'),
        (key_pem(new_key('ed448')), 'this kind of private key is not supported (RSA, EC or Ed25519'),
    ]
    for text, rule in cases:
        assert refused_quietly([text], tls.load_key, text, 'tls_key').startswith('tls_key: ' + rule)


# -- the names a certificate covers --------------------------------------------------------------------------------

@pytest.mark.parametrize('names, domain, covered', [
    (['shop.test'], 'shop.test', True),
    (['SHOP.Test'], 'shop.TEST', True),
    (['shop.test.'], 'shop.test', True),
    (['shop.test'], 'www.shop.test', False),
    (['*.example.com'], 'a.example.com', True),
    (['*.Example.COM'], 'A.example.com', True),
    (['*.example.com'], 'example.com', False),
    (['*.example.com'], 'a.b.example.com', False),
    (['*.example.com'], '.example.com', False),
    (['*.example.com'], '*.example.com', True),
    (['a.example.com'], '*.example.com', False),
    (['*.a.example.com'], '*.example.com', False),
    (['*.com'], 'example.com', False),
    (['w*.example.com'], 'www.example.com', False),
    (['*.*.example.com'], 'a.b.example.com', False),
    (['example.com', '*.example.com'], 'example.com', True),
    ([], 'example.com', False),
    (['example.com'], '', False),
])
def test_names_cover_domains_as_tls_clients_match_them(names, domain, covered):
    assert tls.covers(names, domain) is covered


LABEL = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789-', min_size=1, max_size=12)
PARENT = st.lists(LABEL, min_size=2, max_size=4).map('.'.join)


@FAST
@given(LABEL, PARENT)
def test_a_wildcard_covers_exactly_one_label_more(label, parent):
    wildcard = ['*.' + parent]
    assert tls.covers(wildcard, label + '.' + parent)
    assert tls.covers(wildcard, (label + '.' + parent).upper())
    assert not tls.covers(wildcard, parent)
    assert not tls.covers(wildcard, label + '.' + label + '.' + parent)
    assert tls.covers(wildcard, '*.' + parent)
    assert not tls.covers([label + '.' + parent], '*.' + parent)


@FAST
@given(PARENT, PARENT)
def test_a_name_without_a_wildcard_covers_itself_only(name, domain):
    assert tls.covers([name], domain) is (name == domain)


# -- everything checked before a brought certificate is written -----------------------------------------------------

def test_a_good_certificate_passes_and_is_summed_up(shop):
    root, intermediate, leaf = shop
    summary = tls.check_provided(pem(leaf, intermediate), leaf.key_pem(), ['shop.test', 'WWW.shop.test'], NOW)
    assert summary == tls.summary([leaf.cert])
    assert summary['names'] == ['shop.test', 'www.shop.test'] and summary['issuer'] == 'CN=Test Intermediate CA'
    assert tls.check_provided(pem(leaf, intermediate, root), leaf.key_pem('traditional'), [], NOW) == summary
    assert tls.check_provided(pem(leaf), leaf.key_pem(), ['shop.test'], NOW) == summary


def test_a_self_signed_leaf_alone_passes():
    leaf = make('shop.test', names=['shop.test'])
    assert tls.check_provided(pem(leaf), leaf.key_pem(), ['shop.test'], NOW)['issuer'] == 'CN=shop.test'


@pytest.mark.parametrize('kinds', [('rsa', 'rsa', 'rsa'), ('ec', 'ec', 'ec'), ('ed25519', 'ed25519', 'ed25519'),
                                   ('rsa', 'ec', 'ed25519'), ('ed25519', 'rsa', 'ec')])
def test_rsa_ecdsa_and_ed25519_signatures_are_verified(kinds):
    root = make('Root', kind=kinds[0], ca=True)
    intermediate = root.issue('Intermediate', kind=kinds[1], ca=True)
    leaf = intermediate.issue('shop.test', names=['shop.test'], kind=kinds[2])
    assert tls.check_provided(pem(leaf, intermediate, root), leaf.key_pem(), ['shop.test'], NOW)
    impostor = make('Intermediate', kind=kinds[1], ca=True)
    text = pem(leaf, impostor)
    assert refused_quietly([text], tls.check_provided, text, leaf.key_pem(), [], NOW) == (
        "tls_certificate: the chain is not in order: certificate 2 did not issue certificate 1 (certificate 2's key "
        "did not sign it)")


def test_a_key_of_another_certificate_is_refused(shop):
    _root, intermediate, leaf = shop
    for key in (intermediate.key_pem(), key_pem(new_key('ec')), key_pem(new_key('rsa'))):
        assert refused_quietly([key], tls.check_provided, pem(leaf, intermediate), key, [], NOW) == (
            'tls_key: does not match the certificate (its public key is another one)')


def test_a_chain_out_of_order_is_refused(shop):
    root, intermediate, leaf = shop
    text = pem(leaf, root, intermediate)
    assert refused_quietly([text], tls.check_provided, text, leaf.key_pem(), [], NOW) == (
        'tls_certificate: the chain is not in order: certificate 2 did not issue certificate 1 (certificate 1 was '
        'issued by CN=Test Intermediate CA, certificate 2 is CN=Test Root CA)')
    swapped = tls.load_chain(pem(intermediate, leaf), 'c')
    assert refused(tls.check_chain_order, swapped, 'c').startswith(
        'c: the chain is not in order: certificate 2 did not issue certificate 1 (')
    text = pem(leaf, intermediate, make('Another Root CA', ca=True))
    assert 'certificate 3 did not issue certificate 2' in refused(tls.check_provided, text, leaf.key_pem(), [], NOW)


def test_an_unrelated_intermediate_is_refused(shop):
    leaf = shop[2]
    other = make('Other Intermediate CA', ca=True)
    assert refused(tls.check_provided, pem(leaf, other), leaf.key_pem(), [], NOW).endswith(
        'certificate 2 did not issue certificate 1 (certificate 1 was issued by CN=Test Intermediate CA, '
        'certificate 2 is CN=Other Intermediate CA)')


def test_the_leaf_must_be_valid_now():
    leaf = make('shop.test', names=['shop.test'], not_before=NOW - 100 * DAY, days=90)
    assert refused(tls.check_provided, pem(leaf), leaf.key_pem(), [], NOW) == (
        'tls_certificate: expired on 2026-05-22T12:00:00Z')
    at_expiry = NOW - 10 * DAY
    assert refused(tls.check_provided, pem(leaf), leaf.key_pem(), [], at_expiry).endswith('2026-05-22T12:00:00Z')
    assert tls.check_provided(pem(leaf), leaf.key_pem(), [], at_expiry - datetime.timedelta(seconds=1))
    future = make('shop.test', names=['shop.test'], not_before=NOW + DAY)
    assert refused(tls.check_provided, pem(future), future.key_pem(), [], NOW) == (
        'tls_certificate: is not valid yet: valid from 2026-06-02T12:00:00Z')
    assert tls.check_provided(pem(future), future.key_pem(), [], NOW + DAY)
    assert tls.check_provided(pem(future), future.key_pem(), [], (NOW + DAY).replace(tzinfo=None))


def test_every_domain_of_the_app_must_be_covered(shop):
    _root, intermediate, leaf = shop
    text = pem(leaf, intermediate)
    single = make('www.shop.test', names=['shop.test'])
    assert refused(tls.check_provided, pem(single), single.key_pem(), ['shop.test', 'www.shop.test'], NOW) == (
        'tls_certificate: does not cover the domain www.shop.test (its names: shop.test)')
    assert refused(tls.check_provided, text, leaf.key_pem(), ['shop.test', 'A.shop.test', '*.shop.test'], NOW) == (
        'tls_certificate: does not cover the domains a.shop.test, *.shop.test (its names: shop.test, www.shop.test)')
    wildcard = make('*.shop.test', names=['*.shop.test'])
    assert tls.check_provided(pem(wildcard), wildcard.key_pem(), ['*.shop.test', 'api.shop.test'], NOW)
    assert 'does not cover the domain shop.test (' in refused(tls.check_provided, pem(wildcard),
                                                              wildcard.key_pem(), ['shop.test'], NOW)


def test_the_cn_is_never_a_name_of_the_certificate():
    bare = make('shop.test')
    assert refused(tls.check_provided, pem(bare), bare.key_pem(), ['shop.test'], NOW) == (
        'tls_certificate: does not cover the domain shop.test (it has no subjectAltName DNS names, and its CN is '
        'not used: TLS clients ignore it)')


def test_many_names_are_shown_in_part():
    names = ['n%02d.shop.test' % number for number in range(25)]
    leaf = make('shop.test', names=names)
    message = refused(tls.check_provided, pem(leaf), leaf.key_pem(), ['shop.test'], NOW)
    assert message.endswith('(its names: %s and 15 more)' % ', '.join(names[:10]))


def test_names_with_control_characters_stay_on_one_line():
    leaf = make('shop\ntest', names=['shop.test'], ca=False)
    other = make('x', names=['x.test'])
    text = pem(leaf, other)
    assert 'issued by CN=shop\\x0atest' in refused(tls.check_provided, text, leaf.key_pem(), [], NOW)


def test_the_field_names_are_the_callers(shop):
    leaf = shop[2]
    assert refused(tls.check_provided, pem(leaf), shop[1].key_pem(), [], NOW, key_field='key').startswith('key: ')
    assert refused(tls.check_provided, 'x', leaf.key_pem(), [], NOW, cert_field='cert').startswith('cert: ')


# -- without the library -------------------------------------------------------------------------------------------

def test_without_cryptography_each_function_says_so_in_one_line(monkeypatch, shop):
    monkeypatch.setattr(tls, 'HAS_CRYPTOGRAPHY', False)
    for call in (lambda: tls.load_chain(pem(shop[2]), 'c'), lambda: tls.load_key(shop[2].key_pem(), 'k'),
                 tls.new_key, lambda: tls.check_provided(pem(shop[2]), shop[2].key_pem(), [], NOW)):
        message = str(raised(DokkuPsError, call))
        assert 'the Python library cryptography is missing on the managed host' in message
        assert not shown(message, pem(shop[2]), shop[2].key_pem())
    assert tls.covers(['*.shop.test'], 'a.shop.test')
    assert re.match(r'^sha256:[0-9a-f]{64}$', tls.fingerprint_of_der(b'der'))
