#!/usr/bin/env python
"""Run one module of the collection directly (no ansible-playbook) and show where its time goes.

    .venv/bin/python bench/profile_module.py dokku_ps_scale '{"app": "bn-x", "scale": {"web": 30}}' \
        --state-dir /tmp/bn-prof/state [--docker-host unix:///...] [--top 25]

Prints the module's wall time, the time of its imports (python -X importtime), and the cProfile of the run
(every thread: the profile is enabled through threading.setprofile as well). The module's JSON result goes to
<workdir>/result.json. For the benchmark's gap analysis only; it changes nothing in the collection.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(os.path.dirname(BENCH_DIR), ".build", "collections")

# Runs in the child: profile every thread (the executor's pool threads do the Docker calls).
_CHILD = r"""
import cProfile, pstats, runpy, sys, threading
profiles = []
def _start(*_args):
    profile = cProfile.Profile()
    profiles.append(profile)
    profile.enable()
threading.setprofile(_start)
main = cProfile.Profile()
profiles.append(main)
sys.argv = [sys.argv[1], sys.argv[2]]
main.enable()
try:
    runpy.run_module(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
finally:
    main.disable()
    stats = None
    for profile in profiles:
        try:
            profile.disable()
        except Exception:
            pass
        try:
            stats = pstats.Stats(profile) if stats is None else stats.add(profile)
        except TypeError:
            pass
    stats.dump_stats("PROFILE_PATH")
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("module")
    parser.add_argument("args", help="module arguments as JSON")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--docker-host", default="unix:///var/run/docker.sock")
    parser.add_argument("--top", type=int, default=25)
    options = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="bn-profile-")
    args = dict(json.loads(options.args), state_dir=options.state_dir, docker_host=options.docker_host)
    args_path = os.path.join(workdir, "args.json")
    with open(args_path, "w", encoding="utf-8") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    module = "ansible_collections.dokku_ps.docker.plugins.modules.%s" % options.module
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    imports = subprocess.run([sys.executable, "-X", "importtime", "-c", "import %s" % module], env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    total_import = 0
    for line in imports.stderr.splitlines():
        if line.rstrip().endswith("| " + module):
            total_import = int(line.split("|")[1]) / 1e6
    profile_path = os.path.join(workdir, "module.prof")
    child = _CHILD.replace("PROFILE_PATH", profile_path)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", child, module, args_path], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    wall = time.perf_counter() - started
    with open(os.path.join(workdir, "result.json"), "w", encoding="utf-8") as handle:
        handle.write(proc.stdout)
    print("module %s: wall %.3f s (python start, imports and run, profiled), imports %.3f s, rc %s"
          % (options.module, wall, total_import, proc.returncode))
    if proc.stderr.strip():
        print(proc.stderr[-2000:])
    import pstats  # pylint: disable=import-outside-toplevel
    stats = pstats.Stats(profile_path)
    stats.sort_stats("cumulative").print_stats(options.top)
    print("result: %s" % os.path.join(workdir, "result.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
