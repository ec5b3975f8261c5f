# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_image (module_utils/_ops_image.py): its parameters, and the copy between two fake daemons (the real
ones: tests/integration/test_swarm_role.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_image as ops
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError
from tests.unit.fake_docker import FakeDocker
from tests.unit.helpers import IMAGE_ID, raised, refused


def done(docker):
    return [(call.method, call.arg) for call in docker.calls if call.method != 'inspect_image']


class Ctx(object):
    def __init__(self, target, source, check_mode=False):
        self.docker, self.source, self.check_mode = target, source, check_mode

    def docker_at(self, host):
        assert host == self.source.host
        return self.source


def _pair(target_images=None):
    source = FakeDocker(host='tcp://manager:2375')
    source.images[IMAGE_ID] = {'Id': IMAGE_ID, 'Size': 10, 'RepoTags': ['shop:1.2']}
    target = FakeDocker(host='unix:///run/node.sock')
    target.images.update(copy.deepcopy(target_images or {}))
    return target, source


def _run(target, source, image, check_mode=False):
    req = ops.parse({'image': image, 'source_docker_host': source.host})
    return ops.run(Ctx(target, source, check_mode), req)


def test_parse_and_names():
    assert ops.parse({'image': ' shop:1.2 ', 'source_docker_host': 'tcp://m:2375'}) == \
        ops.ImageRequest('shop:1.2', 'tcp://m:2375')
    assert refused(ops.parse, {'image': 'shop@sha256:ab', 'source_docker_host': 'x'}).startswith('image: ')
    assert refused(ops.parse, {'image': 'shop', 'source_docker_host': ' '}).startswith('source_docker_host: must')
    assert ops.split_name('shop') == ('shop', 'latest')
    assert ops.split_name('registry:5000/shop') == ('registry:5000/shop', 'latest')
    assert ops.split_name('registry:5000/shop:2') == ('registry:5000/shop', '2')
    assert ops.is_id(IMAGE_ID) and ops.is_id('a' * 12) and not ops.is_id('shop:1.2')


def test_an_image_is_copied_once_by_name_with_its_tag_and_check_mode_sends_nothing():
    target, source = _pair()
    planned = _run(target, source, 'shop:1.2', check_mode=True)
    assert planned['changed'] and planned['copied'] and done(target) == [] and done(source) == []
    assert planned['image']['tags'] == ['shop:1.2'] and planned['diff']['before']['image'] is None
    result = _run(target, source, 'shop:1.2')
    assert result['changed'] and done(source) == [('save_image', 'shop:1.2')]
    assert done(target) == [('load_image', IMAGE_ID)], 'tagged by the stream'
    assert result['image'] == {'id': IMAGE_ID, 'tags': ['shop:1.2'], 'size': 10, 'reference': 'shop:1.2'}
    again = _run(target, source, 'shop:1.2')
    assert not again['changed'] and not again['copied'] and len(done(source)) == 1


def test_by_id_nothing_is_tagged_and_a_missing_tag_is_only_tagged():
    target, source = _pair()
    assert _run(target, source, IMAGE_ID)['copied'] and done(source) == [('save_image', IMAGE_ID)]
    assert target.images[IMAGE_ID]['RepoTags'] == []
    result = _run(target, source, 'shop:1.2')
    assert result['changed'] and not result['copied'] and done(target)[-1] == ('tag_image', ('shop', '1.2'))
    assert result['image']['tags'] == ['shop:1.2'] and len(done(source)) == 1, 'not sent again'


def test_an_image_the_source_lacks_or_a_source_that_is_the_target_are_refused():
    target, source = _pair()
    error = raised(DokkuPsError, _run, target, source, 'blog:1')
    assert str(error) == 'there is no image blog:1 on the Docker daemon at tcp://manager:2375 (the source): nothing was copied'
    req = ops.parse({'image': 'shop:1.2', 'source_docker_host': target.host})
    assert refused(ops.run, Ctx(target, source), req).startswith('source_docker_host: is the daemon the image is')


@pytest.mark.parametrize('check_mode', [True, False])
def test_a_target_that_has_the_image_and_tag_is_left_alone(check_mode):
    target, source = _pair({IMAGE_ID: {'Id': IMAGE_ID, 'Size': 10, 'RepoTags': ['shop:1.2']}})
    result = _run(target, source, 'shop:1.2', check_mode)
    assert not result['changed'] and done(target) == [] and done(source) == []
