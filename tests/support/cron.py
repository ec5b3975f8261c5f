"""A cron daemon of a test's own: Debian's ``cron`` reading a directory of the test as its ``/etc/cron.d``.

Debian's cron (3.0pl1) has no option for another crontab directory: it reads ``/etc/cron.d``, ``/etc/crontab``
and ``/var/spool/cron/crontabs``. ``PrivateCron(root, cron_dir)`` therefore runs it in a mount namespace of its own
(``unshare --mount --propagation private``) where ``cron_dir`` is bind-mounted on ``/etc/cron.d`` and an empty
file and an empty directory of the test on the other two, so it runs the test's entries and nothing of the
machine's (no system job, and the machine's cron files are never touched). ``exec`` keeps one pid from ``unshare``
to ``cron -f`` (foreground, our child), so it is stopped by its pid.

Outside its crontab files the daemon shares the machine: it writes ``/run/crond.pid`` and ``/run/crond.reboot``.
When one of them exists already (a cron of the machine ran), a file of the test is bind-mounted on it in the
namespace, so the daemon locks and writes its own; when they do not, the daemon creates them, and ``stop`` removes
what it created. The jobs it runs are its descendants: ``stop`` waits for the ones still running, at most
``job_timeout`` seconds, and ends the ones left by their pids.

    with PrivateCron(tmp_path / "cron", cron_dir) as cron:
        ...  # an entry of cron_dir runs at the start of a minute
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

CRON = "/usr/sbin/cron"
UNSHARE = "/usr/bin/unshare"
PID_FILE = "/run/crond.pid"
REBOOT_FILE = "/run/crond.reboot"

# $1 the test's cron.d, $2 an empty crontab, $3 an empty spool directory, $4 and $5 the test's pid and reboot files
NAMESPACE_SCRIPT = """set -eu
mount --bind "$1" /etc/cron.d
if [ -e /etc/crontab ]; then mount --bind "$2" /etc/crontab; fi
if [ -d /var/spool/cron/crontabs ]; then mount --bind "$3" /var/spool/cron/crontabs; fi
if [ -e {pid} ]; then mount --bind "$4" {pid}; fi
if [ -e {reboot} ]; then mount --bind "$5" {reboot}; fi
exec {cron} -f
""".format(pid=PID_FILE, reboot=REBOOT_FILE, cron=CRON)


class CronError(RuntimeError):
    """The private cron did not start or stop as expected."""


def _children(pid):
    """The pids of the children of ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def descendants(pid):
    """The pids of every process below ``pid`` (children first)."""
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


class PrivateCron:
    def __init__(self, root, cron_dir, job_timeout=300.0):
        self.root = os.path.abspath(str(root))
        self.cron_dir = os.path.abspath(str(cron_dir))
        self.job_timeout = job_timeout
        self.log_file = os.path.join(self.root, "cron.log")
        self.proc = None
        self._created = []
        # the pids of the jobs running when the daemon was stopped
        self._jobs = []

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def start(self, timeout=10.0):
        for binary in (CRON, UNSHARE):
            if not os.access(binary, os.X_OK):
                raise CronError("%s is missing (scripts/bootstrap.sh installs Debian's cron)" % binary)
        os.makedirs(self.root, exist_ok=True)
        crontab = os.path.join(self.root, "crontab")
        spool = os.path.join(self.root, "spool")
        own_pid, own_reboot = os.path.join(self.root, "crond.pid"), os.path.join(self.root, "crond.reboot")
        for path in (crontab, own_pid, own_reboot):
            with open(path, "w", encoding="ascii"):
                pass
        os.makedirs(spool, exist_ok=True)
        self._created = [path for path in (PID_FILE, REBOOT_FILE) if not os.path.exists(path)]
        argv = [UNSHARE, "--mount", "--propagation", "private", "--", "sh", "-c", NAMESPACE_SCRIPT, "sh",
                self.cron_dir, crontab, spool, own_pid, own_reboot]
        with open(self.log_file, "ab") as log:
            # cron outlives this call: stop() ends it by its pid
            # pylint: disable-next=consider-using-with
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, close_fds=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise CronError("cron exited with %s while starting: %s" % (self.proc.returncode, self.log_tail()))
            try:
                with open("/proc/%d/comm" % self.proc.pid, encoding="ascii") as handle:
                    if handle.read().strip() == "cron":
                        return self
            except OSError:
                pass
            if time.monotonic() >= deadline:
                self.stop()
                raise CronError("cron did not start within %ss: %s" % (timeout, self.log_tail()))
            time.sleep(0.05)

    def stop_daemon(self, timeout=10.0):
        """Stops the daemon alone (SIGTERM, by its pid): no job starts any more; the running ones go on (``stop``
        waits for them)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self._jobs.extend(descendants(self.proc.pid))
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self):
        """Stops the daemon, waits for its jobs (at most ``job_timeout`` s; the ones left are ended by their pids),
        and removes the files of /run it created. Idempotent."""
        if self.proc is None:
            return
        self.stop_daemon()
        jobs, self._jobs = self._jobs, []
        deadline = time.monotonic() + self.job_timeout
        while jobs and time.monotonic() < deadline:
            jobs = [pid for pid in jobs if os.path.exists("/proc/%d" % pid)]
            time.sleep(0.2)
        for pid in jobs:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        pid = self.proc.pid
        self.proc = None
        for path in self._created:
            if path == PID_FILE and _read(path).strip() not in ("", str(pid)):
                continue  # another cron's by now
            try:
                os.unlink(path)
            except OSError:
                pass

    def log_tail(self, lines=20):
        return "\n".join(_read(self.log_file).splitlines()[-lines:])

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info):
        self.stop()


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""
