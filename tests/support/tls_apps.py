"""HTTPS apps for the integration tests: a private nginx with an https port and a pebble validating http-01 through
it (``tls_stack``), a dokku_ps_app task of a proxied app with ``https: acme`` against that pebble (``tls_args``), and
what a client sees of its https port (``handshake``, ``https_get``, ``fingerprint``).

    with tls_stack(tmp_path, validity_seconds=3600) as stack:
        issue(runner, tls_args(stack, app, images.PROXY_IMAGE))
        assert https_get(stack, "shop.test", trusting(stack["ca"].roots_file))[0] == 200

A stack is a dict: ``nginx`` (tests/support/nginx.PrivateNginx, its default server answering names no app claims),
``ca`` (tests/support/pebble.Pebble), ``webroot`` (the ACME webroot, readable by nginx's workers) and
``https_port`` (the app's https host port on the private nginx).

A certificate's renewal comes by time passing, which a test cannot wait for: ``make_due`` moves the renewal time
the app's document records into the past. Pebble's renewal information (ARI) does not make a short-lived
certificate due at once for sure: its window runs from a day before to a day after two thirds of the lifetime,
whatever the lifetime, and the ``acme`` library picks a random moment in it, so for a certificate valid an hour
that moment is in the past only about half the time.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import socket
import ssl
import time

from tests.support import acme_flow
from tests.support.nginx import PrivateNginx, default_server_conf, get
from tests.support.pebble import Pebble
from tests.support.proxy_apps import app_args

DOMAINS = ["shop.test", "www.shop.test"]
EMAIL = "ops@shop.test"


def make_stack(tmp_path, webroot, validity_seconds=None, validate_port=None):
    """A private nginx (its default server answers names no app claims) with an https port, and a pebble that
    validates http-01 on ``validate_port`` (default: the nginx's http port); neither started."""
    server = PrivateNginx(tmp_path / "nginx")
    server.http_extra = default_server_conf(server.port)
    ca = Pebble(tmp_path / "pebble", validate_port or server.port, validity_seconds=validity_seconds)
    return {"nginx": server, "ca": ca, "webroot": webroot, "https_port": server.ports(2)[1]}


@contextlib.contextmanager
def tls_stack(tmp_path, validity_seconds=None, validate_port=None):
    """A started stack (see the module's docstring), stopped afterwards (nginx and pebble by their pids)."""
    with acme_flow.webroot_dir() as webroot:
        made = make_stack(tmp_path, webroot, validity_seconds=validity_seconds, validate_port=validate_port)
        with made["nginx"], made["ca"]:
            yield made


def acme_options(stack):
    """The modules' ACME options for the stack's pebble."""
    return {"acme_directory": stack["ca"].directory_url, "acme_ca_bundle": stack["ca"].ca_bundle,
            "acme_webroot": stack["webroot"], "acme_email": EMAIL}


def tls_args(stack, app, image, **extra):
    """A dokku_ps_app task of a proxied app serving DOMAINS on the stack's http port and, with ``https`` on (``acme``
    unless given otherwise), on its https port too, its certificate from the pebble."""
    server = stack["nginx"]
    args = app_args(app, image, server, domains=DOMAINS, https="acme", **acme_options(stack))
    args.update(extra)
    args["proxy_ports"] = ["http:%d:5000" % server.port]
    if args["https"] != "off":
        args["proxy_ports"].append("https:%d:5000" % stack["https_port"])
    return args


def issue(runner, args):
    """dokku_ps_app with ``args`` (an app with ``https: acme``): its certificate issued. Returns the result."""
    return runner.module("dokku_ps_app", args)


def trusting(pem_file):
    """A client context trusting only the certificates of ``pem_file``."""
    return ssl.create_default_context(cafile=pem_file)


def handshake(stack, server_name):
    """The certificate (DER) the https port presents for an SNI name, or None when the handshake is refused."""
    context = ssl._create_unverified_context()  # pylint: disable=protected-access
    try:
        with socket.create_connection(("127.0.0.1", stack["https_port"]), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                return tls.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError):
        return None


def served(stack, server_name, expected, seconds=10.0):
    """The certificate (DER) the https port presents for ``server_name`` once its fingerprint is ``expected``, or
    the last one seen after ``seconds`` (None: refused). A module run returns once nginx was told to reload, and its
    old workers answer until the new ones run."""
    deadline = time.monotonic() + seconds
    while True:
        der = handshake(stack, server_name)
        if (der is not None and fingerprint(der) == expected) or time.monotonic() >= deadline:
            return der
        time.sleep(0.1)


def https_url(stack, path="/"):
    return stack["nginx"].url(path, port=stack["https_port"], scheme="https")


def https_get(stack, domain, context, path="/"):
    """(status, body) of a GET over https for ``domain`` (its SNI and Host), the certificate checked by ``context``."""
    return get(https_url(stack, path), host=domain, context=context)


def fingerprint(der):
    """The fingerprint of a certificate (DER) as the collection shows it."""
    return "sha256:" + hashlib.sha256(der).hexdigest()


def app_document(state_dir, app):
    """The app's state document, as written."""
    with open(os.path.join(state_dir, "apps", app + ".json")) as handle:
        return json.load(handle)


def make_due(state_dir, app):
    """The app's certificate reaches its renewal time (a minute ago), as time passing would make it: the renewal
    time its document records is moved; the certificate itself stays as issued. Returns that time."""
    path = os.path.join(state_dir, "apps", app + ".json")
    doc = app_document(state_dir, app)
    moment = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    doc["certificate"]["renew_at"] = moment
    with open(path, "w") as handle:
        json.dump(doc, handle)
    return moment
