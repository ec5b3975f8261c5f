"""Test PKI made with ``cryptography``: CAs, leaves of chosen names and validity, keys in every PEM form.

Everything is made fresh and in memory; the texts are what a user would paste into ``tls_certificate`` and
``tls_key``::

    root = make('Test Root CA', ca=True)                        # self-signed, EC P-256, valid around NOW
    intermediate = root.issue('Test Intermediate CA', ca=True)
    leaf = intermediate.issue('shop.test', names=['shop.test', 'www.shop.test'], days=90)
    chain_text = pem(leaf, intermediate)                        # leaf first, as nginx wants it
    key_text = leaf.key_pem()                                   # PKCS#8; form='traditional', password=b'...'

Keys: ``kind`` is ``ec`` (P-256), ``rsa`` (2048 bits), ``ed25519``, ``ed448`` or ``secp256k1`` (the last two are
kinds the collection refuses). Validity: ``not_before`` (default ``NOW`` minus one day) and ``days`` (default 90) or
``not_after``.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

UTC = datetime.timezone.utc
# the "now" of the unit tests: every certificate made without dates is valid at it
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)
# what `openssl ecparam -genkey` writes before an EC key: the curve P-256
EC_PARAMETERS = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n'


def new_key(kind='ec'):
    """A new private key of ``kind``."""
    if kind == 'ec':
        return ec.generate_private_key(ec.SECP256R1())
    if kind == 'secp256k1':
        return ec.generate_private_key(ec.SECP256K1())
    if kind == 'rsa':
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == 'ed25519':
        return ed25519.Ed25519PrivateKey.generate()
    if kind == 'ed448':
        return ed448.Ed448PrivateKey.generate()
    raise ValueError('no key kind %r' % kind)


def key_pem(key, form='pkcs8', password=None):
    """PEM text of ``key``: ``pkcs8``, ``traditional`` (PKCS#1 for RSA, SEC1 for EC) or ``openssh``; encrypted with
    ``password`` (bytes) when given."""
    formats = {'pkcs8': serialization.PrivateFormat.PKCS8,
               'traditional': serialization.PrivateFormat.TraditionalOpenSSL,
               'openssh': serialization.PrivateFormat.OpenSSH}
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, formats[form], encryption).decode('ascii')


def _signing_hash(key):
    return None if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()


class Issued:
    """A certificate and its private key."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @property
    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM).decode('ascii')

    def key_pem(self, form='pkcs8', password=None):
        return key_pem(self.key, form, password)

    def issue(self, common_name, **options):
        """A certificate this one signs (see :func:`make`)."""
        return make(common_name, issuer=self, **options)


def make(common_name, names=(), issuer=None, key=None, kind='ec', not_before=None, days=90, not_after=None,
         ca=False, serial=None, key_identifier=True):
    """A certificate for ``common_name`` (None: an empty subject) with the subjectAltName DNS ``names`` (none: no
    subjectAltName), signed by ``issuer`` (an :class:`Issued`; None: self-signed), for ``key`` (default: a new key of
    ``kind``). ``key_identifier``: True, the issuer's Authority Key Identifier; bytes, that keyIdentifier; None,
    no Authority Key Identifier."""
    key = key or new_key(kind)
    not_before = not_before or NOW - DAY
    not_after = not_after or not_before + datetime.timedelta(days=days)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    signer = issuer.key if issuer else key
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer.cert.subject if issuer else subject)
               .public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]),
                                        critical=False)
    if key_identifier is True:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                                        critical=False)
    elif key_identifier:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(key_identifier, None, None), critical=False)
    return Issued(builder.sign(signer, _signing_hash(signer)), key)


def pem(*certificates):
    """PEM text of these certificates (:class:`Issued` or ``x509.Certificate``), in the order given."""
    return ''.join(item.cert_pem if isinstance(item, Issued)
                   else item.public_bytes(serialization.Encoding.PEM).decode('ascii') for item in certificates)


def pki(kind='ec'):
    """A root CA, an intermediate CA it issued, and a leaf for ``shop.test`` and ``www.shop.test`` the intermediate
    issued; every key of ``kind``."""
    root = make('Test Root CA', kind=kind, ca=True, days=3650)
    intermediate = root.issue('Test Intermediate CA', kind=kind, ca=True, days=1825)
    leaf = intermediate.issue('shop.test', names=['shop.test', 'www.shop.test'], kind=kind)
    return root, intermediate, leaf
