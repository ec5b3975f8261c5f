# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the unit tests share: refusals read as one line, app documents, app.json entries, /proc/net tables.

Imported as ``tests.unit.helpers`` (conftest.py puts the repository root on ``sys.path``). Pure data and pure
functions only: no Docker, no files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import DEFAULT_WEB_PORT
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import NO_PROXY
from ansible_collections.dokku_ps.docker.plugins.module_utils._schema import SCHEMA_VERSION


def one_line(error):
    """The message of ``error``, checked to be one line (not empty, no line break)."""
    message = str(error)
    assert message and '\n' not in message, 'error messages are one line: %r' % message
    return message


def raised(error_class, func, *args, **kwargs):
    """The ``error_class`` exception ``func(*args, **kwargs)`` raises, its message checked to be one line. For
    tests that read more than the message (``details``), or an error other than a refusal."""
    with pytest.raises(error_class) as info:
        func(*args, **kwargs)
    one_line(info.value)
    return info.value


def refused(func, *args, **kwargs):
    """The message of the ValidationError ``func(*args, **kwargs)`` raises, checked to be one line."""
    return str(raised(ValidationError, func, *args, **kwargs))


# -- app documents ------------------------------------------------------------------------------------------------

IMAGE_ID = 'sha256:' + 'a' * 64
OTHER_IMAGE_ID = 'sha256:' + 'b' * 64


# when the document was last written (2026-01-01T00:00:00Z), and the same moment on the Docker daemon's clock
UPDATED_AT = '2026-01-01T00:00:00Z'
UPDATED_AT_NS = 1767225600 * 10 ** 9


def app_document(without=(), **changes):
    """A whole app document, valid against ``_schema.APP_SCHEMA`` and holding every key it knows: app ``demo`` of
    image ``demo:1`` (``IMAGE_ID``) with a web and a worker process whose commands expand $PORT and $QUEUE (given as
    the processes option), three env values, one web and one worker container, the default web port, nothing
    published, no checks, every property inherited, deployed on docker-local, restart policies known up to
    ``UPDATED_AT`` and none set in place, the proxy off, no app.json, no release recorded yet (and no release
    phase), no certificate.

    ``changes`` replace keys (a test passes every value it relies on); ``without`` names keys to leave out, as in a
    document written before they existed. A fresh copy each time."""
    doc = {
        'schema_version': SCHEMA_VERSION,
        'name': 'demo',
        'image': 'demo:1',
        'image_id': IMAGE_ID,
        'processes': {'web': 'server --port $PORT', 'worker': 'work --queue $QUEUE --port=$PORT'},
        'process_source': 'processes',
        'procfile_path': None,
        'env': {'QUEUE': 'jobs', 'ZED': 'last', 'ALPHA': 'first'},
        'web_port': DEFAULT_WEB_PORT,
        'publish': None,
        'formation': {'web': 1, 'worker': 1},
        'dokku_scale': None,
        'checks': {},
        'image_checks': None,
        'properties': {'restart_policy': None, 'stop_timeout_seconds': None, 'restore': None, 'keep_releases': None},
        'deployed': True,
        'scheduler': 'docker-local',
        'applied_policies': {},
        'policy_window': {'since': UPDATED_AT_NS, 'caused': {}, 'caused_before': UPDATED_AT_NS},
        'proxy': dict(copy.deepcopy(NO_PROXY), tls=None),
        'app_json': None,
        'app_json_option': None,
        'app_json_image': None,
        'updated_at': UPDATED_AT,
        'releases': [],
        'release_phase': None,
        'certificate': None,
    }
    unknown = (set(changes) | set(without)) - set(doc)
    assert not unknown, 'not keys of an app document: %s' % ', '.join(sorted(unknown))
    doc.update(changes)
    for key in without:
        del doc[key]
    return doc


# -- app.json healthcheck entries, as the app document carries them (normalised, defaults filled in) ---------------

def healthcheck_entry(check_type='startup', name='check', **fields):
    """One entry; every field not given has the value app.json's parser fills in for a bare entry, except
    ``attempts`` 1 and ``wait`` 0 (one quick attempt)."""
    result = {'type': check_type, 'name': name, 'path': None, 'content': None, 'command': None, 'port': None,
              'attempts': 1, 'timeout': 5, 'wait': 0, 'initial_delay': 0, 'uptime': None, 'listening': False,
              'scheme': 'http'}
    result.update(fields)
    return result


def paced_entry(check_type='liveness', name='check', **fields):
    """One entry of three attempts 2 s apart (what a Docker HEALTHCHECK is made from); a liveness check unless
    told."""
    fields.setdefault('attempts', 3)
    fields.setdefault('wait', 2)
    return healthcheck_entry(check_type, name, **fields)


def app_json_document(healthchecks=None, formation=None, source='app_json option'):
    """The ``app_json`` of an app document: where it was read, its formation and its healthchecks per type."""
    return {'source': source, 'formation': formation, 'healthchecks': healthchecks}


def app_with_app_json(healthchecks=None, formation=None, **changes):
    """An app document (``app_document``) whose app.json, given inline, has these healthchecks and formation."""
    return app_document(app_json=app_json_document(healthchecks, formation), **changes)


# -- /proc/net/tcp and /proc/net/tcp6 as a container shows them --------------------------------------------------

TCP4_HEADER = ('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode')
TCP6_HEADER = ('  sl  local_address                         remote_address                        st tx_queue '
               'rx_queue tr tm->when retrnsmt   uid  timeout inode')


def proc_line(number, local, state='0A', remote=None):
    """One socket line; ``local`` is the kernel's hex ``address:port``, state 0A is listening."""
    remote = remote or ('0' * (len(local.split(':')[0])) + ':0000')
    return ('%4d: %s %s %s 00000000:00000000 00:00000000 00000000     0        0 11263906 1 0000000000000000 100 0 0 '
            '10 0' % (number, local, remote, state))


def proc_tables(tcp4=(), tcp6=()):
    """Both tables with listening sockets at these local addresses."""
    lines = [TCP4_HEADER] + [proc_line(n, local) for n, local in enumerate(tcp4)]
    lines += [TCP6_HEADER] + [proc_line(n, local) for n, local in enumerate(tcp6)]
    return '\n'.join(lines) + '\n'


# -- a run context, for what reads images -------------------------------------------------------------------------

class FakeImages(object):
    """What building an app document asks of the run context (_context.Context): the text files of an image
    (``files``: path -> text, counted in ``reads``), images by reference or id (``images``, looked up in
    ``looked_up``), the run's warnings, the registration of a document's secrets (nothing here), and the global
    document of its store (``global_doc``)."""

    def __init__(self, files=None, images=None, global_doc=None):
        self.files = dict(files or {})
        self.images = dict(images or {})
        self.reads = 0
        self.looked_up = []
        self.warnings = []
        # the state store's global document (``store.read_global``: the global scheduler of a new app)
        self.global_doc = global_doc
        self.store = self

    def read_global(self):
        return self.global_doc

    def image_files(self, image_id, paths):
        self.reads += 1
        return dict((path, self.files.get(path)) for path in paths)

    def image(self, reference):
        self.looked_up.append(reference)
        return self.images.get(reference)

    def warn(self, message):
        self.warnings.append(message)

    def know(self, doc):
        return doc
