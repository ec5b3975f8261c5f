# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_image: copy an image a daemon lacks from the daemon that has it, without a registry (docs/swarm.md,
Images).

The image goes as the stream of ``docker save`` from ``source_docker_host`` into ``docker load`` on ``docker_host``,
chunk by chunk through the module (never whole in memory, never on disk); it keeps its ID, so a swarm service that
references the image by ID (as the swarm scheduler does) finds it on every node it was copied to. Idempotent by ID: a
daemon that has the image is not sent it again, only given the tag it lacks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import DokkuPsError, ValidationError

ImageRequest = collections.namedtuple('ImageRequest', 'image source')

ID = re.compile(r'^(sha256:)?[0-9a-f]{12,64}$')


def is_id(reference):
    return bool(ID.match(reference))


def split_name(reference):
    """``repository[:tag]`` -> (repository, tag); the tag defaults to ``latest`` (a registry's port is no tag)."""
    repository, _sep, tag = reference.rpartition(':')
    if not repository or '/' in tag:
        return reference, 'latest'
    return repository, tag


def parse(params):
    """dokku_ps_image's parameters -> an ImageRequest."""
    image = params['image'].strip() if isinstance(params['image'], str) else params['image']
    if not isinstance(image, str) or not image or any(char.isspace() for char in image) or '@' in image:
        raise ValidationError('image', '%r is not an image name (repository[:tag]) or ID' % (image,))
    source = params['source_docker_host']
    if not isinstance(source, str) or not source.strip():
        raise ValidationError('source_docker_host', 'must be the URL of the daemon that has the image')
    return ImageRequest(image, source.strip())


def image_facts(data, reference):
    return {'id': data.get('Id'), 'tags': sorted(data.get('RepoTags') or []), 'size': data.get('Size'),
            'reference': reference}


def run(ctx, req):
    """dokku_ps_image."""
    if req.source == ctx.docker.host:
        raise ValidationError('source_docker_host', 'is the daemon the image is copied to (docker_host): name '
                              'the daemon that has it')
    source = ctx.docker_at(req.source)
    found = source.inspect_image(req.image)
    if found is None:
        raise DokkuPsError('there is no image %s on the Docker daemon at %s (the source): nothing was copied'
                           % (req.image, req.source))
    image_id = found['Id']
    tag = None if is_id(req.image) else '%s:%s' % split_name(req.image)
    present = ctx.docker.inspect_image(image_id)
    copy = present is None
    retag = tag is not None and (copy or tag not in (present.get('RepoTags') or []))
    before = image_facts(present, req.image) if present else None
    if ctx.check_mode or not (copy or retag):
        after = image_facts(present or dict(found, RepoTags=[tag] if tag else []), req.image)
    else:
        if copy:
            # by name, the stream carries the tag as well
            ctx.docker.load_image(source.save_image(req.image if tag else image_id))
        loaded = ctx.docker.inspect_image(image_id)
        if loaded is None:
            raise DokkuPsError('the Docker daemon at %s loaded the stream of image %s, but has no image %s then'
                               % (ctx.docker.host, req.image, image_id))
        if tag and tag not in (loaded.get('RepoTags') or []):
            ctx.docker.tag_image(image_id, *split_name(tag))
            loaded = ctx.docker.inspect_image(image_id)
        after = image_facts(loaded, req.image)
    return {'changed': copy or retag, 'copied': copy, 'image': after,
            'diff': {'before': {'image': before}, 'after': {'image': after}}}
