"""The swarm scenario (issue 24): the same operations through the same modules on a swarm and on docker-local.

The swarm is PRIVATE and has one node (tests/support/swarm.py: a dockerd of its own in a network namespace of its
own, ``swarm init``-ed, with its own build of the standard busybox images, referenced by tag like the tests do: the
module resolves the tag on that daemon and runs the services by image id). docker-local is the main daemon, as in
every other scenario. Each side has its own state directory; ``docker_host`` is the swarm manager's URL or
``unix:///var/run/docker.sock``, nothing else differs in the tasks but what is said below. Per repetition, with the
order of the two sides alternating:

1. scale a ``worker`` type 0 -> 30 (``dokku_ps_scale``), then 30 -> 0, of an app declared anew (untimed) for the
   repetition and deleted again afterwards. ``worker``, not ``web``: on swarm a web task always publishes the web
   port (host mode, a port Docker picks) and on docker-local an unproxied web container publishes nothing, while a
   worker is the same thing on both: no port, no proxy, no checks (a scale waits for none on either side). On swarm
   0 -> 30 creates the type's service (it has none at 0) and 30 -> 0 sets its replicas to 0;
2. a rollout of web=10 (``dokku_ps_app`` with a changed env) of an app that runs web=10 (set up once, untimed):
   - docker-local: every container replaced at once (the collection's default, no app.json ``max_parallel``), the
     new ones watched by a check ``uptime: 5``;
   - swarm, all at once: app.json ``formation.web.max_parallel: 10``, so Swarm's rolling update (start-first) does
     the ten in one batch, then watches them for its monitor window, 5 s (the collection's setting without a
     liveness check): the same rollout as docker-local's, with the same 5 s of watching;
   - swarm, one at a time: the collection's default on swarm (Swarm's too), ten batches of one, then the 5 s.

Times: ``ansible-playbook`` wall and the module task's duration (the record callback, from the task's start to its
result), recorded as the samples ``swarm_scale_up_30``, ``swarm_scale_down_30`` and ``swarm_rollout_web10``; the
ratio swarm / docker-local per repetition goes into ``bench.swarm_results``. Every module returns once what it
asked for has converged (on swarm: every task running, the rolling update completed); after each timed run the
benchmark checks, untimed, with the SDK that exactly the expected number of containers (and tasks) runs, on the new
definition after a rollout. One exception is measured rather than assumed: on swarm a scale to 0 returns once Swarm
no longer wants the tasks running, which can be before their containers have stopped; the benchmark then waits for
the last one and records how long after ``ansible-playbook`` ended that was (``tail``).

Everything is named ``bn-sw*`` (apps, containers, services); the apps are deleted through the modules at the end,
``bn-swl-*`` containers of the main daemon are removed, and the private swarm (its daemon, namespace, bridge and
iptables rule) is cleaned up by its context manager, also on failure.
"""

from __future__ import annotations

import os
import time

from common import containers_named, force_remove, log
from tests.support import images
from tests.support.swarm import PrivateSwarm

SCALE_TYPE = "worker"
SCALE = 30
ROLL = 10
WATCH = 5  # seconds a rollout watches the new containers: docker-local's uptime check, Swarm's monitor window
WEB = {"web": "sh -c '%s'" % images.PROXY_WEB_SCRIPT}  # busybox httpd on $PORT (5000), answers its hostname
LABEL_APP = "com.dokku.app-name"
SETTLE_TIMEOUT = 60  # seconds the untimed checks wait for a container Swarm still stops

LOCAL, SWARM = "docker-local", "swarm"
SIDES = (LOCAL, SWARM)
CONTENDER = {LOCAL: "collection-docker-local", SWARM: "collection-swarm"}
# the rollout's three apps: side, app name, what differs in the declaration
ROLLOUTS = (
    ("collection-docker-local", LOCAL, "bn-swl-roll", {"checks": {"web": {"uptime": WATCH}}}),
    ("collection-swarm", SWARM, "bn-sws-roll", {"app_json": {"formation": {"web": {"max_parallel": ROLL}}}}),
    ("collection-swarm-one", SWARM, "bn-sws-roll1", {}),
)
SCALE_APPS = {LOCAL: "bn-swl-scale", SWARM: "bn-sws-scale"}


def run(bench, reps=None):
    """The scenario (see the module's docstring) into the samples ``swarm_*`` and ``bench.swarm_results``."""
    results = bench.swarm_results
    scale, roll = bench.size(SCALE), bench.size(ROLL)
    results.update({"settings": {"scale_type": SCALE_TYPE, "scale": scale, "rollout_web": roll, "watch": WATCH,
                                 "image_scale": images.BASE_IMAGE, "image_web": images.PROXY_IMAGE},
                    "scale": [], "rollout": []})
    cluster = PrivateSwarm(os.path.join(bench.workdir, "swarm"), "bnsw", nodes=1)
    began = time.perf_counter()
    with cluster:
        results["settings"]["swarm_start_s"] = round(time.perf_counter() - began, 2)
        log("swarm: private single-node swarm on %s (node %s) up in %.1f s" % (
            cluster.bridge.name, cluster.address, results["settings"]["swarm_start_s"]))
        client = cluster.client(timeout=120)
        sides = {LOCAL: _Side(LOCAL, bench.ansible("swarm-local"), bench.api),
                 SWARM: _Side(SWARM, bench.ansible("swarm-swarm", docker_host=cluster.url), client.api)}
        try:
            results["settings"]["swarm_docker"] = client.version().get("Version")
            for contender, kind, app, extra in ROLLOUTS:
                side = sides[kind]
                side.apps.add(app)
                side.ansible.module("dokku_ps_app", _web_app(kind, app, 0, extra), expect_changed=True)
                side.ansible.module("dokku_ps_scale", {"app": app, "scale": {"web": roll}}, expect_changed=True)
                side.expect(app, roll, "rollout setup of %s" % contender)
            for rep in bench.repetitions(reps):
                results["scale"].append(_scale(bench, sides, scale, rep))
                results["rollout"].append(_rollout(bench, sides, roll, rep))
        finally:
            for side in sides.values():
                for app in sorted(side.apps):
                    try:
                        side.ansible.module("dokku_ps_app", {"name": app, "state": "absent"})
                    except Exception as exc:  # noqa: BLE001  (the swarm goes anyway; cleanup_main takes bn-*)
                        log("swarm: cleanup of %s on %s: %s" % (app, side.kind, str(exc).strip().splitlines()[0][:200]))
            force_remove(bench.api, "bn-swl-")
            client.close()
    results["settings"]["swarm_cleanup_s"] = round(cluster.timings.get("cleanup", 0.0), 2)
    if not cluster.is_clean():
        results["settings"]["swarm_leftovers"] = cluster.leftovers()
        log("swarm: the private swarm left something behind: %s" % results["settings"]["swarm_leftovers"])


def _web_app(side, name, release, extra):
    args = {"name": name, "image": images.PROXY_IMAGE, "processes": dict(WEB), "env": {"RELEASE": str(release)}}
    if side == SWARM:
        args["scheduler"] = "swarm"
    args.update(extra)
    return args


def _scale(bench, sides, count, rep):
    """One repetition of part 1: each side's app declared, scaled up and down (timed), deleted."""
    sample = {"order": bench.rotated(list(SIDES), rep)}
    for kind in sample["order"]:
        side, app = sides[kind], SCALE_APPS[kind]
        declaration = {"name": app, "image": images.BASE_IMAGE, "processes": {SCALE_TYPE: "sleep 86400"}}
        if kind == SWARM:
            declaration["scheduler"] = "swarm"
        side.apps.add(app)
        side.ansible.module("dokku_ps_app", declaration, expect_changed=True)
        up = side.ansible.module("dokku_ps_scale", {"app": app, "scale": {SCALE_TYPE: count}}, expect_changed=True)
        up_tail = side.settle(app, count)
        side.expect(app, count, "%s: scale 0 -> %d" % (kind, count))
        down = side.ansible.module("dokku_ps_scale", {"app": app, "scale": {SCALE_TYPE: 0}}, expect_changed=True)
        down_tail = side.settle(app, 0)
        side.expect(app, 0, "%s: scale %d -> 0" % (kind, count))
        side.ansible.module("dokku_ps_app", {"name": app, "state": "absent"})
        side.apps.discard(app)
        sample[kind] = {"up": _times(up, up_tail), "down": _times(down, down_tail)}
        bench.record("swarm_scale_up_30", CONTENDER[kind], up.wall, up.task()["duration"], tail=up_tail)
        bench.record("swarm_scale_down_30", CONTENDER[kind], down.wall, down.task()["duration"], tail=down_tail)
    for step in ("up", "down"):
        sample["ratio_%s" % step] = _ratio(sample[SWARM][step], sample[LOCAL][step])
    log("swarm: scale %s 0 -> %d: docker-local %.1f s, swarm %.1f s (%.2fx); %d -> 0: docker-local %.1f s, swarm "
        "%.1f s (%.2fx) (module task); until the last container stopped: docker-local %.1f s, swarm %.1f s (%.2fx)" % (
            SCALE_TYPE, count, sample[LOCAL]["up"]["task"], sample[SWARM]["up"]["task"], sample["ratio_up"]["task"],
            count, sample[LOCAL]["down"]["task"], sample[SWARM]["down"]["task"], sample["ratio_down"]["task"],
            sample[LOCAL]["down"]["converged"], sample[SWARM]["down"]["converged"], sample["ratio_down"]["converged"]))
    return sample


def _rollout(bench, sides, count, rep):
    """One repetition of part 2: each rollout app deployed with the env RELEASE=<rep + 1> (timed)."""
    release = rep + 1
    sample = {"order": bench.rotated([contender for contender, _s, _a, _e in ROLLOUTS], rep)}
    apps = dict((contender, (side, app, extra)) for contender, side, app, extra in ROLLOUTS)
    for contender in sample["order"]:
        kind, app, extra = apps[contender]
        side = sides[kind]
        side.apps.add(app)
        deployed = side.ansible.module("dokku_ps_app", _web_app(kind, app, release, extra), expect_changed=True)
        tail = side.settle(app, count)
        side.expect(app, count, "%s: rollout of web=%d" % (contender, count), env="RELEASE=%d" % release)
        sample[contender] = dict(_times(deployed, tail), replaced=deployed.result["containers"].get("replaced"))
        bench.record("swarm_rollout_web10", contender, deployed.wall, deployed.task()["duration"], tail=tail)
    for contender, _side, _app, _extra in ROLLOUTS[1:]:
        sample["ratio_%s" % contender] = _ratio(sample[contender], sample[ROLLOUTS[0][0]])
    log("swarm: rollout of web=%d: docker-local %.1f s, swarm all at once %.1f s (%.2fx), swarm one at a time %.1f s "
        "(%.2fx) (module task)" % (
            count, sample["collection-docker-local"]["task"], sample["collection-swarm"]["task"],
            sample["ratio_collection-swarm"]["task"], sample["collection-swarm-one"]["task"],
            sample["ratio_collection-swarm-one"]["task"]))
    return sample


def _times(run, tail):
    """The module task's duration, the ansible-playbook wall time, and ``converged``: the wall time plus what the
    untimed check still had to wait for after ansible-playbook ended (``tail``)."""
    return {"wall": run.wall, "task": run.task()["duration"], "tail": tail, "converged": run.wall + tail}


def _ratio(swarm, local):
    return dict((key, swarm[key] / local[key] if local[key] else None) for key in ("wall", "task", "converged"))


class _Side:
    """One scheduler's side: its Ansible driver (own state directory, its docker_host) and an API client of its
    daemon (the main one, or the swarm's only node) for the untimed checks."""

    def __init__(self, kind, ansible, api):
        self.kind = kind
        self.ansible = ansible
        self.api = api
        self.apps = set()

    def running(self, app):
        """The app's running containers on this daemon (one list call)."""
        if self.kind == LOCAL:
            return containers_named(self.api, app + ".", running_only=True)
        return self.api.containers(filters={"label": "%s=%s" % (LABEL_APP, app)})

    def settle(self, app, count):
        """Seconds from now until exactly ``count`` containers of the app run (0.0: already so), bounded: what a
        module left still stopping when it returned."""
        started = time.perf_counter()
        while len(self.running(app)) != count:
            if time.perf_counter() - started > SETTLE_TIMEOUT:
                raise RuntimeError("swarm: %s on %s: not %d containers running %d s after the module returned" % (
                    app, self.kind, count, SETTLE_TIMEOUT))
            time.sleep(0.05)
        return time.perf_counter() - started

    def expect(self, app, count, what, env=None):
        """Exactly ``count`` running containers of the app (and on swarm ``count`` running tasks desired running),
        every one with ``env`` in its environment when given."""
        found = self.running(app)
        if len(found) != count:
            raise RuntimeError("%s: expected %d running containers of %s, found %d" % (what, count, app, len(found)))
        if self.kind == SWARM:
            tasks = []
            for service in self.api.services(filters={"label": "%s=%s" % (LABEL_APP, app)}):
                tasks += self.api.tasks(filters={"service": service["ID"], "desired-state": "running"})
            running = [task for task in tasks if task["Status"]["State"] == "running"]
            if len(running) != count or len(tasks) != count:
                raise RuntimeError("%s: expected %d running tasks of %s, found %d of %d" % (
                    what, count, app, len(running), len(tasks)))
            if env and any(env not in task["Spec"]["ContainerSpec"].get("Env", []) for task in tasks):
                raise RuntimeError("%s: a task of %s runs without %s" % (what, app, env))
        if env:
            stale = [c["Id"][:12] for c in found if env not in (self.api.inspect_container(c["Id"])["Config"]["Env"] or [])]
            if stale:
                raise RuntimeError("%s: containers of %s without %s: %s" % (what, app, env, stale))


__all__ = ["run"]
