# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layout of plugins/module_utils (docs/architecture.md): files of one concern and at most 450 lines, a
straight import stack, the scheduler seam kept (no operation reaches into docker-local), every file on the map and
mirrored by its unit tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE_UTILS = os.path.join(ROOT, 'plugins', 'module_utils')
UNIT_TESTS = os.path.join(ROOT, 'tests', 'unit', 'plugins', 'module_utils')
PACKAGE = 'ansible_collections.dokku_ps.docker.plugins.module_utils'
MAX_LINES = 450

# The layers, top first (docs/architecture.md): a file imports files of its own layer or of layers below it.
LAYERS = [
    ('the module runner', ['_runner', '_options']),
    ('operations', ['_ops_app', '_ops_certs', '_ops_fleet', '_ops_image', '_ops_policy', '_ops_report', '_ops_run',
                    '_ops_scale', '_ops_state', '_ops_swarm']),
    ('the run', ['_context', '_definitions', '_image_definition', '_proxy', '_release_phase', '_tls']),
    ('schedulers', ['_scheduler_local', '_scheduler_local_oneoff', '_scheduler_local_report', '_scheduler_swarm',
                    '_scheduler_swarm_oneoff']),
    ('deciding and doing (docker-local)', ['_planner', '_executor', '_checker', '_policy_drift',
                                           '_proxy_addresses']),
    ('talking to the outside', ['_acme', '_cron', '_cron_runner', '_docker_client', '_docker_connection',
                                '_state_store', '_state_safety', '_files',
                                '_nginx', '_tls_probe']),
    ('values and rules (pure)', ['_scheduler', '_results', '_result_docs', '_declaration', '_specs', '_formation',
                                 '_limits', '_health', '_check_rules', '_listening', '_validation', '_properties',
                                 '_releases', '_parsers', '_app_json', '_schema', '_names', '_redaction', '_errors',
                                 '_proxy_settings', '_proxy_config', '_concurrency', '_tls_certs', '_oneoff',
                                 '_app_json_errors', '_cron_schedule', '_swarm_specs']),
]

# What only the docker-local scheduler knows: the operations and the run never import these (Context finds the
# scheduler through its registry, _scheduler_local). The proxy_subnet option (_options) is the subnet of
# docker-local's proxy network: it takes the default and the check of a subnet from _proxy_addresses.
DOCKER_LOCAL = {'_planner', '_executor', '_checker', '_policy_drift', '_proxy_addresses', '_specs', '_listening',
                '_scheduler_local_report', '_scheduler_local_oneoff', '_docker_client'}
ALLOWED = {('_options', '_proxy_addresses'), ('_runner', '_docker_client'), ('_context', '_scheduler_local'),
           ('_context', '_scheduler_swarm')}

# Files whose unit tests live in another file's tests, and where.
TESTED_ELSEWHERE = {
    '_errors': 'every test that expects a refusal (test_names.py, test_validation.py, ...)',
    '_schema': 'test_state_store.py (every document is validated on read and write)',
    '_result_docs': 'test_declaration.py (the RETURN blocks generated from it, and the results they document)',
    '_policy_drift': 'test_scheduler_local.py (the restart-policy window of a run over the daemon\'s events)',
    '_app_json_errors': 'test_app_json.py (every refusal of an app.json)',
}
# Test files named after the part of a file they test (test_<file>_<part>.py).
TEST_PARTS = {'test_properties_input.py': '_properties', 'test_properties_planner.py': '_properties',
              'test_tls_certs_acme.py': '_tls_certs'}


def _files():
    return sorted(name[:-3] for name in os.listdir(MODULE_UTILS) if name.endswith('.py') and name != '__init__.py')


def _source(name):
    with open(os.path.join(MODULE_UTILS, name + '.py')) as handle:
        return handle.read()


def _imports(name):
    """The module_utils files ``name`` imports."""
    found = set()
    for node in ast.walk(ast.parse(_source(name))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(alias.name for alias in node.names)
            elif node.module.startswith(PACKAGE + '.'):
                found.add(node.module[len(PACKAGE) + 1:])
    return found


def _layer(name):
    for number, (_title, names) in enumerate(LAYERS):
        if name in names:
            return number
    raise AssertionError('%s.py is in no layer of tests/unit/test_layout.py (and docs/architecture.md)' % name)


def test_every_file_is_in_one_layer():
    listed = [name for _title, names in LAYERS for name in names]
    assert sorted(listed) == _files(), 'LAYERS lists every file once'
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize('name', _files())
def test_a_file_holds_one_concern_in_at_most_450_lines(name):
    source = _source(name)
    lines = source.count('\n')
    assert lines <= MAX_LINES, '%s.py has %d lines' % (name, lines)
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring and docstring.splitlines()[0].strip(), '%s.py opens with a line naming its concern' % name


@pytest.mark.parametrize('name', _files())
def test_imports_go_down_the_stack(name):
    for imported in sorted(_imports(name)):
        assert _layer(imported) >= _layer(name), '%s imports %s, a layer above it' % (name, imported)


def test_the_stack_has_no_cycle():
    graph = dict((name, _imports(name)) for name in _files())
    done, path = set(), []

    def visit(name):
        if name in path:
            raise AssertionError('import cycle: %s' % ' -> '.join(path[path.index(name):] + [name]))
        if name in done:
            return
        path.append(name)
        for imported in sorted(graph[name]):
            visit(imported)
        path.pop()
        done.add(name)
    for name in graph:
        visit(name)


def test_operations_and_the_run_know_no_docker_local_internals():
    """The scheduler seam: above the schedulers, nothing imports what only docker-local knows (containers, plans,
    checks, Docker calls); an app's scheduler is asked through _scheduler.AppScheduler."""
    above = [name for _title, names in LAYERS[:3] for name in names]
    for name in above:
        reached = set(imported for imported in _imports(name) if imported in DOCKER_LOCAL | {'_scheduler_local'})
        assert reached <= set(imported for owner, imported in ALLOWED if owner == name), (name, reached)
    for name in LAYERS[1][1]:
        assert not _imports(name) & {'_planner', '_executor', '_checker', '_check_rules'}, name


def test_the_architecture_page_maps_every_file_once():
    with open(os.path.join(ROOT, 'docs', 'architecture.md')) as handle:
        page = handle.read()
    mapped = re.findall(r'^\s{4}(_[a-z_]+)\.py\s', page, re.M)
    assert sorted(mapped) == _files(), 'docs/architecture.md lists each module_utils file once, on its own line'


def test_unit_tests_mirror_the_files():
    tests = sorted(name for name in os.listdir(UNIT_TESTS) if name.startswith('test_') and name.endswith('.py'))
    files = _files()
    for name in tests:
        mirrored = TEST_PARTS.get(name) or '_' + name[len('test_'):-len('.py')]
        assert mirrored in files, '%s tests no file of plugins/module_utils' % name
    for name in files:
        assert name in TESTED_ELSEWHERE or 'test_%s.py' % name[1:] in tests, 'no unit tests for %s.py' % name
