#!/usr/bin/env python
"""The demo's certificate: a CA of the demo's own and one certificate it signs for the demo's domain, made once
with ``cryptography`` (scripts/demo.sh runs this with the venv's Python before the playbook).

    .venv/bin/python scripts/demo_tls.py .build/demo-tls demo.localhost

Writes into the directory (PEM):

- ``ca.crt``: the demo CA, what a client trusts (``curl --cacert .build/demo-tls/ca.crt``);
- ``<domain>.crt``: the certificate nginx serves for the domain(s), signed by the CA (the app's ``tls_certificate``);
- ``<domain>.key``: its private key, mode 0600 (the app's ``tls_key``).

The CA's own key is never written: it signs the one certificate and is gone, so trusting ``ca.crt`` trusts that
certificate and nothing else anyone could sign later. A run keeps the three files when they still fit (the
certificate is the CA's, covers exactly the names asked for, matches its key and stays valid for RENEW_DAYS more)
and says so; otherwise it makes all three anew. Prints one line: what it made or kept, and until when.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 365
RENEW_DAYS = 30  # made anew when fewer days than this remain
CA_NAME = "dokku_ps demo CA"
UTC = datetime.timezone.utc


def _utc(cert, attribute):
    """A certificate's not_valid_before/not_valid_after as an aware UTC datetime (cryptography 41 has no *_utc)."""
    value = getattr(cert, attribute + "_utc", None)
    return value if value is not None else getattr(cert, attribute).replace(tzinfo=UTC)


def paths(directory, domain):
    return (os.path.join(directory, "ca.crt"), os.path.join(directory, domain + ".crt"),
            os.path.join(directory, domain + ".key"))


def _key_usage(signs_certificates):
    return x509.KeyUsage(digital_signature=not signs_certificates, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=signs_certificates,
                         crl_sign=signs_certificates, encipher_only=False, decipher_only=False)


def make(names, now):
    """(CA certificate, leaf certificate, leaf key) for ``names``, valid from an hour ago for VALID_DAYS."""
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_subject).issuer_name(ca_subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_cert, cert, key


def still_fits(files, names, now):
    """The leaf's notAfter when the three files are there and still fit (see the module's docstring), else None."""
    ca_file, cert_file, key_file = files
    try:
        with open(ca_file, "rb") as handle:
            ca_cert = x509.load_pem_x509_certificate(handle.read())
        with open(cert_file, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        with open(key_file, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    same_key = (key.public_key().public_bytes(serialization.Encoding.DER, public)
                == cert.public_key().public_bytes(serialization.Encoding.DER, public))
    not_after = _utc(cert, "not_valid_after")
    fits = (same_key and sorted(sans.get_values_for_type(x509.DNSName)) == sorted(names)
            and cert.issuer == ca_cert.subject and _utc(cert, "not_valid_before") <= now
            and not_after - now >= datetime.timedelta(days=RENEW_DAYS) and _utc(ca_cert, "not_valid_after") >= not_after)
    return not_after if fits else None


def write(path, data, mode):
    """``data`` into ``path`` atomically (a temporary file of the same directory renamed over it), with ``mode``."""
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(prefix=".demo-tls-", dir=directory)
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("directory", help="where the files are kept (created when missing)")
    parser.add_argument("names", nargs="+", help="the DNS names of the certificate; the first names the files")
    args = parser.parse_args(argv)
    names = list(dict.fromkeys(name.lower() for name in args.names))
    os.makedirs(args.directory, mode=0o755, exist_ok=True)
    files = paths(args.directory, names[0])
    now = datetime.datetime.now(UTC)
    shown = os.path.relpath(args.directory)
    if shown.startswith(os.pardir):
        shown = os.path.abspath(args.directory)
    not_after = still_fits(files, names, now)
    if not_after is not None:
        print("kept the demo CA and the certificate of %s in %s/ (valid until %s)"
              % (", ".join(names), shown, not_after.strftime("%Y-%m-%d")))
        return 0
    ca_cert, cert, key = make(names, now)
    pem = serialization.Encoding.PEM
    # a run stopped between these writes leaves files that do not fit together: the next run makes them anew
    write(files[2], key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600)
    write(files[1], cert.public_bytes(pem), 0o644)
    write(files[0], ca_cert.public_bytes(pem), 0o644)
    print("made a demo CA (%s) and a certificate of %s it signed, in %s/ (valid until %s; the CA's key is not kept)"
          % (CA_NAME, ", ".join(names), shown, _utc(cert, "not_valid_after").strftime("%Y-%m-%d")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
