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
from ansible_collections.dokku_ps.docker.plugins.module_utils import _files as files
from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config
from ansible_collections.dokku_ps.docker.plugins.module_utils._nginx import NginxFile
from tests.unit.helpers import refused


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


def conf(text):
    """A config file as ProxyRun writes it."""
    return NginxFile(text, 0o644)


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
    result = driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B1\n'), 'c.conf': None})
    assert result == nginx.ApplyResult(True, ['a', 'b'], True)
    assert {name: entry[0] for name, entry in listing(include).items()} == {'a.conf': b'A1\n', 'b.conf': b'B1\n'}
    assert all(entry[3] == 0o644 for entry in listing(include).values())
    assert fake.calls == [['/usr/sbin/nginx', '-p', '/x', '-c', '/x/nginx.conf', '-t'],
                          ['/usr/sbin/nginx', '-p', '/x', '-c', '/x/nginx.conf', '-s', 'reload']]
    assert fake.lock_held == [True, True]  # test and reload under the lock: no other run's untested file goes live
    assert driver.read('a.conf') == 'A1\n' and driver.read('c.conf') is None
    assert driver.apps() == ['a', 'b']


def test_apply_unchanged_writes_nothing_and_does_not_reload(nginx_env):
    driver, fake, include, _pid = nginx_env
    driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B1\n')})
    before, calls = listing(include), len(fake.calls)
    time.sleep(0.01)
    assert driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B1\n'), 'gone.conf': None}) == nginx.ApplyResult(
        False, [], False)
    assert listing(include) == before  # same bytes, same inodes, same mtimes
    assert len(fake.calls) == calls  # no nginx -t, no reload


def test_apply_only_the_changed_file_is_replaced(nginx_env):
    driver, _fake, include, _pid = nginx_env
    driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B1\n')})
    before = listing(include)
    assert driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B2\n')}).apps == ['b']
    after = listing(include)
    assert after['a.conf'] == before['a.conf']
    assert after['b.conf'][0] == b'B2\n' and after['b.conf'][1] != before['b.conf'][1]


def test_failed_test_restores_every_file_byte_for_byte(nginx_env):
    driver, fake, include, _pid = nginx_env
    driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B1\n')})
    before, reloads = listing(include), fake.reloads()
    with pytest.raises(proxy_config.ProxyError) as failed:
        driver.apply({'a.conf': conf('A2\n'), 'b.conf': conf('bogus;\n'), 'c.conf': conf('C1\n')})
    message = str(failed.value)
    assert message.startswith('nginx -t failed with the new proxy config of app(s) a, b, c; the previous config '
                              'is kept: [emerg] unknown directive "bogus" in ')
    assert '\n' not in message
    # the same files (same inode, bytes, mtime), c not created, no backup or temporary file left, no reload
    assert listing(include) == before
    assert fake.reloads() == reloads


def test_failed_test_restores_a_removed_file(nginx_env):
    driver, _fake, include, _pid = nginx_env
    driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('bogus-but-not-tested-yet\n'.replace('bogus', 'fine'))})
    before = listing(include)
    with open(os.path.join(str(include), 'z.conf'), 'w') as handle:  # a broken file of someone else
        handle.write('bogus;\n')
    with pytest.raises(proxy_config.ProxyError, match=r'app\(s\) a; .*z\.conf:1'):
        driver.apply({'a.conf': None})
    after = listing(include)
    del after['z.conf']
    assert after == before


def test_reload_skipped_when_nginx_does_not_run(nginx_env):
    driver, fake, _include, pid_file = nginx_env
    pid_file.unlink()
    assert driver.apply({'a.conf': conf('A1\n')}) == nginx.ApplyResult(True, ['a'], False)
    assert fake.reloads() == 0
    driver.pid_file = None  # unknown pid file: always reload
    assert driver.apply({'a.conf': conf('A2\n')}).reloaded


def test_reload_failure_names_nginx_error_and_keeps_the_valid_files(nginx_env):
    driver, fake, _include, _pid = nginx_env
    fake.fail_reload = True
    with pytest.raises(proxy_config.ProxyError, match=r'^nginx -s reload failed \(the new config is valid and in place\): '
                       r'\[error\] invalid PID'):
        driver.apply({'a.conf': conf('A1\n')})
    assert driver.read('a.conf') == 'A1\n'


def test_plan_predicts_without_writing(nginx_env):
    driver, fake, include, _pid = nginx_env
    driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B1\n')})
    before, calls = listing(include), len(fake.calls)
    assert driver.plan({'a.conf': conf('A1\n'), 'b.conf': conf('B2\n'), 'c.conf': conf('C1\n'), 'd.conf': None,
                        'a2.conf': None}) == {
        'b.conf': {'action': 'update', 'before': 'B1\n', 'after': 'B2\n', 'before_mode': 0o644, 'after_mode': 0o644},
        'c.conf': {'action': 'create', 'before': None, 'after': 'C1\n', 'before_mode': None, 'after_mode': 0o644},
    }
    assert driver.plan({'a.conf': None}) == {'a.conf': {'action': 'remove', 'before': 'A1\n', 'after': None,
                                                        'before_mode': 0o644, 'after_mode': None}}
    # the same text with another mode is a change too
    assert driver.plan({'a.conf': NginxFile('A1\n', 0o600)}) == {
        'a.conf': {'action': 'update', 'before': 'A1\n', 'after': 'A1\n', 'before_mode': 0o644, 'after_mode': 0o600}}
    assert listing(include) == before and len(fake.calls) == calls


def test_apply_refuses_bad_names_and_a_missing_include_dir(nginx_env, tmp_path):
    driver, fake, _include, _pid = nginx_env
    with pytest.raises(ValidationError, match='^nginx file: '):
        driver.apply({'../etc/passwd': conf('x')})
    with pytest.raises(ValidationError, match='^nginx file: '):
        driver.read('a/b')
    with pytest.raises(ValidationError, match='^app: '):
        nginx.conf_name('a/b')
    missing = nginx.Nginx(include_dir=str(tmp_path / 'none'), run=fake)
    with pytest.raises(proxy_config.ProxyError, match='include directory .* does not exist; the role dokku_ps.docker.proxy'):
        missing.apply({'a.conf': conf('A1\n')})
    assert missing.apps() == []


def test_lock_is_exclusive_and_times_out(nginx_env):
    driver, _fake, include, _pid = nginx_env
    fd = os.open(os.path.join(str(include), nginx.LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        driver.lock_timeout = 0.2
        with pytest.raises(proxy_config.ProxyError, match='another run holds the proxy lock .* for more than 0 s'):
            driver.apply({'a.conf': conf('A1\n')})
        assert driver.read('a.conf') is None
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
                driver.apply({nginx.conf_name(app): conf('%s %d\n' % (app, round_))})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(driver, app)) for driver, app in zip(drivers, ('a', 'b'))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert not [overlap for overlap in overlaps if all(call[-1] == '-t' for call in overlap)]
    assert drivers[0].read('a.conf') == 'a 9\n' and drivers[0].read('b.conf') == 'b 9\n'


# ---------------------------------------------------------------- files with their modes

def test_names_are_an_app_and_a_known_suffix():
    assert nginx.conf_name('shop') == 'shop.conf'
    assert nginx.split_name('shop.conf') == ('shop', '.conf')
    assert nginx.split_name('shop.key') == ('shop', '.key') and nginx.split_name('shop.crt') == ('shop', '.crt')
    assert nginx.split_name('a.key.conf') == ('a.key', '.conf'), 'app names may hold dots: the last suffix counts'
    for bad in ('shop', 'shop.txt', 'shop.pem', '.conf', '.shop.conf', 'Shop.conf', 'a/b.conf', '../a.conf',
                'a.conf/', 'x' * 64 + '.conf', 'shop.conf\n', '', None, b'shop.conf'):
        message = refused(nginx.split_name, bad)
        assert message.startswith("nginx file: %r must be an app name followed by .conf or .crt or .key, "
                                  "the app name must be at most 63 characters" % (bad,)), message
    assert nginx.conf_files({'a': 'A\n', 'b': None}) == {'a.conf': NginxFile('A\n', 0o644), 'b.conf': None}


def test_bad_names_and_values_are_refused_before_anything_is_written(nginx_env):
    driver, fake, include, _pid = nginx_env
    for name in ('shop', 'shop.pem', '../shop.conf', '.lock'):
        with pytest.raises(ValidationError, match='^nginx file: '):
            driver.apply({'a.conf': conf('A1\n'), name: conf('x')})
        with pytest.raises(ValidationError, match='^nginx file: '):
            driver.plan({name: None})
        with pytest.raises(ValidationError, match='^nginx file: '):
            driver.path(name)
    for value in ('A1\n', NginxFile(b'A1\n', 0o644), NginxFile('A1\n', '0644'), NginxFile('A1\n', 0o4755),
                  NginxFile('A1\n', -1), NginxFile('A1\n', True), ('A1\n', 0o644)):
        with pytest.raises(TypeError, match=r'^a\.conf: expected NginxFile'):
            driver.apply({'a.conf': value})
    assert listing(include) == {} and fake.calls == []


def test_a_private_key_is_written_0600_and_restored_with_its_mode(nginx_env, monkeypatch):
    driver, fake, include, _pid = nginx_env
    old_umask = os.umask(0)
    try:
        result = driver.apply({'a.conf': conf('A1\n'), 'a.crt': NginxFile('CRT1\n', 0o644),
                               'a.key': NginxFile('KEY1\n', 0o640)})
    finally:
        os.umask(old_umask)
    assert result == nginx.ApplyResult(True, ['a'], True), 'one app, whatever the number of its files'
    assert {name: entry[3] for name, entry in listing(include).items()} == {'a.conf': 0o644, 'a.crt': 0o644,
                                                                            'a.key': 0o640}
    assert driver.apps() == ['a'] and driver.read('a.key') == 'KEY1\n'
    before, reloads = listing(include), fake.reloads()
    temp_modes = {}
    real_replace = os.replace

    def recording(source, target):
        temp_modes[os.path.basename(target)] = stat.S_IMODE(os.lstat(source).st_mode)
        return real_replace(source, target)

    monkeypatch.setattr(os, 'replace', recording)
    with pytest.raises(proxy_config.ProxyError) as failed:
        driver.apply({'a.conf': conf('bogus;\n'), 'a.crt': NginxFile('CRT2\n', 0o644),
                      'a.key': NginxFile('KEY2\n', 0o600)})
    assert str(failed.value).startswith('nginx -t failed with the new proxy config of app(s) a; the previous config '
                                        'is kept: [emerg] unknown directive "bogus" in ')
    assert temp_modes == {'a.conf': 0o644, 'a.crt': 0o644, 'a.key': 0o600}, 'never written with a wider mode'
    # every file as it was: same inode, bytes, mtime and mode (the key 0640 again); no backup or temporary file
    assert listing(include) == before
    assert fake.reloads() == reloads


def test_mixed_modes_in_one_apply_are_exact_whatever_the_umask(nginx_env):
    driver, _fake, include, _pid = nginx_env
    old_umask = os.umask(0o077)
    try:
        result = driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B1\n'), 'b.key': NginxFile('BK\n', 0o600),
                               'c.crt': NginxFile('CC\n', 0o640)})
    finally:
        os.umask(old_umask)
    assert result == nginx.ApplyResult(True, ['a', 'b', 'c'], True)
    assert {name: (entry[0], entry[3]) for name, entry in listing(include).items()} == {
        'a.conf': (b'A1\n', 0o644), 'b.conf': (b'B1\n', 0o644), 'b.key': (b'BK\n', 0o600), 'c.crt': (b'CC\n', 0o640)}
    assert driver.apps() == ['a', 'b'], 'apps are the ones with a config'


def test_a_rewrite_with_another_mode_ends_with_the_new_mode(nginx_env):
    driver, fake, include, _pid = nginx_env
    driver.apply({'a.key': NginxFile('K\n', 0o644)})
    before = listing(include)['a.key']
    assert driver.apply({'a.key': NginxFile('K\n', 0o600)}) == nginx.ApplyResult(True, ['a'], True)
    after = listing(include)['a.key']
    assert after[0] == b'K\n' and after[3] == 0o600 and after[1] != before[1]
    calls = len(fake.calls)
    assert driver.apply({'a.key': NginxFile('K\n', 0o600)}) == nginx.ApplyResult(False, [], False)
    assert len(fake.calls) == calls


@pytest.mark.parametrize('failing_call', [1, 2])
def test_a_write_that_fails_midway_restores_the_files_already_written(nginx_env, monkeypatch, failing_call):
    """The second file's write fails before its rename (1: its temporary file) or after it (2: the fsync of the
    directory): the first file and the second are as they were, nginx is not asked anything."""
    driver, fake, include, _pid = nginx_env
    driver.apply({'a.conf': conf('A1\n'), 'b.conf': conf('B1\n')})
    before, calls = listing(include), len(fake.calls)
    real_fsync_dir, real_create = files.fsync_dir, files._create_temp
    counts = {'fsync': 0, 'create': 0}

    def fsync_dir(path):
        counts['fsync'] += 1
        if failing_call == 2 and counts['fsync'] == 2:
            raise OSError(5, 'Input/output error')
        return real_fsync_dir(path)

    def create(directory, name, mode):
        counts['create'] += 1
        if failing_call == 1 and counts['create'] == 2:
            raise files.TempFileError(28, 'No space left on device', os.path.join(directory, name))
        return real_create(directory, name, mode)

    monkeypatch.setattr(files, 'fsync_dir', fsync_dir)
    monkeypatch.setattr(files, '_create_temp', create)
    with pytest.raises(OSError) as info:
        driver.apply({'a.conf': conf('A2\n'), 'b.conf': conf('B2\n')})
    assert info.value.errno == (28 if failing_call == 1 else 5)
    assert listing(include) == before
    assert len(fake.calls) == calls


def test_a_lock_file_that_cannot_be_opened_raises_the_os_error_as_it_is(nginx_env):
    driver, _fake, include, _pid = nginx_env
    os.mkdir(os.path.join(str(include), nginx.LOCK_FILE))
    with pytest.raises(IsADirectoryError):
        driver.apply({'a.conf': conf('A1\n')})


def test_the_lock_file_is_0644(nginx_env):
    driver, _fake, include, _pid = nginx_env
    driver.apply({'a.conf': conf('A1\n')})
    assert stat.S_IMODE(os.stat(os.path.join(str(include), nginx.LOCK_FILE)).st_mode) == 0o644
