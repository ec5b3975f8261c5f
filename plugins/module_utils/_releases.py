# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Releases: every recorded change of an app's definition is a numbered release (docs/releases.md). Pure logic.

An app document keeps its releases under ``releases``, oldest first. A release is::

    {"number": 3, "created_at": "2026-12-04T10:00:00Z", "made_by": "rollback", "rollback_of": 1,
     "definition": {<RELEASE_KEYS of the document when it was recorded>}}

The last release is the current one: every write of a document whose definition differs from its last release's
appends a release (:func:`record`), so the document's definition always is its last release's. Numbers only grow
(the next one is the last one's plus one; the last one is never dropped). A definition holds the env in clear,
like the document's own ``env``: the document is 0600 (docs/state.md), and nothing here ever shows a value
(:func:`report_rows` masks the env the way results and diffs do).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.dokku_ps.docker.plugins.module_utils._declaration import release_keys
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._proxy_settings import NO_PROXY
from ansible_collections.dokku_ps.docker.plugins.module_utils import _redaction as redaction


# What a release holds of an app document: what dokku_ps_app declares (image, processes, env, web port,
# publishing, checks, proxy, app.json) and what the image defines (its DOKKU_SCALE, CHECKS and app.json). The
# formation (dokku_ps_scale) and the properties (dokku_ps_policy) are not part of a release: a rollback keeps them,
# fitted to the release's processes.
RELEASE_KEYS = ('image', 'image_id', 'processes', 'process_source', 'procfile_path', 'env', 'web_port', 'publish',
                'checks', 'image_checks', 'dokku_scale', 'proxy', 'app_json', 'app_json_option', 'app_json_image')

DEPLOY = 'deploy'
ROLLBACK = 'rollback'
MADE_BY = (DEPLOY, ROLLBACK)

# the keys of a declaration that a pinned release replaces (the keys _declaration.KEYS marks RELEASED)
PINNED_KEYS = tuple(release_keys())


def _at_least_one(value, field, rule, boolean_rule=None):
    """An integer of 1 or more (digits in a string are taken, a boolean is not); else ``rule`` after the value
    (``boolean_rule`` for a boolean, when given)."""
    if isinstance(value, bool):
        raise ValidationError(field, '%r %s' % (value, boolean_rule or rule))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        raise ValidationError(field, '%r %s' % (value, rule))
    return value


def validate_number(value, field='release'):
    """A release number: an integer of 1 or more."""
    return _at_least_one(value, field, 'is not a release number (an integer of 1 or more)')


def validate_keep(value, field='keep_releases'):
    """The keep_releases property: how many releases an app keeps, an integer of 1 or more."""
    return _at_least_one(value, field, 'is not an integer of 1 or more (the current release is always kept)',
                         'is not an integer of 1 or more')


def definition_of(doc):
    """What a release records of an app document (a copy)."""
    return dict((key, copy.deepcopy(doc.get(key))) for key in RELEASE_KEYS)


def _comparable(definition):
    found = dict((key, definition.get(key)) for key in RELEASE_KEYS)
    if found['proxy'] is None:
        found['proxy'] = NO_PROXY  # an app without proxy settings is an app whose proxy is off
    elif found['proxy'].get('tls', 'absent') is None:
        # no TLS settings are the settings of a document written before HTTPS existed
        found['proxy'] = dict((key, value) for key, value in found['proxy'].items() if key != 'tls')
    if found['publish'] is False:
        found['publish'] = None
    return found


def same_definition(one, other):
    """Whether two definitions are the same release content (an app without proxy settings has its proxy off)."""
    return _comparable(one) == _comparable(other)


def kept(doc):
    """The app's releases, oldest first (none for a document written before releases)."""
    return list((doc or {}).get('releases') or [])


def current(doc):
    """The app's current release (its last), or None."""
    found = kept(doc)
    return found[-1] if found else None


def current_number(doc):
    release = current(doc)
    return release['number'] if release else None


def find(doc, number):
    """The kept release with this number, or None."""
    for release in kept(doc):
        if release['number'] == number:
            return release
    return None


def numbers(doc):
    return [release['number'] for release in kept(doc)]


def new_release(number, doc, when, made_by=DEPLOY, rollback_of=None):
    if made_by not in MADE_BY:
        raise ValueError('made_by must be one of %s' % ', '.join(MADE_BY))
    return {'number': number, 'created_at': when, 'made_by': made_by, 'rollback_of': rollback_of,
            'definition': definition_of(doc)}


def seed(doc, when):
    """A document written before releases existed gets its definition as release 1 (in memory, ``doc`` changed):
    the next change of definition is then release 2, and release 1 what ran before it. ``when``: the time to
    record when the document has no ``updated_at``. Returns ``doc``."""
    if doc is not None and 'releases' not in doc:
        doc['releases'] = [new_release(1, doc, doc.get('updated_at') or when)]
    return doc


def record(doc, when, keep, made_by=DEPLOY, rollback_of=None):
    """Before ``doc`` is written: a new release when its definition differs from the current release's (or it has
    none), then the oldest releases beyond ``keep`` dropped. Changes ``doc``; returns the new release or None."""
    last = current(doc)
    added = None
    if last is None or not same_definition(last['definition'], definition_of(doc)):
        number = last['number'] + 1 if last else 1
        added = new_release(number, doc, when, made_by, rollback_of if made_by == ROLLBACK else None)
        doc['releases'] = kept(doc) + [added]
    prune(doc, keep)
    return added


def prune(doc, keep):
    """Drop the oldest releases beyond the last ``keep`` (never the current one, whatever ``keep`` says). Changes
    ``doc``; returns the numbers dropped."""
    found = kept(doc)
    keep = max(1, keep)
    if len(found) <= keep:
        return []
    doc['releases'] = found[-keep:]
    return [release['number'] for release in found[:-keep]]


def runs(doc, number):
    """Whether the app already runs release ``number``: it is the current release, or the current release is a
    rollback to it (then ``number`` may be dropped by now), or its definition is the app's definition."""
    last = current(doc)
    if last is not None and number in (last['number'], last.get('rollback_of')):
        return True
    release = find(doc, number)
    return release is not None and same_definition(release['definition'], definition_of(doc))


def previous_number(doc):
    """The kept release before the current one (what Heroku's rollback without a number goes back to), or None."""
    found = kept(doc)
    return found[-2]['number'] if len(found) > 1 else None


def target(doc, number, app):
    """The kept release a pin of ``number`` rolls back to; a one-line error naming the field when there is none."""
    release = find(doc, number)
    if release is None:
        shown = ', '.join(str(found) for found in numbers(doc)) or 'none'
        raise ValidationError('release', 'app %s has no release %d (kept releases: %s; see dokku_ps_report)'
                              % (app, number, shown))
    return release


def ignored_keys(given):
    """The keys of a declaration (``given``: the keys it sets) that a pinned release replaces."""
    return [key for key in PINNED_KEYS if key in given]


def summary(release):
    """What a result shows of a release (never its env): number, when, what made it, what it rolled back to, image."""
    if release is None:
        return None
    definition = release['definition']
    return {'number': release['number'], 'created_at': release['created_at'], 'made_by': release['made_by'],
            'rollback_of': release.get('rollback_of'), 'image': definition.get('image'),
            'image_id': definition.get('image_id')}


def outcome(doc, old):
    """The ``release`` of an app outcome: the app's current release after the run (in check mode, the one it would
    record), and whether the run made it (``new``)."""
    release = current(doc)
    if release is None:
        return None
    return dict(summary(release), new=release['number'] != current_number(old))


def report_rows(doc):
    """The releases of dokku_ps_report, newest first: number, when, what made it, image, processes, the env's keys
    (values masked), and which one is current."""
    found = kept(doc)
    rows = []
    for release in reversed(found):
        definition = release['definition']
        row = summary(release)
        row['processes'] = copy.deepcopy(definition.get('processes'))
        row['env'] = redaction.masked_env(definition.get('env') or {})
        row['current'] = release is found[-1]
        rows.append(row)
    return rows


def report(doc):
    """The release keys of an app's report: ``release`` (the current one), ``previous_release`` (the number a
    rollback to the previous release pins) and ``releases`` (:func:`report_rows`)."""
    return {'release': summary(current(doc)), 'previous_release': previous_number(doc), 'releases': report_rows(doc)}
