"""The offline ACME recipe end to end, with the ``acme`` library alone (no collection code): a private nginx serves
http-01 tokens from a webroot, a private pebble (``tests/support/pebble.py``) validates them through its fake DNS
and issues a certificate for two names, which verifies against the root pebble made at its start; its ARI answers
for it; the forwarder in front of pebble counted the contacts; and a second pebble starts clean (no process, no
account, no root of the first). The three tests take about 12 s."""

from __future__ import annotations

import datetime
import os
import socket

import pytest
from acme import messages
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification

from tests.support import acme_flow
from tests.support.nginx import PrivateNginx, get
from tests.support.pebble import ADDRESS, Pebble, PebbleError

NAMES = ["shop.test", "www.shop.test"]
VALIDITY = 3600  # seconds: certificateValidityPeriod, so the ARI window is not years away


def _gone(pid):
    return not os.path.exists("/proc/%d" % pid)


def _refused(port):
    try:
        with socket.create_connection((ADDRESS, port), timeout=2):
            return False
    except OSError:
        return True


@pytest.fixture
def nginx(tmp_path):
    """A private nginx serving a webroot's http-01 tokens on its port (``nginx.webroot``)."""
    with acme_flow.webroot_dir() as webroot:
        server = PrivateNginx(tmp_path / "nginx")
        server.http_extra = acme_flow.challenge_server_conf(server.port, webroot)
        server.webroot = webroot
        with server:
            yield server


def test_issue_for_two_names_over_http01_then_a_clean_second_start(tmp_path, nginx):
    # the webroot is served on the nginx port pebble validates against
    with open(os.path.join(nginx.webroot, "probe"), "w", encoding="ascii") as handle:
        handle.write("probe-body")
    os.chmod(handle.name, 0o644)
    assert get(nginx.url("/.well-known/acme-challenge/probe"), host="shop.test") == (200, "probe-body")

    with Pebble(tmp_path / "pebble", nginx.port, validity_seconds=VALIDITY) as ca:
        pids = ca.pids()
        assert len(pids) == 2
        assert ca.contacts() == 0
        assert "renewalInfo" in ca.directory()  # fetched directly: not counted
        assert ca.contacts() == 0

        client = acme_flow.new_client(ca.directory_url, ca.ca_bundle)
        account_key = client.net.key
        issued = acme_flow.issue(client, NAMES, nginx.webroot, timeout=20)
        assert not [name for name in os.listdir(nginx.webroot) if name != "probe"], "tokens left in the webroot"

        # the chain verifies against pebble's root for both names; the leaf holds exactly the two names and
        # the key of the CSR
        chain = acme_flow.verify_chain(issued.fullchain_pem, ca.root_pem, "shop.test")
        assert len(chain) == 3
        acme_flow.verify_chain(issued.fullchain_pem, ca.root_pem, "www.shop.test")
        with pytest.raises(verification.VerificationError):
            acme_flow.verify_chain(issued.fullchain_pem, ca.root_pem, "other.test")
        leaf = chain[0]
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sorted(sans.get_values_for_type(x509.DNSName)) == sorted(NAMES)
        key = serialization.load_pem_private_key(issued.key_pem, password=None)
        assert leaf.public_key() == key.public_key()
        lifetime = (leaf.not_valid_after_utc - leaf.not_valid_before_utc).total_seconds()
        assert VALIDITY - 1 <= lifetime <= VALIDITY  # pebble's notAfter is notBefore + period - 1 s
        assert [serial for serial, _order in ca.orders_issued()] == [leaf.serial_number]
        assert ca.cert_status(leaf.serial_number)["Status"] == "Valid"

        # ARI: the renewal window of the certificate (RFC 9773 certID), and the library's own use of it
        url, info, retry_after = acme_flow.renewal_info(client, issued.cert_pem)
        assert url.startswith(ca.directory_url.rsplit("/", 1)[0] + "/"), url
        window = info["suggestedWindow"]
        start, end = (datetime.datetime.fromisoformat(window[edge].replace("Z", "+00:00")) for edge in ("start", "end"))
        assert start < end
        assert leaf.not_valid_before_utc <= start + (end - start) / 2 <= leaf.not_valid_after_utc, window
        assert retry_after and int(retry_after) > 0
        renew_at, _next_check = client.renewal_time(issued.cert_pem.encode("ascii"))
        assert start <= renew_at <= end

        contacts = ca.contacts()
        assert contacts > 0
        assert ca.contacts() == contacts  # nothing contacts it by itself
        first_root = ca.root_pem
        forwarder_port = ca.forwarder_port

    assert all(_gone(pid) for pid in pids), pids
    assert _refused(forwarder_port)

    # a second pebble starts clean: a new root (the first chain does not verify), no account, no order
    with Pebble(tmp_path / "pebble2", nginx.port) as ca2:
        assert ca2.contacts() == 0 and ca2.orders_issued() == []
        assert ca2.root_pem != first_root
        with pytest.raises(verification.VerificationError):
            acme_flow.verify_chain(issued.fullchain_pem, ca2.root_pem, "shop.test")
        with pytest.raises(messages.Error) as refused:
            acme_flow.new_client(ca2.directory_url, ca2.ca_bundle, account_key=account_key, only_existing=True)
        assert refused.value.code == "accountDoesNotExist"
        assert ca2.contacts() > 0
        pids2 = ca2.pids()
    assert all(_gone(pid) for pid in pids2), pids2


def test_restart_makes_a_new_root_behind_the_same_directory_url(tmp_path, nginx):
    with Pebble(tmp_path / "pebble", nginx.port) as ca:
        url, root, old_pid = ca.directory_url, ca.root_pem, ca.pebble_pid
        client = acme_flow.new_client(ca.directory_url, ca.ca_bundle)
        before = ca.contacts()
        ca.restart()
        assert _gone(old_pid)
        assert ca.directory_url == url and ca.root_pem != root and ca.starts == 2
        with open(ca.roots_file, encoding="ascii") as handle:
            assert handle.read() == ca.root_pem
        # the restarted pebble forgot the account, and issues for a new one
        client = acme_flow.new_client(ca.directory_url, ca.ca_bundle)
        issued = acme_flow.issue(client, NAMES[:1], nginx.webroot, timeout=20)
        acme_flow.verify_chain(issued.fullchain_pem, ca.root_pem, NAMES[0])
        assert ca.contacts() > before
        pids = ca.started_pids
    assert len(pids) == 3 and all(_gone(pid) for pid in pids), pids


def test_a_failed_start_stops_what_it_started_and_shows_the_logs(tmp_path):
    ca = Pebble(tmp_path / "pebble", 9, start_timeout=10)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((ADDRESS, 0))
        taken.listen(1)
        ca.listen_port = taken.getsockname()[1]  # pebble cannot listen there
        with pytest.raises(PebbleError) as failed:
            ca.start()
    assert "pebble exited" in str(failed.value) and "address already in use" in str(failed.value)
    assert len(ca.started_pids) == 2 and all(_gone(pid) for pid in ca.started_pids), ca.started_pids
    assert ca.pids() == [] and ca.contacts() == 0
