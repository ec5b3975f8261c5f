# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container specs (module_utils/_specs.py): container names and filters, labels, the spec of a container and its hash."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import NO_PROXY
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from tests.unit.helpers import IMAGE_ID, OTHER_IMAGE_ID, app_document, app_with_app_json as with_app_json, refused
from tests.unit.helpers import paced_entry as entry


FAST = settings(max_examples=200, deadline=None)


VALID_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:1', 'on-failure:20', 'on-failure:10']


def test_container_name_and_parse():
    assert specs.container_name('demo', 'web', 1) == 'demo.web.1'
    assert specs.container_name('app.v2', 'worker', 12) == 'app.v2.worker.12'
    assert specs.parse_container_name('demo', 'demo.web.1') == ('web', 1, False)
    assert specs.parse_container_name('demo', '/demo.web.1') == ('web', 1, False)
    assert specs.parse_container_name('app.v2', '/app.v2.worker.12') == ('worker', 12, False)
    assert specs.parse_container_name('demo', 'demo.web.3.upcoming-0af3') == ('web', 3, True)


@pytest.mark.parametrize('name', ['other.web.1', 'demo.web', 'demo.web.x', 'demo.Web.1', 'demo.web.1.1700000000',
                                  'demo.web.1.upcoming', 'demo.web.worker.1', 'demo', 'demo.', 'demo-2.web.1',
                                  'demo.-web.1', 'demo..1', 'demox.web.1'])
def test_parse_container_name_refuses(name):
    assert specs.parse_container_name('demo', name) is None


def test_upcoming_name_shape_and_parse():
    name = specs.upcoming_name('demo', 'web', 2)
    assert re.fullmatch(r'demo\.web\.2\.upcoming-[0-9a-f]{8}', name)
    assert specs.parse_container_name('demo', name) == ('web', 2, True)
    assert specs.upcoming_name('demo', 'web', 2) != name
    assert re.search(specs.name_filter('demo'), name)
    assert re.search(specs.name_filter('demo'), '/' + name)


def _matches(app, name):
    return re.search(specs.name_filter(app), name) is not None


@pytest.mark.parametrize('name', ['demo.web.1', '/demo.web.1', 'demo.worker.12', '/demo.clock-2.3',
                                  'demo.web.1.upcoming-deadbeef', '/demo.web.1.upcoming-0'])
def test_name_filter_matches_the_apps_names(name):
    assert _matches('demo', name)


@pytest.mark.parametrize('name', ['demo.web.1.1700000000', '/demo.web.1.1700000000', 'demo.web.web.1',
                                  '/demo.web.worker.2', 'xdemo.web.1', 'demo.web.1x', 'demo.web', 'demoXweb.1',
                                  'demo.web.1.upcoming-XYZ', 'demo.web.1.upcoming-', '//demo.web.1', 'demo-2.web.1',
                                  'pre/demo.web.1', 'demo.WEB.1'])
def test_name_filter_rejects_other_names(name):
    assert not _matches('demo', name)


def test_name_filter_separates_demo_and_demo_web():
    assert _matches('demo.web', 'demo.web.web.1')
    assert not _matches('demo', 'demo.web.web.1')
    assert not _matches('demo.web', 'demo.web.1')
    assert not _matches('demo.web', '/demo.web.1.upcoming-ab')
    assert _matches('demo', '/demo.web.1.upcoming-ab')


def test_name_filter_escapes_dots_in_the_app_name():
    assert _matches('app.v2', 'app.v2.web.1')
    assert not _matches('app.v2', 'appXv2.web.1')


_apps = st.builds(lambda head, tail: head + tail, st.sampled_from('ab1'), st.text(alphabet='ab1.-', max_size=8))


_types = st.builds(lambda head, rest: head + rest, st.sampled_from('ab1'),
                   st.one_of(st.just(''), st.builds(lambda middle, tail: middle + tail,
                                                    st.text(alphabet='ab1-', max_size=4), st.sampled_from('a1'))))


@FAST
@given(_apps, _apps, _types, st.integers(min_value=1, max_value=10 ** 6), st.booleans(), st.booleans())
def test_name_filter_property(app, other_app, ptype, index, upcoming, slash):
    name = specs.upcoming_name(other_app, ptype, index) if upcoming else specs.container_name(other_app, ptype, index)
    if slash:
        name = '/' + name
    assert _matches(app, name) == (app == other_app)
    parsed = specs.parse_container_name(app, name)
    if app == other_app:
        assert parsed == (ptype, index, upcoming)


@FAST
@given(_apps, _types, st.integers(min_value=1, max_value=10 ** 6), st.booleans(), st.booleans())
def test_snapshot_filter_and_grouping_cover_every_name_of_everyapp_document(app, ptype, index, upcoming, slash):
    """The run's snapshot (one list call for many apps) must see every container any app's own list call sees,
    and group it under that app: a container missed there could hide work from a no-op."""
    name = specs.upcoming_name(app, ptype, index) if upcoming else specs.container_name(app, ptype, index)
    if slash:
        name = '/' + name
    assert re.search(specs.ANY_APP_NAME_FILTER, name)
    assert specs.app_of_container_name(name) == app


@FAST
@given(_apps, st.text(alphabet='ab1.-/', min_size=1, max_size=16))
def test_app_of_container_name_is_the_only_app_that_parses_the_name(app, name):
    if specs.parse_container_name(app, name) is not None:
        assert specs.app_of_container_name(name) == app
    if _matches(app, name):
        assert re.search(specs.ANY_APP_NAME_FILTER, name)


@pytest.mark.parametrize('name, app', [('demo.web.1', 'demo'), ('/app.v2.worker.12', 'app.v2'),
                                       ('demo.web.1.upcoming-ab', 'demo'), ('demo.web.web.1', 'demo.web'),
                                       ('demo.web.1.upcoming-ab.3', 'demo.web.1'), ('demo.web', None),
                                       ('demo', None), ('/x.y.upcoming-0', None)])
def test_app_of_container_name(name, app):
    assert specs.app_of_container_name(name) == app


def test_build_spec_web():
    spec = specs.build_spec(app_document(), 'on-failure:10', 'web', 1)
    assert spec['name'] == 'demo.web.1'
    assert spec['app'] == 'demo' and spec['process_type'] == 'web' and spec['index'] == 1
    assert spec['image'] == IMAGE_ID
    assert spec['command'] == ['server', '--port', '5000']
    assert spec['env'] == ['ALPHA=first', 'DYNO=web.1', 'PORT=5000', 'QUEUE=jobs', 'ZED=last']
    assert spec['env'] == sorted(spec['env'])
    assert spec['init'] is True
    assert spec['ports'] is None
    assert spec['restart_policy'] == 'on-failure:10'
    assert spec['labels'] == {
        'dokku': '',
        'com.dokku.app-name': 'demo',
        'com.dokku.process-type': 'web',
        'com.dokku.dyno': 'web.1',
        'com.dokku.container-type': 'deploy',
        'io.dokku-ps.spec-hash': spec['hash'],
        'io.dokku-ps.restart-policy': 'on-failure:10',
    }
    assert re.fullmatch(r'[0-9a-f]{64}', spec['hash'])


def test_build_spec_other_type_has_empty_port():
    spec = specs.build_spec(app_document(), 'always', 'worker', 3)
    assert spec['name'] == 'demo.worker.3'
    assert 'PORT=' in spec['env']
    assert 'DYNO=worker.3' in spec['env']
    assert spec['command'] == ['work', '--queue', 'jobs', '--port=']
    assert spec['labels']['com.dokku.dyno'] == 'worker.3'
    assert spec['labels']['com.dokku.process-type'] == 'worker'
    assert spec['labels']['io.dokku-ps.restart-policy'] == 'always'


def test_build_spec_custom_web_port_and_publish():
    spec = specs.build_spec(app_document(web_port=8080, publish='auto'), 'no', 'web', 2)
    assert 'PORT=8080' in spec['env']
    assert spec['command'] == ['server', '--port', '8080']
    assert spec['ports'] == {'container': 8080, 'host': None}
    spec = specs.build_spec(app_document(publish=8000), 'no', 'web', 1)
    assert spec['ports'] == {'container': 5000, 'host': 8000}
    assert specs.build_spec(app_document(publish=8000), 'no', 'worker', 1)['ports'] is None
    assert specs.build_spec(app_document(publish=False), 'no', 'web', 1)['ports'] is None


def test_build_spec_without_processes_runs_image_command():
    spec = specs.build_spec(app_document(processes=None, env={}), 'no', 'web', 1)
    assert spec['command'] is None
    assert spec['env'] == ['DYNO=web.1', 'PORT=5000']
    spec = specs.build_spec(app_document(processes=None, env=None), 'no', 'anything', 4)
    assert spec['command'] is None
    assert spec['env'] == ['DYNO=anything.4', 'PORT=']


def test_build_spec_app_env_cannot_override_dyno_and_port():
    spec = specs.build_spec(app_document(env={'DYNO': 'x', 'PORT': '1'}), 'no', 'web', 1)
    assert 'DYNO=web.1' in spec['env'] and 'PORT=5000' in spec['env']
    assert 'DYNO=x' not in spec['env'] and 'PORT=1' not in spec['env']


def _hash(policy='on-failure:10', ptype='web', index=1, **extra):
    return specs.build_spec(app_document(**extra), policy, ptype, index)['hash']


def test_spec_hash_changes_with_what_needs_a_new_container():
    base = _hash()
    assert _hash(image_id=OTHER_IMAGE_ID) != base
    assert _hash(processes={'web': 'server --other $PORT'}) != base
    assert _hash(env={'QUEUE': 'jobs', 'ZED': 'last', 'ALPHA': 'changed'}) != base
    assert _hash(env={'QUEUE': 'jobs', 'ZED': 'last', 'ALPHA': 'first', 'NEW': ''}) != base
    assert _hash(web_port=8080) != base
    assert _hash(publish='auto') != base
    assert _hash(index=2) != base


def test_spec_hash_ignores_the_restart_policy_and_is_stable():
    base = _hash()
    for policy in VALID_POLICIES:
        assert _hash(policy=policy) == base
    assert _hash() == base
    # env order in the app document does not matter
    assert _hash(env={'ALPHA': 'first', 'ZED': 'last', 'QUEUE': 'jobs'}) == base


def test_spec_hash_function_directly():
    spec = specs.build_spec(app_document(), 'no', 'web', 1)
    assert specs.spec_hash(spec) == spec['hash']
    changed = dict(spec, restart_policy='always', labels={}, name='other')
    assert specs.spec_hash(changed) == spec['hash']
    assert specs.spec_hash(dict(spec, init=False)) != spec['hash']


def test_bug_parse_container_name_refuses_type_with_newline():
    assert specs.parse_container_name('demo', 'demo.web\n.1') is None


# ---------------------------------------------------------------- app.json liveness -> Docker HEALTHCHECK, spec hash

# The hashes of three containers as every release before app.json computed them: an upgrade must not replace
# the containers of apps without a liveness check.
HASHES_BEFORE_APP_JSON = [
    ('web', 1, {}, 'bfa23ea7acce7c86a24be3f323dd3d6303184e25e16c17f44663b875bb4c1f68'),
    ('worker', 2, {}, '5814831bb14922d5f8067c7e862e6fcdbc353428e3b5f66e8debfdd9bdd5237c'),
    ('web', 1, {'proxy': {'enabled': True}, 'publish': 'auto'},
     '8781c71efb56265afe9fab8bc5ccda5da99fab3933e979ec28fe1d9c5972392c'),
]


@pytest.mark.parametrize('ptype, index, extra, wanted', HASHES_BEFORE_APP_JSON)
def test_spec_hash_of_apps_without_a_liveness_check_is_the_one_before_app_json(ptype, index, extra, wanted):
    without = specs.build_spec(app_document(**extra), 'on-failure:10', ptype, index)
    assert 'healthcheck' not in without and without['hash'] == wanted
    # an app.json without liveness checks (a formation, startup and readiness checks, an uptime liveness check
    # Docker cannot run) changes nothing on the container either
    for app_json in (None, {}, {'web': [entry('startup', path='/health'), entry('readiness', command=['true'])],
                                'worker': [entry('liveness', uptime=5)]}):
        doc = with_app_json(app_json, formation={'web': {'quantity': 2, 'max_parallel': 1}}, **extra)
        spec = specs.build_spec(doc, 'on-failure:10', ptype, index)
        assert 'healthcheck' not in spec and spec['hash'] == wanted, app_json
        assert spec == dict(without, labels=spec['labels']) and spec['labels'] == without['labels']


def test_a_liveness_check_is_on_the_spec_and_in_its_hash():
    base = specs.build_spec(app_document(), 'no', 'web', 1)
    doc = with_app_json({'web': [entry(command=['test', '-f', '/tmp/ok'])]})
    spec = specs.build_spec(doc, 'no', 'web', 1)
    assert spec['healthcheck'] == {'Test': ['CMD', 'test', '-f', '/tmp/ok'], 'Interval': 2 * 10 ** 9,
                                   'Timeout': 5 * 10 ** 9, 'Retries': 3, 'StartPeriod': 10 ** 6}
    assert spec['hash'] != base['hash'] and spec['labels'][specs.LABEL_SPEC_HASH] == spec['hash']
    assert specs.spec_hash(spec) == spec['hash']
    changed = with_app_json({'web': [entry(command=['test', '-f', '/tmp/ok'], attempts=4)]})
    assert specs.build_spec(changed, 'no', 'web', 1)['hash'] != spec['hash'], 'a changed liveness check replaces'
    # the liveness check of web is not the worker's
    assert 'healthcheck' not in specs.build_spec(doc, 'no', 'worker', 1)
    plain = specs.build_spec(app_document(), 'no', 'worker', 1)
    assert specs.build_spec(doc, 'no', 'worker', 1)['hash'] == plain['hash']
    # the restart policy still stays out of the hash
    assert specs.build_spec(doc, 'always', 'web', 1)['hash'] == spec['hash']


# -- one-offs (a release phase, a run, a cron entry) ---------------------------------------------------------------

@pytest.mark.parametrize('kind, oneoff_kind', [('run', True), ('cron', True), ('release', True), ('deploy', False),
                                               (None, False), ('RUN', False)])
def test_is_oneoff_reads_the_container_type(kind, oneoff_kind):
    labels = {specs.LABEL_APP: 'shop'}
    if kind:
        labels[specs.LABEL_CONTAINER_TYPE] = kind
    assert specs.is_oneoff(labels, 'shop') is oneoff_kind
    assert specs.is_oneoff(labels, 'other') is False, 'a one-off of another app'


def test_is_oneoff_without_labels():
    assert specs.is_oneoff(None, 'shop') is False and specs.is_oneoff({}, 'shop') is False
    assert specs.is_oneoff({specs.LABEL_CONTAINER_TYPE: 'run'}, 'shop') is False


def _oneoff_doc(**changes):
    return app_document(name='shop', env={'QUEUE': 'jobs', 'SECRET': 'app-value'}, **changes)


def test_the_spec_of_a_run():
    req = oneoff.request(oneoff.RUN, 'echo $SECRET $DYNO $EXTRA', env={'EXTRA': 'x', 'SECRET': 'task-value'})
    spec = specs.oneoff_spec(_oneoff_doc(), req, 12345)
    assert spec == {
        'name': 'shop.run.12345', 'app': 'shop', 'process_type': 'run', 'index': 12345, 'image': IMAGE_ID,
        'command': ['echo', 'task-value', 'run.12345', 'x'],
        'env': ['DYNO=run.12345', 'EXTRA=x', 'QUEUE=jobs', 'SECRET=task-value'],
        'ports': None, 'init': True, 'restart_policy': 'no', 'network': None,
        'labels': {specs.LABEL_MARKER: '', specs.LABEL_APP: 'shop', specs.LABEL_PROCESS_TYPE: 'run',
                   specs.LABEL_DYNO: 'run.12345', specs.LABEL_CONTAINER_TYPE: 'run'},
        'auto_remove': False,
    }
    assert specs.is_oneoff(spec['labels'], 'shop')
    assert specs.parse_container_name('shop', spec['name']) == ('run', 12345, False)
    assert 'hash' not in spec and 'healthcheck' not in spec, 'a one-off is never checked nor replaced'


def test_a_one_off_overrides_no_dyno_given_by_the_task():
    req = oneoff.request(oneoff.RUN, None, env={'DYNO': 'web.1'})
    spec = specs.oneoff_spec(_oneoff_doc(), req, 20000)
    assert 'DYNO=run.20000' in spec['env'] and 'DYNO=web.1' not in spec['env']
    assert spec['command'] is None, 'the image\'s own command'


def test_the_spec_of_a_release_phase_is_named_after_its_phase():
    for phase in oneoff.PHASES:
        req = oneoff.request(oneoff.RELEASE, 'migrate', phase=phase)
        spec = specs.oneoff_spec(_oneoff_doc(), req, 30000)
        assert spec['name'] == 'shop.%s.30000' % phase and spec['process_type'] == phase
        assert spec['labels'][specs.LABEL_CONTAINER_TYPE] == 'release'
        assert spec['labels'][specs.LABEL_PHASE] == phase and spec['labels'][specs.LABEL_DYNO] == '%s.30000' % phase
        assert 'DYNO=%s.30000' % phase in spec['env']
    assert specs.LABEL_PHASE not in specs.oneoff_spec(_oneoff_doc(), oneoff.request(oneoff.RUN, 'x'), 1)['labels']


def test_a_one_off_of_a_proxied_app_joins_the_proxy_network():
    proxied = _oneoff_doc(proxy=dict(NO_PROXY, enabled=True, tls=None))
    assert specs.oneoff_spec(proxied, oneoff.request(oneoff.RUN, 'x'), 1)['network'] == specs.PROXY_NETWORK
    assert specs.oneoff_spec(_oneoff_doc(proxy=None), oneoff.request(oneoff.RUN, 'x'), 1)['network'] is None


@pytest.mark.parametrize('detach, keep, auto_remove', [(False, False, False), (False, True, False),
                                                       (True, False, True), (True, True, False)])
def test_only_a_detached_one_off_that_is_not_kept_is_removed_by_docker(detach, keep, auto_remove):
    req = oneoff.request(oneoff.RUN, 'x', detach=detach, keep=keep)
    assert specs.oneoff_spec(_oneoff_doc(), req, 1)['auto_remove'] is auto_remove


def test_the_spec_of_a_cron_entry_carries_its_id_and_policy():
    req = oneoff.request(oneoff.CRON, 'console --once', cron_id='0123456789ab', concurrency='forbid')
    doc = _oneoff_doc(processes={'web': 'server', 'console': 'python -i app.py'})
    spec = specs.oneoff_spec(doc, req, 0)
    assert spec['name'] == 'shop.cron.0' and spec['command'] == ['python', '-i', 'app.py', '--once']
    assert spec['labels'][specs.LABEL_CONTAINER_TYPE] == 'cron'
    assert spec['labels'][specs.LABEL_CRON_ID] == '0123456789ab' and spec['labels'][specs.LABEL_CONCURRENCY] == 'forbid'
    plain = oneoff.request(oneoff.CRON, 'x', cron_id='0123456789ab')
    assert specs.oneoff_spec(doc, plain, 0)['labels'][specs.LABEL_CONCURRENCY] == 'allow'
    run = specs.oneoff_spec(doc, oneoff.request(oneoff.RUN, 'x'), 1)['labels']
    assert specs.LABEL_CRON_ID not in run and specs.LABEL_CONCURRENCY not in run


def test_the_spec_of_a_one_off_refuses_a_command_that_cannot_be_split():
    assert refused(specs.oneoff_spec, _oneoff_doc(), oneoff.request(oneoff.RUN, "echo 'open"), 1).startswith(
        'command: ')


def test_the_labels_are_dokkus():
    assert (specs.LABEL_PHASE, specs.LABEL_CRON_ID, specs.LABEL_CONCURRENCY) == (
        'dokku_phase_script', 'com.dokku.cron-id', 'com.dokku.concurrency-policy')
