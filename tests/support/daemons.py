"""Private Docker daemons for tests that must stop, start or crash "their" Docker host.

A ``PrivateDaemon`` is a ``dockerd`` of its own, isolated from the main daemon at
``unix:///var/run/docker.sock`` (which other tests use and which is never touched here):

- its own API socket ``unix://<root>/docker.sock`` (``<run dir>/docker.sock`` when that path is
  too long for a unix socket), data root ``<root>/data``, pid file
  ``<root>/docker.pid``, log ``<root>/dockerd.log`` and (empty) config file ``<root>/daemon.json``,
  so ``/etc/docker/daemon.json`` and ``DOCKER_*`` variables never leak in;
- a short exec root ``<run dir>/exec``, the run dir being ``/run/dps-<name>-<hash of root>``: unix
  socket paths are limited to 108 bytes and the managed containerd puts its sockets there;
- its own *managed* containerd (dockerd starts it as a child, config, sockets and state under the
  exec root, content under the data root). Two private daemons therefore never share a containerd,
  and neither shares the main daemon's (``/var/run/docker/containerd``). ``start()`` checks it: it
  refuses to run when ``/run/containerd/containerd.sock`` exists (dockerd would then use that
  system containerd instead of starting one) and verifies that a containerd child with our config
  runs;
- its own NETWORK NAMESPACE (``unshare --net dockerd ...``; the API socket is a path in the shared
  file system, so clients reach it from the host's namespace). This is not optional: dockerd with
  ``--bridge=none`` DELETES the ``docker0`` interface of the namespace it runs in (moby's
  ``removeDefaultBridgeInterface``), which on the host breaks every new container of the main
  daemon ("adding interface vethXXX to bridge docker0 failed: Device does not exist").
  ``start()`` verifies that dockerd runs in a namespace other than ours;
- no networking of its own on top of that: ``--bridge=none`` (no bridge network: containers get a
  network namespace with only ``lo``), ``--iptables=false``, ``--ip6tables=false``,
  ``--ip-forward=false``, ``--ip-masq=false``, ``--userland-proxy=false``. ``network_mode="host"``
  containers share the private daemon's (empty) network namespace, not the host's.

Shared with the main daemon, harmlessly: ``/run/docker/plugins`` (a fixed path in dockerd, used only by
managed plugins, which we never install) and ``/run/containerd/s`` (shim sockets, named by a hash
that includes our containerd address, removed when the shims exit).
Containers of a private daemon share the ``/docker`` cgroup parent with the main daemon's (cgroup v1,
cgroupfs driver); their ids are random, so nothing collides, and nothing is left there afterwards.

Using one from a test module (starting a daemon takes about a second, so use module or session
scope; the root lives under pytest's temporary directory)::

    import pytest
    from tests.support import daemons

    @pytest.fixture(scope="module")
    def host1(tmp_path_factory):
        yield from daemons.private_daemon(tmp_path_factory, "host1")

    def test_reboot(host1):
        client = host1.client()          # docker.DockerClient(base_url=host1.url, timeout=60)
        ...                              # BASE_IMAGE and DEMO_IMAGE are already built into it
        host1.restart()                  # SIGTERM dockerd, wait, start it again: a "reboot"

``private_daemon`` starts the daemon, builds the standard images into it
(``images.build_standard_images``) and always calls ``cleanup()`` afterwards. Without pytest::

    with PrivateDaemon("/tmp/some-dir", "host1") as daemon:   # start() ... cleanup()
        ...

Three daemons acting as three hosts are three such fixtures with different names.

Observed behaviour (docker.io 26.1.5 from Debian 13, containerd 1.7.24, runc 1.1.5, cgroup v1)
----------------------------------------------------------------------------------------------

Containers below run ``sleep 86400`` with ``init=True`` (docker-init forwards SIGTERM, so they exit
at once with status 143). ``tests/integration/test_private_daemon.py`` asserts every cell.

``stop()`` / ``restart()`` -- SIGTERM to dockerd, a clean shutdown, i.e. a reboot: dockerd stops every
running container (exit 143) while "shutting down", which does NOT count as a manual stop, then
unmounts everything and stops its containerd. The next ``start()`` restarts containers per policy
before the API answers (no waiting needed once ``/_ping`` is OK). ``docker stop`` by a user DOES
count as a manual stop.

=================  ==============================  ==============================  ======================
policy             running at ``stop()``           stopped by the user (exit 143)  running at ``kill()``
                   -> after ``start()``            before ``stop()`` -> after      (crash) -> after
                                                   ``start()``                     ``start()``
=================  ==============================  ==============================  ======================
``no``             exited (143)                    exited                          exited (143)
``always``         running                         running                         running
``unless-stopped`` running                         exited                          EXITED (143)
``on-failure:10``  running                         RUNNING                         running
=================  ==============================  ==============================  ======================

- Containers that come back keep their id; their ``RestartCount`` stays 0 (a daemon restart is not
  counted against ``on-failure``'s maximum).
- ``on-failure`` looks only at the last exit code, never at a manual stop: a container that a user
  stopped (exit 143 != 0) comes back at the next daemon start. One whose process exits 0 on SIGTERM
  would not.
- After a crash, ``unless-stopped`` containers that were running stay DOWN, unlike after a reboot:
  the managed containerd dies with dockerd (parent-death signal) but the shims and containers keep
  running, reparented to PID 1, with their mounts. The next ``start()`` (no live-restore) kills those
  survivors while restoring; since the daemon is not shutting down at that moment, Docker marks them
  as manually stopped, and then applies the restart policies.

For the restore feature: after a reboot Docker itself brings back every ``always``,
``unless-stopped`` and ``on-failure`` container that was running, never a ``no`` one, and also
``always`` containers that a user had stopped, and ``on-failure`` ones that a user had stopped
with a non-zero exit status.

Timings here (2 CPUs): ``start()`` 1.2-1.7 s (the first start of an empty root too), ``stop()``
about 1.2 s with a few running containers, ``restart()`` 1.9-2.9 s, ``kill()`` 0.01 s, ``start()``
after a crash 1.4-1.7 s; building the standard images into a fresh daemon 0.6 s.

Gotchas
-------

- see above: never run a private dockerd with ``--bridge=none`` in the host's network namespace.
- dockerd bind-mounts the data root onto itself (to make it a private mount) and removes that
  mount at a clean shutdown; after a crash (``kill()``) the next dockerd finds the mount already
  there, does not take ownership of it and leaves it behind even after a clean stop.
  ``cleanup()`` therefore unmounts whatever is still mounted under the root and the run dir.
- after ``kill()`` the orphaned containerd stays a zombie until PID 1 reaps it (seconds, here);
  dockerd reads the old ``containerd.pid``, takes the zombie for a running containerd and waits 10 s
  for it. ``start()`` removes that stale pid file (and dockerd's own) first.
- the stale ``docker.sock`` of a killed dockerd stays until the next dockerd replaces it; ``ping()``
  just sees a refused connection meanwhile.
- ``cleanup()`` after ``kill()`` starts the daemon once more so that dockerd itself disposes of the
  surviving shims and containers; only if that fails does it kill them by pid (the shims are
  found by the containerd address under our exec root on their command line, never by name).
- with ``--bridge=none`` containers still report ``NetworkMode: bridge`` and a ``bridge`` entry
  without an address; they have a network namespace with only ``lo``. The host cannot reach a
  private daemon's containers over the network at all (even networks created in it live in the
  private namespace): use ``exec_run``, or the main daemon, for tests that need HTTP -- or go into
  the daemon's namespace: ``netns`` is its path while dockerd runs (every ``start()`` makes a NEW
  namespace, so it changes with ``restart()``), ``netns_command(argv)`` runs a program there (nsenter),
  ``loopback_up()`` brings up its ``lo`` (down in a new namespace; needed to listen on 127.0.0.1), and
  ``in_network_namespace(path, function, ...)`` calls a Python function whose sockets live there (a
  private nginx in front of the daemon's containers: ``tests/integration/test_proxy_restore.py``).
- every wait is bounded; failures raise ``PrivateDaemonError`` with the tail of the log.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ctypes
import subprocess
import threading
import time

import docker

from tests.support import images

RUN_DIR = "/run"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes; keep a margin
SYSTEM_CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,19}$")
_BINARIES = ("dockerd", "containerd", "containerd-shim-runc-v2", "runc", "docker-init", "unshare")
_EXTRA_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_DROPPED_ENV_PREFIXES = ("DOCKER_", "CONTAINERD_")
_DROPPED_ENV = ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")
CLONE_NEWNET = 0x40000000  # <sched.h>


class PrivateDaemonError(RuntimeError):
    """A private daemon did not start, stop or clean up as expected."""


def _search_path():
    parts = [part for part in os.environ.get("PATH", "").split(os.pathsep) if part]
    for extra in _EXTRA_PATH:
        if extra not in parts:
            parts.append(extra)
    return os.pathsep.join(parts)


def find_binaries():
    """Return ``{name: path}`` for dockerd and the programs it needs; raise if one is missing."""
    path = _search_path()
    found = {name: shutil.which(name, path=path) for name in _BINARIES}
    missing = sorted(name for name, where in found.items() if not where)
    if missing:
        raise PrivateDaemonError("not found on PATH (%s): %s; run scripts/ensure-docker.sh" % (path, ", ".join(missing)))
    return found


def ping(socket_path, timeout=2.0):
    """Return True when a Docker daemon answers ``GET /_ping`` with ``OK`` on ``socket_path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            data = b""
            while len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return False
    status = data.partition(b"\r\n")[0].split()
    return len(status) >= 2 and status[0].startswith(b"HTTP/1.") and status[1] == b"200" and data.endswith(b"\r\n\r\nOK")


# --- /proc helpers: processes are identified by pid AND start time, so a recycled pid is never hit.

def _proc_stat(pid):
    """Return ``(state, ppid, starttime)`` of ``pid``, or None when it does not exist."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            data = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = data[data.rfind(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def proc_cmdline(pid):
    """The argument list of ``pid`` (empty when it is gone)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return [arg.decode("utf-8", "replace") for arg in handle.read().split(b"\0") if arg]
    except OSError:
        return []


def _children(pid):
    result = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return result
    for task in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, task), encoding="ascii") as handle:
                result.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return sorted(set(result))


def _descendants(pid):
    result = []
    todo = _children(pid)
    while todo:
        child = todo.pop()
        if child not in result:
            result.append(child)
            todo.extend(_children(child))
    return result


class _Proc:
    """A process we may signal: a pid plus its start time."""

    def __init__(self, pid):
        stat = _proc_stat(pid)
        self.pid = pid
        self.starttime = stat[2] if stat else None

    def alive(self):
        stat = _proc_stat(self.pid)
        return stat is not None and stat[2] == self.starttime and stat[0] not in ("Z", "X")

    def signal(self, signum):
        if self.alive():
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def wait_gone(self, timeout):
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def __repr__(self):
        return "pid %d" % self.pid


def _unescape_mount_path(path):
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), path)


def mounts_under(*roots):
    """Return the mount points (from /proc/mounts, in mount order) at or under any of ``roots``."""
    prefixes = [os.path.realpath(root).rstrip("/") for root in roots]
    result = []
    with open("/proc/mounts", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 2:
                continue
            point = _unescape_mount_path(fields[1])
            if any(point == prefix or point.startswith(prefix + "/") for prefix in prefixes):
                result.append(point)
    return result


class PrivateDaemon:
    """A dockerd of our own that tests may stop, start, crash and throw away; see the module doc."""

    def __init__(self, root_dir, name):
        if not _NAME_RE.match(name):
            raise ValueError("name must match %s: %r" % (_NAME_RE.pattern, name))
        self.name = name
        self.root_dir = os.path.abspath(str(root_dir))
        self.data_root = os.path.join(self.root_dir, "data")
        self.pidfile = os.path.join(self.root_dir, "docker.pid")
        self.log_path = os.path.join(self.root_dir, "dockerd.log")
        self.config_file = os.path.join(self.root_dir, "daemon.json")
        digest = hashlib.sha256(self.root_dir.encode()).hexdigest()[:8]
        self.run_dir = os.path.join(RUN_DIR, "dps-%s-%s" % (name, digest))
        self.exec_root = os.path.join(self.run_dir, "exec")
        socket_path = os.path.join(self.root_dir, "docker.sock")
        if len(socket_path.encode()) > MAX_SOCKET_PATH:
            socket_path = os.path.join(self.run_dir, "docker.sock")
        self.socket_path = socket_path
        self.containerd_socket = os.path.join(self.exec_root, "containerd", "containerd.sock")
        self.containerd_config = os.path.join(self.exec_root, "containerd", "containerd.toml")
        self.timings = {"start": [], "stop": [], "kill": []}
        self._proc = None  # subprocess.Popen of dockerd while it runs
        self._containerd = []  # _Proc of the managed containerd of the running dockerd
        self._log_offset = 0
        self._crashed = False

    # --- public API

    @property
    def url(self):
        return "unix://" + self.socket_path

    def client(self, timeout=60):
        """Return a new ``docker.DockerClient`` for this daemon (the caller closes it)."""
        return docker.DockerClient(base_url=self.url, timeout=timeout)

    @property
    def pid(self):
        """The dockerd pid while it runs, else None."""
        return self._proc.pid if self.running else None

    @property
    def netns(self):
        """The network namespace dockerd runs in (``/proc/<pid>/ns/net``) while it runs, else None. Every
        ``start()`` makes a new one: after ``restart()`` this names another namespace, and processes left in the
        old one no longer see the daemon's networks."""
        return "/proc/%d/ns/net" % self._proc.pid if self.running else None

    def netns_command(self, *argv):
        """``argv`` run in the daemon's current network namespace: ``nsenter --net=<netns> -- argv...``
        (nsenter execs the program, so a Popen of it has the program's pid). Without ``argv``: the prefix."""
        if not self.running:
            raise PrivateDaemonError("dockerd %s does not run: it has no network namespace" % self.name)
        nsenter = shutil.which("nsenter", path=_search_path())
        if not nsenter:
            raise PrivateDaemonError("nsenter not found on PATH (%s)" % _search_path())
        return [nsenter, "--net=%s" % self.netns, "--"] + list(argv)

    def loopback_up(self, timeout=30):
        """Bring up ``lo`` in the daemon's network namespace (a new one has it down), so processes there can
        listen on and connect to 127.0.0.1. Needed again after every ``start()``."""
        ip = shutil.which("ip", path=_search_path())
        if not ip:
            raise PrivateDaemonError("ip (iproute2) not found on PATH (%s)" % _search_path())
        result = subprocess.run(self.netns_command(ip, "link", "set", "lo", "up"), capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode != 0:
            raise PrivateDaemonError("bringing up lo of dockerd %s: %s" % (self.name, result.stderr.strip()))

    @property
    def containerd_pids(self):
        return [proc.pid for proc in self._containerd if proc.alive()]

    @property
    def running(self):
        return self._proc is not None and self._proc.poll() is None

    def command(self):
        """The dockerd command line, run in a new network namespace (``unshare`` execs dockerd)."""
        binaries = find_binaries()
        return [
            binaries["unshare"], "--net", "--",
            binaries["dockerd"],
            "--config-file", self.config_file,
            "--host", self.url,
            "--data-root", self.data_root,
            "--exec-root", self.exec_root,
            "--pidfile", self.pidfile,
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--userland-proxy=false",
        ]

    def start(self, timeout=60):
        """Start dockerd and wait (at most ``timeout`` seconds) until ``/_ping`` answers."""
        if self.running:
            return
        if os.path.exists(SYSTEM_CONTAINERD_SOCKET):
            raise PrivateDaemonError(
                "%s exists: dockerd would use that system containerd instead of a private one" % SYSTEM_CONTAINERD_SOCKET)
        command = self.command()
        for path in (self.root_dir, self.run_dir):
            os.makedirs(path, mode=0o700, exist_ok=True)
        with open(self.config_file, "w", encoding="utf-8") as handle:
            json.dump({}, handle)
        self._remove_stale_pidfile()
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()
            log.write(("--- %s: starting %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), " ".join(command))).encode())
            log.flush()
            # The process outlives this call: stop() or kill() reaps it.
            # pylint: disable-next=consider-using-with
            self._proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          cwd=self.root_dir, env=self._environment(), start_new_session=True,
                                          close_fds=True)
        self._crashed = False
        self._check_network_namespace()
        deadline = started + timeout
        while not ping(self.socket_path, timeout=1.0):
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise PrivateDaemonError("dockerd %s exited with status %s while starting:\n%s" % (self.name, code, self.log_tail()))
            if time.monotonic() >= deadline:
                self._abort_start()
                raise PrivateDaemonError("dockerd %s did not answer on %s within %ss:\n%s" % (
                    self.name, self.socket_path, timeout, self.log_tail()))
            time.sleep(0.1)
        self._containerd = self._find_containerd()
        if not self._containerd:
            self._abort_start()
            raise PrivateDaemonError("dockerd %s runs without a managed containerd of its own (%s):\n%s" % (
                self.name, self.containerd_config, self.log_tail()))
        self.timings["start"].append(time.monotonic() - started)

    def stop(self, timeout=60):
        """SIGTERM dockerd, wait for it and its containerd (bounded); SIGKILL them if they linger.

        A no-op when dockerd does not run (also after ``kill()``: the shims that survived a crash
        are for the next ``start()`` or for ``cleanup()``).
        """
        started = time.monotonic()
        if self._proc is None:
            self._wait_containerd(timeout)
            return
        self._containerd = self._containerd or self._find_containerd()
        proc, self._proc = self._proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        self._wait_containerd(max(5.0, timeout - (time.monotonic() - started)))
        self.timings["stop"].append(time.monotonic() - started)

    def restart(self, timeout=60):
        """``stop()`` then ``start()``: a simulated reboot (the data root persists)."""
        self.stop(timeout=timeout)
        self.start(timeout=timeout)

    def kill(self):
        """SIGKILL dockerd: a crash. Containers keep running under their shims (see the module doc)."""
        started = time.monotonic()
        if self._proc is None:
            return
        self._containerd = self._containerd or self._find_containerd()
        proc, self._proc = self._proc, None
        proc.kill()
        proc.wait(timeout=30)
        self._crashed = True
        # containerd runs with a parent-death signal: it goes with dockerd
        self._wait_containerd(30)
        self.timings["kill"].append(time.monotonic() - started)

    def shim_pids(self):
        """Pids of the containerd shims that our containerd started (found by its address)."""
        result = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            args = proc_cmdline(int(entry))
            if any(args[i] == "-address" and args[i + 1] == self.containerd_socket for i in range(len(args) - 1)):
                result.append(int(entry))
        return sorted(result)

    def leftovers(self):
        """What would remain of this daemon: ``{"processes": [...], "mounts": [...], "paths": [...]}``."""
        processes = []
        if self.running:
            processes.append(self._proc.pid)
        processes.extend(self.containerd_pids)
        processes.extend(self.shim_pids())
        return {
            "processes": sorted(set(processes)),
            "mounts": mounts_under(self.root_dir, self.run_dir),
            "paths": [path for path in (self.root_dir, self.run_dir) if os.path.lexists(path)],
        }

    def cleanup(self, timeout=60):
        """Stop the daemon after removing its containers, unmount leftovers, delete its directories.

        Idempotent. Raises ``PrivateDaemonError`` if something could not be removed.
        """
        problems = []
        if os.path.isdir(self.data_root) and (self.running or self._crashed or self.shim_pids()):
            try:
                self.start(timeout=timeout)
                self._remove_all_containers()
            except Exception as exc:  # noqa: BLE001
                problems.append("removing the containers: %s" % exc)
        try:
            self.stop(timeout=timeout)
        except Exception as exc:  # noqa: BLE001
            problems.append("stopping dockerd: %s" % exc)
        self._kill_shims()
        self._unmount_all()
        still_mounted = mounts_under(self.root_dir, self.run_dir)
        if still_mounted:
            problems.append("still mounted: %s" % still_mounted)
        else:
            for path in (self.root_dir, self.run_dir):
                try:
                    shutil.rmtree(path)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    problems.append("removing %s: %s" % (path, exc))
        self._crashed = False
        if problems:
            raise PrivateDaemonError("cleanup of private dockerd %s: %s" % (self.name, "; ".join(problems)))

    def log_tail(self, lines=40, whole=False):
        """The last ``lines`` lines of the log of the current (or last) run, or of every run."""
        try:
            with open(self.log_path, "rb") as handle:
                if not whole:
                    handle.seek(self._log_offset)
                text = handle.read().decode("utf-8", "replace")
        except OSError as exc:
            return "(no log: %s)" % exc
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc_info):
        self.cleanup()

    def __repr__(self):
        return "PrivateDaemon(%r, %r)" % (self.root_dir, self.name)

    # --- internals

    def _environment(self):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(_DROPPED_ENV_PREFIXES) and key not in _DROPPED_ENV}
        env["PATH"] = _search_path()
        return env

    def _check_network_namespace(self, timeout=10):
        """Kill dockerd at once unless it runs in a network namespace of its own (see the module doc).

        The pid is ``unshare`` until it has unshared and exec'd dockerd, so first wait (bounded) for
        the pid to become dockerd; dockerd touches no interface that early.
        """
        ours = os.readlink("/proc/self/ns/net")
        dockerd = os.path.realpath(find_binaries()["dockerd"])
        pid = self._proc.pid
        deadline = time.monotonic() + timeout
        while True:
            try:
                exe = os.readlink("/proc/%d/exe" % pid)
                theirs = os.readlink("/proc/%d/ns/net" % pid)
            except OSError:
                return  # exited already: start() reports it with the log
            if exe == dockerd:
                break
            if time.monotonic() >= deadline:
                self._abort_start()
                raise PrivateDaemonError("pid %d did not become %s within %ss (it is %s)" % (pid, dockerd, timeout, exe))
            time.sleep(0.01)
        if theirs == ours:
            self._abort_start()
            raise PrivateDaemonError("private dockerd %s ran in the host's network namespace; killed it" % self.name)

    def _remove_stale_pidfile(self):
        """Remove pid files that a killed dockerd or containerd left behind.

        dockerd refuses to start while the pid in its pid file is alive, and it waits 10 seconds for
        a containerd whose pid file names a live process -- a zombie counts as alive, and after a
        ``kill()`` the orphaned containerd stays a zombie until PID 1 reaps it.
        """
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass
        containerd_pidfile = os.path.join(self.exec_root, "containerd", "containerd.pid")
        try:
            with open(containerd_pidfile, encoding="ascii") as handle:
                pid = int(handle.read().strip() or "0")
        except (OSError, ValueError):
            return
        stat = _proc_stat(pid) if pid > 0 else None
        if stat is None or stat[0] in ("Z", "X") or self.containerd_config not in proc_cmdline(pid):
            os.unlink(containerd_pidfile)

    def _find_containerd(self):
        if self._proc is None:
            return []
        return [_Proc(pid) for pid in _children(self._proc.pid) if self.containerd_config in proc_cmdline(pid)]

    def _wait_containerd(self, timeout):
        for proc in self._containerd:
            if not proc.wait_gone(timeout):
                proc.signal(signal.SIGKILL)
                if not proc.wait_gone(10):
                    raise PrivateDaemonError("containerd %r of private dockerd %s does not exit" % (proc, self.name))
        self._containerd = []

    def _abort_start(self):
        """Kill a dockerd that failed to start properly, and its containerd."""
        self._containerd = self._find_containerd()
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        self._wait_containerd(10)

    def _remove_all_containers(self):
        client = self.client()
        try:
            for container in client.containers.list(all=True):
                container.remove(force=True, v=True)
        finally:
            client.close()

    def _kill_shims(self):
        """Last resort: SIGKILL the shims of our containerd and the container processes under them."""
        shims = [_Proc(pid) for pid in self.shim_pids()]
        if not shims:
            return
        victims = []
        for shim in shims:
            victims.extend(_Proc(pid) for pid in _descendants(shim.pid))
            victims.append(shim)
        for proc in victims:
            proc.signal(signal.SIGKILL)
        for proc in victims:
            proc.wait_gone(10)

    def _unmount_all(self):
        umount = shutil.which("umount", path=_search_path()) or "umount"
        for _attempt in range(5):
            points = mounts_under(self.root_dir, self.run_dir)
            if not points:
                return
            for point in reversed(points):
                result = subprocess.run([umount, point], check=False, capture_output=True, timeout=30)
                if result.returncode != 0:
                    subprocess.run([umount, "-l", point], check=False, capture_output=True, timeout=30)


def _setns(path, nstype):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, nstype) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (path, os.strerror(err)))
    finally:
        os.close(fd)


def in_network_namespace(netns, function, *args, call_timeout=120, **kwargs):
    """Call ``function(*args, **kwargs)`` in a thread of its own that first joins the network namespace
    ``netns`` (a path such as ``PrivateDaemon.netns``), and return its result or raise its exception.

    A network namespace belongs to a thread, not to the process, so only that thread (which ends with the call)
    is moved; the sockets it opens stay in ``netns``. The caller waits at most ``call_timeout`` seconds: bound
    ``function`` itself (``nginx.request_loop`` is).
    """
    outcome = {}

    def target():
        try:
            _setns(netns, CLONE_NEWNET)
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001  (handed to the caller)
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="netns-call", daemon=True)
    thread.start()
    thread.join(call_timeout)
    if thread.is_alive():
        raise PrivateDaemonError("%s in %s did not return within %ss" % (getattr(function, "__name__", function),
                                                                         netns, call_timeout))
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def private_daemon(tmp_path_factory, name, build_images=True, timeout=60):
    """Generator for a pytest fixture: a started ``PrivateDaemon`` with the standard images.

    ``yield from private_daemon(tmp_path_factory, "host1")`` in a module- or session-scoped fixture.
    The daemon is always cleaned up (containers, processes, mounts, directories) afterwards.
    """
    daemon = PrivateDaemon(str(tmp_path_factory.mktemp("dockerd-%s-" % name)), name)
    try:
        daemon.start(timeout=timeout)
        if build_images:
            client = daemon.client()
            try:
                images.build_standard_images(client, log=lambda *a: None)
            finally:
                client.close()
        yield daemon
    finally:
        daemon.cleanup(timeout=timeout)
