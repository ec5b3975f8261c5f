# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small results JSON of bench/run.py for the tests of bench/charts.py, made the way run.py makes one: raw
samples, counts and scenario results summarised by bench/report.py, then through JSON (whose keys are strings).
Every section a full run writes is there (scale, converge, growth, API requests, proxy, https, swarm), with
few repetitions and made-up times; ``without`` leaves sections out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BENCH_DIR = os.path.join(REPO_ROOT, 'bench')
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)

import report  # noqa: E402  pylint: disable=wrong-import-position

CONTENDERS = ('collection', 'sdk-seq', 'sdk-pool8', 'cli-loop', 'compose')
# what each contender's labels in the charts are, by contender key (bench/charts.py GROWTH_SERIES)
LABELS = {'collection': 'collection (module time)', 'sdk-seq': 'raw SDK, sequential', 'sdk-pool8': 'raw SDK, 8 threads',
          'cli-loop': 'docker run -d loop', 'compose': 'docker-compose 1.29'}


class FakeBench:
    """What report.summarise reads of bench/scenarios.Bench."""

    def __init__(self):
        self.samples = {}
        self.counts = {}
        self.baseline = [{'wall': 1.5, 'task': 0.6}, {'wall': 1.7, 'task': 0.7}, {'wall': 1.6, 'task': 0.65}]
        self.proxy_results = {}
        self.https_results = {}
        self.swarm_results = {}

    def record(self, scenario, contender, walls, tasks=None, **extra):
        for index, wall in enumerate(walls):
            sample = {'wall': wall}
            if tasks:
                sample['task'] = tasks[index]
            sample.update(dict((key, values[index]) for key, values in extra.items()))
            self.samples.setdefault(scenario, {}).setdefault(contender, []).append(sample)


def _wrk(requests, failed, read=0):
    return {'requests': requests, 'failed': failed, 'connect': 0, 'read': read, 'write': 0, 'timeout': 0, 'non2xx': 0,
            'seconds': 5.0, 'latency': {'p50': 0.002, 'p99': 0.009}}


def _target(rps, failed=0):
    runs = [_wrk(int(rps * 2.5), failed), _wrk(int(rps * 2.5), 0)]
    return {'runs': runs, 'requests': int(rps * 5), 'failed': failed, 'rps': float(rps)}


def _under_load(sent, failed, wrk_requests, wrk_failed):
    return {'seconds': 15.0, 'reloads': 1, 'nginx_errors': {},
            'loop': {'sent': sent, 'failed': failed, 'errors': [], 'max_latency': 0.2, 'backends': 6},
            'wrk': _wrk(wrk_requests, wrk_failed, read=wrk_failed)}


def results(without=()):
    bench = FakeBench()
    for scenario, base in (('scale_up_30', 3.0), ('scale_down_30', 1.5)):
        for number, contender in enumerate(CONTENDERS):
            walls = [base * (1 + 0.3 * number) + delta for delta in (0.0, 0.2, 0.4)]
            tasks = [wall - 1.0 for wall in walls] if contender == 'collection' else None
            bench.record(scenario, contender, [wall + (1.6 if tasks else 0) for wall in walls], tasks)
    for size, factor in ((10, 0.4), (100, 4.0)):
        for scenario, base in (('grow_up_%d' % size, 3.0 * factor), ('grow_down_%d' % size, 1.5 * factor)):
            bench.record(scenario, 'collection', [base + 2.0, base + 2.3], [base + 1.0, base + 1.2])
            bench.record(scenario, 'sdk-pool8', [base, base + 0.1])
    for scenario, base, reps in (('converge_50', 20.0, 3), ('grow_fleet_10', 4.0, 1)):
        bench.record(scenario, 'collection', [base * 1.3 + 1.6] * reps, [base * 1.3] * reps)
        bench.record(scenario, 'sdk-pool8', [base] * reps)
        if scenario == 'converge_50':
            bench.record(scenario, 'compose', [base * 1.6] * reps)
    for scenario, reps in (('converge_noop_50', 3), ('grow_fleet_noop_10', 1)):
        bench.record(scenario, 'collection', [2.8] * reps, [1.3] * reps)
        bench.record(scenario, 'sdk-pool8', [0.02] * reps)
        if scenario == 'converge_noop_50':
            bench.record(scenario, 'compose', [8.0] * reps)
    paths = ['/containers/json', '/version']
    for module, requests in (('dokku_ps_app', 4), ('dokku_ps_scale', 3), ('dokku_ps_policy', 3),
                             ('dokku_ps_state started', 3), ('dokku_ps_fleet (1 app)', 4)):
        bench.counts.setdefault('noop', {})[module] = dict(
            (size, {'requests': requests, 'writes': 0, 'paths': paths}) for size in (1, 10, 50))
    bench.counts['scale_up'] = {10: {'requests': 22}, 100: {'requests': 202}}
    bench.counts['scale_down'] = {10: {'requests': 32}, 100: {'requests': 302}}
    bench.counts['fleet_first'] = {10: {'requests': 77}, 50: {'requests': 357}}
    bench.counts['fleet_noop'] = {10: {'requests': 4}, 50: {'requests': 4}}
    bench.counts['fleet_noop_first'] = {10: {'requests': 4}, 50: {'requests': 100}}
    if 'proxy' not in without:
        bench.proxy_results.update({
            'settings': {'wrk': {'threads': 2, 'connections': 8, 'seconds': 10, 'request_timeout': 2},
                         'wrk_skip': None, 'loops': 2, 'load_connections': 4, 'nginx_worker_processes': 1},
            'throughput': [dict(proxy=_target(p), direct=_target(d), ratio=p / d)
                           for p, d in ((2700.0, 3000.0), (2900.0, 2600.0))],
            'rollout': [_under_load(20000, 0, 50000, 2), _under_load(21000, 0, 52000, 0)],
            'rollback': [_under_load(18000, 0, 47000, 0), _under_load(18500, 0, 48000, 0)],
            'scale_down': [_under_load(15000, 0, 40000, 1), _under_load(15500, 0, 41000, 0)],
            'reload_control': {'reloads': 5, 'wrk': _wrk(30000, 9, read=9), 'nginx_errors': {}}})
        bench.record('proxy_deploy_web3', 'collection', [5.0, 5.2])
        bench.record('proxy_deploy_web3', 'collection-proxy-wtr0', [5.1, 5.0])
        bench.record('proxy_deploy_web3', 'collection-proxy-wtr10', [15.0, 15.1])
    if 'https' not in without:
        bench.https_results.update({
            'settings': {'wrk': {'threads': 2, 'connections': 8, 'seconds': 6, 'request_timeout': 2}},
            'throughput': [dict((mode, dict(http=_target(h), https=_target(s), ratio=s / h)) for mode, h, s in (
                ('keepalive', 3600.0, 3300.0), ('fresh', 3300.0, 1600.0))) for _rep in range(2)],
            'rollout': [_under_load(9000, 0, 30000, 0), _under_load(9500, 0, 31000, 1)],
            'deploy': [{'off': {'wall': 2.0}, 'acme': {'wall': 3.5}, 'extra': 1.5}], 'warmup': {'wall': 2.9, 'task': 2.0}})
    if 'swarm' not in without:
        bench.swarm_results.update({'settings': {'scale_type': 'worker', 'scale': 30, 'rollout_web': 10, 'watch': 5,
                                                 'swarm_docker': '26.1.5', 'swarm_start_s': 3.0}})
        for scenario, local, swarm_times, tails in (('swarm_scale_up_30', 5.0, 5.6, 0.0),
                                                    ('swarm_scale_down_30', 3.5, 1.0, 3.5),
                                                    ('swarm_rollout_web10', 8.2, 7.9, 0.0)):
            bench.record(scenario, 'collection-docker-local', [local + 1.6, local + 1.8], [local, local + 0.2],
                         tail=[0.0, 0.0])
            bench.record(scenario, 'collection-swarm', [swarm_times + 1.6, swarm_times + 1.7],
                         [swarm_times, swarm_times + 0.1], tail=[tails, tails + 0.2])
            if scenario == 'swarm_rollout_web10':
                bench.record(scenario, 'collection-swarm-one', [13.6, 13.7], [12.0, 12.1], tail=[0.0, 0.0])
    meta = {'command': 'bench/run.py', 'started': '2026-12-07 10:00:00', 'finished': '2026-12-07 10:18', 'reps': 3,
            'small': False, 'only': ['scale', 'converge', 'restore', 'policy', 'api', 'growth', 'proxy', 'https', 'swarm'],
            'docker_version': '26.1.5+dfsg1', 'ansible': 'ansible-core 2.19.14', 'python': '3.11.7', 'cpus': 2,
            'machine': {'cpu_model': 'AMD EPYC 7B13', 'memory_gib': 24.0, 'kernel': '6.1.0'},
            'commit': '0123456789abcdef0123456789abcdef01234567', 'commit_dirty': False,
            'load_start': '0.5/0.5/0.5', 'load_end': '5.0/5.0/5.0', 'others_at_start': 0, 'repetitions_cut': []}
    data = {'meta': meta, 'skipped': {}, 'summary': report.summarise(bench), 'counts': bench.counts,
            'samples': bench.samples, 'notes': {}, 'baseline_samples': bench.baseline}
    for name in ('proxy', 'https', 'swarm'):
        if getattr(bench, name + '_results'):
            data[name] = getattr(bench, name + '_results')
    return json.loads(json.dumps(data, sort_keys=True, default=str))
