# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pictures of the guide pages on the docs site (scripts/docsite/dokku_ps_docsite.py): the local pictures a
page links are found (not those of code examples, not URLs), a missing one is reported by the check the docs stage
runs before building (`check-images`), and a built page showing a picture the site lacks by the one it runs after
(`check-html`). Every picture docs/*.md links today exists."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXTENSION = os.path.join(REPO_ROOT, 'scripts', 'docsite', 'dokku_ps_docsite.py')


def _extension():
    spec = importlib.util.spec_from_file_location('dokku_ps_docsite', EXTENSION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docsite = _extension()


def _page(directory, name, text):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding='utf-8')
    return str(path)


def test_the_local_pictures_a_page_links_are_found(tmp_path):
    page = _page(tmp_path, 'performance.md', '\n'.join([
        '# Performance',
        '![Line charts of seconds (N = 10, 30)](images/bench/scale-growth.svg)',
        'text ![inline](images/bench/noop-requests.svg "a title") and [a link](other.md), ![again](images/bench/scale-growth.svg)',
        '![remote](https://example.org/chart.svg) ![data](data:image/png;base64,AAAA) ![absolute](/srv/x.svg)',
        '```markdown',
        '![an example in a code block](images/example.svg)',
        '```',
        '![after the block](<images/with space.svg>)',
    ]))
    assert docsite.page_images(page) == ['images/bench/scale-growth.svg', 'images/bench/noop-requests.svg',
                                         'images/with space.svg']


def test_a_missing_picture_is_reported_by_page(tmp_path):
    _page(tmp_path, 'images/bench/scale-growth.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')
    _page(tmp_path, 'performance.md', '# P\n\n![a](images/bench/scale-growth.svg)\n\n![b](images/bench/swarm.svg)\n')
    _page(tmp_path, 'proxy.md', '# Q\n\n![c](../outside.svg)\n')
    _page(tmp_path.parent, 'outside.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')
    _page(tmp_path, 'notes.txt', '![not a page](missing.svg)\n')
    assert docsite.missing_images(str(tmp_path)) == [
        ('performance.md', 'images/bench/swarm.svg'), ('proxy.md', '../outside.svg')]
    assert docsite.main(['check-images', str(tmp_path)]) == 1


def test_the_check_passes_when_every_picture_is_there(tmp_path, capsys):
    _page(tmp_path, 'images/a.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')
    _page(tmp_path, 'page.md', '# P\n\n![a](images/a.svg)\n')
    assert docsite.main(['check-images', str(tmp_path)]) == 0
    assert capsys.readouterr().err == ''


def test_a_built_page_showing_a_picture_the_site_lacks_is_reported(tmp_path, capsys):
    _page(tmp_path, '_images/scale-growth.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')
    _page(tmp_path, 'docsite/performance.html', '<p><img alt="x" src="../_images/scale-growth.svg" />'
                                                '<img alt="y" src="../_images/swarm.svg" />'
                                                '<img src="https://example.org/badge.svg"></p>')
    _page(tmp_path, 'index.html', '<img class="logo" src="_images/scale-growth.svg">')
    assert docsite.missing_html_images(str(tmp_path)) == [('docsite/performance.html', '../_images/swarm.svg')]
    assert docsite.main(['check-html', str(tmp_path)]) == 1
    assert 'docsite/performance.html shows the picture ../_images/swarm.svg' in capsys.readouterr().err


def test_a_wrong_call_is_a_usage_error(capsys):
    assert docsite.main([]) == 2
    assert docsite.main(['check-everything', 'docs']) == 2
    assert 'usage:' in capsys.readouterr().err


def test_every_picture_the_guide_pages_link_exists():
    assert docsite.missing_images(os.path.join(REPO_ROOT, 'docs')) == []
