"""One app across three hosts (issue 24; docs/swarm.md): three private daemons, each in its own network namespace
(tests/support/swarm.py), are made one swarm by the role dokku_ps.docker.swarm from an inventory (init, join, labels,
an image copied to the nodes that lack it), and an app on the swarm scheduler with web=6 spreads over them behind the
host's (private) nginx. Stopping one node's daemon gets its tasks rescheduled on the others while a bounded request
loop through nginx counts failed requests; ``dokku_ps_state restored`` brings the upstream in step without a deploy.
Then a node leaves through the role and joins again.
"""

from __future__ import annotations

import re
import sys
import time

import pytest
import yaml

from tests.support import images, swarm
from tests.support.ansible_runner import Runner
from tests.support.nginx import BackgroundLoop, PrivateNginx, get
from tests.support.proxy_apps import WEB, config, options
from tests.support.registry import PrivateRegistry

APP = "swmulti"
ONLY_ON_MANAGER = "dps-swc-only:1"
RECAP_RE = re.compile(r"^(n[012])\s*:\s*ok=(\d+)\s+changed=(\d+)\s.*failed=(\d+)", re.M)
LABEL_DOCKER_HOST = "io.dokku-ps.docker-host"
FORM = [{"name": "Form the swarm", "hosts": "cluster", "gather_facts": False, "roles": ["dokku_ps.docker.swarm"]}]


def write_inventory(path, cluster, absent=()):
    hosts = {}
    for node in cluster.nodes:
        name = "n%d" % node.index
        hosts[name] = {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "dokku_ps_docker_host": node.url,
            "dokku_ps_swarm_role": "manager" if node.index == 0 else "worker",
            "dokku_ps_swarm_advertise_addr": node.address,
            "dokku_ps_swarm_listen_addr": "%s:%d" % (node.address, swarm.SWARM_PORT),
            "dokku_ps_swarm_data_path_addr": node.address,
            "dokku_ps_swarm_labels": {"zone": "z%d" % node.index},
        }
        if name in absent:
            hosts[name]["dokku_ps_swarm_state"] = "absent"
    group_vars = {"dokku_ps_swarm_default_addr_pool": [swarm.ADDR_POOL], "dokku_ps_swarm_images": [ONLY_ON_MANAGER]}
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"all": {"children": {"cluster": {"hosts": hosts, "vars": group_vars}}}}, handle)
    return str(path)


def recaps(output):
    """{host: (ok, changed, failed)} from the play recap."""
    found = dict((match.group(1), tuple(int(group) for group in match.groups()[1:]))
                 for match in RECAP_RE.finditer(output))
    assert sorted(found) == ["n0", "n1", "n2"], output[-4000:]
    return found


def states(cluster):
    """Each daemon's swarm state and whether it is a manager."""
    found = {}
    for node in cluster.nodes:
        client = node.client()
        try:
            info = client.info()["Swarm"]
            found["n%d" % node.index] = (info["LocalNodeState"], bool(info.get("ControlAvailable")))
        finally:
            client.close()
    return found


def nodes_by_address(client):
    return dict((node.attrs["Status"]["Addr"], node.attrs) for node in client.nodes.list())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    yield from swarm.private_swarm(tmp_path_factory, "swc", nodes=3, form=False)


@pytest.fixture(scope="module")
def formed(cluster, tmp_path_factory):
    """The role run in check mode, then for real: (inventory, runner, the two outputs, seconds of the real run)."""
    work = tmp_path_factory.mktemp("swarm-role")
    manager = cluster.manager.client()
    try:
        images.build_image(manager, ONLY_ON_MANAGER, labels={"test": "only-on-the-manager"})
    finally:
        manager.close()
    inventory = write_inventory(work / "inventory.yml", cluster)
    runner = Runner(str(work / "state"), workdir=str(work))
    rc, _results, checked = runner.playbook(FORM, inventory=inventory, check=True)
    assert rc == 0, checked[-4000:]
    assert states(cluster) == dict.fromkeys(("n0", "n1", "n2"), ("inactive", False)), "check mode formed nothing"
    started = time.monotonic()
    rc, _results, applied = runner.playbook(FORM, inventory=inventory)
    seconds = time.monotonic() - started
    assert rc == 0, applied[-4000:]
    return inventory, runner, checked, applied, seconds


def test_the_role_forms_the_cluster_labels_its_nodes_copies_the_image_and_is_idempotent(cluster, formed):
    inventory, runner, checked, applied, seconds = formed
    print("the role formed a swarm of 3 nodes in %.1f s" % seconds)
    assert all(changed > 0 for _ok, changed, _failed in recaps(checked).values()), "check mode predicts the change"
    assert all(changed > 0 for _ok, changed, _failed in recaps(applied).values())
    assert states(cluster) == {"n0": ("active", True), "n1": ("active", False), "n2": ("active", False)}

    client = cluster.client()
    try:
        found = nodes_by_address(client)
        assert sorted(found) == sorted(node.address for node in cluster.nodes)
        for node in cluster.nodes:
            attrs = found[node.address]
            assert attrs["Status"]["State"] == "ready" and attrs["Spec"]["Availability"] == "active"
            assert attrs["Spec"]["Role"] == ("manager" if node.index == 0 else "worker")
            assert attrs["Spec"]["Labels"] == {"zone": "z%d" % node.index, LABEL_DOCKER_HOST: node.url}
        wanted = client.images.get(ONLY_ON_MANAGER).id
    finally:
        client.close()
    for node in cluster.nodes[1:]:
        other = node.client()
        try:
            copied = other.images.get(wanted)
            assert ONLY_ON_MANAGER in copied.tags, "copied by ID, with its tag"
        finally:
            other.close()

    for check in (True, False):
        rc, _results, output = runner.playbook(FORM, inventory=inventory, check=check)
        assert rc == 0, output[-4000:]
        assert all(changed == 0 for _ok, changed, _failed in recaps(output).values()), output[-4000:]


def all_ready(client, count=3):
    found = nodes_by_address(client)
    return len(found) == count and all(node["Status"]["State"] == "ready" for node in found.values())


def test_an_image_in_a_registry_is_pulled_by_the_nodes_that_lack_it(cluster, formed, tmp_path):
    """With a registry, a service references the image by its digest there, and the nodes pull it."""
    client = cluster.client()
    runner = Runner(str(tmp_path / "state"), docker_host=cluster.url, workdir=str(tmp_path))
    try:
        wait_for(lambda: all_ready(client), 60, "3 nodes ready")
        with PrivateRegistry(tmp_path / "registry", cluster.bridge.gateway) as registry:
            built = images.build_image(client, "dps-swc-pushed:1", labels={"test": "pushed-to-a-registry"})
            reference = registry.push(client, built.id, "shop", "1")
            for node in cluster.nodes[1:]:
                other = node.client()
                try:
                    assert not other.images.list(filters={"label": "test=pushed-to-a-registry"}), "only the manager"
                finally:
                    other.close()
            deployed = runner.module("dokku_ps_app", dict(name="swreg", image=reference, scheduler="swarm",
                                                          processes={"worker": "sleep 86400"}))
            assert deployed["changed"] is True and not deployed.get("warnings")
            runner.module("dokku_ps_scale", dict(app="swreg", scale={"worker": 3}))
            service = client.services.list(filters={"name": "swreg-worker"})[0]
            image = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
            assert image.startswith("%s/shop@sha256:" % registry.host), image

            def three_running():
                found = [task for task in service.tasks(filters={"desired-state": "running"})
                         if task["Status"]["State"] == "running"]
                return found if len(found) == 3 else None

            tasks = wait_for(three_running, 60, "3 worker tasks running")
            assert len(set(task["NodeID"] for task in tasks)) == 3, "one on each node: the two others pulled it"
            assert runner.module("dokku_ps_app", dict(name="swreg", image=reference, scheduler="swarm",
                                                      processes={"worker": "sleep 86400"}))["changed"] is False
            runner.module("dokku_ps_app", dict(name="swreg", state="absent"))
    finally:
        client.close()


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("%s within %d s" % (what, seconds))


def web_tasks(client):
    """(node address, published port) of the running web tasks of the app."""
    addresses = dict((node.id, node.attrs["Status"]["Addr"]) for node in client.nodes.list())
    found = []
    for service in client.services.list(filters={"label": ["com.dokku.app-name=%s" % APP]}):
        if service.name != "%s-web" % APP:
            continue
        for task in service.tasks(filters={"desired-state": "running"}):
            if task["Status"]["State"] == "running":
                ports = task["Status"].get("PortStatus", {}).get("Ports") or [{}]
                found.append((addresses.get(task["NodeID"]), ports[0].get("PublishedPort")))
    return sorted(found)


def moved(tasks, lost_address):
    """``tasks`` when all 6 run and none on the lost node, else None."""
    return tasks if len(tasks) == 6 and lost_address not in set(address for address, _port in tasks) else None


def upstream(nginx):
    """The members of the app's upstream in its nginx config."""
    return sorted(re.findall(r"server\s+([0-9.]+:\d+)", config(nginx, APP).decode()))


def test_web_spreads_over_the_nodes_and_keeps_answering_when_one_is_lost(cluster, formed, tmp_path):
    nginx = PrivateNginx(tmp_path / "nginx")
    runner = Runner(str(tmp_path / "state"), docker_host=cluster.url, workdir=str(tmp_path))
    client = cluster.client()
    lost = cluster.nodes[2]
    try:
        with nginx:
            args = dict(options(nginx), name=APP, image=images.PROXY_IMAGE, processes=WEB, scheduler="swarm",
                        proxy=True, proxy_ports=["http:%d:5000" % nginx.port], wait_to_retire=1)
            scaled = runner.modules([
                ("dokku_ps_app", args),
                ("dokku_ps_scale", dict(options(nginx), app=APP, scale={"web": 6})),
            ])[-1]
            assert scaled["changed"] is True
            tasks = web_tasks(client)
            assert len(tasks) == 6 and len(set(address for address, _port in tasks)) == 3, tasks
            assert upstream(nginx) == sorted("%s:%d" % task for task in tasks)
            bodies = set(get(nginx.url())[1].strip() for _attempt in range(60))
            assert len(bodies) == 6, "every task answers through nginx: %s" % bodies

            # lose one node (its daemon stops, its tasks with it) while a request loop runs through nginx
            with BackgroundLoop(nginx.url(), seconds=240, pause=0.01) as loop:
                time.sleep(0.5)
                stopped = time.monotonic()
                lost.stop()
                rescheduled = wait_for(lambda: moved(web_tasks(client), lost.address), 120,
                                       "6 web tasks running on the 2 nodes left")
                rescheduled_after = time.monotonic() - stopped
                stale = upstream(nginx)
                restored = runner.module("dokku_ps_state", dict(options(nginx), app=APP, state="restored"))
                whole_after = time.monotonic() - stopped
                time.sleep(1)
            figures = (rescheduled_after, whole_after, loop.result.sent, loop.result.failed)
            print("node lost: tasks rescheduled after %.1f s, upstream whole after %.1f s (dokku_ps_state restored); "
                  "%d requests through nginx, %d failed" % figures)
            assert loop.result.sent > 50 and loop.result.failed == 0, loop.result.errors
            assert stale != sorted("%s:%d" % task for task in rescheduled), "stale until the resync"
            assert restored["containers"] == {key: [] for key in restored["containers"]}, "no service touched"
            assert upstream(nginx) == sorted("%s:%d" % task for task in web_tasks(client))
            assert len(upstream(nginx)) == 6 and lost.address not in " ".join(upstream(nginx))
            again = runner.module("dokku_ps_state", dict(options(nginx), app=APP, state="restored"))
            assert again["changed"] is False, "nothing to bring in step twice"
            runner.module("dokku_ps_app", dict(options(nginx), name=APP, state="absent"))
    finally:
        client.close()
        if not lost.running:
            lost.start()


def test_a_node_leaves_through_the_role_and_joins_again(cluster, formed, tmp_path):
    _inventory, runner, _checked, _applied, _seconds = formed
    node = cluster.nodes[2]
    if not node.running:
        node.start()
    client = cluster.client()
    try:
        wait_for(lambda: nodes_by_address(client).get(node.address, {}).get("Status", {}).get("State") == "ready",
                 60, "node 2 ready again after its daemon started")
        leaving = write_inventory(tmp_path / "leave.yml", cluster, absent=("n2",))
        rc, _results, output = runner.playbook(FORM, inventory=leaving)
        assert rc == 0, output[-4000:]
        assert states(cluster)["n2"] == ("inactive", False)
        assert node.address not in nodes_by_address(client), "the node that left is removed from the list"
        rc, _results, output = runner.playbook(FORM, inventory=leaving)
        assert rc == 0 and recaps(output)["n2"][1] == 0, output[-4000:]

        rejoin = write_inventory(tmp_path / "rejoin.yml", cluster)
        rc, _results, output = runner.playbook(FORM, inventory=rejoin)
        assert rc == 0, output[-4000:]
        assert states(cluster)["n2"] == ("active", False)
        rejoined = nodes_by_address(client)[node.address]
        assert rejoined["Status"]["State"] == "ready" and rejoined["Spec"]["Labels"]["zone"] == "z2"
    finally:
        client.close()
