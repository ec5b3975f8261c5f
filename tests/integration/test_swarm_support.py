"""A private single-node Docker Swarm (``tests/support/swarm.py``) for the swarm scheduler of issue 24: the
daemon is a manager, services run their replicas, web tasks published in host mode with ``dnsrr`` are answered
from the host at ``<node address>:<port Docker picked>``, rolling updates complete, and scaling to 0 and
removing a service leaves nothing; ``cleanup()`` leaves nothing even after a crash of the node. Three nodes
(started by this support, formed by the role ``dokku_ps.docker.swarm``) are tested in test_swarm_cluster.py: web=6
spreads over them and the tasks of a stopped node come back on the others.

The tests also print what they measure (run with ``-s`` to see it): create -> running, the rolling update with
``order=start-first``, whether ingress (routing mesh, VIP) publishing answers here. The numbers are written down
in the docstring of ``tests/support/swarm.py``. Ingress is recorded, never asserted: this kernel has no IPVS.
"""

from __future__ import annotations

import calendar
import os
import secrets
import time

import docker.errors
import pytest
from docker.types import EndpointSpec, ServiceMode, UpdateConfig

from tests.support import daemons, images, swarm

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="private Docker daemons need root")

LABEL = "io.dokku-ps.test"
LABEL_VALUE = "swarm-support"
WEB_PORT = 5000
WAIT_SECONDS = 60
STOP_GRACE_NS = 5 * 10**9


def _say(message):
    print("\nswarm: %s" % message)


@pytest.fixture(scope="module")
def sw(tmp_path_factory):
    yield from swarm.private_swarm(tmp_path_factory, "swt")


@pytest.fixture
def client(sw):
    """A client of the manager; the test's services are removed afterwards (bounded wait for their containers)."""
    client = sw.client()
    yield client
    services = client.services.list(filters={"label": "%s=%s" % (LABEL, LABEL_VALUE)})
    for service in services:
        service.remove()
    for service in services:
        swarm.wait_no_containers(client, service.id, timeout=WAIT_SECONDS)
    client.close()


def _image_id(client, tag):
    return client.images.get(tag).id


def _name(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(3))


def _web_service(client, name, replicas=2, image=None, endpoint_spec=None, **kwargs):
    """PROXY_IMAGE's busybox httpd on WEB_PORT (its page is the container's hostname), referenced by image ID."""
    if endpoint_spec is None:
        endpoint_spec = EndpointSpec(mode="dnsrr", ports=[{"Protocol": "tcp", "TargetPort": WEB_PORT,
                                                           "PublishMode": "host"}])
    return client.services.create(
        image or _image_id(client, images.PROXY_IMAGE), command=images.PROXY_WEB_COMMAND, name=name,
        env=["PORT=%d" % WEB_PORT], init=True, stop_grace_period=STOP_GRACE_NS, labels={LABEL: LABEL_VALUE},
        mode=ServiceMode("replicated", replicas=replicas), endpoint_spec=endpoint_spec, **kwargs)


def _timed_tasks(client, service, count):
    started = time.monotonic()
    tasks = swarm.wait_tasks(client, service.id, count, timeout=WAIT_SECONDS)
    return tasks, time.monotonic() - started


def _get_until_answered(url, expected=None, seconds=10.0):
    """GET ``url`` until it answers 200 (and ``expected`` is the body), at most ``seconds``; the last result."""
    deadline = time.monotonic() + seconds
    while True:
        status, body = swarm.http_get(url, timeout=2.0)
        if (status == 200 and (expected is None or body == expected)) or time.monotonic() >= deadline:
            return status, body
        time.sleep(0.2)


def _refused_until(url, seconds=10.0):
    """GET ``url`` until it fails (nothing publishes that port any more), at most ``seconds``; the last result."""
    deadline = time.monotonic() + seconds
    while True:
        status, body = swarm.http_get(url, timeout=2.0)
        if status is None or time.monotonic() >= deadline:
            return status, body
        time.sleep(0.2)


def _timestamp(text):
    """Seconds since the epoch of a Docker RFC 3339 timestamp with up to nanoseconds (``...T12:00:00.123Z``)."""
    stamp, _dot, fraction = text.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S")) + float("0." + (fraction or "0"))


def _host_ports_of(tasks):
    ports = {}
    for task in tasks:
        task_ports = swarm.task_ports(task)
        assert len(task_ports) == 1, (task["ID"], task["Status"])
        assert task_ports[0]["target"] == WEB_PORT and task_ports[0]["protocol"] == "tcp", task_ports
        ports[task["ID"]] = task_ports[0]["published"]
    return ports


def test_the_daemon_is_a_single_node_swarm_manager(sw):
    client = sw.client()
    try:
        info = client.info()
        state = info["Swarm"]
        assert state["ControlAvailable"] is True
        assert state["LocalNodeState"] == "active"
        assert state["NodeAddr"] == sw.address
        assert (state["Nodes"], state["Managers"]) == (1, 1)
        node = client.nodes.get(state["NodeID"]).attrs
        assert node["Status"]["State"] == "ready" and node["Status"]["Addr"] == sw.address
        assert node["ManagerStatus"]["Leader"] is True
        assert node["ManagerStatus"]["Addr"] == "%s:%d" % (sw.address, swarm.SWARM_PORT)
        assert {"bridge", "ingress"} <= {network.name for network in client.networks.list()}
    finally:
        client.close()
    # its own network namespace, the named one, which the host reaches through the bridge
    manager = sw.manager
    assert os.stat(manager.netns).st_ino == os.stat(manager.netns_path).st_ino
    assert os.readlink(manager.netns) != os.readlink("/proc/self/ns/net")
    assert sw.bridge.leftovers()["rules"], "no ACCEPT rule for the bridge in the host's FORWARD path"
    _say("node %s at %s (bridge %s %s); start of the whole swarm %.2fs (nodes with images %.2fs, swarm init %.2fs)"
         % (manager.name, sw.address, sw.bridge.name, sw.bridge.subnet, sw.timings["start"], sw.timings["nodes"],
            sw.timings["init"]))


def test_a_replicated_service_runs_its_replicas(sw, client):
    name = _name("sw-rep")
    service = client.services.create(_image_id(client, images.BASE_IMAGE), command=["sleep", "86400"], name=name,
                                     init=True, labels={LABEL: LABEL_VALUE}, mode=ServiceMode("replicated", replicas=2))
    tasks, seconds = _timed_tasks(client, service, 2)
    assert sorted(task["Slot"] for task in tasks) == [1, 2]
    assert {task["NodeID"] for task in tasks} == {client.info()["Swarm"]["NodeID"]}
    containers = swarm.service_containers(client, service.id, all=False)
    assert sorted(c["Id"] for c in containers) == sorted(t["Status"]["ContainerStatus"]["ContainerID"] for t in tasks)
    _say("service create -> 2 tasks running: %.2fs (image by ID)" % seconds)

    # By tag the executor first tries to pull (and logs the failure), then uses the local image.
    tagged = client.services.create(images.BASE_IMAGE, command=["sleep", "86400"], name=_name("sw-tag"), init=True,
                                    labels={LABEL: LABEL_VALUE}, mode=ServiceMode("replicated", replicas=2))
    _tasks, tag_seconds = _timed_tasks(client, tagged, 2)
    pulled = "pulling image failed" in sw.manager.log_tail(lines=100000)
    _say("service create -> 2 tasks running: %.2fs with the image by TAG (dockerd logged 'pulling image failed': %s)"
         % (tag_seconds, pulled))


def test_dnsrr_web_tasks_published_in_host_mode_answer_from_the_host(sw, client):
    service = _web_service(client, _name("sw-web"))
    tasks, seconds = _timed_tasks(client, service, 2)
    ports = _host_ports_of(tasks)
    assert len(set(ports.values())) == 2, ports
    assert all(1024 < port < 65536 for port in ports.values()), ports
    endpoint = client.api.inspect_service(service.id)["Endpoint"]
    assert endpoint["Spec"]["Mode"] == "dnsrr"
    assert not [port for port in endpoint.get("Ports") or [] if port.get("PublishedPort")], endpoint
    assert not endpoint.get("VirtualIPs"), endpoint
    answers = {}
    for task in tasks:
        container_id = task["Status"]["ContainerStatus"]["ContainerID"]
        url = "http://%s:%d/" % (sw.address, ports[task["ID"]])
        status, body = _get_until_answered(url, expected=container_id[:12])
        assert (status, body) == (200, container_id[:12]), "%s from the host: %s %s" % (url, status, body)
        answers[url] = body
    rules = "\n".join(sw.manager.nat_rules())
    for port in ports.values():
        assert "--dport %d -j DNAT" % port in rules, rules
    _say("dnsrr + host mode: create -> running %.2fs; ports Docker picked, from Status.PortStatus.Ports of each task: "
         "%s; answered from the host: %s" % (seconds, sorted(ports.values()), answers))


def test_ingress_routing_mesh_is_recorded(sw, client):
    """Records whether ingress (VIP, routing mesh) publishing answers here; only the task is asserted."""
    published = 30000 + secrets.randbelow(2000)
    service = _web_service(client, _name("sw-vip"), replicas=1,
                           endpoint_spec=EndpointSpec(mode="vip", ports={published: WEB_PORT}))
    tasks, seconds = _timed_tasks(client, service, 1)
    endpoint = client.api.inspect_service(service.id)["Endpoint"]
    url = "http://%s:%d/" % (sw.address, published)
    status, body = _get_until_answered(url, seconds=3.0)
    no_ipvs = "Could not get ipvs family information" in sw.manager.log_tail(lines=100000)
    outcome = "ANSWERED (%s %s)" % (status, body) if status == 200 else "does NOT answer (%s)" % body
    _say("ingress publishing (mode vip, port %d, VIPs %s): task running after %.2fs, %s %s; dockerd logged "
         "that it has no IPVS: %s" % (published, [vip["Addr"] for vip in endpoint.get("VirtualIPs", [])], seconds,
                                      url, outcome, no_ipvs))
    assert tasks[0]["Status"]["State"] == "running"


@pytest.mark.parametrize("monitor_seconds", [1, 5])
def test_rolling_update_start_first(sw, client, monitor_seconds):
    update = UpdateConfig(parallelism=1, delay=0, order="start-first", monitor=monitor_seconds * 10**9,
                          failure_action="rollback")
    service = _web_service(client, _name("sw-upd"), update_config=update)
    before = _host_ports_of(_timed_tasks(client, service, 2)[0])
    service.reload()
    started = time.monotonic()
    service.update(env=["PORT=%d" % WEB_PORT, "REVISION=2"])
    most_running = 0
    deadline = started + WAIT_SECONDS + 2 * monitor_seconds
    while True:
        running = [task for task in client.api.tasks(filters={"service": service.id})
                   if task["Status"]["State"] == "running"]
        most_running = max(most_running, len(running))
        state = (client.api.inspect_service(service.id).get("UpdateStatus") or {}).get("State")
        if state in ("completed", "paused", "rollback_completed", "rollback_paused") or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    seconds = time.monotonic() - started
    assert state == "completed", client.api.inspect_service(service.id).get("UpdateStatus")
    after = _host_ports_of(swarm.wait_tasks(client, service.id, 2, timeout=WAIT_SECONDS))
    assert set(after).isdisjoint(before) and set(after.values()).isdisjoint(before.values()), (before, after)
    for port in after.values():
        assert _get_until_answered("http://%s:%d/" % (sw.address, port))[0] == 200
    # "completed" can come before the last old task has stopped (measured with monitor 1s): wait for them
    completed_seconds = seconds
    deadline = time.monotonic() + WAIT_SECONDS
    while [task for task in client.api.tasks(filters={"service": service.id})
           if task["ID"] in before and task["Status"]["State"] in ("running", "ready", "starting")]:
        assert time.monotonic() < deadline, "old tasks still running %ss after the update" % WAIT_SECONDS
        time.sleep(0.1)
    seconds = time.monotonic() - started
    # start-first: in every slot the new task was running before the old one reached its final state
    overlaps = {}
    for task in client.api.tasks(filters={"service": service.id}):
        entry = overlaps.setdefault(task["Slot"], {})
        if task["ID"] in after:
            entry["new_running"] = _timestamp(task["Status"]["Timestamp"])
        elif task["ID"] in before:
            entry["old_ended"] = _timestamp(task["Status"]["Timestamp"])
            entry["old_state"] = task["Status"]["State"]
    assert sorted(overlaps) == [1, 2], overlaps
    for slot, entry in overlaps.items():
        assert entry["old_state"] in ("shutdown", "complete"), (slot, entry)
        assert entry["new_running"] < entry["old_ended"], (slot, entry)
    overlap = ", ".join("%.2f" % (entry["old_ended"] - entry["new_running"]) for entry in overlaps.values())
    _say("rolling update, order start-first, parallelism 1, monitor %ds, 2 replicas: %.2fs to 'completed', %.2fs "
         "until the old tasks stopped; old and new task of a slot overlapped %s s; at most %d tasks seen running at "
         "once (polled); host ports %s -> %s" % (monitor_seconds, completed_seconds, seconds, overlap, most_running,
                                                 sorted(before.values()), sorted(after.values())))


def test_scaling_to_zero_and_removing_leaves_nothing(sw, client):
    name = _name("sw-gone")
    service = _web_service(client, name)
    ports = _host_ports_of(_timed_tasks(client, service, 2)[0])

    started = time.monotonic()
    service.reload()  # the allocator bumped the version after create: a stale one is refused ("update out of sequence")
    service.scale(0)
    swarm.wait_no_containers(client, service.id, timeout=WAIT_SECONDS, running_only=True)
    scale_seconds = time.monotonic() - started
    assert client.api.tasks(filters={"service": service.id, "desired-state": "running"}) == []
    kept = swarm.service_containers(client, service.id)
    assert all(container["State"] == "exited" for container in kept), [(c["Names"], c["State"]) for c in kept]
    for port in ports.values():
        assert _refused_until("http://%s:%d/" % (sw.address, port))[0] is None

    started = time.monotonic()
    service.remove()
    swarm.wait_no_containers(client, service.id, timeout=WAIT_SECONDS)
    remove_seconds = time.monotonic() - started
    with pytest.raises(docker.errors.NotFound):  # a task filter on a removed service: 404 "service ... not found"
        client.api.tasks(filters={"service": service.id})
    assert not [task for task in client.api.tasks() if task["ServiceID"] == service.id]
    with pytest.raises(docker.errors.NotFound):
        client.services.get(service.id)
    assert not client.services.list(filters={"name": name})
    deadline = time.monotonic() + WAIT_SECONDS
    while "DNAT" in "\n".join(sw.manager.nat_rules()) and time.monotonic() < deadline:
        time.sleep(0.1)
    rules = "\n".join(sw.manager.nat_rules())
    assert "DNAT" not in rules, rules
    _say("scale 2 -> 0: no task running after %.2fs, %d stopped containers kept as task history; service remove: "
         "containers gone after %.2fs, no tasks, no port mapping left" % (scale_seconds, len(kept), remove_seconds))


def test_cleanup_leaves_nothing_even_after_a_crash(tmp_path_factory):
    """A second private swarm with a running web service: its node crashes, then ``cleanup()`` removes it all."""
    rules_before = set(swarm.host_iptables_rules())
    cluster = swarm.PrivateSwarm(str(tmp_path_factory.mktemp("swarm-swc-")), "swc")
    try:
        cluster.start()
        assert cluster.bridge.subnet is not None
        client = cluster.client()
        try:
            service = _web_service(client, _name("sw-crash"), replicas=1)
            port = swarm.task_ports(swarm.wait_tasks(client, service.id, 1, timeout=WAIT_SECONDS)[0])[0]["published"]
            assert _get_until_answered("http://%s:%d/" % (cluster.address, port))[0] == 200
        finally:
            client.close()
        netns_inode = os.stat(cluster.manager.netns_path).st_ino
        cluster.manager.kill()
        left = cluster.leftovers()
        assert left["links"] and left["rules"] and left["nodes"]["sw-swc-0"]["netns"], left
        assert left["nodes"]["sw-swc-0"]["processes"], "the shims of the running task survive the crash"
    finally:
        cluster.cleanup()
    cleanup_seconds = cluster.timings["cleanup"]
    assert cluster.is_clean(), cluster.leftovers()
    assert swarm.processes_in_netns(netns_inode) == []
    cluster.cleanup()  # idempotent
    rules_after = set(swarm.host_iptables_rules())
    assert not [rule for rule in rules_after - rules_before if cluster.bridge.comment in rule]
    assert not [name for name in os.listdir(swarm.NETNS_DIR) if name.startswith("%s-%s" % (swarm.PREFIX, cluster.tag))]
    assert not os.path.exists(cluster.manager.run_dir) and not os.path.exists(cluster.manager.root_dir)
    assert not daemons.ping(cluster.manager.socket_path)
    _say("second swarm: start %.2fs, cleanup after a crash of its node %.2fs" % (cluster.timings["start"],
                                                                                 cleanup_seconds))
