"""Reading module results: the one shape every module returns (plugins/module_utils/_results.py).

A task that names one app returns that app's outcome at the top level; a task on several apps returns them
under ``apps``. These helpers read both, strictly: asking for an app's outcome in a one-app result (or the
top level of a several-apps result) fails, so a test also proves which shape it got.
"""

from __future__ import annotations

CONTAINER_WORK = ("created", "started", "replaced", "stopped", "removed", "updated")


def outcome(result, app=None):
    """The outcome of ``app`` in a several-apps result, or the top level of a one-app result (``app`` None)."""
    if app is None:
        assert "apps" not in result, "a several-apps result: name the app"
        assert "name" in result, "not an app outcome: %r" % sorted(result)
        return result
    assert app in result["apps"], "%s not among the apps of the result: %s" % (app, sorted(result["apps"]))
    return result["apps"][app]


def containers(result, app=None):
    """What the run did (or would do) to containers: the six lists of ``CONTAINER_WORK``."""
    work = outcome(result, app)["containers"]
    assert sorted(work) == sorted(CONTAINER_WORK), "container work with other keys: %r" % sorted(work)
    return work


def all_containers(result):
    """Container work of any result: the one app's six lists, or app name -> six lists."""
    if "apps" in result:
        return dict((name, containers(result, name)) for name in result["apps"])
    if "containers" in result:
        return containers(result)
    return None
