# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App definitions (module_utils/_definitions.py): validation of a declaration and what results and diffs show of a definition."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError
from tests.unit.helpers import IMAGE_ID, FakeImages, app_document, app_json_document, raised, refused


MASK = 'XXXXXX'


def test_definition_view_shape_and_masking():
    doc = app_document(image='demo:1', env={'API_KEY': 'hunter2-secret', 'DEBUG': 'sekrit-debug'},
                       processes={'web': 'server --port $PORT --key $API_KEY'}, formation={'web': 2}, deployed=True)
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
    old = app_document(env={'API_KEY': 'old-secret', 'KEEP': 'same-secret'})
    new = app_document(env={'API_KEY': 'new-secret', 'KEEP': 'same-secret', 'ADDED': 'added-secret'})
    view = definitions.definition_view(new, old)
    assert view['env'] == {'API_KEY': MASK + ' (changed)', 'KEEP': MASK, 'ADDED': MASK + ' (added)'}
    text = json.dumps(view)
    for secret in ('old-secret', 'new-secret', 'same-secret', 'added-secret'):
        assert secret not in text


def test_definition_view_of_nothing():
    assert definitions.definition_view(None) == {}
    assert definitions.definition_view(None, app_document()) == {}
    view = definitions.definition_view(app_document(env={'A': 'sekrit-a'}), None)
    assert view['env'] == {'A': MASK}
    view = definitions.definition_view({'name': 'x'})
    assert view['env'] == {} and view['deployed'] is False


_env_keys = st.sampled_from(['A', 'B', 'API_KEY', 'DEBUG', '_X', 'URL2'])


_env_values = st.sampled_from(['1', '2', 'abc', '']).map(lambda v: 'sekrit-' + v)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_env_keys, _env_values, max_size=5), st.dictionaries(_env_keys, _env_values, max_size=5))
def test_definition_view_never_contains_an_env_value(env, old_env):
    view = definitions.definition_view(app_document(env=env), app_document(env=old_env))
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


# ---------------------------------------------------------------- a pinned release (docs/releases.md)

def _PinCtx(images, files=None):
    """What build_pinned needs of a run: images by id, the image's files, the redactor's registration."""
    return FakeImages(files, images)


IMAGE = {'Id': 'sha256:' + 'a' * 64, 'Config': {'WorkingDir': '/app'}}
V1 = 'sha256:' + '1' * 64
V2 = 'sha256:' + '2' * 64


def _two_releases():
    """An app deployed twice: release 1 runs demo:1 (V1) with web and worker, release 2 demo:2 (V2) with web only,
    another env and web port, scaled to web 3 since."""
    doc = app_document(image='demo:1', image_id=V1, env={'API_KEY': 'first-secret'}, app_json_image=None,
                       processes={'web': 'serve', 'worker': 'work'}, formation={'web': 2, 'worker': 1},
                       web_port=5000)
    releases.record(doc, '2026-12-04T10:00:00Z', 5)
    doc.update(image='demo:2', image_id=V2, env={'API_KEY': 'second-secret'}, web_port=8080,
               processes={'web': 'serve --new'}, formation={'web': 3})
    releases.record(doc, '2026-12-04T11:00:00Z', 5)
    return doc


def test_a_pin_builds_the_release_on_top_of_the_recorded_document():
    old = _two_releases()
    ctx = _PinCtx({V1: dict(IMAGE, Id=V1)})
    doc, rollback_of = definitions.build_pinned(ctx, {'name': 'demo', 'release': 1}, old)
    assert rollback_of == 1 and ctx.looked_up == [V1], 'the image is looked up by id, not by its tag'
    assert (doc['image'], doc['image_id'], doc['web_port']) == ('demo:1', V1, 5000)
    assert doc['env'] == {'API_KEY': 'first-secret'} and doc['processes'] == {'web': 'serve', 'worker': 'work'}
    assert doc['formation'] == {'web': 3, 'worker': 0}, 'the formation stays, fitted to the processes'
    assert ctx.reads == 0, "the image's files were read when the release was recorded"
    assert releases.numbers(doc) == [1, 2] and old['image_id'] == V2, 'the release is recorded at the commit'


def test_a_pin_of_the_release_that_runs_is_the_recorded_document():
    old = _two_releases()
    ctx = _PinCtx({})
    doc, rollback_of = definitions.build_pinned(ctx, {'name': 'demo', 'release': 2}, old)
    assert rollback_of is None and doc == old and doc is not old and ctx.looked_up == []


@pytest.mark.parametrize('values, old, expected', [
    ({'name': 'demo', 'release': 1}, None, 'release: app demo has no releases yet: deploy it first'),
    ({'name': 'demo', 'release': 3}, 'two', 'release: app demo has no release 3 (kept releases: 1, 2; see '
                                            'dokku_ps_report)'),
    ({'name': 'demo', 'release': 1}, 'two', 'release: release 1 of app demo cannot be rolled back to: its image '
                                            'demo:1 (%s) is no longer on the Docker host' % V1),
])
def test_a_pin_that_cannot_be_met_is_refused_naming_the_release(values, old, expected):
    old = _two_releases() if old else None
    error = raised(DokkuPsError, definitions.build_pinned, _PinCtx({}), values, old)
    assert str(error).startswith(expected) and 'secret' not in str(error)


def test_validate_app_params_release():
    assert definitions.validate_app_params({'name': 'demo', 'release': '4'})['release'] == 4
    with pytest.raises(definitions.ValidationError, match='^release: '):
        definitions.validate_app_params({'name': 'demo', 'release': 0})


# ---------------------------------------------------------------- the declaration's values, checked

def _field(params):
    error = raised(ValidationError, definitions.validate_app_params, params)
    return error.details['field'], str(error)


@pytest.mark.parametrize('params, field', [
    ({'name': 'Bad_Name'}, 'name'),
    ({'name': ''}, 'name'),
    ({'name': 'x' * 64}, 'name'),
    ({'name': 'demo', 'env': {'bad-key': '1'}}, 'env'),
    ({'name': 'demo', 'env': {'PORT': '1'}}, 'env'),
    ({'name': 'demo', 'env': 'A=1'}, 'env'),
    ({'name': 'demo', 'processes': {'Web': 'server'}}, 'processes'),
    ({'name': 'demo', 'processes': {'web_1': 'server'}}, 'processes'),
    ({'name': 'demo', 'processes': ['web']}, 'processes'),
    ({'name': 'demo', 'processes': {'web': ''}}, 'processes.web'),
    ({'name': 'demo', 'processes': {'web': '   '}}, 'processes.web'),
    ({'name': 'demo', 'processes': {'web': 5}}, 'processes.web'),
    ({'name': 'demo', 'processes': {'web': None}}, 'processes.web'),
    ({'name': 'demo', 'web_port': 0}, 'web_port'),
    ({'name': 'demo', 'web_port': 70000}, 'web_port'),
    ({'name': 'demo', 'web_port': 'http'}, 'web_port'),
    ({'name': 'demo', 'procfile': 'this is not a procfile'}, 'procfile'),
    ({'name': 'demo', 'procfile': 'web: a\nweb: b'}, 'procfile'),
    ({'name': 'demo', 'procfile': 'Web: a'}, 'procfile'),
    ({'name': 'demo', 'procfile': '# only a comment\n'}, 'procfile'),
    ({'name': 'demo', 'procfile_path': '/'}, 'procfile_path'),
    ({'name': 'demo', 'procfile_path': '  '}, 'procfile_path'),
    ({'name': 'demo', 'image': ''}, 'image'),
    ({'name': 'demo', 'image': '   '}, 'image'),
])
def test_validate_app_params_errors(params, field):
    got_field, message = _field(params)
    assert got_field == field
    assert message.startswith(field + ': ')


def test_validate_app_params_error_never_shows_env_values():
    _field_name, message = _field({'name': 'demo', 'env': {'OK': 'very-secret-value', 'DYNO': 'other-secret'}})
    assert 'very-secret-value' not in message and 'other-secret' not in message


@pytest.mark.parametrize('params, field', [
    ({'name': 'demo', 'env': {'FOO\n': 'x'}}, 'env'),
    ({'name': 'demo', 'processes': {'web\n': 'server'}}, 'processes'),
    ({'name': 'demo\n'}, 'name'),
])
def test_bug_validate_app_params_refuses_trailing_newlines(params, field):
    got_field, _message = _field(params)
    assert got_field == field


# ---------------------------------------------------------------- where formation and checks come from (the report's sources)

def app_json(formation=None, source='app.json in image shop:1'):
    """An app document's ``app_json`` as the app.json reader records it, without healthchecks."""
    return app_json_document(None, formation, source)


@pytest.mark.parametrize('extra, expected', [
    ({}, 'scale'),
    ({'app_json': None}, 'scale'),
    ({'dokku_scale': {'web': 2}}, 'DOKKU_SCALE'),
    ({'dokku_scale': {}}, 'DOKKU_SCALE'),
    ({'app_json': app_json({'web': {'quantity': 2, 'max_parallel': None}})}, 'app.json'),
    ({'app_json': app_json({'web': {'quantity': 0, 'max_parallel': None}})}, 'app.json'),
    # app.json wins over DOKKU_SCALE (Dokku's precedence)
    ({'app_json': app_json({'worker': {'quantity': 1, 'max_parallel': 1}}), 'dokku_scale': {'web': 2}}, 'app.json'),
    # an app.json without quantities does not own the formation
    ({'app_json': app_json({'web': {'quantity': None, 'max_parallel': 2}}), 'dokku_scale': {'web': 2}},
     'DOKKU_SCALE'),
    ({'app_json': app_json({'web': {'quantity': None, 'max_parallel': 2}})}, 'scale'),
    ({'app_json': app_json({})}, 'scale'),
    ({'app_json': app_json(None)}, 'scale'),
])
def test_formation_source(extra, expected):
    assert definitions.formation_source(app_document(**extra)) == expected


def test_sources_of_formation_checks_and_app_json():
    doc = app_document(formation={'web': 1, 'worker': 0}, checks={'worker': {'uptime': 3}},
                       image_checks={'http': [], 'wait': 1})
    assert definitions.sources(doc) == {
        'formation': 'scale',
        'checks': {'web': 'CHECKS file in the image', 'worker': 'checks option'},
        'app_json': None,
    }
    doc = app_document(formation={'web': 2},
                       app_json=app_json({'web': {'quantity': 2, 'max_parallel': None}}, source='app_json option'))
    assert definitions.sources(doc) == {'formation': 'app.json', 'checks': {'web': 'default'},
                                        'app_json': 'app_json option'}
    assert definitions.sources(app_document(formation={}))['checks'] == {}


def test_checks_sources_are_what_the_checks_use(monkeypatch):
    """The checks source of each type is _check_rules.effective's, whatever it says (app.json included)."""
    seen = []

    def effective(doc, ptype):
        seen.append(ptype)
        return {'source': 'app.json' if ptype == 'web' else 'default', 'mode': 'enabled'}
    monkeypatch.setattr(definitions.check_rules, 'effective', effective)
    assert definitions.sources(app_document(formation={'web': 1, 'worker': 0}))['checks'] == \
        {'web': 'app.json', 'worker': 'default'}
    assert sorted(seen) == ['web', 'worker']


# ---------------------------------------------------------------- the scheduler (docs/swarm.md)

def _images():
    image = {'Id': IMAGE_ID, 'Config': {'WorkingDir': '/app'}}
    return FakeImages(images={'demo:1': image, IMAGE_ID: image})


def test_validate_app_params_scheduler():
    assert definitions.validate_app_params({'name': 'demo', 'scheduler': 'swarm'})['scheduler'] == 'swarm'
    assert definitions.validate_app_params({'name': 'demo', 'scheduler': 'docker-local'})['scheduler'] == 'docker-local'
    assert 'scheduler' not in definitions.validate_app_params({'name': 'demo', 'scheduler': None})
    got_field, message = _field({'name': 'demo', 'scheduler': 'kubernetes'})
    assert got_field == 'scheduler' and message == "scheduler: 'kubernetes' is not one of docker-local, swarm"


def test_the_scheduler_is_recorded_and_kept_when_omitted():
    ctx = _images()
    doc, rollback_of = definitions.build_declared(ctx, {'name': 'demo', 'image': 'demo:1', 'scheduler': 'swarm'}, None)
    assert doc['scheduler'] == 'swarm' and rollback_of is None
    kept, _rollback_of = definitions.build_declared(ctx, {'name': 'demo', 'env': {'A': '1'}}, dict(doc, deployed=True))
    assert kept['scheduler'] == 'swarm'
    new, _rollback_of = definitions.build_declared(ctx, {'name': 'demo', 'image': 'demo:1'}, None)
    assert 'scheduler' not in new, 'a new app that names none runs on docker-local (_scheduler.kind_of)'
    # a document written before the key existed runs on docker-local: naming it is no move
    old = app_document(without=['scheduler'])
    assert definitions.build_declared(ctx, {'name': 'demo', 'scheduler': 'docker-local'}, old)[0]['scheduler'] == \
        'docker-local'


def test_a_new_app_that_names_no_scheduler_gets_the_global_one():
    ctx = _images()
    ctx.global_doc = {'properties': {'restart_policy': None, 'stop_timeout_seconds': None, 'scheduler': 'swarm'}}
    new, _rollback_of = definitions.build_declared(ctx, {'name': 'demo', 'image': 'demo:1'}, None)
    assert new['scheduler'] == 'swarm'
    named, _rollback_of = definitions.build_declared(ctx, {'name': 'demo', 'image': 'demo:1',
                                                           'scheduler': 'docker-local'}, None)
    assert named['scheduler'] == 'docker-local', 'the declaration wins'
    existing = app_document(without=['scheduler'])
    kept, _rollback_of = definitions.build_declared(ctx, {'name': 'demo', 'env': {'A': '1'}}, existing)
    assert 'scheduler' not in kept, 'an app that exists keeps its own'


def test_a_deployed_app_cannot_move_to_another_scheduler():
    ctx = _images()
    message = refused(definitions.build_declared, ctx, {'name': 'demo', 'scheduler': 'swarm'}, app_document())
    assert message == refused(definitions.check_scheduler_move, 'demo', 'swarm', app_document())
    assert message.startswith('scheduler: app demo runs on docker-local; moving a deployed app to swarm is not '
                              'supported: delete it (state: absent), then declare it again with scheduler: swarm')
    assert 'docker-local' in refused(definitions.build_declared, ctx, {'name': 'demo', 'scheduler': 'docker-local'},
                                     app_document(scheduler='swarm'))
    # an undeployed one may move; the same scheduler is no move
    moved, _rollback_of = definitions.build_declared(ctx, {'name': 'demo', 'scheduler': 'swarm'},
                                                     app_document(deployed=False))
    assert moved['scheduler'] == 'swarm'
    definitions.check_scheduler_move('demo', 'swarm', app_document(scheduler='swarm'))
    definitions.check_scheduler_move('demo', 'swarm', None)
