# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a TLS server serves for a name (module_utils/_tls_probe.py), against servers these tests run on 127.0.0.1:
one that picks its certificate by SNI, one that rejects unknown names (as nginx's ssl_reject_handshake), one that
never answers, one that speaks plain HTTP, and a port where nothing listens."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import socket
import ssl
import threading
import time

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _tls_probe as probe
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils._tls_certs import fingerprint
from tests.support.certs import make, pem, pki
from tests.unit.helpers import raised

TIMEOUT = 5


@pytest.fixture(scope='module')
def served():
    """Certificates by name: two leaves of one intermediate, and a self-signed default."""
    _root, intermediate, shop = pki()
    other = intermediate.issue('other.test', names=['other.test'])
    default = make('default', names=['default.invalid'])
    return {'shop.test': (shop, intermediate), 'other.test': (other, intermediate), None: (default,)}


def _context(tmp_path, chain):
    cert_file, key_file = tmp_path / ('%s.crt' % id(chain)), tmp_path / ('%s.key' % id(chain))
    cert_file.write_text(pem(*chain))
    key_file.write_text(chain[0].key_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_file), str(key_file))
    return context


class Server:
    """A listening socket on 127.0.0.1 and a thread that serves each connection with ``handle(connection)``."""

    def __init__(self, handle):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.handle = handle
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                connection, _peer = self.listener.accept()
            except socket.timeout:
                continue
            with connection:
                connection.settimeout(TIMEOUT)
                try:
                    self.handle(connection)
                except OSError:
                    pass  # a refused handshake, or the client gone

    def stop(self):
        self.stopping.set()
        self.thread.join(TIMEOUT)
        self.listener.close()


@pytest.fixture
def tls_server(tmp_path, served):
    """Starts a TLS server choosing its certificate by SNI (``reject``: refusing names it has none for)."""
    servers = []

    def start(reject=False):
        contexts = dict((name, _context(tmp_path, chain)) for name, chain in served.items())

        def choose(connection, name, _context_in_use):
            if name in contexts:
                connection.context = contexts[name]
            elif reject:
                return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
            return None

        contexts[None].sni_callback = choose

        def handshake(connection):
            with contexts[None].wrap_socket(connection, server_side=True):
                pass
        servers.append(Server(handshake))
        return servers[-1].port
    yield start
    for server in servers:
        server.stop()


def test_the_certificate_served_for_each_name(tls_server, served):
    port = tls_server()
    for name in ('shop.test', 'other.test'):
        assert probe.served_certificate('127.0.0.1', port, name, TIMEOUT) == fingerprint(pem(*served[name]))
    unknown = probe.served_certificate('127.0.0.1', port, 'unknown.test', TIMEOUT)
    assert unknown == fingerprint(pem(*served[None]))
    assert probe.served_certificate('127.0.0.1', port, None, TIMEOUT) == unknown


def test_a_rejected_handshake_serves_nothing(tls_server, served):
    port = tls_server(reject=True)
    assert probe.served_certificate('127.0.0.1', port, 'unknown.test', TIMEOUT) is None
    assert probe.served_certificate('127.0.0.1', port, 'shop.test', TIMEOUT) == fingerprint(pem(*served['shop.test']))


def test_nothing_listening_serves_nothing():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as unused:
        unused.bind(('127.0.0.1', 0))
        port = unused.getsockname()[1]
    assert probe.served_certificate('127.0.0.1', port, 'shop.test', TIMEOUT) is None


def test_a_server_that_never_answers_is_given_up_after_the_timeout():
    server = Server(lambda connection: server.stopping.wait(TIMEOUT))
    try:
        started = time.monotonic()
        assert probe.served_certificate('127.0.0.1', server.port, 'shop.test', 0.5) is None
        assert 0.4 < time.monotonic() - started < 3
    finally:
        server.stop()


def test_a_server_speaking_plain_http_serves_nothing():
    server = Server(lambda connection: connection.sendall(b'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'))
    try:
        assert probe.served_certificate('127.0.0.1', server.port, 'shop.test', TIMEOUT) is None
    finally:
        server.stop()


def test_other_network_errors_are_one_line(monkeypatch):
    def unreachable(address, timeout=None):
        raise OSError(errno.EHOSTUNREACH, 'No route to host')
    monkeypatch.setattr(probe.socket, 'create_connection', unreachable)
    message = str(raised(DokkuPsError, probe.served_certificate, '192.0.2.1', 443, 'shop.test', TIMEOUT))
    assert message == 'cannot reach 192.0.2.1 port 443 for a TLS handshake: No route to host'
