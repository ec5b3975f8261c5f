"""Input that Docker or the kernel cannot take (issue 11, item 8): NUL in env values, commands, Procfiles (given
or read from the image) and check commands, control characters in HTTP check targets, and argv / env beyond
the kernel's limits (after Procfile expansion). Through dokku_ps_app and dokku_ps_fleet each is refused with one
line naming the field, the message never holds the env value, no container is created and the state files are
byte-for-byte unchanged. Before the fix a NUL command deployed "successfully" and looped on
``exec /sbin/docker-init: invalid argument``, and a NUL env value came back in clear in Docker's error.
"""

from __future__ import annotations

import json

import docker.errors
import pytest

from tests.support.bad_input import assert_refused
from tests.support.docker_state import snapshot, state_files
from tests.support.images import build_image

SECRET = "s3cr3t-TOKEN-value"
PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
NUL_PROCFILE_IMAGE = "dokku-ps-test/nul-procfile:latest"


def _run(runner, cases):
    """Each (module, args, words) as its own task of one playbook: (results in order, the playbook's output)."""
    tasks = [{"name": "case %d" % number, "dokku_ps.docker." + module: args, "ignore_errors": True}
             for number, (module, args, _words) in enumerate(cases)]
    _rc, results, output = runner.tasks(tasks)
    assert len(results) == len(cases), output[-3000:]
    return results, output


def _assert_secret_never_shown(results, output):
    """Not in any result, nor in what ansible-playbook says of them (its "Origin" excerpt of the playbook's own
    source is left out: a real playbook holds ``{{ vault_token }}`` there, this test the value itself)."""
    for entry in results:
        text = json.dumps(entry["result"])
        assert SECRET not in text and SECRET[:10] not in text, entry["result"].get("msg")
    said = [line for line in output.splitlines() if line.startswith(("fatal:", "[ERROR]", "failed:", "ok:"))]
    assert said and not [line for line in said if SECRET[:10] in line]


def _cases(app, image, nul_image):
    """Bad definitions of ``app``; each also goes through dokku_ps_fleet, next to a valid app ``<app>.ok``."""
    long_value = SECRET + "x" * 100000          # fits as an env entry, twice in one word it does not
    definitions = [
        ({"env": {"TOKEN": SECRET + "\x00tail"}}, ["env", "TOKEN", "NUL"]),
        ({"env": {"TOKEN": "\x00" + SECRET}}, ["env", "TOKEN", "NUL"]),
        ({"processes": {"web": "sleep\x00 86400"}}, ["processes.web", "NUL"]),
        ({"processes": None, "procfile": "web: sleep\x00 86400\n"}, ["procfile", "NUL", "line 1"]),
        ({"processes": None, "image": nul_image, "procfile_path": "Procfile"},
         ["/app/Procfile in image %s" % nul_image, "NUL", "line 1"]),
        ({"checks": {"worker": {"command": "true\x00"}}}, ["checks.worker.command", "NUL"]),
        ({"checks": {"worker": {"command": ["true", "a\x00"]}}}, ["checks.worker.command", "item 2", "NUL"]),
        ({"checks": {"web": {"http": [{"path": "/health\r\nX-Smuggled: 1"}]}}}, ["checks.web.http", "the path"]),
        ({"checks": {"web": {"http": [{"path": "/", "host": "example.com\r\n X-Smuggled: 1"}]}}},
         ["checks.web.http", "the host"]),
        ({"checks": {"web": {"http": ["/he\x00alth"]}}}, ["checks.web.http", "NUL"]),
        # the expanded argv: one word of 2 x 100 KB
        ({"env": {"TOKEN": long_value}, "processes": {"web": "sleep 86400 $TOKEN$TOKEN", "worker": "sleep 86400"}},
         ["processes.web", "word 3", "%d bytes" % (2 * len(long_value)), "131071"]),
        # every word fits, all of them together do not
        ({"env": {"TOKEN": long_value}, "processes": {"web": "sleep 86400" + " $TOKEN" * 11, "worker": "sleep 1"}},
         ["processes.web", "1048576"]),
        # one env entry
        ({"env": {"TOKEN": SECRET + "x" * 140000}}, ["env", "TOKEN", "131071"]),
        # the environment as a whole
        ({"env": dict(("T%d" % number, SECRET + "x" * 120000) for number in range(9))}, ["env", "1048576"]),
    ]
    cases = []
    for fields, words in definitions:
        declaration = {"name": app, "image": image, "processes": PROCESSES}
        declaration.update(fields)
        declaration = dict((key, value) for key, value in declaration.items() if value is not None)
        cases.append(("dokku_ps_app", declaration, words))
        good = {"name": app + ".ok", "image": image, "processes": PROCESSES}
        cases.append(("dokku_ps_fleet", {"apps": [good, declaration]}, ["apps[1]." + words[0]] + words[1:]))
    return cases


@pytest.fixture
def nul_procfile_image(docker_client):
    image = build_image(docker_client, NUL_PROCFILE_IMAGE, files={"Procfile": "web: sleep\x00 1\n"})
    try:
        yield NUL_PROCFILE_IMAGE
    finally:
        try:
            docker_client.images.remove(image.id, force=True)
        except docker.errors.NotFound:
            pass


def test_new_app_with_input_docker_cannot_take_is_refused(runner, api, app_name, state_dir, standard_images,
                                                          nul_procfile_image):
    cases = _cases(app_name, standard_images["base"], nul_procfile_image)
    results, output = _run(runner, cases)
    assert_refused(results, cases)
    _assert_secret_never_shown(results, output)
    # nothing of the app, nor of the valid app of the fleet calls, was created or recorded
    assert api.containers(all=True, filters={"name": [app_name]}) == []
    assert state_files(state_dir) == {}


def test_deployed_app_with_input_docker_cannot_take_is_refused(runner, api, app_name, state_dir, standard_images,
                                                               nul_procfile_image):
    runner.module("dokku_ps_fleet", {"apps": [
        {"name": app_name, "image": standard_images["base"], "processes": PROCESSES, "env": {"TOKEN": "abc"},
         "scale": {"web": 1, "worker": 1}},
        {"name": app_name + ".ok", "image": standard_images["base"], "processes": PROCESSES}]})
    containers_before = snapshot(api, app_name)       # the app's and <app>.ok's: their names start alike
    state_before = state_files(state_dir)
    assert len(containers_before) == 3
    cases = _cases(app_name, standard_images["base"], nul_procfile_image)
    results, output = _run(runner, cases)
    assert_refused(results, cases)
    _assert_secret_never_shown(results, output)
    assert snapshot(api, app_name) == containers_before
    assert state_files(state_dir) == state_before
    # the app still converges as it was
    assert runner.module("dokku_ps_app", {"name": app_name})["changed"] is False


def test_image_reference_and_procfile_path_docker_cannot_take_are_refused(runner, api, app_name, state_dir,
                                                                          standard_images):
    image = standard_images["base"]
    cases = []
    for fields, words in [
        ({"image": image + "\x00x"}, ["image", "NUL"]),
        ({"image": "dokku-ps-test/base :latest"}, ["image", "whitespace"]),
        ({"image": "x/../containers/" + app_name}, ["image", ".."]),
        ({"procfile_path": "Proc\x00file"}, ["procfile_path", "NUL"]),
    ]:
        declaration = {"name": app_name, "image": image}
        declaration.update(fields)
        cases.append(("dokku_ps_app", declaration, words))
        cases.append(("dokku_ps_fleet", {"apps": [declaration]}, ["apps[0]." + words[0]] + words[1:]))
    results, _output = _run(runner, cases)
    assert_refused(results, cases)
    assert api.containers(all=True, filters={"name": [app_name]}) == []
    assert state_files(state_dir) == {}
