# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on the managed host: atomic writes with an exact mode, fsync of a directory, exclusive lock files.

Nothing here phrases a message for users: errors are ``OSError`` (the temporary file of a write that cannot be
created is a :class:`TempFileError`) and :class:`LockError`, and every caller says what went wrong in its own
words.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import time

LOCK_POLL_INTERVAL = 0.05
TEMP_PREFIX = '.'
TEMP_SUFFIX = '.tmp'
_TEMP_ATTEMPTS = 100
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


class TempFileError(OSError):
    """The temporary file of an atomic write could not be created (the target is untouched). Same errno, text and
    file name as the OSError it stands for."""


class LockError(Exception):
    """The lock was not taken. ``step``: ``'open'`` (the lock file could not be opened or created), ``'lock'``
    (flock failed) or ``'timeout'`` (another holder kept it until the deadline); ``error``: the OSError of the
    first two, None for a timeout."""

    def __init__(self, step, path, error=None):
        super(LockError, self).__init__('%s: %s' % (path, step if error is None else error))
        self.step = step
        self.path = path
        self.error = error


def fsync_dir(path):
    """Make the entries of the directory ``path`` (a rename, a new or removed file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_temp(directory, name, mode):
    """A new file ``.<name>.<random>.tmp`` in ``directory`` created with ``mode`` -> ``(descriptor, path)``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)
    for _attempt in range(_TEMP_ATTEMPTS):
        temp = os.path.join(directory, '%s%s.%s%s' % (TEMP_PREFIX, name, os.urandom(6).hex(), TEMP_SUFFIX))
        try:
            return os.open(temp, flags, mode), temp
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise TempFileError(exc.errno, exc.strerror, exc.filename)
    raise TempFileError(errno.EEXIST, 'No usable temporary file name found', directory)


def write_atomic(path, data, mode):
    """Replace ``path`` by a file holding ``data`` (bytes) with exactly the permission bits ``mode``, whatever the
    umask.

    A temporary file in the same directory (``.<name>.<random>.tmp``) is created with ``mode``, written, flushed,
    fsynced and renamed over ``path``; then the directory is fsynced. When anything fails the temporary file is
    removed and ``path`` is what it was (unless only the final fsync of the directory failed). Raises
    :class:`TempFileError` when the temporary file cannot be created, OSError otherwise.
    """
    directory = os.path.dirname(path) or '.'
    fd, temp = _create_temp(directory, os.path.basename(path), mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits away
        with os.fdopen(fd, 'wb') as handle:
            fd = None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        temp = None
    finally:
        if fd is not None:
            os.close(fd)
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass
    fsync_dir(directory)


def _open_lock_file(path, mode):
    """The descriptor of the lock file ``path``; a missing one is created with exactly ``mode``."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise
        return os.open(path, os.O_RDWR)
    try:
        os.fchmod(fd, mode)
    except OSError:
        os.close(fd)
        raise
    return fd


class FileLock(object):
    """An exclusive ``fcntl.flock`` on the lock file ``path`` (created with ``mode`` when missing; never deleted:
    deleting a lock file someone may hold would break mutual exclusion). Not re-entrant: a second FileLock on the
    same file waits for the first, even in one process.

    ``acquire(timeout)`` tries every 50 ms until ``timeout`` seconds have passed (None: forever; 0: once) and
    raises :class:`LockError` when it cannot take the lock; ``release()`` gives it back. Callers take it apart
    from the work they do under it, so that an error of that work is never mistaken for one of the lock::

        lock = FileLock(path, 0o600)
        try:
            lock.acquire(timeout)
        except LockError as exc:
            raise SomeError(...)
        try:
            ...
        finally:
            lock.release()
    """

    def __init__(self, path, mode):
        self.path = path
        self.mode = mode
        self._fd = None

    def acquire(self, timeout):
        if self._fd is not None:
            raise RuntimeError('%s: this lock is already held' % self.path)
        try:
            fd = _open_lock_file(self.path, self.mode)
        except OSError as exc:
            raise LockError('open', self.path, exc)
        try:
            _flock(fd, self.path, timeout)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self):
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)  # closing the last descriptor releases the lock in any case


def _flock(fd, path, timeout):
    deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in _BUSY:
                raise LockError('lock', path, exc)
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise LockError('timeout', path)
        time.sleep(LOCK_POLL_INTERVAL if remaining is None else min(LOCK_POLL_INTERVAL, remaining))
