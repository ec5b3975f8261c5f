"""Who may write the state directory (docs/state.md): a state directory, ``apps/`` or a directory above them that
other users can write, and documents another user owns or may read, are refused by the real modules with one
line naming the path and the rule; no container is created, started, replaced or removed, and no state file
changes. The boot-time restore (``dokku_ps_state`` with ``all: true``, ``state: restored``) is the path a planted
document would take, so it is run against every planted setup (``dokku_ps_fleet`` too for the directories). The normal path (a state directory below
pytest's tmp_path, under the sticky /tmp) keeps working, and so does the fix each message proposes.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.support.bad_input import assert_refused, run_bad
from tests.support.docker_state import containers, remove_app_containers, snapshot, state_files

PROCESSES = {"web": "sleep 86400"}
QUICK = {"web": {"uptime": 1}}
TIMEOUT = 300  # every playbook run is bounded (seconds)
NOBODY = 65534

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="planting files of another user needs root")


def _deploy(runner, app, image, env=None):
    args = {"name": app, "image": image, "processes": PROCESSES, "checks": QUICK}
    if env:
        args["env"] = env
    return runner.module("dokku_ps_app", args, timeout=TIMEOUT)


def _stop_all(api, app):
    """Stop the app's containers behind the collection's back (as a reboot does): a restore would start them."""
    for summary in api.containers(filters={"name": ["^/%s\\." % app.replace(".", "\\.")]}):
        api.stop(summary["Id"], timeout=0)
    assert all(data["State"]["Status"] == "exited" for data in containers(api, app).values())


def _plant(state_dir, template_app, planted_app, uid=0, mode=0o600):
    """A document declaring ``planted_app`` (a copy of a real one), as another user could leave it."""
    with open(os.path.join(state_dir, "apps", template_app + ".json")) as handle:
        document = json.load(handle)
    document["name"] = planted_app
    document["env"] = {"PLANTED": "yes"}
    path = os.path.join(state_dir, "apps", planted_app + ".json")
    with open(path, "w") as handle:
        json.dump(document, handle)
    os.chown(path, uid, uid)
    os.chmod(path, mode)
    return path


def _no_containers(api, app):
    return api.containers(all=True, filters={"name": ["^/%s\\." % app.replace(".", "\\.")]}) == []


@pytest.fixture
def planted_name(api, app_name):
    """A second app name derived from the fixture's; its containers (there should be none) are removed after."""
    name = app_name + "-planted"
    yield name
    remove_app_containers(api, name)


def test_normal_path_below_tmp_still_works(runner, api, app_name, state_dir, standard_images):
    # pytest's tmp_path: /tmp (1777, root) / pytest-of-root (0700) / ...; the store creates the rest 0700
    assert stat.S_IMODE(os.stat("/tmp").st_mode) == 0o1777 and state_dir.startswith("/tmp/")
    _deploy(runner, app_name, standard_images["base"])
    (name, data), = containers(api, app_name).items()
    assert data["State"]["Running"]
    _stop_all(api, app_name)
    restored = runner.module("dokku_ps_state", {"all": True, "state": "restored", "parallel": -1}, timeout=TIMEOUT)
    assert restored["apps"][app_name]["status"] == "changed"
    after = containers(api, app_name)
    assert after[name]["Id"] == data["Id"] and after[name]["State"]["Running"], "restore started the same container"
    report = runner.module("dokku_ps_report", {}, timeout=TIMEOUT)
    assert report["apps"][app_name]["running"] == "true"
    for path in (state_dir, os.path.join(state_dir, "apps")):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700, path
    assert stat.S_IMODE(os.stat(os.path.join(state_dir, "apps", app_name + ".json")).st_mode) == 0o600


DIRECTORY_CASES = {
    # kind: (what to open up, relative to tmp_path; its mode; words of the message, {dir} is that directory)
    "state-dir-0777": ("state", 0o777, ["{dir}: the state directory is writable by other users (mode 0777)",
                                        "refusing to use it", "chmod 0700 {dir}"]),
    "state-dir-0775": ("state", 0o775, ["{dir}: the state directory is writable by its group (mode 0775)",
                                        "chmod 0700 {dir}"]),
    "apps-dir-0777": ("state/apps", 0o777, ["{dir}: the directory of the app documents is writable by other users"
                                            " (mode 0777)", "chmod 0700 {dir}"]),
    "parent-0777-no-sticky-bit": ("", 0o777, ["{dir}: a directory on the path to the state directory",
                                              "writable by other users without the sticky bit (mode 0777)",
                                              "chmod go-w {dir}, or chmod +t {dir}"]),
}


@pytest.mark.parametrize("kind", sorted(DIRECTORY_CASES))
def test_directory_others_can_write_is_refused(runner, api, app_name, planted_name, state_dir, tmp_path,
                                               standard_images, kind):
    relative, mode, words = DIRECTORY_CASES[kind]
    image = standard_images["base"]
    _deploy(runner, app_name, image)
    _stop_all(api, app_name)
    # a document someone planted while the directory was open (root-owned and 0600 here: only the directory is
    # wrong); the next root run or the boot-time restore would deploy it
    _plant(state_dir, app_name, planted_name)
    directory = os.path.join(str(tmp_path), relative).rstrip("/")
    old_mode = stat.S_IMODE(os.stat(directory).st_mode)
    os.chmod(directory, mode)
    try:
        words = [word.format(dir=directory) for word in words]
        before, files = snapshot(api, app_name), state_files(state_dir)
        cases = [
            ("dokku_ps_app", {"name": app_name, "image": image, "processes": PROCESSES, "checks": QUICK,
                              "env": {"CHANGED": "1"}}, words),
            ("dokku_ps_app", {"name": planted_name, "image": image, "processes": PROCESSES, "checks": QUICK}, words),
            ("dokku_ps_state", {"all": True, "state": "restored", "parallel": -1}, words),
            ("dokku_ps_fleet", {"apps": [{"name": app_name, "image": image, "processes": PROCESSES,
                                          "checks": QUICK, "state": "started"}]}, words),
            ("dokku_ps_report", {}, words),
            ("dokku_ps_report", {"app": app_name}, words),
        ]
        results = run_bad(runner, cases, timeout=TIMEOUT)
        assert_refused(results, cases)
        assert snapshot(api, app_name) == before, "a container of %s changed" % app_name
        assert all(data["State"]["Status"] == "exited" for data in containers(api, app_name).values())
        assert _no_containers(api, planted_name), "the planted app was deployed"
        assert state_files(state_dir) == files, "a state file changed"
    finally:
        os.chmod(directory, old_mode)
    # the fix the message gives (after checking what the directory holds: the planted document goes) works
    os.unlink(os.path.join(state_dir, "apps", planted_name + ".json"))
    restored = runner.module("dokku_ps_state", {"all": True, "state": "restored", "parallel": -1}, timeout=TIMEOUT)
    assert sorted(restored["apps"]) == [app_name]
    assert all(data["State"]["Running"] for data in containers(api, app_name).values())


DOCUMENT_CASES = {
    # kind: (owner, mode, the rule in the message)
    "foreign-owner": (NOBODY, 0o600, "the state document is owned by uid %d, not by the user running dokku_ps (uid 0)"
                      % NOBODY),
    "mode-0644": (0, 0o644, "the state document is readable by other users (mode 0644)"),
    "mode-0660": (0, 0o660, "the state document is readable and writable by its group (mode 0660)"),
}


@pytest.fixture
def open_documents(runner, api, app_name, standard_images):
    """One deployed app (web=1) per kind of document, deployed in one fleet call."""
    apps = dict((kind, "%s-%d" % (app_name, number)) for number, kind in enumerate(sorted(DOCUMENT_CASES)))
    runner.module("dokku_ps_fleet", {"apps": [{"name": app, "image": standard_images["base"], "processes": PROCESSES,
                                               "checks": QUICK, "scale": {"web": 1}} for app in apps.values()],
                                     "parallel": -1}, timeout=TIMEOUT)
    yield apps
    for app in apps.values():
        remove_app_containers(api, app)


def test_documents_of_other_users_or_open_to_them_are_refused(runner, api, open_documents, planted_name, state_dir,
                                                              standard_images):
    image = standard_images["base"]
    words, before = {}, {}
    for kind, app in sorted(open_documents.items()):
        owner, mode, rule = DOCUMENT_CASES[kind]
        path = os.path.join(state_dir, "apps", app + ".json")
        os.chown(path, owner, owner)
        os.chmod(path, mode)
        words[app] = ["%s: %s" % (path, rule), "refusing to use it"]
        _stop_all(api, app)
        before[app] = snapshot(api, app)
        assert len(before[app]) == 1
    # a document another user planted in a directory that was open once (the directory is fine again now)
    any_app = sorted(open_documents.values())[0]
    planted = _plant(state_dir, any_app, planted_name, uid=NOBODY)
    words[planted_name] = ["%s: %s" % (planted, DOCUMENT_CASES["foreign-owner"][2])]
    files = state_files(state_dir)
    cases = []
    for app in sorted(words):
        cases += [
            ("dokku_ps_app", {"name": app, "image": image, "processes": PROCESSES, "checks": QUICK,
                              "env": {"CHANGED": "1"}}, words[app]),
            ("dokku_ps_report", {"app": app}, words[app]),
        ]
    # the boot-time restore attempts every app and names each refused document
    cases.append(("dokku_ps_state", {"all": True, "state": "restored", "parallel": -1},
                  sum((words[app][:1] for app in sorted(words)), [])))
    results = run_bad(runner, cases, timeout=TIMEOUT)
    assert_refused(results, cases)
    assert sorted(results[-1]["result"]["apps_failed"]) == sorted(words)
    for app, snap in before.items():
        assert snapshot(api, app) == snap, "a container of %s changed" % app
    assert _no_containers(api, planted_name), "the planted app was deployed"
    assert state_files(state_dir) == files, "a state file changed"
    for path in (os.path.join(state_dir, "apps", app + ".json") for app in words):
        assert os.stat(path).st_uid in (0, NOBODY)  # nothing was re-owned or re-moded behind the user's back
    assert stat.S_IMODE(os.stat(planted).st_mode) == 0o600 and os.stat(planted).st_uid == NOBODY

    # the fixes the messages give: chown / chmod 0600 (and the planted document removed) make the restore work
    os.unlink(planted)
    for app in open_documents.values():
        path = os.path.join(state_dir, "apps", app + ".json")
        os.chown(path, 0, 0)
        os.chmod(path, 0o600)
    restored = runner.module("dokku_ps_state", {"all": True, "state": "restored", "parallel": -1}, timeout=TIMEOUT)
    assert sorted(restored["apps"]) == sorted(open_documents.values())
    for app in open_documents.values():
        assert all(data["State"]["Running"] for data in containers(api, app).values()), app
