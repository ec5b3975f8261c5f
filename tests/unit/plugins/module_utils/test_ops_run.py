# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_run (module_utils/_ops_run.py): its parameters, and what it asks of the app's scheduler and returns;
against a fake run context (the one-off's container is tested in test_scheduler_local_oneoff.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_run as ops_run
from ansible_collections.dokku_ps.docker.plugins.module_utils import _releases as releases
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, NotFoundError
from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
from tests.unit.helpers import app_document, raised, refused


def params(**given):
    base = {'app': 'shop', 'command': 'python manage.py migrate', 'env': None, 'timeout': 600, 'detach': False,
            'keep': False}
    base.update(given)
    return base


# -- parse ---------------------------------------------------------------------------------------------------------

def test_parse_takes_the_parameters():
    assert ops_run.parse(params()) == ops_run.RunRequest('shop', 'python manage.py migrate', {}, 600, False, False)
    req = ops_run.parse(params(command=['sh', '-c', 'a && b'], env={'N': 1, 'FLAG': True, 'EMPTY': None},
                               timeout=1, detach=True, keep=True))
    assert req == ops_run.RunRequest('shop', ['sh', '-c', 'a && b'], {'N': '1', 'FLAG': 'true', 'EMPTY': ''}, 1, True,
                                     True)
    assert ops_run.parse(params(env={})).env == {}


@pytest.mark.parametrize('app', ['Shop', '', 'shop_1', '-shop', None, 'shop\n'])
def test_parse_refuses_a_bad_app_name(app):
    assert refused(ops_run.parse, params(app=app)).startswith('app: ')


@pytest.mark.parametrize('command, rule', [
    ('', 'must be a non-empty string or a list of words'),
    ('   ', 'must be a non-empty string or a list of words'),
    (None, 'must be a non-empty string or a list of words'),
    (5, 'must be a non-empty string or a list of words'),
    ({'cmd': 'x'}, 'must be a non-empty string or a list of words'),
    ([], 'a list must hold at least one word, each a non-empty string'),
    (['echo', ''], 'a list must hold at least one word, each a non-empty string'),
    (['echo', 1], 'a list must hold at least one word, each a non-empty string'),
    (['echo', None], 'a list must hold at least one word, each a non-empty string'),
])
def test_parse_refuses_a_bad_command(command, rule):
    assert refused(ops_run.parse, params(command=command)) == 'command: ' + rule


@pytest.mark.parametrize('env', [{'bad-key': 'x'}, {'1ST': 'x'}, {'PORT': '5000'}, {'DYNO': 'run.1'},
                                 {'LIST': ['a']}, ['A=1'], {'NUL': 'a\x00b'}])
def test_parse_refuses_a_bad_env(env):
    assert refused(ops_run.parse, params(env=env)).startswith('env: ')


def test_a_refused_env_value_is_not_shown():
    assert 'hunter2' not in refused(ops_run.parse, params(env={'NUL': 'hunter2\x00'}))


@pytest.mark.parametrize('timeout', [0, -1, True, False, '10', 1.5, None])
def test_parse_refuses_a_bad_timeout(timeout):
    assert refused(ops_run.parse, params(timeout=timeout)) == \
        'timeout: %r is not a number of seconds of 1 or more' % (timeout,)


# -- run -----------------------------------------------------------------------------------------------------------

class FakeScheduler(object):
    def __init__(self, answer):
        self.answer = answer
        self.requests = []

    def run_once(self, doc, req):
        self.requests.append((doc['name'], req))
        return self.answer


class FakeContext(object):
    """What dokku_ps_run asks of the run: the app's document, the redactor, check mode and the app's scheduler."""

    def __init__(self, doc, answer=None, check_mode=False):
        self.doc = doc
        self.check_mode = check_mode
        self.redactor = Redactor()
        self.run = FakeScheduler(answer)

    def read_app(self, name):
        return self.doc if self.doc is not None and self.doc['name'] == name else None

    def scheduler(self, doc):
        return self.run


def deployed(**changes):
    doc = app_document(name='shop', env={'SECRET': 'hunter2-value'}, **changes)
    releases.record(doc, '2026-01-01T00:00:00Z', keep=5)
    return doc


def answer(status=0, stdout='', stderr='', timed_out=False, kept=False):
    return oneoff.Result('shop.run.12345', status, stdout, stderr, timed_out, kept)


def test_run_asks_the_scheduler_for_a_one_off_and_returns_what_it_did():
    ctx = FakeContext(deployed(), answer(stdout='applied 3\n', stderr='warn\n'))
    req = ops_run.parse(params(env={'EXTRA': 'extra-value'}, timeout=30))
    result = ops_run.run(ctx, req)
    (name, asked), = ctx.run.requests
    assert name == 'shop'
    assert asked == oneoff.request(oneoff.RUN, 'python manage.py migrate', env={'EXTRA': 'extra-value'}, timeout=30)
    assert result['changed'] is True and result['status'] == 'changed' and result['name'] == 'shop'
    assert result['release'] == 1 and result['container'] == 'shop.run.12345'
    assert (result['rc'], result['stdout'], result['stderr']) == (0, 'applied 3\n', 'warn\n')
    assert result['stdout_lines'] == ['applied 3'] and result['stderr_lines'] == ['warn']
    assert result['run'] == oneoff.outcome(ctx.run.answer)
    assert ctx.redactor.text('extra-value') == 'XXXXXX', 'the task\'s env values are masked'


def test_a_status_other_than_0_fails_with_the_result():
    ctx = FakeContext(deployed(), answer(status=3, stderr='boom\n'))
    error = raised(DokkuPsError, ops_run.run, ctx, ops_run.parse(params()))
    assert str(error) == 'app shop: the one-off shop.run.12345 exited with status 3'
    assert error.details['result']['rc'] == 3 and error.details['result']['stderr'] == 'boom\n'


def test_a_one_off_stopped_at_its_time_limit_fails():
    ctx = FakeContext(deployed(), answer(status=None, timed_out=True))
    error = raised(DokkuPsError, ops_run.run, ctx, ops_run.parse(params(timeout=5)))
    assert str(error) == 'app shop: the one-off shop.run.12345 did not finish within 5 s and was stopped'
    assert error.details['result']['run']['timed_out'] is True and 'rc' not in error.details['result']


def test_a_detached_one_off_returns_its_name():
    ctx = FakeContext(deployed(), answer(status=None, kept=True))
    result = ops_run.run(ctx, ops_run.parse(params(detach=True)))
    assert result['container'] == 'shop.run.12345' and result['changed'] and result['run']['rc'] is None
    assert 'rc' not in result, 'Ansible fails a task whose rc is not 0'
    assert ctx.run.requests[0][1].detach is True


def test_check_mode_runs_nothing():
    ctx = FakeContext(deployed(), check_mode=True)
    result = ops_run.run(ctx, ops_run.parse(params(command='echo "a b" $SECRET')))
    assert ctx.run.requests == []
    assert result['changed'] is True and result['release'] == 1 and result['run'] == {'argv_words': 3}
    assert 'rc' not in result


def test_an_app_not_defined_or_not_deployed_is_refused():
    error = raised(NotFoundError, ops_run.run, FakeContext(None), ops_run.parse(params()))
    assert str(error).startswith('app: shop is not defined on this host')
    ctx = FakeContext(deployed(deployed=False))
    assert refused(ops_run.run, ctx, ops_run.parse(params())).startswith('app: app shop has not been deployed')
    assert ctx.run.requests == []


def test_a_command_that_cannot_be_split_is_refused_before_anything_runs():
    ctx = FakeContext(deployed())
    assert refused(ops_run.run, ctx, ops_run.parse(params(command="echo 'open"))).startswith('command: ')
    assert ctx.run.requests == []
