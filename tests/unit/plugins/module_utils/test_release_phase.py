# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release phase of a deploy (module_utils/_release_phase.py): its commands, when it is due, what it runs before
and after the rollout, and what it records."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _release_phase as release_phase
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import APP_SCHEMA, validate
from tests.unit.helpers import app_document, raised

WHEN = '2026-01-02T00:00:00Z'
TIMEOUT = 45
PROCESSES = {'web': 'server --port $PORT', 'release': 'rake db:migrate'}


def app_json(predeploy='./predeploy.sh', postdeploy='./notify.sh'):
    return {'source': 'app_json option', 'formation': None, 'healthchecks': None,
            'scripts': {'predeploy': predeploy, 'postdeploy': postdeploy}}


def doc_of(processes=None, scripts=True, recorded=0, **changes):
    """App shop with every command of the release phase (unless told), and ``recorded`` releases recorded of its
    definition as it is (so a write records none, until the test changes it)."""
    doc = app_document(name='shop', processes=dict(PROCESSES if processes is None else processes),
                       app_json=app_json() if scripts else None, **changes)
    for number in range(recorded):
        doc['env'] = dict(doc['env'], REVISION=str(number + 1))
        releases.record(doc, WHEN, keep=10)
    return doc


def result(status=0, stdout='', stderr='', timed_out=False, name='shop.release.10001'):
    return oneoff.Result(name, status, stdout, stderr, timed_out, False)


class FakeScheduler(object):
    """The app's scheduler as the release phase asks it: runs nothing, records each request and answers with the
    result the test gave for its phase (default: exit status 0, no output)."""

    def __init__(self, answers):
        self.answers = answers
        self.requests = []
        self.docs = []

    def run_once(self, doc, req):
        self.requests.append(req)
        self.docs.append(doc)
        return self.answers.get(req.phase) or result(name='shop.%s.10001' % req.phase)


class FakeContext(object):
    """What the release phase asks of the run: check mode, and the app's scheduler."""

    def __init__(self, answers=None, check_mode=False):
        self.check_mode = check_mode
        self.run = FakeScheduler(answers or {})
        self.asked = []

    def scheduler(self, doc):
        self.asked.append(doc['name'])
        return self.run


class Writes(object):
    def __init__(self):
        self.docs = []

    def __call__(self, doc):
        self.docs.append(copy.deepcopy(doc))


def phases_run(ctx):
    return [(req.kind, req.phase, req.command) for req in ctx.run.requests]


# -- commands and the upcoming release -------------------------------------------------------------------------------

def test_the_commands_in_the_order_they_run():
    assert release_phase.commands(doc_of()) == [('predeploy', './predeploy.sh'), ('release', 'rake db:migrate'),
                                                ('postdeploy', './notify.sh')]
    assert release_phase.commands(doc_of(processes={'web': 'server'})) == [('predeploy', './predeploy.sh'),
                                                                           ('postdeploy', './notify.sh')]
    doc = doc_of()
    doc['app_json'] = app_json(predeploy=None)
    assert release_phase.commands(doc) == [('release', 'rake db:migrate'), ('postdeploy', './notify.sh')]


def test_no_commands_without_scripts_or_a_release_type():
    assert release_phase.commands(doc_of(processes={'web': 'server'}, scripts=False)) == []
    assert release_phase.commands(app_document(processes=None, app_json=None)) == []
    doc = doc_of(processes={'web': 'server', 'release': ''})
    doc['app_json'] = {'source': 'image', 'formation': None, 'healthchecks': None}
    assert release_phase.commands(doc) == [], 'an app.json without scripts, an empty release command'


def test_the_upcoming_release_number():
    doc = doc_of()
    assert releases.current(doc) is None and release_phase.upcoming_number(doc) == 1
    releases.record(doc, WHEN, keep=5)
    assert release_phase.upcoming_number(doc) is None, 'the definition is the current release\'s'
    doc['formation'] = {'web': 3}
    assert release_phase.upcoming_number(doc) is None, 'the formation is no part of a release'
    doc['env'] = dict(doc['env'], NEW='1')
    assert release_phase.upcoming_number(doc) == 2
    releases.record(doc, WHEN, keep=5)
    doc['image_id'] = 'sha256:' + 'c' * 64
    assert release_phase.upcoming_number(doc) == 3


# -- when the phase is due -------------------------------------------------------------------------------------------

def test_a_new_release_that_rolls_out_is_due():
    doc = doc_of(recorded=2)
    doc['env'] = dict(doc['env'], CHANGED='yes')
    phase = release_phase.ReleasePhase(FakeContext(), doc, True, TIMEOUT)
    assert phase.due and phase.number == 3
    assert phase.outcome() == {'release': 3, 'commands': ['predeploy', 'release', 'postdeploy'], 'ran': []}
    assert doc['release_phase'] is None, 'nothing recorded before it ran'


def test_the_first_release_is_due():
    phase = release_phase.ReleasePhase(FakeContext(), doc_of(), True, TIMEOUT)
    assert phase.due and phase.number == 1


def test_a_run_that_records_no_release_runs_nothing():
    doc = doc_of(recorded=1)
    phase = release_phase.ReleasePhase(FakeContext(), doc, True, TIMEOUT)
    assert not phase.due and phase.number is None and phase.outcome() is None
    assert doc['release_phase'] is None, 'left as it was'


def test_a_new_release_without_a_rollout_is_pending():
    doc = doc_of(recorded=1)
    doc['env'] = dict(doc['env'], CHANGED='yes')
    phase = release_phase.ReleasePhase(FakeContext(), doc, False, TIMEOUT)
    assert not phase.due and phase.outcome() is None
    assert doc['release_phase'] == {'release': 2, 'status': 'pending', 'at': None, 'phases': []}


def test_a_pending_phase_runs_at_the_next_rollout():
    doc = doc_of(recorded=2)
    doc['release_phase'] = {'release': 2, 'status': release_phase.PENDING, 'at': None, 'phases': []}
    ctx = FakeContext()
    phase = release_phase.ReleasePhase(ctx, doc, True, TIMEOUT)
    assert phase.due and phase.number == 2
    phase.before()
    assert [p for _k, p, _c in phases_run(ctx)] == ['predeploy', 'release']
    # a pending phase of another release than the current one, or one already done, is not due
    for recorded in ({'release': 1, 'status': 'pending', 'at': None, 'phases': []},
                     {'release': 2, 'status': 'done', 'at': WHEN, 'phases': []},
                     {'release': 2, 'status': 'postdeploy failed', 'at': WHEN, 'phases': []}):
        doc['release_phase'] = recorded
        assert not release_phase.ReleasePhase(FakeContext(), doc, True, TIMEOUT).due, recorded
    # still pending while nothing rolls out
    doc['release_phase'] = {'release': 2, 'status': 'pending', 'at': None, 'phases': []}
    assert not release_phase.ReleasePhase(FakeContext(), doc, False, TIMEOUT).due


def test_a_newer_release_supersedes_a_pending_one():
    doc = doc_of(recorded=2)
    doc['release_phase'] = {'release': 2, 'status': 'pending', 'at': None, 'phases': []}
    doc['env'] = dict(doc['env'], CHANGED='yes')
    assert release_phase.ReleasePhase(FakeContext(), doc, True, TIMEOUT).number == 3
    release_phase.ReleasePhase(FakeContext(), doc, False, TIMEOUT)
    assert doc['release_phase']['release'] == 3 and doc['release_phase']['status'] == 'pending'


def test_nothing_is_due_without_commands():
    doc = doc_of(processes={'web': 'server'}, scripts=False, recorded=1)
    doc['release_phase'] = {'release': 1, 'status': 'done', 'at': WHEN, 'phases': []}
    doc['env'] = dict(doc['env'], CHANGED='yes')
    ctx = FakeContext()
    phase = release_phase.ReleasePhase(ctx, doc, True, TIMEOUT)
    assert not phase.due and phase.commands == []
    assert 'release_phase' not in doc, 'the phase of an older release says nothing of the new one'
    phase.before()
    phase.after(Writes())
    assert ctx.run.requests == []
    # without a new release, what was recorded stays
    doc = doc_of(processes={'web': 'server'}, scripts=False, recorded=1)
    doc['release_phase'] = {'release': 1, 'status': 'done', 'at': WHEN, 'phases': []}
    release_phase.ReleasePhase(FakeContext(), doc, True, TIMEOUT)
    assert doc['release_phase']['status'] == 'done'


# -- before and after the rollout ------------------------------------------------------------------------------------

def test_before_runs_predeploy_then_release():
    doc = doc_of()
    ctx = FakeContext()
    phase = release_phase.ReleasePhase(ctx, doc, True, TIMEOUT)
    phase.before()
    assert phases_run(ctx) == [('release', 'predeploy', './predeploy.sh'), ('release', 'release', 'rake db:migrate')]
    assert all(req.timeout == TIMEOUT and not req.detach and not req.keep and req.env == {}
               for req in ctx.run.requests)
    assert ctx.run.docs == [doc, doc] and ctx.asked == ['shop', 'shop'], 'in the release about to go live'
    assert [(entry['phase'], entry['container'], entry['rc'], entry['timed_out']) for entry in phase.ran] == [
        ('predeploy', 'shop.predeploy.10001', 0, False), ('release', 'shop.release.10001', 0, False)]
    assert all(isinstance(entry['seconds'], float) for entry in phase.ran)


def test_a_failing_command_raises_with_its_status_and_output_and_runs_nothing_after_it():
    ctx = FakeContext({'predeploy': result(status=2, stdout='migrating\n', stderr='no such table\n',
                                           name='shop.predeploy.20002')})
    doc = doc_of(recorded=1)
    doc['web_port'] = 5001
    phase = release_phase.ReleasePhase(ctx, doc, True, TIMEOUT)
    error = raised(release_phase.ReleasePhaseFailed, phase.before)
    assert isinstance(error, DokkuPsError)
    assert str(error) == ('app shop: the predeploy command of release 2 exited with status 2; its last output: '
                          'migrating | no such table')
    assert error.details['phase']['container'] == 'shop.predeploy.20002' and error.details['phase']['rc'] == 2
    assert error.details['phase']['output'] == ['migrating', 'no such table']
    assert [p for _k, p, _c in phases_run(ctx)] == ['predeploy'], 'the release command never ran'


def test_a_command_stopped_at_its_time_limit_fails():
    ctx = FakeContext({'release': result(status=None, timed_out=True)})
    phase = release_phase.ReleasePhase(ctx, doc_of(), True, TIMEOUT)
    message = str(raised(release_phase.ReleasePhaseFailed, phase.before))
    assert message == ('app shop: the release command of release 1 did not finish within 45 s and was stopped; '
                       'it wrote no output')


def test_after_runs_postdeploy_and_records_the_phase():
    doc = doc_of()
    ctx = FakeContext()
    phase = release_phase.ReleasePhase(ctx, doc, True, TIMEOUT)
    phase.before()
    writes = Writes()
    phase.after(writes)
    assert [p for _k, p, _c in phases_run(ctx)] == ['predeploy', 'release', 'postdeploy']
    recorded = doc['release_phase']
    assert recorded['release'] == 1 and recorded['status'] == release_phase.DONE
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', recorded['at'])
    assert [entry['phase'] for entry in recorded['phases']] == ['predeploy', 'release', 'postdeploy']
    assert all('output' not in entry for entry in recorded['phases']), 'no output in the document'
    assert writes.docs == [doc]
    validate(copy.deepcopy(doc), APP_SCHEMA, 'the app document')
    assert phase.outcome()['ran'][2]['phase'] == 'postdeploy' and 'output' in phase.outcome()['ran'][2]


def test_after_without_postdeploy_still_records_the_phase():
    doc = doc_of()
    doc['app_json'] = app_json(postdeploy=None)
    ctx = FakeContext()
    phase = release_phase.ReleasePhase(ctx, doc, True, TIMEOUT)
    phase.before()
    writes = Writes()
    phase.after(writes)
    assert len(ctx.run.requests) == 2 and len(writes.docs) == 1
    assert writes.docs[0]['release_phase']['status'] == 'done'


def test_a_failing_postdeploy_is_recorded_written_and_raised():
    doc = doc_of()
    ctx = FakeContext({'postdeploy': result(status=1, stderr='webhook down\n')})
    phase = release_phase.ReleasePhase(ctx, doc, True, TIMEOUT)
    phase.before()
    writes = Writes()
    error = raised(release_phase.ReleasePhaseFailed, phase.after, writes)
    assert str(error) == ('app shop: the postdeploy command of release 1 exited with status 1; its last output: '
                          'webhook down (release 1 is live and current)')
    assert error.details['phase']['phase'] == 'postdeploy'
    assert len(writes.docs) == 1 and writes.docs[0]['release_phase']['status'] == release_phase.FAILED
    assert [entry['rc'] for entry in writes.docs[0]['release_phase']['phases']] == [0, 0, 1]
    validate(copy.deepcopy(doc), APP_SCHEMA, 'the app document')


def test_check_mode_runs_nothing_and_writes_nothing():
    doc = doc_of()
    ctx = FakeContext(check_mode=True)
    phase = release_phase.ReleasePhase(ctx, doc, True, TIMEOUT)
    assert phase.due
    phase.before()
    writes = Writes()
    phase.after(writes)
    assert ctx.run.requests == [] and writes.docs == [] and doc['release_phase'] is None
    assert phase.outcome() == {'release': 1, 'commands': ['predeploy', 'release', 'postdeploy'], 'ran': []}


@pytest.mark.parametrize('rolls_out', [True, False])
def test_a_phase_not_due_runs_nothing(rolls_out):
    doc = doc_of(recorded=1)
    ctx = FakeContext()
    phase = release_phase.ReleasePhase(ctx, doc, rolls_out, TIMEOUT)
    phase.before()
    writes = Writes()
    phase.after(writes)
    assert ctx.run.requests == [] and writes.docs == []


def test_the_statuses_the_document_knows():
    assert release_phase.STATUSES == ('done', 'pending', 'postdeploy failed')
    assert APP_SCHEMA['properties']['release_phase']['properties']['status']['enum'] == list(release_phase.STATUSES)
