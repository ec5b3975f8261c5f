# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a benchmark run records of where it ran (bench/common.py): the commit checked out and whether tracked files
differed from it (the benchmark's own output aside), and the machine's CPU model, memory and kernel."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

BENCH_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                         'bench')
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)

import common  # noqa: E402  pylint: disable=wrong-import-position


def _git(root, *args):
    return subprocess.run(['git', '-C', str(root), '-c', 'user.name=bench', '-c', 'user.email=bench@example.org']
                          + list(args), check=True, capture_output=True, text=True).stdout.strip()


def _repository(tmp_path):
    for path in ('plugins/x.py', 'bench/results/latest.json', 'docs/performance.md', 'docs/images/bench/a.svg'):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text('one\n')
    _git(tmp_path, 'init', '-q')
    _git(tmp_path, 'add', '.')
    _git(tmp_path, 'commit', '-q', '-m', 'one')
    return _git(tmp_path, 'rev-parse', 'HEAD')


def test_the_commit_and_a_clean_tree(tmp_path):
    head = _repository(tmp_path)
    assert common.git_commit(str(tmp_path)) == (head, False)


def test_the_benchmarks_own_output_is_no_change(tmp_path):
    head = _repository(tmp_path)
    for path in ('bench/results/latest.json', 'docs/performance.md', 'docs/images/bench/a.svg'):
        (tmp_path / path).write_text('two\n')
    (tmp_path / 'untracked.txt').write_text('new\n')
    assert common.git_commit(str(tmp_path)) == (head, False)


def test_a_changed_tracked_file_is_a_change(tmp_path):
    head = _repository(tmp_path)
    (tmp_path / 'plugins' / 'x.py').write_text('two\n')
    assert common.git_commit(str(tmp_path)) == (head, True)


def test_no_repository_no_commit(tmp_path):
    assert common.git_commit(str(tmp_path / 'nowhere')) == (None, None)


def test_the_machine():
    found = common.machine()
    assert found['kernel']
    if 'memory_gib' in found:
        assert found['memory_gib'] > 0
    assert set(found) <= {'kernel', 'cpu_model', 'memory_gib'}
