"""Run modules, roles and playbooks of the collection through the real ``ansible-playbook``.

Every task result is captured as JSON by the test-only callback ``dokku_ps_record``, so tests assert on
what the module really returned, and on Docker state through the SDK.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.path.join(REPO_ROOT, ".build", "collections")
CALLBACKS = os.path.join(REPO_ROOT, "tests", "support", "callback_plugins")
FQCN = "dokku_ps.docker."


def _ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return candidate if os.path.exists(candidate) else "ansible-playbook"


def ansible_environment(record, extra=None):
    """The environment of an ansible-playbook run of the tests: this collection, the result recorder writing
    to ``record``, this Python on the managed (local) host, quiet warnings."""
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
    })
    env.update(extra or {})
    return env


class TaskFailed(AssertionError):
    pass


class Runner:
    """Runs one-play playbooks on localhost with the module defaults a test needs."""

    def __init__(self, state_dir, docker_host=None, workdir=None):
        self.state_dir = state_dir
        self.docker_host = docker_host
        self.workdir = workdir or tempfile.mkdtemp(prefix="dokku-ps-run-")

    def defaults(self):
        values = {"state_dir": self.state_dir}
        if self.docker_host:
            values["docker_host"] = self.docker_host
        return values

    def playbook(self, plays, check=False, diff=False, extra_args=(), env=None, timeout=600, inventory=None):
        """Run a list of plays; returns (returncode, list of recorded task results, output text).

        ``inventory``: an inventory file to use instead of the implicit ``localhost`` with a local connection.
        """
        path = os.path.join(self.workdir, "playbook.yml")
        record = os.path.join(self.workdir, "record.jsonl")
        with open(path, "w") as handle:
            yaml.safe_dump(plays, handle, sort_keys=False)
        if os.path.exists(record):
            os.unlink(record)
        if inventory:
            command = [_ansible_playbook(), "-i", inventory, path]
        else:
            command = [_ansible_playbook(), "-i", "localhost,", "-c", "local", path]
            # "localhost," is host_list's: the other inventory plugins would only be loaded to decline it
            env = dict({"ANSIBLE_INVENTORY_ENABLED": "host_list"}, **(env or {}))
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        command.extend(extra_args)
        proc = subprocess.run(command, cwd=self.workdir, env=ansible_environment(record, env), capture_output=True, text=True,
                              timeout=timeout, check=False)
        results = []
        if os.path.exists(record):
            with open(record) as handle:
                results = [json.loads(line) for line in handle if line.strip()]
        return proc.returncode, results, proc.stdout + proc.stderr

    def tasks(self, tasks, check=False, diff=False, **kwargs):
        play = {
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/dokku_ps.docker.ps": self.defaults()},
            "tasks": tasks,
        }
        return self.playbook([play], check=check, diff=diff, **kwargs)

    def module(self, name, args, check=False, diff=False, expect_failure=False, **kwargs):
        """Run one module task and return its result dict (fails the test on an unexpected outcome)."""
        task = {"name": name, (FQCN + name): args}
        returncode, results, output = self.tasks([task], check=check, diff=diff, **kwargs)
        if not results:
            raise TaskFailed("no result recorded (rc=%s):\n%s" % (returncode, output[-4000:]))
        entry = results[-1]
        failed = entry["status"] == "failed"
        if failed != expect_failure:
            raise TaskFailed("%s %s unexpectedly (rc=%s): %s" % (
                name, "failed" if failed else "succeeded", returncode, json.dumps(entry["result"], indent=1)[:4000]))
        result = entry["result"]
        result["_output"] = output
        return result

    def modules(self, calls, check=False, diff=False, **kwargs):
        """Run module tasks ``[(name, args), ...]`` in ONE playbook (one ansible-playbook start for all of them);
        returns their result dicts in order and fails the test when any of them fails (the play stops there)."""
        tasks = [{"name": name, (FQCN + name): args} for name, args in calls]
        returncode, results, output = self.tasks(tasks, check=check, diff=diff, **kwargs)
        failed = [entry for entry in results if entry["status"] == "failed"]
        if failed or len(results) != len(calls):
            raise TaskFailed("%d of %d tasks recorded, failed: %s (rc=%s):\n%s" % (
                len(results), len(calls), json.dumps([entry["result"] for entry in failed], indent=1)[:3000],
                returncode, output[-3000:]))
        return [entry["result"] for entry in results]
