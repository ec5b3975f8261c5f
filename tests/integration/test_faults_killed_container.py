"""A container whose process is killed with SIGKILL (exit 137, a crash) is restarted by Docker according to
the app's restart policy: ``on-failure:N`` restarts it at most N times (the report's restart_count counts
them), ``no`` leaves it down. dokku_ps_report shows the restart count and the state.

The crash is a SIGKILL of the container's main process (``State.Pid``, by pid). A kill through the API
(``container.kill(signal="SIGKILL")``) is NOT a crash for Docker 26: the daemon records it as a manual stop
and never restarts the container, whatever the policy; that is shown too.
"""

from __future__ import annotations

import os
import signal
import time

from tests.support import faults

PROCESSES = {"web": "sleep 86400"}


def inspect(api, name):
    return api.inspect_container(name)


def kill_and_wait(api, name, expect_restart):
    data = inspect(api, name)
    before = data["RestartCount"]
    assert data["State"]["Running"] and data["State"]["Pid"] > 0
    os.kill(data["State"]["Pid"], signal.SIGKILL)
    if expect_restart:
        faults.wait_until(lambda: inspect(api, name)["RestartCount"] == before + 1
                          and inspect(api, name)["State"]["Running"], timeout=30, interval=0.1,
                          what="Docker to restart %s" % name)
    else:
        faults.wait_until(lambda: inspect(api, name)["State"]["Status"] == "exited", timeout=30, interval=0.1,
                          what="%s to be down" % name)
    return inspect(api, name)


def dyno(runner, app, which):
    return runner.module("dokku_ps_report", {"app": app})["dynos"][which]


def test_on_failure_counts_retries_and_no_leaves_it_down(runner, api, app_name, standard_images):
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES}),
        ("dokku_ps_policy", {"app": app_name, "restart_policy": "on-failure:2"}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}}),
    ])
    web1, web2 = "%s.web.1" % app_name, "%s.web.2" % app_name
    first_id = inspect(api, web1)["Id"]

    for attempt in (1, 2):
        data = kill_and_wait(api, web1, expect_restart=True)
        assert data["Id"] == first_id and data["RestartCount"] == attempt
        assert data["State"]["Running"]
        entry = dyno(runner, app_name, "web.1")
        assert entry["restart_count"] == attempt
        assert entry["status"] == "running"
        assert entry["restart_policy"] == "on-failure:2"
    # the third failure is past the maximum of 2 retries: Docker leaves it down
    data = kill_and_wait(api, web1, expect_restart=False)
    assert data["State"]["ExitCode"] == 137 and data["RestartCount"] == 2
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["dynos"]["web.1"]["status"] == "exited"
    assert report["dynos"]["web.1"]["restart_count"] == 2
    assert report["dynos"]["web.2"]["status"] == "running"
    assert report["running"] == "mixed"

    # restart policy 'no', set in place: a killed container stays down
    runner.module("dokku_ps_policy", {"app": app_name, "restart_policy": "no"})
    assert inspect(api, web2)["HostConfig"]["RestartPolicy"]["Name"] == "no"
    data = kill_and_wait(api, web2, expect_restart=False)
    assert data["RestartCount"] == 0
    time.sleep(1.5)  # Docker's first restart delay is 100 ms: it would have come back by now
    assert inspect(api, web2)["State"]["Status"] == "exited", "policy no: Docker never brings it back"
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["dynos"]["web.2"] == dict(report["dynos"]["web.2"], status="exited", restart_count=0,
                                            restart_policy="no")
    assert report["running"] == "false"

    # a kill through the API is a manual stop for Docker: not restarted even under on-failure
    runner.modules([
        ("dokku_ps_policy", {"app": app_name, "restart_policy": "on-failure:2"}),
        ("dokku_ps_state", {"app": app_name, "state": "started"}),
    ])
    api.kill(web2, signal="SIGKILL")
    faults.wait_until(lambda: inspect(api, web2)["State"]["Status"] == "exited", timeout=30, what="web.2 down")
    time.sleep(1.5)
    assert inspect(api, web2)["State"]["Status"] == "exited"
    assert dyno(runner, app_name, "web.2")["status"] == "exited"

    # a deploy brings the declared state back: both run again, same containers
    runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES})
    assert inspect(api, web1)["Id"] == first_id and inspect(api, web1)["State"]["Running"]
    assert inspect(api, web2)["State"]["Running"]
