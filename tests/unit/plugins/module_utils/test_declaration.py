# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app declaration is written once (module_utils/_declaration.py): the modules build their argument specs
from it, and every place that documents it (both modules, both roles) holds exactly what it says. The RETURN
entries every module shares are written once too (module_utils/_result_docs.py), and match the result shape."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

import pytest
import yaml

from ansible_collections.dokku_ps.docker.plugins.module_utils import _declaration as declaration
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_fleet as ops_fleet
from ansible_collections.dokku_ps.docker.plugins.module_utils import _result_docs as result_docs
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from tests.unit.helpers import app_document

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def _sync():
    path = os.path.join(ROOT, 'scripts', 'sync_declaration.py')
    spec = importlib.util.spec_from_file_location('sync_declaration', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _block(path, name):
    """A documentation block (DOCUMENTATION, RETURN) of a module file, parsed."""
    with open(os.path.join(ROOT, path)) as handle:
        source = handle.read()
    start = source.index("%s = r'''" % name) + len("%s = r'''" % name)
    return yaml.safe_load(source[start:source.index("'''", start)])


def _documentation(path):
    """The DOCUMENTATION of a module file, parsed."""
    return _block(path, 'DOCUMENTATION')


def _role_options(role, variable):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
        spec = yaml.safe_load(handle)['argument_specs']['main']['options'][variable]
    return spec


@pytest.mark.parametrize('path', _sync().targets())
def test_every_copy_is_what_the_declaration_says(path):
    text, expected = _sync().synced(path)
    assert text == expected, '%s differs from plugins/module_utils/_declaration.py or _result_docs.py: run ' \
                             'python3 scripts/sync_declaration.py' % path


def test_every_module_has_the_shared_results():
    sync = _sync()
    assert not set(sync.RESULT_TARGETS) & set(sync.NO_APP_MODULES)
    assert sorted(list(sync.RESULT_TARGETS) + list(sync.NO_APP_MODULES)) == sorted(
        'plugins/modules/%s' % name for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules'))
        if name.endswith('.py') and name != '__init__.py')


def test_a_copy_that_drifts_is_found(tmp_path, monkeypatch):
    sync = _sync()
    role = os.path.join(ROOT, 'roles', 'fleet', 'meta', 'argument_specs.yml')
    with open(role) as handle:
        text = handle.read()
    copy_root = tmp_path / 'tree'
    target = copy_root / 'roles' / 'fleet' / 'meta'
    target.mkdir(parents=True)
    (target / 'argument_specs.yml').write_text(text.replace('type: int', 'type: str', 1))
    (copy_root / 'plugins' / 'module_utils').mkdir(parents=True)
    with open(os.path.join(ROOT, 'plugins', 'module_utils', '_declaration.py')) as handle:
        (copy_root / 'plugins' / 'module_utils' / '_declaration.py').write_text(handle.read())
    monkeypatch.setattr(sync, 'ROOT', str(copy_root))
    current, expected = sync.synced('roles/fleet/meta/argument_specs.yml')
    assert current != expected and expected == text


def _tree(tmp_path):
    """A copy of every file the script reads or writes, with the script's ROOT there."""
    sync = _sync()
    copy_root = tmp_path / 'tree'
    for path in sync.targets() + ['plugins/module_utils/_declaration.py', 'plugins/module_utils/_result_docs.py']:
        target = copy_root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(os.path.join(ROOT, path)) as handle:
            target.write_text(handle.read())
    return sync, copy_root


def test_a_shared_result_entry_that_drifts_is_found(tmp_path, monkeypatch, capsys):
    sync, copy_root = _tree(tmp_path)
    monkeypatch.setattr(sync, 'ROOT', str(copy_root))
    module = copy_root / 'plugins' / 'modules' / 'dokku_ps_state.py'
    text = module.read_text()
    # the copy under apps.contains (the second one in the file) says something else
    nested = text.index('description: Containers stopped and kept', text.index('# BEGIN shared results of each app'))
    drifted = text[:nested] + text[nested:].replace('stopped and kept', 'stopped and left', 1)
    module.write_text(drifted)
    assert sync.synced('plugins/modules/dokku_ps_state.py') == (drifted, text)
    assert sync.main(['--check']) == 1
    assert 'plugins/modules/dokku_ps_state.py' in capsys.readouterr().err
    assert module.read_text() == drifted, '--check writes nothing'
    assert sync.main([]) == 0 and module.read_text() == text
    assert sync.main(['--check']) == 0


def test_a_shared_result_entry_changed_at_its_source_is_found(tmp_path, monkeypatch):
    sync, copy_root = _tree(tmp_path)
    monkeypatch.setattr(sync, 'ROOT', str(copy_root))
    source = copy_root / 'plugins' / 'module_utils' / '_result_docs.py'
    source.write_text(source.read_text().replace("'The apps that changed.'", "'The apps the run changed.'"))
    assert sync.main(['--check']) == 1
    for path in ('plugins/modules/dokku_ps_fleet.py', 'plugins/modules/dokku_ps_scale.py'):
        current, expected = sync.synced(path)
        assert (current != expected) == (path.endswith('fleet.py')), path


def _modules():
    return sorted(_sync().RESULT_TARGETS)


@pytest.mark.parametrize('path', _modules())
def test_the_documented_results_are_the_result_shape(path):
    returns = _block(path, 'RETURN')
    groups = _sync().RESULT_TARGETS[path]
    # document=False: the module's outcome never holds the app's formation and properties (dokku_ps_run)
    read = groups.get('document') is not False
    doc = app_document(name='shop', formation={'web': 1}) if read else None
    outcome = results.app_outcome('shop', 'changed', doc=doc, global_doc={})
    several = results.many_apps([outcome])
    places = []
    if 'outcome' in groups:
        places.append(returns)
    if groups.get('apps'):
        places.append(returns['apps']['contains'])
    assert places
    for place in places:
        assert set(outcome) <= set(place), sorted(set(outcome) - set(place))
        assert list(place['containers']['contains']) == list(results.CONTAINER_WORK)
        if read:
            assert sorted(place['properties']['sample']) == sorted(outcome['properties'])
        else:
            assert not {'formation', 'properties'} & set(place)
    if 'summaries' in groups:
        assert set(several) - {'changed'} <= set(returns)
    assert ('proxy_changed' in returns) == bool(groups.get('proxy_changed'))


def test_the_container_work_is_written_once():
    assert results.CONTAINER_WORK is result_docs.CONTAINER_WORK
    assert results.CONTAINER_WORK == ('created', 'started', 'replaced', 'stopped', 'removed', 'updated')


def test_the_documented_options_are_the_argument_spec():
    for where, options in (
            (declaration.APP, _documentation('plugins/modules/dokku_ps_app.py')['options']),
            (declaration.FLEET, _documentation('plugins/modules/dokku_ps_fleet.py')['options']['apps']['suboptions']),
            (declaration.FLEET, _role_options('app', 'dokku_ps_app')['options']),
            (declaration.FLEET, _role_options('fleet', 'dokku_ps_apps')['options'])):
        spec = declaration.argument_spec(where)
        assert list(options) == declaration.keys(where)
        for name, option in options.items():
            for field in ('type', 'required', 'default', 'choices', 'aliases'):
                assert option.get(field) == spec[name].get(field), (where, name, field)


def test_roles_take_the_declaration_rules():
    for role, variable in (('app', 'dokku_ps_app'), ('fleet', 'dokku_ps_apps')):
        spec = _role_options(role, variable)
        assert spec['mutually_exclusive'] == declaration.MUTUALLY_EXCLUSIVE
        assert spec['options']['env']['no_log'] is True


def test_modules_build_their_specs_from_the_declaration():
    for path, call in (('plugins/modules/dokku_ps_app.py', 'declaration.argument_spec(declaration.APP)'),
                       ('plugins/modules/dokku_ps_fleet.py', 'declaration.argument_spec(declaration.FLEET)')):
        with open(os.path.join(ROOT, path)) as handle:
            source = handle.read()
        assert call in source and 'declaration.MUTUALLY_EXCLUSIVE' in source


def test_argument_specs():
    app = declaration.argument_spec(declaration.APP)
    assert app['name'] == {'type': 'str', 'required': True, 'aliases': ['app']}
    assert app['state'] == {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']}
    assert app['env'] == {'type': 'dict', 'no_log': True}
    assert 'scale' not in app and 'restart_policy' not in app
    items = declaration.argument_spec(declaration.FLEET)
    assert items['state']['choices'] == ['started', 'stopped', 'absent'] and items['state']['default'] == 'started'
    assert items['scale'] == {'type': 'dict'} and items['deploy'] == {'type': 'bool', 'default': True}
    app['name']['aliases'].append('other')
    assert declaration.argument_spec(declaration.APP)['name']['aliases'] == ['app'], 'a copy each time'


def test_fleet_validates_exactly_the_declared_keys():
    assert list(ops_fleet.DECLARATION_KEYS) == declaration.keys(declaration.FLEET)


def test_references_become_the_place_s_own():
    docs = declaration.documentation(declaration.FLEET, lambda key: 'apps[].%s' % key)
    assert 'O(apps[].deploy=false) cannot be combined' in ' '.join(docs['state']['description'])
    assert 'O(apps[].procfile)' in ' '.join(docs['processes']['description'])
    app = declaration.documentation(declaration.APP, lambda key: key)
    assert 'O(deploy=true)' in ' '.join(app['state']['description'])
    assert 'no_log' not in app['env'] and declaration.documentation(
        declaration.FLEET, lambda key: key, role=True)['env']['no_log'] is True
