# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker-local's one-offs (module_utils/_scheduler_local_oneoff.py): a command run once in a container of its own,
attached or detached, on the fake Docker client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_local_oneoff as local_oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DockerError
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
from tests.unit.fake_docker import FakeDocker, calls_of
from tests.unit.helpers import IMAGE_ID, app_document, raised

SECRET = 'hunter2-value'
CONFLICT = 'Conflict. The container name is already in use'


@pytest.fixture
def numbers(monkeypatch):
    """The numbers the one-offs draw, in order (12345 once the list is used up); returns the list to fill."""
    drawn = []

    def randint(low, high):
        assert (low, high) == local_oneoff.NUMBERS
        return drawn.pop(0) if drawn else 12345
    monkeypatch.setattr(local_oneoff.random, 'randint', randint)
    return drawn


def doc_of(**changes):
    return app_document(name='shop', env={'SECRET': SECRET, 'QUEUE': 'jobs'}, **changes)


def run(docker, req, doc=None):
    doc = doc or doc_of()
    return local_oneoff.run_once(docker, Redactor(env=doc['env']), doc, req)


def methods(docker):
    return [call.method for call in docker.calls]


# -- attached -------------------------------------------------------------------------------------------------------

def test_an_attached_one_off_returns_its_status_and_masked_output_and_is_removed(numbers):
    docker = FakeDocker(finish={'shop.run.*': (0, 'token %s\ndone\n' % SECRET, 'warning\n')})
    found = run(docker, oneoff.request(oneoff.RUN, 'echo $QUEUE', timeout=30))
    assert found == oneoff.Result('shop.run.12345', 0, 'token XXXXXX\ndone\n', 'warning\n', False, False)
    assert methods(docker) == ['create_container', 'start', 'container_events', 'inspect_container', 'logs', 'remove']
    spec = calls_of(docker, 'create_container')[0].arg
    assert spec == specs.oneoff_spec(doc_of(), oneoff.request(oneoff.RUN, 'echo $QUEUE'), 12345)
    assert spec['command'] == ['echo', 'jobs'] and spec['image'] == IMAGE_ID and not spec['auto_remove']
    assert calls_of(docker, 'container_events')[0].arg == (30, ('die',))
    assert calls_of(docker, 'remove')[0].arg is True, 'forced'
    assert docker.containers == []


def test_an_attached_one_off_that_fails_returns_its_status(numbers):
    docker = FakeDocker(finish={'shop.run.*': (3, '', 'boom\n')})
    found = run(docker, oneoff.request(oneoff.RUN, ['false']))
    assert (found.status, found.stdout, found.stderr, found.timed_out) == (3, '', 'boom\n', False)
    assert calls_of(docker, 'create_container')[0].arg['command'] == ['false']


def test_a_kept_one_off_stays(numbers):
    docker = FakeDocker(finish={'shop.run.*': (0, 'ok\n', '')})
    found = run(docker, oneoff.request(oneoff.RUN, 'true', keep=True))
    assert found.kept and found.status == 0
    assert 'remove' not in methods(docker)
    assert [(c['Names'], c['State']) for c in docker.containers] == [(['/shop.run.12345'], 'exited')]
    assert docker.inspect_container(docker.created[0])['HostConfig']['AutoRemove'] is False


def test_a_one_off_that_ended_without_its_event_is_not_taken_for_one_that_runs(numbers):
    docker = FakeDocker(down=['shop.run.*'])
    found = run(docker, oneoff.request(oneoff.RUN, 'true'))
    assert (found.status, found.timed_out) == (3, False)
    assert 'stop' not in methods(docker)


def test_a_one_off_at_its_time_limit_is_stopped_and_removed(numbers):
    docker = FakeDocker()
    found = run(docker, oneoff.request(oneoff.RUN, 'sleep 1000', timeout=5))
    assert (found.name, found.status, found.timed_out, found.kept) == ('shop.run.12345', None, True, False)
    assert methods(docker) == ['create_container', 'start', 'container_events', 'inspect_container', 'stop',
                               'inspect_container', 'logs', 'remove']
    assert calls_of(docker, 'stop')[0].arg == local_oneoff.STOP_GRACE
    assert docker.containers == []


def test_a_release_phase_one_off_is_named_after_its_phase(numbers):
    docker = FakeDocker(finish={'shop.predeploy.*': (0, '', '')})
    found = run(docker, oneoff.request(oneoff.RELEASE, 'migrate', phase=oneoff.PREDEPLOY))
    assert found.name == 'shop.predeploy.12345'
    labels = calls_of(docker, 'create_container')[0].arg['labels']
    assert labels[specs.LABEL_CONTAINER_TYPE] == 'release' and labels[specs.LABEL_PHASE] == 'predeploy'


# -- detached -------------------------------------------------------------------------------------------------------

def test_a_detached_one_off_returns_at_once_and_docker_removes_it(numbers):
    docker = FakeDocker()
    found = run(docker, oneoff.request(oneoff.RUN, 'sleep 1000', detach=True))
    assert found == oneoff.Result('shop.run.12345', None, '', '', False, True)
    assert methods(docker) == ['create_container', 'start']
    assert calls_of(docker, 'create_container')[0].arg['auto_remove'] is True
    assert docker.inspect_container(docker.created[0])['HostConfig']['AutoRemove'] is True
    docker.stop(docker.created[0], 10)
    assert docker.containers == [], 'gone once it ended'


def test_a_detached_one_off_that_is_kept_is_not_auto_removed(numbers):
    docker = FakeDocker()
    found = run(docker, oneoff.request(oneoff.RUN, 'sleep 1000', detach=True, keep=True))
    assert found.kept and calls_of(docker, 'create_container')[0].arg['auto_remove'] is False


# -- names and failures ---------------------------------------------------------------------------------------------

def test_a_name_already_taken_draws_another_number(numbers):
    numbers.extend([11111, 22222])
    docker = FakeDocker(fail=[('create_container', 'shop.run.11111', CONFLICT, 1, 409)],
                        finish={'shop.run.*': (0, '', '')})
    found = run(docker, oneoff.request(oneoff.RUN, 'true'))
    assert found.name == 'shop.run.22222'
    assert [call.name for call in calls_of(docker, 'create_container')] == ['shop.run.11111', 'shop.run.22222']


def test_names_taken_at_every_attempt_fail(numbers):
    docker = FakeDocker(fail=[('create_container', 'shop.run.*', CONFLICT, None, 409)])
    error = raised(DockerError, run, docker, oneoff.request(oneoff.RUN, 'true'))
    assert error.details['status'] == 409 and CONFLICT in str(error)
    assert len(calls_of(docker, 'create_container')) == local_oneoff.NAME_ATTEMPTS
    assert 'start' not in methods(docker)


def test_another_create_error_is_not_retried(numbers):
    docker = FakeDocker(fail=[('create_container', '*', 'no such image', None, 404)])
    raised(DockerError, run, docker, oneoff.request(oneoff.RUN, 'true'))
    assert len(calls_of(docker, 'create_container')) == 1


def test_a_one_off_that_cannot_start_is_removed(numbers):
    docker = FakeDocker(fail=[('start', 'shop.run.*', 'exec: "nope": executable file not found')])
    error = raised(DockerError, run, docker, oneoff.request(oneoff.RUN, 'nope'))
    assert 'executable file not found' in str(error)
    assert methods(docker) == ['create_container', 'start', 'remove'] and docker.containers == []
