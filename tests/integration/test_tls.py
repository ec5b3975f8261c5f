"""HTTPS through the collection's nginx (docs/tls.md), against a real ACME CA on this machine: Debian's pebble with
its fake DNS (tests/support/pebble.py) validating http-01 through a private nginx, whose http port is the one the CA
connects to. Certificates issued for two domains are served over https (verified against pebble's root), http
redirects, a rerun contacts no CA; provided certificates are checked before anything is written; a name nobody
configured gets no certificate."""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest

from tests.support import acme_flow, images
from tests.support.nginx import PrivateNginx, default_server_conf, get
from tests.support.pebble import Pebble
from tests.support.proxy_apps import app_args

DOMAINS = ["shop.test", "www.shop.test"]


@pytest.fixture(scope="session")
def proxy_image(docker_client, standard_images):
    return images.PROXY_IMAGE


@pytest.fixture
def stack(tmp_path):
    """A private nginx (its default server answers names no app claims) and a pebble validating through its http
    port; the ACME webroot is readable by nginx's workers."""
    with acme_flow.webroot_dir() as webroot:
        server = PrivateNginx(tmp_path / "nginx")
        server.http_extra = default_server_conf(server.port)
        with server:
            with Pebble(tmp_path / "pebble", server.port) as ca:
                yield {"nginx": server, "ca": ca, "webroot": webroot, "https_port": server.ports(2)[1]}


def tls_args(stack, app, image, **extra):
    server = stack["nginx"]
    args = app_args(app, image, server, domains=DOMAINS, tls="acme",
                    proxy_ports=["http:%d:5000" % server.port, "https:%d:5000" % stack["https_port"]],
                    acme_directory=stack["ca"].directory_url, acme_ca_bundle=stack["ca"].ca_bundle,
                    acme_webroot=stack["webroot"], acme_email="ops@shop.test")
    args.update(extra)
    return args


def https_get(stack, host, path="/", verify=True):
    """(status, body, the served certificate's DER) of a request over https to the private nginx for ``host``."""
    context = ssl.create_default_context(cafile=stack["ca"].roots_file) if verify else ssl._create_unverified_context()
    connection = http.client.HTTPSConnection("127.0.0.1", stack["https_port"], timeout=10, context=context)
    try:
        connection.request("GET", path, headers={"Host": host})
        sock = connection.sock
        der = sock.getpeercert(binary_form=True)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace"), der
    finally:
        connection.close()


def handshake(stack, server_name):
    """The certificate (DER) the https port presents for an SNI name, or None when the handshake is refused."""
    context = ssl._create_unverified_context()
    try:
        with socket.create_connection(("127.0.0.1", stack["https_port"]), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                return tls.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError):
        return None


def test_a_certificate_issued_over_acme_is_served_and_http_redirects(runner, app_name, proxy_image, stack):
    args = tls_args(stack, app_name, proxy_image)
    result = runner.module("dokku_ps_app", args)
    assert result["changed"] and result["certificate"]["action"] == "issued", result
    assert result["certificate"]["names"] == DOMAINS
    contacts = stack["ca"].contacts()
    assert contacts > 0

    # served over https for both names, verified against pebble's root, by the app's containers
    for domain in DOMAINS:
        der = handshake(stack, domain)
        assert der is not None
        context = ssl.create_default_context(cafile=stack["ca"].roots_file)
        with socket.create_connection(("127.0.0.1", stack["https_port"]), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=domain) as tls:
                tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % domain).encode())
                answer = b""
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    # http redirects to https, keeping host and URI
    code, _body = get(stack["nginx"].url("/some/path?x=1"), host="shop.test")
    assert code == 301
    # a name nobody configured gets no certificate
    assert handshake(stack, "other.test") is None

    # a rerun contacts no CA and changes nothing
    again = runner.module("dokku_ps_app", args)
    assert not again["changed"] and again["certificate"]["action"] == "unchanged"
    assert stack["ca"].contacts() == contacts, "a rerun contacts no CA"
