# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on the managed host (module_utils/_files.py): atomic writes with an exact mode, fsync of a directory,
exclusive lock files polled until a deadline."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import stat
import threading
import time

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _files as files


def mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


@pytest.fixture
def umask():
    """Set the umask for one test: ``umask(0o277)``; the old one comes back afterwards."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


# ---------------------------------------------------------------- atomic writes

@pytest.mark.parametrize("wanted", [0o600, 0o644, 0o640, 0o400])
@pytest.mark.parametrize("mask", [0, 0o022, 0o277])
def test_write_gives_exactly_the_mode_whatever_the_umask(tmp_path, umask, wanted, mask):
    umask(mask)
    path = tmp_path / "file"
    files.write_atomic(str(path), b"data\n", wanted)
    assert path.read_bytes() == b"data\n" and mode(path) == wanted
    assert os.listdir(str(tmp_path)) == ["file"]


def test_rewrite_with_another_mode_ends_with_the_new_mode_on_a_new_inode(tmp_path):
    path = tmp_path / "shop.key"
    files.write_atomic(str(path), b"one\n", 0o644)
    before = os.stat(str(path)).st_ino
    files.write_atomic(str(path), b"two\n", 0o600)
    assert path.read_bytes() == b"two\n" and mode(path) == 0o600
    assert os.stat(str(path)).st_ino != before, "replaced by a rename, never rewritten in place"


def test_the_temporary_file_sits_beside_the_target_with_the_final_mode(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def recording(source, target):
        seen.append((source, target, mode(source), os.path.basename(source)))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", recording)
    files.write_atomic(str(tmp_path / "a.json"), b"{}", 0o600)
    source, target, temp_mode, name = seen[0]
    assert os.path.dirname(source) == str(tmp_path) and target == str(tmp_path / "a.json")
    assert temp_mode == 0o600
    assert name.startswith(".a.json.") and name.endswith(".tmp")


def test_the_file_and_then_its_directory_are_fsynced(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync

    def recording(fd):
        calls.append(os.readlink("/proc/self/fd/%d" % fd))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    files.write_atomic(str(tmp_path / "f"), b"x", 0o600)
    assert len(calls) == 2
    assert os.path.basename(calls[0]).startswith(".f.") and calls[1] == str(tmp_path)
    calls[:] = []
    files.fsync_dir(str(tmp_path))
    assert calls == [str(tmp_path)]


@pytest.mark.parametrize("broken", ["replace", "fsync", "write"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, broken):
    path = tmp_path / "doc"
    files.write_atomic(str(path), b"old\n", 0o600)
    before = os.stat(str(path))

    def fail(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if broken == "write":
        real_fdopen = os.fdopen

        class Failing(object):
            def __init__(self, handle):
                self.handle = handle

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()

            write = staticmethod(fail)

        monkeypatch.setattr(os, "fdopen", lambda fd, how: Failing(real_fdopen(fd, how)))
    else:
        monkeypatch.setattr(os, broken, fail)
    with pytest.raises(OSError) as info:
        files.write_atomic(str(path), b"new\n", 0o644)
    monkeypatch.undo()
    assert not isinstance(info.value, files.TempFileError)
    assert info.value.errno == errno.ENOSPC
    assert os.listdir(str(tmp_path)) == ["doc"], "no temporary file left"
    assert path.read_bytes() == b"old\n" and mode(path) == 0o600 and os.stat(str(path)).st_ino == before.st_ino


def test_a_temporary_file_that_cannot_be_created_is_its_own_error(tmp_path):
    with pytest.raises(files.TempFileError) as info:
        files.write_atomic(str(tmp_path / "missing" / "doc"), b"x", 0o600)
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOENT
    assert info.value.strerror == "No such file or directory"
    assert info.value.filename.startswith(str(tmp_path / "missing" / ".doc."))
    assert str(info.value).startswith("[Errno 2] No such file or directory: ")


def test_a_taken_temporary_name_is_skipped(tmp_path, monkeypatch):
    names = iter([b"\x00" * 6, b"\x00" * 6, b"\x01" * 6])
    monkeypatch.setattr(os, "urandom", lambda _count: next(names))
    files.write_atomic(str(tmp_path / "a"), b"1", 0o600)
    (tmp_path / ".b.000000000000.tmp").write_text("someone else's")
    files.write_atomic(str(tmp_path / "b"), b"2", 0o600)
    assert (tmp_path / "b").read_bytes() == b"2"
    assert (tmp_path / ".b.000000000000.tmp").read_text() == "someone else's"


# ---------------------------------------------------------------- locks

def test_lock_is_exclusive_and_released(tmp_path):
    path = str(tmp_path / "x.lock")
    first, second = files.FileLock(path, 0o600), files.FileLock(path, 0o600)
    first.acquire(0)
    with pytest.raises(files.LockError) as info:
        second.acquire(0)
    assert info.value.step == "timeout" and info.value.error is None and info.value.path == path
    first.release()
    first.release()  # a second release does nothing
    second.acquire(0)
    second.release()
    assert os.path.exists(path), "lock files are never deleted"


def test_lock_waits_until_the_deadline_polling_every_50_ms(tmp_path, monkeypatch):
    path = str(tmp_path / "x.lock")
    holder = files.FileLock(path, 0o600)
    holder.acquire(None)
    attempts = []
    real_flock = fcntl.flock

    def counting(fd, operation):
        attempts.append(operation)
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", counting)
    started = time.monotonic()
    with pytest.raises(files.LockError):
        files.FileLock(path, 0o600).acquire(0.3)
    elapsed = time.monotonic() - started
    holder.release()
    assert 0.3 <= elapsed < 2
    assert 5 <= len(attempts) <= 8, attempts  # 0, 0.05, ... 0.3 s


def test_lock_without_a_deadline_waits_for_the_holder(tmp_path):
    path = str(tmp_path / "x.lock")
    holder = files.FileLock(path, 0o600)
    holder.acquire(0)
    timer = threading.Timer(0.2, holder.release)
    timer.start()
    started = time.monotonic()
    waiter = files.FileLock(path, 0o600)
    waiter.acquire(None)
    waiter.release()
    timer.join()
    assert time.monotonic() - started >= 0.15


def test_a_negative_timeout_tries_once(tmp_path):
    path = str(tmp_path / "x.lock")
    holder = files.FileLock(path, 0o600)
    holder.acquire(0)
    with pytest.raises(files.LockError, match="timeout"):
        files.FileLock(path, 0o600).acquire(-5)
    holder.release()
    files.FileLock(path, 0o600).acquire(-5)


def test_lock_file_is_created_with_exactly_its_mode_and_an_existing_one_is_left_alone(tmp_path, umask):
    umask(0o277)
    created = tmp_path / "new.lock"
    lock = files.FileLock(str(created), 0o644)
    lock.acquire(0)
    lock.release()
    assert mode(created) == 0o644
    existing = tmp_path / "old.lock"
    existing.write_text("")
    os.chmod(str(existing), 0o640)
    lock = files.FileLock(str(existing), 0o600)
    lock.acquire(0)
    lock.release()
    assert mode(existing) == 0o640


def test_a_lock_file_that_cannot_be_opened_or_locked_says_which(tmp_path, monkeypatch):
    missing = str(tmp_path / "missing" / "x.lock")
    with pytest.raises(files.LockError) as info:
        files.FileLock(missing, 0o600).acquire(1)
    assert info.value.step == "open" and info.value.error.errno == errno.ENOENT

    def broken(_fd, _operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", broken)
    path = str(tmp_path / "x.lock")
    with pytest.raises(files.LockError) as info:
        files.FileLock(path, 0o600).acquire(5)
    assert info.value.step == "lock" and info.value.error.strerror == "No locks available"


def test_a_held_lock_cannot_be_acquired_twice_through_one_object(tmp_path):
    lock = files.FileLock(str(tmp_path / "x.lock"), 0o600)
    lock.acquire(0)
    with pytest.raises(RuntimeError, match="already held"):
        lock.acquire(0)
    lock.release()
