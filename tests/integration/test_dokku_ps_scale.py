"""dokku_ps_scale against the real daemon: the four-step pattern, container identity, labels and env."""

from __future__ import annotations

from tests.support.docker_state import containers, snapshot
from tests.support.four_step import four_step

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}


def deploy(runner, app, image, **extra):
    args = {"name": app, "image": image, "processes": PROCESSES}
    args.update(extra)
    return runner.module("dokku_ps_app", args)


def scale_four_step(runner, api, app, args):
    return four_step(runner, api, app, "dokku_ps_scale", args)


def test_scale_up_and_down_keeps_web_1(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"])
    first = containers(api, app_name)
    assert sorted(first) == ["%s.web.1" % app_name]
    web1_id = first["%s.web.1" % app_name]["Id"]

    predicted, applied = scale_four_step(runner, api, app_name, {"app": app_name, "scale": {"web": 2, "worker": "2"}})
    assert predicted["containers"]["created"] == sorted(
        ["%s.web.2" % app_name, "%s.worker.1" % app_name, "%s.worker.2" % app_name])
    assert applied["formation"] == {"web": 2, "worker": 2}
    assert applied["before"] == {"web": 1, "worker": 0}
    assert applied["formation_changes"] == {"web": {"before": 1, "after": 2}, "worker": {"before": 0, "after": 2}}
    assert applied["diff"] == {"before": {"formation": {"web": 1, "worker": 0}},
                               "after": {"formation": {"web": 2, "worker": 2}}}
    found = containers(api, app_name)
    assert sorted(found) == sorted("%s.%s" % (app_name, dyno) for dyno in ("web.1", "web.2", "worker.1", "worker.2"))
    assert all(data["State"]["Running"] for data in found.values())
    assert found["%s.web.1" % app_name]["Id"] == web1_id

    predicted, applied = scale_four_step(runner, api, app_name, {"app": app_name, "scale": {"web": 1, "worker": 0}})
    assert predicted["containers"]["removed"] == sorted(
        ["%s.web.2" % app_name, "%s.worker.1" % app_name, "%s.worker.2" % app_name])
    found = containers(api, app_name)
    assert sorted(found) == ["%s.web.1" % app_name]
    assert found["%s.web.1" % app_name]["Id"] == web1_id
    assert applied["formation"] == {"web": 1, "worker": 0}


def test_container_labels_env_init_and_policy(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"], env={"GREETING": "hello"})
    runner.module("dokku_ps_scale", {"app": app_name, "scale": {"worker": 1}})
    found = containers(api, app_name)
    web = found["%s.web.1" % app_name]
    worker = found["%s.worker.1" % app_name]
    for data, ptype in ((web, "web"), (worker, "worker")):
        labels = data["Config"]["Labels"]
        assert labels["com.dokku.app-name"] == app_name
        assert labels["com.dokku.process-type"] == ptype
        assert labels["com.dokku.dyno"] == "%s.1" % ptype
        assert labels["com.dokku.container-type"] == "deploy"
        assert labels["dokku"] == ""
        assert len(labels["io.dokku-ps.spec-hash"]) == 64
        assert data["HostConfig"]["Init"] is True
        assert data["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 10}
        env = dict(item.split("=", 1) for item in data["Config"]["Env"])
        assert env["DYNO"] == "%s.1" % ptype
        assert env["GREETING"] == "hello"
        assert env["PORT"] == ("5000" if ptype == "web" else "")
        assert data["Config"]["Cmd"] == ["sleep", "86400"]


def test_listing_without_scale(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"])
    result = runner.module("dokku_ps_scale", {"app": app_name})
    assert result["changed"] is False
    assert result["formation"] == {"web": 1, "worker": 0}


def test_skip_deploy_records_only(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"])
    before = snapshot(api, app_name)
    result = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"worker": 3}, "skip_deploy": True})
    assert result["changed"] is True
    assert result["formation"] == {"web": 1, "worker": 3}
    assert result["containers"]["created"] == []
    assert snapshot(api, app_name) == before
    # the recorded formation applies at the next deploy
    applied = deploy(runner, app_name, standard_images["base"])
    assert applied["containers"]["created"] == ["%s.worker.%d" % (app_name, i) for i in (1, 2, 3)]


def test_undeployed_app_records_formation(runner, api, app_name, standard_images):
    runner.module("dokku_ps_app", {"name": app_name, "image": standard_images["base"], "processes": PROCESSES,
                                   "deploy": False})
    result = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"web": 2}})
    assert result["changed"] is True
    assert containers(api, app_name) == {}
    assert "has not been deployed" in " ".join(result.get("warnings", []))
    deployed = deploy(runner, app_name, standard_images["base"])
    assert deployed["containers"]["created"] == ["%s.web.1" % app_name, "%s.web.2" % app_name]


def test_zero_for_unknown_type_is_accepted(runner, api, app_name, standard_images):
    deploy(runner, app_name, standard_images["base"])
    result = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"console": 0}})
    assert result["changed"] is False
    assert "console" not in result["formation"]


def test_cmd_only_app_scales_any_type(runner, api, app_name, standard_images):
    result = runner.modules([
        ("dokku_ps_app", {"name": app_name, "image": standard_images["base"]}),
        ("dokku_ps_scale", {"app": app_name, "scale": {"clock": 1}}),
    ])[-1]
    assert result["containers"]["created"] == ["%s.clock.1" % app_name]
    data = containers(api, app_name)["%s.clock.1" % app_name]
    assert data["Config"]["Cmd"] == ["sleep", "86400"]  # the image's own command


def test_dokku_scale_file_overrides_and_blocks_manual_scaling(runner, api, app_name, docker_client):
    from tests.support.images import build_image
    image = "dokku-ps-test/dokku-scale:latest"
    build_image(docker_client, image,
                files={"Procfile": "web: sleep 86400\nworker: sleep 86400\n",
                       "DOKKU_SCALE": "web=1\nworker=2\n"})
    result = runner.module("dokku_ps_app", {"name": app_name, "image": image, "procfile_path": "Procfile"})
    assert result["formation"] == {"web": 1, "worker": 2}
    assert result["can_scale"] is False
    assert sorted(containers(api, app_name)) == sorted(
        "%s.%s" % (app_name, dyno) for dyno in ("web.1", "worker.1", "worker.2"))
    refused = runner.module("dokku_ps_scale", {"app": app_name, "scale": {"worker": 5}}, expect_failure=True)
    assert "DOKKU_SCALE" in refused["msg"]
    assert len(containers(api, app_name)) == 3
