"""Shared pieces of the benchmark: names, timing, the ansible-playbook driver, raw SDK helpers, the CLI loop and
docker-compose contenders, and cleanup.

Every container, app, compose project and network the benchmark creates is named ``bn-...``; ``cleanup_main``
removes them all (it runs before and after every benchmark run, also on failure).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import docker
import yaml

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
COLLECTIONS_PATH = os.path.join(REPO_ROOT, ".build", "collections")
CALLBACKS = os.path.join(REPO_ROOT, "tests", "support", "callback_plugins")  # dokku_ps_record
PREFIX = "bn-"
MAIN_DOCKER = "unix:///var/run/docker.sock"
WORKERS = 8
COMMAND = "sleep 86400"
DEFAULT_POLICY = "on-failure:10"
SUBPROCESS_TIMEOUT = 600


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def median(values):
    return statistics.median(values) if values else None


def git_commit(root=REPO_ROOT):
    """(the commit checked out in ``root``, whether tracked files differ from it) for a run's results; (None, None)
    when git cannot tell. The benchmark's own output (bench/results/, the pages and charts it regenerates) does not
    count as a difference."""
    def git(*args):
        done = subprocess.run(["git", "-C", root] + list(args), capture_output=True, text=True, timeout=30, check=False)
        if done.returncode:
            raise OSError(done.stderr.strip())
        return done.stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    except (OSError, subprocess.SubprocessError):
        return None, None
    own = ("bench/results/", "docs/performance.md", "docs/images/bench/")
    return commit, any(not path.startswith(own) for path in changed)


def machine():
    """The CPU model, memory (GiB) and kernel of the machine the benchmark runs on (Linux' /proc)."""
    found = {"kernel": platform.release()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            models = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        if models:
            found["cpu_model"] = models[0]
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    found["memory_gib"] = round(int(line.split()[1]) / 1024.0 / 1024.0, 1)
    except (OSError, ValueError, IndexError):
        pass
    return found


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "samples": [round(v, 4) for v in values]}


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        self.elapsed = None
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.started


def docker_cli():
    for path in ("/usr/bin/docker", "/usr/local/bin/docker"):
        if os.access(path, os.X_OK):
            return path
    return shutil.which("docker")


def run_checked(command, env=None, timeout=SUBPROCESS_TIMEOUT, cwd=None):
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError("%s failed (rc=%s): %s" % (" ".join(command[:4]), proc.returncode, output))
    return proc


# ---------------------------------------------------------------------------------------------------------
# The collection, through ansible-playbook
# ---------------------------------------------------------------------------------------------------------

class PlaybookRun:
    def __init__(self, wall, tasks, output):
        self.wall = wall
        self.tasks = tasks
        self.output = output

    def task(self, index=-1):
        return self.tasks[index]

    @property
    def result(self):
        return self.tasks[-1]["result"]


class Ansible:
    """Runs one-play playbooks on localhost (local connection) with the collection's module defaults."""

    def __init__(self, workdir, state_dir, docker_host=MAIN_DOCKER):
        self.workdir = workdir
        self.state_dir = state_dir
        self.docker_host = docker_host
        os.makedirs(workdir, exist_ok=True)
        self.executable = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        if not os.path.exists(self.executable):
            self.executable = shutil.which("ansible-playbook") or "ansible-playbook"

    def environment(self, record):
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_PATH,
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
            "ANSIBLE_CALLBACKS_ENABLED": "dokku_ps_record",
            "DOKKU_PS_RECORD_FILE": record,
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
        })
        for key in ("DOCKER_HOST", "DOKKU_PS_STATE_DIR", "DOKKU_PS_MAX_WORKERS"):
            env.pop(key, None)
        return env

    def play(self, tasks=None, roles=None, play_vars=None, docker_host=None, defaults=True, expect_changed=None):
        play = {"name": "bench", "hosts": "localhost", "gather_facts": False}
        if defaults:
            play["module_defaults"] = {"group/dokku_ps.docker.ps": {
                "state_dir": self.state_dir, "docker_host": docker_host or self.docker_host}}
        if play_vars:
            play["vars"] = play_vars
        if roles:
            play["roles"] = roles
        if tasks:
            play["tasks"] = tasks
        path = os.path.join(self.workdir, "playbook.yml")
        record = os.path.join(self.workdir, "record.jsonl")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump([play], handle, sort_keys=False)
        if os.path.exists(record):
            os.unlink(record)
        command = [self.executable, "-i", "localhost,", "-c", "local", path]
        with Timer() as timer:
            proc = subprocess.run(command, cwd=self.workdir, env=self.environment(record), capture_output=True,
                                  text=True, timeout=SUBPROCESS_TIMEOUT, check=False)
        results = []
        if os.path.exists(record):
            with open(record, encoding="utf-8") as handle:
                results = [json.loads(line) for line in handle if line.strip()]
        output = proc.stdout + proc.stderr
        if proc.returncode != 0 or not results or any(r["status"] == "failed" for r in results):
            raise RuntimeError("ansible-playbook failed (rc=%s):\n%s" % (proc.returncode, output[-4000:]))
        run = PlaybookRun(timer.elapsed, results, output)
        if expect_changed is not None and bool(run.result.get("changed")) != expect_changed:
            raise RuntimeError("expected changed=%s, got %s:\n%s" % (
                expect_changed, run.result.get("changed"), json.dumps(run.result)[:3000]))
        return run

    def module(self, name, args, **kwargs):
        return self.play(tasks=[{"name": name, "dokku_ps.docker." + name: args}], **kwargs)

    def trivial(self):
        """The baseline: the same kind of playbook with one trivial module task (ansible.builtin.ping)."""
        return self.play(tasks=[{"name": "ping", "ansible.builtin.ping": {}}], defaults=False)


# ---------------------------------------------------------------------------------------------------------
# Raw SDK
# ---------------------------------------------------------------------------------------------------------

def api_client(base_url=MAIN_DOCKER):
    return docker.APIClient(base_url=base_url, version="auto", timeout=120, max_pool_size=16)


def raw_spec(app, ptype, index):
    """What the collection would create, with the same labels, env, init and restart policy."""
    dyno = "%s.%d" % (ptype, index)
    return {
        "name": "%s.%s.%d" % (app, ptype, index),
        "command": COMMAND.split(),
        "environment": ["DYNO=%s" % dyno, "PORT=%s" % ("5000" if ptype == "web" else "")],
        "labels": {"dokku": "", "com.dokku.app-name": app, "com.dokku.process-type": ptype,
                   "com.dokku.dyno": dyno, "com.dokku.container-type": "deploy"},
    }


def policy_dict(policy):
    if policy == "no":
        return {"Name": "no"}
    if policy.startswith("on-failure"):
        count = int(policy.split(":")[1]) if ":" in policy else 0
        return {"Name": "on-failure", "MaximumRetryCount": count}
    return {"Name": policy}


def raw_create_start(api, image, spec, policy=DEFAULT_POLICY):
    host_config = api.create_host_config(init=True, restart_policy=policy_dict(policy))
    created = api.create_container(image=image, command=spec["command"], name=spec["name"],
                                   environment=spec["environment"], labels=spec["labels"],
                                   host_config=host_config, detach=True)
    api.start(created["Id"])
    return created["Id"]


def raw_stop_remove(api, name, timeout=30):
    api.stop(name, timeout=timeout)
    api.remove_container(name)


def run_many(func, items, workers):
    """func over items, sequentially (workers=1) or on a pool; every exception propagates."""
    if workers <= 1:
        return [func(item) for item in items]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def containers_named(api, prefix, running_only=False):
    """Containers whose name starts with ``prefix`` (one list call)."""
    found = api.containers(all=not running_only, filters={"name": prefix})
    return [c for c in found if any(n.lstrip("/").startswith(prefix) for n in c.get("Names") or [])]


def expect_running(api, prefix, count, what):
    running = len(containers_named(api, prefix, running_only=True))
    if running != count:
        raise RuntimeError("%s: expected %d running containers named %s*, found %d" % (what, count, prefix, running))


def force_remove(api, prefix, workers=WORKERS):
    names = [c["Id"] for c in containers_named(api, prefix)]
    run_many(lambda cid: api.remove_container(cid, force=True), names, workers)
    return len(names)


# ---------------------------------------------------------------------------------------------------------
# docker CLI loop and docker-compose
# ---------------------------------------------------------------------------------------------------------

def cli_run(image, spec, policy=DEFAULT_POLICY):
    command = [docker_cli(), "run", "-d", "--init", "--name", spec["name"], "--restart", policy]
    for key, value in spec["labels"].items():
        command += ["--label", "%s=%s" % (key, value)]
    for item in spec["environment"]:
        command += ["-e", item]
    command += [image] + spec["command"]
    run_checked(command, env=cli_env())


def cli_stop_remove(name):
    run_checked([docker_cli(), "stop", "-t", "30", name], env=cli_env())
    run_checked([docker_cli(), "rm", name], env=cli_env())


def cli_env():
    env = dict(os.environ)
    env.pop("DOCKER_CONTEXT", None)
    env["DOCKER_HOST"] = MAIN_DOCKER
    return env


def compose_binary():
    return shutil.which("docker-compose")


def compose_problem(image):
    """None when docker-compose runs here with a local image, else the reason it cannot."""
    binary = compose_binary()
    if not binary:
        return "docker-compose is not installed (bench/setup.sh installs Debian's package)"
    workdir = tempfile.mkdtemp(prefix="bn-compose-probe-")
    project = Compose(workdir, "bn-probe", {"web": compose_service(image, "probe")})
    try:
        project.up({"web": 1})
        project.down()
    except Exception as exc:  # noqa: BLE001  (any failure means: skip this contender, with the reason)
        return "docker-compose cannot run here: %s" % str(exc).strip().splitlines()[-1][:300]
    finally:
        try:
            project.down()
        except Exception:  # noqa: BLE001
            pass
        shutil.rmtree(workdir, ignore_errors=True)
    return None


def compose_service(image, app, ptype="web", policy=DEFAULT_POLICY):
    return {
        "image": image,
        "command": COMMAND.split(),
        "init": True,
        "restart": policy,
        "environment": {"PORT": "5000" if ptype == "web" else ""},
        "labels": {"dokku": "", "com.dokku.app-name": app, "com.dokku.process-type": ptype,
                   "com.dokku.container-type": "deploy"},
    }


class Compose:
    """One docker-compose (v1) project named ``bn-...`` in its own directory."""

    def __init__(self, workdir, project, services):
        self.workdir = workdir
        self.project = project
        self.file = os.path.join(workdir, "%s.yml" % project)
        with open(self.file, "w", encoding="utf-8") as handle:
            yaml.safe_dump({"version": "2.4", "services": services}, handle, sort_keys=False)

    def run(self, *args):
        env = cli_env()
        env["COMPOSE_INTERACTIVE_NO_CLI"] = "1"
        return run_checked([compose_binary(), "--ansi", "never", "-p", self.project, "-f", self.file] + list(args),
                           env=env, cwd=self.workdir, timeout=180)

    def up(self, scale=None):
        args = ["up", "-d", "--no-color"]
        for service, count in (scale or {}).items():
            args += ["--scale", "%s=%d" % (service, count)]
        return self.run(*args)

    def down(self):
        return self.run("down", "-t", "10", "--remove-orphans")


# ---------------------------------------------------------------------------------------------------------
# Cleanup
# ---------------------------------------------------------------------------------------------------------

def cleanup_main(api):
    """Remove every bn-* container and network of the main daemon (leftovers of a failed run too)."""
    removed = force_remove(api, PREFIX)
    networks = [n for n in api.networks() if n["Name"].startswith(PREFIX)]
    for network in networks:
        try:
            api.remove_network(network["Id"])
        except docker.errors.APIError as exc:
            log("cleanup: could not remove network %s: %s" % (network["Name"], exc))
    return removed, len(networks)
