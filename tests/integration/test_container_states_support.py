"""The helpers of ``tests/support/container_states.py`` really put containers into every state Docker can
report -- ``created``, ``running``, ``paused``, ``restarting``, ``removing``, ``exited``, ``dead`` -- as
seen by the list call (``State``, ``Status``) and by inspect (``State.*``), and hold the transient ones
long enough to act on them. Every container is named ``cst-<random>`` and removed afterwards.
"""

from __future__ import annotations

import os
import shlex
import time

import docker.errors
import pytest

from tests.support import container_states as cs
from tests.support import daemons

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="holding a removal and private daemons need root")


@pytest.fixture
def names(api, standard_images):
    """Names for the test's containers; every one of them is removed afterwards, also on failure."""
    tracker = cs.Names()
    yield tracker
    assert tracker.cleanup(api) == [], "containers left behind"


def flags(seen):
    return {key: seen[key] for key in ("status", "running", "paused", "restarting", "dead")}


def test_created(api, names):
    cid = cs.make_created(api, name=names.new())
    seen = cs.observe(api, cid)
    assert (seen["list_state"], seen["list_status"]) == ("created", "Created")
    assert flags(seen) == {"status": "created", "running": False, "paused": False, "restarting": False, "dead": False}


def test_running_paused_exited(api, names):
    running = cs.make_running(api, name=names.new())
    seen = cs.observe(api, running)
    assert seen["list_state"] == "running" and seen["list_status"].startswith("Up ")
    assert flags(seen) == {"status": "running", "running": True, "paused": False, "restarting": False, "dead": False}

    paused = cs.make_paused(api, name=names.new())
    seen = cs.observe(api, paused)
    assert seen["list_state"] == "paused" and seen["list_status"].endswith("(Paused)")
    # the freezer stops the processes, Docker still counts the container as running
    assert flags(seen) == {"status": "paused", "running": True, "paused": True, "restarting": False, "dead": False}

    exited = cs.make_exited(api, paused)  # a paused container stops too
    seen = cs.observe(api, exited)
    assert seen["list_state"] == "exited" and seen["list_status"].startswith("Exited (143) ")
    assert flags(seen) == {"status": "exited", "running": False, "paused": False, "restarting": False, "dead": False}
    assert seen["exit_code"] == 143


def test_restarting_stays_for_the_back_off(api, names):
    started = time.monotonic()
    cid, window = cs.make_restarting(api, name=names.new(), min_remaining=0.4)
    reached = time.monotonic() - started
    assert window.restart_count >= 4 and window.delay >= 0.8, window
    for _check in range(2):
        seen = cs.observe(api, cid)
        assert seen["list_state"] == "restarting" and seen["list_status"].startswith("Restarting (3) "), seen
        # a restarting container counts as running, with no process
        assert flags(seen) == {"status": "restarting", "running": True, "paused": False, "restarting": True,
                               "dead": False}
        assert seen["restart_count"] == window.restart_count
        time.sleep(0.15)
    assert window.remaining() > 0, window
    print("\nrestarting: pause of %.1fs (restart %d) reached after %.2fs" % (window.delay, window.restart_count, reached))


@needs_root
def test_removing_is_held_until_released(api, names):
    if not cs.fanotify_available():
        pytest.skip("fanotify permission events are not available")
    name = names.new()
    cid = cs.make_running(api, name=name)
    since = time.time()
    with cs.make_removing(api, cid) as removal:
        for _check in range(2):
            seen = cs.observe(api, cid)
            assert (seen["list_state"], seen["list_status"]) == ("removing", "Removal In Progress"), seen
            assert flags(seen) == {"status": "removing", "running": False, "paused": False, "restarting": False,
                                   "dead": True}
            assert not removal.done and removal.held
            time.sleep(0.5)
        with pytest.raises(docker.errors.APIError) as conflict:
            api.create_container(cs.BASE_IMAGE, ["true"], name=name)
        assert conflict.value.status_code == 409
        assert 'The container name "/%s" is already in use' % name in conflict.value.explanation
        with pytest.raises(docker.errors.APIError) as again:
            api.remove_container(cid, force=True)
        assert again.value.status_code == 409 and "already in progress" in again.value.explanation
        released = time.time()
        removal.release()
        assert removal.join() is None
    assert removal.answer == "allow" and removal.elapsed >= 1.0
    assert cs.observe(api, cid)["status"] is None and cs.list_entry(api, cid) is None
    actions = [(event["Action"], event["timeNano"] / 1e9) for event in
               api.events(since=int(since), until=time.time() + 0.2, filters={"container": cid}, decode=True)]
    assert [action for action, _time in actions][-3:] == ["kill", "die", "destroy"], actions
    assert actions[-1][1] >= released - 0.05, (actions, released)
    assert api.create_container(cs.BASE_IMAGE, ["true"], name=name)["Id"]  # the name is free again


@needs_root
def test_removing_releases_itself_after_hold_for(api, names):
    if not cs.fanotify_available():
        pytest.skip("fanotify permission events are not available")
    cid = cs.make_running(api, name=names.new())
    with cs.removing(api, cid, hold_for=1.0) as removal:
        assert removal.seen_removing and cs.list_entry(api, cid)["State"] == "removing"
        # what code under test that waits for the removal sees: it ends by itself
        cs.poll(lambda: removal.done, 10, "the removal did not end after hold_for")
    assert removal.error is None and removal.answer == "allow (max_hold)"
    assert 1.0 <= removal.elapsed < 5.0, removal.elapsed
    assert cs.list_entry(api, cid) is None


def test_many_files_command_makes_a_removal_slow(api, names):
    cid = cs.make_running(api, name=names.new(), command=shlex.split(cs.MANY_FILES_COMMAND))
    started = time.monotonic()
    cs.wait_many_files(api, cid)
    written = time.monotonic() - started
    with cs.removing(api, cid, hold=False) as removal:
        assert removal.seen_removing
    assert removal.error is None and cs.list_entry(api, cid) is None
    print("\nMANY_FILES_COMMAND: %d directories written in %.2fs, removed in %.2fs"
          % (cs.MANY_FILES_DIRECTORIES, written, removal.elapsed))


def test_removing_without_hold_by_a_full_layer(api, names):
    """The fallback without root: a removal made slow by 5000 directories in the writable layer."""
    cid = cs.make_created(api, name=names.new())
    created = cs.fill_writable_layer(api, cid, directories=5000)
    removal = cs.Removal(api, cid, hold=False).start()
    try:
        entry = removal.wait_removing(timeout=10)
        assert entry["Status"] == "Removal In Progress"
        seen_after = removal.elapsed
    finally:
        error = removal.join(timeout=60)
        removal.close()
    assert error is None and cs.list_entry(api, cid) is None
    print("\nslow removal: 5000 directories written in %.2fs, removing seen after %.3fs, removed in %.2fs"
          % (created, seen_after, removal.elapsed))


@needs_root
def test_dead_after_a_failed_removal_on_the_main_daemon(api, names):
    if not cs.fanotify_available():
        pytest.skip("fanotify permission events are not available")
    stale = cs.make_running(api, name=names.new())
    error = cs.make_dead(api, stale, refresh_list=False)
    assert 'driver "overlay2" failed to remove root filesystem' in error and "operation not permitted" in error
    seen = cs.observe(api, stale)
    assert flags(seen) == {"status": "dead", "running": False, "paused": False, "restarting": False, "dead": True}
    assert seen["error"] == error
    # Docker's list view is not refreshed after a failed removal
    assert (seen["list_state"], seen["list_status"]) == ("removing", "Removal In Progress")

    name = names.new()
    refreshed = cs.make_running(api, name=name)
    cs.make_dead(api, refreshed)
    seen = cs.observe(api, refreshed)
    assert (seen["list_state"], seen["list_status"], seen["status"], seen["name"]) == ("dead", "Dead", "dead", name)
    with pytest.raises(docker.errors.APIError) as refused:
        api.start(refreshed)
    assert refused.value.status_code == 409 and "marked for removal" in refused.value.explanation

    for cid in (stale, refreshed):
        api.remove_container(cid)  # a dead container needs no force
        assert cs.list_entry(api, cid) is None


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("private Docker daemons need root")
    yield from daemons.private_daemon(tmp_path_factory, "cst")


def test_dead_on_a_private_daemon(private):
    client = private.client()
    tracker = cs.Names()
    try:
        api = client.api
        by_flag = {"RemovalInProgress": cs.make_exited(api, name=tracker.new()),
                   "Dead": cs.make_created(api, name=tracker.new())}
        restarted = cs.make_running(api, name=tracker.new(), restart_policy={"Name": "always"})
        flags_of = {cid: flag for flag, cid in by_flag.items()}
        flags_of[restarted] = "RemovalInProgress"
        cs.make_dead(private, flags_of)  # make_dead_private: one daemon restart; the client reconnects
        for cid in list(by_flag.values()) + [restarted]:
            seen = cs.observe(api, cid)
            assert (seen["list_state"], seen["list_status"]) == ("dead", "Dead"), seen
            assert flags(seen) == {"status": "dead", "running": False, "paused": False, "restarting": False,
                                   "dead": True}
        # an 'always' container that ran before the restart is not brought back
        assert "container is marked for removal and cannot be started" in private.log_tail(200)
        for cid in by_flag.values():
            api.remove_container(cid)
            assert cs.list_entry(api, cid) is None
    finally:
        left = tracker.cleanup(client.api)
        client.close()
    assert left == []
