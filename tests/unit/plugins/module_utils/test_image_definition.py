# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an image defines (module_utils/_image_definition.py): its app.json and DOKKU_SCALE, which owns the formation,
read once per image id."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _image_definition as image_definition
from tests.unit.helpers import FakeImages, app_document


PROCFILE_PROCESSES = {'web': 'serve', 'worker': 'work', 'clock': 'tick'}
IMAGE = {'Id': 'sha256:' + 'a' * 64, 'Config': {'WorkingDir': '/app'}}


def _fresh(**extra):
    """A document before its image is applied: the Procfile's processes, no formation yet, no env."""
    fields = {'processes': dict(PROCFILE_PROCESSES), 'formation': {}, 'env': {}}
    fields.update(extra)
    return app_document(**fields)


def _apply(files, doc=None, old=None, values=None):
    ctx = FakeImages(files)
    doc = doc or _fresh()
    image_definition.apply_image(ctx, doc, old, values or {'image': 'demo:1'}, IMAGE)
    return ctx, doc


def test_the_image_app_json_formation_owns_the_formation():
    ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'worker': {'quantity': 2}}})})
    # Dokku: the listed quantities, every other type 0 (web included)
    assert doc['formation'] == {'web': 0, 'worker': 2, 'clock': 0}
    assert doc['app_json']['source'] == '/app/app.json in image demo:1'
    assert image_definition.formation_owner(doc) == 'app.json' and image_definition.can_scale(doc) is False
    assert ctx.warnings == []


def test_app_json_wins_over_dokku_scale_with_a_warning():
    ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'web': {'quantity': 3}}}),
                       '/app/DOKKU_SCALE': 'web=1\nworker=4\n'})
    assert doc['formation'] == {'web': 3, 'worker': 0, 'clock': 0}
    assert doc['dokku_scale'] == {'web': 1, 'worker': 4}
    assert image_definition.formation_owner(doc) == 'app.json'
    assert len(ctx.warnings) == 1 and 'DOKKU_SCALE' in ctx.warnings[0] and 'ignored' in ctx.warnings[0]


def test_an_app_json_without_quantities_leaves_the_scale_alone():
    old = _fresh(formation={'web': 2, 'worker': 1, 'clock': 0}, app_json_image=None)
    ctx, doc = _apply({'/app/app.json': json.dumps({'formation': {'web': {'max_parallel': 1}}})},
                      doc=_fresh(formation={'web': 2, 'worker': 1, 'clock': 0}), old=old)
    assert doc['formation'] == {'web': 2, 'worker': 1, 'clock': 0}
    assert image_definition.formation_owner(doc) is None and image_definition.can_scale(doc) is True


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
