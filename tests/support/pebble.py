"""A real ACME server on this machine for the HTTPS tests: Debian's pebble, its fake DNS, and a contact counter.

``Pebble(root_dir, http_port)`` is a context manager that runs, all on 127.0.0.1 and all as our own children:

- ``pebble-challtestsrv`` as the only DNS server pebble asks: every A query is answered with 127.0.0.1 (no AAAA,
  none of its own challenge servers), so pebble's validator reaches ``http://<any name>:<http_port>/`` on this
  machine, where the test's private nginx (``tests/support/nginx.py``) serves the http-01 tokens from a webroot;
- ``pebble`` itself (ACME on ``listen_port``, its management interface on ``management_port``), with
  ``PEBBLE_VA_NOSLEEP=1`` (no random validation delay), ``PEBBLE_AUTHZREUSE=0`` (every order gets fresh
  authorizations, so every order is validated) and ``PEBBLE_WFE_NONCEREJECT=0`` (none of its deliberate bad-nonce
  answers), its certificates valid ``validity_seconds`` when given (its default is five years);
- a TCP forwarder of our own in a thread: ``directory_url`` points at it, it relays bytes both ways to pebble's
  ACME port (TLS stays end to end) and counts the connections it accepted (``contacts()``), so a test can assert
  that a run contacted no CA. Pebble writes every URL of its directory with the Host its client asked for, so
  a client that starts at ``directory_url`` keeps going through the forwarder.

Pebble's own HTTPS listener (ACME and management) uses a certificate made here with ``cryptography``: a small
CA of its own (``ca_bundle``, the file clients trust) signs a leaf for ``IP:127.0.0.1`` and ``DNS:localhost``.
Pebble makes a new issuing root and intermediate at every start; after each start they are fetched from the
management interface into ``roots_file`` (``root_pem``) and ``intermediates_file`` (``intermediate_pem``),
which verify what it issues. ``restart()`` restarts pebble alone (same ports, same ``directory_url``, new
roots, no accounts or orders left); the forwarder and the DNS server keep running.

Everything is stopped by pid on exit, and when the start fails (the error then holds the logs' tails)::

    with PrivateNginx(tmp_path / "nginx") as nginx, Pebble(tmp_path / "pebble", nginx.port) as ca:
        client = acme_flow.new_client(ca.directory_url, ca.ca_bundle)
        ...
        assert ca.contacts() > 0

Observed with pebble 2.6.0 (Debian trixie):

- one root (``/roots/0``; ``/roots/1`` answers 404 unless ``PEBBLE_ALTERNATE_ROOTS`` is set) and one intermediate,
  both RSA, new at every start; the chain it issues is the leaf and the intermediate (the root is not in it). The
  leaf has an empty subject, its names in a critical subjectAltName;
- ``certificateValidityPeriod`` P gives notAfter = notBefore + P - 1 s (notBefore: the moment of issuance);
- the directory offers ``renewalInfo`` (ARI, draft-ietf-acme-ari-03, ``.../draft-ietf-acme-ari-03/renewalInfo``):
  GET ``<renewalInfo>/<base64url(AKI keyIdentifier)>.<base64url(serial DER bytes)>`` (no padding: RFC 9773's
  certID) answers ``{"suggestedWindow": {"start": ..., "end": ...}}`` (RFC 3339, whole seconds, ``Z``) with
  ``Retry-After: 21600``. The window is notAfter - P/3, plus and minus ONE DAY whatever P is: a certificate
  valid for an hour is inside its renewal window from the moment it is issued. After a restart, ARI for a
  certificate of the previous run answers 400 ``malformed`` ("no known issuer matches the provided Authority
  Key Identifier");
- each http-01 challenge is fetched three times (``Starting 3 validations``: its multi-perspective
  validation), so the http server sees three requests per name;
- a client keeps its HTTPS connection alive: a whole flow (account, order, challenges, finalize, download)
  with one ``acme`` client is usually ONE contact, each new client at least one more.
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import os
import re
import selectors
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.nginx import free_port

PEBBLE = "/usr/bin/pebble"
CHALLTESTSRV = "/usr/bin/pebble-challtestsrv"
ADDRESS = "127.0.0.1"

# what pebble runs with: no random sleep before a validation, no reused authorization, no rejected good nonce
PEBBLE_ENV = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_AUTHZREUSE": "0", "PEBBLE_WFE_NONCEREJECT": "0"}
# never inherited: pebble's validator (Go) and our urllib would send their requests through a proxy (and any
# other PEBBLE_* variable of the caller's environment would change pebble's behaviour)
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
                   "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")

# pebble logs one such line per certificate it issues ("Issued certificate serial 1a2b... for order abc")
ISSUED_LINE = re.compile(r"Issued certificate serial ([0-9a-f]+) for order (\S+)")


class PebbleError(RuntimeError):
    """Pebble or its DNS server did not start or stop as expected."""


def _child_env(extra):
    env = {key: value for key, value in os.environ.items()
           if key not in PROXY_VARIABLES and not key.startswith("PEBBLE_")}
    env.update(extra)
    return env


def make_listener_certificate(directory, names=("localhost",), addresses=(ADDRESS,), days=7):
    """A CA of its own and a leaf it signs for pebble's HTTPS listener, written under ``directory``.

    Returns ``(ca_file, cert_file, key_file)``: the CA certificate (the bundle clients trust), the leaf and
    its key (what pebble's config names). EC P-256 keys, SHA-256 signatures, the leaf valid for ``names``
    (DNS) and ``addresses`` (IP)."""
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dokku_ps test listener CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(name) for name in names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else addresses[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    ca_file = os.path.join(directory, "listener-ca.pem")
    cert_file = os.path.join(directory, "listener-cert.pem")
    key_file = os.path.join(directory, "listener-key.pem")
    with open(ca_file, "wb") as handle:
        handle.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(cert_file, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return ca_file, cert_file, key_file


def https_get(url, cafile, timeout=5.0):
    """GET ``url`` trusting only ``cafile``, through no proxy -> (status, headers, body bytes).
    An HTTP error status is returned, not raised."""
    context = ssl.create_default_context(cafile=cafile)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


class CountingForwarder:
    """Relays TCP connections from ``127.0.0.1:port`` (a port of the kernel's choice) to ``target`` and counts them.

    One thread accepts; each connection gets one relay thread that copies bytes both ways until both sides
    have closed, the connection was idle for ``idle_timeout`` seconds, or the forwarder closes. At most
    ``max_connections`` at once (more are closed at once, still counted). ``close()`` stops all of it and
    joins every thread it started (bounded)."""

    def __init__(self, target, max_connections=32, idle_timeout=60.0):
        self.target = target
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((ADDRESS, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._count = 0
        self._relays = set()
        self._stop = threading.Event()
        self._acceptor = threading.Thread(target=self._accept_loop, name="pebble-forwarder", daemon=True)
        self._acceptor.start()

    def contacts(self):
        """How many connections it accepted so far."""
        with self._lock:
            return self._count

    def active(self):
        """How many connections it relays right now."""
        with self._lock:
            return len(self._relays)

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                client, _peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # closed
            with self._lock:
                self._count += 1
                full = len(self._relays) >= self.max_connections
            if full:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            relay = threading.Thread(target=self._relay, args=(client, upstream), name="pebble-relay", daemon=True)
            with self._lock:
                self._relays.add(relay)
            relay.start()

    def _relay(self, client, upstream):
        peers = {client: upstream, upstream: client}
        open_for_reading = {client, upstream}
        selector = selectors.DefaultSelector()
        try:
            for sock in peers:
                sock.settimeout(10)  # sendall waits at most that long for a peer that reads nothing
                selector.register(sock, selectors.EVENT_READ)
            last_activity = time.monotonic()
            while open_for_reading and not self._stop.is_set():
                if time.monotonic() - last_activity > self.idle_timeout:
                    break
                for key, _events in selector.select(timeout=0.2):
                    sock = key.fileobj
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    last_activity = time.monotonic()
                    if data:
                        try:
                            peers[sock].sendall(data)
                        except OSError:
                            open_for_reading.clear()
                            break
                        continue
                    # end of stream from this side: pass the half-close on, stop reading it
                    selector.unregister(sock)
                    open_for_reading.discard(sock)
                    try:
                        peers[sock].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
        finally:
            selector.close()
            for sock in peers:
                try:
                    sock.close()
                except OSError:
                    pass
            with self._lock:
                self._relays.discard(threading.current_thread())

    def close(self, timeout=5.0):
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        self._acceptor.join(timeout=timeout)
        with self._lock:
            relays = list(self._relays)
        for relay in relays:
            relay.join(timeout=timeout)


class _Child:
    """One process we started: stopped by its pid, SIGTERM first, SIGKILL when it lingers."""

    def __init__(self, name, argv, log_file, env):
        self.name = name
        self.argv = argv
        self.log_file = log_file
        with open(log_file, "ab") as log:
            # The process outlives this call: stop() reaps it.
            # pylint: disable-next=consider-using-with
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True, close_fds=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log_tail(self, lines=20):
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as handle:
                text = handle.read().splitlines()[-lines:]
        except OSError as exc:
            return "(no log: %s)" % exc
        return "\n".join(text)


class Pebble:
    """Pebble, its DNS server and the counting forwarder under ``root_dir`` (see the module's docstring).

    ``http_port``: where pebble's validator sends its http-01 requests (``Host`` = the name being validated);
    ``validity_seconds``: how long its certificates are valid (``certificateValidityPeriod``; pebble's
    default: five years); ``tls_port``: where tls-alpn-01 would connect (a free port when not given);
    ``retry_after``: pebble's ``Retry-After`` for authorizations and orders, in seconds;
    ``start_timeout``: how long ``start`` waits for each process to answer."""

    def __init__(self, root_dir, http_port, validity_seconds=None, tls_port=None, retry_after=1,
                 start_timeout=30.0):
        self.root_dir = os.path.abspath(str(root_dir))
        self.http_port = int(http_port)
        self.tls_port = int(tls_port) if tls_port else free_port()
        self.validity_seconds = validity_seconds
        self.retry_after = retry_after
        self.start_timeout = start_timeout
        self.listen_port = free_port()
        self.management_port = free_port()
        self.dns_port = free_port()
        self.dns_management_port = free_port()
        self.config_file = os.path.join(self.root_dir, "pebble-config.json")
        self.pebble_log = os.path.join(self.root_dir, "pebble.log")
        self.challtestsrv_log = os.path.join(self.root_dir, "challtestsrv.log")
        self.roots_file = os.path.join(self.root_dir, "roots.pem")
        self.intermediates_file = os.path.join(self.root_dir, "intermediates.pem")
        self.ca_bundle = self.listener_cert = self.listener_key = None
        self.root_pem = self.intermediate_pem = None
        self.starts = 0
        self.started_pids = []
        self._pebble = self._dns = self._forwarder = None

    # -- addresses ---------------------------------------------------------------------------------------

    @property
    def directory_url(self):
        """The ACME directory through the counting forwarder: what the client under test is given."""
        if self._forwarder is None:
            raise PebbleError("pebble is not running")
        return "https://%s:%d/dir" % (ADDRESS, self._forwarder.port)

    @property
    def forwarder_port(self):
        """The counting forwarder's port on 127.0.0.1 (None while stopped)."""
        return self._forwarder.port if self._forwarder is not None else None

    @property
    def direct_directory_url(self):
        """Pebble's directory without the forwarder (not counted): for the fixture's own checks."""
        return "https://%s:%d/dir" % (ADDRESS, self.listen_port)

    @property
    def management_url(self):
        return "https://%s:%d" % (ADDRESS, self.management_port)

    @property
    def pebble_pid(self):
        return self._pebble.pid if self._pebble is not None and self._pebble.alive() else None

    @property
    def challtestsrv_pid(self):
        return self._dns.pid if self._dns is not None and self._dns.alive() else None

    def pids(self):
        """The pids of the processes it runs now."""
        return [pid for pid in (self.challtestsrv_pid, self.pebble_pid) if pid is not None]

    # -- counting ----------------------------------------------------------------------------------------

    def contacts(self):
        """Connections made to ``directory_url``'s host and port so far (every ACME request goes through one)."""
        return self._forwarder.contacts() if self._forwarder is not None else 0

    def orders_issued(self):
        """``[(serial, order id)]`` of every certificate pebble issued since this object first started it, read
        from pebble's log (one line per issued certificate). The serial is an int: pebble writes the hex of the
        serial's bytes, with a leading zero whenever the number has an odd count of digits."""
        try:
            with open(self.pebble_log, encoding="utf-8", errors="replace") as handle:
                return [(int(match.group(1), 16), match.group(2))
                        for match in map(ISSUED_LINE.search, handle) if match]
        except OSError:
            return []

    # -- management interface ----------------------------------------------------------------------------

    def directory(self):
        """Pebble's directory as a dict, fetched directly (not counted)."""
        status, _headers, body = https_get(self.direct_directory_url, self.ca_bundle)
        if status != 200:
            raise PebbleError("GET %s answered %s" % (self.direct_directory_url, status))
        return json.loads(body)

    def management_get(self, path):
        """GET ``path`` of pebble's management interface -> (status, headers, body bytes)."""
        return https_get(self.management_url + path, self.ca_bundle)

    def cert_status(self, serial):
        """Pebble's record of an issued certificate (``Status``, ``Serial``, ``Certificate``...) by its serial
        (an int or hex string), or None when it knows none."""
        if isinstance(serial, int):
            serial = "%x" % serial
        status, _headers, body = self.management_get("/cert-status-by-serial/%s" % serial)
        return json.loads(body) if status == 200 else None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def _write_config(self):
        config = {
            "listenAddress": "%s:%d" % (ADDRESS, self.listen_port),
            "managementListenAddress": "%s:%d" % (ADDRESS, self.management_port),
            "certificate": self.listener_cert,
            "privateKey": self.listener_key,
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
            "retryAfter": {"authz": self.retry_after, "order": self.retry_after},
        }
        if self.validity_seconds is not None:
            config["certificateValidityPeriod"] = int(self.validity_seconds)
        with open(self.config_file, "w", encoding="utf-8") as handle:
            json.dump({"pebble": config}, handle, indent=2)

    def _wait(self, what, child, ready):
        deadline = time.monotonic() + self.start_timeout
        while True:
            if not child.alive():
                raise PebbleError("%s exited with %s while starting:\n%s"
                                  % (child.name, child.proc.returncode, child.log_tail()))
            try:
                if ready():
                    return
            except (OSError, http.client.HTTPException):
                pass  # not listening yet, or not answering yet
            if time.monotonic() >= deadline:
                raise PebbleError("%s did not answer within %ss:\n%s" % (what, self.start_timeout, child.log_tail()))
            time.sleep(0.05)

    def _tcp_answers(self, port):
        with socket.create_connection((ADDRESS, port), timeout=1):
            return True

    def _dns_answers(self):
        """One A query for ``probe.test.`` over UDP: the DNS server is up when it answers with 127.0.0.1 (an
        answer record of 4 bytes of address; an SOA record of its own follows it)."""
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x05probe\x04test\x00\x00\x01\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            sock.sendto(query, (ADDRESS, self.dns_port))
            answer, _peer = sock.recvfrom(512)
        return answer[:2] == b"\x12\x34" and answer[6:8] != b"\x00\x00" and (
            b"\x00\x04" + socket.inet_aton(ADDRESS)) in answer

    def _start_dns(self):
        argv = [CHALLTESTSRV,
                "-defaultIPv4", ADDRESS, "-defaultIPv6", "",
                "-dns01", "%s:%d" % (ADDRESS, self.dns_port),
                "-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "",
                "-management", "%s:%d" % (ADDRESS, self.dns_management_port)]
        self._dns = _Child("pebble-challtestsrv", argv, self.challtestsrv_log, _child_env({}))
        self.started_pids.append(self._dns.pid)
        self._wait("pebble-challtestsrv's DNS on %s:%d" % (ADDRESS, self.dns_port), self._dns, self._dns_answers)
        self._wait("pebble-challtestsrv's management on %s:%d" % (ADDRESS, self.dns_management_port), self._dns,
                   lambda: self._tcp_answers(self.dns_management_port))

    def _start_pebble(self):
        argv = [PEBBLE, "-config", self.config_file, "-dnsserver", "%s:%d" % (ADDRESS, self.dns_port)]
        self._pebble = _Child("pebble", argv, self.pebble_log, _child_env(PEBBLE_ENV))
        self.started_pids.append(self._pebble.pid)
        self.starts += 1

        def directory_answers():
            return https_get(self.direct_directory_url, self.ca_bundle, timeout=1)[0] == 200

        self._wait("pebble's directory %s" % self.direct_directory_url, self._pebble, directory_answers)
        self._fetch_roots()

    def _fetch_roots(self):
        for path, attribute, target in (("/roots/0", "root_pem", self.roots_file),
                                        ("/intermediates/0", "intermediate_pem", self.intermediates_file)):
            status, _headers, body = self.management_get(path)
            if status != 200 or b"-----BEGIN CERTIFICATE-----" not in body:
                raise PebbleError("GET %s%s answered %s: %r" % (self.management_url, path, status, body[:200]))
            with open(target, "wb") as handle:
                handle.write(body)
            setattr(self, attribute, body.decode("ascii"))

    def start(self):
        for binary in (PEBBLE, CHALLTESTSRV):
            if not os.access(binary, os.X_OK):
                raise PebbleError("%s is missing (scripts/bootstrap.sh installs Debian's pebble from trixie)" % binary)
        os.makedirs(self.root_dir, exist_ok=True)
        try:
            if self.ca_bundle is None:
                self.ca_bundle, self.listener_cert, self.listener_key = make_listener_certificate(
                    os.path.join(self.root_dir, "listener"))
            self._write_config()
            self._start_dns()
            self._start_pebble()
            self._forwarder = CountingForwarder((ADDRESS, self.listen_port))
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self):
        """Stops pebble and starts it again with the same config and ports: a new root and intermediate
        (fetched again), no accounts, orders or certificates. The DNS server and the forwarder (so
        ``directory_url`` and the contact count) carry on."""
        if self._pebble is None:
            raise PebbleError("pebble is not running")
        self._pebble.stop()
        self._pebble = None
        try:
            self._start_pebble()
        except BaseException:
            self.stop()
            raise

    def stop(self):
        """Stops the forwarder, pebble and its DNS server (each by its pid). Idempotent."""
        errors = []
        forwarder, self._forwarder = self._forwarder, None
        if forwarder is not None:
            forwarder.close()
        for attribute in ("_pebble", "_dns"):
            child = getattr(self, attribute)
            setattr(self, attribute, None)
            if child is None:
                continue
            try:
                child.stop()
            except (OSError, subprocess.SubprocessError) as exc:
                errors.append("%s (pid %d): %s" % (child.name, child.pid, exc))
        if errors:
            raise PebbleError("could not stop: %s" % "; ".join(errors))

    def log_tail(self, lines=20):
        """The last lines of both logs, for an assertion's message."""
        parts = []
        for name, path in (("pebble", self.pebble_log), ("pebble-challtestsrv", self.challtestsrv_log)):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    parts.append("--- %s ---\n%s" % (name, "\n".join(handle.read().splitlines()[-lines:])))
            except OSError as exc:
                parts.append("--- %s --- (no log: %s)" % (name, exc))
        return "\n".join(parts)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
