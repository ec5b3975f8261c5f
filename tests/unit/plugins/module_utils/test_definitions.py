# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App definitions (module_utils/_definitions.py): validation of a declaration and what results and diffs show of a definition."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions


MASK = 'XXXXXX'


def _doc(env=None, **extra):
    doc = {
        'schema_version': 1,
        'name': 'demo',
        'image': 'demo:1',
        'image_id': 'sha256:' + 'a' * 64,
        'processes': {'web': 'server --port $PORT --key $API_KEY'},
        'process_source': 'processes',
        'procfile_path': None,
        'env': dict(env if env is not None else {'API_KEY': 'hunter2-secret', 'DEBUG': 'sekrit-debug'}),
        'web_port': 5000,
        'publish': None,
        'formation': {'web': 2},
        'dokku_scale': None,
        'checks': {},
        'properties': {'restart_policy': None, 'stop_timeout_seconds': None, 'restore': True},
        'deployed': True,
    }
    doc.update(extra)
    return doc


def test_definition_view_shape_and_masking():
    doc = _doc()
    view = definitions.definition_view(doc)
    assert set(view) == set(definitions.DEFINITION_KEYS) | {'deployed', 'release'}
    assert view['release'] is None, 'a document without releases has no current release'
    assert view['env'] == {'API_KEY': MASK, 'DEBUG': MASK}
    assert view['image'] == 'demo:1' and view['formation'] == {'web': 2} and view['deployed'] is True
    assert 'hunter2-secret' not in json.dumps(view) and 'sekrit-debug' not in json.dumps(view)
    # a copy: changing the view does not change the document
    view['formation']['web'] = 9
    view['processes']['web'] = 'x'
    assert doc['formation'] == {'web': 2} and doc['processes']['web'].startswith('server')
    assert doc['env']['API_KEY'] == 'hunter2-secret'


def test_definition_view_against_the_previous_document():
    old = _doc(env={'API_KEY': 'old-secret', 'KEEP': 'same-secret'})
    new = _doc(env={'API_KEY': 'new-secret', 'KEEP': 'same-secret', 'ADDED': 'added-secret'})
    view = definitions.definition_view(new, old)
    assert view['env'] == {'API_KEY': MASK + ' (changed)', 'KEEP': MASK, 'ADDED': MASK + ' (added)'}
    text = json.dumps(view)
    for secret in ('old-secret', 'new-secret', 'same-secret', 'added-secret'):
        assert secret not in text


def test_definition_view_of_nothing():
    assert definitions.definition_view(None) == {}
    assert definitions.definition_view(None, _doc()) == {}
    view = definitions.definition_view(_doc(env={'A': 'sekrit-a'}), None)
    assert view['env'] == {'A': MASK}
    view = definitions.definition_view({'name': 'x'})
    assert view['env'] == {} and view['deployed'] is False


_env_keys = st.sampled_from(['A', 'B', 'API_KEY', 'DEBUG', '_X', 'URL2'])


_env_values = st.sampled_from(['1', '2', 'abc', '']).map(lambda v: 'sekrit-' + v)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_env_keys, _env_values, max_size=5), st.dictionaries(_env_keys, _env_values, max_size=5))
def test_definition_view_never_contains_an_env_value(env, old_env):
    view = definitions.definition_view(_doc(env=env), _doc(env=old_env))
    assert 'sekrit-' not in json.dumps(view)
    assert set(view['env']) == set(env)
    for key, shown in view['env'].items():
        if key not in old_env:
            assert shown == MASK + ' (added)'
        elif old_env[key] != env[key]:
            assert shown == MASK + ' (changed)'
        else:
            assert shown == MASK


def test_validate_app_params_normalises_values():
    values = definitions.validate_app_params({'name': 'demo', 'env': {'A': 1, 'B': None}, 'web_port': '8080',
                                              'processes': {'web': '  server  ', 'worker': 'work'},
                                              'image': ' demo:1 ', 'procfile': None, 'procfile_path': None})
    assert values == {'name': 'demo', 'env': {'A': '1', 'B': ''}, 'web_port': 8080,
                      'processes': {'web': 'server', 'worker': 'work'}, 'process_source': 'processes',
                      'image': 'demo:1'}


def test_validate_app_params_minimal():
    assert definitions.validate_app_params({'name': 'demo'}) == {'name': 'demo'}


def test_validate_app_params_empty_processes_runs_the_image_command():
    values = definitions.validate_app_params({'name': 'demo', 'processes': {}})
    assert values['processes'] is None and values['process_source'] == 'none'


def test_validate_app_params_procfile_and_procfile_path():
    values = definitions.validate_app_params({'name': 'demo', 'procfile': 'web: server\r\nworker: work # bg\n'})
    assert dict(values['processes']) == {'web': 'server', 'worker': 'work'}
    assert values['process_source'] == 'procfile'
    values = definitions.validate_app_params({'name': 'demo', 'procfile_path': ' /deploy/Procfile '})
    assert values['procfile_path'] == 'deploy/Procfile' and values['process_source'] == 'procfile_path'
    assert 'processes' not in values


# ---------------------------------------------------------------- app.json in the definition

class _Ctx(object):
    """What apply_image needs of a run: the image's files (counted) and the warnings."""

    def __init__(self, files):
        self.files = files
        self.reads = 0
        self.warnings = []

    def image_files(self, image_id, paths):
        self.reads += 1
        return dict((path, self.files.get(path)) for path in paths)

    def warn(self, message):
        self.warnings.append(message)


PROCFILE_PROCESSES = {'web': 'serve', 'worker': 'work', 'clock': 'tick'}
IMAGE = {'Id': 'sha256:' + 'a' * 64, 'Config': {'WorkingDir': '/app'}}


def _fresh(**extra):
    fields = {'processes': dict(PROCFILE_PROCESSES), 'formation': {}}
    fields.update(extra)
    return _doc(env={}, **fields)


def _apply(files, doc=None, old=None, values=None):
    ctx = _Ctx(files)
    doc = doc or _fresh()
    definitions.apply_image(ctx, doc, old, values or {'image': 'demo:1'}, IMAGE)
    return ctx, doc


def test_the_image_app_json_formation_owns_the_formation():
    ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'worker': {'quantity': 2}}})})
    # Dokku: the listed quantities, every other type 0 (web included)
    assert doc['formation'] == {'web': 0, 'worker': 2, 'clock': 0}
    assert doc['app_json']['source'] == '/app/app.json in image demo:1'
    assert definitions.formation_owner(doc) == 'app.json' and definitions.can_scale(doc) is False
    assert ctx.warnings == []


def test_app_json_wins_over_dokku_scale_with_a_warning():
    ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'web': {'quantity': 3}}}),
                       '/app/DOKKU_SCALE': 'web=1\nworker=4\n'})
    assert doc['formation'] == {'web': 3, 'worker': 0, 'clock': 0}
    assert doc['dokku_scale'] == {'web': 1, 'worker': 4}
    assert definitions.formation_owner(doc) == 'app.json'
    assert len(ctx.warnings) == 1 and 'DOKKU_SCALE' in ctx.warnings[0] and 'ignored' in ctx.warnings[0]


def test_an_app_json_without_quantities_leaves_the_scale_alone():
    old = _fresh(formation={'web': 2, 'worker': 1, 'clock': 0}, app_json_image=None)
    ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'web': {'max_parallel': 1}}})},
                      doc=_fresh(formation={'web': 2, 'worker': 1, 'clock': 0}), old=old)
    assert doc['formation'] == {'web': 2, 'worker': 1, 'clock': 0}
    assert definitions.formation_owner(doc) is None and definitions.can_scale(doc) is True


def test_the_option_wins_over_the_image_and_is_validated_before_docker():
    values = definitions.validate_app_params({'name': 'demo', 'app_json': {'formation': {'web': {'quantity': 2}}}})
    assert values['app_json']['source'] == 'app_json option'
    doc = _fresh(app_json_option=values['app_json'])
    ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'web': {'quantity': 5}}})}, doc=doc)
    assert doc['formation']['web'] == 2 and doc['app_json']['source'] == 'app_json option'
    assert doc['app_json_image']['formation']['web']['quantity'] == 5
    for cleared in ({}, '', '  '):
        assert definitions.validate_app_params({'name': 'demo', 'app_json': cleared})['app_json'] is None
    for bad in (['a'], 3):
        try:
            definitions.validate_app_params({'name': 'demo', 'app_json': bad})
        except definitions.ValidationError as exc:
            assert str(exc).startswith('app_json')
        else:
            raise AssertionError('accepted %r' % (bad,))


def test_the_image_is_read_once_per_image_id_and_again_for_an_older_document():
    files = {'/app/app.json': json.dumps({'formation': {'web': {'quantity': 2}}})}
    ctx, first = _apply(files)
    assert ctx.reads == 1
    again, doc = _apply(files, doc=_fresh(), old=first)
    assert again.reads == 0 and doc['app_json'] == first['app_json']
    older = dict(first)
    del older['app_json_image']
    reread, doc = _apply(files, doc=_fresh(), old=older)
    assert reread.reads == 1 and doc['formation']['web'] == 2


def test_a_quantity_for_a_type_the_processes_lack_is_refused():
    try:
        _apply({'/app/app.json': json.dumps({'formation': {'sidekick': {'quantity': 1}}})})
    except definitions.ValidationError as exc:
        assert 'sidekick' in str(exc) and '/app/app.json in image demo:1' in str(exc)
    else:
        raise AssertionError('accepted')
    _ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'sidekick': {'quantity': 0}}})})
    assert 'sidekick' not in doc['formation']


def test_an_image_command_app_keeps_only_the_listed_types():
    doc = _fresh(processes=None, formation={'web': 1}, process_source='none')
    _ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'worker': {'quantity': 1}}})}, doc=doc)
    assert doc['formation'] == {'worker': 1}
