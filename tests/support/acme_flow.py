"""Driving an ACME server from a test with the ``acme`` library (certbot's, 5.x): account, order, http-01 through
a webroot, finalize; ARI; verifying what was issued. Test code only: the collection has its own client.

    with PrivateNginx(tmp_path / "nginx") as nginx, Pebble(tmp_path / "pebble", nginx.port) as ca:
        client = acme_flow.new_client(ca.directory_url, ca.ca_bundle)
        issued = acme_flow.issue(client, ["shop.test", "www.shop.test"], webroot)
        acme_flow.verify_chain(issued.fullchain_pem, ca.root_pem, "shop.test")

``webroot`` is the directory the http server serves ``/.well-known/acme-challenge/`` from (nginx:
``acme_challenge_location(webroot)`` inside a server block, or the whole block ``challenge_server_conf``); nginx's
workers must be able to read it, which ``webroot_dir()`` makes sure of. Every wait is bounded by ``timeout`` seconds.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime
import math
import os
import shutil
import tempfile

import josepy as jose
from acme import challenges, client as acme_client, crypto_util, messages
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import verification

USER_AGENT = "dokku_ps-tests"

Issued = collections.namedtuple("Issued", "names key_pem csr_pem fullchain_pem cert_pem chain_pem order_uri seconds")


@contextlib.contextmanager
def webroot_dir(prefix="dokku-ps-webroot-"):
    """A new webroot directory that nginx's workers can read, removed afterwards. The workers run as another user
    than the root master, and pytest's ``tmp_path`` is private (0700): a webroot there answers 403."""
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        os.chmod(path, 0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def acme_challenge_location(webroot, indent="        "):
    """The nginx location that serves the http-01 tokens written into ``webroot`` (for a server block)."""
    lines = ["location ^~ /.well-known/acme-challenge/ {",
             "    default_type text/plain;",
             "    alias %s/;" % os.path.abspath(str(webroot)).rstrip("/"),
             "}"]
    return "".join(indent + line + "\n" for line in lines)


def challenge_server_conf(port, webroot, address="127.0.0.1"):
    """A whole nginx server block (for ``PrivateNginx.http_extra``): the default server on ``address:port``
    serving http-01 tokens from ``webroot``, 404 for everything else."""
    return ("    server {\n        listen %s:%d default_server;\n        server_name _;\n%s        location / {\n"
            "            return 404;\n        }\n    }\n" % (address, port, acme_challenge_location(webroot)))


def new_key_pem():
    """A new EC P-256 private key, PEM (PKCS#8): for a certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def new_client(directory_url, ca_bundle, account_key=None, email=None, only_existing=False, timeout=30):
    """An ``acme.client.ClientV2`` with a new account (EC P-256 key, ES256) on the server at ``directory_url``,
    trusting only ``ca_bundle`` for its HTTPS. ``account_key`` (a ``josepy.JWKEC``) reuses a key: the server
    then answers with the existing account; with ``only_existing`` it creates none (``acme.messages.Error``
    ``accountDoesNotExist`` when it knows no account of that key)."""
    if account_key is None:
        account_key = jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))
    net = acme_client.ClientNetwork(account_key, alg=jose.ES256, verify_ssl=ca_bundle, user_agent=USER_AGENT,
                                    timeout=timeout)
    net.session.trust_env = False  # no proxy from the environment: the server is on 127.0.0.1
    directory = acme_client.ClientV2.get_directory(directory_url, net)
    client = acme_client.ClientV2(directory, net)
    registration = messages.NewRegistration.from_data(email=email, terms_of_service_agreed=True,
                                                      only_return_existing=only_existing)
    client.new_account(registration)
    return client


def issue(client, names, webroot, key_pem=None, timeout=30):
    """Orders a certificate for ``names`` (the first one first in the CSR), answers each http-01 challenge
    by writing its key authorization to ``<webroot>/<token>`` (removed afterwards), waits for the
    authorizations and the finalization (at most ``timeout`` seconds in all). Returns an ``Issued``."""
    started = datetime.datetime.now()
    deadline = started + datetime.timedelta(seconds=timeout)
    if key_pem is None:
        key_pem = new_key_pem()
    csr_pem = crypto_util.make_csr(key_pem, list(names))
    order = client.new_order(csr_pem)
    written = []
    os.makedirs(str(webroot), exist_ok=True)
    try:
        for authorization in order.authorizations:
            if authorization.body.status == messages.STATUS_VALID:
                continue
            challenge = next((c for c in authorization.body.challenges if isinstance(c.chall, challenges.HTTP01)),
                             None)
            if challenge is None:
                raise AssertionError("no http-01 challenge for %s" % authorization.body.identifier.value)
            response, validation = challenge.response_and_validation(client.net.key)
            path = os.path.join(str(webroot), challenge.chall.encode("token"))
            with open(path, "w", encoding="ascii") as handle:
                handle.write(validation)
            written.append(path)
            os.chmod(path, 0o644)  # whatever the umask: nginx's workers read it
            client.answer_challenge(challenge, response)
        order = client.poll_and_finalize(order, deadline=deadline)
    finally:
        for path in written:
            try:
                os.unlink(path)
            except OSError:
                pass
    fullchain = order.fullchain_pem
    certificates = split_pem(fullchain)
    return Issued(list(names), key_pem, csr_pem, fullchain, certificates[0], "".join(certificates[1:]), order.uri,
                  (datetime.datetime.now() - started).total_seconds())


def split_pem(text):
    """The PEM blocks of ``text`` (str), each ending with a newline."""
    marker = "-----END CERTIFICATE-----"
    return [block.strip() + "\n" + marker + "\n" for block in text.split(marker) if block.strip()]


def load_certificates(text):
    """``cryptography`` certificates from a PEM text (str or bytes)."""
    if isinstance(text, str):
        text = text.encode("ascii")
    return x509.load_pem_x509_certificates(text)


def verify_chain(fullchain_pem, roots_pem, name, at=None):
    """Verifies a full chain (leaf first) against the roots for the DNS name ``name`` (cryptography's
    server verifier, the web PKI's rules). Returns the verified chain (leaf ... root); raises
    ``cryptography.x509.verification.VerificationError`` when it does not verify."""
    leaf, *intermediates = load_certificates(fullchain_pem)
    builder = verification.PolicyBuilder().store(verification.Store(load_certificates(roots_pem)))
    if at is not None:
        builder = builder.time(at)
    verifier = builder.build_server_verifier(x509.DNSName(name))
    return verifier.verify(leaf, intermediates)


def _b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def ari_cert_id(cert_pem):
    """The ARI certificate identifier of a certificate (RFC 9773 §4.1; pebble's draft-03 path uses the same):
    base64url(keyIdentifier of its Authority Key Identifier) '.' base64url(DER bytes of its serial), no padding."""
    cert = load_certificates(cert_pem)[0]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    serial = cert.serial_number
    serial_bytes = serial.to_bytes(math.ceil((serial.bit_length() + 1) / 8), "big", signed=True)
    return "%s.%s" % (_b64url(aki), _b64url(serial_bytes))


def renewal_info(client, cert_pem):
    """GETs the ARI renewal information of a certificate -> (url, JSON dict, ``Retry-After`` header or None)."""
    url = client.directory["renewalInfo"].rstrip("/") + "/" + ari_cert_id(cert_pem)
    response = client.net.get(url, content_type="application/json")
    return url, response.json(), response.headers.get("Retry-After")
