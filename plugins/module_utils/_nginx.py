# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx the collection drives: config files written under a lock, tested, restored, reloaded once.

A file goes live only after nginx -t of the whole configuration passes with it; a failed test restores every
file it changed; one reload per change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import contextlib
import errno
import fcntl
import os
import re
import subprocess
import tempfile
import time

from ansible_collections.dokku_ps.docker.plugins.module_utils._names import validate_app_name
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_config import ProxyError


DEFAULT_BINARY = '/usr/sbin/nginx'


DEFAULT_CONF = '/etc/nginx/nginx.conf'


DEFAULT_INCLUDE_DIR = '/etc/nginx/dokku-ps'


DEFAULT_PID_FILE = '/run/nginx.pid'


LOCK_FILE = '.lock'


CONF_SUFFIX = '.conf'


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


ApplyResult.__doc__ = ('changed: a file was written or removed; apps: sorted names of the apps whose file changed; '
                       'reloaded: nginx was told to reload.')


class Nginx:
    """One nginx that the collection drives: its binary, main config, the include directory the collection owns
    (one ``<app>.conf`` per app), and its pid file.

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

    def path(self, app):
        return os.path.join(self.include_dir, validate_app_name(app, 'app') + CONF_SUFFIX)

    def read(self, app):
        """The text of the app's current config file, or None when it has none."""
        data = self._read_bytes(self.path(app))
        return None if data is None else data.decode('utf-8', 'replace')

    def apps(self):
        """Sorted names of the apps that have a config file."""
        try:
            names = os.listdir(self.include_dir)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return []
            raise
        return sorted(name[:-len(CONF_SUFFIX)] for name in names
                      if name.endswith(CONF_SUFFIX) and not name.startswith('.'))

    def plan(self, files):
        """What apply(files) would do, without writing: ``{app: {"action": create|update|remove, "before": text
        or None, "after": text or None}}`` for the apps whose file would change (check mode and diff)."""
        result = {}
        for app in sorted(files):
            before = self._read_bytes(self.path(app))
            after = files[app]
            after_bytes = None if after is None else after.encode('utf-8')
            if before == after_bytes:
                continue
            action = 'remove' if after is None else ('create' if before is None else 'update')
            result[app] = {'action': action, 'before': None if before is None else before.decode('utf-8', 'replace'),
                           'after': after}
        return result

    # --- changing

    def apply(self, files):
        """Make the include directory hold ``files`` ({app: text, or None to remove the app's file}).

        Under an exclusive lock: unchanged files -> nothing written, no reload. Otherwise every changed file is
        replaced atomically (0644), ``nginx -t`` tests the whole configuration, and on failure every file is put
        back as it was (the same inode: byte-for-byte, same mtime) and ProxyError names the apps and nginx's
        first error line; on success nginx is reloaded once.
        """
        for app in files:
            validate_app_name(app, 'app')
        if not os.path.isdir(self.include_dir):
            raise ProxyError('nginx include directory %s does not exist; the role dokku_ps.docker.proxy creates it'
                             % self.include_dir)
        with self._lock():
            changes = self.plan(files)
            if not changes:
                return ApplyResult(False, [], False)
            apps = sorted(changes)
            backups = {}
            try:
                for app in apps:
                    backups[app] = self._replace(app, changes[app]['after'])
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

    @contextlib.contextmanager
    def _lock(self):
        path = os.path.join(self.include_dir, LOCK_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except (IOError, OSError) as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise ProxyError('another run holds the proxy lock %s for more than %d s'
                                         % (path, self.lock_timeout))
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _fsync_dir(self):
        fd = os.open(self.include_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _replace(self, app, text):
        """Put ``text`` (None: nothing) in place of the app's file; return the backup to restore it from:
        ``(path, backup path or None)``, the backup being a hard link to the old file."""
        path = self.path(app)
        backup = None
        if os.path.exists(path):
            backup = '%s.%d.bak' % (os.path.join(self.include_dir, '.' + app + CONF_SUFFIX), os.getpid())
            if os.path.lexists(backup):
                os.unlink(backup)
            os.link(path, backup)
        try:
            if text is None:
                os.unlink(path)
            else:
                fd, temp = tempfile.mkstemp(prefix='.%s.' % app, suffix='.tmp', dir=self.include_dir)
                try:
                    with os.fdopen(fd, 'wb') as handle:
                        handle.write(text.encode('utf-8'))
                        handle.flush()
                        os.fsync(handle.fileno())
                    os.chmod(temp, 0o644)
                    os.rename(temp, path)
                except BaseException:
                    if os.path.lexists(temp):
                        os.unlink(temp)
                    raise
            self._fsync_dir()
        except BaseException:
            if backup:
                os.unlink(backup)
            raise
        return path, backup

    def _restore(self, backups):
        for path, backup in backups.values():
            if backup:
                os.rename(backup, path)
            elif os.path.lexists(path):
                os.unlink(path)
        if backups:
            self._fsync_dir()

    def _discard(self, backups):
        for _path, backup in backups.values():
            if backup:
                os.unlink(backup)
