"""Processes that run once (docs/oneoffs.md) against the real daemon and a private nginx: the release phase of a
deploy, one-off runs (dokku_ps_run) and app.json cron entries run by Debian's cron (a private daemon, see
tests/support/cron.py).

The release phase's commands print what they ran with (``date +%s`` and a secret of the app's env, which every
result must show masked); whether a phase ran is read from the daemon's events of the app's ``release`` one-offs.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.support import images
from tests.support.cron import PrivateCron
from tests.support.docker_state import containers
from tests.support.four_step import four_step
from tests.support.nginx import BackgroundLoop, PrivateNginx
from tests.support.proxy_apps import WEB, app_args, options

MASK = "XXXXXX"
PREDEPLOY = "sh -c 'echo predeploy $(date +%s)'"
POSTDEPLOY = "sh -c 'echo postdeploy $(date +%s)'"
RELEASE = "sh -c 'echo release $GREETING at $(date +%s)'"
CRON_BOUND = 90


@pytest.fixture
def nginx(tmp_path):
    with PrivateNginx(tmp_path / "nginx") as server:
        yield server


@pytest.fixture
def image(docker_client, standard_images):
    return images.PROXY_IMAGE


def release_oneoffs_since(api, app, since):
    """The release-phase containers the daemon created for the app since ``since`` (seconds), by its events."""
    events = api.events(since=since, until=int(time.time()) + 1, decode=True,
                        filters={"type": ["container"], "event": ["create"],
                                 "label": ["com.dokku.app-name=%s" % app, "com.dokku.container-type=release"]})
    return [event["Actor"]["Attributes"]["name"] for event in events]


def secret(app):
    return "release-secret-%s" % app


def phase_args(app, image, nginx, release=RELEASE, **extra):
    processes = dict(WEB, release=release)
    app_json = {"scripts": {"dokku": {"predeploy": PREDEPLOY, "postdeploy": POSTDEPLOY}}}
    extra.setdefault("env", {"GREETING": secret(app)})
    return app_args(app, image, nginx, processes=processes, app_json=app_json, **extra)


def printed_time(entry):
    return int(entry["output"][-1].split()[-1])


def test_the_release_phase_runs_once_per_release_and_a_failure_keeps_the_previous_serving(
        runner, api, app_name, image, nginx):
    seen = []
    start = int(time.time()) - 1

    # check mode says what would run, and runs nothing
    predicted = runner.module("dokku_ps_app", phase_args(app_name, image, nginx), check=True)
    assert predicted["release_phase"] == {"release": 1, "commands": ["predeploy", "release", "postdeploy"],
                                          "ran": []}
    assert release_oneoffs_since(api, app_name, start) == []

    first = runner.module("dokku_ps_app", phase_args(app_name, image, nginx))
    seen.append(first)
    phase = first["release_phase"]
    assert phase["release"] == 1
    assert [entry["phase"] for entry in phase["ran"]] == ["predeploy", "release", "postdeploy"]
    assert all(entry["rc"] == 0 and not entry["timed_out"] for entry in phase["ran"])
    assert phase["ran"][1]["output"][-1].startswith("release %s at " % MASK), "the secret is masked"
    # predeploy, then the rollout, then postdeploy, by their clocks
    web = containers(api, app_name)["%s.web.1" % app_name]
    started = int(time.mktime(time.strptime(web["State"]["StartedAt"][:19], "%Y-%m-%dT%H:%M:%S"))) - time.timezone
    assert printed_time(phase["ran"][0]) <= printed_time(phase["ran"][1]) <= started <= printed_time(phase["ran"][2])
    assert sorted(release_oneoffs_since(api, app_name, start)) == sorted(entry["container"] for entry in phase["ran"])
    assert not [name for name in containers(api, app_name) if ".web." not in name], "every one-off was removed"

    # nothing runs again: a no-op, a restart, a scale, a restore
    time.sleep(1.1)
    mark = int(time.time())
    again = runner.module("dokku_ps_app", phase_args(app_name, image, nginx))
    assert again["changed"] is False and again.get("release_phase") is None
    runner.modules([
        ("dokku_ps_state", dict(options(nginx), app=app_name, state="restarted")),
        ("dokku_ps_scale", dict(options(nginx), app=app_name, scale={"web": 2})),
        ("dokku_ps_state", dict(options(nginx), app=app_name, state="restored")),
    ])
    assert release_oneoffs_since(api, app_name, mark) == []
    refused = runner.module("dokku_ps_scale", dict(options(nginx), app=app_name, scale={"release": 1}),
                            expect_failure=True)
    assert "scale.release: release is the command of the release phase" in refused["msg"]
    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    seen.append(report)
    assert report["release_phase"]["release"] == 1 and report["release_phase"]["status"] == "done"
    assert report["formation"].get("release", 0) == 0 and report["oneoffs"] == []
    webs = dict((name, data["Id"]) for name, data in containers(api, app_name).items())

    # a failing release command: the deploy stops before any container changes; zero failed requests
    failing = "sh -c 'echo migrating with $GREETING; echo it broke >&2; exit 3'"
    with BackgroundLoop(nginx.url(), seconds=120, pause=0.01) as loop:
        failed = runner.module("dokku_ps_app", phase_args(app_name, image, nginx, release=failing,
                                                          env={"GREETING": secret(app_name), "NEW": "1"}),
                               expect_failure=True)
    seen.append(failed)
    print("failed release phase: %d requests, %d failed" % (loop.result.sent, loop.result.failed))
    assert loop.result.sent > 20 and loop.result.failed == 0, loop.result.errors
    assert "the release command of release 2 exited with status 3" in failed["msg"]
    assert "migrating with %s" % MASK in failed["msg"] and "it broke" in failed["msg"]
    assert dict((name, data["Id"]) for name, data in containers(api, app_name).items()) == webs, "nothing changed"
    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    seen.append(report)
    assert report["release"]["number"] == 1 and [r["number"] for r in report["releases"]] == [1]
    assert secret(app_name) not in json.dumps(seen)


def test_a_new_release_recorded_without_a_rollout_runs_its_phase_at_the_rollout(runner, api, app_name, image, nginx):
    runner.module("dokku_ps_app", phase_args(app_name, image, nginx))
    time.sleep(1.1)  # the events API counts whole seconds: the first deploy's one-offs are before the mark
    mark = int(time.time())
    recorded = runner.module("dokku_ps_app", phase_args(app_name, image, nginx, env={"GREETING": "other"},
                                                        deploy=False))
    assert recorded["changed"] is True and recorded.get("release_phase") is None
    assert release_oneoffs_since(api, app_name, mark) == []
    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    assert report["release_phase"] == dict(report["release_phase"], release=2, status="pending")
    rolled = runner.module("dokku_ps_app", phase_args(app_name, image, nginx, env={"GREETING": "other"}))
    assert rolled["release_phase"]["release"] == 2 and len(rolled["release_phase"]["ran"]) == 3
    assert rolled["containers"]["replaced"] == ["%s.web.1" % app_name]
    assert len(release_oneoffs_since(api, app_name, mark)) == 3


def test_failing_postdeploy_stays_live_and_a_hung_phase_stops(runner, api, app_name, image, nginx):
    runner.module("dokku_ps_app", app_args(app_name, image, nginx))
    failing_post = {"scripts": {"dokku": {"postdeploy": "sh -c 'echo notify failed; exit 5'"}}}
    failed = runner.module("dokku_ps_app", app_args(app_name, image, nginx, app_json=failing_post),
                           expect_failure=True)
    assert "the postdeploy command of release 2 exited with status 5" in failed["msg"]
    assert "(release 2 is live and current)" in failed["msg"] and "notify failed" in failed["msg"]
    report = runner.module("dokku_ps_report", dict(options(nginx), app=app_name))
    assert report["release"]["number"] == 2, "the release is live and recorded"
    assert report["release_phase"]["status"] == "postdeploy failed" and report["release_phase"]["release"] == 2
    again = runner.module("dokku_ps_app", app_args(app_name, image, nginx, app_json=failing_post))
    assert again["changed"] is False, "a postdeploy failure is not retried by a run that changes nothing"

    # a release command still running at its time limit is stopped, and the deploy stops before any change
    webs = dict((name, data["Id"]) for name, data in containers(api, app_name).items())
    started = time.monotonic()
    hung = runner.module("dokku_ps_app", app_args(app_name, image, nginx, processes=dict(WEB, release="sleep 60"),
                                                  release_phase_timeout=2), expect_failure=True)
    assert time.monotonic() - started < 40
    assert "the release command of release 3 did not finish within 2 s and was stopped" in hung["msg"]
    assert dict((name, data["Id"]) for name, data in containers(api, app_name).items()) == webs
    assert runner.module("dokku_ps_report", dict(options(nginx), app=app_name))["release"]["number"] == 2


def test_the_release_phase_in_four_steps_and_through_a_fleet(runner, api, app_name, image, nginx):
    runner.module("dokku_ps_app", app_args(app_name, image, nginx))
    mark = int(time.time()) + 1
    time.sleep(1.1)

    def ran_nothing(predicted):
        assert predicted["release_phase"]["commands"] == ["release"] and predicted["release_phase"]["ran"] == []
        assert release_oneoffs_since(api, app_name, mark) == []

    def ran_once(applied):
        assert [entry["phase"] for entry in applied["release_phase"]["ran"]] == ["release"]
        assert len(release_oneoffs_since(api, app_name, mark)) == 1
    args = app_args(app_name, image, nginx, processes=dict(WEB, release="echo migrated"))
    four_step(runner, api, app_name, "dokku_ps_app", args, after_check=ran_nothing, after_apply=ran_once)
    assert len(release_oneoffs_since(api, app_name, mark)) == 1, "steps 3 and 4 ran nothing"

    declared = app_args(app_name, image, nginx, processes=dict(WEB, release="echo migrated again"))
    item = dict((key, value) for key, value in declared.items() if key not in options(nginx))
    fleet = dict(options(nginx), apps=[item])
    result = runner.module("dokku_ps_fleet", fleet)
    assert result["apps"][app_name]["release_phase"]["ran"][0]["output"] == ["migrated again"]


def test_one_offs_attached_detached_and_stopped_with_the_app(runner, api, app_name, image, nginx):
    runner.module("dokku_ps_app", app_args(app_name, image, nginx, env={"GREETING": secret(app_name)}))
    base = dict(options(nginx), app=app_name)

    predicted = runner.module("dokku_ps_run", dict(base, command="sh -c 'touch /never'"), check=True)
    assert predicted["changed"] is True and "rc" not in predicted
    assert [name for name in containers(api, app_name) if ".run." in name] == []

    attached = runner.module("dokku_ps_run", dict(base, command="sh -c 'echo hello $GREETING $EXTRA; echo $DYNO'",
                                                  env={"EXTRA": "given"}))
    assert attached["changed"] is True and attached["rc"] == 0
    assert attached["stdout_lines"][0] == "hello %s %s" % (MASK, MASK), "the run's env is as secret as the app's"
    assert attached["stdout_lines"][1] == attached["container"].split(".", 1)[1], "DYNO is run.<n>"
    assert attached["container"].startswith("%s.run." % app_name) and attached["release"] == 1
    assert attached["container"] not in containers(api, app_name), "removed once it ended"

    failing = runner.module("dokku_ps_run", dict(base, command=["sh", "-c", "echo no >&2; exit 4"]),
                            expect_failure=True)
    assert failing["rc"] == 4 and failing["stderr_lines"] == ["no"] and "exited with status 4" in failing["msg"]

    detached = runner.module("dokku_ps_run", dict(base, command="sleep 300", detach=True))
    name = detached["container"]
    assert "rc" not in detached and containers(api, app_name)[name]["State"]["Running"] is True
    report = runner.module("dokku_ps_report", base)
    assert [(o["name"], o["kind"], o["state"]) for o in report["oneoffs"]] == [(name, "run", "running")]
    assert list(report["dynos"]) == ["web.1"] and report["processes"] == 1, "a one-off is no process"
    # a deploy and a scale leave it alone; stopping the app stops it (Docker then removes it)
    runner.module("dokku_ps_scale", dict(base, scale={"web": 2}))
    assert containers(api, app_name)[name]["State"]["Running"] is True
    stopped = runner.module("dokku_ps_state", dict(base, state="stopped"))
    assert name in stopped["containers"]["stopped"]
    deadline = time.monotonic() + 30
    while name in containers(api, app_name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert name not in containers(api, app_name)
    assert secret(app_name) not in json.dumps([attached, failing, detached, report, stopped])

    # a kept one-off stays after it ended, is listed, and goes with the app
    kept = runner.module("dokku_ps_run", dict(base, command="true", keep=True))
    assert containers(api, app_name)[kept["container"]]["State"]["Status"] == "exited"
    listed = runner.module("dokku_ps_report", base)["oneoffs"]
    assert [(o["name"], o["state"]) for o in listed] == [(kept["container"], "exited")]
    deleted = runner.module("dokku_ps_app", dict(options(nginx), name=app_name, state="absent"))
    assert kept["container"] in deleted["containers"]["removed"]
    assert containers(api, app_name) == {}


def test_cron_entries_run_on_schedule_and_go_with_the_entry(runner, api, app_name, image, nginx, tmp_path,
                                                            cron_binary):
    cron_dir = tmp_path / "cron.d"
    cron_dir.mkdir()
    env = {"DOKKU_PS_CRON_DIR": str(cron_dir)}
    entry = {"command": "sh -c 'echo tick $GREETING'", "schedule": "* * * * *", "concurrency_policy": "forbid"}
    runner.module("dokku_ps_app", app_args(app_name, image, nginx, env={"GREETING": secret(app_name)}), env=env)
    args = app_args(app_name, image, nginx, env={"GREETING": secret(app_name)}, app_json={"cron": [entry]})
    cron_file = cron_dir / ("dokku-ps-cron-" + app_name.replace(".", "_"))

    def nothing_installed(_result):
        assert not cron_file.exists()
    four_step_env(runner, api, app_name, args, env, after_check=nothing_installed)
    text = cron_file.read_text()
    assert oct(os.stat(cron_file).st_mode & 0o777) == "0o644"
    line = [line for line in text.splitlines() if line.startswith("* * * * * root ")]
    assert len(line) == 1 and secret(app_name) not in text

    with PrivateCron(tmp_path / "cron", cron_dir) as cron:
        report = wait_for_cron_run(runner, nginx, app_name, env, cron)
    run = report["cron"][0]["last_run"]
    assert run["result"] == "succeeded" and run["rc"] == 0 and run["output"] == ["tick %s" % MASK]
    assert run["container"].startswith("%s.cron." % app_name)
    assert report["cron"][0]["installed"] is True and report["cron"][0]["concurrency_policy"] == "forbid"
    assert [name for name in containers(api, app_name) if ".cron." in name] == [], "removed once it ended"

    spec_path = os.path.join(runner.state_dir, "cron", "%s.json" % app_name)
    runner.module("dokku_ps_state", dict(options(nginx), app=app_name, state="stopped"), env=env)
    with open(spec_path) as handle:
        assert json.load(handle)["active"] is False, "a stopped app's entries run nothing"
    assert cron_file.exists(), "and stay installed"
    runner.module("dokku_ps_state", dict(options(nginx), app=app_name, state="started"), env=env)
    with open(spec_path) as handle:
        assert json.load(handle)["active"] is True

    removed = runner.module("dokku_ps_app", dict(args, app_json={}), env=env)
    assert removed["changed"] is True and not cron_file.exists() and not os.path.exists(spec_path)


def four_step_env(runner, api, app, args, env, after_check=None):
    """four_step with the environment ``env`` for every module run."""
    class WithEnv:
        state_dir = runner.state_dir

        def module(self, name, module_args, **kwargs):
            return runner.module(name, module_args, env=env, **kwargs)
    return four_step(WithEnv(), api, app, "dokku_ps_app", args, after_check=after_check)


def wait_for_cron_run(runner, nginx, app, env, cron):
    """The app's report once its cron entry has a last run, within CRON_BOUND seconds."""
    deadline = time.monotonic() + CRON_BOUND
    report = None
    while time.monotonic() < deadline:
        report = runner.module("dokku_ps_report", dict(options(nginx), app=app), env=env)
        if report["cron"] and report["cron"][0]["last_run"] and report["cron"][0]["last_run"]["finished_at"]:
            cron.stop_daemon()
            return report
        time.sleep(3)
    pytest.fail("no cron run within %d s: %s\ncron: %s" % (CRON_BOUND, report and report["cron"], cron.log_tail()))
