"""A fleet of three Docker hosts: three private Docker daemons are the inventory hosts host1..3 (each with its
own ``dokku_ps_docker_host`` and ``dokku_ps_state_dir``). The fleet role converges different apps on each,
a second run changes nothing, the three daemons are stopped and started again (a reboot of the fleet), and
``playbooks/restore.yml`` brings back exactly the apps that were running, with the same containers, and says
what it skipped and why. Then the wrapper script of the restore_on_boot role restores a host for real."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import yaml

from tests.support import daemons
from tests.support.ansible_runner import COLLECTIONS_PATH, REPO_ROOT, Runner
from tests.support.docker_state import containers

BASE = "dokku-ps-test/base:latest"
PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
STOPPED_REASON = "restore flag is false (the app was stopped on purpose)"
YAML_OUTPUT = {"ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"}

# What each host runs. fa-stopped runs first and is stopped on purpose afterwards; fb-new is declared stopped
# from the start (never deployed); the apps with restart policy 'no' are the ones Docker itself does not bring
# back after a reboot, so the restore must.
FIRST = {
    "host1": [
        {"name": "fa-web", "image": BASE, "processes": PROCESSES, "scale": {"web": 2, "worker": 1}},
        {"name": "fa-nopolicy", "image": BASE, "restart_policy": "no", "env": {"API_KEY": "h0st1-s3cret"}},
        {"name": "fa-stopped", "image": BASE, "processes": PROCESSES, "scale": {"web": 1, "worker": 1}},
    ],
    "host2": [
        {"name": "fb-api", "image": BASE, "restart_policy": "always"},
        {"name": "fb-jobs", "image": BASE, "processes": PROCESSES, "scale": {"web": 0, "worker": 2},
         "restart_policy": "unless-stopped"},
        {"name": "fb-new", "image": BASE, "state": "stopped"},
    ],
    "host3": [
        {"name": "fc-one", "image": BASE, "stop_timeout_seconds": 5},
        {"name": "fc-nopolicy", "image": BASE, "processes": PROCESSES, "scale": {"web": 1, "worker": 1},
         "restart_policy": "no"},
    ],
}
RUNNING = {"host1": ["fa-web", "fa-nopolicy"], "host2": ["fb-api", "fb-jobs"], "host3": ["fc-one", "fc-nopolicy"]}
RECAP_RE = re.compile(r"^(host[123])\s*:\s*ok=(\d+)\s+changed=(\d+)\s.*failed=(\d+)", re.M)


def final_apps():
    apps = dict((host, [dict(app) for app in declared]) for host, declared in FIRST.items())
    apps["host1"][2]["state"] = "stopped"
    return apps


@pytest.fixture(scope="module")
def host1(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "host1")


@pytest.fixture(scope="module")
def host2(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "host2")


@pytest.fixture(scope="module")
def host3(tmp_path_factory):
    yield from daemons.private_daemon(tmp_path_factory, "host3")


@pytest.fixture(scope="module")
def fleet(host1, host2, host3):
    return {"host1": host1, "host2": host2, "host3": host3}


def write_inventory(path, fleet, apps, state_root):
    hosts = {}
    for name, daemon in sorted(fleet.items()):
        hosts[name] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "dokku_ps_docker_host": daemon.url,
            "dokku_ps_state_dir": os.path.join(state_root, name),
            "dokku_ps_apps": apps[name],
        }
    inventory = {"all": {"children": {"docker_hosts": {"hosts": hosts, "vars": {"dokku_ps_parallel": 4}}}}}
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle, sort_keys=False)
    return str(path)


def recaps(output):
    """{host: (ok, changed, failed)} from the play recap."""
    found = dict((match.group(1), tuple(int(group) for group in match.groups()[1:])) for match in RECAP_RE.finditer(output))
    assert sorted(found) == ["host1", "host2", "host3"], output[-3000:]
    return found


def fleet_state(fleet):
    """{host: {app: {container name: (id, status, policy)}}} read through each daemon's SDK client."""
    state = {}
    for host, daemon in fleet.items():
        client = daemon.client()
        try:
            state[host] = {}
            for app in FIRST[host]:
                state[host][app["name"]] = dict(
                    (name, (data["Id"], data["State"]["Status"], data["HostConfig"]["RestartPolicy"]["Name"]))
                    for name, data in containers(client.api, app["name"]).items())
        finally:
            client.close()
    return state


def results_by_host(results, key):
    """Recorded results carrying ``key``, by host (told apart by the app names, which differ per host)."""
    found = {}
    for entry in results:
        apps = entry["result"].get("apps")
        if key in entry["result"] and isinstance(apps, dict):
            host = next(host for host, declared in FIRST.items() if declared[0]["name"] in apps)
            found[host] = entry["result"]
    return found


def test_fleet_reboot_restores_exactly_the_running_apps(fleet, tmp_path):
    timings = {}
    runner = Runner(str(tmp_path / "unused-state"), workdir=str(tmp_path))
    converge = [{"name": "Converge the apps of every host", "hosts": "docker_hosts", "gather_facts": False,
                 "roles": ["dokku_ps.docker.fleet"]}]

    started = time.monotonic()
    inventory = write_inventory(tmp_path / "first.yml", fleet, FIRST, str(tmp_path / "state"))
    returncode, results, output = runner.playbook(converge, inventory=inventory)
    assert returncode == 0, output[-4000:]
    assert all(changed > 0 for _ok, changed, _failed in recaps(output).values())
    assert "h0st1-s3cret" not in output

    inventory = write_inventory(tmp_path / "inventory.yml", fleet, final_apps(), str(tmp_path / "state"))
    returncode, results, output = runner.playbook(converge, inventory=inventory)
    assert returncode == 0, output[-4000:]
    assert results_by_host(results, "apps_pruned")["host1"]["apps"]["fa-stopped"]["containers"]["stopped"] == [
        "fa-stopped.web.1", "fa-stopped.worker.1"]
    assert dict((host, recap[1]) for host, recap in recaps(output).items()) == {"host1": 1, "host2": 0, "host3": 0}

    returncode, results, output = runner.playbook(converge, inventory=inventory)
    assert returncode == 0, output[-4000:]
    assert dict((host, recap[1]) for host, recap in recaps(output).items()) == {"host1": 0, "host2": 0, "host3": 0}
    assert all(result["changed"] is False for result in results_by_host(results, "apps_pruned").values())
    timings["converge (3 runs)"] = time.monotonic() - started

    before = fleet_state(fleet)
    for host, apps in before.items():
        for app, found in apps.items():
            wanted = "running" if app in RUNNING[host] else "exited"
            assert found or app == "fb-new", (host, app)
            assert all(status == wanted for _id, status, _policy in found.values()), (host, app, found)
    assert before["host2"]["fb-new"] == {}
    assert sorted(before["host1"]["fa-web"]) == ["fa-web.web.1", "fa-web.web.2", "fa-web.worker.1"]
    assert sorted(before["host2"]["fb-jobs"]) == ["fb-jobs.worker.1", "fb-jobs.worker.2"]
    # each daemon holds only its own host's apps
    assert all(not before[host][app] for host in before for app in before[host] if host == "host2" and app.startswith("fa"))

    started = time.monotonic()
    for daemon in fleet.values():
        daemon.restart()
    timings["reboot of 3 daemons"] = time.monotonic() - started
    rebooted = fleet_state(fleet)
    for host, app in (("host1", "fa-nopolicy"), ("host3", "fc-nopolicy")):
        assert all(status == "exited" for _id, status, _p in rebooted[host][app].values()), "Docker brought back %s" % app

    restore = [{"import_playbook": "dokku_ps.docker.restore"}]
    started = time.monotonic()
    returncode, results, output = runner.playbook(restore, inventory=inventory, env=YAML_OUTPUT)
    timings["restore.yml"] = time.monotonic() - started
    assert returncode == 0, output[-4000:]
    restored = results_by_host(results, "apps_skipped")
    assert sorted(restored) == ["host1", "host2", "host3"]
    assert restored["host1"]["apps_changed"] == ["fa-nopolicy"]
    assert restored["host1"]["apps_skipped"] == {"fa-stopped": STOPPED_REASON}
    assert restored["host2"]["apps_changed"] == []
    assert restored["host2"]["apps_skipped"] == {"fb-new": "not deployed"}
    assert restored["host3"]["apps_changed"] == ["fc-nopolicy"]
    assert restored["host3"]["apps_skipped"] == {}

    after = fleet_state(fleet)
    for host, apps in after.items():
        for app, found in apps.items():
            assert sorted(found) == sorted(before[host][app]), (host, app)
            for name, (container_id, status, policy) in found.items():
                wanted = "running" if app in RUNNING[host] else "exited"
                assert status == wanted, (host, name, status)
                assert container_id == before[host][app][name][0], "restore reuses the matching containers"
                assert policy == before[host][app][name][2]

    # what was started and what was skipped, and why, per host
    for line in ("host1: 1 app(s) started, 1 already running, 1 skipped, 0 failed",
                 "started  fa-nopolicy: restored; started fa-nopolicy.web.1",
                 "running  fa-web: already running",
                 "skipped  fa-stopped: " + STOPPED_REASON,
                 "host2: 0 app(s) started, 2 already running, 1 skipped, 0 failed",
                 "skipped  fb-new: not deployed",
                 "host3: 1 app(s) started, 1 already running, 0 skipped, 0 failed",
                 "started  fc-nopolicy: restored; started fc-nopolicy.web.1, fc-nopolicy.worker.1"):
        assert line in output, "%r not in the output:\n%s" % (line, output[-4000:])

    returncode, results, output = runner.playbook(restore, inventory=inventory)
    assert returncode == 0, output[-4000:]
    assert dict((host, recap[1]) for host, recap in recaps(output).items()) == {"host1": 0, "host2": 0, "host3": 0}

    returncode, results, output = runner.playbook([{"import_playbook": "dokku_ps.docker.report"}], inventory=inventory,
                                                  env=YAML_OUTPUT)
    assert returncode == 0, output[-4000:]
    for pattern in (r"host1: 3 app\(s\)", r"fa-web +web +2/2 +on-failure:10 +yes",
                    r"fa-web +worker +1/1 +on-failure:10 +yes", r"fa-nopolicy +web +1/1 +no +yes",
                    r"fa-stopped +worker +1/0 +on-failure:10 +no", r"fb-api +web +1/1 +always +yes",
                    r"fb-jobs +worker +2/2 +unless-stopped +yes", r"fb-new +web +1/0 +on-failure:10 +no \(not deployed\)",
                    r"fc-nopolicy +worker +1/1 +no +yes"):
        assert re.search(pattern, output), "%r not in the report:\n%s" % (pattern, output[-4000:])
    print("fleet of 3 hosts: %s" % ", ".join("%s %.1fs" % item for item in timings.items()))
    sys.stderr.write("\nfleet of 3 hosts: %s\n" % ", ".join("%s %.1fs" % item for item in timings.items()))


def test_boot_unit_script_restores_a_host(host1, tmp_path):
    """The restore_on_boot role's wrapper script, run as systemd would run it, restores host1 after a reboot."""
    state_dir = str(tmp_path / "boot-state")
    root = tmp_path / "root"
    script = root / "usr" / "local" / "sbin" / "dokku-ps-restore"
    runner = Runner(state_dir, docker_host=host1.url, workdir=str(tmp_path))
    variables = {
        "dokku_ps_state_dir": state_dir,
        "dokku_ps_docker_host": host1.url,
        "dokku_ps_apps": [{"name": "boot-nopolicy", "image": BASE, "processes": PROCESSES,
                           "scale": {"web": 1, "worker": 1}, "restart_policy": "no"},
                          {"name": "boot-stopped", "image": BASE, "state": "stopped"}],
        "dokku_ps_restore_unit_dir": str(root / "etc" / "systemd" / "system"),
        "dokku_ps_restore_script_path": str(script),
        "dokku_ps_restore_inventory_path": str(root / "etc" / "dokku-ps" / "restore-inventory.yml"),
        "dokku_ps_restore_ansible_playbook": os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "dokku_ps_restore_collections_path": COLLECTIONS_PATH,
        "dokku_ps_restore_python": sys.executable,
        "dokku_ps_restore_manage_service": False,
    }
    play = {"name": "Deploy and install the boot restore", "hosts": "localhost", "gather_facts": False,
            "vars": variables, "roles": ["dokku_ps.docker.fleet", "dokku_ps.docker.restore_on_boot"]}
    returncode, _results, output = runner.playbook([play])
    assert returncode == 0, output[-4000:]
    client = host1.client()
    before = dict((name, data["Id"]) for name, data in containers(client.api, "boot-nopolicy").items())
    assert sorted(before) == ["boot-nopolicy.web.1", "boot-nopolicy.worker.1"]
    client.close()

    host1.restart()
    client = host1.client()
    try:
        assert not any(data["State"]["Running"] for data in containers(client.api, "boot-nopolicy").values())
        # as systemd runs it: no ANSIBLE_* or DOCKER_* settings of ours, no terminal
        env = dict((key, value) for key, value in os.environ.items()
                   if not key.startswith(("ANSIBLE_", "DOCKER_", "DOKKU_PS_")))
        started = time.monotonic()
        proc = subprocess.run([str(script)], env=env, cwd="/", capture_output=True, text=True, timeout=300, check=False)
        elapsed = time.monotonic() - started
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output[-4000:]
        assert "localhost: 1 app(s) started, 0 already running, 1 skipped, 0 failed" in output, output[-4000:]
        assert "started  boot-nopolicy: restored; started boot-nopolicy.web.1, boot-nopolicy.worker.1" in output
        assert "skipped  boot-stopped: not deployed" in output
        after = containers(client.api, "boot-nopolicy")
        assert dict((name, data["Id"]) for name, data in after.items()) == before
        assert all(data["State"]["Running"] for data in after.values())
    finally:
        client.close()
    sys.stderr.write("\nboot restore script: %.1fs\n" % elapsed)
    assert os.path.isfile(os.path.join(REPO_ROOT, "playbooks", "restore.yml"))
