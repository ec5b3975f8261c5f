"""HTTPS through the collection's nginx (docs/tls.md), against a real ACME CA on this machine: Debian's pebble with
its fake DNS (tests/support/pebble.py) validating http-01 through a private nginx, whose http port is the one the CA
connects to, and an https port of its own.

Issued for two domains: served over https (verified against pebble's root), http redirects, a name nobody
configured gets no certificate, a rerun contacts no CA; the four-step pattern (check mode contacts no CA and writes
nothing); renewal when due under a request loop without a failed request; a failing challenge leaves http serving and
says why; provided certificates checked before anything is written; no key material in any output; TLS off removes
the certificate and the https server."""

from __future__ import annotations

import datetime
import json
import os
import ssl

import pytest

from tests.support import certs, images
from tests.support.docker_state import snapshot
from tests.support.nginx import BackgroundLoop, free_port, get, request_loop
from tests.support.tls_apps import (DOMAINS, fingerprint, handshake, https_get, make_due, served,
                                    tls_args, tls_stack, trusting)


@pytest.fixture(scope="session")
def proxy_image(docker_client, standard_images):
    return images.PROXY_IMAGE


@pytest.fixture
def stack(tmp_path):
    with tls_stack(tmp_path) as made:
        yield made


def tree(path):
    """relative path -> (bytes, mode) of every file under ``path`` (lock files aside)."""
    found = {}
    for root, _dirs, files in os.walk(str(path)):
        for name in files:
            if name.endswith(".lock"):
                continue
            full = os.path.join(root, name)
            with open(full, "rb") as handle:
                found[os.path.relpath(full, str(path))] = (handle.read(), os.stat(full).st_mode & 0o7777)
    return found


def written(runner, stack):
    """What a run must not touch in check mode or when it refuses: the state directory and the include directory."""
    return tree(runner.state_dir), tree(stack["nginx"].include_dir)


def stored_key(runner, app):
    with open(os.path.join(runner.state_dir, "certs", app + ".json")) as handle:
        return json.load(handle)["key"]


def key_lines(key):
    return [line for line in key.splitlines() if line and not line.startswith("-----")]


def test_issued_over_acme_served_with_redirect_and_no_certificate_for_unknown_names(runner, app_name, proxy_image,
                                                                                    stack):
    args = tls_args(stack, app_name, proxy_image)
    result = runner.module("dokku_ps_app", args, extra_args=["-vvv"])
    assert result["changed"] and result["certificate"]["action"] == "issued", result
    assert result["certificate"]["names"] == DOMAINS
    contacts = stack["ca"].contacts()
    assert contacts > 0
    for line in key_lines(stored_key(runner, app_name)):
        assert line not in result["_output"], "no key material in the output, -vvv included"

    # served over https for both names, verified against pebble's root, by the app's containers
    context = trusting(stack["ca"].roots_file)
    for domain in DOMAINS:
        status, body = https_get(stack, domain, context)
        assert status == 200 and body, (status, body)
    # http redirects to https, keeping the host and the URI
    status, _body = get(stack["nginx"].url("/some/path?x=1"), host="shop.test")
    assert status == 301
    # a name nobody configured gets no certificate: the handshake is refused
    assert handshake(stack, "other.test") is None
    assert handshake(stack, "shop.test") is not None
    # TLS 1.3 and 1.2, nothing older
    for version, expected in ((ssl.TLSVersion.TLSv1_3, True), (ssl.TLSVersion.TLSv1_2, True),
                              (ssl.TLSVersion.TLSv1_1, False)):
        pinned = trusting(stack["ca"].roots_file)
        if version == ssl.TLSVersion.TLSv1_1:
            pinned.set_ciphers("DEFAULT:@SECLEVEL=0")
        pinned.minimum_version = pinned.maximum_version = version
        try:
            answered = https_get(stack, "shop.test", pinned)[0] == 200
        except (ssl.SSLError, OSError):
            answered = False
        assert answered is expected, version

    # the report: where it comes from, what it is, when it is renewed, and that nginx serves it
    report = runner.module("dokku_ps_report", {"app": app_name})
    certificate = report["certificate"]
    assert certificate["source"] == "acme" and certificate["names"] == DOMAINS and certificate["served"] is True
    assert certificate["fingerprint"] == fingerprint(served(stack, "shop.test", certificate["fingerprint"]))
    assert certificate["renew_at"] and certificate["not_after"] and certificate["last_error"] is None
    assert stack["ca"].contacts() == contacts, "the report contacts no CA"

    # a rerun contacts no CA and changes nothing
    again = runner.module("dokku_ps_app", args)
    assert not again["changed"] and again["certificate"]["action"] == "unchanged"
    assert stack["ca"].contacts() == contacts, "a rerun contacts no CA"


def test_four_steps_of_turning_acme_on(runner, api, app_name, proxy_image, stack):
    args = tls_args(stack, app_name, proxy_image)
    runner.module("dokku_ps_app", tls_args(stack, app_name, proxy_image, https="off"))
    assert get(stack["nginx"].url("/"), host="shop.test")[0] == 200
    before, containers = written(runner, stack), snapshot(api, app_name)

    check = runner.module("dokku_ps_app", args, check=True, diff=True)
    assert check["changed"] and check["certificate"]["action"] == "issued"
    assert "no certificate" in check["certificate"]["reason"]
    assert stack["ca"].contacts() == 0, "check mode contacts no CA"
    assert written(runner, stack) == before and snapshot(api, app_name) == containers, "check mode writes nothing"

    applied = runner.module("dokku_ps_app", args)
    assert applied["changed"] and applied["certificate"]["action"] == "issued"
    assert snapshot(api, app_name) == containers, "TLS replaces no container"
    contacts = stack["ca"].contacts()

    for step in ({"check": True}, {}):
        again = runner.module("dokku_ps_app", args, **step)
        assert not again["changed"] and again["certificate"]["action"] == "unchanged", step
    assert stack["ca"].contacts() == contacts


def test_a_certificate_due_for_renewal_is_renewed_without_a_failed_request(runner, app_name, proxy_image, stack):
    args = tls_args(stack, app_name, proxy_image)
    runner.module("dokku_ps_app", args)
    first = handshake(stack, "shop.test")
    # the certificate's renewal comes (as time passing would make it come)
    make_due(runner.state_dir, app_name)
    contacts = stack["ca"].contacts()

    context = trusting(stack["ca"].roots_file)
    url = stack["nginx"].url("/", port=stack["https_port"], scheme="https")
    with BackgroundLoop(url, seconds=60, host="shop.test", context=context) as loop:
        result = runner.module("dokku_ps_app", args)
    assert result["changed"] and result["certificate"]["action"] == "renewed", result
    assert loop.result.failed == 0 and loop.result.ok > 0, loop.result.errors
    assert stack["ca"].contacts() > contacts
    second = served(stack, "shop.test", result["certificate"]["fingerprint"])
    assert second != first and fingerprint(second) == result["certificate"]["fingerprint"], "nginx serves the new one"


def test_a_failing_challenge_leaves_http_serving_and_says_why(runner, app_name, proxy_image, tmp_path):
    # the CA validates on a port where nothing listens: nginx serves the challenge, the CA cannot reach it
    with tls_stack(tmp_path, validate_port=free_port()) as stack:
        args = tls_args(stack, app_name, proxy_image)
        failed = runner.module("dokku_ps_app", args, expect_failure=True)
        assert "could not validate the http-01 challenge" in failed["msg"] and "\n" not in failed["msg"]
        assert "shop.test" in failed["msg"]
        # http keeps serving the app, and nothing names a certificate that does not exist
        assert get(stack["nginx"].url("/"), host="shop.test")[0] == 200
        assert handshake(stack, "shop.test") is None
        assert not [name for name in os.listdir(stack["nginx"].include_dir) if name.endswith((".crt", ".key"))]
        report = runner.module("dokku_ps_report", {"app": app_name})
        assert "could not validate" in report["certificate"]["last_error"]["message"]


def provided_pki(domains=None, days=90, not_before=None, kind="ec"):
    domains = domains or DOMAINS
    now = datetime.datetime.now(datetime.timezone.utc)
    root = certs.make("Test Root CA", ca=True, not_before=now - datetime.timedelta(days=2), days=3650)
    leaf = root.issue(domains[0], names=domains, not_before=not_before or now - datetime.timedelta(days=1),
                      days=days, kind=kind)
    return root, leaf


def test_a_provided_certificate_is_checked_before_anything_is_written(runner, api, app_name, proxy_image, stack,
                                                                      tmp_path):
    base = tls_args(stack, app_name, proxy_image, https="off")
    runner.module("dokku_ps_app", base)
    root, leaf = provided_pki()
    _other_root, other = provided_pki()
    _narrow_root, narrow = provided_pki(domains=["shop.test"])
    now = datetime.datetime.now(datetime.timezone.utc)
    _old_root, expired = provided_pki(not_before=now - datetime.timedelta(days=100), days=30)
    cases = [
        (dict(tls_certificate=certs.pem(leaf), tls_key=other.key_pem()), "tls_key: does not match the certificate"),
        (dict(tls_certificate=certs.pem(narrow), tls_key=narrow.key_pem()),
         "tls_certificate: does not cover the domain www.shop.test"),
        (dict(tls_certificate=certs.pem(expired), tls_key=expired.key_pem()), "tls_certificate: expired on"),
        (dict(tls_certificate=certs.pem(root, leaf), tls_key=leaf.key_pem()), "tls_key: does not match"),
    ]
    before, containers = written(runner, stack), snapshot(api, app_name)
    for given, message in cases:
        refused = runner.module("dokku_ps_app", tls_args(stack, app_name, proxy_image, https="provided", **given),
                                expect_failure=True, extra_args=["-vvv"])
        assert message in refused["msg"] and "\n" not in refused["msg"], refused["msg"]
        for line in key_lines(given["tls_key"]):
            assert line not in refused["_output"], "no key material in the output"
        assert written(runner, stack) == before and snapshot(api, app_name) == containers, message

    good = tls_args(stack, app_name, proxy_image, https="provided", tls_certificate=certs.pem(leaf, root),
                    tls_key=leaf.key_pem())
    installed = runner.module("dokku_ps_app", good, diff=True, extra_args=["-vvv"])
    assert installed["changed"] and installed["certificate"]["action"] == "installed"
    for line in key_lines(leaf.key_pem()):
        assert line not in installed["_output"], "no key material in the output, -vvv and the diff included"
    key_file = os.path.join(stack["nginx"].include_dir, app_name + ".key")
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    with open(str(tmp_path / "root.pem"), "w") as handle:
        handle.write(certs.pem(root))
    assert https_get(stack, "www.shop.test", trusting(str(tmp_path / "root.pem")))[0] == 200
    again = runner.module("dokku_ps_app", good)
    assert not again["changed"] and again["certificate"]["action"] == "unchanged"
    assert stack["ca"].contacts() == 0, "a provided certificate needs no CA"


def test_tls_off_removes_the_certificate_and_the_https_server(runner, app_name, proxy_image, stack):
    args = tls_args(stack, app_name, proxy_image)
    runner.module("dokku_ps_app", args)
    assert handshake(stack, "shop.test") is not None
    result = runner.module("dokku_ps_app", tls_args(stack, app_name, proxy_image, https="off"))
    assert result["changed"] and result["certificate"]["action"] == "removed"
    assert handshake(stack, "shop.test") is None
    leftovers = [name for name in os.listdir(stack["nginx"].include_dir) if not name.startswith(".")]
    assert leftovers == [app_name + ".conf"], "no certificate, no key, no catch-all left"
    assert not os.path.exists(os.path.join(runner.state_dir, "certs", app_name + ".json"))
    assert request_loop(stack["nginx"].url("/"), count=5, host="shop.test").failed == 0, "http serves the app"


def test_the_app_role_takes_the_acme_settings_as_role_variables(runner, app_name, proxy_image, stack):
    args = tls_args(stack, app_name, proxy_image)
    server = stack["nginx"]
    app = dict((key, value) for key, value in args.items()
               if not key.startswith(("nginx_", "acme_")) and key != "proxy_listen_address")
    variables = {"dokku_ps_app": app, "dokku_ps_state_dir": runner.state_dir,
                 "dokku_ps_proxy_include_dir": server.include_dir, "dokku_ps_proxy_binary": server.binary,
                 "dokku_ps_proxy_main_conf": server.conf, "dokku_ps_proxy_pid_file": server.pid_file,
                 "dokku_ps_proxy_prefix": server.root, "dokku_ps_proxy_listen_address": "127.0.0.1",
                 "dokku_ps_acme_directory": stack["ca"].directory_url, "dokku_ps_acme_ca_bundle": stack["ca"].ca_bundle,
                 "dokku_ps_acme_webroot": stack["webroot"], "dokku_ps_acme_email": "ops@shop.test"}
    play = {"name": "app role", "hosts": "localhost", "gather_facts": False, "vars": variables,
            "roles": ["dokku_ps.docker.app"]}
    returncode, results, output = runner.playbook([play])
    assert returncode == 0, output[-3000:]
    [converged] = [entry["result"] for entry in results if "apps" in entry["result"]]
    assert converged["apps"][app_name]["certificate"]["action"] == "issued"
    assert https_get(stack, "shop.test", trusting(stack["ca"].roots_file))[0] == 200


def hsts(stack, context):
    """The Strict-Transport-Security header nginx sends for shop.test over https."""
    from tests.support.nginx import SniConnection
    connection = SniConnection("127.0.0.1", stack["https_port"], "shop.test", context, 5)
    try:
        connection.request("GET", "/", headers={"Host": "shop.test"})
        response = connection.getresponse()
        response.read()
        return response.getheader("Strict-Transport-Security")
    finally:
        connection.close()


def test_four_steps_of_hsts_and_the_redirect(runner, api, app_name, proxy_image, stack, tmp_path):
    root, leaf = provided_pki()
    (tmp_path / "root.pem").write_text(certs.pem(root))
    context = trusting(str(tmp_path / "root.pem"))
    args = tls_args(stack, app_name, proxy_image, https="provided", tls_certificate=certs.pem(leaf, root),
                    tls_key=leaf.key_pem())
    runner.module("dokku_ps_app", args)
    assert hsts(stack, context) == "max-age=15724800", "Dokku's max age, includeSubDomains off by default"
    assert get(stack["nginx"].url("/"), host="shop.test")[0] == 301

    changed = dict(args, hsts_max_age=60, hsts_include_subdomains=True, https_redirect=False)
    before, containers = written(runner, stack), snapshot(api, app_name)
    check = runner.module("dokku_ps_app", changed, check=True, diff=True)
    assert check["changed"] and check["proxy_changed"] == [app_name]
    assert written(runner, stack) == before and snapshot(api, app_name) == containers
    assert hsts(stack, context) == "max-age=15724800"

    applied = runner.module("dokku_ps_app", changed)
    assert applied["changed"] and applied["certificate"]["action"] == "unchanged"
    assert hsts(stack, context) == "max-age=60; includeSubDomains"
    assert get(stack["nginx"].url("/"), host="shop.test")[0] == 200, "no redirect: http serves the app"
    assert snapshot(api, app_name) == containers, "HTTPS settings replace no container"
    for step in ({"check": True}, {}):
        assert not runner.module("dokku_ps_app", changed, **step)["changed"], step
