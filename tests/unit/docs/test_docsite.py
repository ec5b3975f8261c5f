# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every guide page docs/<name>.md is on the docs site: a stub docs/docsite/rst/<name>.rst with the label
antsibull-docs wants and the page's title, listed in docs/docsite/extra-docs.yml; and no stub stands for
a page that does not exist. The docs stage (scripts/docsite/dokku_ps_docsite.py) shows the Markdown text
in place of each stub's body.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOCS = os.path.join(REPO_ROOT, 'docs')
STUBS = os.path.join(DOCS, 'docsite', 'rst')
PAGES = sorted(name[:-3] for name in os.listdir(DOCS) if name.endswith('.md'))


def title_of_markdown(name):
    with open(os.path.join(DOCS, name + '.md')) as handle:
        first = handle.readline().rstrip('\n')
    assert first.startswith('# '), 'docs/%s.md does not start with a "# title" line' % name
    return first[2:]


def extra_docs_refs():
    with open(os.path.join(DOCS, 'docsite', 'extra-docs.yml')) as handle:
        index = yaml.safe_load(handle)
    return [entry if isinstance(entry, str) else entry['ref']
            for section in index['sections'] for entry in section['toctree']]


@pytest.mark.parametrize('name', PAGES)
def test_every_guide_page_has_a_stub_with_its_label_and_title(name):
    with open(os.path.join(STUBS, name + '.rst')) as handle:
        lines = handle.read().splitlines()
    assert lines[0] == '.. _ansible_collections.dokku_ps.docker.docsite.%s:' % name
    title = title_of_markdown(name)
    assert lines[2:4] == [title, '=' * len(title)]


def test_extra_docs_list_every_guide_page_once():
    refs = extra_docs_refs()
    assert sorted(refs) == PAGES


def test_no_stub_without_its_guide_page():
    stubs = sorted(name[:-4] for name in os.listdir(STUBS) if name.endswith('.rst'))
    assert stubs == PAGES
