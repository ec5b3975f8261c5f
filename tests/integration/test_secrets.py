"""No piece of an env value shows in any result, diff, warning, failure message or log line, through every module
and every path that carries text from outside the collection: a failed check's log tail, a check command's output,
Docker's own error messages, sanitized inspect and top data, diffs and the ``-vvv`` output. And the collection's own
words are never masked: an env value equal to the app name or a process type garbles nothing.

Every test first proves that the secret really is where it would leak from (the container's log, its argv, Docker's
error), so that a test whose secret never got there cannot pass."""

from __future__ import annotations

import json
import sys
import time

import pytest

from tests.support.ansible_runner import COLLECTIONS_PATH
from tests.support.docker_state import containers

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
# pylint: disable=wrong-import-position
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import Docker  # noqa: E402
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import docker_options  # noqa: E402
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError  # noqa: E402

LINES = ("pem-line-one-Q7x", "pem-line-two-Z9y")
PEM = "-----BEGIN KEY-----\n%s\n%s\n-----END KEY-----" % LINES
WORDS = ("alpha-word-K3q", "beta-word-M8w")
SPLIT_SECRET = " ".join(WORDS)
PIECES = LINES + WORDS
QUICK = {"web": {"uptime": 1}}


def leaks(*texts):
    """The secret pieces found in the given results (dicts, dumped as JSON) and texts."""
    blob = "\n".join(text if isinstance(text, str) else json.dumps(text) for text in texts)
    return [piece for piece in PIECES if piece in blob]


def noisy_env(app):
    """The secrets, plus values the collection's own words contain: the app name, a process type, a count."""
    return {"PEM": PEM, "SPLIT": SPLIT_SECRET, "APP_NAME": app, "ROLE": "web", "WORKERS": "1", "DEBUG": "true"}


def logs(api, app, dyno="web.1"):
    found = containers(api, app)
    name = "%s.%s" % (app, dyno)
    return api.logs(found[name]["Id"]).decode("utf-8", "replace") if name in found else ""


def test_a_failed_check_shows_no_piece_of_a_multi_line_secret_and_no_garbled_name(runner, api, app_name,
                                                                                  standard_images):
    base = {"name": app_name, "image": standard_images["base"], "processes": {"web": "sh -c 'echo ok; sleep 3600'"},
            "checks": QUICK}
    runner.module("dokku_ps_app", base)
    old_id = containers(api, app_name)["%s.web.1" % app_name]["Id"]

    bad = dict(base, env=noisy_env(app_name), checks={"web": {"uptime": 3}},
               processes={"web": "sh -c 'echo \"$PEM\"; echo $SPLIT; echo \"$PEM\" >&2; exit 3'"})
    result = runner.module("dokku_ps_app", bad, expect_failure=True, diff=True, extra_args=["-vvv"])
    message = result["msg"]
    assert "last log lines" in message and "XXXXXX" in message, message
    assert "%s.web.1 died while its checks ran" % app_name in message, "the collection's own words are intact"
    assert not leaks(result, result["_output"]), (leaks(result, result["_output"]), message)
    # the failed rollout left the old container serving
    assert containers(api, app_name)["%s.web.1" % app_name]["Id"] == old_id

    # the secrets were really there: the same command prints them in a container's log
    probe = dict(bad, name=app_name + "-probe", checks={"web": "skipped"},
                 processes={"web": "sh -c 'echo \"$PEM\"; echo $SPLIT; sleep 3600'"})
    try:
        runner.module("dokku_ps_app", probe)
        text = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(piece in text for piece in PIECES):
            text = logs(api, app_name + "-probe")
            time.sleep(0.1)
        assert all(piece in text for piece in PIECES), text
    finally:
        runner.module("dokku_ps_app", {"name": app_name + "-probe", "state": "absent"})


def test_fleet_and_state_failures_show_no_secret(runner, api, app_name, standard_images):
    """The same leak paths through dokku_ps_fleet (a failed app's reason) and dokku_ps_state (a replacement whose
    command check prints the secrets: the check's output and the log tail)."""
    declaration = {"name": app_name, "image": standard_images["base"], "env": noisy_env(app_name),
                   "processes": {"web": "sh -c 'echo \"$PEM\"; echo $SPLIT; sleep 3600'"},
                   "checks": {"web": {"command": "echo \"$PEM\"; echo $SPLIT; exit 1", "attempts": 1, "wait": 0}}}
    deployed = runner.module("dokku_ps_fleet", {"apps": [declaration]}, diff=True, extra_args=["-vvv"])
    assert deployed["changed"] is True
    assert not leaks(deployed, deployed["_output"])
    assert all(piece in logs(api, app_name) for piece in LINES), "the container printed the secret"

    restarted = runner.module("dokku_ps_state", {"app": app_name, "state": "restarted"}, expect_failure=True,
                              extra_args=["-vvv"])
    assert restarted["status"] == "failed" and "apps" not in restarted, "one app: its outcome at the top level"
    reason = restarted["reason"]
    assert "failed its check command" in reason and "exit status 1" in reason and "XXXXXX" in reason, reason
    assert "%s.web.1" % app_name in reason
    assert not leaks(restarted, restarted["_output"]), leaks(restarted, restarted["_output"])

    # the fleet path of a failed replacement: the definition changes (new env), the check fails
    changed = dict(declaration, env=dict(noisy_env(app_name), EXTRA="x"))
    failed = runner.module("dokku_ps_fleet", {"apps": [changed]}, expect_failure=True, diff=True,
                           extra_args=["-vvv"])
    assert "exit status 1" in failed["apps_failed"][app_name]
    assert not leaks(failed, failed["_output"]), leaks(failed, failed["_output"])


def test_report_inspect_and_top_mask_each_word_of_a_split_secret(runner, api, app_name, standard_images):
    runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "checks": QUICK,
                                   "env": noisy_env(app_name),
                                   "processes": {"web": "sh -c 'sleep 3600' $SPLIT"}})
    data = containers(api, app_name)["%s.web.1" % app_name]
    assert data["Args"][-2:] == list(WORDS), "field splitting really put each word into the argv"
    result = runner.module("dokku_ps_report", {"app": app_name, "inspect": True, "top": True}, extra_args=["-vvv"])
    dyno = result["dynos"]["web.1"]
    assert not leaks(result, result["_output"]), leaks(result, result["_output"])
    assert dyno["inspect"]["Args"][-2:] == ["XXXXXX", "XXXXXX"]
    assert dyno["inspect"]["Name"] == "/%s.web.1" % app_name, "an env value equal to the app name garbles nothing"
    assert dyno["inspect"]["Config"]["Labels"]["com.dokku.app-name"] == app_name
    assert "PEM=XXXXXX" in dyno["inspect"]["Config"]["Env"]
    assert any("XXXXXX" in " ".join(process) for process in dyno["top"]["Processes"])
    assert result["formation"] == {"web": 1}
    assert list(result["dynos"]) == ["web.1"], "short values ('1', 'web', 'true') garble nothing"


def test_every_module_with_diff_and_vvv_shows_no_secret(runner, api, app_name, standard_images):
    """The happy paths of every module, with diff and -vvv: results, diffs and Ansible's output."""
    app = {"name": app_name, "image": standard_images["base"], "env": noisy_env(app_name), "checks": QUICK,
           "processes": {"web": "sh -c 'echo $SPLIT; sleep 3600'", "worker": "sleep 3600"}}
    outputs = []
    for module, args in (
            ("dokku_ps_app", app),
            ("dokku_ps_app", dict(app, env=dict(noisy_env(app_name), PEM=PEM + "\nnew-line-3"))),
            ("dokku_ps_scale", {"app": app_name, "scale": {"web": 2, "worker": 1}}),
            ("dokku_ps_policy", {"app": app_name, "restart_policy": "always"}),
            ("dokku_ps_state", {"app": app_name, "state": "stopped"}),
            # a warning: the app is stopped, the new definition applies at its next start
            ("dokku_ps_app", dict(app, env=dict(noisy_env(app_name), SPLIT=SPLIT_SECRET + " gamma-word"))),
            ("dokku_ps_state", {"all": True, "state": "restored"}),
            ("dokku_ps_state", {"app": app_name, "state": "started"}),
            ("dokku_ps_report", {"app": app_name, "inspect": True, "top": True}),
            ("dokku_ps_fleet", {"apps": [dict(app, scale={"web": 1})]}),
            ("dokku_ps_app", {"name": app_name, "state": "absent"})):
        result = runner.module(module, args, diff=True, extra_args=["-vvv"])
        outputs.append((module, result))
        assert not leaks(result, result["_output"]), (module, leaks(result, result["_output"]))
    assert any("is stopped" in warning for warning in outputs[5][1].get("warnings", [])), outputs[5][1]
    diff = outputs[1][1]["diff"]
    assert diff["after"]["env"]["PEM"] == "XXXXXX (changed)" and diff["after"]["env"]["SPLIT"] == "XXXXXX"
    assert containers(api, app_name) == {}


def test_dockers_own_error_text_is_scrubbed(api, app_name, standard_images):
    """A real error of the real daemon that quotes what it was sent (an env entry with a NUL, which validation
    refuses long before: here the client is called directly, as a planted state document would)."""
    docker = Docker(docker_options({"docker_host": "unix:///var/run/docker.sock", "timeout": 30}))
    secret = "before-nul-T0k\x00after-nul-V4l"
    docker.redactor.add_env({"TOKEN": secret, "APP_NAME": app_name})
    docker.redactor.add_public([app_name])
    spec = {"image": api.inspect_image(standard_images["base"])["Id"], "command": ["sleep", "60"],
            "env": ["TOKEN=%s" % secret, "APP_NAME=%s" % app_name], "labels": {}, "ports": None, "init": True,
            "restart_policy": "no"}
    name = "%s.web.1" % app_name
    container_id = docker.create_container(spec, name)  # Docker takes it; starting it fails
    with pytest.raises(DockerError) as info:
        docker.start(container_id, name)
    message = str(info.value)
    assert "null" in message and "TOKEN=XXXXXX" in message, message
    assert "before-nul" not in message and "after-nul" not in message and "T0k" not in message
    assert "start container %s" % name in message, "the collection's words, the app name included, are intact"
    docker.remove(container_id, name, force=True)
