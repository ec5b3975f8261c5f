"""A private Docker Swarm for tests: private daemons (``tests/support/daemons.py``) that run Swarm mode.

Swarm mode needs what a plain ``PrivateDaemon`` deliberately lacks: an address other than loopback to
advertise and listen on (2377 control, 7946 gossip), and, for the design of issue 24 (web tasks published in
host mode on ports Docker picks), a working port mapping, i.e. iptables and IP forwarding inside the daemon's
network namespace and the default bridge that the task containers attach to. ``PrivateSwarm`` provides:

- a BRIDGE in the host's network namespace, ``dps-sw<tag>`` (``<tag>``: 6 random hex digits), holding the
  first address of a free ``/24`` of ``10.231.0.0/16`` (``SUBNET_POOL``; free = no address or route of the
  host's namespace overlaps it; chosen and created under the lock ``/run/dps-sw.lock`` so two runs never take
  the same one), and one ACCEPT rule ``-i <bridge> -o <bridge>`` at the top of the host's ``DOCKER-USER``
  chain (``FORWARD`` when there is none), tagged ``-m comment --comment dps-sw-<tag>``: frames between two
  ports of a host bridge go through the host's FORWARD chain (``bridge-nf-call-iptables`` is 1), whose policy
  the main daemon sets to DROP. A single node does not need it (host <-> node traffic is OUTPUT/INPUT on the
  host, both ACCEPT: measured, see below); the node <-> node traffic of a multi-node swarm does;
- per node a NAMED network namespace ``/run/netns/dps-sw-<tag>-<i>`` (``ip netns add``) with ``lo`` up and
  ``eth0``, the peer of the veth ``dps-sw<tag>v<i>`` on the bridge, at the address ``<subnet>.<2+i>/24``. No
  default route: nothing leaves the subnet (a pull attempt fails at once instead of waiting for DNS). The
  namespace outlives ``stop()``/``restart()`` of the node, so the node keeps its address and its swarm
  identity across restarts (a plain ``PrivateDaemon`` gets a new namespace at each start);
- per node a ``SwarmNode``, a ``PrivateDaemon`` started as ``nsenter --net=/run/netns/dps-sw-<tag>-<i> --
  dockerd ...`` (``ip netns exec`` does not work: it remounts /sys and dockerd then finds no cgroups) with
  the flags of ``SwarmNode.DOCKERD_FLAGS``: compared with a ``PrivateDaemon`` it KEEPS the default bridge
  (``docker0`` inside the namespace; no ``--bridge=none``), ``--iptables`` (its rules live in the namespace's
  own tables, the host's are not touched) and ``--ip-forward`` (the namespace's ``ip_forward``), and still
  has ``--ip6tables=false --ip-masq=false --userland-proxy=false``, and takes the plain-HTTP registries of
  ``SUBNET_POOL`` (``--insecure-registry``: tests/support/registry.py). Host-mode ports are DNAT rules in the
  namespace to the task's address on its ``docker0``;
- ``swarm init`` on node 0 with ``--advertise-addr``/``--listen-addr``/``--data-path-addr`` its address and
  the default address pool ``10.232.0.0/16`` (``ADDR_POOL``, /24 each: ``ingress`` and overlay networks live
  in namespaces of the node, never on the host); a swarm of several nodes is formed by what is under test
  (the role ``dokku_ps.docker.swarm``: ``form=False``);
- ``cleanup()``, always: ``swarm leave --force`` on every node, then ``PrivateDaemon.cleanup()`` (containers,
  dockerd, containerd, shims, mounts, directories), then the veths, namespaces, the bridge and the iptables
  rule. ``leftovers()`` lists whatever would remain (empty lists when clean).

API::

    from tests.support import swarm

    @pytest.fixture(scope="module")
    def sw(tmp_path_factory):
        yield from swarm.private_swarm(tmp_path_factory, "swt")     # nodes=1: a single-node swarm

    def test_something(sw):
        client = sw.client()             # docker.DockerClient of the manager (node 0); the caller closes it
        sw.address                       # the manager's address, e.g. "10.231.0.2": advertised, reachable
                                         #   from the host's namespace
        sw.nodes, sw.manager             # [SwarmNode, ...]: .address, .url, .client(), .netns_path, .nat_rules(),
                                         #   .in_netns(argv), .stop()/.start()/.restart()/.kill() (PrivateDaemon)
        sw.bridge                        # HostBridge: .name, .subnet, .gateway (the host's address), .comment
        image = client.images.get(images.PROXY_IMAGE)   # standard images: built on node 0, copied to the others
        service = client.services.create(image.id, ...)  # by ID: see below
        tasks = swarm.wait_tasks(client, service.id, 2)  # bounded; raises SwarmError with every task's state/error
        swarm.task_ports(tasks[0])       # [{"published": 32768, "target": 5000, "protocol": "tcp"}] (host mode)
        swarm.http_get("http://%s:%d/" % (sw.address, 32768))   # (200, body) or (None, "error ...")

Also: ``swarm.wait_update(client, service_id)`` (bounded, final ``UpdateStatus`` state),
``swarm.service_containers(client, service_id, all=True)`` (summaries, no inspect),
``swarm.wait_no_containers(client, service_id, running_only=False)``, ``swarm.copy_images(source_client,
target_client, references)`` (save/load, keeps IDs and tags, skips what the target has),
``swarm.host_iptables_rules()``, ``swarm.processes_in_netns(inode)``, ``sw.leftovers()`` / ``sw.is_clean()``,
``sw.timings`` (``nodes``, ``init``, ``start``, ``cleanup`` in seconds).

Without pytest: ``with PrivateSwarm(root_dir, "swt") as sw: ...`` (``start()`` ... ``cleanup()``; the node
inits). ``PrivateSwarm(root_dir, "swc", nodes=3, form=False)`` starts the nodes without ``swarm init`` (for a
role that forms the cluster itself; several nodes are always started so); ``sw.init()`` inits node 0 later.

Measured here (docker.io 26.1.5, kernel 6.18 without IPVS, 2 CPUs, while another integration run used the main
daemon; ``tests/integration/test_swarm_support.py`` prints the single-node numbers at every run, ``pytest -s``;
the three-node ones came from a support test since replaced by ``test_swarm_cluster.py``)
--------------------------------------------------------------------------------------------------------------

- ``swarm init`` of a fresh private daemon: 0.2-0.7 s until ``Swarm.ControlAvailable``; the whole single-node
  fixture (bridge, namespace, dockerd, standard images, init) 3.3-5.7 s, most of it building the images;
  cleanup 1.5-4 s (after a crash of the node, too). A ``swarm join`` of a further node: 0.1-0.2 s until it is
  ``ready``; three nodes (images built once, copied twice) 8-10 s.
- Services must reference images BY ID (``sha256:...``): by tag, every task start first tries to PULL (the
  executor always does, unless dockerd runs with ``DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1``), logs "pulling image
  failed" and then uses the local image. Without a route (as here) that fails at once; in a first experiment
  with a default route the DNS lookup of registry-1.docker.io timed out and EVERY task start took 20 s. By ID
  (or by a digest that exists locally) no pull is tried. Images built separately on two daemons from the same
  context get DIFFERENT IDs; ``docker save``/``load`` keeps the ID (2 MB, 0.1 s here). A task whose image ID
  a node lacks is rejected there and rescheduled on another node (a first 3-node experiment put all 6 tasks
  on the manager, the only node that had that ID, after 16 s).
- ``service create`` -> all tasks ``running``: 0.5-1.0 s for 2 replicas (polling every 0.1 s), 1.2-1.5 s
  for 6 replicas on 3 nodes (spread 2/2/2).
- ``endpoint_spec`` mode ``dnsrr`` with a port in HOST mode without a published port: Docker picks one per
  task from the ephemeral range (32768, 32769, ... on each node; a new one for every new task), readable in
  each TASK's ``Status.PortStatus.Ports[].PublishedPort`` (the node: the task's ``NodeID`` ->
  ``Status.Addr`` of that node). The service's ``Endpoint.Ports`` has no published port and there are no
  ``VirtualIPs``; ``NetworkAttachments`` is empty (the task is only on the node's default bridge; its hostname
  is the first 12 characters of its container ID). ``<node address>:<port>`` from the host's namespace is
  answered by that task. It needs the default bridge: with ``--bridge=none`` the container has ``NetworkMode:
  bridge`` without such a network, ``PortStatus`` stays EMPTY and nothing is published (measured).
- Ingress (routing mesh, VIP): a service published in ingress mode gets its task running and a virtual IP in
  ``Endpoint.VirtualIPs``, but ``<node address>:<published port>`` REFUSES connections; dockerd logs
  "Could not get ipvs family information from the kernel ... Native loadbalancing will not work" and misses
  ``net.ipv4.vs.*`` (every run so far). The test prints this without asserting it.
- Rolling update (``order=start-first``, parallelism 1, delay 0, failure action rollback) of 2 replicas: 1.9-2.3 s
  with ``monitor=1s`` and 5.9-6.5 s with the default ``monitor=5s`` from ``service update`` to
  ``UpdateStatus.State == "completed"`` (the next slot does not wait for the monitor window; "completed" comes
  after the window of the last one). "completed" can come BEFORE the last old task has stopped (0.3-0.4 s
  later with ``monitor=1s``). In each slot the old task ended 1.3-1.6 s after its replacement was running (up to
  4 tasks running at once). The new tasks get new host ports. The update must carry the service's CURRENT
  version: the one returned by ``create`` is stale once the allocator has updated the service ("update out of
  sequence").
- Scale to 0: the tasks are shut down within 1.5 s (containers with ``init=True``; without it busybox httpd as
  PID 1 ignores SIGTERM and the containers stayed up for the stop grace period, 10 s by default) but the STOPPED
  CONTAINERS STAY (task history, ``TaskHistoryRetentionLimit`` 5) and their DNAT rules go. ``service remove``
  returns at once; the containers go 0.2-0.4 s later. A task list filtered on a removed service's ID is a 404
  ("service ... not found"), not an empty list.
- Three nodes: the host reaches every node without the bridge's ACCEPT rule; node -> node through the bridge
  TIMES OUT without it and works with it (measured). A node whose dockerd is stopped (clean stop, as in a reboot)
  is ``down`` and its tasks run on the other nodes 17-19 s later (the dispatcher's heartbeat period is 5 s).

Gotchas
-------

- dockerd runs in the host's MOUNT namespace, so its /sys is the host's: the overlay driver's write to
  ``/sys/class/net/br0/bridge/default_pvid`` (an interface of an overlay sandbox) fails harmlessly ("permission
  denied") as long as the host has no ``br0``. /proc/sys/net is per network namespace, so its sysctls
  (``ip_forward``, ``bridge-nf-call-iptables``) stay in the node's namespace.
- the task containers' addresses (172.17.0.x on the node's ``docker0``) are NOT reachable from the host (the
  host routes 172.17.0.0/16 to its own docker0): use the published ports on the node's address.
- a crash of the test process (SIGKILL) leaves the daemons, namespaces, bridge and rule behind: find them by
  the ``dps-sw`` prefix and the rule comment.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import ipaddress
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import docker
import docker.errors

from tests.support import daemons, images

PREFIX = "dps-sw"
SUBNET_POOL = "10.231.0.0/16"
SUBNET_PREFIX = 24
ADDR_POOL = "10.232.0.0/16"
ADDR_POOL_SUBNET_SIZE = 24
LOCK_PATH = "/run/dps-sw.lock"
NETNS_DIR = "/run/netns"
SWARM_PORT = 2377
FIRST_NODE_HOST = 2  # node i gets <subnet>.<2 + i>; the bridge (the host) has <subnet>.1
_ROUTE_TYPES = {"unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat",
                "anycast"}


class SwarmError(daemons.PrivateDaemonError):
    """A private swarm (its network, a node, the swarm itself, a service) did not behave as expected."""


def _tool(name):
    path = shutil.which(name, path=daemons._search_path())  # pylint: disable=protected-access
    if not path:
        raise SwarmError("%s not found on PATH" % name)
    return path


def _run(argv, timeout=30, check=True):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                            stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise SwarmError("%s: exit %d: %s" % (" ".join(argv), result.returncode,
                                              (result.stderr or result.stdout).strip()))
    return result


def _ip(*args, check=True):
    return _run([_tool("ip")] + list(args), check=check)


def _iptables(*args, check=True):
    return _run([_tool("iptables"), "-w", "10"] + list(args), check=check)


def host_iptables_rules():
    """``iptables -S`` of the host's namespace (filter table), as lines."""
    return _iptables("-S").stdout.splitlines()


def _link_exists(name):
    return os.path.exists("/sys/class/net/%s" % name)


@contextlib.contextmanager
def _lock(timeout=60):
    """An exclusive flock on ``LOCK_PATH`` (bounded wait): subnets are chosen and taken under it."""
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                    raise SwarmError("could not lock %s within %ss: %s" % (LOCK_PATH, timeout, exc)) from exc
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def host_networks():
    """The IPv4 networks of the host's namespace: its addresses and the destinations of its routes."""
    result = []
    for line in _ip("-4", "-o", "addr", "show").stdout.splitlines():
        fields = line.split()
        if "inet" in fields:
            result.append(ipaddress.ip_network(fields[fields.index("inet") + 1], strict=False))
    for line in _ip("-4", "route", "show", "table", "all").stdout.splitlines():
        fields = line.split()
        if fields and fields[0] in _ROUTE_TYPES:
            fields = fields[1:]
        if not fields or fields[0] == "default":
            continue
        try:
            result.append(ipaddress.ip_network(fields[0], strict=False))
        except ValueError:
            continue
    return result


def free_subnet(pool=SUBNET_POOL, prefix=SUBNET_PREFIX, taken=None):
    """The first ``/prefix`` of ``pool`` that overlaps no network of ``host_networks()`` (or ``taken``)."""
    taken = host_networks() if taken is None else taken
    for subnet in ipaddress.ip_network(pool).subnets(new_prefix=prefix):
        if not any(subnet.overlaps(other) for other in taken):
            return subnet
    raise SwarmError("no free /%d left in %s" % (prefix, pool))


class HostBridge:
    """The bridge in the host's namespace that connects the nodes (and the host) of one private swarm."""

    def __init__(self, tag, pool=SUBNET_POOL):
        self.tag = tag
        self.name = PREFIX + tag  # 12 characters; veths add "v<i>" (interface names hold 15)
        self.comment = "%s-%s" % (PREFIX, tag)
        self.pool = pool
        self.subnet = None
        self.gateway = None
        self._rules = []  # (chain, rule spec) we inserted

    def node_address(self, index):
        if self.subnet is None:
            raise SwarmError("bridge %s has no subnet yet: create() it first" % self.name)
        return str(self.subnet.network_address + FIRST_NODE_HOST + index)

    @property
    def rule_spec(self):
        return ["-i", self.name, "-o", self.name, "-m", "comment", "--comment", self.comment, "-j", "ACCEPT"]

    def create(self):
        if self.subnet is not None:
            return
        with _lock():
            subnet = free_subnet(self.pool)
            gateway = subnet.network_address + 1
            _ip("link", "add", self.name, "type", "bridge")
            self.subnet, self.gateway = subnet, str(gateway)
            _ip("addr", "add", "%s/%d" % (gateway, subnet.prefixlen), "dev", self.name)
            _ip("link", "set", self.name, "up")
        chain = "DOCKER-USER" if _iptables("-S", "DOCKER-USER", check=False).returncode == 0 else "FORWARD"
        _iptables("-I", chain, "1", *self.rule_spec)
        self._rules.append((chain, self.rule_spec))

    def remove(self):
        problems = []
        for chain, spec in list(self._rules):
            result = _iptables("-D", chain, *spec, check=False)
            if result.returncode != 0 and _iptables("-C", chain, *spec, check=False).returncode == 0:
                problems.append("iptables -D %s: %s" % (chain, result.stderr.strip()))
            else:
                self._rules.remove((chain, spec))
        if _link_exists(self.name):
            result = _ip("link", "del", self.name, check=False)
            if result.returncode != 0:
                problems.append("ip link del %s: %s" % (self.name, result.stderr.strip()))
        self.subnet = self.gateway = None
        return problems

    def leftovers(self):
        """``{"links": [...], "rules": [...]}``: interfaces named after the bridge, iptables rules with our comment."""
        links = sorted(name for name in os.listdir("/sys/class/net") if name.startswith(self.name))
        rules = [line for line in _iptables("-S", check=False).stdout.splitlines() if self.comment in line]
        return {"links": links, "rules": rules}


def _netns_inode(path):
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def processes_in_netns(inode):
    """Pids of the processes whose network namespace has the inode ``inode``."""
    if inode is None:
        return []
    wanted = "net:[%d]" % inode
    result = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink("/proc/%s/ns/net" % entry) == wanted:
                    result.append(int(entry))
            except OSError:
                continue
    return sorted(result)


class SwarmNode(daemons.PrivateDaemon):
    """A ``PrivateDaemon`` in a named network namespace on a ``HostBridge``, able to run Swarm mode."""

    # the nodes may pull from a private registry over plain HTTP on the test's bridge (tests/support/registry.py)
    DOCKERD_FLAGS = ("--ip6tables=false", "--ip-masq=false", "--userland-proxy=false",
                     "--insecure-registry=%s" % SUBNET_POOL)

    def __init__(self, root_dir, name, bridge, index):
        super().__init__(root_dir, name)
        self.bridge = bridge
        self.index = index
        self.netns_name = "%s-%s-%d" % (PREFIX, bridge.tag, index)
        self.netns_path = os.path.join(NETNS_DIR, self.netns_name)
        self.veth = "%sv%d" % (bridge.name, index)
        self._netns_inode = None

    @property
    def address(self):
        """The node's address on the bridge (reachable from the host): what it advertises to the swarm."""
        return self.bridge.node_address(self.index)

    def command(self):
        binaries = daemons.find_binaries()
        return [
            _tool("nsenter"), "--net=%s" % self.netns_path, "--",
            binaries["dockerd"],
            "--config-file", self.config_file,
            "--host", self.url,
            "--data-root", self.data_root,
            "--exec-root", self.exec_root,
            "--pidfile", self.pidfile,
        ] + list(self.DOCKERD_FLAGS)

    def setup_network(self):
        """Create the namespace, the veth pair and the addresses (idempotent: kept across restarts)."""
        if os.path.exists(self.netns_path) and _link_exists(self.veth):
            return
        self.bridge.create()
        if not os.path.exists(self.netns_path):
            _ip("netns", "add", self.netns_name)
        self._netns_inode = _netns_inode(self.netns_path)
        if not _link_exists(self.veth):
            _ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.netns_name)
        _ip("link", "set", self.veth, "master", self.bridge.name)
        _ip("link", "set", self.veth, "up")
        _ip("-n", self.netns_name, "addr", "replace", "%s/%d" % (self.address, self.bridge.subnet.prefixlen),
            "dev", "eth0")
        _ip("-n", self.netns_name, "link", "set", "eth0", "up")
        _ip("-n", self.netns_name, "link", "set", "lo", "up")

    def teardown_network(self):
        problems = []
        if _link_exists(self.veth):
            result = _ip("link", "del", self.veth, check=False)
            if result.returncode != 0:
                problems.append("ip link del %s: %s" % (self.veth, result.stderr.strip()))
        if os.path.exists(self.netns_path):
            result = _ip("netns", "del", self.netns_name, check=False)
            if result.returncode != 0:
                problems.append("ip netns del %s: %s" % (self.netns_name, result.stderr.strip()))
        return problems

    def start(self, timeout=60):
        self.setup_network()
        super().start(timeout=timeout)

    def in_netns(self, *argv):
        """``argv`` prefixed to run in the node's namespace (``nsenter --net=<path> --``), dockerd running or not."""
        return [_tool("nsenter"), "--net=%s" % self.netns_path, "--"] + list(argv)

    def nat_rules(self):
        """``iptables -t nat -S`` of the node's namespace (its port mappings), as lines."""
        return _run(self.in_netns(_tool("iptables"), "-w", "10", "-t", "nat", "-S")).stdout.splitlines()

    def leave(self, timeout=60):
        """``swarm leave --force`` (a no-op when the node is in no swarm)."""
        client = self.client(timeout=timeout)
        try:
            if client.info()["Swarm"].get("LocalNodeState") in ("inactive", ""):
                return
            client.swarm.leave(force=True)
        finally:
            client.close()

    def cleanup(self, timeout=60):
        """Leave the swarm, ``PrivateDaemon.cleanup()``, then remove the veth and the namespace. Idempotent."""
        problems = []
        if os.path.isdir(self.data_root) and (self.running or self._crashed or self.shim_pids()):
            try:
                self.start(timeout=timeout)  # after a crash: the daemon must run to leave and remove its containers
                self.leave(timeout=timeout)
            except Exception as exc:  # noqa: BLE001
                problems.append("leaving the swarm: %s" % exc)
        try:
            super().cleanup(timeout=timeout)
        except Exception as exc:  # noqa: BLE001
            problems.append(str(exc))
        problems.extend(self.teardown_network())
        if problems:
            raise SwarmError("cleanup of swarm node %s: %s" % (self.name, "; ".join(problems)))

    def leftovers(self):
        result = super().leftovers()
        result["netns"] = [self.netns_path] if os.path.lexists(self.netns_path) else []
        result["links"] = [self.veth] if _link_exists(self.veth) else []
        result["netns_processes"] = processes_in_netns(self._netns_inode)
        return result


class PrivateSwarm:
    """A swarm of ``nodes`` private daemons on one host bridge; node 0 is the manager that ``init`` made."""

    def __init__(self, root_dir, name="sw", nodes=1, form=True, build_images=True):
        if nodes < 1 or (form and nodes > 1):
            raise ValueError("one node formed here, or 1+ nodes with form=False (what is under test forms them)")
        self.root_dir = os.path.abspath(str(root_dir))
        self.name = name
        self.tag = secrets.token_hex(3)
        self.bridge = HostBridge(self.tag)
        self.nodes = [SwarmNode(os.path.join(self.root_dir, "node%d" % index), "sw-%s-%d" % (name, index),
                                self.bridge, index) for index in range(nodes)]
        self.form = form
        self.build_images = build_images
        self.timings = {}

    @property
    def manager(self):
        return self.nodes[0]

    @property
    def address(self):
        return self.manager.address

    @property
    def url(self):
        return self.manager.url

    def client(self, timeout=60):
        """A ``docker.DockerClient`` of the manager (node 0); the caller closes it."""
        return self.manager.client(timeout=timeout)

    def start(self, timeout=60):
        started = time.monotonic()
        self.bridge.create()
        for node in self.nodes:
            node.start(timeout=timeout)
        if self.build_images:
            source = self.manager.client()
            try:
                built = images.build_standard_images(source, log=lambda *a: None)
                for node in self.nodes[1:]:
                    target = node.client()
                    try:
                        copy_images(source, target, sorted(built))
                    finally:
                        target.close()
            finally:
                source.close()
        self.timings["nodes"] = time.monotonic() - started
        if self.form:
            self.init(timeout=timeout)
        self.timings["start"] = time.monotonic() - started

    def init(self, timeout=60):
        """``swarm init`` on node 0, advertising its address; wait (bounded) until it is a manager."""
        started = time.monotonic()
        client = self.manager.client(timeout=timeout)
        try:
            client.swarm.init(advertise_addr=self.address, listen_addr="%s:%d" % (self.address, SWARM_PORT),
                              data_path_addr=self.address, default_addr_pool=[ADDR_POOL],
                              subnet_size=ADDR_POOL_SUBNET_SIZE)
            _wait(lambda: client.info()["Swarm"].get("ControlAvailable"), timeout,
                  "node %s is no swarm manager after init" % self.manager.name, self.manager)
        finally:
            client.close()
        self.timings["init"] = time.monotonic() - started

    def cleanup(self, timeout=60):
        """Leave the swarm and clean up every node (workers first), then the bridge and the rule. Idempotent."""
        started = time.monotonic()
        problems = []
        for node in reversed(self.nodes):
            try:
                node.cleanup(timeout=timeout)
            except Exception as exc:  # noqa: BLE001
                problems.append(str(exc))
        problems.extend(self.bridge.remove())
        self.timings["cleanup"] = time.monotonic() - started
        if problems:
            raise SwarmError("cleanup of private swarm %s: %s" % (self.name, "; ".join(problems)))

    def leftovers(self):
        """What would remain: ``{"nodes": {name: node.leftovers()}, "links": [...], "rules": [...]}``."""
        result = {"nodes": {node.name: node.leftovers() for node in self.nodes}}
        result.update(self.bridge.leftovers())
        return result

    def is_clean(self):
        left = self.leftovers()
        return (not left["links"] and not left["rules"]
                and all(not any(value) for node in left["nodes"].values() for value in node.values()))

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc_info):
        self.cleanup()

    def __repr__(self):
        return "PrivateSwarm(%r, %r, nodes=%d)" % (self.root_dir, self.name, len(self.nodes))


def _wait(predicate, timeout, message, node=None, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except docker.errors.APIError:
            pass
        if time.monotonic() >= deadline:
            raise SwarmError("%s within %ss%s" % (message, timeout, (":\n" + node.log_tail()) if node else ""))
        time.sleep(interval)


def private_swarm(tmp_path_factory, name="sw", nodes=1, form=True, build_images=True, timeout=60):
    """Generator for a pytest fixture: a started ``PrivateSwarm`` (single node by default), always cleaned up.

    ``yield from private_swarm(tmp_path_factory, "swt")`` in a module- or session-scoped fixture.
    """
    cluster = PrivateSwarm(str(tmp_path_factory.mktemp("swarm-%s-" % name)), name, nodes=nodes, form=form,
                           build_images=build_images)
    try:
        cluster.start(timeout=timeout)
        yield cluster
    finally:
        cluster.cleanup(timeout=timeout)


# --- images


def copy_images(source, target, references, timeout=120):
    """Copy images from the daemon of ``source`` to that of ``target`` (clients) by ``docker save``/``load``,
    unless ``target`` has them already; return the references copied. IDs (and tags, for references by tag) are
    kept: images built separately on two daemons from the same context get DIFFERENT IDs (the build time is part
    of the image config), so a service that references an image by ID needs it copied, not rebuilt."""
    copied = []
    for reference in references:
        image_id = source.images.get(reference).id
        try:
            if target.images.get(reference).id == image_id:
                continue
        except docker.errors.ImageNotFound:
            pass
        data = b"".join(source.api.get_image(reference, chunk_size=1024 * 1024))
        target.images.load(data)  # consumes the response stream; raises ImageLoadError on an error in it
        if target.images.get(reference).id != image_id:
            raise SwarmError("copying %s: the target has %s, not %s" % (reference, target.images.get(reference).id,
                                                                        image_id))
        copied.append(reference)
    return copied


# --- services


def _summary(tasks):
    return ["slot %s: %s/%s %s %s" % (task.get("Slot"), task["Status"].get("State"), task.get("DesiredState"),
                                      task["Status"].get("Message", ""), task["Status"].get("Err", ""))
            for task in tasks]


def wait_tasks(client, service_id, count, timeout=60, interval=0.1):
    """Wait (bounded) until exactly ``count`` tasks of the service are desired running and all are ``running``;
    return them. Raises ``SwarmError`` naming every task's state and error."""
    deadline = time.monotonic() + timeout
    while True:
        tasks = client.api.tasks(filters={"service": service_id, "desired-state": "running"})
        if len(tasks) == count and all(task["Status"]["State"] == "running" for task in tasks):
            return tasks
        if time.monotonic() >= deadline:
            every = client.api.tasks(filters={"service": service_id})
            raise SwarmError("service %s: not %d tasks running within %ss: %s" % (
                service_id, count, timeout, "; ".join(_summary(every))))
        time.sleep(interval)


def task_ports(task):
    """The host-mode ports of a task: ``[{"published": ..., "target": ..., "protocol": ...}]`` from its status."""
    return [{"published": port.get("PublishedPort"), "target": port.get("TargetPort"),
             "protocol": port.get("Protocol", "tcp")}
            for port in (task["Status"].get("PortStatus") or {}).get("Ports") or []]


def wait_update(client, service_id, timeout=120, interval=0.1):
    """Wait (bounded) until the service's ``UpdateStatus`` is final; return ``(state, message)``."""
    final = ("completed", "paused", "rollback_completed", "rollback_paused")
    deadline = time.monotonic() + timeout
    while True:
        status = client.api.inspect_service(service_id).get("UpdateStatus") or {}
        if status.get("State") in final:
            return status["State"], status.get("Message", "")
        if time.monotonic() >= deadline:
            raise SwarmError("service %s: update not finished within %ss: %s" % (service_id, timeout, status))
        time.sleep(interval)


def service_containers(client, service_id, all=True):  # pylint: disable=redefined-builtin
    """The containers (on this node) of a service's tasks, as the summaries of ``GET /containers/json`` (dicts with
    ``Id``, ``Names``, ``State``, ...): no inspect per container, which fails on one removed meanwhile."""
    return client.api.containers(all=all, filters={"label": "com.docker.swarm.service.id=%s" % service_id})


def wait_no_containers(client, service_id, timeout=60, running_only=False, interval=0.1):
    """Wait (bounded) until no container (with ``running_only``: no running one) of the service is left."""
    deadline = time.monotonic() + timeout
    while True:
        left = service_containers(client, service_id, all=not running_only)
        if not left:
            return
        if time.monotonic() >= deadline:
            raise SwarmError("service %s: containers left after %ss: %s" % (
                service_id, timeout, [(c["Names"], c["State"]) for c in left]))
        time.sleep(interval)


def http_get(url, timeout=3.0):
    """``GET url`` from the test process: ``(status, body)``, or ``(None, "<error>")`` when it fails."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (OSError, ValueError) as exc:
        return None, "%s: %s" % (type(exc).__name__, exc)
