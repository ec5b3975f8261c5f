# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx the collection drives (module_utils/_nginx.py): files written under a lock, nginx -t, restore, one reload."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import stat
import threading
import time

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config


def test_first_error_line():
    output = ('nginx: [warn] conflicting server name "x" on 0.0.0.0:80, ignored\n'
              'nginx: [emerg] unknown directive "bogus" in /etc/nginx/dokku-ps/a.conf:3\n'
              'nginx: configuration file /etc/nginx/nginx.conf test failed\n')
    assert nginx.first_error_line(output) == '[emerg] unknown directive "bogus" in /etc/nginx/dokku-ps/a.conf:3'
    logged = '2026/12/04 12:38:51 [emerg] 10396#10396: host not found in upstream "x" in /p/a.conf:4\n'
    assert nginx.first_error_line(logged) == '[emerg] host not found in upstream "x" in /p/a.conf:4'
    assert nginx.first_error_line('\n\nsomething odd\n') == 'something odd'
    assert nginx.first_error_line('') == 'no output'


class FakeNginx:
    """Records every argv; ``-t`` fails while a config file holds ``bogus``; checks the lock is held."""

    def __init__(self, include_dir, fail_reload=False):
        self.include_dir = include_dir
        self.calls = []
        self.fail_reload = fail_reload
        self.lock_held = []

    def _lock_is_held(self):
        fd = os.open(os.path.join(self.include_dir, nginx.LOCK_FILE), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError) as exc:
            return exc.errno in (errno.EAGAIN, errno.EACCES)
        finally:
            os.close(fd)
        return False

    def __call__(self, argv):
        self.calls.append(list(argv))
        self.lock_held.append(self._lock_is_held())
        if argv[-1] == '-t':
            for name in sorted(os.listdir(self.include_dir)):
                if name.endswith('.conf') and not name.startswith('.'):
                    with open(os.path.join(self.include_dir, name)) as handle:
                        for number, line in enumerate(handle, 1):
                            if 'bogus' in line:
                                return 1, '', ('nginx: [emerg] unknown directive "bogus" in %s:%d\n'
                                               'nginx: configuration file /x/nginx.conf test failed\n'
                                               % (os.path.join(self.include_dir, name), number))
            return 0, '', 'nginx: the configuration file /x/nginx.conf syntax is ok\n'
        if argv[-2:] == ['-s', 'reload']:
            return (1, '', 'nginx: [error] invalid PID number "" in "/run/nginx.pid"\n') if self.fail_reload else (0, '', '')
        return 2, '', 'unexpected call'

    def reloads(self):
        return sum(1 for call in self.calls if call[-2:] == ['-s', 'reload'])


@pytest.fixture
def nginx_env(tmp_path):
    include = tmp_path / 'dokku-ps'
    include.mkdir()
    pid_file = tmp_path / 'nginx.pid'
    pid_file.write_text('4242\n')
    fake = FakeNginx(str(include))
    driver = nginx.Nginx(include_dir=str(include), binary='/usr/sbin/nginx', conf='/x/nginx.conf',
                         pid_file=str(pid_file), prefix='/x', run=fake)
    return driver, fake, include, pid_file


def listing(include):
    """{name: (bytes, inode, mtime_ns, mode)} of the include dir, the lock file excepted."""
    result = {}
    for name in sorted(os.listdir(str(include))):
        if name == nginx.LOCK_FILE:
            continue
        info = os.stat(os.path.join(str(include), name))
        with open(os.path.join(str(include), name), 'rb') as handle:
            result[name] = (handle.read(), info.st_ino, info.st_mtime_ns, stat.S_IMODE(info.st_mode))
    return result


def test_apply_writes_tests_and_reloads_once(nginx_env):
    driver, fake, include, _pid = nginx_env
    result = driver.apply({'a': 'A1\n', 'b': 'B1\n', 'c': None})
    assert result == nginx.ApplyResult(True, ['a', 'b'], True)
    assert {name: entry[0] for name, entry in listing(include).items()} == {'a.conf': b'A1\n', 'b.conf': b'B1\n'}
    assert all(entry[3] == 0o644 for entry in listing(include).values())
    assert fake.calls == [['/usr/sbin/nginx', '-p', '/x', '-c', '/x/nginx.conf', '-t'],
                          ['/usr/sbin/nginx', '-p', '/x', '-c', '/x/nginx.conf', '-s', 'reload']]
    assert fake.lock_held == [True, True]  # test and reload under the lock: no other run's untested file goes live
    assert driver.read('a') == 'A1\n' and driver.read('c') is None
    assert driver.apps() == ['a', 'b']


def test_apply_unchanged_writes_nothing_and_does_not_reload(nginx_env):
    driver, fake, include, _pid = nginx_env
    driver.apply({'a': 'A1\n', 'b': 'B1\n'})
    before, calls = listing(include), len(fake.calls)
    time.sleep(0.01)
    assert driver.apply({'a': 'A1\n', 'b': 'B1\n', 'gone': None}) == nginx.ApplyResult(False, [], False)
    assert listing(include) == before  # same bytes, same inodes, same mtimes
    assert len(fake.calls) == calls  # no nginx -t, no reload


def test_apply_only_the_changed_file_is_replaced(nginx_env):
    driver, _fake, include, _pid = nginx_env
    driver.apply({'a': 'A1\n', 'b': 'B1\n'})
    before = listing(include)
    assert driver.apply({'a': 'A1\n', 'b': 'B2\n'}).apps == ['b']
    after = listing(include)
    assert after['a.conf'] == before['a.conf']
    assert after['b.conf'][0] == b'B2\n' and after['b.conf'][1] != before['b.conf'][1]


def test_failed_test_restores_every_file_byte_for_byte(nginx_env):
    driver, fake, include, _pid = nginx_env
    driver.apply({'a': 'A1\n', 'b': 'B1\n'})
    before, reloads = listing(include), fake.reloads()
    with pytest.raises(proxy_config.ProxyError) as failed:
        driver.apply({'a': 'A2\n', 'b': 'bogus;\n', 'c': 'C1\n'})
    message = str(failed.value)
    assert message.startswith('nginx -t failed with the new proxy config of app(s) a, b, c; the previous config '
                              'is kept: [emerg] unknown directive "bogus" in ')
    assert '\n' not in message
    # the same files (same inode, bytes, mtime), c not created, no backup or temporary file left, no reload
    assert listing(include) == before
    assert fake.reloads() == reloads


def test_failed_test_restores_a_removed_file(nginx_env):
    driver, _fake, include, _pid = nginx_env
    driver.apply({'a': 'A1\n', 'b': 'bogus-but-not-tested-yet\n'.replace('bogus', 'fine')})
    before = listing(include)
    with open(os.path.join(str(include), 'z.conf'), 'w') as handle:  # a broken file of someone else
        handle.write('bogus;\n')
    with pytest.raises(proxy_config.ProxyError, match=r'app\(s\) a; .*z\.conf:1'):
        driver.apply({'a': None})
    after = listing(include)
    del after['z.conf']
    assert after == before


def test_reload_skipped_when_nginx_does_not_run(nginx_env):
    driver, fake, _include, pid_file = nginx_env
    pid_file.unlink()
    assert driver.apply({'a': 'A1\n'}) == nginx.ApplyResult(True, ['a'], False)
    assert fake.reloads() == 0
    driver.pid_file = None  # unknown pid file: always reload
    assert driver.apply({'a': 'A2\n'}).reloaded


def test_reload_failure_names_nginx_error_and_keeps_the_valid_files(nginx_env):
    driver, fake, _include, _pid = nginx_env
    fake.fail_reload = True
    with pytest.raises(proxy_config.ProxyError, match=r'^nginx -s reload failed \(the new config is valid and in place\): '
                       r'\[error\] invalid PID'):
        driver.apply({'a': 'A1\n'})
    assert driver.read('a') == 'A1\n'


def test_plan_predicts_without_writing(nginx_env):
    driver, fake, include, _pid = nginx_env
    driver.apply({'a': 'A1\n', 'b': 'B1\n'})
    before, calls = listing(include), len(fake.calls)
    assert driver.plan({'a': 'A1\n', 'b': 'B2\n', 'c': 'C1\n', 'd': None, 'a2': None}) == {
        'b': {'action': 'update', 'before': 'B1\n', 'after': 'B2\n'},
        'c': {'action': 'create', 'before': None, 'after': 'C1\n'},
    }
    assert driver.plan({'a': None}) == {'a': {'action': 'remove', 'before': 'A1\n', 'after': None}}
    assert listing(include) == before and len(fake.calls) == calls


def test_apply_refuses_bad_names_and_a_missing_include_dir(nginx_env, tmp_path):
    driver, fake, _include, _pid = nginx_env
    with pytest.raises(ValidationError, match='^app: '):
        driver.apply({'../etc/passwd': 'x'})
    with pytest.raises(ValidationError, match='^app: '):
        driver.read('a/b')
    missing = nginx.Nginx(include_dir=str(tmp_path / 'none'), run=fake)
    with pytest.raises(proxy_config.ProxyError, match='include directory .* does not exist; the role dokku_ps.docker.proxy'):
        missing.apply({'a': 'A1\n'})
    assert missing.apps() == []


def test_lock_is_exclusive_and_times_out(nginx_env):
    driver, _fake, include, _pid = nginx_env
    fd = os.open(os.path.join(str(include), nginx.LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        driver.lock_timeout = 0.2
        with pytest.raises(proxy_config.ProxyError, match='another run holds the proxy lock .* for more than 0 s'):
            driver.apply({'a': 'A1\n'})
        assert driver.read('a') is None
    finally:
        os.close(fd)


def test_concurrent_applies_never_interleave(tmp_path):
    """Two drivers (two open file descriptions, like two processes) apply at once: the nginx -t of one never
    runs while the other is between its writes and its test, and no change is lost."""
    include = tmp_path / 'dokku-ps'
    include.mkdir()
    active = []
    overlaps = []

    def slow_runner(argv):
        active.append(argv)
        if len(active) > 1:
            overlaps.append(list(active))
        time.sleep(0.02)
        active.remove(argv)
        return 0, '', ''

    drivers = [nginx.Nginx(include_dir=str(include), run=slow_runner, pid_file=None) for _index in range(2)]
    errors = []

    def work(driver, app):
        try:
            for round_ in range(10):
                driver.apply({app: '%s %d\n' % (app, round_)})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(driver, app)) for driver, app in zip(drivers, ('a', 'b'))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert not [overlap for overlap in overlaps if all(call[-1] == '-t' for call in overlap)]
    assert drivers[0].read('a') == 'a 9\n' and drivers[0].read('b') == 'b 9\n'
