"""Fixtures of the integration tests: a real Docker daemon, the test images, unique app names with
cleanup, and a runner that drives the collection through ansible-playbook."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import docker
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from tests.support import images  # noqa: E402
from tests.support.ansible_runner import REPO_ROOT, Runner  # noqa: E402
from tests.support.cron import CRON  # noqa: E402
from tests.support.docker_state import remove_app_containers  # noqa: E402

PREFIX = "it-"


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env(timeout=120)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail("no Docker daemon answers (run ./scripts/test.sh, which starts one): %s" % exc)
    yield client
    client.close()


@pytest.fixture(scope="session")
def api(docker_client):
    return docker_client.api


@pytest.fixture(scope="session")
def standard_images(docker_client):
    images.build_standard_images(docker_client, log=lambda *a: None)
    return {"base": images.BASE_IMAGE, "demo": images.DEMO_IMAGE}


@pytest.fixture
def app_name(api, request):
    """A unique app name; every container named after it is removed afterwards."""
    base = "".join(ch for ch in request.node.name.lower().replace("_", "-") if ch.isalnum() or ch == "-")
    name = "%s%s-%s" % (PREFIX, base[:30].strip("-"), secrets.token_hex(3))
    yield name
    remove_app_containers(api, name)


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "state"
    return str(path)


@pytest.fixture
def runner(state_dir, tmp_path):
    work = tmp_path / "run"
    work.mkdir()
    return Runner(state_dir, workdir=str(work))


@pytest.fixture(scope="session")
def cron_binary():
    """Debian's cron, installed by the bootstrap when missing (step 8: its service is never started)."""
    if not os.access(CRON, os.X_OK):
        subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "bootstrap.sh")], cwd=REPO_ROOT, check=False,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=900)
    if not os.access(CRON, os.X_OK):
        pytest.fail("%s is missing and scripts/bootstrap.sh did not install it (apt-get install cron)" % CRON)
    return CRON
