# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate a TLS server serves for a name: one handshake with SNI, its leaf's fingerprint (the network).

It reports what is served and verifies nothing: the rules a certificate must pass are ``_tls_certs.py``'s. Python's
``ssl`` only, so it needs no library on the managed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import select
import socket
import ssl
import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils._tls_certs import fingerprint_of_der

# what means "no certificate is served here": nothing listens, the handshake is refused (nginx's
# ssl_reject_handshake sends an alert), the connection is dropped, or no answer comes in time
_NOTHING_SERVED = (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                   socket.timeout, ssl.SSLError)


def _client_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _handshake(tls, deadline):
    """Completes the handshake of the non-blocking ``tls`` before ``deadline`` (time.monotonic), else socket.timeout."""
    while True:
        try:
            tls.do_handshake()
            return
        except ssl.SSLWantReadError:
            wait = ([tls], [])
        except ssl.SSLWantWriteError:
            wait = ([], [tls])
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not any(select.select(wait[0], wait[1], [], remaining)[:2]):
            raise socket.timeout('the TLS handshake took too long')


def served_certificate(address, port, server_name, timeout):
    """The fingerprint (``sha256:<hex>`` of the DER, as ``_tls_certs.fingerprint_of_der``) of the leaf certificate the
    TLS server at ``address``:``port`` presents for the SNI name ``server_name`` (None: no SNI); None when nothing
    listens, the handshake is refused or dropped, or it is not done within ``timeout`` seconds (connect and handshake
    together). Any other network error (no route, an address that does not resolve) is a one-line DokkuPsError."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw:
            with _client_context().wrap_socket(raw, server_hostname=server_name,
                                               do_handshake_on_connect=False) as tls:
                tls.setblocking(False)
                _handshake(tls, deadline)
                der = tls.getpeercert(binary_form=True)
    except _NOTHING_SERVED:
        return None
    except OSError as exc:
        raise DokkuPsError('cannot reach %s port %s for a TLS handshake: %s'
                           % (address, port, exc.strerror or exc.__class__.__name__)) from None
    return fingerprint_of_der(der) if der else None
