"""Real containers in every state Docker can report, for integration tests.

Nothing is faked: each helper drives a real daemon (the main one or a private one of
``tests/support/daemons.py``) until both the list call (``containers(all=True)``: ``State``,
``Status``) and inspect (``State.*``) report the state, with bounded waits:

=============  ======================================  ===============================================
state          helper                                  guarantee when it returns
=============  ======================================  ===============================================
``created``    ``make_created(api)``                   never started
``running``    ``make_running(api[, id])``             ``sleep 86400`` under docker-init
``paused``     ``make_paused(api[, id])``              cgroup freezer; Running AND Paused
``restarting`` ``make_restarting(api, min_remaining)`` in a back-off pause with ``min_remaining`` s left
               (``start_restarting`` +                 (a ``RestartWindow``: restart count, pause, end)
               ``wait_restarting``)
``removing``   ``make_removing(api[, id])`` /          a ``Removal`` held in ``removing`` until
               ``Removal(api, id).start()``            ``release()`` (or ``fail()``), then ``join()``
``exited``     ``make_exited(api[, id])``              stopped by the user, exit 143
``dead``       ``make_dead(api[, id])`` (any daemon,   a removal that failed; list and inspect say dead
               main included) or                       (``refresh_list=False``: the list keeps saying
               ``make_dead_private(daemon, ids)``      ``removing``, see below); private: config edited
=============  ======================================  ===============================================

``observe(api, id)`` returns both views as one dict; ``Names`` hands out ``cst-<8 hex>`` names and removes
those containers afterwards (any state). ``python -m tests.support.container_states`` prints the matrix
below again (on a fresh private daemon; ``--docker-host URL`` for another daemon).

How ``removing`` is held
------------------------

``removing`` normally lasts milliseconds: the list shows it from the moment the removal has killed the
process and checkpointed the container (``Dead`` and ``RemovalInProgress`` set) until the writable layer
and the container's directory are deleted. ``Removal`` (``hold=True``, root and overlay2 needed) first puts
``/cst-removal-hold/keep`` into the container through ``put_archive`` (an ``extract-to-dir`` event), then
a fanotify ``FAN_OPEN_PERM | FAN_ONDIR`` mark on that directory of the writable layer (the host path
``GraphDriver.Data.UpperDir``). The daemon's removal opens that directory to empty it and blocks in
``open()`` until we answer: allow (``release()``) and the removal completes, deny (``fail()``) and it
fails with EPERM, leaving a ``dead`` container. Nothing of the daemon's data is written by us; the mark
dies with our descriptor, and the kernel allows a pending open when this process exits, so a crashed
test never leaves the daemon stuck (checked: the removal then completes at once). Only that one
removal waits: inspect stays instant (the container lock is not held while the layer is deleted), other
containers are unaffected. The hold starts 0.03-0.07 s after ``remove_container`` (a running container:
kill included); ``make_removing`` takes about 0.5 s with the container's start.

Without root, ``fill_writable_layer`` makes a removal slow instead (``Removal(hold=False)``): removing a
directory frees a block, which costs the daemon more than creating it. Measured here (2 CPUs, root ext4
mounted with ``discard`` on a virtual disk):

- 5 000 empty directories: written in 0.44 s, removed in 0.57 s; 10 000: 0.9-2.3 s / 2.8-3.3 s;
  20 000: 2.8-3.7 s / 2.9-5.6 s; 30 000: 3.1-3.4 s / 4.3-9 s -- and 16-25 s / 14-24 s while another
  test suite loaded the machine. So 10 000-20 000 directories give 3-5 s of ``removing`` on a quiet
  machine, at 1-4 s of setup, but the spread is large.
- empty files are cheap to remove: 30 000 written in 2.5-5.8 s, removed in 0.4-0.6 s; 100 000 in 10 s /
  1.2 s. Hard links: 30 000 written in 1.6 s, removed in 0.23 s (and at most 65 000 links per inode).
- nested layouts (100 or 1 000 directories per parent, chains 10 or 40 deep) were no better: removal
  took 0.3-2.9 times the creation, with no consistent winner.
- the cost is the disk's discard: the same 30 000 directories on an ext4 loop device are removed in 1.8 s
  without ``discard`` and 4.0 s with it; a 5 000-block sparse file unlinks in 3.5 s on the root disk and
  in 0.04 s on the loop device. Timings of this kind depend on the machine; the hold does not.
- no effect (``removing`` lasted 3-8 ms): a paused container (Docker unpauses it to kill it), a
  container frozen behind Docker's back (``freezer.state`` FROZEN: removed in 0.06 s), a host process
  with its working directory in the container's ``MergedDir`` plus an open file in a bind-mount source.

Observed behaviour (docker.io 26.1.5 from Debian 13, containerd 1.7.24, runc 1.1.5, cgroup v1, overlay2)
------------------------------------------------------------------------------------------------------

What the two views say (``Status`` texts with a fresh container):

==============  ====================  ==========================================  ===============================
state           list ``State``        list ``Status``                             inspect flags (R P S D)
==============  ====================  ==========================================  ===============================
created         created               ``Created``                                 - - - -
running         running               ``Up Less than a second``                   R
paused          paused                ``Up Less than a second (Paused)``          R P
restarting      restarting            ``Restarting (3) Less than a second ago``   R S (Pid 0); the number is the
                                                                                  exit code, not the count
removing        removing              ``Removal In Progress``                     D (Running false, ExitCode 137
                                                                                  after a forced removal)
exited          exited                ``Exited (143) Less than a second ago``     - - - -
dead            dead                  ``Dead``                                    D (``State.Error``: the failed
                                                                                  removal's error, or empty)
dead, stale     removing              ``Removal In Progress``                     D: right after a failed removal
==============  ====================  ==========================================  ===============================

R Running, P Paused, S Restarting, D Dead; ``State.Status`` is always the list's ``State``, except for
the stale entry. Docker does not refresh its list view after a failed removal: the list keeps saying
``removing`` (a ``status=removing`` filter finds it, ``status=dead`` does not) until something
checkpoints the container -- a ``rename`` does, a daemon restart too (``make_dead`` renames it there and
back unless ``refresh_list=False``; after a daemon restart ``State.Error`` is empty, it was never saved).
On a private daemon, ``RemovalInProgress: true`` or ``Dead: true`` in ``config.v2.json`` both load as
``dead`` (a removal cut short is marked Dead while loading, and its restart policy is not applied:
"container is marked for removal and cannot be started" in the log).

Each operation on a fresh container in each state (HTTP status; ``->X``: the state it is in afterwards,
nothing when unchanged; ``dead`` is the same for both kinds of dead container):

=======================  ========  ========  ========  ==========  ========  ========  ========
operation                created   running   paused    restarting  removing  exited    dead
=======================  ========  ========  ========  ==========  ========  ========  ========
``start``                204 ->R   304       409 (a)   304         409 (b)   204 ->R   409 (b)
``stop(timeout=2)``      304       204 ->E   204 ->E   204 ->E     304       304       304
``kill``                 409 (c)   204 ->E   204 ->E   204 ->E     409 (c)   409 (c)   409 (c)
``pause``                409 (d)   204 ->P   409 (e)   409 (f)     409 (d)   409 (d)   409 (d)
``unpause``              500 (g)   500 (g)   204 ->R   500 (g)     500 (g)   500 (g)   500 (g)
``update_container``     200       200       200       200 (h)     500 (i)   200       500 (i)
``rename``               204       204 (j)   204 (j)   404 (k)     204 (l)   204       204 (m)
``remove(force=True)``   204       204       204       204         409 (n)   204       204
``remove()``             204       409 (o)   409 (p)   409 (q)     409 (n)   204       204
=======================  ========  ========  ========  ==========  ========  ========  ========

``update_container(restart_policy={"Name": "always"})``; the SDK raises for 4xx/5xx only, so a 304
("not modified": already started, already stopped) looks like a success. Error texts (``<id>`` the full
id, ``<name>`` the name):

- (a) ``cannot start a paused container, try unpause instead``
- (b) ``container is marked for removal and cannot be started``
- (c) ``cannot kill container: <id>: container <id> is not running``
- (d) ``container <id> is not running``
- (e) ``Container <id> is already paused``
- (f) ``Container <id> is restarting, wait until the container is running``
- (g) ``Container <id> is not paused``
- (h) the pending restart still happens at the end of the pause; the new policy decides after the next
  failure (``no`` or an exhausted ``on-failure:2``: exited then, RestartCount unchanged; ``always``:
  restarting again)
- (i) ``Cannot update container <id>: container is marked for removal and cannot be "update"``
- (j) on the main daemon; a private daemon (``--bridge=none``) answers ``404 network bridge not found``
  for a running or paused container (created and exited ones rename fine there)
- (k) ``sandbox <64 hex digits> not found`` (404), on the main daemon as well
- (l) the old name is free at once (a ``create_container`` with it succeeds) and the removal completes
  under the new name
- (m) and the stale list entry of a failed removal becomes ``dead``
- (n) ``removal of container <id> is already in progress``
- (o) ``cannot remove container "/<name>": container is running: stop the container before removing or force remove``
- (p) ``cannot remove container "/<name>": container is paused and must be unpaused first``
- (q) ``cannot remove container "/<name>": container is restarting: stop the container before removing or force remove``

More, measured on the main daemon:

- after ``stop`` or ``kill`` returns, the list shows ``running`` for another 4-13 ms while inspect says
  ``exited`` already.
- durations: ``start`` 0.3 s (0.14 s on a private daemon, no network), ``stop(timeout=2)`` of a running
  or paused container 0.09-0.16 s (docker-init), ``kill`` 0.10-0.20 s, ``remove(force=True)`` of a
  running or paused container 0.11-0.16 s, of a restarting one 0.01-0.03 s, everything else under
  0.05 s. Stopping a paused container unpauses it, its exit code is 143; killing it gives 137.
- while a removal runs: ``create_container`` with the same name answers ``409 Conflict. The container
  name "/<name>" is already in use by container "<id>". You have to remove (or rename) that container to
  be able to reuse that name.``; the removal's events are ``kill`` and ``die`` (forced removal of a
  running container), then ``destroy`` 10-20 ms after the removal is released (the hold adds an
  ``extract-to-dir`` before, from ``put_archive``);
  ``wait(condition="removed")`` returns (``StatusCode`` 137) at that ``destroy``.
- a failed removal answers ``500 container <id>: driver "overlay2" failed to remove root filesystem:
  openfdat <data root>/overlay2/<layer>/diff/cst-removal-hold: operation not permitted``; the container
  keeps its name, ``State.Error`` holds that text, and a plain ``remove_container`` removes it later.

``restarting``: a command that exits at once under a restart policy shows ``running`` for about 0.1 s,
then ``restarting`` for the back-off pause (0.1 s before the first restart, doubling each time, at most
60 s, reset after 10 s of uptime) plus the 0.1-0.2 s the next start takes. Measured, consecutive
``restarting`` phases: 0.10, 0.25, 0.37, 0.53, 0.94, 1.76, 3.43, 6.59, 12.97 s. ``wait_restarting``
predicts the end of a pause from ``State.FinishedAt`` + 0.1 * 2^(RestartCount-1) s; the list then still
shows ``restarting`` for 0.05-0.25 s more:

===================  ===============  ============  =====================================
``min_remaining``    reached after    pause         ``restarting`` for, from then on
===================  ===============  ============  =====================================
0.2 s                1.55 s           0.4 s (3rd)   0.66 s
0.4 s                1.65-2.0 s       0.8 s (4th)   1.05 s
0.8 s                3.1 s            1.6 s (5th)   1.82 s
1.6 s                4.9 s            3.2 s (6th)   3.44 s
3.2 s                8.4 s            6.4 s (7th)   6.57 s
===================  ===============  ============  =====================================

``dead`` on the MAIN daemon without touching its files: ``make_dead`` (a held removal that is denied).
The other ways need a private daemon: edit ``config.v2.json`` while it is stopped (``make_dead_private``,
2-3 s for the restart), or ``kill()`` it while a (held) removal runs and start it again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime
import io
import json
import os
import re
import secrets
import select
import struct
import tarfile
import threading
import time

import docker
import docker.errors

from tests.support import images
from tests.support.faults import Timeout, wait_until

BASE_IMAGE = images.BASE_IMAGE
NAME_PREFIX = "cst-"
STATES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")
LONG_COMMAND = ["sleep", "86400"]
FAILING_COMMAND = ["sh", "-c", "exit 3"]
# Dokku's default policy; the container fails at once and is restarted at most 10 times.
DEFAULT_RESTART_POLICY = {"Name": "on-failure", "MaximumRetryCount": 10}
# moby's restartmanager: the first restart waits 100 ms, every further one twice as long, at most a minute
# (reset to 100 ms when the container ran for 10 s or more).
RESTART_FIRST_DELAY = 0.1
RESTART_MAX_DELAY = 60.0
# The directory that a held removal blocks on: created in the container's writable layer, with one file
# in it (an empty directory would be removed even when it cannot be opened, see Removal).
HOLD_DIR = "cst-removal-hold"
POLL_INTERVAL = 0.02


# a bounded wait that timed out (an AssertionError), as every wait of the test helpers raises it
StateTimeout = Timeout


def new_name(prefix=NAME_PREFIX):
    """``cst-`` plus 8 random hex digits."""
    return prefix + secrets.token_hex(4)


def poll(predicate, timeout, what, interval=POLL_INTERVAL):
    """Return the first truthy value of ``predicate()``, polled every ``interval`` for at most ``timeout``
    seconds (``faults.wait_until``); raises ``StateTimeout`` naming ``what`` (a string or a callable)."""
    return wait_until(predicate, timeout=timeout, interval=interval, what=what)


def list_entry(api, container_id):
    """The ``containers(all=True)`` entry of the container, or None when the list does not show it."""
    for entry in api.containers(all=True, filters={"id": container_id}):
        if entry["Id"] == container_id or entry["Id"].startswith(container_id):
            return entry
    return None


def observe(api, container_id):
    """What the list call and inspect say, as one flat dict (``None`` values when a call does not find it).

    Keys: ``list_state``, ``list_status`` (``containers(all=True)``'s ``State`` and ``Status``),
    ``status``, ``running``, ``paused``, ``restarting``, ``dead``, ``oom_killed``, ``exit_code``,
    ``error`` (inspect's ``State.*``), ``restart_count``, ``name``.
    """
    result = dict.fromkeys(("list_state", "list_status", "status", "running", "paused", "restarting", "dead",
                            "oom_killed", "exit_code", "error", "restart_count", "name"))
    entry = list_entry(api, container_id)
    if entry is not None:
        result["list_state"] = entry["State"]
        result["list_status"] = entry["Status"]
    try:
        data = api.inspect_container(container_id)
    except docker.errors.NotFound:
        return result
    state = data["State"]
    result.update(status=state["Status"], running=state["Running"], paused=state["Paused"],
                  restarting=state["Restarting"], dead=state["Dead"], oom_killed=state["OOMKilled"],
                  exit_code=state["ExitCode"], error=state["Error"], restart_count=data["RestartCount"],
                  name=data["Name"].lstrip("/"))
    return result


def wait_listed(api, container_id, state, timeout=10.0):
    """Wait (bounded) until the list call shows ``State == state``; return the list entry."""
    return poll(lambda: _entry_in_state(api, container_id, state), timeout,
                lambda: "%s is not listed as %s: %s" % (container_id[:12], state, observe(api, container_id)))


def _entry_in_state(api, container_id, state):
    entry = list_entry(api, container_id)
    return entry if entry is not None and entry["State"] == state else None


# --- created, running, paused, exited

def create(api, name=None, command=None, image=BASE_IMAGE, restart_policy=None, init=True, labels=None,
           host_config=None, **create_kwargs):
    """Create (never start) a container named ``name`` (default ``new_name()``); return its id.

    ``command`` defaults to ``sleep 86400``; with ``init=True`` docker-init forwards SIGTERM, so a stop
    takes milliseconds. ``host_config`` (a dict of ``create_host_config`` arguments) adds to
    ``init`` and ``restart_policy``.
    """
    config = dict(host_config or {})
    config.setdefault("init", init)
    if restart_policy is not None:
        config.setdefault("restart_policy", restart_policy)
    created = api.create_container(image, command or LONG_COMMAND, name=name or new_name(), labels=labels,
                                   host_config=api.create_host_config(**config), **create_kwargs)
    return created["Id"]


def make_created(api, name=None, **create_kwargs):
    """A container in ``created``: created, never started (list ``Created``, inspect all flags false)."""
    container_id = create(api, name=name, **create_kwargs)
    wait_listed(api, container_id, "created", timeout=5.0)
    return container_id


def make_running(api, container_id=None, name=None, timeout=10.0, **create_kwargs):
    """Start ``container_id`` (or a new ``sleep`` container) and wait until the list shows ``running``."""
    if container_id is None:
        container_id = create(api, name=name, **create_kwargs)
    api.start(container_id)
    wait_listed(api, container_id, "running", timeout=timeout)
    return container_id


def make_paused(api, container_id=None, timeout=10.0, **create_kwargs):
    """Pause a running container (a new one when ``container_id`` is None; a created one is started first).

    Guarantees: list ``paused`` / ``Up ... (Paused)``, inspect ``Running`` AND ``Paused`` true (cgroup v1
    freezer; the process is frozen, not stopped).
    """
    container_id = _ensure_running(api, container_id, timeout, create_kwargs)
    api.pause(container_id)
    wait_listed(api, container_id, "paused", timeout=timeout)
    return container_id


def make_exited(api, container_id=None, stop_timeout=2, timeout=30.0, **create_kwargs):
    """Stop a container (a new one when ``container_id`` is None; a created one is started first).

    Guarantees: list ``exited`` / ``Exited (143) ...`` (sleep under docker-init dies of SIGTERM), inspect
    every flag false, ``Status == "exited"``. A paused container is stopped too (Docker unpauses it).
    """
    container_id = _ensure_running(api, container_id, timeout, create_kwargs)
    api.stop(container_id, timeout=stop_timeout)
    wait_listed(api, container_id, "exited", timeout=timeout)
    return container_id


def _ensure_running(api, container_id, timeout, create_kwargs):
    if container_id is None:
        return make_running(api, timeout=timeout, **create_kwargs)
    if api.inspect_container(container_id)["State"]["Status"] in ("created", "exited"):
        make_running(api, container_id, timeout=timeout)
    return container_id


# --- restarting

def restart_delay(restart_count):
    """How long Docker waits before restart number ``restart_count`` (1 for the first): 0.1 s * 2^(n-1),
    at most 60 s."""
    if restart_count < 1:
        return 0.0
    return min(RESTART_FIRST_DELAY * 2 ** min(restart_count - 1, 16), RESTART_MAX_DELAY)


def _parse_time(text):
    """Epoch seconds of a Docker RFC 3339 timestamp with nanoseconds (``...T03:53:12.893911459Z``)."""
    text = text.rstrip("Z")
    if "." in text:
        whole, fraction = text.split(".", 1)
        fraction = fraction[:6].ljust(6, "0")
        text = "%s.%s" % (whole, fraction)
    else:
        text += ".000000"
    moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


class RestartWindow:
    """One back-off pause of a restarting container.

    ``since``: epoch seconds when Docker put it into ``restarting`` (inspect ``State.FinishedAt``);
    ``delay``: the back-off of this restart; ``until``: ``since + delay``, when Docker starts it again
    (it then shows ``restarting`` for another 0.05-0.2 s while the start runs, then ``running`` for
    about 0.1 s until the command fails again).
    """

    def __init__(self, container_id, restart_count, since, delay):
        self.container_id = container_id
        self.restart_count = restart_count
        self.since = since
        self.delay = delay
        self.until = since + delay

    def remaining(self):
        """Seconds left in this pause (by this host's clock, which is the daemon's for a local daemon)."""
        return self.until - time.time()

    def __repr__(self):
        return "RestartWindow(%s, restart %d, delay %.1fs, %.2fs left)" % (
            self.container_id[:12], self.restart_count, self.delay, self.remaining())


def start_restarting(api, name=None, restart_policy=None, command=None, **create_kwargs):
    """Create and start a container whose command exits 3 at once under ``restart_policy``
    (default ``on-failure:10``; ``always`` or ``unless-stopped`` restart forever); return its id.

    It shows ``restarting`` about 0.1 s after the start; ``wait_restarting`` waits for a long enough pause.
    """
    container_id = create(api, name=name, command=command or FAILING_COMMAND,
                          restart_policy=restart_policy or DEFAULT_RESTART_POLICY, **create_kwargs)
    api.start(container_id)
    return container_id


def wait_restarting(api, container_id, timeout=10.0, min_remaining=0.0):
    """Wait (bounded) until the container is in ``restarting`` with at least ``min_remaining`` seconds of
    its back-off pause left, and the list call shows ``restarting`` too; return a ``RestartWindow``.

    The pause before restart n lasts 0.1 * 2^(n-1) s, so a pause with D seconds left first comes after
    about 2 D plus 0.15-0.3 s per earlier restart: ``min_remaining`` 0.2 -> 1.6 s, 0.4 -> 1.7-2.0 s,
    0.8 -> 3.1 s, 1.6 -> 4.9 s, 3.2 -> 8.4 s (measured, see the module doc). Raises ``StateTimeout``, also
    when the container stops restarting (``on-failure`` exhausted, or stopped).
    """
    if min_remaining > RESTART_MAX_DELAY - 1:
        raise ValueError("a restart pause never lasts longer than %ss" % RESTART_MAX_DELAY)
    seen = {}

    def ready():
        data = api.inspect_container(container_id)
        state = data["State"]
        seen["last"] = (state["Status"], data["RestartCount"])
        if not state["Restarting"]:
            if state["Status"] in ("exited", "dead", "removing"):
                policy = data["HostConfig"]["RestartPolicy"]
                raise StateTimeout("%s stopped restarting: %s, %d restarts, policy %s" % (
                    container_id[:12], state["Status"], data["RestartCount"], policy))
            return None
        window = RestartWindow(container_id, data["RestartCount"], _parse_time(state["FinishedAt"]),
                               restart_delay(data["RestartCount"]))
        if window.remaining() < min_remaining:
            return None
        entry = list_entry(api, container_id)
        if entry is None or entry["State"] != "restarting":
            return None
        return window

    return poll(ready, timeout, lambda: "%s not restarting with %.2fs left; last seen %s" % (
        container_id[:12], min_remaining, seen.get("last")))


def make_restarting(api, name=None, min_remaining=0.5, timeout=None, restart_policy=None, **create_kwargs):
    """``start_restarting`` then ``wait_restarting``; return ``(container_id, window)``.

    ``timeout`` defaults to what the back-off needs for ``min_remaining`` plus a margin.
    """
    if timeout is None:
        timeout = 4.0 * max(min_remaining, RESTART_FIRST_DELAY) + 5.0
    container_id = start_restarting(api, name=name, restart_policy=restart_policy, **create_kwargs)
    return container_id, wait_restarting(api, container_id, timeout=timeout, min_remaining=min_remaining)


# --- removing (and dead through a failed removal)

class _Fanotify:
    """A fanotify group with open-permission events on directories (``FAN_OPEN_PERM | FAN_ONDIR``).

    Needs CAP_SYS_ADMIN. When the group's descriptor is closed -- also when this process dies -- the
    kernel answers every pending event with "allow", so a held open never outlives its holder.
    """

    FAN_CLOEXEC = 0x1
    FAN_NONBLOCK = 0x2
    FAN_CLASS_CONTENT = 0x4
    FAN_MARK_ADD = 0x1
    FAN_OPEN_PERM = 0x00010000
    FAN_ONDIR = 0x40000000
    FAN_ALLOW = 0x1
    FAN_DENY = 0x2
    AT_FDCWD = -100
    METADATA = struct.Struct("=IBBHQii")  # event_len, vers, reserved, metadata_len, mask, fd, pid
    RESPONSE = struct.Struct("=iI")

    _libc = None

    @classmethod
    def libc(cls):
        if cls._libc is None:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
            libc.fanotify_init.restype = ctypes.c_int
            libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
            libc.fanotify_mark.restype = ctypes.c_int
            cls._libc = libc
        return cls._libc

    def __init__(self):
        flags = self.FAN_CLOEXEC | self.FAN_NONBLOCK | self.FAN_CLASS_CONTENT
        self.fd = self.libc().fanotify_init(flags, os.O_RDONLY | os.O_LARGEFILE | os.O_CLOEXEC)
        if self.fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, "fanotify_init: %s" % os.strerror(err))

    def mark(self, path):
        if self.libc().fanotify_mark(self.fd, self.FAN_MARK_ADD, self.FAN_OPEN_PERM | self.FAN_ONDIR,
                                     self.AT_FDCWD, os.fsencode(path)) < 0:
            err = ctypes.get_errno()
            raise OSError(err, "fanotify_mark: %s" % os.strerror(err), path)

    def read(self, timeout):
        """Pending events as ``(mask, event_fd, pid)``; [] after ``timeout`` seconds without one."""
        readable, _w, _x = select.select([self.fd], [], [], timeout)
        if not readable:
            return []
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return []
        events = []
        offset = 0
        while offset + self.METADATA.size <= len(data):
            length, _vers, _res, _mlen, mask, event_fd, pid = self.METADATA.unpack_from(data, offset)
            events.append((mask, event_fd, pid))
            offset += max(length, self.METADATA.size)
        return events

    def answer(self, event_fd, allow):
        try:
            os.write(self.fd, self.RESPONSE.pack(event_fd, self.FAN_ALLOW if allow else self.FAN_DENY))
        finally:
            os.close(event_fd)

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def fanotify_available():
    """True when this process may hold removals (root with CAP_SYS_ADMIN on a kernel with fanotify)."""
    try:
        _Fanotify().close()
    except (OSError, AttributeError):
        return False
    return True


def _tar_of(entries):
    """A tar archive of ``[(name, is_dir)]`` (empty files, mode 755/644)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, is_dir in entries:
            info = tarfile.TarInfo(name)
            if is_dir:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            else:
                info.mode = 0o644
            tar.addfile(info)
    return buf.getvalue()


def upper_dir(api, container_id):
    """The host path of the container's writable layer (overlay2 ``GraphDriver.Data.UpperDir``)."""
    driver = api.inspect_container(container_id)["GraphDriver"]
    path = (driver.get("Data") or {}).get("UpperDir")
    if driver.get("Name") != "overlay2" or not path:
        raise RuntimeError("holding a removal needs the overlay2 storage driver, not %s" % driver.get("Name"))
    return path


def add_hold_dir(api, container_id):
    """Put ``/cst-removal-hold/keep`` into the container's writable layer (works in any state but
    removing/dead); return the directory's host path."""
    api.put_archive(container_id, "/", _tar_of([(HOLD_DIR, True), (HOLD_DIR + "/keep", False)]))
    path = os.path.join(upper_dir(api, container_id), HOLD_DIR)
    if not os.path.isdir(path):
        raise RuntimeError("%s is not in the writable layer of %s" % (path, container_id[:12]))
    return path


def _octal(value, width):
    return ("%0*o" % (width - 1, value)).encode() + b"\0"


def _directory_tar(count, top="cst-slow-removal"):
    """A ustar archive of ``top/`` and ``count`` empty directories in it, built by hand (0.05 s per 30 000
    entries; tarfile takes 0.7 s)."""
    header = bytearray(512)
    header[100:108] = _octal(0o755, 8)
    header[108:116] = _octal(0, 8)
    header[116:124] = _octal(0, 8)
    header[124:136] = _octal(0, 12)
    header[136:148] = _octal(1700000000, 12)
    header[148:156] = b" " * 8
    header[156:157] = b"5"  # directory
    header[257:263] = b"ustar\0"
    header[263:265] = b"00"
    base_sum = sum(header)
    middle = bytes(header[100:148])
    tail = bytes(header[156:])
    blocks = []
    for index in range(-1, count):
        name = ("%s/" % top if index < 0 else "%s/%d/" % (top, index)).encode()
        checksum = ("%06o\0 " % (base_sum + sum(name))).encode()
        blocks.append(name.ljust(100, b"\0") + middle + checksum + tail)
    blocks.append(b"\0" * 1024)
    return b"".join(blocks)


def fill_writable_layer(api, container_id, directories=20000):
    """Write ``directories`` empty directories into the container's writable layer (``put_archive``);
    return the seconds it took.

    The fallback when a removal cannot be held (no root, not overlay2): removing an empty directory costs
    the daemon more than creating it (a freed block each). Measured here for 10 000: 0.9-2.3 s to write,
    2.8-3.3 s to remove; 20 000: 2.8-3.7 s / 2.9-5.6 s, several times more on a loaded machine (see the
    module doc) -- too slow and too variable to be the default.
    """
    started = time.monotonic()
    api.put_archive(container_id, "/", _directory_tar(directories))
    return time.monotonic() - started


class Removal:
    """``remove_container`` running in a thread, optionally held in ``removing`` until the test says so.

    With ``hold=True`` (the default; root and overlay2 needed) the container gets a directory
    ``/cst-removal-hold`` with a file in it, and ``start()`` puts a fanotify open-permission mark on that
    directory in the writable layer on the host. Docker's removal (after the kill, after it checkpointed
    the container as Dead with RemovalInProgress, i.e. while the list shows ``removing``) opens the
    directory to empty it and blocks in ``open()`` until this object answers:

    - ``release()`` allows the open: the removal completes (``destroy`` event, the name is free);
    - ``fail()`` denies it (EPERM): the removal fails with a 500 error ``driver "overlay2" failed to
      remove root filesystem: openfdat .../cst-removal-hold: operation not permitted`` and the container is
      left ``dead`` (inspect; the list call keeps showing ``removing`` -- see the module doc);
    - after ``max_hold`` seconds, or when this process exits, the open is allowed anyway.

    Only that one daemon goroutine waits; inspect, list and every other container keep working (the
    container lock is not held while the layer is removed). Nothing of the daemon's data is written.

    With ``hold=False`` the removal just runs; combine it with ``fill_writable_layer`` to make it slow.

    Use::

        removal = Removal(api, container_id).start()
        removal.wait_removing()          # the list shows "removing" now, and stays so
        ...                              # act on it
        removal.release()
        assert removal.join() is None    # the exception of remove_container, or None
    """

    def __init__(self, api, container_id, force=True, v=False, hold=True, max_hold=60.0):
        self.api = api
        self.container_id = container_id
        self.force = force
        self.v = v
        self.hold = hold
        self.max_hold = max_hold
        self.hold_path = add_hold_dir(api, container_id) if hold else None
        self.error = None
        self.started_at = None    # time.monotonic() when remove_container was called
        self.finished_at = None   # ... when it returned
        self.held_at = None       # ... when the daemon's open() was intercepted
        self.held_pid = None      # the pid that opened the directory (dockerd)
        self.answer = None        # "allow", "deny", "allow (max_hold)", "allow (closed)"
        self.seen_removing = False  # wait_removing() saw the list call show "removing"
        self._fanotify = None
        self._decision = None
        self._decided = threading.Event()
        self._held = threading.Event()
        self._done = threading.Event()
        self._threads = []

    # --- control

    def start(self):
        """Mark the hold directory (when holding) and call ``remove_container`` in a thread; return self."""
        if self._threads:
            raise RuntimeError("already started")
        if self.hold:
            self._fanotify = _Fanotify()
            try:
                self._fanotify.mark(self.hold_path)
            except OSError:
                self._fanotify.close()
                self._fanotify = None
                raise
            watcher = threading.Thread(target=self._watch, name="cst-hold-%s" % self.container_id[:12], daemon=True)
            watcher.start()
            self._threads.append(watcher)
        remover = threading.Thread(target=self._remove, name="cst-rm-%s" % self.container_id[:12], daemon=True)
        self.started_at = time.monotonic()
        remover.start()
        self._threads.append(remover)
        return self

    def wait_removing(self, timeout=10.0):
        """Wait (bounded) until the list shows ``removing`` (when holding: and the daemon is held);
        return the list entry. Raises ``StateTimeout`` when the removal ended first or took too long."""
        def ready():
            if self.hold and not self._held.is_set():
                if self._done.is_set():
                    raise StateTimeout("removal of %s ended before it was held: %r" % (self.container_id[:12], self.error))
                return None
            entry = list_entry(self.api, self.container_id)
            if entry is not None and entry["State"] == "removing":
                self.seen_removing = True
                return entry
            if self._done.is_set():
                raise StateTimeout("removal of %s ended before the list showed removing (%.2fs, %r)" % (
                    self.container_id[:12], self.elapsed, self.error))
            return None

        return poll(ready, timeout,
                    lambda: "%s not removing: %s" % (self.container_id[:12], observe(self.api, self.container_id)))

    def release(self):
        """Let the held removal finish (no-op without a hold)."""
        self._decide("allow")

    def fail(self):
        """Make the held removal fail: the container ends ``dead``."""
        if not self.hold:
            raise RuntimeError("only a held removal can be made to fail")
        self._decide("deny")

    def join(self, timeout=30.0):
        """Wait (bounded) for ``remove_container`` to return; return its exception or None."""
        if not self._threads:
            raise RuntimeError("not started")
        if not self._done.wait(timeout):
            raise StateTimeout("remove_container(%s) still runs after %ss (answer %s)" % (
                self.container_id[:12], timeout, self.answer))
        for thread in self._threads:
            thread.join(timeout)
        return self.error

    def close(self):
        """Release whatever is held and wait (bounded) for the removal. Idempotent. (The fanotify group is
        dropped by its watcher thread as soon as the removal returned, so a later removal of the same
        container is never held.)"""
        self._decide("allow (closed)")
        if self._threads:
            self._done.wait(60)
            for thread in self._threads:
                thread.join(10)

    @property
    def done(self):
        return self._done.is_set()

    @property
    def held(self):
        return self._held.is_set() and not self._decided.is_set()

    @property
    def elapsed(self):
        """Seconds ``remove_container`` ran (so far)."""
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.monotonic()) - self.started_at

    def __enter__(self):
        if not self._threads:
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- threads

    def _decide(self, decision):
        if not self._decided.is_set():
            self._decision = decision
            self._decided.set()

    def _remove(self):
        try:
            self.api.remove_container(self.container_id, force=self.force, v=self.v)
        except Exception as exc:  # noqa: BLE001 -- handed to the test by join()
            self.error = exc
        finally:
            self.finished_at = time.monotonic()
            self._done.set()

    def _watch(self):
        """Hold the first open of the marked directory until a decision (or ``max_hold``), allow later
        ones; drop the fanotify group once ``remove_container`` returned (at most ``max_hold + 120`` s)."""
        fanotify = self._fanotify
        pending = None
        deadline = None
        limit = time.monotonic() + self.max_hold + 120
        try:
            for _tick in range(int((self.max_hold + 120) / 0.05) + 2):
                if time.monotonic() > limit:
                    break
                if pending is not None:
                    decision = self._decision if self._decided.is_set() else None
                    if decision is None and time.monotonic() >= deadline:
                        decision = "allow (max_hold)"
                        self._decide(decision)
                    if decision is not None:
                        self.answer = decision
                        fanotify.answer(pending, decision != "deny")
                        pending = None
                elif self._done.is_set():
                    break
                for _mask, event_fd, pid in fanotify.read(0.05):
                    if pending is None and self.held_at is None:
                        pending = event_fd
                        self.held_at = time.monotonic()
                        self.held_pid = pid
                        deadline = self.held_at + self.max_hold
                        self._held.set()
                    else:
                        fanotify.answer(event_fd, True)
        finally:
            if pending is not None:
                self.answer = "allow (watcher ended)"
                fanotify.answer(pending, True)
            fanotify.close()  # closing also allows whatever the kernel still queues


def make_removing(api, container_id=None, timeout=10.0, max_hold=60.0, **create_kwargs):
    """A started, held ``Removal`` whose container the list shows as ``removing`` (a new running ``sleep``
    container when ``container_id`` is None). The caller ``release()``s (or ``fail()``s) and ``join()``s
    it, or uses it as a context manager (``close()`` releases)."""
    if container_id is None:
        container_id = make_running(api, **create_kwargs)
    return removing(api, container_id, hold_for=max_hold, timeout=timeout, hold=True)


def removing(api, container_id, hold_for=5.0, timeout=10.0, hold=None):
    """For ``with``: the container is being removed during the block -- the list shows ``removing``
    (``removal.seen_removing``) -- and gone (or dead, see ``removal.error``) after it.

    Held (root, overlay2) for at most ``hold_for`` seconds from the moment it is removing; then the daemon
    finishes the removal by itself, so code under test that waits for the removal to end (e.g. on the
    ``destroy`` event) sees it end. The block may ``release()`` earlier. Without a hold (``hold=False``, or
    no fanotify) the removal just runs, and only a container that made it slow (``MANY_FILES_COMMAND``,
    ``fill_writable_layer``) is seen removing.
    """
    if hold is None:
        hold = fanotify_available()
    removal = Removal(api, container_id, force=True, hold=hold, max_hold=hold_for).start()
    try:
        removal.wait_removing(timeout=timeout)
    except BaseException:
        removal.close()
        raise
    return removal


# A process command (Procfile syntax, no ``$``) whose container writes 10 000 empty directories into its
# writable layer, then marks it done and sleeps: its removal takes 1-3 s (see the module doc) without any
# hold. ``wait_many_files`` waits for the mark.
MANY_FILES_DONE = "/cst-many-files.done"
MANY_FILES_DIRECTORIES = 10000
MANY_FILES_COMMAND = ("sh -c 'mkdir -p /cst-many-files && cd /cst-many-files && seq 1 %d | xargs mkdir && "
                      "touch %s && exec sleep 86400'" % (MANY_FILES_DIRECTORIES, MANY_FILES_DONE))


def wait_many_files(api, container_id, timeout=60.0):
    """Wait (bounded) until a container running ``MANY_FILES_COMMAND`` has written its directories."""
    def done():
        exec_id = api.exec_create(container_id, ["test", "-e", MANY_FILES_DONE], stdout=False, stderr=False)["Id"]
        api.exec_start(exec_id)
        return api.exec_inspect(exec_id)["ExitCode"] == 0

    return poll(done, timeout, lambda: "%s has not written its directories: %s" % (
        container_id[:12], observe(api, container_id)), interval=0.2)


# --- dead

def make_dead(api, container_id=None, timeout=30.0, refresh_list=True, **create_kwargs):
    """Make the container ``dead`` through a removal that fails (see ``Removal.fail``); any daemon, the
    main one too; needs root and overlay2. Return the text of the removal's error.

    Given a ``PrivateDaemon`` instead of an API client (``make_dead(daemon, ids)``), this is
    ``make_dead_private(daemon, ids)``.

    Guarantees: inspect ``State.Status == "dead"``, ``Dead`` true, ``State.Error`` holds the error; with
    ``refresh_list`` (the default) the list call shows ``dead`` / ``Dead`` too, and the container keeps
    its name. Docker does not refresh its list view after a failed removal -- the list keeps showing
    ``removing`` / ``Removal In Progress`` -- until something checkpoints the container: ``refresh_list``
    renames it to a temporary name and back (``refresh_list=False`` leaves the stale view, which is what a
    client sees right after a failed removal). A later ``remove_container`` (force or not) removes it.
    """
    if hasattr(api, "data_root") and hasattr(api, "restart"):
        return make_dead_private(api, container_id, timeout=max(timeout, 60.0))
    if container_id is None:
        container_id = make_running(api, **create_kwargs)
    removal = Removal(api, container_id, force=True).start()
    try:
        removal.wait_removing(timeout=timeout)
        removal.fail()
        error = removal.join(timeout)
    finally:
        removal.close()
    if error is None:
        raise StateTimeout("the removal of %s did not fail" % container_id[:12])
    poll(lambda: api.inspect_container(container_id)["State"]["Status"] == "dead", timeout,
         lambda: "%s not dead: %s" % (container_id[:12], observe(api, container_id)))
    if refresh_list:
        name = api.inspect_container(container_id)["Name"].lstrip("/")
        api.rename(container_id, new_name(name[:40] + "-cst-"))
        api.rename(container_id, name)
        poll(lambda: _entry_in_state(api, container_id, "dead"), timeout,
             lambda: "%s not listed as dead: %s" % (container_id[:12], observe(api, container_id)))
    return getattr(error, "explanation", None) or str(error)


def make_dead_private(daemon, container_ids, flag="RemovalInProgress", timeout=60.0):
    """Make containers of a PRIVATE daemon (``tests.support.daemons.PrivateDaemon``) ``dead`` for the
    list call and inspect alike: stop the daemon, set ``State.<flag>`` in each
    ``<data root>/containers/<id>/config.v2.json``, start it again (one restart, 2-3 s).

    ``container_ids``: one id, a list of ids (all get ``flag``), or ``{id: flag}``.

    ``flag="RemovalInProgress"``: the daemon takes the container for one whose removal a crash cut short
    and marks it Dead while loading; ``flag="Dead"`` sets Dead directly. Both give the same result on
    docker 26.1.5. Containers that ran with a restart policy are not restarted ("container is marked for
    removal and cannot be started" in the daemon log). Returns ``{id: observe(...)}``.
    """
    if isinstance(container_ids, dict):
        flags = dict(container_ids)
    elif isinstance(container_ids, str):
        flags = {container_ids: flag}
    else:
        flags = dict.fromkeys(container_ids, flag)
    if set(flags.values()) - {"RemovalInProgress", "Dead"}:
        raise ValueError("the flag must be RemovalInProgress or Dead: %s" % flags)
    if not hasattr(daemon, "data_root") or not hasattr(daemon, "restart"):
        raise TypeError("make_dead_private needs a tests.support.daemons.PrivateDaemon, not %r" % (daemon,))
    client = daemon.client()
    try:
        flags = {client.api.inspect_container(cid)["Id"]: value for cid, value in flags.items()}
    finally:
        client.close()
    ids = list(flags)
    daemon.stop(timeout=timeout)
    for cid in ids:
        path = os.path.join(daemon.data_root, "containers", cid, "config.v2.json")
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
        config["State"][flags[cid]] = True
        temporary = path + ".cst-tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(config, handle)
        os.replace(temporary, path)
    daemon.start(timeout=timeout)
    client = daemon.client()
    try:
        result = {}
        for cid in ids:
            result[cid] = poll(lambda cid=cid: _dead_everywhere(client.api, cid), timeout,
                               lambda cid=cid: "%s not dead: %s" % (cid[:12], observe(client.api, cid)))
        return result
    finally:
        client.close()


def _dead_everywhere(api, container_id):
    seen = observe(api, container_id)
    return seen if seen["status"] == "dead" and seen["list_state"] == "dead" else None


# --- cleanup

class Names:
    """The names of the containers a test creates; ``cleanup`` force-removes every one that exists."""

    def __init__(self, prefix=NAME_PREFIX):
        self.prefix = prefix
        self.names = []

    def new(self):
        name = new_name(self.prefix)
        self.names.append(name)
        return name

    def add(self, name):
        self.names.append(name)
        return name

    def cleanup(self, api, timeout=30.0):
        """Remove the containers (any state; a second try after a failure); return the names left."""
        left = []
        for name in self.names:
            if not remove_by_name(api, name, timeout=timeout):
                left.append(name)
        return left


def remove_by_name(api, name, timeout=30.0):
    """Force-remove the container called exactly ``name`` if it exists (bounded retries); True when it is gone."""
    deadline = time.monotonic() + timeout
    pattern = "^/%s$" % re.escape(name)
    for _attempt in range(5):
        found = api.containers(all=True, filters={"name": pattern})
        if not found:
            return True
        for entry in found:
            try:
                api.remove_container(entry["Id"], force=True, v=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.2)
    return not api.containers(all=True, filters={"name": pattern})


# --- the behaviour matrix of the module doc: ``python -m tests.support.container_states``

def _operations(names):
    """(label, call) pairs; each call returns the HTTP status of the request (the SDK hides 304s)."""
    def request(api, method, path, cid, params=None, json_body=None):
        url = api._url(path, cid)  # pylint: disable=protected-access
        if method == "post" and json_body is not None:
            response = api._post_json(url, data=json_body, params=params)  # pylint: disable=protected-access
        elif method == "post":
            response = api._post(url, params=params)  # pylint: disable=protected-access
        else:
            response = api._delete(url, params=params)  # pylint: disable=protected-access
        api._raise_for_status(response)  # pylint: disable=protected-access
        return response.status_code

    return (
        ("start", lambda api, cid: request(api, "post", "/containers/{0}/start", cid)),
        ("stop(timeout=2)", lambda api, cid: request(api, "post", "/containers/{0}/stop", cid, {"t": 2})),
        ("kill", lambda api, cid: request(api, "post", "/containers/{0}/kill", cid)),
        ("pause", lambda api, cid: request(api, "post", "/containers/{0}/pause", cid)),
        ("unpause", lambda api, cid: request(api, "post", "/containers/{0}/unpause", cid)),
        ("update(restart_policy)", lambda api, cid: request(api, "post", "/containers/{0}/update", cid,
                                                            json_body={"RestartPolicy": {"Name": "always"}})),
        ("rename", lambda api, cid: request(api, "post", "/containers/{0}/rename", cid, {"name": names.new()})),
        ("remove(force=True)", lambda api, cid: request(api, "delete", "/containers/{0}", cid, {"force": True})),
        ("remove()", lambda api, cid: request(api, "delete", "/containers/{0}", cid)),
    )


def _outcome(call):
    started = time.monotonic()
    try:
        status = call()
    except docker.errors.APIError as exc:
        text = "%s %s" % (exc.status_code, exc.explanation or exc)
        return text, time.monotonic() - started
    return "ok %s" % status, time.monotonic() - started


def _short(seen):
    if seen["status"] is None and seen["list_state"] is None:
        return "gone"
    flags = "".join(letter for letter, key in (("R", "running"), ("P", "paused"), ("S", "restarting"), ("D", "dead"))
                    if seen[key])
    text = "%s/%s" % (seen["list_state"], seen["status"])
    return "%s [%s]" % (text, flags or "-")


def _shorten(text, container_id):
    return text.replace(container_id, "<id>").replace(container_id[:12], "<id>")


def measure_matrix(api, states=None, daemon=None, log=print):
    """Run every operation on a fresh container in every state; return rows
    ``(state, operation, outcome, seconds, right after, 1 s later)`` (``daemon``: a PrivateDaemon for
    the ``dead (restart)`` rows)."""
    names = Names()
    rows = []
    states = states or ("created", "running", "paused", "restarting", "removing", "exited", "dead", "dead (restart)")
    try:
        for state in states:
            if state == "dead (restart)" and daemon is None:
                continue
            operations = _operations(names)
            prepared = {}
            if state == "dead (restart)":
                ids = [make_exited(api, name=names.new()) for _op in operations]
                make_dead_private(daemon, ids)
                api = daemon.client(timeout=120).api
                prepared = dict(zip([op for op, _call in operations], ids))
            for op, call in operations:
                removal = None
                if state == "created":
                    cid = make_created(api, name=names.new())
                elif state == "running":
                    cid = make_running(api, name=names.new())
                elif state == "paused":
                    cid = make_paused(api, name=names.new())
                elif state == "restarting":
                    cid, _window = make_restarting(api, name=names.new(), min_remaining=0.5)
                elif state == "removing":
                    removal = make_removing(api, name=names.new())
                    cid = removal.container_id
                elif state == "exited":
                    cid = make_exited(api, name=names.new())
                elif state == "dead":
                    cid = make_running(api, name=names.new())
                    make_dead(api, cid, refresh_list=False)
                else:
                    cid = prepared[op]
                outcome, seconds = _outcome(lambda call=call, cid=cid: call(api, cid))
                after = _short(observe(api, cid))
                if removal is not None:
                    removal.release()
                    error = removal.join()
                    removal.close()
                    result = "ok" if error is None else _shorten(str(getattr(error, "explanation", error)), cid)
                    later = "after release: %s (removal %s)" % (_short(observe(api, cid)), result)
                else:
                    time.sleep(1.0)
                    later = _short(observe(api, cid))
                row = (state, op, _shorten(outcome, cid), seconds, after, later)
                log("%-15s %-22s %5.2fs  %-40s -> %s | %s" % (state, op, seconds, row[2][:160], after, later))
                rows.append(row)
    finally:
        left = names.cleanup(api)
        if left:
            log("could not remove: %s" % left)
    return rows


def main(argv=None):
    import argparse
    import tempfile

    from tests.support import daemons

    parser = argparse.ArgumentParser(description="Print Docker's behaviour per container state (the module doc's matrix).")
    parser.add_argument("--docker-host", help="use this daemon instead of a private one (no 'dead (restart)' rows)")
    parser.add_argument("--state", action="append", help="only these states (repeatable)")
    args = parser.parse_args(argv)
    if args.docker_host:
        api = docker.APIClient(base_url=args.docker_host, timeout=120)
        measure_matrix(api, states=args.state)
        return 0
    root = tempfile.mkdtemp(prefix="cst-matrix-")
    with daemons.PrivateDaemon(root, "cst-matrix") as daemon:
        client = daemon.client(timeout=120)
        images.build_standard_images(client, log=lambda *a: None)
        measure_matrix(client.api, states=args.state, daemon=daemon)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
