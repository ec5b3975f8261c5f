#!/usr/bin/env python
"""Benchmark of dokku_ps.docker against raw Docker SDK calls, a `docker run` CLI loop and docker-compose.

    .venv/bin/python bench/run.py            # full run, 3 repetitions per scenario (about 18 minutes)
    .venv/bin/python bench/run.py --quick    # 1 repetition
    .venv/bin/python bench/run.py --quick --small --only scale   # development: tenfold smaller sizes
    .venv/bin/python bench/run.py --only proxy   # the web proxy (issue 14): a private nginx, wrk (setup.sh installs it)
    .venv/bin/python bench/run.py --only https   # https against http through the same nginx, a deploy with issuance
    .venv/bin/python bench/run.py --only swarm   # scale 0 -> 30 -> 0 and a rollout of web=10 on swarm and docker-local

A full run writes bench/results/latest.json and latest.md and regenerates the table in docs/performance.md, and
the charts (bench/charts.py: docs/images/bench/ and the page's charts section); runs with --small or --only write
bench/results/partial.* instead, and their charts into bench/results/partial-charts/. Every container, app, compose project and
network it creates is named bn-* and removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
sys.path.insert(0, os.path.dirname(BENCH_DIR))

import ansible.release  # noqa: E402  pylint: disable=wrong-import-position
import docker  # noqa: E402  pylint: disable=wrong-import-position

import charts  # noqa: E402  pylint: disable=wrong-import-position
import common  # noqa: E402  pylint: disable=wrong-import-position
import load  # noqa: E402  pylint: disable=wrong-import-position
import report  # noqa: E402  pylint: disable=wrong-import-position
import scenario_https  # noqa: E402  pylint: disable=wrong-import-position
import scenario_swarm  # noqa: E402  pylint: disable=wrong-import-position
import scenarios  # noqa: E402  pylint: disable=wrong-import-position
from tests.support import images  # noqa: E402  pylint: disable=wrong-import-position

ALL = ("scale", "converge", "restore", "policy", "api", "growth", "proxy", "https", "swarm")
RESULTS = os.path.join(BENCH_DIR, "results")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one repetition per scenario instead of 3")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per scenario (default 3, 1 with --quick)")
    parser.add_argument("--small", action="store_true", help="tenfold smaller sizes (development only)")
    parser.add_argument("--only", default="", help="comma-separated subset of: %s" % ", ".join(ALL))
    parser.add_argument("--no-compose", action="store_true", help="leave docker-compose out")
    parser.add_argument("--budget", type=int, default=2100,
                        help="seconds the run should take at most: further repetitions are dropped (and reported) "
                             "when they would not fit; 0: no limit")
    parser.add_argument("--wait-quiet", type=int, default=0,
                        help="wait up to this many seconds for other pytest/ansible-playbook processes to finish")
    args = parser.parse_args(argv)
    args.reps = args.reps or (1 if args.quick else 3)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()] or list(ALL)
    unknown = set(args.only) - set(ALL)
    if unknown:
        parser.error("unknown scenario(s): %s" % ", ".join(sorted(unknown)))
    return args


def setup_compose(image, disabled):
    if disabled:
        return "left out with --no-compose"
    setup = os.path.join(BENCH_DIR, "setup.sh")
    if not common.compose_binary() and os.path.exists(setup):
        subprocess.run(["bash", setup], check=False, timeout=600)
    return common.compose_problem(image)


def setup_wrk():
    """None when wrk (the load generator of the proxy and https scenarios) is there, installed by bench/setup.sh if
    missing."""
    setup = os.path.join(BENCH_DIR, "setup.sh")
    if not load.binary() and os.path.exists(setup):
        subprocess.run(["bash", setup, "wrk"], check=False, timeout=600)
    if not load.binary():
        return "wrk is not installed and bench/setup.sh could not install Debian's package"
    return None


def loadavg():
    return "%.2f/%.2f/%.2f" % os.getloadavg()


def draw_charts(data, stem):
    """The charts of the run (bench/charts.py): a full run's into docs/images/bench/ with the page's charts section,
    any other run's into bench/results/partial-charts/. A chart that cannot be drawn fails nothing: the results
    are written, and `bench/charts.py` draws them later."""
    try:
        if stem == "latest":
            drawn, page = charts.regenerate(data, os.path.join(RESULTS, "latest.json"))
            where = "docs/images/bench/" + ("" if page else " (docs/performance.md has no charts markers)")
        else:
            where = os.path.join(RESULTS, "partial-charts")
            drawn = charts.render(data, where)
        common.log("bench: %d chart(s) in %s" % (len(drawn), where))
    except Exception as exc:  # noqa: BLE001  (matplotlib missing, or a chart that fails: the results count more)
        common.log("bench: charts not drawn (%s: %s); later: .venv/bin/python bench/charts.py" % (type(exc).__name__, exc))


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    started = time.time()
    full = not args.small and args.only == list(ALL)
    client = docker.from_env(timeout=120)
    api = client.api
    workdir = tempfile.mkdtemp(prefix="bn-bench-")
    os.makedirs(RESULTS, exist_ok=True)
    if args.wait_quiet:
        scenarios.wait_quiet(args.wait_quiet)
    others = scenarios.other_processes()
    commit, dirty = common.git_commit()
    meta = {
        "command": " ".join(["bench/run.py"] + (argv if argv is not None else sys.argv[1:])),
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "reps": args.reps, "small": args.small, "only": args.only,
        "docker_version": client.version().get("Version"),
        "ansible": "ansible-core %s" % ansible.release.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_start": loadavg(), "others_at_start": len(others),
        "machine": common.machine(), "commit": commit, "commit_dirty": dirty,
    }
    common.log("bench: %s; workdir %s; load %s; %d other pytest/ansible-playbook process(es)"
               % (meta["command"], workdir, meta["load_start"], len(others)))
    data = {"meta": meta, "skipped": {}}
    failure = None
    bench = None
    try:
        removed = common.cleanup_main(api)
        if removed[0] or removed[1]:
            common.log("bench: removed leftovers of an earlier run: %d container(s), %d network(s)" % removed)
        images.build_standard_images(client, log=common.log)
        compose_skip = setup_compose(images.BASE_IMAGE, args.no_compose)
        if compose_skip:
            common.log("bench: compose contender SKIPPED: %s" % compose_skip)
            data["skipped"]["compose"] = compose_skip
        else:
            common.log("bench: docker-compose works offline with a local image")
        wrk_skip = setup_wrk() if "proxy" in args.only or "https" in args.only else None
        if wrk_skip:
            common.log("bench: proxy and https throughput, keep-alive counts SKIPPED: %s" % wrk_skip)
            data["skipped"]["proxy and https throughput"] = wrk_skip
        pebble_skip = scenario_https.pebble_problem() if "https" in args.only else None
        if pebble_skip:
            data["skipped"]["https deploy with issuance"] = pebble_skip
        bench = scenarios.Bench(api, workdir, args.reps, small=args.small, compose_skip=compose_skip)
        bench.measure_baseline(max(3, args.reps + 2))
        contenders = ["collection", "sdk-seq", "sdk-pool8", "cli-loop"] + ([] if compose_skip else ["compose"])
        steps = [
            ("scale", lambda: bench.scale(bench.size(30), "scale_up_30", "scale_down_30", contenders)),
            # the CLI loop and sequential SDK calls are linear in containers: their cost per container is in "scale"
            ("converge", lambda: bench.converge(bench.size(50), "converge_50", "converge_noop_50",
                                                [c for c in contenders if c not in ("sdk-seq", "cli-loop")])),
            ("restore", lambda: bench.restore(bench.size(50), "restore_50")),
            ("policy", lambda: bench.policy(bench.size(30), "policy_30")),
            ("api", lambda: bench.api_calls([bench.size(1) if args.small else 1, bench.size(10), bench.size(50)])),
            ("growth", lambda: (bench.growth_containers([bench.size(10), bench.size(100)], min(args.reps, 2)),
                                bench.growth_apps([bench.size(10)], min(args.reps, 2)),
                                bench.growth_apps([bench.size(10), bench.size(50)], args.reps, timed=False))),
            # --small: 3 s of load per wrk run instead of 10 (the app sizes are the issue's: web=3)
            ("proxy", lambda: bench.proxy(seconds=3 if args.small else 10, wrk_skip=wrk_skip)),
            # --small: 2 s of load per target and connection mode instead of 6
            ("https", lambda: scenario_https.run(bench, seconds=2 if args.small else 6, wrk_skip=wrk_skip,
                                                 pebble_skip=pebble_skip)),
            # a private single-node swarm against the main daemon (docker-local), the same modules
            ("swarm", lambda: scenario_swarm.run(bench)),
        ]
        # minimal cost of one repetition of each step on an idle machine, to keep room for the steps to come
        minimal = {"scale": 50, "converge": 100, "restore": 90, "policy": 35, "api": 60, "growth": 180, "proxy": 150,
                   "https": 90, "swarm": 85}
        if args.budget:
            bench.deadline = time.monotonic() + args.budget - (time.time() - started)
        for position, (name, step) in enumerate(steps):
            if name not in args.only:
                continue
            bench.step = name
            bench.reserve = sum(minimal[later] for later, _s in steps[position + 1:] if later in args.only)
            step_started = time.time()
            common.log("bench: %s ..." % name)
            step()
            common.log("bench: %s done in %.0f s (load %s)" % (name, time.time() - step_started, loadavg()))
            bench.measure_baseline(1)
    except Exception as exc:  # noqa: BLE001  (report what was measured, then fail)
        failure = "%s\n%s" % (exc, traceback.format_exc())
        common.log("bench: FAILED: %s" % failure)
    finally:
        removed = common.cleanup_main(api)
        common.log("bench: cleanup removed %d container(s), %d network(s)" % removed)
        shutil.rmtree(workdir, ignore_errors=True)
    meta["load_end"] = loadavg()
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    meta["duration_s"] = round(time.time() - started, 1)
    if bench is None:
        print(failure, file=sys.stderr)
        return 1
    data["summary"] = report.summarise(bench)
    data["counts"] = bench.counts
    data["targets"] = report.targets(data["summary"], bench.counts, data["skipped"].get("compose"))
    data["predictions"] = report.predictions(data["summary"], bench.counts)
    data["samples"] = bench.samples
    data["notes"] = bench.notes
    meta["repetitions_cut"] = bench.cut
    data["baseline_samples"] = bench.baseline
    if bench.proxy_results:
        data["proxy"] = bench.proxy_results
    if bench.https_results:
        data["https"] = bench.https_results
    if bench.swarm_results:
        data["swarm"] = bench.swarm_results
    if failure:
        data["failure"] = failure.splitlines()[0]
    table = report.markdown(data)
    stem = "latest" if full and not failure else "partial"
    with open(os.path.join(RESULTS, stem + ".json"), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True, default=str)
        handle.write("\n")
    with open(os.path.join(RESULTS, stem + ".md"), "w", encoding="utf-8") as handle:
        handle.write(table)
    print()
    print(table)
    if stem == "latest":
        if report.update_doc(table):
            common.log("bench: docs/performance.md regenerated")
        else:
            common.log("bench: docs/performance.md has no result markers; not updated")
    # the charts from the JSON as written (keys sorted, numbers as text): what `bench/charts.py` draws them from later
    draw_charts(charts.load(os.path.join(RESULTS, stem + ".json")), stem)
    common.log("bench: %s in %.0f s; results in bench/results/%s.json and .md" % (
        "FAILED" if failure else "done", time.time() - started, stem))
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
