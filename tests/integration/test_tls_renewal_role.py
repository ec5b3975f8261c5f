"""The tls_renewal role: its cron entry really renews a certificate due for renewal, run by a cron daemon of the
test's own (Debian's cron in a mount namespace where a directory of the test is /etc/cron.d, tests/support/cron.py;
this machine's PID 1 is not systemd), and its systemd units as they are rendered (no systemctl here).

The cron test: an app's certificate from pebble (valid an hour) reaches its renewal time (tls_apps.make_due); the
role writes its script, inventory and cron entry (every minute, no jitter) into directories of the test; the daemon
runs the entry at the start of the next minute; the log shows the run with its time, and the app's certificate was
renewed by it (nginx serves another one, the report shows its new not_after)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time

import pytest

from tests.support import images
from tests.support.ansible_runner import COLLECTIONS_PATH, Runner
from tests.support.cron import PrivateCron
from tests.support.proxy_apps import options
from tests.support.tls_apps import (
    EMAIL, acme_options, fingerprint, issue, make_due, served, tls_args, tls_stack)

ROLE = "dokku_ps.docker.tls_renewal"
# a minute for the entry's turn, and the run itself
RUN_BOUND = 180
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def role_play(variables):
    return {"name": "Install the daily renewal", "hosts": "localhost", "gather_facts": False, "vars": variables,
            "roles": [ROLE]}


def installed_paths(root):
    return {
        "dokku_ps_renew_script_path": str(root / "sbin" / "dokku-ps-renew"),
        "dokku_ps_renew_inventory_path": str(root / "etc" / "renew-inventory.yml"),
        "dokku_ps_renew_log_path": str(root / "log" / "dokku-ps-renew.log"),
        "dokku_ps_renew_cron_dir": str(root / "cron.d"),
        "dokku_ps_renew_unit_dir": str(root / "systemd"),
        "dokku_ps_renew_ansible_playbook": os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "dokku_ps_renew_collections_path": COLLECTIONS_PATH,
        "dokku_ps_renew_python": sys.executable,
        "dokku_ps_renew_manage_package": False,
        "dokku_ps_renew_manage_service": False,
    }


def host_variables(runner, stack):
    """The host's variables the renewal's inventory carries: its state directory, nginx and ACME CA."""
    nginx = options(stack["nginx"])
    acme = acme_options(stack)
    return {
        "dokku_ps_state_dir": runner.state_dir,
        "dokku_ps_proxy_include_dir": nginx["nginx_include_dir"], "dokku_ps_proxy_binary": nginx["nginx_binary"],
        "dokku_ps_proxy_main_conf": nginx["nginx_conf"], "dokku_ps_proxy_pid_file": nginx["nginx_pid_file"],
        "dokku_ps_proxy_prefix": nginx["nginx_prefix"],
        "dokku_ps_proxy_listen_address": nginx["proxy_listen_address"],
        "dokku_ps_acme_directory": acme["acme_directory"], "dokku_ps_acme_ca_bundle": acme["acme_ca_bundle"],
        "dokku_ps_acme_webroot": acme["acme_webroot"], "dokku_ps_acme_email": EMAIL,
    }


def wait_for_run(log_path, cron, bound):
    """The log once a run finished (its ``done`` line), within ``bound`` seconds."""
    deadline = time.monotonic() + bound
    text = ""
    while time.monotonic() < deadline:
        try:
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except FileNotFoundError:
            text = ""
        if " dokku-ps-renew: renewing " in text:
            cron.stop_daemon()  # the first run started: no second one
        if " dokku-ps-renew: done, exit status " in text:
            return text
        time.sleep(0.5)
    pytest.fail("no renewal finished within %d s; log:\n%s\ncron:\n%s" % (bound, text[-3000:], cron.log_tail()))


def test_the_cron_entry_renews_a_due_certificate(runner, app_name, tmp_path, cron_binary, docker_client,
                                                 standard_images):
    root = tmp_path / "host"
    with tls_stack(tmp_path, validity_seconds=3600) as stack:
        issued = issue(runner, tls_args(stack, app_name, images.PROXY_IMAGE))
        assert issued["certificate"]["action"] == "issued", issued
        first = served(stack, "shop.test", issued["certificate"]["fingerprint"])
        due = make_due(runner.state_dir, app_name)

        variables = dict(installed_paths(root), **host_variables(runner, stack))
        variables.update({"dokku_ps_renew_scheduler": "cron", "dokku_ps_renew_cron_schedule": "* * * * *",
                          "dokku_ps_renew_jitter_seconds": 0, "dokku_ps_renew_timeout_seconds": 300})
        role_runner = Runner(runner.state_dir, workdir=str(tmp_path))
        returncode, _results, output = role_runner.playbook([role_play(variables)])
        assert returncode == 0, output[-4000:]
        entry = root / "cron.d" / "dokku-ps-renew"
        text = entry.read_text()
        assert "DOKKU_PS_RENEW_JITTER=0\n" in text
        assert "\n* * * * * root %s\n" % variables["dokku_ps_renew_script_path"] in text
        assert stat.S_IMODE(entry.stat().st_mode) == 0o644 and entry.stat().st_uid == 0, "as Debian's cron wants"
        assert not (root / "systemd").exists() or not os.listdir(str(root / "systemd")), "no systemd unit"
        again, _results, output = role_runner.playbook([role_play(variables)])
        assert again == 0 and re.search(r"localhost\s*:\s*ok=\d+\s+changed=0\s", output), output[-3000:]

        contacts = stack["ca"].contacts()
        started = time.monotonic()
        with PrivateCron(tmp_path / "cron", root / "cron.d") as cron:
            log = wait_for_run(variables["dokku_ps_renew_log_path"], cron, RUN_BOUND)
        elapsed = time.monotonic() - started

        assert re.search(r"^== %s dokku-ps-renew: renewing \(pid \d+, after a random delay of 0 s\)$" % STAMP, log,
                         re.M), log[-3000:]
        assert re.search(r"^== %s dokku-ps-renew: done, exit status 0$" % STAMP, log, re.M), log[-3000:]
        assert "localhost: 1 certificate(s) renewed or installed, 0 not due, 0 skipped, 0 failed" in log, log[-3000:]
        assert "renewed  %s: renewal is due (%s); valid until " % (app_name, due) in log, log[-3000:]
        assert stack["ca"].contacts() > contacts

        report = runner.module("dokku_ps_report", dict(options(stack["nginx"]), app=app_name, **acme_options(stack)))
        second = served(stack, "shop.test", report["certificate"]["fingerprint"])
        assert second is not None and second != first, "nginx serves the renewed certificate"
        assert report["certificate"]["fingerprint"] == fingerprint(second) and report["certificate"]["served"] is True
        assert report["certificate"]["not_after"] > issued["certificate"]["not_after"]
    sys.stderr.write("\ncron renewal: the entry ran and renewed within %.1fs of the daemon's start\n" % elapsed)


def test_the_systemd_timer_and_service_as_rendered(tmp_path):
    root = tmp_path / "host"
    variables = dict(installed_paths(root), dokku_ps_renew_scheduler="systemd", dokku_ps_state_dir="/srv/state")
    (root / "cron.d").mkdir(parents=True)
    (root / "cron.d" / "dokku-ps-renew").write_text("# an earlier cron entry\n")
    runner = Runner(str(tmp_path / "state"), workdir=str(tmp_path))
    returncode, _results, output = runner.playbook([role_play(variables)])
    assert returncode == 0, output[-4000:]

    timer = (root / "systemd" / "dokku-ps-renew.timer").read_text()
    for line in ("OnCalendar=daily", "RandomizedDelaySec=3600", "Persistent=true", "WantedBy=timers.target"):
        assert "\n%s\n" % line in timer, (line, timer)
    service = (root / "systemd" / "dokku-ps-renew.service").read_text()
    for line in ("Type=oneshot", "ExecStart=%s" % variables["dokku_ps_renew_script_path"],
                 "Environment=DOKKU_PS_RENEW_JITTER=0", "TimeoutStartSec=1860"):
        assert "\n%s\n" % line in service, (line, service)
    assert not (root / "cron.d" / "dokku-ps-renew").exists(), "the cron entry of an earlier schedule is removed"

    script = (root / "sbin" / "dokku-ps-renew").read_text()
    assert script.startswith("#!/bin/sh\n") and "timeout 1800 " in script and "dokku_ps.docker.renew" in script
    inventory = (root / "etc" / "renew-inventory.yml").read_text()
    assert "dokku_ps_state_dir: /srv/state" in inventory and "ansible_connection: local" in inventory
    shellcheck = subprocess.run(["shellcheck", "-s", "sh", str(root / "sbin" / "dokku-ps-renew")],
                                capture_output=True, text=True, timeout=60, check=False)
    assert shellcheck.returncode == 0, shellcheck.stdout

    again, _results, output = runner.playbook([role_play(variables)])
    assert again == 0 and re.search(r"localhost\s*:\s*ok=\d+\s+changed=0\s", output), output[-3000:]
    checked, _results, output = runner.playbook([role_play(dict(variables, dokku_ps_renew_jitter_seconds=0))],
                                                check=True)
    assert checked == 0 and re.search(r"localhost\s*:\s*ok=\d+\s+changed=1\s", output), output[-3000:]
    assert "RandomizedDelaySec=3600" in (root / "systemd" / "dokku-ps-renew.timer").read_text(), "check mode"
