# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm scheduler (module_utils/_scheduler_swarm.py): the work planned from an app's services, carried out on
the fake swarm of tests/unit/fake_docker.py (it converges at once), what is refused there, the proxy's members and
the report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _context as context
from ansible_collections.dokku_ps.docker.plugins.module_utils import _oneoff as oneoff
from ansible_collections.dokku_ps.docker.plugins.module_utils import _options as options
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy import ProxyRun
from ansible_collections.dokku_ps.docker.plugins.module_utils import _results as results
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler as scheduler
from ansible_collections.dokku_ps.docker.plugins.module_utils import _scheduler_swarm as swarm
from ansible_collections.dokku_ps.docker.plugins.module_utils._state_store import StateStore
from ansible_collections.dokku_ps.docker.plugins.module_utils import _swarm_specs as swarm_specs
from tests.unit.fake_docker import PORTS_FROM, FakeDocker, calls_of, node
from tests.unit.helpers import (IMAGE_ID, OTHER_IMAGE_ID, app_document, app_with_app_json, paced_entry, raised, refused)

HOST = 'tcp://10.0.0.2:2375'
PROXY = {'enabled': True, 'ports': ['http:80:5000'], 'domains': [], 'wait_to_retire': None, 'tls': None}


def _docker(**kwargs):
    """A swarm of two nodes whose manager is at HOST."""
    kwargs.setdefault('swarm_manager', True)
    kwargs.setdefault('nodes', [node('node1', '10.0.0.2'), node('node2', '10.0.0.3')])
    docker = FakeDocker(host=HOST, **kwargs)
    # the manager has the images of the documents (the check of a service's image asks it)
    docker.images.update({IMAGE_ID: {'Id': IMAGE_ID}, OTHER_IMAGE_ID: {'Id': OTHER_IMAGE_ID}})
    return docker


def _ctx(tmp_path, docker, check_mode=False):
    """A run over ``docker``, its state and nginx in ``tmp_path`` (each call a new run: nothing cached)."""
    store = StateStore(str(tmp_path / 'state'))
    proxy = ProxyRun(options.proxy_options({'nginx_include_dir': str(tmp_path / 'nginx')}), check_mode=check_mode)
    return context.Context(docker, store, proxy, check_mode=check_mode)


def _doc(**changes):
    """App demo on swarm: web and worker, one each, web on port 5000, the proxy off."""
    return app_document(**dict(dict(scheduler='swarm', web_port=5000), **changes))


def _app(ctx, doc):
    app = ctx.scheduler(doc)
    assert isinstance(app, swarm.SwarmApp) and isinstance(ctx.scheduler_run('swarm'), swarm.SwarmRun)
    return app


def _deployed(tmp_path, docker, doc):
    """``doc``'s services made by a run of their own; the calls of that run forgotten."""
    ctx = _ctx(tmp_path, docker)
    app = _app(ctx, doc)
    app.apply(app.converge(doc, None), doc, None)
    docker.calls = []


def _kinds(work):
    return [(action.kind, action.process_type) for action in work.actions]


def _services(docker):
    return dict((service['Spec']['Name'], service) for service in docker.services)


def _running(docker, name):
    service = _services(docker)[name]
    return sorted(docker.list_tasks({'service': [service['ID']], 'desired-state': ['running']}),
                  key=lambda task: task['Slot'])


def _methods(docker):
    return [call.method for call in docker.calls]


# ---------------------------------------------------------------- the work

def _action(kind, name, replicas=0, before=0):
    ptype = name.split('-')[-1]
    if kind == swarm.REMOVE:
        return swarm.Action(kind, ptype, service={'ID': 'x', 'Spec': {'Name': name}})
    return swarm.Action(kind, ptype, spec={'name': name}, replicas=replicas, before=before)


@pytest.mark.parametrize('action, key', [
    (_action(swarm.CREATE, 'demo-web', 2), 'created'),
    (_action(swarm.UPDATE, 'demo-web', 2, 2), 'replaced'),
    (_action(swarm.REMOVE, 'demo-web'), 'removed'),
    (_action(swarm.SCALE, 'demo-web', 0, 2), 'stopped'),
    (_action(swarm.SCALE, 'demo-web', 2, 0), 'started'),
    (_action(swarm.SCALE, 'demo-web', 3, 2), 'updated'),
    (_action(swarm.SCALE, 'demo-web', 1, 2), 'updated'),
])
def test_the_summary_names_each_service_by_what_happens_to_it(action, key):
    work = swarm.SwarmWork([action, _action(swarm.CREATE, 'demo-clock', 1)])
    summary = work.summary()
    assert set(summary) == set(results.container_work(None)), 'the keys of every outcome'
    assert summary[key] == (['demo-clock', 'demo-web'] if key == 'created' else ['demo-web'])
    assert sum(len(names) for names in summary.values()) == 2
    assert work.changed and work.touches('web') and work.touches('clock') and not work.touches('worker')
    nothing = swarm.SwarmWork([])
    assert not nothing.changed and nothing.summary() == results.container_work(None) and nothing.warnings == []


# ---------------------------------------------------------------- converge: the plan

def test_a_new_app_gets_a_service_for_each_type_scaled_above_zero(tmp_path):
    docker = _docker()
    ctx = _ctx(tmp_path, docker)
    doc = _doc(formation={'web': 2, 'worker': 0})
    work = _app(ctx, doc).converge(doc, None)
    assert _kinds(work) == [('create', 'web')]
    assert work.summary()['created'] == ['demo-web'] and work.touches('web') and not work.touches('worker')
    action = work.actions[0]
    assert action.replicas == 2 and action.spec['mode'] == {'Replicated': {'Replicas': 2}}
    assert action.spec['labels'][swarm_specs.LABEL_SCHEDULER] == 'swarm'
    # the image of a service to create is looked for on the nodes that may run it: here the manager has it
    assert _methods(docker) == ['swarm_info', 'list_services', 'list_nodes', 'inspect_image'], 'planned'
    assert docker.services == [], 'nothing done'
    assert calls_of(docker, 'list_services')[0].arg == swarm_specs.service_filter('demo')


def test_apply_creates_the_services_and_waits_for_their_tasks(tmp_path):
    docker = _docker()
    ctx = _ctx(tmp_path, docker)
    doc = _doc(formation={'web': 2, 'worker': 1})
    app = _app(ctx, doc)
    work = app.converge(doc, None)
    assert _kinds(work) == [('create', 'web'), ('create', 'worker')], 'web first'
    assert app.apply(work, doc, None) == ({}, False)
    assert sorted(_services(docker)) == ['demo-web', 'demo-worker']
    assert [task['Slot'] for task in _running(docker, 'demo-web')] == [1, 2]
    assert len(_running(docker, 'demo-worker')) == 1
    created = [call.arg for call in calls_of(docker, 'create_service')]
    assert created == [action.spec for action in work.actions]
    assert 'inspect_service' in _methods(docker) and 'list_tasks' in _methods(docker), 'waited for the tasks'


def test_nothing_to_do_costs_one_list_call(tmp_path):
    docker = _docker()
    doc = _doc()
    _deployed(tmp_path, docker, doc)
    ctx = _ctx(tmp_path, docker)
    work = _app(ctx, doc).converge(doc, None)
    assert not work.changed and work.actions == [] and work.summary() == results.container_work(None)
    assert _methods(docker) == ['swarm_info', 'list_services']


def test_a_changed_definition_is_a_rolling_update(tmp_path):
    docker = _docker()
    _deployed(tmp_path, docker, _doc())
    old = dict((task['Slot'], task['ID']) for task in _running(docker, 'demo-web'))
    doc = _doc(image_id=OTHER_IMAGE_ID)
    ctx = _ctx(tmp_path, docker)
    app = _app(ctx, doc)
    work = app.converge(doc, None)
    assert _kinds(work) == [('update', 'web'), ('update', 'worker')]
    assert work.summary()['replaced'] == ['demo-web', 'demo-worker']
    assert not any(action.force for action in work.actions)
    app.apply(work, doc, None)
    service = _services(docker)['demo-web']
    assert service['Spec']['TaskTemplate']['ContainerSpec']['Image'] == OTHER_IMAGE_ID
    assert service['Spec']['Labels'][swarm_specs.LABEL_SPEC_HASH] == work.actions[0].spec['hash']
    assert service['UpdateStatus']['State'] == 'completed'
    assert [task['ID'] for task in _running(docker, 'demo-web')] != list(old.values())
    assert not _app(_ctx(tmp_path, docker), doc).converge(doc, None).changed


def test_a_change_of_the_replicas_alone_scales_in_place(tmp_path):
    docker = _docker()
    _deployed(tmp_path, docker, _doc())
    first = _running(docker, 'demo-web')[0]['ID']
    doc = _doc(formation={'web': 3, 'worker': 1})
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, None)
    assert _kinds(work) == [('scale', 'web')]
    assert (work.actions[0].before, work.actions[0].replicas) == (1, 3)
    assert work.summary()['updated'] == ['demo-web']
    app.apply(work, doc, None)
    tasks = _running(docker, 'demo-web')
    assert [task['Slot'] for task in tasks] == [1, 2, 3] and tasks[0]['ID'] == first, 'the running task stays'
    assert 'UpdateStatus' not in _services(docker)['demo-web']


def test_scaling_to_zero_stops_and_scaling_up_from_zero_starts(tmp_path):
    docker = _docker()
    _deployed(tmp_path, docker, _doc())
    doc = _doc(formation={'web': 1, 'worker': 0})
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, None)
    assert _kinds(work) == [('scale', 'worker')] and work.summary()['stopped'] == ['demo-worker']
    app.apply(work, doc, None)
    assert _running(docker, 'demo-worker') == [] and 'demo-worker' in _services(docker), 'the service stays'
    doc = _doc(formation={'web': 1, 'worker': 2})
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, None)
    assert _kinds(work) == [('scale', 'worker')] and work.summary()['started'] == ['demo-worker']
    app.apply(work, doc, None)
    assert len(_running(docker, 'demo-worker')) == 2


@pytest.mark.parametrize('changes', [
    {'processes': {'web': 'server --port $PORT'}, 'formation': {'web': 1}},
    {'formation': {'web': 1}},
])
def test_the_service_of_a_type_no_longer_defined_or_scaled_is_removed(tmp_path, changes):
    docker = _docker()
    _deployed(tmp_path, docker, _doc())
    doc = _doc(**changes)
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, None)
    assert _kinds(work) == [('remove', 'worker')] and work.summary()['removed'] == ['demo-worker']
    app.apply(work, doc, None)
    assert sorted(_services(docker)) == ['demo-web']
    assert set(task['ServiceID'] for task in docker.tasks) == {_services(docker)['demo-web']['ID']}


def test_a_restart_forces_an_update_of_every_type_or_of_the_types_named(tmp_path):
    docker = _docker()
    doc = _doc(formation={'web': 1, 'worker': 1, 'clock': 0}, processes={'web': 'serve', 'worker': 'work',
                                                                         'clock': 'tick'})
    _deployed(tmp_path, docker, doc)
    first = _running(docker, 'demo-web')[0]['ID']
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, None, force_replace=True)
    assert _kinds(work) == [('update', 'web'), ('update', 'worker')], 'nothing to restart of a type scaled to 0'
    assert all(action.force for action in work.actions)
    assert work.summary()['replaced'] == ['demo-web', 'demo-worker']
    app.apply(work, doc, None)
    assert _services(docker)['demo-web']['Spec']['TaskTemplate']['ForceUpdate'] == 1
    assert _running(docker, 'demo-web')[0]['ID'] != first
    assert [call.arg[1] for call in calls_of(docker, 'update_service')] == [True, True]
    only_web = _app(_ctx(tmp_path, docker), doc).converge(doc, None, types=['web'], force_replace=True)
    assert _kinds(only_web) == [('update', 'web')]


def test_a_scale_after_a_restart_replaces_no_task(tmp_path):
    """The restart's ForceUpdate stays on the service: an update that is no restart keeps it (else Swarm would
    replace every task of a mere scale)."""
    docker = _docker()
    doc = _doc()
    _deployed(tmp_path, docker, doc)
    app = _app(_ctx(tmp_path, docker), doc)
    app.apply(app.converge(doc, None, force_replace=True), doc, None)
    restarted = _running(docker, 'demo-web')[0]['ID']
    scaled = _doc(formation={'web': 2, 'worker': 1})
    app = _app(_ctx(tmp_path, docker), scaled)
    work = app.converge(scaled, None)
    assert _kinds(work) == [('scale', 'web')]
    app.apply(work, scaled, None)
    assert _running(docker, 'demo-web')[0]['ID'] == restarted
    assert _services(docker)['demo-web']['Spec']['TaskTemplate']['ForceUpdate'] == 1


def test_a_scale_that_must_not_replace_replaces_no_task(tmp_path):
    """dokku_ps_scale (converge with replace=False) after the global restart policy changed."""
    docker = _docker()
    _deployed(tmp_path, docker, _doc())
    first = _running(docker, 'demo-web')[0]['ID']
    global_doc = {'properties': {'restart_policy': 'always'}}
    doc = _doc(formation={'web': 2, 'worker': 1})
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, global_doc, types=['web'], replace=False, start=False)
    assert _kinds(work) == [('scale', 'web')] and work.summary()['updated'] == ['demo-web']
    app.apply(work, doc, global_doc)
    assert _running(docker, 'demo-web')[0]['ID'] == first


def test_stop_scales_every_service_to_zero_and_does_nothing_else(tmp_path):
    docker = _docker()
    _deployed(tmp_path, docker, _doc())
    doc = _doc(image_id=OTHER_IMAGE_ID)
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.stop(doc)
    assert _kinds(work) == [('scale', 'web'), ('scale', 'worker')]
    assert [action.replicas for action in work.actions] == [0, 0]
    assert work.summary()['stopped'] == ['demo-web', 'demo-worker'] and work.summary()['replaced'] == []
    app.apply(work, doc, None)
    assert _running(docker, 'demo-web') == [] and _running(docker, 'demo-worker') == []
    assert sorted(_services(docker)) == ['demo-web', 'demo-worker'], 'the services stay, as the formation does'
    assert not any('UpdateStatus' in service for service in docker.services), 'no rolling update'
    assert not _app(_ctx(tmp_path, docker), doc).stop(doc).changed


def test_delete_removes_every_service(tmp_path):
    docker = _docker()
    _deployed(tmp_path, docker, _doc())
    docker.create_service(swarm_specs.service_spec(_doc(name='other'), 'web', 1, 'no', 10))
    doc = _doc()
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.delete(doc)
    assert _kinds(work) == [('remove', 'web'), ('remove', 'worker')]
    assert work.summary()['removed'] == ['demo-web', 'demo-worker']
    app.apply(work, doc, None)
    assert sorted(_services(docker)) == ['other-web']
    assert [(call.container_id, call.name) for call in calls_of(docker, 'remove_service')][0][1] == 'demo-web'
    assert not _app(_ctx(tmp_path, docker), doc).delete(doc).changed


# ---------------------------------------------------------------- images

class _Node(object):
    """Another node's daemon, as the run reaches it at the address of its label: it has ``images``."""

    def __init__(self, images=(), down=False):
        self.images, self.down, self.asked = set(images), down, []

    def inspect_image(self, reference):
        self.asked.append(reference)
        if self.down:
            raise DokkuPsError('Cannot talk to the Docker daemon at ...: connection refused')
        return {'Id': reference} if reference in self.images else None


def _labelled(node_id, addr, host, **kwargs):
    found = node(node_id, addr, **kwargs)
    found['Spec']['Labels'] = {swarm.LABEL_DOCKER_HOST: host}
    return found


def _image_ctx(tmp_path, docker, others):
    ctx = _ctx(tmp_path, docker)
    ctx._connect = lambda host: others[host]  # the runner's factory of clients of other daemons
    return ctx


def test_a_service_whose_image_no_eligible_node_has_is_refused_naming_the_nodes(tmp_path):
    docker = _docker(nodes=[node('node1', '10.0.0.2', availability='drain'),
                            _labelled('node2', '10.0.0.3', 'tcp://node2:2375'),
                            _labelled('node3', '10.0.0.4', 'tcp://node3:2375'),
                            node('node4', '10.0.0.5', state='down')])
    others = {'tcp://node2:2375': _Node(), 'tcp://node3:2375': _Node()}
    doc = _doc(formation={'web': 2})
    message = refused(lambda: _app(_image_ctx(tmp_path, docker, others), doc).converge(doc, None))
    assert message.startswith('image: app demo: the image ') and IMAGE_ID in message
    assert '(node2 (10.0.0.3), node3 (10.0.0.4)): copy it to them first (dokku_ps.docker.dokku_ps_image' in message
    assert others['tcp://node2:2375'].asked == [IMAGE_ID], 'by id, once'
    assert not calls_of(docker, 'inspect_image'), 'the drained manager may run no task: not asked'
    assert not calls_of(docker, 'create_service')


def test_nodes_that_lack_the_image_are_named_in_a_warning_and_unknown_nodes_refuse_nothing(tmp_path):
    docker = _docker(nodes=[node('node1', '10.0.0.2'), _labelled('node2', '10.0.0.3', 'tcp://node2:2375'),
                            _labelled('node3', '10.0.0.4', 'tcp://node3:2375'), node('node4', '10.0.0.5')])
    others = {'tcp://node2:2375': _Node(), 'tcp://node3:2375': _Node(down=True)}
    doc = _doc(formation={'web': 2, 'worker': 1})
    ctx = _image_ctx(tmp_path, docker, others)
    work = _app(ctx, doc).converge(doc, None)
    assert _kinds(work) == [('create', 'web'), ('create', 'worker')]
    assert len(ctx.warnings) == 2 and all('the nodes node2 (10.0.0.3) lack the image' in warning for warning in ctx.warnings)
    assert others['tcp://node2:2375'].asked == [IMAGE_ID], 'asked once a run for both services'
    # no node known to have it, but two whose images are unknown (unreachable, no label): not refused
    docker.images.clear()
    ctx = _image_ctx(tmp_path, docker, others)
    assert _kinds(_app(ctx, doc).converge(doc, None)) == [('create', 'web'), ('create', 'worker')]
    assert 'node1 (10.0.0.2), node2 (10.0.0.3) lack' in ctx.warnings[0]


def test_an_image_in_a_registry_is_referenced_by_digest_and_the_nodes_pull_it(tmp_path):
    docker = _docker(nodes=[node('node1', '10.0.0.2', availability='drain'), node('node2', '10.0.0.3')])
    reference = '10.0.0.9:5000/demo:1'
    digest = '10.0.0.9:5000/demo@sha256:' + 'd' * 64
    docker.images[reference] = {'Id': IMAGE_ID, 'RepoDigests': [digest]}
    doc = _doc(image=reference, formation={'web': 1})
    ctx = _ctx(tmp_path, docker)
    work = _app(ctx, doc).converge(doc, None)
    assert work.actions[0].spec['task_template']['ContainerSpec']['Image'] == digest
    assert not calls_of(docker, 'list_nodes') and ctx.warnings == [], 'no node is asked for it: they pull it'
    assert [call.arg for call in calls_of(docker, 'inspect_image')] == [reference], 'one inspect, by the tag'
    # a tag that moved on: the release's own image, by its id
    docker.images[reference] = {'Id': OTHER_IMAGE_ID, 'RepoDigests': ['10.0.0.9:5000/demo@sha256:' + 'e' * 64]}
    docker.images[IMAGE_ID] = {'Id': IMAGE_ID, 'RepoDigests': [digest]}
    work = _app(_ctx(tmp_path, docker), doc).converge(doc, None)
    assert work.actions[0].spec['task_template']['ContainerSpec']['Image'] == digest


def test_a_scale_or_a_stop_does_not_look_for_the_image(tmp_path):
    docker = _docker()
    doc = _doc(formation={'web': 1})
    _deployed(tmp_path, docker, doc)
    docker.images.clear()
    scaled = _doc(formation={'web': 3})
    assert _kinds(_app(_ctx(tmp_path, docker), scaled).converge(scaled, None)) == [('scale', 'web')]
    assert _kinds(_app(_ctx(tmp_path, docker), doc).stop(doc)) == [('scale', 'web')]
    assert not calls_of(docker, 'inspect_image') and not calls_of(docker, 'list_nodes')


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize('state', ['inactive', 'active'])
def test_a_daemon_that_is_no_swarm_manager_is_refused_naming_it(tmp_path, state):
    docker = FakeDocker(host=HOST)
    docker.swarm_node_state = state
    doc = _doc()
    app = _app(_ctx(tmp_path, docker), doc)
    for plan in (lambda: app.converge(doc, None), lambda: app.stop(doc), lambda: app.delete(doc)):
        message = refused(plan)
        assert message.startswith('scheduler: swarm needs the Docker daemon at %s to be a swarm manager' % HOST)
        assert '(its swarm state: %s)' % state in message and 'docker swarm init' in message
    assert _methods(docker) == ['swarm_info'], 'asked once a run, and nothing else'


@pytest.mark.parametrize('changes, field, words', [
    ({'publish': 'auto'}, 'publish', 'fixed host port'),
    ({'publish': {'80': 5000}}, 'publish', 'fixed host port'),
])
def test_what_swarm_cannot_do_yet_is_refused_naming_the_field(tmp_path, changes, field, words):
    message = refused(swarm.check_supported, _doc(**changes))
    assert message.startswith('%s: app demo runs on swarm' % field) and words in message
    docker = _docker()
    doc = _doc(**changes)
    assert refused(_app(_ctx(tmp_path, docker), doc).converge, doc, None) == message
    assert 'list_services' not in _methods(docker) and docker.services == [], 'before anything changes'


def test_liveness_checks_and_no_publishing_are_supported():
    swarm.check_supported(app_with_app_json({'web': [paced_entry()]}, scheduler='swarm', publish=False))
    swarm.check_supported(_doc())


def test_one_offs_run_on_the_managers_daemon_and_stop_and_go_with_the_app(tmp_path):
    docker = _docker()
    doc = _doc(formation={'web': 1})
    _deployed(tmp_path, docker, doc)
    app = _app(_ctx(tmp_path, docker), doc)
    found = app.run_once(doc, oneoff.request(oneoff.RUN, 'echo hi', detach=True, keep=True))
    created = calls_of(docker, 'create_container')
    assert len(created) == 1 and found.name == created[0].name and found.name.startswith('demo.run.')
    spec = created[0].arg
    assert spec['image'] == IMAGE_ID and spec['network'] is None, 'the default bridge: no proxy network on swarm'
    assert app.cron_spec(doc, [], True)['docker_host'] == HOST
    assert [entry['name'] for entry in app.run.report([doc], None)['demo']['oneoffs']] == [found.name]

    stop = _app(_ctx(tmp_path, docker), doc).stop(doc)
    assert _kinds(stop) == [('scale', 'web'), ('stop-oneoff', 'run')]
    assert stop.summary()['stopped'] == sorted(['demo-web', found.name])
    app.apply(stop, doc, None)
    assert calls_of(docker, 'stop')[-1].name == found.name
    deleted = _app(_ctx(tmp_path, docker), doc).delete(doc)
    assert _kinds(deleted) == [('remove', 'web'), ('remove-oneoff', 'run')]
    app.apply(deleted, doc, None)
    assert calls_of(docker, 'remove')[-1].name == found.name and docker.services == []


def test_a_one_off_needs_the_image_on_the_manager(tmp_path):
    docker = _docker()
    doc = _doc()
    docker.images.clear()
    message = refused(_app(_ctx(tmp_path, docker), doc).run_once, doc, oneoff.request(oneoff.RUN, 'true'))
    assert message.startswith('image: app demo runs its one-offs on the swarm manager at %s, which lacks' % HOST)
    assert not calls_of(docker, 'create_container')


# ---------------------------------------------------------------- apply: a rollback, the proxy

def test_an_update_that_swarm_rolled_back_fails_naming_the_service_and_the_state(tmp_path):
    docker = _docker(rollback={'demo-web': 'update rolled back due to failure or early termination of task t1'})
    _deployed(tmp_path, docker, _doc())
    doc = _doc(image_id=OTHER_IMAGE_ID)
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, None)
    error = raised(DokkuPsError, app.apply, work, doc, None)
    assert str(error) == ('app demo: the rolling update of service demo-web failed and Swarm rolled it back '
                          '(rollback_completed): update rolled back due to failure or early termination of task t1')
    assert [call.name for call in calls_of(docker, 'update_service')] == ['demo-web'], 'the worker is left alone'
    assert _app(_ctx(tmp_path, docker), doc).converge(doc, None).touches('web'), 'the next run tries again'


def test_an_earlier_rollback_does_not_fail_the_next_update(tmp_path):
    """The status of an update that Swarm rolled back stays on the service until the next update: that one is
    judged by its own."""
    docker = _docker(rollback={'demo-web': 'rolled back'})
    _deployed(tmp_path, docker, _doc())
    doc = _doc(image_id=OTHER_IMAGE_ID)
    app = _app(_ctx(tmp_path, docker), doc)
    raised(DokkuPsError, app.apply, app.converge(doc, None), doc, None)
    docker.rollback = {}
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, None)
    assert work.actions[0].service['UpdateStatus']['State'] == 'rollback_completed'
    app.apply(work, doc, None)
    assert _services(docker)['demo-web']['UpdateStatus']['State'] == 'completed'


def test_apply_waits_until_the_service_converged(tmp_path, monkeypatch):
    """Tasks that do not run yet are waited for, until CONVERGE_TIMEOUT."""
    docker = _docker()
    doc = _doc(formation={'web': 1, 'worker': 0})
    app = _app(_ctx(tmp_path, docker), doc)
    work = app.converge(doc, None)
    sleeps = []
    original = docker.list_tasks

    def starting_first(filters):
        tasks = original(filters)
        if not sleeps:
            for task in tasks:
                task['Status']['State'] = 'starting'
        return tasks
    monkeypatch.setattr(docker, 'list_tasks', starting_first)
    monkeypatch.setattr(swarm.time, 'sleep', sleeps.append)
    app.apply(work, doc, None)
    assert sleeps == [swarm.POLL]
    monkeypatch.setattr(swarm, 'CONVERGE_TIMEOUT', -1)
    sleeps.append('no start this time')
    monkeypatch.setattr(docker, 'list_tasks', lambda filters: [])
    grown = _doc(formation={'web': 2, 'worker': 0})
    app = _app(_ctx(tmp_path, docker), grown)
    error = raised(DokkuPsError, app.apply, app.converge(grown, None), grown, None)
    assert str(error) == 'app demo: service demo-web did not converge within -1 s (0 of 2 tasks running)'


@pytest.mark.parametrize('before, after', [({'web': 0, 'worker': 1}, {'web': 1, 'worker': 1}),
                                           ({'web': 1, 'worker': 1}, {'web': 0, 'worker': 1})])
def test_an_update_of_a_service_with_no_task_to_update_converges(tmp_path, monkeypatch, before, after):
    """A stopped app (its services at 0) deployed with a new image, or a type scaled to 0 in the same run as a new
    image: the action is an update, and Swarm sets no UpdateStatus for it."""
    docker = _docker()
    doc = _doc(formation=dict(before, web=1))
    _deployed(tmp_path, docker, doc)
    if not before['web']:
        stopped = _app(_ctx(tmp_path, docker), doc)
        stopped.apply(stopped.stop(doc), doc, None)
    monkeypatch.setattr(swarm, 'CONVERGE_TIMEOUT', 0)
    monkeypatch.setattr(swarm.time, 'sleep', lambda seconds: None)
    new = _doc(image_id=OTHER_IMAGE_ID, formation=after)
    app = _app(_ctx(tmp_path, docker), new)
    work = app.converge(new, None)
    assert ('update', 'web') in _kinds(work)
    app.apply(work, new, None)
    assert len(_running(docker, 'demo-web')) == after['web']


def test_the_proxy_follows_the_web_tasks_during_apply_and_after(tmp_path, monkeypatch):
    docker = _docker()
    ctx = _ctx(tmp_path, docker)
    doc = _doc(proxy=PROXY, formation={'web': 2, 'worker': 0})
    app = _app(ctx, doc)
    switches = []
    monkeypatch.setattr(ctx.proxy, 'switch', lambda name, settings, before, after: switches.append((before, after)))
    work = app.converge(doc, None)
    app.apply(work, doc, None)
    members = ['10.0.0.2:%d' % PORTS_FROM, '10.0.0.3:%d' % (PORTS_FROM + 1)]
    assert switches == [([], members)], 'one switch for each change of the running tasks'
    app.sync_proxy(doc, work)
    pending = ctx.proxy._pending['demo']  # pylint: disable=protected-access
    assert all('server %s;' % member in pending for member in members)
    # a worker is not followed, nor an app without a proxy
    plain = _doc(formation={'web': 1, 'worker': 1})
    ctx = _ctx(tmp_path, _docker())
    monkeypatch.setattr(ctx.proxy, 'switch', lambda *args: switches.append(args))
    app = _app(ctx, plain)
    app.apply(app.converge(plain, None), plain, None)
    app.sync_proxy(plain, scheduler.nothing())
    assert len(switches) == 1 and 'demo' not in ctx.proxy._pending  # pylint: disable=protected-access


def test_check_mode_predicts_the_proxy_of_work_on_web(tmp_path):
    docker = _docker()
    doc = _doc(proxy=PROXY, formation={'web': 1, 'worker': 0})
    ctx = _ctx(tmp_path, docker, check_mode=True)
    app = _app(ctx, doc)
    app.sync_proxy(doc, app.converge(doc, None))
    assert ctx.proxy.changes['demo']['before'] is None
    assert '# and the web containers this run starts: web' in ctx.proxy.changes['demo']['after']
    assert 'create_service' not in _methods(docker)


# ---------------------------------------------------------------- members and the report

def test_the_members_are_the_published_ports_of_the_running_web_tasks_on_their_nodes(tmp_path):
    docker = _docker()
    _deployed(tmp_path, docker, _doc(formation={'web': 3, 'worker': 1}))
    app = _app(_ctx(tmp_path, docker), _doc())
    tasks = _running(docker, 'demo-web') + _running(docker, 'demo-worker')
    assert app.members(tasks) == ['10.0.0.2:%d' % PORTS_FROM, '10.0.0.2:%d' % (PORTS_FROM + 2),
                                  '10.0.0.3:%d' % (PORTS_FROM + 1)], 'sorted; the worker publishes nothing'
    tasks[0]['Status']['State'] = 'starting'
    assert app.members(tasks) == ['10.0.0.2:%d' % (PORTS_FROM + 2), '10.0.0.3:%d' % (PORTS_FROM + 1)]
    # a node joined since the nodes were listed: they are listed again
    docker.nodes.append(node('node3', '10.0.0.4'))
    tasks[1]['NodeID'] = 'node3'
    assert '10.0.0.4:%d' % (PORTS_FROM + 1) in app.members(tasks)
    assert len(calls_of(docker, 'list_nodes')) == 2
    tasks[2]['NodeID'] = 'gone'
    assert '10.0.0.2:%d' % (PORTS_FROM + 2) not in app.members(tasks), 'a task on no known node is no member'


def test_the_report_shows_each_task_as_a_dyno(tmp_path):
    docker = _docker()
    doc = _doc(formation={'web': 2, 'worker': 1})
    _deployed(tmp_path, docker, doc)
    run = _ctx(tmp_path, docker).scheduler_run('swarm')
    found = run.report([doc, _doc(name='other')], None)
    assert found['other'] == {'processes': 0, 'running': 'false', 'dynos': {}, 'oneoffs': []}
    report = found['demo']
    assert (report['processes'], report['running'], sorted(report['dynos'])) == (3, 'true',
                                                                                 ['web.1', 'web.2', 'worker.1'])
    web = report['dynos']['web.2']
    task = _running(docker, 'demo-web')[1]
    assert web == {'name': 'demo-web.2', 'id': task['ID'], 'status': 'running', 'desired_state': 'running',
                   'node': '10.0.0.3', 'ports': ['%d:5000' % (PORTS_FROM + 1)], 'started_at': task['Status']['Timestamp'],
                   'health': None, 'definition_current': True}
    assert report['dynos']['worker.1']['ports'] == [] and report['dynos']['worker.1']['node'] == '10.0.0.2'
    changed = run.report([_doc(formation={'web': 2, 'worker': 1}, image_id=OTHER_IMAGE_ID)], None)['demo']
    assert not any(entry['definition_current'] for entry in changed['dynos'].values())
    docker.tasks[0]['Status']['State'] = 'starting'
    assert run.report([doc], None)['demo']['running'] == 'mixed'


def test_a_scale_down_waits_for_the_retired_tasks_to_stop_running(tmp_path):
    docker = _docker()
    doc = _doc(formation={'web': 2})
    _deployed(tmp_path, docker, doc)
    app = _app(_ctx(tmp_path, docker), doc)
    service_id = _services(docker)['demo-web']['ID']
    app.apply(app.converge(_doc(formation={'web': 1}), None), doc, None)
    retired = [task for task in docker.tasks if task['DesiredState'] == 'remove']
    assert len(retired) == 1 and not app._retired_still_running(service_id, 1)
    # Swarm no longer wants the task, and its container still runs (it is being stopped)
    retired[0]['Status']['State'] = 'running'
    assert app._retired_still_running(service_id, 1) and not app._retired_still_running(service_id, 2)
    assert calls_of(docker, 'list_tasks')[-1].arg == {'service': [service_id]}, 'every task of the service'


def test_a_task_with_a_healthcheck_is_healthy_once_running_and_starting_before():
    assert swarm._health('running', True) == 'healthy' and swarm._health('starting', True) == 'starting'
    assert swarm._health('preparing', True) == 'starting' and swarm._health('running', False) is None
    assert swarm._health('shutdown', True) is None
