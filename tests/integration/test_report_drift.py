"""dokku_ps_report against the real daemon: where each app's formation and checks come from, and per dyno whether
its container still matches what the next deploy or rebuild would create (definition, restart policy) and the
health Docker reports for it; ``playbooks/report.yml`` prints both."""

from __future__ import annotations

import io
import re
import time

from tests.support.apps import PROCESSES, QUICK, deploy
from tests.support.docker_state import containers, snapshot
from tests.support.images import BASE_IMAGE, build_image

YAML_OUTPUT = {"ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"}
ALL_CURRENT = {"definition_current": True, "restart_policy_current": True}
# an image whose HEALTHCHECK fails in worker.1 only (the check runs with the container's env)
HEALTH_IMAGE = "dokku-ps-test/report-health:latest"
HEALTH_DOCKERFILE = (
    "FROM %s\n"
    'HEALTHCHECK --interval=1s --timeout=5s --retries=1 CMD ["/bin/sh", "-c", "test \\"$DYNO\\" != worker.1"]\n'
    % BASE_IMAGE)


def drift(report):
    """{dyno: {definition_current, restart_policy_current}} of a report."""
    return dict((dyno, {"definition_current": entry["definition_current"],
                        "restart_policy_current": entry["restart_policy_current"]})
                for dyno, entry in report["dynos"].items())


def ids(api, app):
    return dict((name, data["Id"]) for name, data in containers(api, app).items())


def set_policy_by_hand(docker_client, api, app, dyno, name):
    """``docker update --restart`` through the SDK, behind the collection's back."""
    container = docker_client.containers.get(containers(api, app)["%s.%s" % (app, dyno)]["Id"])
    container.update(restart_policy={"Name": name, "MaximumRetryCount": 0})
    assert api.inspect_container(container.id)["HostConfig"]["RestartPolicy"]["Name"] == name


def wait_for_health(api, container_id, wanted, timeout=60):
    """Until Docker reports ``wanted`` as the container's health, from its health_status events."""
    started = time.time()
    events = api.events(since=started - 1, until=started + timeout, decode=True,
                        filters={"container": container_id, "event": "health_status"})
    try:
        if (api.inspect_container(container_id)["State"].get("Health") or {}).get("Status") == wanted:
            return
        for event in events:
            if event.get("Action", "").endswith(": " + wanted):
                return
    finally:
        events.close()
    raise AssertionError("%s did not become %s within %ds" % (container_id, wanted, timeout))


def test_fresh_deploy_is_current_and_sources_are_named(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=2, worker=1)
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["changed"] is False
    assert report["sources"] == {"formation": "scale", "checks": {"web": "checks option", "worker": "checks option"},
                                 "app_json": None}
    assert drift(report) == {"web.1": ALL_CURRENT, "web.2": ALL_CURRENT, "worker.1": ALL_CURRENT}
    assert all(entry["health"] is None for entry in report["dynos"].values()), "no HEALTHCHECK in the image"

    # the report of every app carries the same keys
    every = runner.module("dokku_ps_report", {})["apps"][app_name]
    assert every["sources"] == report["sources"]
    assert drift(every) == drift(report)


def test_a_definition_recorded_without_deploy_shows_the_dynos_to_replace(runner, api, app_name, standard_images):
    args = deploy(runner, app_name, standard_images["base"], web=2, worker=1)
    before = snapshot(api, app_name)

    # only the worker's command changes: only the worker's container would be replaced
    changed = dict(args, processes=dict(PROCESSES, worker="sleep 86401"), deploy=False)
    assert runner.module("dokku_ps_app", changed)["changed"] is True
    assert snapshot(api, app_name) == before, "deploy: false changes no container"
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert drift(report) == {"web.1": ALL_CURRENT, "web.2": ALL_CURRENT,
                             "worker.1": {"definition_current": False, "restart_policy_current": True}}
    worker = containers(api, app_name)["%s.worker.1" % app_name]
    assert worker["Config"]["Cmd"] == ["sleep", "86400"], "the worker still runs the old command"

    # an env value changes every container's definition
    changed["env"] = {"FEATURE": "on"}
    report = runner.modules([
        ("dokku_ps_app", changed),
        ("dokku_ps_report", {"app": app_name}),
    ])[-1]
    assert all(entry == {"definition_current": False, "restart_policy_current": True}
               for entry in drift(report).values()), drift(report)
    assert all("FEATURE=on" not in data["Config"]["Env"] for data in containers(api, app_name).values())

    # the check-mode deploy replaces exactly the dynos the report marks
    predicted = runner.module("dokku_ps_app", dict(changed, deploy=True), check=True)
    marked = sorted("%s.%s" % (app_name, dyno) for dyno, entry in drift(report).items()
                    if not entry["definition_current"])
    assert predicted["containers"]["replaced"] == marked

    # the deploy replaces them, and the report is current again
    old = ids(api, app_name)
    deployed = runner.module("dokku_ps_app", dict(changed, deploy=True))
    assert deployed["containers"]["replaced"] == marked
    new = ids(api, app_name)
    assert sorted(new) == sorted(old) and all(new[name] != old[name] for name in old)
    assert all("FEATURE=on" in data["Config"]["Env"] for data in containers(api, app_name).values())
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert drift(report) == {"web.1": ALL_CURRENT, "web.2": ALL_CURRENT, "worker.1": ALL_CURRENT}


def test_a_restart_policy_changed_by_hand_shows_until_a_run_sets_it(runner, docker_client, api, app_name,
                                                                    standard_images):
    deploy(runner, app_name, standard_images["base"], web=2, worker=1)
    set_policy_by_hand(docker_client, api, app_name, "web.2", "always")
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["dynos"]["web.2"]["restart_policy"] == "always"
    assert drift(report) == {"web.1": ALL_CURRENT, "worker.1": ALL_CURRENT,
                             "web.2": {"definition_current": True, "restart_policy_current": False}}

    # the start that puts it back is the one the report announced
    started = runner.module("dokku_ps_state", {"app": app_name, "state": "started"})
    assert started["containers"]["updated"] == ["%s.web.2" % app_name]
    assert containers(api, app_name)["%s.web.2" % app_name]["HostConfig"]["RestartPolicy"]["Name"] == "on-failure"
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert all(entry == ALL_CURRENT for entry in drift(report).values()), drift(report)

    # a policy set through dokku_ps_policy is current, on every container
    report = runner.modules([
        ("dokku_ps_policy", {"app": app_name, "restart_policy": "unless-stopped"}),
        ("dokku_ps_report", {"app": app_name}),
    ])[-1]
    assert all(entry["restart_policy"] == "unless-stopped" for entry in report["dynos"].values())
    assert all(entry == ALL_CURRENT for entry in drift(report).values()), drift(report)


def test_a_stopped_apps_containers_at_no_are_current(runner, docker_client, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], web=1, worker=1)
    runner.module("dokku_ps_state", {"app": app_name, "state": "stopped"})
    found = containers(api, app_name)
    assert all(data["HostConfig"]["RestartPolicy"]["Name"] == "no" for data in found.values())
    assert not any(data["State"]["Running"] for data in found.values())
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["properties"]["restart_policy"]["computed"] == "on-failure:10"
    assert all(entry == ALL_CURRENT for entry in drift(report).values()), drift(report)

    # a stopped container set to 'always' by hand would come back with the daemon: drift
    set_policy_by_hand(docker_client, api, app_name, "worker.1", "always")
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert drift(report) == {"web.1": ALL_CURRENT,
                             "worker.1": {"definition_current": True, "restart_policy_current": False}}


def test_sources_of_image_files(runner, docker_client, api, app_name, standard_images):
    """A DOKKU_SCALE file sets the formation, a CHECKS file the web checks; the worker has the default."""
    tag = "dokku-ps-test/report-sources:latest"
    build_image(docker_client, tag, cmd=["sleep", "86400"],
                files={"Procfile": "web: sleep 86400\nworker: sleep 86400\n", "DOKKU_SCALE": "web=1\nworker=1\n",
                       "CHECKS": "WAIT=0\nATTEMPTS=1\n"})
    runner.module("dokku_ps_app", {"name": app_name, "image": tag, "procfile_path": "Procfile",
                                   "checks": {"web": "skipped", "worker": "skipped"}})
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["can_scale"] is False
    assert report["sources"] == {"formation": "DOKKU_SCALE",
                                 "checks": {"web": "checks option", "worker": "checks option"}, "app_json": None}
    assert drift(report) == {"web.1": ALL_CURRENT, "worker.1": ALL_CURRENT}

    # without the checks option: the image's CHECKS file for web, the default for the worker
    runner.module("dokku_ps_app", {"name": app_name, "image": tag, "procfile_path": "Procfile", "checks": {},
                                   "deploy": False})
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["sources"]["checks"] == {"web": "CHECKS file in the image", "worker": "default"}
    assert drift(report) == {"web.1": ALL_CURRENT, "worker.1": ALL_CURRENT}, "checks need no new container"


def test_health_docker_reports_per_dyno(runner, docker_client, api, app_name, standard_images):
    docker_client.images.build(fileobj=io.BytesIO(HEALTH_DOCKERFILE.encode()), tag=HEALTH_IMAGE, rm=True)
    runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": HEALTH_IMAGE, "processes": PROCESSES, "checks": QUICK}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"web": 1, "worker": 1}}),
    ])
    found = containers(api, app_name)
    wait_for_health(api, found["%s.web.1" % app_name]["Id"], "healthy")
    wait_for_health(api, found["%s.worker.1" % app_name]["Id"], "unhealthy")
    report = runner.module("dokku_ps_report", {"app": app_name})
    assert report["dynos"]["web.1"]["health"] == "healthy"
    assert report["dynos"]["worker.1"]["health"] == "unhealthy"
    assert drift(report) == {"web.1": ALL_CURRENT, "worker.1": ALL_CURRENT}


def test_report_playbook_prints_sources_and_drift(runner, docker_client, api, app_name, standard_images, tmp_path):
    args = deploy(runner, app_name, standard_images["base"], web=2, worker=1)
    quiet = "%s-quiet" % app_name
    try:
        runner.modules([
            ("dokku_ps_app", {"name": quiet, "image": standard_images["base"], "checks": {"web": "skipped"}}),
            ("dokku_ps_app", dict(args, processes=dict(PROCESSES, worker="sleep 86401"), deploy=False)),
        ])
        set_policy_by_hand(docker_client, api, app_name, "web.2", "always")

        returncode, _results, output = runner.playbook(
            [{"import_playbook": "dokku_ps.docker.report"}], env=YAML_OUTPUT,
            extra_args=("-e", "dokku_ps_state_dir=%s" % runner.state_dir))
        assert returncode == 0, output[-4000:]
        for pattern in (r"localhost: 2 app\(s\)",
                        r"APP +TYPE +WANTED/UP +RESTART POLICY +RESTORE +FORMATION +CHECKS +DRIFT",
                        r"%s +web +2/2 +on-failure:10 +yes +scale +checks option +web\.2 \(restart policy\)\n"
                        % re.escape(app_name),
                        r"%s +worker +1/1 +on-failure:10 +yes +scale +checks option +worker\.1 \(definition\)\n"
                        % re.escape(app_name),
                        r"%s +web +1/1 +on-failure:10 +yes +scale +checks option +-\n" % re.escape(quiet)):
            assert re.search(pattern, output), "%r not in the report:\n%s" % (pattern, output[-4000:])
    finally:
        for data in containers(api, quiet).values():
            api.remove_container(data["Id"], force=True)
