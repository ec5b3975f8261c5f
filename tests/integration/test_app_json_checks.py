"""App.json checks against the real daemon, below the modules: the Checker runs the startup and readiness entries
and Dokku's port-listening check against real busybox containers, and a container created from a spec with an
app.json liveness check carries it as its Docker HEALTHCHECK and becomes healthy or unhealthy.

The app document is built here by hand, the way _definitions builds it (``app_json`` holds the normalised
document); the end-to-end tests through dokku_ps_app live with the app.json option. Every container is named after
the test's app, so the app_name fixture removes it."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from tests.support.ansible_runner import COLLECTIONS_PATH
from tests.support.images import build_image

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
# pylint: disable=wrong-import-position
from ansible_collections.dokku_ps.docker.plugins.module_utils import _listening as listening
from ansible_collections.dokku_ps.docker.plugins.module_utils import _checker as checking
from ansible_collections.dokku_ps.docker.plugins.module_utils import _check_rules as rules
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs  # noqa: E402
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_client import Docker  # noqa: E402
from ansible_collections.dokku_ps.docker.plugins.module_utils._docker_connection import docker_options  # noqa: E402

# busybox httpd on $PORT (or another port) serving one page from /tmp/www
PAGE = "ready-page-7Qd"
SERVE = "sh -c 'mkdir -p /tmp/www && echo %s > /tmp/www/index.html && exec httpd -f -p %s -h /tmp/www'"


def entry(check_type="startup", name="check", **fields):
    """An app.json healthcheck entry, normalised as the app document carries it."""
    result = {"type": check_type, "name": name, "path": None, "content": None, "command": None, "port": None,
              "attempts": 1, "timeout": 5, "wait": 0, "initial_delay": 0, "uptime": None, "listening": False,
              "scheme": "http"}
    result.update(fields)
    return result


@pytest.fixture
def docker():
    return Docker(docker_options({"docker_host": "unix:///var/run/docker.sock", "timeout": 60}))


@pytest.fixture
def base_id(api, standard_images):
    return api.inspect_image(standard_images["base"])["Id"]


def app_doc(app, image_id, processes, healthchecks=None, checks_option=None):
    return {"name": app, "image_id": image_id, "processes": processes, "env": {}, "web_port": 5000,
            "publish": None, "checks": rules.validate_checks(checks_option),
            "app_json": {"source": "/app/app.json in image test", "formation": None, "healthchecks": healthchecks}
            if healthchecks is not None else None}


def run_container(docker, doc, ptype, index=1):
    spec = specs.build_spec(doc, "no", ptype, index)
    container_id = docker.create_container(spec, spec["name"])
    docker.start(container_id, spec["name"])
    return container_id, spec


def wait_listening(docker, container_id, port, timeout=15):
    """Until the container listens on ``port`` (its /proc/net/tcp{,6}, polled): the check under test must not race
    the server's start."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        _code, output = docker.exec_run(container_id, list(listening.READ_LISTENING_COMMANDS[0]))
        if port in [number for _address, number in listening.parse_listening(output) or []]:
            return
        time.sleep(0.1)
    raise AssertionError("the container never listened on %d" % port)


def check(docker, doc, container_id, spec):
    """Run the checks of a new container; the failure message, or None when it passed."""
    try:
        checking.Checker(docker, doc)(docker, container_id, spec)
    except checking.CheckFailed as exc:
        return str(exc)
    return None


def test_the_default_check_fails_a_web_container_on_another_port(docker, api, app_name, base_id):
    """Dokku's port-listening check: busybox httpd on 5001 where PORT is 5000. Web processes that listen on their
    port, or on nothing at all, pass as before. The three checks (10 s of uptime each) run at once."""
    doc = app_doc(app_name, base_id, {"web": "httpd -f -p 5001 -h /tmp", "sleeper": "sleep 3600",
                                      "other": SERVE % (PAGE, "$PORT")})
    wrong_port, wrong_spec = run_container(docker, doc, "web")
    # the same image and checks, as web of apps whose web listens on its port or on nothing
    good_doc = dict(doc, processes={"web": SERVE % (PAGE, "$PORT")}, name=app_name + "-x")
    quiet_doc = dict(doc, processes={"web": "sleep 3600"}, name=app_name + "-y")
    good, good_spec = run_container(docker, good_doc, "web")
    quiet, quiet_spec = run_container(docker, quiet_doc, "web")
    results = {}
    try:
        threads = [threading.Thread(target=lambda key=key, args=args: results.__setitem__(key, check(*args)))
                   for key, args in (("wrong", (docker, doc, wrong_port, wrong_spec)),
                                     ("good", (docker, good_doc, good, good_spec)),
                                     ("quiet", (docker, quiet_doc, quiet, quiet_spec)))]
        started = time.time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert time.time() - started >= rules.DEFAULT_UPTIME, "the default check waited its uptime"
    finally:
        for container_id in (good, quiet):
            docker.remove(container_id, force=True)
    assert results["good"] is None and results["quiet"] is None, results
    assert results["wrong"].startswith(
        "%s.web.1 is listening on unexpected port(s): expected=5000 actual=5001 (checks from the default)"
        % app_name), results["wrong"]
    assert api.inspect_container(wrong_port)["State"]["Running"], "the check only looked, through the exec API"


def test_a_refused_http_check_names_the_ports_the_container_listens_on(docker, app_name, base_id, docker_client):
    doc = app_doc(app_name, base_id, {"web": "httpd -f -p 5001 -h /tmp"},
                  checks_option={"web": {"http": ["/"], "wait": 0, "attempts": 2, "timeout": 2}})
    container_id, spec = run_container(docker, doc, "web")
    wait_listening(docker, container_id, 5001)
    message = check(docker, doc, container_id, spec)
    assert message is not None and "failed its check GET / after 2 attempt(s): no answer from " in message, message
    assert "refused); listening on unexpected port(s): expected=5000 actual=5001 (checks from the checks option)" \
        in message, message

    # an image with neither cat nor a shell: nothing can read the ports, and the failure says so
    tag = "dokku-ps-test/%s-no-shell:latest" % app_name
    build_image(docker_client, tag, files={"/bin/cat": "#!/nonexistent\n", "/bin/sh": "#!/nonexistent\n"},
                cmd=["sleep", "86400"])
    try:
        bare = dict(doc, image_id=docker_client.images.get(tag).id)
        bare_id, bare_spec = run_container(docker, bare, "web", 2)
        message = check(docker, bare, bare_id, bare_spec)
        assert message is not None and "refused); could not read the listening ports (checks from" in message, message
        docker.remove(bare_id, force=True)
    finally:
        docker_client.images.remove(tag, force=True)


def test_app_json_entries_gate_with_their_own_settings(docker, app_name, base_id):
    """Startup entries, then readiness entries, each with its port, delay, attempts and content; HTTP entries check
    other process types too (port 5000, Dokku's default, when they name none)."""
    healthchecks = {
        "web": [
            entry("readiness", "page", path="/index.html", content=PAGE, attempts=5, wait=1),
            entry("startup", "file", command=["test", "-f", "/tmp/www/index.html"], initial_delay=1, attempts=10,
                  wait=1),
            entry("startup", "port", listening=True, attempts=10, wait=1),
        ],
        "api": [entry("startup", "api page", path="/index.html", content=PAGE, attempts=10, wait=1)],
    }
    doc = app_doc(app_name, base_id, {"web": SERVE % (PAGE, "$PORT"), "api": SERVE % (PAGE, "5000")}, healthchecks)
    web, web_spec = run_container(docker, doc, "web")
    api_id, api_spec = run_container(docker, doc, "api")
    started = time.time()
    assert check(docker, doc, web, web_spec) is None
    assert time.time() - started >= 1, "the initial delay of the first startup entry"
    assert check(docker, doc, api_id, api_spec) is None

    wrong = dict(doc, app_json=dict(doc["app_json"], healthchecks={"web": [
        entry("readiness", "greeting", path="/index.html", content="not-this-page", attempts=2, wait=1)]}))
    message = check(docker, wrong, web, web_spec)
    assert message is not None and message.startswith(
        "%s.web.1 failed its readiness check 'greeting' (GET /index.html on port 5000) after 2 attempt(s): the "
        "response does not contain 'not-this-page' (checks from the app.json: /app/app.json in image test)"
        % app_name), message
    other_port = dict(doc, app_json=dict(doc["app_json"], healthchecks={"web": [
        entry("startup", "port", listening=True, port=5001, attempts=2, wait=1)]}))
    message = check(docker, other_port, web, web_spec)
    assert message is not None and "(listening on port 5001) after 2 attempt(s): listening on unexpected port(s): " \
        "expected=5001 actual=5000 (checks from the app.json" in message, message


def wait_health(api, container_id, since, timeout=60):
    """The container's first health status after ``since``, from the daemon's event stream."""
    until = time.time() + timeout
    for event in api.events(since=since, until=until, decode=True,
                            filters={"container": [container_id], "event": ["health_status"]}):
        return event["status"].split(":", 1)[1].strip()
    raise AssertionError("no health status within %d s" % timeout)


def test_liveness_checks_become_the_containers_docker_health(docker, api, app_name, base_id):
    """A command, an HTTP request (busybox wget, with content) and a listening check, each passing on one container
    and failing on another; Docker reports it in State.Health."""
    quick = {"wait": 1, "timeout": 3, "attempts": 1}
    cases = {
        "cmdok": ("sh -c 'touch /tmp/alive && exec sleep 3600'",
                  [entry("liveness", "alive", command=["test", "-f", "/tmp/alive"], **quick)], "healthy"),
        "cmdbad": ("sleep 3600", [entry("liveness", "alive", command=["test", "-f", "/tmp/alive"], **quick)],
                   "unhealthy"),
        "httpok": (SERVE % (PAGE, "5000"), [entry("liveness", "page", path="/index.html", content=PAGE, **quick)],
                   "healthy"),
        "httpbad": (SERVE % (PAGE, "5000"),
                    [entry("liveness", "page", path="/index.html", content="it's $HOME", **quick)], "unhealthy"),
        "portok": (SERVE % (PAGE, "5000"), [entry("liveness", "port", listening=True, **quick)], "healthy"),
        "portbad": (SERVE % (PAGE, "5000"), [entry("liveness", "port", listening=True, port=5001, **quick)],
                    "unhealthy"),
        "both": (SERVE % (PAGE, "5000"), [entry("liveness", "port", listening=True, **quick),
                                          entry("liveness", "page", path="/index.html", content=PAGE, **quick)],
                 "healthy"),
    }
    doc = app_doc(app_name, base_id, dict((ptype, command) for ptype, (command, _e, _s) in cases.items()),
                  dict((ptype, entries) for ptype, (_c, entries, _s) in cases.items()))
    since = int(time.time()) - 1
    started = dict((ptype, run_container(docker, doc, ptype)) for ptype in cases)
    for ptype, (container_id, spec) in started.items():
        data = api.inspect_container(container_id)
        assert data["Config"]["Healthcheck"] == spec["healthcheck"], ptype
        assert data["Config"]["Labels"][specs.LABEL_SPEC_HASH] == spec["hash"]
        status = wait_health(api, container_id, since)
        assert status == cases[ptype][2], (ptype, status, api.inspect_container(container_id)["State"]["Health"])
        assert api.inspect_container(container_id)["State"]["Health"]["Status"] == status

    # without a liveness check a container has no health of its own (the image has no HEALTHCHECK)
    plain, _spec = run_container(docker, app_doc(app_name, base_id, {"plain": "sleep 3600"}), "plain")
    data = api.inspect_container(plain)
    assert data["Config"].get("Healthcheck") is None and "Health" not in data["State"]
