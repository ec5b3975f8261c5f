# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store: desired state kept as JSON documents on the managed host.

Layout under the state directory (see :func:`resolve_state_dir`)::

    apps/<app>.json      one document per app (schema.APP_SCHEMA)
    global.json          global properties (schema.GLOBAL_SCHEMA)
    locks/<app>.lock     per-app lock files (flock)
    locks/.global.lock   lock for global.json

* Every document is validated against its schema on read and before write.
* Writes are atomic: a temporary file (0600) in the same directory, write, flush, fsync, ``os.replace``,
  fsync of the directory. A failed write leaves the previous document untouched and no temporary file.
* Files are 0600 and directories the store creates are 0700, set explicitly whatever the umask. Existing
  directories and files are never re-moded.
* Nothing is created by a read: reading from a missing state directory gives "no app" / defaults.
* A corrupt or schema-invalid document is never overwritten: the user must fix or move it away.
* Locks are exclusive ``fcntl.flock`` locks on separate lock files, polled every 50 ms until a timeout.
  They are not re-entrant (locking the same app twice in one process waits for itself), and lock files
  are never deleted (deleting a lock file someone may hold would break mutual exclusion).
* Nothing is read or written through a path other users could tamper with: the rules (owners and modes of the
  state directory, of the directories on the way to it and of every document read) live in ``_state_safety``,
  checked once per store, on first use (:meth:`StateStore._verify`). Nothing is repaired: a store that fails a
  check refuses with :class:`UnsafeStateError`, one line naming the path, the rule and the fix.

Callers hold :meth:`StateStore.lock` around every read-modify-write of an app document.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import json
import os
import re
import stat

from ansible_collections.dokku_ps.docker.plugins.module_utils import _files
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import StateError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import is_app_name, validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import (
    APP_SCHEMA,
    GLOBAL_SCHEMA,
    DocumentInvalid,
    new_global_document,
    validate,
)
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_safety import (
    UnsafeStateError,
    check_document,
    problem as _problem,
    verify_store,
)

DEFAULT_STATE_DIR = "/var/lib/dokku-ps"
STATE_DIR_ENV = "DOKKU_PS_STATE_DIR"
DEFAULT_LOCK_TIMEOUT = 300

FILE_MODE = 0o600
DIR_MODE = 0o700

CORRUPT_HINT = "fix or move it away; see docs/state.md"
_TEMP_PREFIX = _files.TEMP_PREFIX
_GLOBAL_LOCK_NAME = ".global"


def resolve_state_dir(param=None):
    """The state directory: ``param`` if given, else ``$DOKKU_PS_STATE_DIR``, else ``/var/lib/dokku-ps``.

    Empty strings count as not given.
    """
    if param:
        return param
    from_env = os.environ.get(STATE_DIR_ENV)
    if from_env:
        return from_env
    return DEFAULT_STATE_DIR


# the kinds of secret kept beside the documents (StateStore.secret_path), and the names they may have
SECRET_KINDS = ('certs', 'acme')
_SECRET_NAME_RE = re.compile(r'^[a-z0-9][a-z0-9.-]{0,100}\.(pem|json)$')


def check_app_name(name):
    """Raise :class:`ValidationError` unless ``name`` is a valid app name (also keeps paths inside the store)."""
    validate_app_name(name, "app")


MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


def _read_regular_file(path, limit):
    """The bytes of a regular file. Opened without blocking, so a FIFO or a device in its place is refused
    instead of hanging the run or reading without end."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        check_document(path, info)
        if info.st_size > limit:
            raise OSError(errno.EFBIG, "larger than %d bytes" % limit)
        chunks = []
        while True:
            chunk = os.read(descriptor, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


class StateStore(object):
    """Reads and writes the state documents under ``state_dir`` (resolved with :func:`resolve_state_dir`)."""

    def __init__(self, state_dir=None):
        self.state_dir = resolve_state_dir(state_dir)
        self.apps_dir = os.path.join(self.state_dir, "apps")
        self.locks_dir = os.path.join(self.state_dir, "locks")
        self.global_path = os.path.join(self.state_dir, "global.json")
        # path -> the bytes last validated there: a document read again unchanged (a fleet run reads each one
        # before and under its lock, and the global one once per app) is not validated again
        self._validated = {}
        # set once the state directory exists and passed the checks of _verify
        self._verified = False

    # ------------------------------------------------------------------ paths

    def app_path(self, name):
        check_app_name(name)
        return os.path.join(self.apps_dir, name + ".json")

    def lock_path(self, name):
        check_app_name(name)
        return os.path.join(self.locks_dir, name + ".lock")

    # ------------------------------------------------------------------ reads

    def read_app(self, name):
        """The app's document, or None when it does not exist. Raises StateError when it is unusable."""
        path = self.app_path(name)
        document = self._read(path, APP_SCHEMA)
        if document is not None and document.get("name") != name:
            raise StateError("%s: $.name: %r does not match the file name (expected %r); %s"
                             % (path, document.get("name"), name, CORRUPT_HINT))
        return document

    def read_global(self):
        """The global document, or a fresh default one (not written) when it does not exist."""
        document = self._read(self.global_path, GLOBAL_SCHEMA)
        if document is None:
            return new_global_document()
        return document

    def list_apps(self):
        """Sorted names of the apps that have a document (temporary and foreign files are ignored)."""
        self._verify()
        try:
            entries = os.listdir(self.apps_dir)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return []
            raise StateError("%s: cannot list the app documents: %s" % (self.apps_dir, _problem(exc)))
        names = []
        for entry in entries:
            if entry.startswith(_TEMP_PREFIX) or not entry.endswith(".json"):
                continue
            name = entry[:-len(".json")]
            if is_app_name(name):
                names.append(name)
        return sorted(names)

    def _read(self, path, schema):
        """Load and validate one document; None when the file does not exist."""
        self._verify()
        try:
            raw = _read_regular_file(path, MAX_DOCUMENT_BYTES)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise StateError("%s: cannot read the state document: %s" % (path, _problem(exc)))
        document = self._decode(path, raw)
        if self._validated.get(path) == raw:
            return document
        try:
            validate(document, schema, path)
        except DocumentInvalid as exc:
            raise StateError("%s; %s" % (exc, CORRUPT_HINT))
        self._validated[path] = raw
        return document

    @staticmethod
    def _decode(path, raw):
        if not raw.strip():
            raise StateError("%s: the state document is empty; %s" % (path, CORRUPT_HINT))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateError("%s: not valid UTF-8 (byte %d); %s" % (path, exc.start, CORRUPT_HINT))
        try:
            return json.loads(text)
        except ValueError as exc:
            detail = getattr(exc, "msg", None)
            if detail is not None and getattr(exc, "lineno", None) is not None:
                detail = "%s at line %d column %d" % (detail, exc.lineno, exc.colno)
            else:
                detail = " ".join(str(exc).split())
            raise StateError("%s: invalid JSON (%s); %s" % (path, detail, CORRUPT_HINT))

    # ------------------------------------------------------------------ writes

    def write_app(self, document):
        """Validate and atomically write an app document to ``apps/<name>.json``."""
        name = document.get("name") if isinstance(document, dict) else None
        path = self.app_path(name) if is_app_name(name) else os.path.join(self.apps_dir, "<invalid name>.json")
        validate(document, APP_SCHEMA, path)
        self._check_overwritable(path, APP_SCHEMA)
        self._write(self.apps_dir, path, document)

    def write_global(self, document):
        """Validate and atomically write the global document."""
        validate(document, GLOBAL_SCHEMA, self.global_path)
        self._check_overwritable(self.global_path, GLOBAL_SCHEMA)
        self._write(self.state_dir, self.global_path, document)

    def delete_app(self, name):
        """Remove the app's document; a missing document is fine. The lock file is kept."""
        self._remove(self.app_path(name), "the state document")

    def _remove(self, path, what):
        """Remove a file of the store (a missing one is fine) and make it last (fsync of its directory)."""
        self._verify()
        try:
            os.unlink(path)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return
            raise StateError("%s: cannot remove %s: %s" % (path, what, _problem(exc)))
        _files.fsync_dir(os.path.dirname(path))

    # ------------------------------------------------------------------ secrets beside the documents

    def secret_path(self, kind, name):
        """Where a secret of ``kind`` is kept: ``<state dir>/<kind>/<name>`` (``certs/<app>.pem``: an app's
        certificate with its key; ``acme/<id>.json``: an ACME account and its key). ``name`` is checked."""
        if kind not in SECRET_KINDS or not _SECRET_NAME_RE.match(name or ''):
            raise StateError('%r/%r is not a place for a secret of the state directory' % (kind, name))
        return os.path.join(self.state_dir, kind, name)

    def read_secret(self, kind, name):
        """The bytes of a secret (secret_path), None when there is none; owner and mode checked like a document."""
        path = self.secret_path(kind, name)
        self._verify()
        try:
            return _read_regular_file(path, MAX_DOCUMENT_BYTES)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise StateError("%s: cannot read the secret: %s" % (path, _problem(exc)))

    def write_secret(self, kind, name, data):
        """Write a secret atomically, 0600, in a 0700 directory."""
        path = self.secret_path(kind, name)
        directory = os.path.dirname(path)
        self._prepare_dir(directory)
        try:
            _files.write_atomic(path, data, FILE_MODE)
        except OSError as exc:
            raise StateError("%s: cannot write the secret: %s" % (path, _problem(exc)))

    def delete_secret(self, kind, name):
        """Remove a secret; a missing one is fine."""
        self._remove(self.secret_path(kind, name), "the secret")

    def _check_overwritable(self, path, schema):
        """Refuse to replace an existing document that is itself unreadable or invalid."""
        try:
            self._read(path, schema)
        except UnsafeStateError:
            raise
        except StateError as exc:
            problem = str(exc)
            if problem.startswith(path + ": "):
                problem = problem[len(path) + 2:]
            if problem.endswith("; " + CORRUPT_HINT):
                problem = problem[:-len(CORRUPT_HINT) - 2]
            raise StateError("%s: refusing to overwrite it because the existing document is unusable (%s); %s"
                             % (path, problem, CORRUPT_HINT))

    def _write(self, directory, path, document):
        try:
            text = json.dumps(document, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise StateError("%s: the document cannot be written as JSON: %s" % (path, exc))
        data = text.encode("ascii")
        self._prepare_dir(directory)
        try:
            _files.write_atomic(path, data, FILE_MODE)
        except _files.TempFileError as exc:
            raise StateError("%s: cannot create a temporary file to write the state document: %s"
                             % (directory, _problem(exc)))
        except OSError as exc:
            raise StateError("%s: cannot write the state document: %s" % (path, _problem(exc)))

    def _prepare_dir(self, directory):
        """Check the store, create ``directory`` if needed, and check again: a state directory that was missing
        at the first check is checked once it exists (someone else may have created it in between)."""
        self._verify()
        self._ensure_dir(directory)
        self._verify()

    def _ensure_dir(self, directory):
        """Create ``directory`` (and missing parents) with mode 0700; existing ones are left as they are."""
        missing = []
        current = os.path.abspath(directory)
        while not os.path.isdir(current):
            missing.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for path in reversed(missing):
            try:
                os.mkdir(path, DIR_MODE)
            except OSError as exc:
                if exc.errno == errno.EEXIST and os.path.isdir(path):
                    continue
                raise StateError("%s: cannot create the state directory: %s" % (path, _problem(exc)))
            try:
                os.chmod(path, DIR_MODE)
            except OSError as exc:
                raise StateError("%s: cannot set mode 0700 on the state directory: %s" % (path, _problem(exc)))

    # ------------------------------------------------------------------ who may write the store

    def _verify(self):
        """Refuse (:class:`UnsafeStateError`) a store other users could tamper with (``_state_safety.verify_store``).

        Done once per store, on first use; while the state directory does not exist, again on every use.
        """
        if not self._verified:
            self._verified = verify_store(self.state_dir,
                                          ((self.apps_dir, "the directory of the app documents"),
                                           (self.locks_dir, "the directory of the lock files")))

    # ------------------------------------------------------------------ locks

    def lock(self, name, timeout=DEFAULT_LOCK_TIMEOUT):
        """Context manager holding the exclusive lock of app ``name``.

        Polls every 50 ms; after ``timeout`` seconds (None: wait forever) raises StateError.
        """
        return self._lock(self.lock_path(name), "app %s" % name, timeout)

    def lock_global(self, timeout=DEFAULT_LOCK_TIMEOUT):
        """Context manager holding the exclusive lock of the global document."""
        path = os.path.join(self.locks_dir, _GLOBAL_LOCK_NAME + ".lock")
        return self._lock(path, "the global properties", timeout)

    @contextlib.contextmanager
    def _lock(self, path, what, timeout):
        self._prepare_dir(self.locks_dir)
        lock = _files.FileLock(path, FILE_MODE)
        try:
            lock.acquire(timeout)
        except _files.LockError as exc:
            if exc.step == "open":
                raise StateError("%s: cannot open the lock file: %s" % (path, _problem(exc.error)))
            if exc.step == "lock":
                raise StateError("%s: cannot lock: %s" % (path, _problem(exc.error)))
            raise StateError("timed out after %s s waiting for the lock on %s (%s; held by another run?)"
                             % (_seconds(timeout), what, path))
        try:
            yield
        finally:
            lock.release()


def _seconds(value):
    if isinstance(value, float) and not value.is_integer():
        return "%g" % value
    return "%d" % value


def file_mode(path):
    """The permission bits of ``path`` (a helper for reports and tests)."""
    return stat.S_IMODE(os.stat(path).st_mode)
