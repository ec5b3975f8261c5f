# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS certificates and keys: the rules a certificate must pass before the proxy serves it (pure, over PEM text).

* :func:`load_chain` and :func:`load_key` read PEM text (a certificate and its chain, leaf first; one private key:
  RSA, EC or Ed25519 as PKCS#1, SEC1 or PKCS#8, never encrypted);
* :func:`check_provided` is every check made before a brought certificate is written: the key is the leaf's, the
  chain is in order, the leaf is valid now and covers every domain of the app (:func:`covers`, as TLS clients
  match names);
* :func:`summary` and :func:`fingerprint` say what a certificate is without anything secret;
* :func:`new_key`, :func:`csr`, :func:`renewal_due_at`, :func:`is_due` and :func:`ari_cert_id` serve ACME.

Each refusal is a one-line :class:`ValidationError` naming the field and the rule. No message ever holds a byte of
the PEM text given: a key is never shown, and a certificate is named by its subject, names and dates only.

``cryptography`` is a managed-host dependency. It is imported at the first need (``_require``), so a module run that
reads no certificate does not load it: this file always imports, and every function that needs the library raises
a one-line :class:`DokkuPsError` naming it when it is missing (:func:`covers` and :func:`fingerprint_of_der` do not
need it; the functions given a loaded certificate or key come after the one that loaded it).

Times: ``now``, ``not_before`` and ``not_after`` are timezone-aware datetimes (a naive one is taken as UTC) or, for
the renewal functions, text as :func:`summary` writes it (``YYYY-MM-DDTHH:MM:SSZ``); :func:`renewal_due_at`
returns a timezone-aware UTC datetime.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import collections
import datetime
import hashlib
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError

# the library's names, bound at the first need (_require): a module run that reads no certificate does not load it
x509 = InvalidSignature = UnsupportedAlgorithm = hashes = serialization = None
ec = ed25519 = padding = rsa = NameOID = None
HAS_CRYPTOGRAPHY = None  # None: not imported yet; then True, or False with CRYPTOGRAPHY_IMPORT_ERROR
CRYPTOGRAPHY_IMPORT_ERROR = None

UTC = datetime.timezone.utc
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
# the EC curves TLS clients accept for a server key (nginx's OpenSSL offers these)
EC_CURVES = {'secp256r1': 'P-256', 'secp384r1': 'P-384', 'secp521r1': 'P-521'}
# a refused certificate's names shown at most
SHOWN_NAMES = 10

_Block = collections.namedtuple('_Block', 'label text encrypted')
_BEGIN = re.compile(r'-----BEGIN [^\r\n]*?-----')
_BLOCK = re.compile(r'-----BEGIN ([A-Z0-9 ]+)-----[ \t]*\r?\n(.*?)-----END \1-----', re.S)
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
_KEY_FORMS = 'RSA, EC or Ed25519, in PEM: PKCS#8, PKCS#1 or SEC1'


def _require(doing):
    """Import cryptography (once); a one-line DokkuPsError saying what could not be done when it is missing."""
    global x509, InvalidSignature, UnsupportedAlgorithm, hashes, serialization, ec, ed25519, padding, rsa, NameOID
    global HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_IMPORT_ERROR
    if HAS_CRYPTOGRAPHY is None:
        try:
            from cryptography import x509
            from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
            from cryptography.x509.oid import NameOID
            HAS_CRYPTOGRAPHY = True
        except ImportError as import_error:  # pragma: no cover - depends on the host
            HAS_CRYPTOGRAPHY = False
            CRYPTOGRAPHY_IMPORT_ERROR = import_error
    if not HAS_CRYPTOGRAPHY:
        raise DokkuPsError('cannot %s: the Python library cryptography is missing on the managed host (install '
                           'python3-cryptography or pip install cryptography): %s' % (doing, CRYPTOGRAPHY_IMPORT_ERROR))


def _shown(text):
    """``text`` (a name of a certificate, not secret) on one line: control characters escaped."""
    return _CONTROL.sub(lambda match: '\\x%02x' % ord(match.group()), text)


def _blocks(text, field):
    """The PEM blocks of ``text``; text around them is ignored (as OpenSSL does)."""
    if isinstance(text, bytes):
        try:
            text = text.decode('ascii')
        except UnicodeDecodeError:
            raise ValidationError(field, 'is not PEM text (it holds bytes that are not ASCII)') from None
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(field, 'is empty: PEM text expected')
    blocks = [_Block(match.group(1), match.group(0), 'ENCRYPTED' in match.group(1) or
                     bool(re.search(r'^Proc-Type:.*ENCRYPTED', match.group(2), re.M)))
              for match in _BLOCK.finditer(text)]
    if not blocks:
        raise ValidationError(field, 'is not PEM text (no BEGIN line with its END line)')
    if len(_BEGIN.findall(text)) != len(blocks):
        raise ValidationError(field, 'is not PEM text: a BEGIN line has no END line')
    return blocks


def _is_key(block):
    return block.label.endswith('PRIVATE KEY')


def _is_certificate(block):
    return block.label.endswith('CERTIFICATE')


def load_chain(text, field):
    """PEM text of a certificate followed by its chain -> the ``x509.Certificate`` objects, leaf first."""
    _require('read a certificate')
    blocks = _blocks(text, field)
    if any(_is_key(block) for block in blocks):
        raise ValidationError(field, 'holds a private key: the certificate field takes certificates only (the key has '
                                     'a field of its own)')
    if not any(block.label == 'CERTIFICATE' for block in blocks):
        if any(block.label in ('CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST') for block in blocks):
            raise ValidationError(field, 'holds a certificate request (CSR), not a certificate')
        raise ValidationError(field, 'holds no certificate (PEM CERTIFICATE blocks expected)')
    if any(block.label != 'CERTIFICATE' for block in blocks):
        raise ValidationError(field, 'holds PEM blocks that are not certificates: give the certificate, then its '
                                     'chain, as PEM CERTIFICATE blocks')
    chain = []
    for number, block in enumerate(blocks, 1):
        try:
            certificate = x509.load_pem_x509_certificate(block.text.encode('ascii'))
            len(certificate.extensions)  # parsed now: a bad extension is refused here, not later
        except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension,
                x509.UnsupportedGeneralNameType):
            raise ValidationError(field, 'certificate %d of %d cannot be read (not an X.509 certificate)'
                                  % (number, len(blocks))) from None
        chain.append(certificate)
    return chain


def load_key(text, field):
    """PEM text of one private key (RSA, EC on P-256/384/521, Ed25519; PKCS#1, SEC1 or PKCS#8) -> the key object."""
    _require('read a private key')
    blocks = _blocks(text, field)
    keys = [block for block in blocks if _is_key(block)]
    if any(_is_certificate(block) for block in blocks):
        if keys:
            raise ValidationError(field, 'holds a certificate as well as the key: give the private key alone')
        raise ValidationError(field, 'is a certificate, not a private key (the certificate has a field of its own)')
    if not keys:
        raise ValidationError(field, 'holds no private key (%s expected)' % _KEY_FORMS)
    if len(keys) > 1:
        raise ValidationError(field, 'holds %d private keys: give one' % len(keys))
    if any(not _is_key(block) and block.label != 'EC PARAMETERS' for block in blocks):
        raise ValidationError(field, 'holds PEM blocks besides the private key: give the key alone')
    block = keys[0]
    encrypted = ValidationError(field, 'encrypted private keys are not supported: give it without a passphrase, '
                                       'from a vault')
    if block.encrypted:
        raise encrypted
    if block.label == 'OPENSSH PRIVATE KEY':
        raise ValidationError(field, 'an OpenSSH private key is not supported (%s)' % _KEY_FORMS)
    try:
        key = serialization.load_pem_private_key(block.text.encode('ascii'), password=None)
    except TypeError:
        raise encrypted from None
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationError(field, 'cannot be read as a private key (%s)' % _KEY_FORMS) from None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name not in EC_CURVES:
        raise ValidationError(field, 'an EC key on the curve %s is not supported (P-256, P-384 or P-521)'
                              % _shown(key.curve.name))
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        raise ValidationError(field, 'this kind of private key is not supported (%s)' % _KEY_FORMS)
    return key


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_matches(key, certificate):
    try:
        return _public_der(key.public_key()) == _public_der(certificate.public_key())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def _signed_by(certificate, issuer):
    """Whether ``issuer``'s key made ``certificate``'s signature (RSA PKCS#1 v1.5 or PSS, ECDSA, Ed25519)."""
    try:
        public_key = issuer.public_key()
        signature, signed = certificate.signature, certificate.tbs_certificate_bytes
        if isinstance(public_key, rsa.RSAPublicKey):
            scheme = getattr(certificate, 'signature_algorithm_parameters', None)  # cryptography 41+
            if not isinstance(scheme, padding.PSS):
                scheme = padding.PKCS1v15()
            public_key.verify(signature, signed, scheme, certificate.signature_hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed, ec.ECDSA(certificate.signature_hash_algorithm))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, signed)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _dn(name):
    return _shown(name.rfc4514_string()) or '(an empty name)'


def check_chain_order(chain, field):
    """Each certificate of ``chain`` was issued by the next one: its issuer is the next one's subject, and the next
    one's key verifies its signature. A certificate alone (self-signed or not) is in order."""
    for number in range(1, len(chain)):
        issued, issuer = chain[number - 1], chain[number]
        if issued.issuer != issuer.subject:
            why = 'certificate %d was issued by %s, certificate %d is %s' % (
                number, _dn(issued.issuer), number + 1, _dn(issuer.subject))
        elif not _signed_by(issued, issuer):
            why = "certificate %d's key did not sign it" % (number + 1)
        else:
            continue
        raise ValidationError(field, 'the chain is not in order: certificate %d did not issue certificate %d (%s)'
                              % (number + 1, number, why))


def _utc(certificate, attribute):
    value = getattr(certificate, attribute + '_utc', None)  # cryptography 42+
    return value if value is not None else getattr(certificate, attribute).replace(tzinfo=UTC)


def _aware(moment):
    if isinstance(moment, str):
        return datetime.datetime.strptime(moment, TIME_FORMAT).replace(tzinfo=UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _text(moment):
    return _aware(moment).strftime(TIME_FORMAT)


def check_dates(certificate, now, field):
    """``certificate`` is valid at ``now``: already valid (not_before <= now) and not expired (not_after > now)."""
    now = _aware(now)
    not_before, not_after = _utc(certificate, 'not_valid_before'), _utc(certificate, 'not_valid_after')
    if not_after <= now:
        raise ValidationError(field, 'expired on %s' % _text(not_after))
    if not_before > now:
        raise ValidationError(field, 'is not valid yet: valid from %s' % _text(not_before))


def dns_names(certificate):
    """The subjectAltName DNS names of ``certificate``, as written in it (its CN is never one of them)."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return extension.value.get_values_for_type(x509.DNSName)


def _normal(name):
    return name.strip().lower().rstrip('.')


def _matches(name, domain):
    if name == domain:
        return True
    if domain.startswith('*.') or not name.startswith('*.'):
        return False
    parent = name[2:]
    label, _dot, rest = domain.partition('.')
    # a wildcard is one whole leftmost label, over at least two labels (never *.com)
    return '*' not in parent and '.' in parent and bool(label) and rest == parent


def covers(names, domain):
    """Whether a certificate of these DNS ``names`` serves ``domain``, as TLS clients match them (RFC 6125):
    ``*.example.com`` covers ``a.example.com``, not ``example.com`` nor ``a.b.example.com``; a domain ``*.example.com``
    is covered only by the name ``*.example.com``; case and a final dot do not matter."""
    domain = _normal(domain)
    return bool(domain) and any(_matches(_normal(name), domain) for name in names)


def check_domains(certificate, domains, field):
    """Every domain of ``domains`` is covered by ``certificate``'s subjectAltName DNS names."""
    names = dns_names(certificate)
    missing = [_normal(domain) for domain in domains if not covers(names, domain)]
    if not missing:
        return
    if names:
        shown = ', '.join(_shown(name) for name in sorted(names)[:SHOWN_NAMES])
        if len(names) > SHOWN_NAMES:
            shown += ' and %d more' % (len(names) - SHOWN_NAMES)
        why = 'its names: %s' % shown
    else:
        why = 'it has no subjectAltName DNS names, and its CN is not used: TLS clients ignore it'
    raise ValidationError(field, 'does not cover the domain%s %s (%s)' % (
        's' if len(missing) > 1 else '', ', '.join(_shown(domain) for domain in missing), why))


def check_provided(cert_text, key_text, domains, now, cert_field='tls_certificate', key_field='tls_key'):
    """Everything checked before a brought certificate is written: it and its key read, the key is the leaf's, the
    chain is in order, the leaf is valid at ``now`` and covers every domain of ``domains``. Returns its
    :func:`summary`."""
    chain = load_chain(cert_text, cert_field)
    key = load_key(key_text, key_field)
    if not _key_matches(key, chain[0]):
        raise ValidationError(key_field, 'does not match the certificate (its public key is another one)')
    check_chain_order(chain, cert_field)
    check_dates(chain[0], now, cert_field)
    check_domains(chain[0], domains, cert_field)
    return summary(chain)


def fingerprint_of_der(der):
    """``sha256:<hex>`` of a certificate's DER bytes (the fingerprint every result and probe shows)."""
    return 'sha256:' + hashlib.sha256(der).hexdigest()


def _serial_hex(serial):
    digits = '%x' % abs(serial)
    return ('-' if serial < 0 else '') + ('0' * (len(digits) % 2)) + digits


def summary(chain):
    """What the leaf of ``chain`` is, nothing secret: subject and issuer (RFC 4514), its sorted subjectAltName DNS
    names, its validity (``YYYY-MM-DDTHH:MM:SSZ``), its fingerprint (``sha256:<hex>`` of its DER) and serial (hex)."""
    leaf = chain[0]
    return {
        'subject': leaf.subject.rfc4514_string(),
        'names': sorted(dns_names(leaf)),
        'issuer': leaf.issuer.rfc4514_string(),
        'not_before': _text(_utc(leaf, 'not_valid_before')),
        'not_after': _text(_utc(leaf, 'not_valid_after')),
        'fingerprint': fingerprint_of_der(leaf.public_bytes(serialization.Encoding.DER)),
        'serial': _serial_hex(leaf.serial_number),
    }


def fingerprint(cert_text, field='certificate'):
    """The fingerprint (``sha256:<hex>``) of the leaf of PEM text ``cert_text``."""
    return fingerprint_of_der(load_chain(cert_text, field)[0].public_bytes(serialization.Encoding.DER))


def new_key():
    """PEM text (PKCS#8, unencrypted) of a new EC P-256 private key, for an ACME certificate."""
    _require('make a private key')
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode('ascii')


def csr(key_text, domains):
    """PEM text of a certificate signing request of the key ``key_text`` for ``domains``: each one a subjectAltName
    DNS name, in order and once; the first one is also the CN (left out when over the CN's 64 characters)."""
    key = load_key(key_text, 'key')
    names = []
    for domain in domains:
        if _normal(domain) and _normal(domain) not in names:
            names.append(_normal(domain))
    if not names:
        raise ValidationError('domains', 'a certificate request needs at least one domain')
    try:
        subject = [x509.NameAttribute(NameOID.COMMON_NAME, names[0])] if len(names[0]) <= 64 else []
        alt_names = x509.SubjectAlternativeName([x509.DNSName(name) for name in names])
    except (ValueError, TypeError):
        raise ValidationError('domains', 'holds a name a certificate request cannot carry (DNS names in '
                                         'ASCII)') from None
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(subject))
    request = request.add_extension(alt_names, critical=False)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return request.sign(key, algorithm).public_bytes(serialization.Encoding.PEM).decode('ascii')


def renewal_due_at(not_before, not_after):
    """The moment (a timezone-aware UTC datetime) when a third of the certificate's lifetime remains, rounded to the
    second before: a 90-day certificate is due 30 days before it expires, a 45-day one 15 days before."""
    not_before, not_after = _aware(not_before), _aware(not_after)
    lifetime = int((not_after - not_before).total_seconds())
    if lifetime <= 0:
        raise DokkuPsError('a certificate valid from %s until %s has no lifetime'
                           % (_text(not_before), _text(not_after)))
    return not_after - datetime.timedelta(seconds=-(-lifetime // 3))


def is_due(not_before, not_after, now):
    """Whether the certificate should be renewed at ``now`` (:func:`renewal_due_at` has come)."""
    return _aware(now) >= renewal_due_at(not_before, not_after)


def _base64url(data):
    return base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')


def _serial_der_bytes(serial):
    """The content bytes of the DER INTEGER of ``serial``: two's complement, shortest (a leading zero byte when the
    high bit of a positive number's first byte is set)."""
    magnitude = serial if serial >= 0 else ~serial
    return serial.to_bytes(magnitude.bit_length() // 8 + 1, 'big', signed=True)


def ari_id(key_identifier, serial):
    """The ACME Renewal Information certificate identifier (RFC 9773, 4.1) of an Authority Key Identifier's
    keyIdentifier (bytes) and a serial number (int): both base64url without padding, joined by a dot."""
    return '%s.%s' % (_base64url(key_identifier), _base64url(_serial_der_bytes(serial)))


def ari_cert_id(cert_text, field='certificate'):
    """The ACME Renewal Information identifier (:func:`ari_id`) of the leaf of PEM text ``cert_text``."""
    leaf = load_chain(cert_text, field)[0]
    try:
        key_identifier = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        key_identifier = None
    if not key_identifier:
        raise ValidationError(field, 'has no Authority Key Identifier (keyIdentifier): ACME renewal information '
                                     '(RFC 9773) cannot name it')
    return ari_id(key_identifier, leaf.serial_number)
