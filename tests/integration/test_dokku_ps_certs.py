"""dokku_ps_certs against a real ACME CA on this machine (Debian's pebble validating http-01 through a private nginx,
tests/support/tls_apps.py): a short-lived certificate whose renewal came (tls_apps.make_due) is predicted in check
mode without contacting the CA, then renewed under a bounded https request loop without a failed request; the four
steps on a long-lived certificate whose renewal came, the reruns contacting no CA; an app without HTTPS skipped; a
certificate nginx lost installed again without the CA; force."""

from __future__ import annotations

import datetime
import os
import sys
import time

import pytest

from tests.support import images
from tests.support.docker_state import remove_app_containers, snapshot
from tests.support.four_step import four_step
from tests.support.nginx import BackgroundLoop
from tests.support.proxy_apps import app_args, options
from tests.support.tls_apps import (
    DOMAINS, acme_options, fingerprint, https_url, issue, make_due, served, tls_args, tls_stack, trusting)

# pebble's certificates in the renewal test: valid for an hour (never expired meanwhile)
SHORT_LIVED = 3600


@pytest.fixture(scope="session")
def proxy_image(docker_client, standard_images):
    return images.PROXY_IMAGE


def certs_args(stack, **extra):
    """A dokku_ps_certs task on the stack's nginx and pebble (the CA and account the certificates came from)."""
    return dict(options(stack["nginx"]), **acme_options(stack), **extra)


def tree(path):
    """relative path -> (bytes, mode) of every file under ``path`` (lock files aside)."""
    found = {}
    for root, _dirs, files in os.walk(str(path)):
        for name in files:
            if not name.endswith(".lock"):
                full = os.path.join(root, name)
                with open(full, "rb") as handle:
                    found[os.path.relpath(full, str(path))] = (handle.read(), os.stat(full).st_mode & 0o7777)
    return found


def test_a_due_certificate_is_renewed_without_a_failed_request(runner, api, app_name, proxy_image, tmp_path):
    with tls_stack(tmp_path, validity_seconds=SHORT_LIVED) as stack:
        issued = issue(runner, tls_args(stack, app_name, proxy_image))
        assert issued["certificate"]["action"] == "issued", issued
        first = served(stack, "shop.test", issued["certificate"]["fingerprint"])
        assert fingerprint(first) == issued["certificate"]["fingerprint"]
        due = make_due(runner.state_dir, app_name)
        contacts = stack["ca"].contacts()
        state, include, containers = tree(runner.state_dir), tree(stack["nginx"].include_dir), snapshot(api, app_name)
        args = certs_args(stack, app=app_name)

        predicted = runner.module("dokku_ps_certs", args, check=True)
        assert predicted["changed"] and predicted["certificate"]["action"] == "renewed", predicted
        assert predicted["reason"] == "would be renewed: renewal is due (%s)" % due, predicted["reason"]
        assert "\n" not in predicted["reason"] and "proxy_changed" not in predicted
        assert stack["ca"].contacts() == contacts, "check mode contacts no CA"
        assert tree(runner.state_dir) == state and tree(stack["nginx"].include_dir) == include, "check mode writes nothing"

        context = trusting(stack["ca"].roots_file)
        started = time.monotonic()
        with BackgroundLoop(https_url(stack), seconds=90, host="shop.test", context=context) as loop:
            renewed = runner.module("dokku_ps_certs", args)
            time.sleep(0.5)  # requests after the reload, on the new certificate
        elapsed = time.monotonic() - started
        assert renewed["changed"] and renewed["status"] == "changed", renewed
        assert renewed["certificate"]["action"] == "renewed" and renewed["reason"].startswith("renewed: renewal is due")
        assert loop.result.failed == 0 and loop.result.ok > 0, loop.result.errors
        assert stack["ca"].contacts() > contacts and len(stack["ca"].orders_issued()) == 2
        second = served(stack, "shop.test", renewed["certificate"]["fingerprint"])
        assert second != first and fingerprint(second) == renewed["certificate"]["fingerprint"], "nginx serves it"
        assert snapshot(api, app_name) == containers, "no container touched"
        assert not any(renewed["containers"].values())

        report = runner.module("dokku_ps_report", args)
        assert report["certificate"]["not_after"] == renewed["certificate"]["not_after"]
        assert report["certificate"]["fingerprint"] == fingerprint(second) and report["certificate"]["served"] is True
        assert report["certificate"]["last_error"] is None
    sys.stderr.write("\nrenewal under load: %.1fs, %d https requests, none failed\n" % (elapsed, loop.result.ok))


def test_four_steps_on_a_long_lived_certificate_an_app_without_https_and_force(
        runner, api, app_name, proxy_image, tmp_path):
    plain = app_name + "-plain"
    try:
        with tls_stack(tmp_path) as stack:
            issued = issue(runner, tls_args(stack, app_name, proxy_image))
            runner.module("dokku_ps_app", app_args(plain, proxy_image, stack["nginx"], port=stack["nginx"].ports(3)[2],
                                                   domains=["plain.test"]))
            first = served(stack, "shop.test", issued["certificate"]["fingerprint"])
            due = make_due(runner.state_dir, app_name)
            args = certs_args(stack, app=app_name)
            issued_at = stack["ca"].contacts()

            def after_check(predicted):
                assert predicted["certificate"]["action"] == "renewed"
                assert predicted["reason"] == "would be renewed: renewal is due (%s)" % due
                assert stack["ca"].contacts() == issued_at, "check mode contacts no CA"

            renewal = {}

            def after_apply(applied):
                renewal["contacts"] = stack["ca"].contacts()
                assert renewal["contacts"] > issued_at

            _predicted, applied = four_step(runner, api, app_name, "dokku_ps_certs", args, after_check=after_check,
                                            after_apply=after_apply)
            assert applied["certificate"]["action"] == "renewed"
            assert served(stack, "shop.test", applied["certificate"]["fingerprint"]) not in (None, first)
            renewed_at = stack["ca"].contacts()
            assert renewed_at == renewal["contacts"], "the idempotent check and apply contact no CA"
            # several apps: a long-lived certificate is not due (no CA contacted), an app without HTTPS is skipped
            several = runner.module("dokku_ps_certs", certs_args(stack, apps=[app_name, plain], parallel=2))
            assert not several["changed"] and several["apps_changed"] == []
            assert several["apps_skipped"] == {plain: "no HTTPS (https: off)"}
            assert several["apps"][app_name]["reason"].startswith("not due: renewal from ")
            assert stack["ca"].contacts() == renewed_at, "no CA contacted for a certificate not due"

            # nginx lost the certificate: installed again from the state directory, without the CA
            kept = served(stack, "shop.test", applied["certificate"]["fingerprint"])
            for suffix in (".crt", ".key"):
                os.unlink(os.path.join(stack["nginx"].include_dir, app_name + suffix))
            again = runner.module("dokku_ps_certs", certs_args(stack, all=True))
            assert again["apps"][app_name]["certificate"]["action"] == "installed", again
            assert again["apps_changed"] == [app_name] and stack["ca"].contacts() == renewed_at
            assert served(stack, "shop.test", fingerprint(kept)) == kept

            # force: predicted without the CA, then renewed whether due or not
            forced_check = runner.module("dokku_ps_certs", certs_args(stack, app=app_name, force=True), check=True)
            assert forced_check["reason"] == "would be renewed: renewal was asked for (force)"
            assert stack["ca"].contacts() == renewed_at
            forced = runner.module("dokku_ps_certs", certs_args(stack, app=app_name, force=True))
            assert forced["changed"] and forced["certificate"]["action"] == "renewed"
            assert stack["ca"].contacts() > renewed_at
            now_served = served(stack, "shop.test", forced["certificate"]["fingerprint"])
            assert fingerprint(now_served) == forced["certificate"]["fingerprint"] != fingerprint(kept)
            not_after = datetime.datetime.strptime(forced["certificate"]["not_after"], "%Y-%m-%dT%H:%M:%SZ")
            assert not_after.year > datetime.datetime.now().year + 1, "pebble's default: five years"
            assert DOMAINS == forced["certificate"]["names"]
    finally:
        remove_app_containers(api, plain)
