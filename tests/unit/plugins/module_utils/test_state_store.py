# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import multiprocessing
import os
import shutil
import stat
import tempfile
import time

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _schema as schema_module
from ansible_collections.dokku_ps.docker.plugins.module_utils import _state_store as state_store_module
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import StateError, ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import (
    APP_SCHEMA,
    GLOBAL_SCHEMA,
    DocumentInvalid,
    new_global_document,
    validate,
)
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import (
    DEFAULT_STATE_DIR,
    STATE_DIR_ENV,
    StateStore,
    resolve_state_dir,
)
from tests.unit.helpers import app_document, raised


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def state_dir(tmp_path):
    return str(tmp_path / "state")


@pytest.fixture
def store(state_dir):
    return StateStore(state_dir)


def listing(directory):
    return sorted(os.listdir(directory))


# ---------------------------------------------------------------- resolve_state_dir

def test_resolve_state_dir(monkeypatch):
    monkeypatch.delenv(STATE_DIR_ENV, raising=False)
    assert resolve_state_dir(None) == DEFAULT_STATE_DIR == "/var/lib/dokku-ps"
    assert resolve_state_dir("") == DEFAULT_STATE_DIR
    monkeypatch.setenv(STATE_DIR_ENV, "/srv/ps")
    assert resolve_state_dir(None) == "/srv/ps"
    assert resolve_state_dir("/opt/explicit") == "/opt/explicit"
    assert StateStore().state_dir == "/srv/ps"
    monkeypatch.setenv(STATE_DIR_ENV, "")
    assert resolve_state_dir(None) == DEFAULT_STATE_DIR


def test_store_uses_env_state_dir(monkeypatch, state_dir):
    monkeypatch.setenv(STATE_DIR_ENV, state_dir)
    StateStore().write_app(app_document())
    assert os.path.isfile(os.path.join(state_dir, "apps", "demo.json"))


# ---------------------------------------------------------------- reads with nothing there

def test_reads_on_missing_dir_create_nothing(store, state_dir):
    assert store.read_app("demo") is None
    assert store.read_global() == new_global_document()
    assert store.list_apps() == []
    store.delete_app("demo")
    assert not os.path.exists(state_dir)


# ---------------------------------------------------------------- round trip, modes, atomicity

def test_round_trip(store):
    document = app_document(publish="auto", dokku_scale={"web": 2}, updated_at="2026-01-02T03:04:05.123456+00:00",
                            processes={"web": u"echo caf\xe9", "a-b": "x"}, formation={"web": 2, "a-b": 0})
    store.write_app(document)
    assert store.read_app("demo") == document
    assert list(store.read_app("demo")["processes"]) == ["web", "a-b"]


def test_global_round_trip(store, state_dir):
    document = {"schema_version": 1, "properties": {"restart_policy": "always", "stop_timeout_seconds": 10}}
    store.write_global(document)
    assert store.read_global() == document
    assert os.path.isfile(os.path.join(state_dir, "global.json"))


def test_overwrite_existing_valid_document(store):
    store.write_app(app_document())
    store.write_app(app_document(formation={"web": 3, "worker": 1}))
    assert store.read_app("demo")["formation"] == {"web": 3, "worker": 1}


def test_modes_are_explicit_whatever_the_umask(store, state_dir):
    old = os.umask(0)
    try:
        store.write_app(app_document())
        store.write_global(new_global_document())
        with store.lock("demo"):
            pass
        with store.lock_global():
            pass
    finally:
        os.umask(old)
    for directory in (state_dir, os.path.join(state_dir, "apps"), os.path.join(state_dir, "locks")):
        assert mode(directory) == 0o700, directory
    for path in (os.path.join(state_dir, "apps", "demo.json"), os.path.join(state_dir, "global.json"),
                 os.path.join(state_dir, "locks", "demo.lock"), os.path.join(state_dir, "locks", ".global.lock")):
        assert mode(path) == 0o600, path


def test_restrictive_umask_still_gives_usable_modes(store, state_dir):
    old = os.umask(0o277)
    try:
        store.write_app(app_document())
        with store.lock("demo"):
            pass
    finally:
        os.umask(old)
    assert mode(os.path.join(state_dir, "apps")) == 0o700
    assert mode(os.path.join(state_dir, "apps", "demo.json")) == 0o600
    assert mode(os.path.join(state_dir, "locks", "demo.lock")) == 0o600


def test_existing_state_dir_mode_is_left_alone(tmp_path):
    state_dir = tmp_path / "existing"
    state_dir.mkdir()
    os.chmod(str(state_dir), 0o755)
    StateStore(str(state_dir)).write_app(app_document())
    assert mode(str(state_dir)) == 0o755
    assert mode(str(state_dir / "apps")) == 0o700


def test_no_temp_files_left(store, state_dir):
    for count in range(5):
        store.write_app(app_document(formation={"web": count, "worker": 0}))
    store.write_global(new_global_document())
    assert listing(os.path.join(state_dir, "apps")) == ["demo.json"]
    assert listing(state_dir) == ["apps", "global.json"]


def test_invalid_document_is_not_written_and_old_file_is_intact(store, state_dir):
    store.write_app(app_document())
    path = os.path.join(state_dir, "apps", "demo.json")
    with open(path, "rb") as handle:
        before = handle.read()
    error = raised(StateError, store.write_app, app_document(formation={"web": -1}))
    assert str(error) == "%s: $.formation.web: -1 is less than the minimum of 0" % path
    with open(path, "rb") as handle:
        assert handle.read() == before
    assert listing(os.path.join(state_dir, "apps")) == ["demo.json"]


def test_invalid_first_write_creates_nothing(store, state_dir):
    with pytest.raises(StateError):
        store.write_app(app_document(web_port=0))
    assert not os.path.exists(state_dir)


def test_failure_during_write_leaves_old_file_and_no_temp(store, state_dir, monkeypatch):
    store.write_app(app_document())
    path = os.path.join(state_dir, "apps", "demo.json")
    with open(path, "rb") as handle:
        before = handle.read()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    error = raised(StateError, store.write_app, app_document(formation={"web": 5, "worker": 0}))
    assert str(error) == "%s: cannot write the state document: No space left on device" % path
    monkeypatch.undo()
    with open(path, "rb") as handle:
        assert handle.read() == before
    assert listing(os.path.join(state_dir, "apps")) == ["demo.json"]


def test_unserializable_checks_value(store):
    with pytest.raises(StateError, match=r"cannot be written as JSON"):
        store.write_app(app_document(checks={"web": {"x": float("nan")}}))


# ---------------------------------------------------------------- names and listing

def test_list_apps_sorted_and_ignores_other_files(store, state_dir):
    for name in ("zeta", "alpha", "m.x-1"):
        store.write_app(app_document(name=name))
    apps = os.path.join(state_dir, "apps")
    for junk in (".alpha.json.abc123.tmp", "notes.txt", "UPPER.json", "under_score.json", ".hidden.json"):
        with open(os.path.join(apps, junk), "w") as handle:
            handle.write("{}")
    os.mkdir(os.path.join(apps, "adir"))
    assert store.list_apps() == ["alpha", "m.x-1", "zeta"]


def test_delete_app(store, state_dir):
    store.write_app(app_document())
    with store.lock("demo"):
        store.delete_app("demo")
    assert store.read_app("demo") is None
    assert store.list_apps() == []
    store.delete_app("demo")  # missing is fine
    assert os.path.exists(os.path.join(state_dir, "locks", "demo.lock"))  # lock files are kept


@pytest.mark.parametrize("name", ["../etc", "a/b", "", "Demo", ".hidden", "x" * 64, "demo\n", None])
def test_invalid_app_names_are_refused(store, name):
    for call in (store.read_app, store.delete_app, store.lock):
        with pytest.raises(ValidationError, match=r"^app: (an app name is required|.* must be at most 63 characters)"):
            call(name)


def test_write_app_with_invalid_name_is_a_schema_error(store, state_dir):
    with pytest.raises(StateError, match=r"\$\.name: '\.\./x' does not match"):
        store.write_app(app_document(name="../x"))
    assert not os.path.exists(state_dir)


# ---------------------------------------------------------------- corrupt documents

def put(state_dir, content, name="demo"):
    apps = os.path.join(state_dir, "apps")
    if not os.path.isdir(apps):
        os.makedirs(apps)
    path = os.path.join(apps, name + ".json")
    with open(path, "wb") as handle:
        handle.write(content)
    os.chmod(path, 0o600)  # as the store writes it: a looser mode is refused (see the permissions section)
    return path


@pytest.mark.parametrize("content, problem", [
    (json.dumps(app_document()).encode()[:-20], "invalid JSON ("),
    (b"{not json", "invalid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
    (b"", "the state document is empty"),
    (b"  \n", "the state document is empty"),
    (b"\xff\xfe{}", "not valid UTF-8 (byte 0)"),
    (b"[1, 2]", "$: an array is not of type 'object'"),
    (b"42", "$: 42 is not of type 'object'"),
    (json.dumps(app_document(formation={"web": -1})).encode(), "$.formation.web: -1 is less than the minimum of 0"),
    (json.dumps(dict(app_document(), extra=1)).encode(), "$: Additional properties are not allowed ('extra' was unexpected)"),
    (json.dumps(app_document(name="other")).encode(), "$.name: 'other' does not match the file name (expected 'demo')"),
])
def test_corrupt_document_read(store, state_dir, content, problem):
    path = put(state_dir, content)
    message = str(raised(StateError, store.read_app, "demo"))
    assert message.startswith(path + ": " + problem), message
    assert message.endswith("; fix or move it away; see docs/state.md")


def test_truncated_json_any_length(store, state_dir):
    text = json.dumps(app_document(), indent=2).encode()
    for cut in range(1, len(text) - 1, 7):
        put(state_dir, text[:cut])
        with pytest.raises(StateError, match=r"^%s: " % os.path.join(state_dir, "apps", "demo.json")):
            store.read_app("demo")


def test_refuse_to_overwrite_corrupt_document(store, state_dir):
    path = put(state_dir, b"{broken")
    message = str(raised(StateError, store.write_app, app_document()))
    assert message.startswith(path + ": refusing to overwrite it because the existing document is unusable (invalid JSON")
    assert message.endswith("; fix or move it away; see docs/state.md")
    assert message.count("fix or move it away") == 1
    with open(path, "rb") as handle:
        assert handle.read() == b"{broken"


def test_refuse_to_overwrite_schema_invalid_document(store, state_dir):
    path = put(state_dir, json.dumps(app_document(web_port=70000)).encode())
    with pytest.raises(StateError, match=r"refusing to overwrite.*\$\.web_port: 70000 is greater than the maximum of 65535"):
        store.write_app(app_document())
    assert json.loads(open(path).read())["web_port"] == 70000


def test_refuse_to_overwrite_corrupt_global(store, state_dir):
    os.makedirs(state_dir)
    path = os.path.join(state_dir, "global.json")
    with open(path, "w") as handle:
        handle.write('{"schema_version": 1}')
    os.chmod(path, 0o600)
    error = raised(StateError, store.read_global)
    assert str(error) == ("%s: $: 'properties' is a required property; fix or move it away; see docs/state.md" % path)
    with pytest.raises(StateError, match=r"^%s: refusing to overwrite" % path):
        store.write_global(new_global_document())


def test_newer_schema_version_is_refused(store, state_dir):
    path = put(state_dir, json.dumps(app_document(schema_version=2)).encode())
    with pytest.raises(StateError, match=r"schema version 2 but this collection only understands version 1; upgrade"):
        store.read_app("demo")
    with pytest.raises(StateError, match=r"refusing to overwrite"):
        store.write_app(app_document())
    assert json.loads(open(path).read())["schema_version"] == 2


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


def test_unreadable_document(tmp_path):
    if os.geteuid() != 0:
        state_dir = str(tmp_path / "state")
        path = put(state_dir, json.dumps(app_document()).encode())
        os.chmod(path, 0)
        with pytest.raises(StateError, match=r"^%s: cannot read the state document: Permission denied" % path):
            StateStore(state_dir).read_app("demo")
        return
    # as root: the document belongs to an unprivileged user who cannot read it (mode 0), in a directory that user
    # can reach (pytest's tmp_path is private to root)
    nobody = 65534
    state_dir = tempfile.mkdtemp(prefix="dokku-ps-unreadable-", dir="/tmp")
    try:
        path = put(state_dir, json.dumps(app_document()).encode())
        for directory in (state_dir, os.path.dirname(path)):
            os.chown(directory, nobody, nobody)
            os.chmod(directory, 0o700)
        os.chown(path, nobody, nobody)
        os.chmod(path, 0o600)
        assert _read_as(nobody, StateStore(state_dir), "demo") == ""  # readable: the setup itself works
        os.chmod(path, 0)
        message = _read_as(nobody, StateStore(state_dir), "demo")
        assert message == "%s: cannot read the state document: Permission denied" % path
    finally:
        shutil.rmtree(state_dir)


def test_permission_error_on_read(store, state_dir, monkeypatch):
    path = put(state_dir, json.dumps(app_document()).encode())

    def denied(*args, **kwargs):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(state_store_module, "_read_regular_file", denied)
    error = raised(StateError, store.read_app, "demo")
    assert str(error) == "%s: cannot read the state document: Permission denied" % path


def test_fifo_in_place_of_a_document_is_refused_without_hanging(store, state_dir):
    put(state_dir, b"{}", name="demo")
    path = os.path.join(state_dir, "apps", "demo.json")
    os.unlink(path)
    os.mkfifo(path)
    with pytest.raises(StateError, match=r"cannot read the state document: not a regular file"):
        store.read_app("demo")


def test_unreadable_path_is_a_state_error(store, state_dir):
    put(state_dir, b"{}", name="demo")
    os.rename(os.path.join(state_dir, "apps", "demo.json"), os.path.join(state_dir, "apps", "tmp"))
    os.mkdir(os.path.join(state_dir, "apps", "demo.json"))
    with pytest.raises(StateError, match=r"cannot read the state document: not a regular file"):
        store.read_app("demo")


# ---------------------------------------------------------------- schema messages

def test_env_values_never_appear_in_messages(store, state_dir):
    error = raised(StateError, store.write_app, app_document(env={"SECRET_TOKEN": 123456789}))
    assert "123456789" not in str(error)
    assert str(error).endswith("$.env.SECRET_TOKEN: the value (hidden) is not of type 'string'")
    error = raised(StateError, store.write_app, app_document(env={"bad-key": "hunter2"}))
    assert "hunter2" not in str(error)
    assert "$.env: invalid key: 'bad-key' does not match" in str(error)


@pytest.mark.parametrize("changes, expected", [
    ({"publish": 0}, "$.publish: 0 is not valid: expected null or false (no host port), a host port 1..65535, or \"auto\""),
    ({"publish": True}, "$.publish: True is not valid: expected"),
    ({"publish": "yes"}, "$.publish: 'yes' is not valid: expected"),
    ({"formation": {"Web": 1}}, "$.formation: invalid key: 'Web' does not match"),
    ({"formation": {"web\n": 1}}, "$.formation: invalid key: 'web\\n' does not match"),
    ({"formation": {"web": True}}, "$.formation.web: True is not of type 'integer'"),
    ({"processes": {"web": ""}}, "$.processes.web: '' "),  # wording varies with the jsonschema version
    ({"process_source": "git"}, "$.process_source: 'git' is not one of"),
    ({"image_id": "abc"}, "$.image_id: 'abc' does not match"),
    ({"name": "a" * 64}, "$.name: '%s...' is too long" % ("a" * 60)),
    ({"properties": {"restart_policy": "on-failure:0", "stop_timeout_seconds": None, "restore": None}},
     "$.properties.restart_policy: 'on-failure:0' does not match"),
    ({"properties": {"restart_policy": None, "stop_timeout_seconds": -1, "restore": None}},
     "$.properties.stop_timeout_seconds: -1 is less than the minimum of 0"),
    ({"updated_at": "yesterday"}, "$.updated_at: 'yesterday' does not match"),
    ({"checks": []}, "$.checks: an array is not of type 'object'"),
])
def test_schema_messages(changes, expected):
    error = raised(DocumentInvalid, validate, app_document(**changes), APP_SCHEMA, "SRC")
    assert str(error).startswith("SRC: " + expected), str(error)


@pytest.mark.parametrize("changes", [
    {"publish": None}, {"publish": False}, {"publish": 8080}, {"publish": "auto"},
    {"processes": None, "process_source": "none"},
    {"process_source": "procfile_path", "procfile_path": "deploy/Procfile"},
    {"dokku_scale": {"web": 0}},
    {"updated_at": "2026-01-02T03:04:05Z"},
    {"properties": {"restart_policy": "on-failure:10", "stop_timeout_seconds": 0, "restore": False}},
    {"checks": {"web": {"path": "/health", "timeout": 5}}},
])
def test_schema_accepts(changes):
    validate(app_document(**changes), APP_SCHEMA, "SRC")


def test_required_keys():
    document = app_document()
    del document["image_id"]
    with pytest.raises(DocumentInvalid, match=r"^SRC: \$: 'image_id' is a required property$"):
        validate(document, APP_SCHEMA, "SRC")


def test_global_schema():
    validate(new_global_document(), GLOBAL_SCHEMA, "G")
    with pytest.raises(DocumentInvalid, match=r"^G: \$.properties: Additional properties are not allowed \('restore'"):
        validate({"schema_version": 1, "properties": {"restart_policy": None, "stop_timeout_seconds": None,
                                                      "restore": True}}, GLOBAL_SCHEMA, "G")


def test_new_global_document_is_a_fresh_copy():
    first = new_global_document()
    first["properties"]["restart_policy"] = "always"
    assert new_global_document()["properties"]["restart_policy"] is None


def test_missing_jsonschema_is_a_clear_error(monkeypatch, store):
    monkeypatch.setattr(schema_module, "HAS_JSONSCHEMA", False)
    monkeypatch.setattr(schema_module, "JSONSCHEMA_IMPORT_ERROR", ImportError("No module named 'jsonschema'"))
    message = str(raised(StateError, store.write_app, app_document()))
    assert "the Python library jsonschema is missing on the managed host" in message
    assert "fix or move" not in message


# ---------------------------------------------------------------- locks

def _increment(state_dir, rounds, start_event):
    store = StateStore(state_dir)
    start_event.wait(10)
    for dummy in range(rounds):
        with store.lock("demo", timeout=60):
            document = store.read_app("demo")
            document["formation"]["web"] += 1
            store.write_app(document)


def _hold_lock(state_dir, held_event, release_event):
    store = StateStore(state_dir)
    with store.lock("demo"):
        held_event.set()
        release_event.wait(30)


def _context():
    return multiprocessing.get_context("fork")


def test_processes_racing_for_the_lock_do_not_lose_updates(store, state_dir):
    store.write_app(app_document(formation={"web": 0, "worker": 0}))
    ctx = _context()
    start = ctx.Event()
    workers, rounds = 4, 25
    processes = [ctx.Process(target=_increment, args=(state_dir, rounds, start)) for dummy in range(workers)]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    assert store.read_app("demo")["formation"]["web"] == workers * rounds
    assert listing(os.path.join(state_dir, "apps")) == ["demo.json"]


def test_lock_times_out_while_another_process_holds_it(store, state_dir):
    ctx = _context()
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(state_dir, held, release))
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(StateError) as info:
            with store.lock("demo", timeout=0.3):
                pass
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 3
        assert str(info.value).startswith("timed out after 0.3 s waiting for the lock on app demo (")
        assert str(info.value).endswith("held by another run?)")
        # Other apps are not blocked.
        with store.lock("other", timeout=0.3):
            pass
    finally:
        release.set()
        holder.join(10)
    # Once released, the lock can be taken.
    with store.lock("demo", timeout=5):
        pass


def test_lock_released_after_exception(store):
    with pytest.raises(RuntimeError):
        with store.lock("demo", timeout=1):
            raise RuntimeError("boom")
    with store.lock("demo", timeout=0):
        pass


def test_lock_is_not_reentrant(store):
    with store.lock("demo"):
        with pytest.raises(StateError, match=r"^timed out after 0 s waiting for the lock on app demo"):
            with store.lock("demo", timeout=0):
                pass


def test_global_lock_is_separate(store, state_dir):
    with store.lock_global():
        with store.lock("demo", timeout=0):
            pass
        with pytest.raises(StateError, match=r"waiting for the lock on the global properties"):
            with store.lock_global(timeout=0):
                pass
    assert listing(os.path.join(state_dir, "locks")) == [".global.lock", "demo.lock"]


def test_unchanged_document_is_validated_once_and_a_changed_one_again(store, state_dir, monkeypatch):
    calls = []
    real_validate = state_store_module.validate

    def counting(document, schema, source):
        calls.append(source)
        return real_validate(document, schema, source)

    monkeypatch.setattr(state_store_module, "validate", counting)
    path = put(state_dir, json.dumps(app_document()).encode())
    first = store.read_app("demo")
    first["formation"] = {"web": 99}  # the caller's copy: a later read is not affected
    second = store.read_app("demo")
    assert calls == [path]
    assert second == app_document() and second is not first
    broken = app_document()
    broken["formation"] = {"web": -1}
    put(state_dir, json.dumps(broken).encode())
    with pytest.raises(StateError, match=r"\$\.formation\.web: -1 is less than the minimum of 0"):
        store.read_app("demo")
    assert calls == [path, path]
    put(state_dir, json.dumps(app_document()).encode())
    assert store.read_app("demo") == app_document()
    assert calls == [path, path], "these exact bytes were validated before"
