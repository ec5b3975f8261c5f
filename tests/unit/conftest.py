# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.dokku_ps.docker`` importable when pytest runs from the repo root.

The collection's code imports itself by its FQCN path. ``scripts/test.sh`` prepares
``.build/collections/ansible_collections/dokku_ps/docker`` as a symlink to the repository root and
puts ``.build/collections`` on ``sys.path``; this file does the same on its own, so a bare
``python3 -m pytest tests/unit`` works too. It never replaces something that already exists.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_ROOT = os.path.join(REPO_ROOT, ".build", "collections")
COLLECTION_LINK = os.path.join(COLLECTIONS_ROOT, "ansible_collections", "dokku_ps", "docker")


def _ensure_collection_link():
    if os.path.lexists(COLLECTION_LINK) and not os.path.exists(COLLECTION_LINK):
        # A dangling symlink (the repository moved): replace it.
        os.unlink(COLLECTION_LINK)
    if not os.path.lexists(COLLECTION_LINK):
        parent = os.path.dirname(COLLECTION_LINK)
        try:
            os.makedirs(parent)
        except OSError:
            if not os.path.isdir(parent):
                raise
        try:
            os.symlink(REPO_ROOT, COLLECTION_LINK)
        except OSError:
            # Another test run created it at the same moment.
            if not os.path.exists(COLLECTION_LINK):
                raise
    if COLLECTIONS_ROOT not in sys.path:
        sys.path.insert(0, COLLECTIONS_ROOT)


_ensure_collection_link()
# the tests' shared helpers are imported as tests.unit.helpers
if REPO_ROOT not in sys.path:
    sys.path.append(REPO_ROOT)
