"""The roles against the main daemon: the app role in the four-step pattern, the fleet role with 50 apps
confirming "nothing to do" in ONE module task, and the files the restore_on_boot role writes."""

from __future__ import annotations

import concurrent.futures
import configparser
import json
import os
import re
import secrets
import stat
import sys
import time

import pytest
import yaml

from tests.support.ansible_runner import REPO_ROOT
from tests.support.docker_state import containers, snapshot, state_files

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
SECRET = "r0le-s3cret-%s" % secrets.token_hex(4)
SYSTEMCTL_STUB = """#!/bin/sh
# test stub of systemctl: records its arguments, remembers whether the unit was enabled
echo "$*" >> '%(calls)s'
case "$1" in
    daemon-reload | enable) [ "$1" = enable ] && touch '%(enabled)s'; exit 0 ;;
    show) printf 'Id=%%s\\nLoadState=loaded\\nActiveState=inactive\\n' "$2"; exit 0 ;;
    is-enabled) if [ -e '%(enabled)s' ]; then echo enabled; exit 0; fi; echo disabled; exit 1 ;;
esac
exit 1
"""
RECAP_RE = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s.*failed=(\d+)", re.M)


def _remove_prefixed(api, prefix):
    found = api.containers(all=True, filters={"name": ["^/%s" % re.escape(prefix)]})
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda summary: api.remove_container(summary["Id"], force=True), found))


@pytest.fixture
def rl_prefix(api):
    """A unique ``rl-<hex>`` name prefix; every container whose name starts with it is removed afterwards."""
    prefix = "rl-%s" % secrets.token_hex(3)
    yield prefix
    _remove_prefixed(api, prefix)


def role_play(role, variables, gather_facts=False):
    play = {"name": "Role %s" % role, "hosts": "localhost", "gather_facts": gather_facts,
            "vars": variables, "roles": ["dokku_ps.docker." + role]}
    if gather_facts:
        play["gather_subset"] = ["!all"]  # the minimal facts hold service_mgr
    return play


def recap(output):
    """(ok, changed, failed) of the play recap."""
    match = RECAP_RE.search(output)
    assert match, output[-3000:]
    return tuple(int(group) for group in match.groups())


def fleet_results(results):
    """The recorded results of dokku_ps_fleet tasks (the only results with ``apps_pruned``)."""
    return [entry for entry in results if "apps_pruned" in entry["result"]]


def run_role(runner, role, variables, check=False, expect_rc=0, extra_args=()):
    returncode, results, output = runner.playbook([role_play(role, variables)], check=check, extra_args=extra_args)
    assert returncode == expect_rc, output[-4000:]
    return results, output


def test_app_role_four_steps_secret_stop_absent(runner, api, rl_prefix, standard_images):
    name = rl_prefix + "-shop"
    app = {"name": name, "image": standard_images["base"], "processes": PROCESSES, "scale": {"web": 2, "worker": 1},
           "env": {"SECRET_TOKEN": SECRET}, "restart_policy": "always", "stop_timeout_seconds": 5,
           "checks": {"worker": "skipped"}}
    variables = {"dokku_ps_app": app, "dokku_ps_state_dir": runner.state_dir}
    expected = sorted(["%s.web.1" % name, "%s.web.2" % name, "%s.worker.1" % name])

    # 1. check mode predicts the change and changes nothing
    results, output = run_role(runner, "app", variables, check=True)
    [predicted] = fleet_results(results)
    assert predicted["result"]["changed"] is True
    assert sorted(predicted["result"]["apps"][name]["containers"]["created"]) == expected
    assert snapshot(api, name) == {}
    assert state_files(runner.state_dir) == {}

    # 2. apply, with -vvv: the env value appears nowhere in the output
    results, output = run_role(runner, "app", variables, extra_args=["-vvv"])
    [applied] = fleet_results(results)
    assert applied["result"]["changed"] is True
    assert applied["result"]["apps"][name]["containers"] == predicted["result"]["apps"][name]["containers"]
    assert applied["result"]["apps"][name]["containers"]["removed"] == [], "one pass: nothing created then removed"
    assert SECRET not in output and SECRET not in json.dumps(results)
    assert "SECRET_TOKEN" in output
    found = containers(api, name)
    assert sorted(found) == expected
    for data in found.values():
        assert data["State"]["Running"] is True
        assert data["HostConfig"]["RestartPolicy"]["Name"] == "always"
        assert "SECRET_TOKEN=%s" % SECRET in data["Config"]["Env"]
    after = snapshot(api, name)
    files = state_files(runner.state_dir)
    assert list(files) == ["apps/%s.json" % name], "the role honours dokku_ps_state_dir"

    # 3. check mode again: no change predicted; 4. apply again: changed=0, containers untouched
    results, output = run_role(runner, "app", variables, check=True)
    assert fleet_results(results)[0]["result"]["changed"] is False
    assert recap(output)[1] == 0
    results, output = run_role(runner, "app", variables)
    assert fleet_results(results)[0]["result"]["changed"] is False
    assert recap(output)[1] == 0, "second run reported a change"
    assert snapshot(api, name) == after
    assert state_files(runner.state_dir) == files

    # bad input is refused by the role's argument spec before the module runs
    bad = dict(variables, dokku_ps_app=dict(app, state="bogus", web_port="abc"))
    results, output = run_role(runner, "app", bad, expect_rc=2, extra_args=["-vvv"])
    assert fleet_results(results) == []
    assert "value of state must be one of: started, stopped, absent, got: bogus" in output
    assert SECRET not in output
    assert snapshot(api, name) == after

    # state stopped keeps the containers, stopped; absent removes them and the app
    run_role(runner, "app", dict(variables, dokku_ps_app=dict(app, state="stopped")))
    assert sorted(status for _id, status, _policy, _count in snapshot(api, name).values()) == ["exited"] * 3
    assert set(_id for _id, _s, _p, _c in snapshot(api, name).values()) == set(i for i, _s, _p, _c in after.values())
    run_role(runner, "app", dict(variables, dokku_ps_app={"name": name, "state": "absent"}))
    assert snapshot(api, name) == {}
    assert state_files(runner.state_dir) == {}


def test_fleet_role_50_apps_second_run_is_one_task(runner, api, rl_prefix, standard_images):
    apps = [{"name": "%s-%02d" % (rl_prefix, index), "image": standard_images["base"]} for index in range(50)]
    variables = {"dokku_ps_apps": apps, "dokku_ps_state_dir": runner.state_dir, "dokku_ps_parallel": 8}

    started = time.monotonic()
    results, output = run_role(runner, "fleet", variables)
    first = time.monotonic() - started
    [converged] = fleet_results(results)
    assert len(converged["result"]["apps_changed"]) == 50
    names = sorted(summary["Names"][0].lstrip("/") for summary in
                   api.containers(filters={"name": ["^/%s-" % rl_prefix], "status": "running"}))
    assert names == sorted("%s.web.1" % app["name"] for app in apps)
    ids = set(summary["Id"] for summary in api.containers(all=True, filters={"name": ["^/%s-" % rl_prefix]}))

    started = time.monotonic()
    results, output = run_role(runner, "fleet", variables)
    second = time.monotonic() - started
    fleet = fleet_results(results)
    assert len(fleet) == 1, "a host with 50 apps confirms 'nothing to do' in ONE module task"
    assert fleet[0]["result"]["changed"] is False
    assert fleet[0]["result"]["apps_changed"] == []
    assert len(fleet[0]["result"]["apps"]) == 50
    # the only other task is ansible-core's validation of the role's argument spec
    assert [entry["task"] for entry in results if entry not in fleet] == ["Validating arguments against arg spec 'main'"
                                                                          " - Converge every app of a host in one task,"
                                                                          " optionally pruning undeclared apps"]
    assert recap(output)[1] == 0
    assert set(summary["Id"] for summary in
               api.containers(all=True, filters={"name": ["^/%s-" % rl_prefix]})) == ids
    sys.stderr.write("\nfleet role, 50 apps: first run %.1fs, second (no change) run %.1fs\n" % (first, second))
    print("fleet role, 50 apps: first run %.1fs, second (no change) run %.1fs" % (first, second))


def _read_unit(path):
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str
    with open(path, encoding="utf-8") as handle:
        parser.read_file(handle)
    return parser


@pytest.mark.skipif(os.path.isdir("/run/systemd/system"), reason="this machine runs systemd: the role would enable the unit")
def test_restore_on_boot_role_writes_the_unit_idempotently(runner, tmp_path):
    root = tmp_path / "root"
    unit_dir = root / "etc" / "systemd" / "system"
    script = root / "usr" / "local" / "sbin" / "dokku-ps-restore"
    inventory = root / "etc" / "dokku-ps" / "restore-inventory.yml"
    playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    collections = os.path.join(REPO_ROOT, ".build", "collections")
    variables = {
        "dokku_ps_restore_unit_dir": str(unit_dir),
        "dokku_ps_restore_script_path": str(script),
        "dokku_ps_restore_inventory_path": str(inventory),
        "dokku_ps_restore_ansible_playbook": playbook_bin,
        "dokku_ps_restore_collections_path": collections,
        "dokku_ps_restore_python": sys.executable,
        "dokku_ps_state_dir": "/srv/dokku ps/state",
        "dokku_ps_docker_host": "unix:///run/other-docker.sock",
    }
    # with facts: dokku_ps_restore_manage_service defaults to false without systemd, so nothing calls systemctl
    play = role_play("restore_on_boot", variables, gather_facts=True)
    returncode, results, output = runner.playbook([play])
    assert returncode == 0, output[-4000:]
    assert recap(output)[1] > 0
    enable = [entry for entry in results if entry["task"].startswith("Enable the unit")]
    assert [entry["status"] for entry in enable] == ["skipped"]

    unit = _read_unit(str(unit_dir / "dokku-ps-restore.service"))
    assert unit["Unit"]["Requires"] == "docker.service"
    assert unit["Unit"]["After"] == "docker.service"
    assert unit["Service"]["Type"] == "oneshot"
    assert unit["Service"]["ExecStart"] == str(script)
    assert unit["Install"]["WantedBy"] == "docker.service"
    assert stat.S_IMODE(os.stat(str(unit_dir / "dokku-ps-restore.service")).st_mode) == 0o644

    text = script.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert stat.S_IMODE(os.stat(str(script)).st_mode) == 0o755
    assert "export ANSIBLE_COLLECTIONS_PATH=%s\n" % collections in text
    assert "exec %s -i %s dokku_ps.docker.restore \"$@\"\n" % (playbook_bin, inventory) in text

    with open(str(inventory), encoding="utf-8") as handle:
        hosts = yaml.safe_load(handle)["all"]["hosts"]
    assert hosts == {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                   "dokku_ps_restore_parallel": 8,
                                   "dokku_ps_state_dir": "/srv/dokku ps/state",
                                   "dokku_ps_docker_host": "unix:///run/other-docker.sock"}}

    # with dokku_ps_restore_manage_service (a stub systemctl records the calls): a changed unit reloads systemd
    # and the unit is enabled; the next run changes nothing and calls neither
    stub = tmp_path / "stub-bin"
    stub.mkdir()
    calls = tmp_path / "systemctl-calls"
    (stub / "systemctl").write_text(SYSTEMCTL_STUB % {"calls": calls, "enabled": tmp_path / "enabled"})
    (stub / "systemctl").chmod(0o755)
    env = {"PATH": "%s:%s" % (stub, os.environ.get("PATH", ""))}
    managed = role_play("restore_on_boot", dict(variables, dokku_ps_restore_manage_service=True,
                                                dokku_ps_restore_timeout_seconds=600))
    returncode, results, output = runner.playbook([managed], env=env)
    assert returncode == 0, output[-4000:]
    assert recap(output)[1] == 2, "the unit (new timeout) and its enabling"
    assert _read_unit(str(unit_dir / "dokku-ps-restore.service"))["Service"]["TimeoutStartSec"] == "600"
    made = calls.read_text().splitlines()
    assert made[0] == "daemon-reload" and "enable dokku-ps-restore.service" in made, made

    files = dict((str(path), path.read_bytes()) for path in root.rglob("*") if path.is_file())
    calls.unlink()
    returncode, results, output = runner.playbook([managed], env=env)
    assert returncode == 0, output[-4000:]
    assert recap(output)[1] == 0, "second run of restore_on_boot changed something"
    assert dict((str(path), path.read_bytes()) for path in root.rglob("*") if path.is_file()) == files
    made = calls.read_text().splitlines()
    assert "daemon-reload" not in made and not any(call.startswith("enable") for call in made), made
