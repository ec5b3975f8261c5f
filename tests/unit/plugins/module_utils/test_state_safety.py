# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may write the state directory (module_utils/_state_safety.py): owners and modes of the state directory,
the directories on the way to it, its symbolic links and its documents; through the store and directly."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import stat
import tempfile

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _state_safety as safety
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import StateError
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import new_global_document
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore, UnsafeStateError
from tests.unit.helpers import app_document, raised


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def listing(directory):
    return sorted(os.listdir(directory))


@pytest.fixture
def state_dir(tmp_path):
    return str(tmp_path / "state")


def put(state_dir, content, name="demo"):
    """A document written by hand (0600, as the store writes it)."""
    apps = os.path.join(state_dir, "apps")
    if not os.path.isdir(apps):
        os.makedirs(apps)
    path = os.path.join(apps, name + ".json")
    with open(path, "wb") as handle:
        handle.write(content)
    os.chmod(path, 0o600)
    return path


def _read_as(uid, store, app):
    """``store.read_app(app)`` as ``uid`` in a forked child (root reads every file whatever its mode, so the test
    drops to an unprivileged user); returns the error message, or '' when the read succeeded."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        message = b"child failed"
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            try:
                store.read_app(app)
                message = b""
            except StateError as exc:
                message = str(exc).encode()
        finally:
            os.write(writer, message)
            os._exit(0)
    os.close(writer)
    chunks = []
    while True:
        chunk = os.read(reader, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(reader)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


# ---------------------------------------------------------------- who may write the state directory

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing the owner of a file needs root")
HINT = "; see docs/state.md"


def refused(call):
    """The message of the UnsafeStateError ``call()`` raises (one line, ending with the hint)."""
    error = raised(UnsafeStateError, call)
    assert isinstance(error, StateError) and str(error).endswith(HINT), str(error)
    return str(error)


def every_use(store):
    """Every public entry point of the store, each on a fresh copy (the check is done once per store)."""
    def fresh():
        return StateStore(store.state_dir)

    def locked():
        with fresh().lock("demo", timeout=1):
            pass

    def locked_global():
        with fresh().lock_global(timeout=1):
            pass
    return [lambda: fresh().read_app("demo"), lambda: fresh().read_global(), lambda: fresh().list_apps(),
            lambda: fresh().write_app(app_document()), lambda: fresh().write_global(new_global_document()),
            lambda: fresh().delete_app("demo"), locked, locked_global]


def tree(state_dir):
    """Relative path -> (bytes or None for a directory, mode, uid) of everything under ``state_dir``."""
    found = {}
    for root, dirs, files in os.walk(state_dir):
        for name in dirs + files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            content = None
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    content = handle.read()
            found[os.path.relpath(path, state_dir)] = (content, stat.S_IMODE(info.st_mode), info.st_uid)
    return found


def deployed_store(state_dir):
    """A store with an app document, the global document and a lock file, as a real run leaves it."""
    store = StateStore(state_dir)
    store.write_app(app_document())
    store.write_global(new_global_document())
    with store.lock("demo"):
        pass
    return store


@pytest.mark.parametrize("dir_mode, whom", [(0o777, "other users"), (0o775, "its group"), (0o757, "other users"),
                                            (0o1777, "other users"), (0o770, "its group")])
def test_state_dir_writable_by_others_is_refused_by_every_use(state_dir, dir_mode, whom):
    store = deployed_store(state_dir)
    os.chmod(state_dir, dir_mode)
    before = tree(state_dir)
    expected = ("%s: the state directory is writable by %s (mode %04o); refusing to use it: check what it holds,"
                " then chmod 0700 %s (or choose another state_dir); see docs/state.md"
                % (state_dir, whom, dir_mode, state_dir))
    for call in every_use(store):
        assert refused(call) == expected
    assert tree(state_dir) == before, "nothing was written, created or removed"


def test_a_state_dir_at_0755_or_0700_is_accepted(state_dir):
    for dir_mode in (0o755, 0o700, 0o711, 0o750):
        store = deployed_store(state_dir)
        os.chmod(state_dir, dir_mode)
        for call in every_use(store):
            call()


@pytest.mark.parametrize("sub, what", [("apps", "the directory of the app documents"),
                                       ("locks", "the directory of the lock files")])
def test_apps_or_locks_dir_writable_by_others_is_refused(state_dir, sub, what):
    store = deployed_store(state_dir)
    directory = os.path.join(state_dir, sub)
    os.chmod(directory, 0o777)
    before = tree(state_dir)
    expected = ("%s: %s is writable by other users (mode 0777); refusing to use it: check what it holds, then"
                " chmod 0700 %s (or choose another state_dir); see docs/state.md" % (directory, what, directory))
    for call in every_use(store):
        assert refused(call) == expected
    assert tree(state_dir) == before


def _open_parent(tmp_path, parent_mode):
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(str(parent), parent_mode)
    return str(parent), str(parent / "state")


@pytest.mark.parametrize("parent_mode, whom", [(0o777, "other users"), (0o775, "its group"), (0o703, "other users")])
def test_parent_writable_by_others_without_sticky_bit_is_refused(tmp_path, parent_mode, whom):
    parent, state_dir = _open_parent(tmp_path, 0o700)
    deployed_store(state_dir)
    os.chmod(parent, parent_mode)
    before = tree(state_dir)
    expected = ("%s: a directory on the path to the state directory %s is writable by %s without the sticky bit"
                " (mode %04o), so they can replace what lies below it; refusing to go through it: chmod go-w %s, or"
                " chmod +t %s like /tmp (or choose another state_dir); see docs/state.md"
                % (parent, state_dir, whom, parent_mode, parent, parent))
    for call in every_use(StateStore(state_dir)):
        assert refused(call) == expected
    assert tree(state_dir) == before


def test_missing_state_dir_below_an_open_parent_is_refused_and_not_created(tmp_path):
    # the state directory does not exist yet: there is nothing to read, but anyone could create it (and plant
    # apps/ in it) before the store does, so the parent is checked all the same
    parent, state_dir = _open_parent(tmp_path, 0o777)
    for call in every_use(StateStore(state_dir)):
        assert "without the sticky bit (mode 0777)" in refused(call)
    assert os.listdir(parent) == []


def test_missing_state_dir_below_safe_parents_is_fine(tmp_path):
    state_dir = str(tmp_path / "a" / "b" / "state")
    store = StateStore(state_dir)
    assert store.read_app("demo") is None and store.list_apps() == [] and store.read_global() == new_global_document()
    assert not os.path.exists(str(tmp_path / "a"))
    store.write_app(app_document())
    assert store.read_app("demo") == app_document()
    for directory in ("a", "a/b", "a/b/state", "a/b/state/apps"):
        assert mode(str(tmp_path / directory)) == 0o700, directory


def test_sticky_parent_like_tmp_is_accepted(tmp_path):
    parent, state_dir = _open_parent(tmp_path, 0o1777)
    store = deployed_store(state_dir)
    assert store.read_app("demo") == app_document()
    for call in every_use(store):
        call()
    # the real /tmp is such a parent (pytest's tmp_path lies below it)
    assert stat.S_IMODE(os.stat("/tmp").st_mode) & stat.S_ISVTX


def test_the_first_refused_directory_is_the_top_most_one(tmp_path):
    parent, state_dir = _open_parent(tmp_path, 0o700)
    deployed_store(state_dir)
    os.chmod(parent, 0o777)
    os.chmod(state_dir, 0o777)
    os.chmod(os.path.join(state_dir, "apps"), 0o777)
    assert refused(lambda: StateStore(state_dir).read_app("demo")).startswith(parent + ": a directory on the path")
    os.chmod(parent, 0o755)
    assert refused(lambda: StateStore(state_dir).read_app("demo")).startswith(state_dir + ": the state directory")
    os.chmod(state_dir, 0o700)
    assert refused(lambda: StateStore(state_dir).read_app("demo")).startswith(
        os.path.join(state_dir, "apps") + ": the directory of the app documents")


@as_root
def test_state_dir_owned_by_another_user_is_refused(state_dir):
    store = deployed_store(state_dir)
    os.chown(state_dir, NOBODY, NOBODY)
    expected = ("%s: the state directory is owned by uid %d, not by root (the user running dokku_ps); refusing to use"
                " it: check what it holds, then chown 0 %s (or choose another state_dir); see docs/state.md"
                % (state_dir, NOBODY, state_dir))
    for call in every_use(store):
        assert refused(call) == expected


@as_root
def test_apps_dir_owned_by_another_user_is_refused(state_dir):
    store = deployed_store(state_dir)
    apps = os.path.join(state_dir, "apps")
    os.chown(apps, NOBODY, NOBODY)
    before = tree(state_dir)
    expected = ("%s: the directory of the app documents is owned by uid %d, not by root (the user running dokku_ps);"
                " refusing to use it: check what it holds, then chown 0 %s (or choose another state_dir);"
                " see docs/state.md" % (apps, NOBODY, apps))
    for call in every_use(store):
        assert refused(call) == expected
    assert tree(state_dir) == before


@as_root
@pytest.mark.parametrize("parent_mode", [0o755, 0o1777])
def test_parent_owned_by_another_user_is_refused(tmp_path, parent_mode):
    # even a sticky parent: its owner may rename or remove anything in it
    parent, state_dir = _open_parent(tmp_path, 0o700)
    deployed_store(state_dir)
    os.chown(parent, NOBODY, NOBODY)
    os.chmod(parent, parent_mode)
    expected = ("%s: a directory on the path to the state directory %s is owned by uid %d, not by root (the user"
                " running dokku_ps), so its owner can replace what lies below it; refusing to go through it: choose"
                " another state_dir (or chown 0 %s if that user should not own it); see docs/state.md"
                % (parent, state_dir, NOBODY, parent))
    for call in every_use(StateStore(state_dir)):
        assert refused(call) == expected


def test_check_is_done_once_per_store(state_dir, monkeypatch):
    store = deployed_store(state_dir)
    calls = []
    real = safety._resolve

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(safety, "_resolve", counting)
    fresh = StateStore(state_dir)
    for dummy in range(3):
        fresh.read_app("demo")
        fresh.list_apps()
        fresh.write_app(app_document())
        with fresh.lock("demo"):
            pass
    assert calls == [state_dir, os.path.join(state_dir, "apps"), os.path.join(state_dir, "locks")]
    assert store.read_app("demo") == app_document()


def test_missing_state_dir_is_checked_again_once_it_exists(state_dir):
    # the first use finds no state directory (nothing to check below the parents); someone creates it open to
    # everybody before the first write: the write refuses instead of writing into it
    store = StateStore(state_dir)
    assert store.read_app("demo") is None
    os.mkdir(state_dir)
    os.chmod(state_dir, 0o777)
    message = refused(lambda: store.write_app(app_document()))
    assert "the state directory is writable by other users (mode 0777)" in message
    assert os.listdir(state_dir) == []


def test_state_dir_created_between_the_check_and_the_write_is_checked(state_dir, monkeypatch):
    store = StateStore(state_dir)
    real = StateStore._ensure_dir

    def racing(self, directory):
        if not os.path.exists(state_dir):  # someone else creates it, open, just before the store does
            os.mkdir(state_dir)
            os.chmod(state_dir, 0o777)
        return real(self, directory)

    monkeypatch.setattr(StateStore, "_ensure_dir", racing)
    assert "(mode 0777)" in refused(lambda: store.write_app(app_document()))
    assert listing(state_dir) == ["apps"], "no document was written"
    assert listing(os.path.join(state_dir, "apps")) == []


# ---------------------------------------------------------------- symbolic links on the way

def test_state_dir_through_a_symlink_to_a_safe_dir_is_accepted(tmp_path):
    real = str(tmp_path / "real")
    link = str(tmp_path / "link")
    deployed_store(real)
    os.symlink(real, link)
    for call in every_use(StateStore(link)):
        call()


def test_state_dir_symlink_to_an_open_dir_is_refused_naming_both(tmp_path):
    real = str(tmp_path / "real")
    link = str(tmp_path / "link")
    deployed_store(real)
    os.chmod(real, 0o777)
    os.symlink(real, link)
    assert refused(lambda: StateStore(link).read_app("demo")) == (
        "%s: the state directory %s is writable by other users (mode 0777); refusing to use it: check what it holds,"
        " then chmod 0700 %s (or choose another state_dir); see docs/state.md" % (real, link, real))


def test_symlink_to_a_dir_below_an_open_parent_is_refused(tmp_path):
    parent, real = _open_parent(tmp_path, 0o700)
    deployed_store(real)
    os.chmod(parent, 0o777)
    link = str(tmp_path / "link")
    os.symlink(os.path.relpath(real, str(tmp_path)), link)  # relative targets are followed too
    message = refused(lambda: StateStore(link).read_app("demo"))
    assert message.startswith("%s: a directory on the path to the state directory %s is writable by other users"
                              " without the sticky bit (mode 0777)" % (parent, link)), message


def test_symlink_inside_an_open_parent_is_refused(tmp_path):
    # /srv/open (0777) holding the link: anyone can replace the link itself
    parent, link = _open_parent(tmp_path, 0o700)
    real = str(tmp_path / "real")
    deployed_store(real)
    os.symlink(real, link)
    os.chmod(parent, 0o777)
    assert refused(lambda: StateStore(link).read_app("demo")).startswith(parent + ": a directory on the path to")


@as_root
def test_symlink_owned_by_another_user_in_a_sticky_dir_is_refused(tmp_path):
    parent, link = _open_parent(tmp_path, 0o1777)
    real = str(tmp_path / "real")
    deployed_store(real)
    os.symlink(real, link)
    os.lchown(link, NOBODY, NOBODY)
    assert refused(lambda: StateStore(link).read_app("demo")) == (
        "%s: a symbolic link on the path to the state directory %s is owned by uid %d, not by root (the user running"
        " dokku_ps), in a directory other users can write (mode 1777), so its owner can point it elsewhere; refusing"
        " to follow it: replace it by a link owned by root (or choose another state_dir); see docs/state.md"
        % (link, link, NOBODY))
    os.lchown(link, 0, 0)
    assert StateStore(link).read_app("demo") == app_document()


def test_apps_symlinked_to_an_open_dir_is_refused(state_dir, tmp_path):
    deployed_store(state_dir)
    apps = os.path.join(state_dir, "apps")
    elsewhere = str(tmp_path / "elsewhere")
    shutil.move(apps, elsewhere)
    os.symlink(elsewhere, apps)
    assert StateStore(state_dir).read_app("demo") == app_document()  # a safe target is fine
    os.chmod(elsewhere, 0o777)
    assert refused(lambda: StateStore(state_dir).read_app("demo")).startswith(
        "%s: the directory of the app documents %s is writable by other users (mode 0777)" % (elsewhere, apps))


def test_symlink_loop_is_an_ordinary_error(tmp_path):
    loop = str(tmp_path / "loop")
    os.symlink(loop, loop)
    with pytest.raises(StateError, match=r"cannot read the state document: Too many levels of symbolic links"):
        StateStore(loop).read_app("demo")


# ---------------------------------------------------------------- documents

@pytest.mark.parametrize("doc_mode, access, whom", [
    (0o644, "readable", "other users"),
    (0o640, "readable", "its group"),
    (0o660, "readable and writable", "its group"),
    (0o666, "readable and writable", "other users"),
    (0o602, "writable", "other users"),
    (0o610, "accessible", "its group"),
])
def test_document_open_to_others_is_refused_on_read_and_write(state_dir, doc_mode, access, whom):
    deployed_store(state_dir)
    path = os.path.join(state_dir, "apps", "demo.json")
    os.chmod(path, doc_mode)
    before = tree(state_dir)
    fix = "chmod 0600 %s" % path
    if "writable" in access:
        fix = "check its content, then " + fix
    expected = ("%s: the state document is %s by %s (mode %04o); refusing to use it: %s; see docs/state.md"
                % (path, access, whom, doc_mode, fix))
    store = StateStore(state_dir)
    assert refused(lambda: store.read_app("demo")) == expected
    assert refused(lambda: store.write_app(app_document(formation={"web": 3}))) == expected, "not wrapped by the write"
    assert tree(state_dir) == before
    os.chmod(path, 0o400)
    assert store.read_app("demo") == app_document()  # stricter than 0600 is fine


def test_global_document_open_to_others_is_refused(state_dir):
    deployed_store(state_dir)
    path = os.path.join(state_dir, "global.json")
    os.chmod(path, 0o644)
    store = StateStore(state_dir)
    assert refused(store.read_global).startswith(path + ": the state document is readable by other users (mode 0644)")
    assert refused(lambda: store.write_global(new_global_document())).startswith(path + ": the state document")


@as_root
def test_document_owned_by_another_user_is_refused(state_dir):
    deployed_store(state_dir)
    path = os.path.join(state_dir, "apps", "demo.json")
    os.chown(path, NOBODY, NOBODY)
    before = tree(state_dir)
    expected = ("%s: the state document is owned by uid %d, not by the user running dokku_ps (uid 0); refusing to use"
                " it: check its content, then chown 0 %s (or move it away); see docs/state.md" % (path, NOBODY, path))
    store = StateStore(state_dir)
    assert refused(lambda: store.read_app("demo")) == expected
    assert refused(lambda: store.write_app(app_document())) == expected
    assert tree(state_dir) == before
    os.chmod(path, 0o666)
    assert refused(lambda: store.read_app("demo")).endswith(
        "check its content, then chown 0 %s && chmod 0600 %s (or move it away); see docs/state.md" % (path, path))


@as_root
def test_planted_documents_are_refused_by_a_listing_reader(state_dir):
    # what the boot-time restore does: list every app, read each document
    store = deployed_store(state_dir)
    planted = put(state_dir, json.dumps(app_document(name="planted")).encode(), name="planted")
    os.chown(planted, NOBODY, NOBODY)
    assert store.list_apps() == ["demo", "planted"]
    assert store.read_app("demo") == app_document()
    assert "owned by uid %d" % NOBODY in refused(lambda: store.read_app("planted"))


def test_document_check_uses_the_open_descriptor(state_dir, monkeypatch):
    deployed_store(state_dir)
    path = os.path.join(state_dir, "apps", "demo.json")
    real_stat, real_lstat = os.stat, os.lstat

    def no_path_stat(real):
        def wrapped(target, *args, **kwargs):
            assert target != path, "the document is checked by path, not on its descriptor"
            return real(target, *args, **kwargs)
        return wrapped

    monkeypatch.setattr(os, "stat", no_path_stat(real_stat))
    monkeypatch.setattr(os, "lstat", no_path_stat(real_lstat))
    store = StateStore(state_dir)
    assert store.read_app("demo") == app_document()
    os.chmod(path, 0o644)
    assert "(mode 0644)" in refused(lambda: store.read_app("demo"))


def test_unprivileged_user_reads_its_own_store_and_refuses_roots_documents(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another user")
    state_dir = tempfile.mkdtemp(prefix="dokku-ps-owner-", dir="/tmp")
    try:
        path = put(state_dir, json.dumps(app_document()).encode())
        for directory in (state_dir, os.path.dirname(path)):
            os.chown(directory, NOBODY, NOBODY)
        os.chown(path, NOBODY, NOBODY)
        assert _read_as(NOBODY, StateStore(state_dir), "demo") == ""  # /tmp (1777, root) and its own dirs: fine
        os.chown(os.path.dirname(path), 0, 0)
        os.chmod(os.path.dirname(path), 0o755)
        assert _read_as(NOBODY, StateStore(state_dir), "demo") == "", "a directory of root is fine"
        os.chown(path, 0, 0)
        os.chmod(path, 0o644)
        assert _read_as(NOBODY, StateStore(state_dir), "demo") == (
            "%s: the state document is owned by uid 0, not by the user running dokku_ps (uid %d); refusing to use it:"
            " check its content, then chown %d %s && chmod 0600 %s (or move it away); see docs/state.md"
            % (path, NOBODY, NOBODY, path, path))
        os.chown(state_dir, 1, 1)
        assert _read_as(NOBODY, StateStore(state_dir), "demo") == (
            "%s: the state directory is owned by uid 1, not by root or the user running dokku_ps (uid %d); refusing"
            " to use it: check what it holds, then chown %d %s (or choose another state_dir); see docs/state.md"
            % (state_dir, NOBODY, NOBODY, state_dir))
    finally:
        shutil.rmtree(state_dir)


# ---------------------------------------------------------------- the functions themselves

def test_resolve_follows_links_like_the_kernel(tmp_path):
    real = tmp_path / "real"
    (real / "apps").mkdir(parents=True)
    os.symlink("real", str(tmp_path / "relative"))
    os.symlink(str(real), str(tmp_path / "absolute"))
    for link in ("relative", "absolute"):
        lookups, resolved = safety._resolve(str(tmp_path / link / "apps"))
        assert resolved == os.path.realpath(str(real / "apps"))
        assert [entry for _directory, entry, _info in lookups][-1] == os.path.realpath(str(real / "apps"))
    assert safety._resolve(str(tmp_path / "real" / ".." / "real" / "." / "apps"))[1] == os.path.realpath(
        str(real / "apps"))
    lookups, resolved = safety._resolve(str(tmp_path / "missing" / "apps"))
    assert resolved is None and lookups[-1][2] is None, "the missing component is the last one looked up"
    loop = str(tmp_path / "loop")
    os.symlink(loop, loop)
    assert safety._resolve(loop)[1] is None


def test_verify_store_says_whether_the_state_dir_was_checked(state_dir):
    subdirs = ((os.path.join(state_dir, "apps"), "the directory of the app documents"),)
    assert safety.verify_store(state_dir, subdirs) is False, "missing: nothing checked below the parents yet"
    os.mkdir(state_dir, 0o700)
    assert safety.verify_store(state_dir, subdirs) is True
    os.mkdir(os.path.join(state_dir, "apps"), 0o700)
    os.chmod(os.path.join(state_dir, "apps"), 0o770)
    with pytest.raises(UnsafeStateError, match="the directory of the app documents is writable by its group"):
        safety.verify_store(state_dir, subdirs)


def test_check_document_on_an_open_descriptor(state_dir):
    path = put(state_dir, b"{}")
    with open(path, "rb") as handle:
        safety.check_document(path, os.fstat(handle.fileno()))
        os.chmod(path, 0o620)
        error = raised(UnsafeStateError, safety.check_document, path, os.fstat(handle.fileno()))
    assert str(error) == ("%s: the state document is writable by its group (mode 0620); refusing to use it:"
                          " check its content, then chmod 0600 %s; see docs/state.md" % (path, path))


def test_problem_is_the_short_text_of_an_os_error():
    assert safety.problem(OSError(13, "Permission denied")) == "Permission denied"
    assert safety.problem(OSError("odd")) == "odd"
