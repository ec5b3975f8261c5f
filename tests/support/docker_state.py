"""Read real container state through the SDK (what integration tests assert on)."""

from __future__ import annotations

import json
import os


def _name_filter(app):
    return {"name": ["^/%s\\." % app.replace(".", "\\.")]}


def remove_app_containers(api, app):
    for summary in api.containers(all=True, filters=_name_filter(app)):
        api.remove_container(summary["Id"], force=True)


def containers(api, app):
    """{name: inspect data} of every container whose name belongs to the app."""
    found = {}
    for summary in api.containers(all=True, filters=_name_filter(app)):
        data = api.inspect_container(summary["Id"])
        found[data["Name"].lstrip("/")] = data
    return found


def snapshot(api, app):
    """What must not change in check mode: name -> (id, status, restart policy)."""
    return {name: (data["Id"], data["State"]["Status"], data["HostConfig"]["RestartPolicy"].get("Name"),
                   data["HostConfig"]["RestartPolicy"].get("MaximumRetryCount"))
            for name, data in containers(api, app).items()}


def state_files(state_dir):
    """Relative path -> bytes of every state document (lock files aside)."""
    found = {}
    for root, _dirs, files in os.walk(state_dir):
        for name in files:
            if name.endswith(".lock"):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, state_dir)] = handle.read()
    return found


# Observations the collection may record on any run, a run that changes nothing included: how far the daemon's
# events were read for restart policies changed by hand (_policy_drift.PolicyWatch.verify). When the daemon's
# events buffer overflowed meanwhile (other tests share the daemon), a no-op inspects the containers once and
# records the new window: not a change of the desired state.
OBSERVATION_KEYS = ("policy_window",)


def desired_state(state_dir):
    """Relative path -> the parsed state document without its observations (OBSERVATION_KEYS): what a run that
    changes nothing must leave exactly as it was."""
    found = {}
    for path, data in state_files(state_dir).items():
        if not path.endswith(".json"):
            found[path] = data  # not a document: the cron runner's program and the cron log (docs/oneoffs.md)
            continue
        document = json.loads(data.decode("utf-8"))
        if isinstance(document, dict):
            for key in OBSERVATION_KEYS:
                document.pop(key, None)
        found[path] = document
    return found
