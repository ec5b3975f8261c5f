# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Releases (module_utils/_releases.py): numbering, keep-N pruning, what a release holds, which release a pin means,
and what results and reports show of them (never an env value)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _declaration as declaration
from ansible_collections.dokku_ps.docker.plugins.module_utils import _definitions as definitions
from ansible_collections.dokku_ps.docker.plugins.module_utils import _image_definition as image_definition
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import NO_PROXY
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import APP_SCHEMA, validate
from tests.unit.helpers import IMAGE_ID, app_document, raised, refused

WHEN = '2026-12-04T10:00:00Z'
LATER = '2026-12-04T11:00:00Z'


def _deployed(*envs, **changes):
    """A document after one deploy per value of its env entry API_KEY (releases 1..n)."""
    doc = app_document(**changes)
    for value in envs:
        doc['env'] = {'API_KEY': value}
        releases.record(doc, WHEN, 10)
    return doc


def test_a_new_document_records_release_1():
    doc = app_document(releases=[])
    added = releases.record(doc, WHEN, 5)
    assert added['number'] == 1 and added['made_by'] == 'deploy' and added['rollback_of'] is None
    assert added['created_at'] == WHEN and added['definition'] == releases.definition_of(doc)
    assert releases.numbers(doc) == [1] and releases.current(doc) is added


def test_the_same_definition_records_nothing():
    doc = _deployed('one')
    assert releases.record(doc, LATER, 5) is None
    doc['formation'] = {'web': 9}
    doc['properties']['restart_policy'] = 'always'
    doc['deployed'] = False
    assert releases.record(doc, LATER, 5) is None, 'the formation and the properties are not part of a release'
    assert releases.numbers(doc) == [1]


@pytest.mark.parametrize('key, value', [
    ('image_id', 'sha256:' + 'b' * 64), ('image', 'demo:2'), ('processes', {'web': 'other'}),
    ('env', {'API_KEY': 'other'}), ('web_port', 8080), ('publish', 'auto'), ('checks', {'web': {'uptime': 3}}),
    ('proxy', {'enabled': True, 'ports': None, 'domains': [], 'wait_to_retire': None}),
    ('app_json_option', {'source': 'app_json option', 'formation': None, 'healthchecks': None}),
])
def test_every_change_of_definition_is_a_release(key, value):
    doc = _deployed('one')
    doc[key] = value
    assert releases.record(doc, LATER, 5)['number'] == 2


def test_no_proxy_settings_and_a_proxy_that_is_off_are_the_same_release():
    doc = _deployed('one', without=['proxy'], publish=None)
    doc['proxy'] = dict(NO_PROXY)
    doc['publish'] = False
    assert releases.record(doc, LATER, 5) is None


def test_a_rollback_records_what_it_went_back_to():
    doc = _deployed('one', 'two')
    doc['env'] = {'API_KEY': 'one'}
    added = releases.record(doc, LATER, 5, releases.ROLLBACK, 1)
    assert (added['number'], added['made_by'], added['rollback_of']) == (3, 'rollback', 1)
    assert releases.record(_deployed('x'), LATER, 5, releases.DEPLOY, 7) is None
    with pytest.raises(ValueError):
        releases.new_release(1, doc, WHEN, 'rebuild')


def test_keep_drops_the_oldest_and_never_the_current_one():
    doc = _deployed('1', '2', '3', '4')
    assert releases.prune(doc, 2) == [1, 2] and releases.numbers(doc) == [3, 4]
    assert releases.prune(doc, 2) == []
    assert releases.prune(doc, 0) == [3] and releases.numbers(doc) == [4], 'the current release stays'
    doc['env'] = {'API_KEY': '5'}
    assert releases.record(doc, LATER, 1)['number'] == 5, 'numbers only grow'
    assert releases.numbers(doc) == [5]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(['a', 'b', 'c', 'd']), st.integers(min_value=1, max_value=4)),
                min_size=1, max_size=30))
def test_numbers_only_grow_and_the_last_release_is_the_definition(steps):
    doc = app_document(releases=[])
    highest = 0
    for value, keep in steps:
        doc['env'] = {'API_KEY': value}
        releases.record(doc, WHEN, keep)
        found = releases.numbers(doc)
        assert found == sorted(found) and len(set(found)) == len(found) and len(found) <= keep
        assert found[-1] >= highest
        highest = found[-1]
        assert releases.same_definition(releases.current(doc)['definition'], releases.definition_of(doc))
        assert found == list(range(found[0], found[-1] + 1)), 'the kept ones are the newest, without gaps'


def test_a_document_of_the_previous_version_is_seeded_as_release_1():
    doc = app_document(updated_at=WHEN, without=['releases'])
    assert releases.seed(doc, LATER) is doc
    assert releases.numbers(doc) == [1] and doc['releases'][0]['created_at'] == WHEN
    seeded = copy.deepcopy(doc['releases'])
    releases.seed(doc, LATER)
    assert doc['releases'] == seeded, 'only once'
    assert releases.seed(None, LATER) is None
    assert releases.seed(app_document(without=['releases', 'updated_at']), LATER)['releases'][0]['created_at'] == \
        LATER
    doc['image_id'] = 'sha256:' + 'c' * 64
    assert releases.record(doc, LATER, 5)['number'] == 2, 'the next change is release 2'


def test_which_release_an_app_runs():
    doc = _deployed('one', 'two', 'one')
    assert releases.runs(doc, 3) and releases.runs(doc, 1), 'release 1 has the same definition as the current one'
    assert not releases.runs(doc, 2) and not releases.runs(doc, 9)
    doc = _deployed('one', 'two')
    doc['env'] = {'API_KEY': 'one'}
    releases.record(doc, LATER, 1, releases.ROLLBACK, 1)
    assert releases.numbers(doc) == [3]
    assert releases.runs(doc, 1), 'a rollback to a release that is dropped by now still runs it'
    assert not releases.runs(doc, 2)


def test_target_names_the_kept_releases():
    doc = _deployed('one', 'two', 'three')
    releases.prune(doc, 2)
    assert releases.target(doc, 2, 'demo')['number'] == 2
    message = refused(releases.target, doc, 1, 'demo')
    assert message == 'release: app demo has no release 1 (kept releases: 2, 3; see dokku_ps_report)'


@pytest.mark.parametrize('value, expected', [(1, 1), (12, 12), ('3', 3), (' 4 ', 4)])
def test_release_numbers(value, expected):
    assert releases.validate_number(value) == expected


@pytest.mark.parametrize('value', [0, -1, True, False, 'abc', '1.5', 1.0, None, [1]])
def test_bad_release_numbers_name_the_field(value):
    message = refused(releases.validate_number, value)
    assert message.startswith('release: ')


@pytest.mark.parametrize('value, expected', [(1, 1), (30, 30), ('2', 2)])
def test_keep_values(value, expected):
    assert releases.validate_keep(value) == expected


@pytest.mark.parametrize('value', [0, -3, True, 'x', 2.5])
def test_bad_keep_values_name_the_field(value):
    message = refused(releases.validate_keep, value)
    assert message.startswith('keep_releases: ')


def test_previous_release():
    assert releases.previous_number(app_document(releases=[])) is None
    assert releases.previous_number(_deployed('one')) is None
    assert releases.previous_number(_deployed('one', 'two', 'three')) == 2


def test_ignored_keys_of_a_pinned_declaration():
    assert releases.ignored_keys({'name', 'release', 'image', 'env', 'scale', 'domains'}) == ['image', 'env', 'domains']
    assert releases.ignored_keys({'name', 'release', 'restart_policy', 'keep_releases'}) == []


def test_the_pinned_keys_are_the_declaration_s_release_keys():
    assert releases.PINNED_KEYS == tuple(declaration.release_keys())
    assert releases.PINNED_KEYS == ('image', 'processes', 'procfile', 'procfile_path', 'env', 'web_port', 'publish',
                                    'checks', 'app_json', 'proxy', 'proxy_ports', 'domains', 'wait_to_retire', 'https',
                                    'tls_certificate_path', 'tls_key_path', 'https_redirect', 'hsts',
                                    'hsts_include_subdomains', 'hsts_max_age', 'hsts_preload')
    # the release key's description lists them, in that order, in each place's own references
    line = declaration.documentation(declaration.FLEET, lambda key: 'apps[].%s' % key)['release']['description'][-1]
    assert '(%s)' % ', '.join('O(apps[].%s)' % key for key in releases.PINNED_KEYS) in line


def test_results_and_reports_never_show_an_env_value():
    old = _deployed('first-secret-value', 'second-secret-value', image='demo:1', image_id=IMAGE_ID,
                    processes={'web': 'server --port $PORT'})
    doc = copy.deepcopy(old)
    doc['env'] = {'API_KEY': 'first-secret-value', 'OTHER': 'third-secret-value'}
    releases.record(doc, LATER, 5, releases.ROLLBACK, 1)
    outcome = releases.outcome(doc, old)
    assert outcome == {'number': 3, 'created_at': LATER, 'made_by': 'rollback', 'rollback_of': 1, 'image': 'demo:1',
                       'image_id': IMAGE_ID, 'new': True}
    assert releases.outcome(doc, doc)['new'] is False
    report = releases.report(doc)
    assert report['release'] == dict((key, value) for key, value in outcome.items() if key != 'new')
    assert report['previous_release'] == 2
    rows = report['releases']
    assert [row['number'] for row in rows] == [3, 2, 1] and [row['current'] for row in rows] == [True, False, False]
    assert rows[0]['env'] == {'API_KEY': 'XXXXXX', 'OTHER': 'XXXXXX'}
    assert rows[0]['processes'] == {'web': 'server --port $PORT'}
    text = json.dumps([outcome, report])
    assert 'secret-value' not in text
    assert releases.outcome(app_document(releases=[]), None) is None
    assert releases.report(app_document(releases=[]))['releases'] == []


def test_documents_with_releases_pass_the_schema_and_hide_a_release_env_value():
    doc = _deployed('one', 'two')
    releases.prune(doc, 5)
    validate(doc, APP_SCHEMA, 'SRC')
    doc['releases'][0]['definition']['env'] = {'API_KEY': 12345678}
    error = raised(Exception, validate, doc, APP_SCHEMA, 'SRC')
    assert '12345678' not in str(error)
    assert 'the value (hidden)' in str(error) and '$.releases[0].definition.env.API_KEY' in str(error)
    doc = _deployed('one')
    doc['releases'][0]['made_by'] = 'rebuild'
    with pytest.raises(Exception, match=r"\$\.releases\[0\]\.made_by: 'rebuild' is not one of"):
        validate(doc, APP_SCHEMA, 'SRC')


def test_a_seeded_release_of_an_older_document_passes_the_schema():
    doc = app_document(without=['dokku_scale', 'checks', 'publish', 'proxy', 'releases'])
    releases.seed(doc, WHEN)
    assert doc['releases'][0]['definition']['checks'] is None
    # the document itself lacks required keys of today's schema; the release it seeds is valid
    whole = app_document(releases=doc['releases'])
    validate(whole, APP_SCHEMA, 'SRC')


def test_no_code_of_the_collection_removes_an_image():
    """Images of kept releases are never removed by the collection: it removes no image at all."""
    root = os.path.join(os.path.dirname(definitions.__file__), '..')
    found = []
    scanned = 0
    for folder, _dirs, files in os.walk(os.path.abspath(root)):
        for name in files:
            if name.endswith('.py'):
                scanned += 1
                with open(os.path.join(folder, name)) as handle:
                    text = handle.read()
                if re.search(r'remove_image|images\.remove|images\.prune|prune_images|/images/[^"\']*["\'].*delete',
                             text):
                    found.append(name)
    assert scanned > 30 and found == []


def test_a_release_holds_every_definition_key_but_the_formation():
    """A key added to the definition must be part of a release, or a rollback would not bring it back."""
    app_json = {image_definition.APP_JSON_OPTION, image_definition.APP_JSON_IMAGE}
    expected = (set(definitions.DEFINITION_KEYS) - {'formation'}) | app_json
    assert set(releases.RELEASE_KEYS) == expected
