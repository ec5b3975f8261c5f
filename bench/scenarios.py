"""The scenarios of the benchmark. Each records raw samples into ``Bench.samples``; ``report.py`` summarises.

A sample of the collection is the wall time of ``ansible-playbook`` (``wall``) and the duration of its module
task as seen by the ``dokku_ps_record`` callback (``task``); the module's own time is computed later as the wall time
minus the median wall time of the trivial playbook (``ansible.builtin.ping``). A sample of any other contender
is the wall time of the operation, run from this (warm) Python process or as shell commands.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import re
import shutil
import time

from common import (DEFAULT_POLICY, MAIN_DOCKER, PREFIX, WORKERS, Ansible, Compose, Timer, api_client,
                    cli_run, cli_stop_remove, compose_service, containers_named, expect_running, force_remove,
                    log, raw_create_start, raw_spec, raw_stop_remove, run_many)
import load
from tests.support import daemons, images
from tests.support.docker_proxy import CountingProxy
from tests.support.nginx import BackgroundLoop, PrivateNginx

TYPES = ("web", "worker", "clock")
PROCESSES = dict((ptype, "sleep 86400") for ptype in TYPES)

# The proxy scenario (issue 14). The collection's proxy network: every proxied web container has an address on it.
PROXY_NETWORK = "dokku-ps"
PROXY_WEB = {"web": "sh -c '%s'" % images.PROXY_WEB_SCRIPT}  # busybox httpd on $PORT (5000), answers its hostname
PROXY_CHECKS = {"web": {"uptime": 1}}  # the same short check for every app of the scenario (the default waits 10 s)
PROXY_LOOPS = 2  # Python request loops, one fresh connection per request, during each operation under load
# wrk's connections during each operation under load: 4 keep-alive connections still keep both CPUs busy, and
# with the loops they stay within what ONE web container accepts (busybox httpd listens with a backlog of 9;
# beyond it the kernel drops SYNs, a connect waits for the retransmission 1 s and 3 s later, and nginx's 2 s
# connect timeout answers 504 when no other member is left: overload, not the switch, which is what is counted)
PROXY_LOAD_CONNECTIONS = 4
PROXY_BOUND = 300  # seconds any load of the scenario runs at most (a rollout under load takes 15-30 s)
PROXY_RELOADS = 5  # nginx reloads of the control measurement (a keep-alive client and reloads alone)


class Bench:
    def __init__(self, api, workdir, reps, small=False, compose_skip=None):
        self.api = api
        self.workdir = workdir
        self.reps = reps
        self.small = small
        self.compose_skip = compose_skip
        self.image = images.BASE_IMAGE
        self.image_id = api.inspect_image(self.image)["Id"]
        self.samples = {}
        self.counts = {}
        self.notes = {}
        self.baseline = []
        self._dirs = 0
        self.deadline = None  # time.monotonic() by which the run should end (--budget)
        self.reserve = 0.0  # minimal seconds the steps after the current one need
        self.step = ""
        self.cut = []
        self.proxy_results = {}
        self.https_results = {}  # the https scenario (bench/scenario_https.py)
        self.swarm_results = {}  # the swarm scenario (bench/scenario_swarm.py)

    # -- helpers -------------------------------------------------------------------------------------------

    def repetitions(self, reps=None):
        """Repetition indices; the first always runs, a further one only while the time budget allows it
        (the time of the last repetition, plus the minimal cost of the steps still to come, must fit)."""
        reps = reps or self.reps
        last = 0.0
        for rep in range(reps):
            now = time.monotonic()
            if rep and self.deadline is not None and now + last + self.reserve > self.deadline:
                log("budget: stopping after %d of %d repetition(s) (last one took %.0f s)" % (rep, reps, last))
                self.cut.append("%s: %d of %d repetitions" % (self.step, rep, reps))
                return
            yield rep
            last = time.monotonic() - now

    def size(self, value):
        """Sizes shrink tenfold (at least 2) with --small, for development only."""
        return max(2, value // 10) if self.small else value

    def ansible(self, name, docker_host=MAIN_DOCKER):
        self._dirs += 1
        root = os.path.join(self.workdir, "%02d-%s" % (self._dirs, name))
        return Ansible(os.path.join(root, "run"), os.path.join(root, "state"), docker_host=docker_host)

    def record(self, scenario, contender, wall, task=None, **extra):
        sample = {"wall": wall}
        if task is not None:
            sample["task"] = task
        sample.update(extra)
        self.samples.setdefault(scenario, {}).setdefault(contender, []).append(sample)

    def record_run(self, scenario, contender, run):
        self.record(scenario, contender, run.wall, run.task()["duration"])

    def measure_baseline(self, count):
        ansible = self.ansible("baseline")
        for _index in range(count):
            run = ansible.trivial()
            self.baseline.append({"wall": run.wall, "task": run.task()["duration"]})

    def rotated(self, contenders, rep):
        """Alternate the order of the contenders from one repetition to the next."""
        shift = rep % len(contenders)
        return contenders[shift:] + contenders[:shift]

    def compose_ok(self):
        return self.compose_skip is None

    def fleet_apps(self, prefix, count, policy=None):
        apps = []
        for index in range(1, count + 1):
            app = {"name": "%s%02d" % (prefix, index), "image": self.image, "processes": dict(PROCESSES),
                   "scale": dict((ptype, 1) for ptype in TYPES)}
            if policy:
                app["restart_policy"] = policy
            apps.append(app)
        return apps

    # -- scenario: scale one app 0 -> N -> 0 ---------------------------------------------------------------

    def scale(self, count, scenario_up, scenario_down, contenders, reps=None):
        """Every contender scales its own app 0 -> count, then count -> 0, alternating contenders."""
        ansible = self.ansible("scale-%d" % count)
        app = "bn-sc%d" % count
        ansible.module("dokku_ps_fleet", {"apps": [{"name": app, "image": self.image,
                                                    "processes": {"web": "sleep 86400"}, "scale": {"web": 0}}]})
        compose = None
        if "compose" in contenders:
            compose = Compose(ansible.workdir, "bn-cmp%d" % count, {"web": compose_service(self.image, app)})
            compose.up({"web": 0})
        raw = {"sdk-seq": 1, "sdk-pool8": WORKERS}

        def names(contender):
            return "bn-%s%d" % ({"sdk-seq": "rs", "sdk-pool8": "rp", "cli-loop": "rc"}[contender], count)

        for rep in self.repetitions(reps):
            for contender in self.rotated(list(contenders), rep):
                if contender == "collection":
                    up = ansible.module("dokku_ps_scale", {"app": app, "scale": {"web": count}}, expect_changed=True)
                    expect_running(self.api, app + ".", count, "collection scale up")
                    self.record_run(scenario_up, contender, up)
                    down = ansible.module("dokku_ps_scale", {"app": app, "scale": {"web": 0}}, expect_changed=True)
                    expect_running(self.api, app + ".", 0, "collection scale down")
                    self.record_run(scenario_down, contender, down)
                elif contender in raw:
                    prefix = names(contender)
                    specs = [raw_spec(prefix, "web", i) for i in range(1, count + 1)]
                    with Timer() as up:
                        api = api_client()
                        run_many(functools.partial(raw_create_start, api, self.image_id), specs, raw[contender])
                        api.close()
                    expect_running(self.api, prefix + ".", count, contender)
                    with Timer() as down:
                        api = api_client()
                        run_many(functools.partial(raw_stop_remove, api), [s["name"] for s in specs], raw[contender])
                        api.close()
                    expect_running(self.api, prefix + ".", 0, contender)
                    self.record(scenario_up, contender, up.elapsed)
                    self.record(scenario_down, contender, down.elapsed)
                elif contender == "cli-loop":
                    prefix = names(contender)
                    specs = [raw_spec(prefix, "web", i) for i in range(1, count + 1)]
                    with Timer() as up:
                        for spec in specs:
                            cli_run(self.image_id, spec)
                    expect_running(self.api, prefix + ".", count, contender)
                    with Timer() as down:
                        for spec in specs:
                            cli_stop_remove(spec["name"])
                    expect_running(self.api, prefix + ".", 0, contender)
                    self.record(scenario_up, contender, up.elapsed)
                    self.record(scenario_down, contender, down.elapsed)
                elif contender == "compose":
                    try:
                        with Timer() as up:
                            compose.up({"web": count})
                        expect_running(self.api, compose.project + "_", count, contender)
                        with Timer() as down:
                            compose.up({"web": 0})
                        expect_running(self.api, compose.project + "_", 0, contender)
                    except Exception as exc:  # noqa: BLE001  (compose's failure is a result, not the bench's)
                        self.notes["compose %s" % scenario_up] = "failed: %s" % str(exc).strip().splitlines()[-1][:300]
                        log("scale: compose failed: %s" % exc)
                        force_remove(self.api, compose.project + "_")
                        continue
                    self.record(scenario_up, contender, up.elapsed)
                    self.record(scenario_down, contender, down.elapsed)
        if compose is not None:
            compose.down()

    # -- scenario: converge N apps x 3 types from nothing, then a no-op rerun ------------------------------

    def converge(self, apps_count, scenario, noop_scenario, contenders, reps=None):
        total = apps_count * len(TYPES)
        for rep in self.repetitions(reps):
            for contender in self.rotated(list(contenders), rep):
                if contender == "collection":
                    ansible = self.ansible("fleet-%d" % apps_count)
                    apps = self.fleet_apps("bn-f%d-" % apps_count, apps_count)
                    role = [{"role": "dokku_ps.docker.fleet",
                             "vars": {"dokku_ps_apps": apps, "dokku_ps_state_dir": ansible.state_dir}}]
                    first = ansible.play(roles=role, defaults=False, expect_changed=True)
                    expect_running(self.api, "bn-f%d-" % apps_count, total, "fleet role")
                    again = ansible.play(roles=role, defaults=False, expect_changed=False)
                    self.record_run(scenario, contender, first)
                    self.record_run(noop_scenario, contender, again)
                    force_remove(self.api, "bn-f%d-" % apps_count)
                    shutil.rmtree(os.path.dirname(ansible.state_dir), ignore_errors=True)
                elif contender == "sdk-pool8":
                    prefix = "bn-rf%d-" % apps_count
                    specs = [raw_spec("%s%02d" % (prefix, i), ptype, 1)
                             for i in range(1, apps_count + 1) for ptype in TYPES]
                    with Timer() as first:
                        api = api_client()
                        run_many(functools.partial(raw_create_start, api, self.image_id), specs, WORKERS)
                        api.close()
                    expect_running(self.api, prefix, total, contender)
                    # the floor of a no-op: one list call and a comparison of names
                    with Timer() as again:
                        api = api_client()
                        found = set(n.lstrip("/") for c in containers_named(api, prefix, running_only=True)
                                    for n in c["Names"])
                        missing = [s["name"] for s in specs if s["name"] not in found]
                        api.close()
                    assert not missing, missing
                    self.record(scenario, contender, first.elapsed)
                    self.record(noop_scenario, contender, again.elapsed)
                    force_remove(self.api, prefix)
                elif contender == "cli-loop":
                    prefix = "bn-cf%d-" % apps_count
                    specs = [raw_spec("%s%02d" % (prefix, i), ptype, 1)
                             for i in range(1, apps_count + 1) for ptype in TYPES]
                    with Timer() as first:
                        for spec in specs:
                            cli_run(self.image_id, spec)
                    expect_running(self.api, prefix, total, contender)
                    self.record(scenario, contender, first.elapsed)
                    force_remove(self.api, prefix)
                elif contender == "compose":
                    # compose 1.29 stalls here on ONE project of 150 services (after 9 to 18 containers, also with
                    # COMPOSE_PARALLEL_LIMIT=8), while 30 services work: projects of 10 apps, one after the other
                    workdir = os.path.join(self.workdir, "compose-fleet-%d-%d" % (apps_count, rep))
                    os.makedirs(workdir, exist_ok=True)
                    projects = []
                    for group in range(0, apps_count, 10):
                        services = {}
                        for i in range(group + 1, min(apps_count, group + 10) + 1):
                            for ptype in TYPES:
                                services["a%02d-%s" % (i, ptype)] = compose_service(self.image, "a%02d" % i, ptype)
                        projects.append(Compose(workdir, "bn-cmpf%d-%d" % (apps_count, group // 10), services))
                    try:
                        with Timer() as first:
                            for project in projects:
                                project.up()
                        expect_running(self.api, "bn-cmpf%d-" % apps_count, total, contender)
                        with Timer() as again:
                            for project in projects:
                                project.up()
                        expect_running(self.api, "bn-cmpf%d-" % apps_count, total, contender)
                    except Exception as exc:  # noqa: BLE001  (compose's failure is a result, not the bench's)
                        self.notes["compose %s" % scenario] = "failed: %s" % str(exc).strip().splitlines()[-1][:300]
                        log("converge: compose failed: %s" % exc)
                        continue
                    finally:
                        force_remove(self.api, "bn-cmpf%d-" % apps_count)
                        for project in projects:
                            project.down()
                    self.record(scenario, contender, first.elapsed)
                    self.record(noop_scenario, contender, again.elapsed)

    # -- scenario: restore N apps after a restart of a private daemon --------------------------------------

    def restore(self, apps_count, scenario, reps=None):
        root = os.path.join(self.workdir, "dockerd")
        daemon = daemons.PrivateDaemon(root, "bn")
        total = apps_count * len(TYPES)
        try:
            daemon.start()
            client = daemon.client()
            images.build_standard_images(client, log=lambda *a: None)
            client.close()
            ansible = self.ansible("restore", docker_host=daemon.url)
            # restart policy "no": the daemon itself brings back nothing, the restore has all the work
            apps = self.fleet_apps("bn-r-", apps_count, policy="no")
            ansible.module("dokku_ps_fleet", {"apps": apps, "parallel": 4})
            private = api_client(daemon.url)
            expect_running(private, "bn-r-", total, "restore setup")
            private.close()
            for rep in self.repetitions(reps):
                for contender in self.rotated(["collection", "collection-per-cpu", "sdk-pool8"], rep):
                    with Timer() as restart:
                        daemon.restart()
                    private = api_client(daemon.url)
                    expect_running(private, "bn-r-", 0, "after the daemon restart")
                    if contender.startswith("collection"):
                        # "collection": the module call of the collection's restore playbook (playbooks/restore.yml,
                        # dokku_ps_restore_parallel 8 apps at a time); "collection-per-cpu": the same with parallel -1
                        # (one app per CPU, Dokku's boot unit)
                        parallel = -1 if contender == "collection-per-cpu" else 8
                        run = ansible.module("dokku_ps_state", {"all": True, "state": "restored", "parallel": parallel},
                                             expect_changed=True)
                        self.record(scenario, contender, run.wall, run.task()["duration"], restart=restart.elapsed)
                    else:
                        with Timer() as raw:
                            api = api_client(daemon.url)
                            ids = [c["Id"] for c in containers_named(api, "bn-r-")]
                            run_many(api.start, ids, WORKERS)
                            api.close()
                        self.record(scenario, contender, raw.elapsed, restart=restart.elapsed)
                    expect_running(private, "bn-r-", total, contender)
                    private.close()
        finally:
            try:
                daemon.cleanup()
            except Exception as exc:  # noqa: BLE001
                log("restore: cleanup of the private daemon: %s" % exc)

    # -- scenario: restart policy of N running containers, in place against recreating ---------------------

    def policy(self, count, scenario, reps=None):
        ansible = self.ansible("policy")
        app = "bn-pol"
        ansible.module("dokku_ps_fleet", {"apps": [{"name": app, "image": self.image, "processes": {"web": "sleep 86400"},
                                                    "scale": {"web": count}, "checks": {"web": "skipped"}}]})
        expect_running(self.api, app + ".", count, "policy setup")
        prefix = "bn-polraw"
        specs = [raw_spec(prefix, "web", i) for i in range(1, count + 1)]
        run_many(functools.partial(raw_create_start, self.api, self.image_id), specs, WORKERS)
        policies = ["always", "unless-stopped"]
        for rep in self.repetitions(reps):
            target = policies[rep % 2]
            for contender in self.rotated(["collection", "sdk-pool8-in-place", "sdk-pool8-recreate",
                                           "collection-recreate"], rep):
                if contender == "collection":
                    before = sorted(c["Id"] for c in containers_named(self.api, app + "."))
                    run = ansible.module("dokku_ps_policy", {"app": app, "restart_policy": target}, expect_changed=True)
                    after = sorted(c["Id"] for c in containers_named(self.api, app + "."))
                    assert before == after, "the in-place change replaced containers"
                    wrong = [c for c in after
                             if self.api.inspect_container(c)["HostConfig"]["RestartPolicy"]["Name"] != target]
                    assert not wrong, "%d containers lack policy %s" % (len(wrong), target)
                    self.record_run(scenario, contender, run)
                elif contender == "sdk-pool8-in-place":
                    with Timer() as timer:
                        api = api_client()
                        run_many(lambda s, a=api: a.update_container(s["name"], restart_policy=_policy(target)),
                                 specs, WORKERS)
                        api.close()
                    self.record(scenario, contender, timer.elapsed)
                elif contender == "sdk-pool8-recreate":
                    with Timer() as timer:
                        api = api_client()

                        def recreate(spec, a=api):
                            raw_stop_remove(a, spec["name"])
                            raw_create_start(a, self.image_id, spec, policy=target)
                        run_many(recreate, specs, WORKERS)
                        api.close()
                    expect_running(self.api, prefix + ".", count, contender)
                    self.record(scenario, contender, timer.elapsed)
                elif contender == "collection-recreate":
                    # what Dokku needs for a policy change (ps:set + ps:rebuild): new containers, zero downtime,
                    # checks skipped
                    run = ansible.module("dokku_ps_state", {"app": app, "state": "restarted"}, expect_changed=True)
                    expect_running(self.api, app + ".", count, contender)
                    self.record_run(scenario, contender, run)
        ansible.module("dokku_ps_fleet", {"apps": [{"name": app, "state": "absent"}]})
        force_remove(self.api, prefix)

    # -- API requests of no-op runs ------------------------------------------------------------------------

    def api_calls(self, sizes):
        proxy = CountingProxy(os.path.join(self.workdir, "proxy.sock"))
        try:
            ansible = self.ansible("api-calls")
            app = "bn-api"
            definition = {"name": app, "image": self.image, "processes": {"web": "sleep 86400"}}
            ansible.module("dokku_ps_app", definition)
            # record the policy explicitly once, so that the counted dokku_ps_policy run below is a no-op
            ansible.module("dokku_ps_policy", {"app": app, "restart_policy": DEFAULT_POLICY})
            for size in sizes:
                ansible.module("dokku_ps_scale", {"app": app, "scale": {"web": size}})
                expect_running(self.api, app + ".", size, "api-calls setup")
                runs = {
                    "dokku_ps_app": ("dokku_ps_app", definition),
                    "dokku_ps_scale": ("dokku_ps_scale", {"app": app, "scale": {"web": size}}),
                    "dokku_ps_policy": ("dokku_ps_policy", {"app": app, "restart_policy": DEFAULT_POLICY}),
                    "dokku_ps_state started": ("dokku_ps_state", {"app": app, "state": "started"}),
                    "dokku_ps_fleet (1 app)": ("dokku_ps_fleet", {"apps": [dict(definition, scale={"web": size})]}),
                }
                for label, (module, args) in runs.items():
                    proxy.reset()
                    ansible.module(module, args, docker_host=proxy.url, expect_changed=False)
                    writes = [r for r in proxy.requests if r[0] != "GET"]
                    self.counts.setdefault("noop", {}).setdefault(label, {})[size] = {
                        "requests": proxy.count(), "writes": len(writes),
                        "paths": sorted(set(_path_kind(p) for _m, p in proxy.requests))}
            ansible.module("dokku_ps_fleet", {"apps": [{"name": app, "state": "absent"}]})
        finally:
            proxy.close()

    # -- growth: time and API requests by number of containers and of apps ---------------------------------

    def growth_containers(self, sizes, reps):
        for size in sizes:
            self.scale(size, "grow_up_%d" % size, "grow_down_%d" % size, ["collection", "sdk-pool8"], reps=reps)
        proxy = CountingProxy(os.path.join(self.workdir, "proxy-growth.sock"))
        try:
            for size in sizes:
                ansible = self.ansible("grow-count-%d" % size)
                app = "bn-gc%d" % size
                ansible.module("dokku_ps_fleet", {"apps": [{"name": app, "image": self.image,
                                                            "processes": {"web": "sleep 86400"}, "scale": {"web": 0}}]})
                for label, target in (("up", size), ("down", 0)):
                    proxy.reset()
                    ansible.module("dokku_ps_scale", {"app": app, "scale": {"web": target}}, docker_host=proxy.url,
                                   expect_changed=True)
                    self.counts.setdefault("scale_%s" % label, {})[size] = {"requests": proxy.count()}
                ansible.module("dokku_ps_fleet", {"apps": [{"name": app, "state": "absent"}]})
        finally:
            proxy.close()

    def growth_apps(self, sizes, reps, timed=True):
        for apps_count in sizes:
            if timed:
                self.converge(apps_count, "grow_fleet_%d" % apps_count, "grow_fleet_noop_%d" % apps_count,
                              ["collection", "sdk-pool8"], reps=reps)
        proxy = CountingProxy(os.path.join(self.workdir, "proxy-apps.sock"))
        try:
            for apps_count in sizes:
                ansible = self.ansible("grow-apps-count-%d" % apps_count)
                apps = self.fleet_apps("bn-ga%d-" % apps_count, apps_count)
                # the first no-op after the deploy may find more events since it than the daemon keeps (256: 50 apps
                # make about 300) and then inspects each container once (docs/decisions.md, "Restart policies
                # changed by hand"); the second one is what every later no-op costs
                for label, changed in (("fleet_first", True), ("fleet_noop_first", False), ("fleet_noop", False)):
                    proxy.reset()
                    ansible.module("dokku_ps_fleet", {"apps": apps}, docker_host=proxy.url, expect_changed=changed)
                    self.counts.setdefault(label, {})[apps_count] = {"requests": proxy.count()}
                force_remove(self.api, "bn-ga%d-" % apps_count)
        finally:
            proxy.close()

    # -- scenario: the web proxy: throughput, failed requests under load, the cost in a deploy -------------

    def proxy(self, reps=None, seconds=10, wrk_skip=None):
        """Issue 14's benchmark, against a PRIVATE nginx (tests/support/nginx.py) driven through the modules' nginx
        options, like tests/integration/test_proxy.py. Per repetition:

        1. requests/s of wrk through nginx to the app bn-proxy-web (web=3) and straight to ONE of its web
           containers (its address on the proxy network, port 5000): same client, concurrency and duration,
           in halves ordered A B B A;
        2. failed requests during a rollout of web=3 (a changed env; wait_to_retire at its default), during the
           rollback to the release before it and during a scale 3 -> 1, each under load (``under_load``):
           PROXY_LOOPS Python loops of one fresh connection per request (the issue's request loop, as in the
           integration tests) and, at the same time, PROXY_LOAD_CONNECTIONS keep-alive connections of wrk;
        3. the time of a rollout of web=3 with a changed env of three apps declared alike but for the proxy:
           unproxied, proxied with wait_to_retire 0, proxied with wait_to_retire left at its default (10 s).

        Without wrk (``wrk_skip`` says why) part 1 and the keep-alive counts are left out."""
        results = self.proxy_results
        results.update({"settings": {
            "wrk": None if wrk_skip else {"threads": load.THREADS, "connections": load.CONNECTIONS, "seconds": seconds,
                                          "request_timeout": load.REQUEST_TIMEOUT},
            "wrk_skip": wrk_skip, "loops": PROXY_LOOPS, "load_connections": None if wrk_skip else PROXY_LOAD_CONNECTIONS,
            "nginx_worker_processes": 1, "checks": PROXY_CHECKS},
            "throughput": [], "rollout": [], "rollback": [], "scale_down": [], "reload_control": None})
        server = PrivateNginx(os.path.join(self.workdir, "proxy-nginx"))
        ansible = self.ansible("proxy")
        web_port, wtr0_port, wtr10_port = server.ports(3)
        options = {"nginx_binary": server.binary, "nginx_conf": server.conf, "nginx_include_dir": server.include_dir,
                   "nginx_pid_file": server.pid_file, "nginx_prefix": server.root, "proxy_listen_address": "127.0.0.1"}
        app = "bn-proxy-web"

        def declaration(name, proxy_port=None, **extra):
            args = dict(options, name=name, image=images.PROXY_IMAGE, processes=dict(PROXY_WEB),
                        checks=dict(PROXY_CHECKS), env={"RELEASE": "0"})
            if proxy_port:
                args.update(proxy=True, proxy_ports=["http:%d:5000" % proxy_port])
            args.update(extra)
            return args

        # part 3's apps: the same app three times, only the proxy settings differ (no wait_to_retire: the default)
        deploy_apps = {"collection": declaration("bn-proxy-plain"),
                       "collection-proxy-wtr0": declaration("bn-proxy-wtr0", wtr0_port, wait_to_retire=0),
                       "collection-proxy-wtr10": declaration("bn-proxy-wtr10", wtr10_port)}
        try:
            server.start()
            for args in [declaration(app, web_port)] + list(deploy_apps.values()):
                ansible.module("dokku_ps_app", args, expect_changed=True)
                ansible.module("dokku_ps_scale", dict(options, app=args["name"], scale={"web": 3}), expect_changed=True)
                expect_running(self.api, args["name"] + ".", 3, "proxy setup")
            # what each app's proxy retires with, as dokku_ps_report tells (None: unproxied)
            reported = dict((name, ansible.module("dokku_ps_report", dict(options, app=name)).result.get("proxy") or {})
                            for name in [app] + [args["name"] for args in deploy_apps.values()])
            results["settings"]["wait_to_retire"] = dict(
                (name, proxy.get("wait_to_retire") if proxy.get("enabled") else None) for name, proxy in reported.items())
            log("proxy: wait_to_retire as reported: %s" % results["settings"]["wait_to_retire"])
            for rep in self.repetitions(reps):
                if not wrk_skip:
                    results["throughput"].append(self._proxy_throughput(app, server, seconds, rep))
                    if rep == 0:
                        results["reload_control"] = self._proxy_reload_control(server)
                replaced = ["%s.web.%d" % (app, index) for index in (1, 2, 3)]
                rollout = under_load(server, wrk_skip, lambda r=rep: ansible.module("dokku_ps_app", dict(
                    declaration(app, web_port), env={"RELEASE": str(r + 1)}), expect_changed=True))
                run = rollout.pop("run")
                if run.result["containers"].get("replaced") != replaced:
                    raise RuntimeError("proxy: the rollout did not replace %s" % replaced)
                expect_running(self.api, app + ".", 3, "proxy rollout")
                results["rollout"].append(rollout)
                # back to the release before the rollout's (docs/releases.md): the same rollout, another image record
                previous = run.result["release"]["number"] - 1
                rollback = under_load(server, wrk_skip, lambda p=previous: ansible.module(
                    "dokku_ps_app", dict(options, name=app, release=p), expect_changed=True))
                run = rollback.pop("run")
                if run.result["release"].get("rollback_of") != previous or \
                        run.result["containers"].get("replaced") != replaced:
                    raise RuntimeError("proxy: the rollback to release %d did not replace %s: %s" % (
                        previous, replaced, run.result.get("release")))
                expect_running(self.api, app + ".", 3, "proxy rollback")
                results["rollback"].append(rollback)
                scaled = under_load(server, wrk_skip, lambda: ansible.module(
                    "dokku_ps_scale", dict(options, app=app, scale={"web": 1}), expect_changed=True))
                if scaled.pop("run").result["containers"].get("removed") != replaced[1:]:
                    raise RuntimeError("proxy: the scale-down did not remove %s" % replaced[1:])
                expect_running(self.api, app + ".", 1, "proxy scale-down")
                results["scale_down"].append(scaled)
                log("proxy: rollout %s; rollback %s; scale 3 -> 1 %s" % (
                    under_load_text(rollout), under_load_text(rollback), under_load_text(scaled)))
                ansible.module("dokku_ps_scale", dict(options, app=app, scale={"web": 3}), expect_changed=True)
                for contender in self.rotated(list(deploy_apps), rep):
                    args = deploy_apps[contender]
                    run = ansible.module("dokku_ps_app", dict(args, env={"RELEASE": str(rep + 1)}),
                                         expect_changed=True)
                    expect_running(self.api, args["name"] + ".", 3, contender)
                    self.record_run("proxy_deploy_web3", contender, run)
                log("proxy: deploy web=3 unproxied %.1f s, proxied wait_to_retire 0 %.1f s, default %.1f s (wall)" % tuple(
                    self.samples["proxy_deploy_web3"][c][-1]["wall"] for c in deploy_apps))
        finally:
            for args in [declaration(app)] + list(deploy_apps.values()):
                try:
                    ansible.module("dokku_ps_app", dict(options, name=args["name"], state="absent"))
                except Exception as exc:  # noqa: BLE001  (cleanup_main removes what is left)
                    log("proxy: cleanup of %s: %s" % (args["name"], str(exc).strip().splitlines()[0][:200]))
            force_remove(self.api, "bn-proxy-")
            server.stop()

    def _proxy_direct_url(self, container):
        """The URL of one web container straight, at its address on the proxy network: a container of this run,
        at an address inside the proxy network's subnet of the local daemon (never anything else)."""
        if not container.startswith("bn-proxy-"):
            raise RuntimeError("proxy: %s is not a container of the benchmark" % container)
        address = self.api.inspect_container(container)["NetworkSettings"]["Networks"][PROXY_NETWORK]["IPAddress"]
        subnets = [ipaddress.ip_network(config["Subnet"])
                   for config in self.api.inspect_network(PROXY_NETWORK)["IPAM"]["Config"]]
        if not address or not any(ipaddress.ip_address(address) in subnet for subnet in subnets):
            raise RuntimeError("proxy: %s has no address on the local network %s" % (container, PROXY_NETWORK))
        return "http://%s:5000/" % address

    def _proxy_throughput(self, app, server, seconds, rep):
        """wrk through nginx and straight to web.1 for ``seconds`` each, in two halves ordered A B B A (which is A
        alternates by repetition), so that a drift of the shared machine's load weighs on both alike."""
        urls = {"proxy": server.url(), "direct": self._proxy_direct_url("%s.web.1" % app)}
        first, second = self.rotated(["proxy", "direct"], rep)
        sample = {"order": [first, second, second, first], "direct_target": "%s.web.1" % app}
        runs = {"proxy": [], "direct": []}
        for target in sample["order"]:
            runs[target].append(load.run(urls[target], max(1, seconds // 2)))
        for target, parts in runs.items():
            requests = sum(part["requests"] for part in parts)
            sample[target] = {"runs": parts, "requests": requests, "failed": sum(part["failed"] for part in parts),
                              "rps": requests / sum(part["seconds"] for part in parts)}
        sample["ratio"] = sample["proxy"]["rps"] / sample["direct"]["rps"] if sample["direct"]["rps"] else None
        log("proxy: requests/s through nginx %.0f, straight to one container %.0f (ratio %.2f); failed %d / %d" % (
            sample["proxy"]["rps"], sample["direct"]["rps"], sample["ratio"] or 0, sample["proxy"]["failed"],
            sample["direct"]["failed"]))
        return sample

    def _proxy_reload_control(self, server):
        """wrk's keep-alive connections (as during the operations) while nginx is reloaded PROXY_RELOADS times and
        nothing else changes: what the reloads alone do to a keep-alive client."""
        before = server.reloads()
        log_offset = _size(server.error_log)
        with load.During(server.url(), PROXY_BOUND, connections=PROXY_LOAD_CONNECTIONS, settle=1.0) as during:
            for _index in range(PROXY_RELOADS):
                server.reload()
                time.sleep(1.0)
        control = {"reloads": server.reloads() - before, "wrk": during.result,
                   "nginx_errors": _nginx_errors(server.error_log, log_offset)}
        log("proxy: control, %d reloads and nothing else: wrk %d requests, %d failed (%s)" % (
            control["reloads"], during.result["requests"], during.result["failed"], _wrk_errors(during.result)))
        return control


def under_load(server, wrk_skip, operation, url=None, wrk_url=None, **loop_kwargs):
    """``operation`` (an ansible-playbook run) while PROXY_LOOPS request loops of a fresh connection per request (and
    wrk's PROXY_LOAD_CONNECTIONS keep-alive connections, unless ``wrk_skip``) run through the private nginx
    ``server``: the loops at ``url``, wrk at ``wrk_url`` (both the server's http URL when None; ``loop_kwargs``: the
    loops' SNI/Host name and TLS context for an https URL). Returns the run and what the load counted."""
    url = url or server.url()
    wrk_url = wrk_url or url
    before = server.reloads()
    log_offset = _size(server.error_log)
    loops = [BackgroundLoop(url, count=1000000, seconds=PROXY_BOUND, **loop_kwargs) for _index in range(PROXY_LOOPS)]
    during = None if wrk_skip else load.During(wrk_url, PROXY_BOUND, connections=PROXY_LOAD_CONNECTIONS, settle=0.0)
    with contextlib.ExitStack() as stack:
        for loop in loops:
            stack.enter_context(loop)
        if during is not None:
            stack.enter_context(during)
        time.sleep(1.0)
        with Timer() as timer:
            run = operation()
        time.sleep(1.0)
    results = [loop.result for loop in loops]
    backends = set()
    for result in results:
        backends.update(result.bodies)
    return {"run": run, "seconds": timer.elapsed, "reloads": server.reloads() - before,
            "nginx_errors": _nginx_errors(server.error_log, log_offset),
            "loop": {"sent": sum(r.sent for r in results), "failed": sum(r.failed for r in results),
                     "errors": [e for r in results for e in r.errors][:5],
                     "max_latency": max(r.max_latency for r in results), "backends": len(backends)},
            "wrk": during.result if during is not None else None}


def under_load_text(sample):
    """"S s, F/N failed (fresh connections), K failed (keep-alive)" of an ``under_load`` sample, for the log."""
    return "%.1f s, %d/%d failed (fresh connections), %s failed (keep-alive)" % (
        sample["seconds"], sample["loop"]["failed"], sample["loop"]["sent"], (sample["wrk"] or {}).get("failed", "-"))


def _policy(name):
    from common import policy_dict  # pylint: disable=import-outside-toplevel
    return policy_dict(name)


def _path_kind(path):
    """/v1.45/containers/json?... -> GET-able kind of request, without ids and query."""
    path = re.sub(r"^/v[0-9.]+", "", path.split("?")[0])
    path = re.sub(r"^/images/.+/json$", "/images/{name}/json", path)
    return re.sub(r"^/containers/[^/]+/", "/containers/{id}/", path)


def wait_quiet(max_seconds, log_every=30):
    """Wait (bounded) while other engineers' pytest/ansible-playbook processes run; returns what was seen."""
    deadline = time.monotonic() + max_seconds
    seen = []
    last = 0
    while True:
        others = other_processes()
        seen.append(len(others))
        if not others or time.monotonic() >= deadline:
            return others
        if time.monotonic() - last >= log_every:
            log("waiting: %d pytest/ansible-playbook process(es) of others still run" % len(others))
            last = time.monotonic()
        time.sleep(5)


def other_processes():
    mine = set([os.getpid()])
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine:
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                args = handle.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        text = " ".join(args)
        if ("pytest" in text or "ansible-playbook" in text) and "bench/run.py" not in text:
            found.append(int(entry))
    return found


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _nginx_errors(path, offset, limit=20):
    """What nginx logged at level warn or worse since ``offset`` of its error log, counted by kind of message
    (addresses, ports and connection numbers left out): why requests failed, as nginx saw it."""
    kinds = {}
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read(20 * 1024 * 1024).decode("utf-8", "replace")
    except OSError:
        return kinds
    for line in text.splitlines():
        match = re.search(r"\[(warn|error|crit|alert|emerg)\] [0-9#]+: (?:\*[0-9]+ )?(.*)", line)
        if not match:
            continue
        message = re.sub(r"(client|server|request|upstream|host): .*", "", match.group(2)).rstrip(" ,")
        message = re.sub(r"[0-9]+(\.[0-9]+){3}(:[0-9]+)?", "<address>", message)
        key = "%s: %s" % (match.group(1), message[:160])
        if key in kinds or len(kinds) < limit:
            kinds[key] = kinds.get(key, 0) + 1
    return kinds


def _wrk_errors(result):
    return ", ".join("%s %d" % (key, result[key]) for key in ("connect", "read", "write", "timeout", "non2xx")
                     if result[key]) or "none"


__all__ = ["Bench", "PREFIX", "wait_quiet", "other_processes"]
