"""Fault injection for the reliability tests (tests/integration/test_faults_*.py).

- ``start_playbook``: like ``Runner.tasks`` but started with ``subprocess.Popen``, so a test can act while
  the playbook runs (kill the module, stop a daemon, start a second run) and collect the result later.
- ``module_pids`` / ``kill_module``: find the AnsiballZ python process of a module among the descendants of
  an ``ansible-playbook`` pid WE started (through /proc), and SIGKILL it and its descendants by pid. Nothing
  is ever killed by name, and a process is identified by pid and start time so a recycled pid is never hit.
- ``wait_until``: a polling loop bounded by a count and a time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import yaml

from tests.support.ansible_runner import _ansible_playbook, ansible_environment
from tests.support.daemons import _descendants, _Proc, proc_cmdline


class Timeout(AssertionError):
    pass


def wait_until(predicate, timeout=30.0, interval=0.05, what="condition"):
    """Poll ``predicate`` until it returns a truthy value (returned); at most ``timeout`` seconds and
    ``timeout / interval + 1`` polls. Raises Timeout naming ``what`` (a string, or a callable returning one,
    called on failure)."""
    deadline = time.monotonic() + timeout
    for _attempt in range(int(timeout / interval) + 2):
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise Timeout("timed out after %ss waiting for %s" % (timeout, what() if callable(what) else what))


def play(runner, tasks):
    return [{
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {"group/dokku_ps.docker.ps": runner.defaults()},
        "tasks": tasks,
    }]


class RunningPlaybook:
    """An ``ansible-playbook`` started in the background, in a work directory of its own."""

    def __init__(self, runner, tasks, workdir, env=None, prefix=()):
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        self.path = os.path.join(workdir, "playbook.yml")
        self.record = os.path.join(workdir, "record.jsonl")
        self.output_path = os.path.join(workdir, "output.txt")
        with open(self.path, "w") as handle:
            yaml.safe_dump(play(runner, tasks), handle, sort_keys=False)
        command = list(prefix) + [_ansible_playbook(), "-i", "localhost,", "-c", "local", self.path]
        self.started = time.monotonic()
        self.finished = None
        with open(self.output_path, "wb") as output:
            # The process outlives this call: wait() reaps it.
            # pylint: disable-next=consider-using-with
            self.proc = subprocess.Popen(command, cwd=workdir, env=ansible_environment(self.record, env),
                                         stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout=300):
        """Wait (bounded) for the playbook; returns (returncode, recorded task results, output)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(self.proc.pid)
            self.proc.wait(timeout=30)
            raise Timeout("ansible-playbook did not finish within %ss:\n%s" % (timeout, self.output()[-3000:]))
        if self.finished is None:
            self.finished = time.monotonic()
        results = []
        if os.path.exists(self.record):
            with open(self.record) as handle:
                results = [json.loads(line) for line in handle if line.strip()]
        return self.proc.returncode, results, self.output()

    def duration(self):
        return None if self.finished is None else self.finished - self.started

    def output(self):
        with open(self.output_path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def module_pids(self, module=None):
        return module_pids(self.proc.pid, module)

    def kill_module(self, module=None, timeout=20):
        """SIGKILL the module process (found below our ansible-playbook) and its descendants."""
        pids = wait_until(lambda: self.module_pids(module), timeout=timeout, what="the module process")
        for pid in pids:
            kill_tree(pid)
        return pids


def module_pids(root_pid, module=None):
    """Pids of the AnsiballZ python processes below ``root_pid`` (optionally of one module)."""
    marker = "AnsiballZ_%s.py" % module if module else "AnsiballZ_"
    found = []
    for pid in _descendants(root_pid):
        args = proc_cmdline(pid)
        if args and "python" in os.path.basename(args[0]) and any(marker in arg for arg in args[1:]):
            found.append(pid)
    return found


def kill_tree(pid, timeout=10):
    """SIGKILL ``pid`` and every descendant of it, by pid (children first found, then killed together)."""
    victims = [_Proc(child) for child in _descendants(pid)] + [_Proc(pid)]
    for proc in victims:
        proc.signal(signal.SIGKILL)
    for proc in victims:
        proc.wait_gone(timeout)
