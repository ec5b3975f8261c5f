"""Read real container state through the SDK (what integration tests assert on)."""

from __future__ import annotations


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
