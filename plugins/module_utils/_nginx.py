# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx the collection drives: files of its include directory under a lock, nginx -t, restore, one reload.

Files of the include directory are named by app: ``<app>.conf`` is its config (0644); ``<app>.crt`` and ``<app>.key``
are kept for its certificate and private key (a key is written 0600). Every file is written with exactly its mode and
goes live only after nginx -t of the whole configuration passes with it; a failed test restores every file it
changed; one reload per change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import contextlib
import errno
import os
import re
import stat
import subprocess

from ansible_collections.dokku_ps.docker.plugins.module_utils import _files
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import APP_NAME_RULE, is_app_name, validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_config import ProxyError


DEFAULT_BINARY = '/usr/sbin/nginx'


DEFAULT_CONF = '/etc/nginx/nginx.conf'


DEFAULT_INCLUDE_DIR = '/etc/nginx/dokku-ps'


DEFAULT_PID_FILE = '/run/nginx.pid'


LOCK_FILE = '.lock'


CONF_SUFFIX = '.conf'


CERT_SUFFIX = '.crt'


KEY_SUFFIX = '.key'


# the only files the collection keeps in the include directory: <app> followed by one of these
SUFFIXES = (CONF_SUFFIX, CERT_SUFFIX, KEY_SUFFIX)


CONF_MODE = 0o644


# a private key: read by nginx's master (root) only
KEY_MODE = 0o600


LOCK_MODE = 0o644


NginxFile = collections.namedtuple('NginxFile', 'text mode')


NginxFile.__doc__ = ('One file of the include directory as it should be: text (written as UTF-8) and mode (its exact '
                     'permission bits, 0644 for a config, 0600 for a private key).')


# The one config of the include directory that is no app's: the default server of the https ports the collection
# serves, which refuses TLS handshakes for names no app serves (not an app name: app names start with a letter or
# a digit).
CATCH_ALL = '_catch-all'
CATCH_ALL_CONF = CATCH_ALL + CONF_SUFFIX


def conf_name(app):
    """The file name of the app's config in the include directory: ``<app>.conf``."""
    return validate_app_name(app, 'app') + CONF_SUFFIX


def split_name(name):
    """``(app, suffix)`` of a file name of the include directory (``'shop.conf'`` -> ``('shop', '.conf')``; the
    catch-all's: ``(CATCH_ALL, '.conf')``); a ValidationError unless it is an app name followed by one of SUFFIXES."""
    if name == CATCH_ALL_CONF:
        return CATCH_ALL, CONF_SUFFIX
    if isinstance(name, str):
        for suffix in SUFFIXES:
            if name.endswith(suffix) and is_app_name(name[:-len(suffix)]):
                return name[:-len(suffix)], suffix
    raise ValidationError('nginx file', '%r must be an app name followed by %s, the app name %s'
                          % (name, ' or '.join(SUFFIXES), APP_NAME_RULE))


def certificate_names(app):
    """The file names of an app's certificate in the include directory: ``(<app>.crt, <app>.key)``."""
    name = validate_app_name(app, 'app')
    return name + CERT_SUFFIX, name + KEY_SUFFIX


def certificate_files(app, chain, key):
    """The files of an app's certificate for :meth:`Nginx.apply`: ``<app>.crt`` (the certificate and its chain,
    0644) and ``<app>.key`` (its private key, 0600); both None to remove them."""
    crt, private = certificate_names(app)
    return {crt: None if chain is None else NginxFile(chain, CONF_MODE),
            private: None if key is None else NginxFile(key, KEY_MODE)}


def conf_files(configs):
    """``{app: config text or None}`` -> the files of :meth:`Nginx.apply`: ``{<app>.conf: NginxFile(text, 0644) or
    None}``."""
    return dict((conf_name(app), None if text is None else NginxFile(text, CONF_MODE))
                for app, text in configs.items())


def run_command(argv, timeout=60):
    """Run ``argv`` (a list, never through a shell) -> ``(returncode, stdout, stderr)`` as texts."""
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                timeout=timeout, check=False)
    except OSError as exc:
        return 127, '', '%s: %s' % (argv[0], exc.strerror)
    except subprocess.TimeoutExpired:
        return 124, '', '%s did not finish within %d s' % (argv[0], timeout)
    return (result.returncode, result.stdout.decode('utf-8', 'replace'),
            result.stderr.decode('utf-8', 'replace'))


_LOG_PREFIX_RE = re.compile(r'^(nginx: )?([0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8} )?')


_LOG_PID_RE = re.compile(r'^(\[[a-z]+\]) [0-9]+#[0-9]+: ')


def first_error_line(output):
    """nginx's first [emerg]/[alert]/[crit]/[error] line of ``output`` (without time and pid), else its first
    non-empty line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if any(level in line for level in ('[emerg]', '[alert]', '[crit]', '[error]')):
            return _LOG_PID_RE.sub(r'\1 ', _LOG_PREFIX_RE.sub('', line))
    return lines[0] if lines else 'no output'


ApplyResult = collections.namedtuple('ApplyResult', 'changed apps reloaded')


ApplyResult.__doc__ = ('changed: a file was written or removed; apps: sorted names of the apps with a file that changed; '
                       'reloaded: nginx was told to reload.')


class Nginx:
    """One nginx that the collection drives: its binary, main config, the include directory the collection owns
    (``<app>.conf`` per app, and the app's ``.crt`` and ``.key`` when it has them), and its pid file.

    ``run`` runs an argv list and returns ``(returncode, stdout, stderr)`` (an Ansible module passes
    ``module.run_command``; default: :func:`run_command`). ``prefix`` is nginx's ``-p``; ``conf`` its ``-c``
    (None: nginx's compiled-in default). ``pid_file``: where the running nginx keeps its pid; when given and
    missing, nginx does not run and is not reloaded (the next start reads the files). None: always reload.
    """

    def __init__(self, include_dir=DEFAULT_INCLUDE_DIR, binary=DEFAULT_BINARY, conf=DEFAULT_CONF,
                 pid_file=DEFAULT_PID_FILE, prefix=None, run=None, lock_timeout=60.0):
        self.include_dir = include_dir
        self.binary = binary
        self.conf = conf
        self.pid_file = pid_file
        self.prefix = prefix
        self.run = run or run_command
        self.lock_timeout = lock_timeout

    # --- reading

    def path(self, name):
        """The path of the file ``name`` (``<app>.conf``, ``.crt`` or ``.key``) in the include directory."""
        split_name(name)
        return os.path.join(self.include_dir, name)

    def read(self, name):
        """The text of the file ``name`` (e.g. ``conf_name(app)``), or None when there is none."""
        current = self._current(name)
        return None if current is None else current[0].decode('utf-8', 'replace')

    def apps(self):
        """Sorted names of the apps that have a config file."""
        try:
            names = os.listdir(self.include_dir)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return []
            raise
        return sorted(name[:-len(CONF_SUFFIX)] for name in names
                      if name.endswith(CONF_SUFFIX) and not name.startswith('.') and name != CATCH_ALL_CONF)

    def plan(self, files):
        """What apply(files) would do, without writing: ``{name: {"action": create|update|remove, "before": text
        or None, "after": text or None, "before_mode": mode or None, "after_mode": mode or None}}`` for the files
        that would change, in content or in mode (check mode and diff)."""
        _check_files(files)
        result = {}
        for name in sorted(files):
            current = self._current(name)
            wanted = files[name]
            if wanted is None and current is None:
                continue
            if wanted is not None and current == (wanted.text.encode('utf-8'), wanted.mode):
                continue
            action = 'remove' if wanted is None else ('create' if current is None else 'update')
            result[name] = {'action': action,
                            'before': None if current is None else current[0].decode('utf-8', 'replace'),
                            'after': None if wanted is None else wanted.text,
                            'before_mode': None if current is None else current[1],
                            'after_mode': None if wanted is None else wanted.mode}
        return result

    # --- changing

    def apply(self, files):
        """Make the include directory hold ``files``: ``{file name: NginxFile(text, mode), or None to remove the
        file}``, file names as :func:`split_name` takes them (``conf_name(app)``, ``<app>.crt``, ``<app>.key``).

        Under an exclusive lock: unchanged files (same bytes, same mode) -> nothing written, no reload. Otherwise
        every changed file is replaced atomically with exactly its mode, ``nginx -t`` tests the whole
        configuration, and on failure every file is put back as it was (the same inode: byte-for-byte, same mtime
        and mode) and ProxyError names the apps and nginx's first error line; on success nginx is reloaded once.
        """
        _check_files(files)
        if not os.path.isdir(self.include_dir):
            raise ProxyError('nginx include directory %s does not exist; the role dokku_ps.docker.proxy creates it'
                             % self.include_dir)
        with self._lock():
            changes = self.plan(files)
            if not changes:
                return ApplyResult(False, [], False)
            apps = sorted(set(split_name(name)[0] for name in changes))
            backups = {}
            try:
                for name in sorted(changes):
                    self._replace(name, files[name], backups)
                returncode, out, err = self.run(self._argv('-t'))
                if returncode != 0:
                    raise ProxyError('nginx -t failed with the new proxy config of app(s) %s; the previous config is '
                                     'kept: %s' % (', '.join(apps), first_error_line(err + '\n' + out)))
            except BaseException:
                self._restore(backups)
                raise
            self._discard(backups)
            # still under the lock: another run's files, written but not yet tested, must not go live with ours
            reloaded = self.reload()
            return ApplyResult(True, apps, reloaded)

    def test(self):
        """Run ``nginx -t``; raise ProxyError with its first error line when it fails."""
        returncode, out, err = self.run(self._argv('-t'))
        if returncode != 0:
            raise ProxyError('nginx -t failed: %s' % first_error_line(err + '\n' + out))

    def running(self):
        """False when a pid file is configured and holds no pid (nginx is not running); True otherwise."""
        if self.pid_file is None:
            return True
        data = self._read_bytes(self.pid_file)
        return bool(data and data.strip())

    def reload(self):
        """``nginx -s reload`` with the same -p/-c (nginx reads its own pid file and checks the config again);
        skipped when nginx does not run. Returns whether a reload was sent."""
        if not self.running():
            return False
        returncode, out, err = self.run(self._argv('-s', 'reload'))
        if returncode != 0:
            raise ProxyError('nginx -s reload failed (the new config is valid and in place): %s'
                             % first_error_line(err + '\n' + out))
        return True

    # --- internals

    def _argv(self, *args):
        argv = [self.binary]
        if self.prefix:
            argv.extend(['-p', self.prefix])
        if self.conf:
            argv.extend(['-c', self.conf])
        argv.extend(args)
        return argv

    @staticmethod
    def _read_bytes(path):
        try:
            with open(path, 'rb') as handle:
                return handle.read()
        except IOError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise

    def _current(self, name):
        """``(bytes, mode)`` of the file ``name``, or None when there is none."""
        try:
            with open(self.path(name), 'rb') as handle:
                return handle.read(), stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        except IOError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise

    @contextlib.contextmanager
    def _lock(self):
        path = os.path.join(self.include_dir, LOCK_FILE)
        lock = _files.FileLock(path, LOCK_MODE)
        try:
            lock.acquire(self.lock_timeout)
        except _files.LockError as exc:
            if exc.error is not None:
                raise exc.error from None
            raise ProxyError('another run holds the proxy lock %s for more than %d s' % (path, self.lock_timeout))
        try:
            yield
        finally:
            lock.release()

    def _replace(self, name, wanted, backups):
        """Put ``wanted`` (an NginxFile, or None: no file) in place of the file ``name``, after recording in
        ``backups`` how to put the old one back: ``(path, backup path or None)``, the backup being a hard link to
        the old file (same inode: bytes, mtime and mode)."""
        path = self.path(name)
        backup = None
        if os.path.exists(path):
            backup = '%s.%d.bak' % (os.path.join(self.include_dir, '.' + name), os.getpid())
            if os.path.lexists(backup):
                os.unlink(backup)
            os.link(path, backup)
        backups[name] = (path, backup)
        if wanted is None:
            os.unlink(path)
            _files.fsync_dir(self.include_dir)
        else:
            _files.write_atomic(path, wanted.text.encode('utf-8'), wanted.mode)

    def _restore(self, backups):
        for path, backup in backups.values():
            if backup:
                os.rename(backup, path)
                if os.path.lexists(backup):
                    # the new file never took the old one's place: both names were links to the same inode, and
                    # rename(2) then does nothing
                    os.unlink(backup)
            elif os.path.lexists(path):
                os.unlink(path)
        if backups:
            _files.fsync_dir(self.include_dir)

    def _discard(self, backups):
        for _path, backup in backups.values():
            if backup:
                os.unlink(backup)


def _check_files(files):
    """Refuse (ValidationError) a file name that is not an app name followed by a known suffix; a value that is
    neither an NginxFile of a text and permission bits nor None is a programming error (TypeError)."""
    for name, wanted in files.items():
        split_name(name)
        if wanted is None:
            continue
        if not (isinstance(wanted, NginxFile) and isinstance(wanted.text, str) and isinstance(wanted.mode, int)
                and not isinstance(wanted.mode, bool) and 0 <= wanted.mode <= 0o777):
            raise TypeError('%s: expected NginxFile(text, mode between 0 and 0o777) or None, not a %s'
                            % (name, type(wanted).__name__))
