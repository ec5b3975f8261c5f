"""Sphinx extension of the docs site that `./scripts/test.sh docs` builds (not part of the collection).

antsibull-docs turns the collection into reStructuredText (modules, roles, and the extra docs listed in
docs/docsite/extra-docs.yml); this extension adds what that site needs beyond antsibull-docs' defaults:

- The guide pages are written in Markdown (docs/<name>.md) and stay the only copy of their text. Each has a
  stub docs/docsite/rst/<name>.rst that antsibull-docs lints and copies as an extra doc: its label, a title
  and a sentence pointing to the Markdown file. When the build starts, each Markdown page is copied beside
  its stub in the Sphinx source tree (and excluded from the documents); while Sphinx reads a stub,
  everything after its labels is replaced by an `include` of that copy through myst-parser. So the page
  shows the Markdown text, and links between guide pages (`[x](reliability.md)`) resolve to the stubs'
  pages, as MyST resolves a link to a file next to the page to the document of the same name.
- The pictures a guide page links (`![alt](images/bench/scale-growth.svg)`: the benchmark's charts, drawn by
  bench/charts.py) are copied beside the page's copy under the same relative path, so Sphinx finds them and
  puts them in the site (_images/). A picture a page links that does not exist is a warning, so the build
  fails; `python scripts/docsite/dokku_ps_docsite.py check-images docs` says which before any build, and
  `check-html .build/docs/build/html` that every picture of the built pages is in the site.
- The build is offline: intersphinx fetches no inventory (conf.py's mapping is emptied). The few labels of
  the Ansible docsite that antsibull-docs' pages refer to become plain links to docs.ansible.com instead;
  any other unresolved reference stays a warning (and the build, run with -W, fails).

conf.py sets `dokku_ps_guide_dir` to the directory of the Markdown pages (the collection's docs/).
"""

from __future__ import annotations

import os
import re
import shutil
import sys

from docutils import nodes
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/devel/'

# Labels of the Ansible docsite that antsibull-docs' generated pages refer to, and where they are.
ANSIBLE_LABELS = {
    'common_return_values': 'reference_appendices/common_return_values.html#common-return-values',
    'ansible_configuration_settings': 'reference_appendices/config.html#ansible-configuration-settings',
}

LABEL_LINE = re.compile(r'^\.\. _[^:]+:\s*$')
# a Markdown image, ![alt](target) or ![alt](target "title"); its target as written
IMAGE_LINK = re.compile(r'!\[[^\]]*\]\(\s*(?:<([^>\n]+)>|([^)\s]+))(?:\s+"[^"]*")?\s*\)')
HTML_IMAGE = re.compile(r'<img\b[^>]*\bsrc="([^"]+)"', re.I)


def guide_stubs(app):
    """(stub path, Markdown page) of every extra doc that stands for a guide page in the source tree."""
    guide_dir = app.config.dokku_ps_guide_dir
    if not guide_dir:
        return
    for parent, dummy, files in os.walk(str(app.srcdir)):
        if os.path.basename(parent) != 'docsite':
            continue
        for name in sorted(files):
            stem, suffix = os.path.splitext(name)
            markdown = os.path.join(guide_dir, stem + '.md')
            if suffix == '.rst' and os.path.isfile(markdown):
                yield os.path.join(parent, name), markdown


def page_images(markdown):
    """The local pictures the Markdown page ``markdown`` links, as written (relative to the page)."""
    with open(markdown, encoding='utf-8') as handle:
        text = handle.read()
    text = re.sub(r'^(```|~~~).*?^\1', '', text, flags=re.S | re.M)  # not the examples in code blocks
    found = []
    for bracketed, plain in IMAGE_LINK.findall(text):
        target = bracketed or plain
        if re.match(r'^[a-z][a-z0-9+.-]*:', target, re.I) or target.startswith(('/', '#')):
            continue  # a URL (http:, data:), or not a file next to the page
        if target not in found:
            found.append(target)
    return found


def missing_images(guide_dir):
    """(page, target) of every picture a guide page docs/<name>.md links that is not there, or lies outside
    the guide directory (the site could not show it)."""
    guide_dir = os.path.abspath(guide_dir)
    missing = []
    for name in sorted(os.listdir(guide_dir)):
        if not name.endswith('.md'):
            continue
        for target in page_images(os.path.join(guide_dir, name)):
            path = os.path.normpath(os.path.join(guide_dir, target))
            if not path.startswith(guide_dir + os.sep) or not os.path.isfile(path):
                missing.append((name, target))
    return missing


def missing_html_images(html_dir):
    """(page, src) of every local picture of a built HTML page that is not in the site."""
    missing = []
    for parent, dummy, files in os.walk(html_dir):
        for name in sorted(files):
            if not name.endswith('.html'):
                continue
            page = os.path.join(parent, name)
            with open(page, encoding='utf-8') as handle:
                sources = HTML_IMAGE.findall(handle.read())
            for src in sources:
                if re.match(r'^[a-z][a-z0-9+.-]*:', src, re.I):
                    continue
                if not os.path.isfile(os.path.normpath(os.path.join(parent, src.split('#')[0].split('?')[0]))):
                    missing.append((os.path.relpath(page, html_dir), src))
    return missing


def copy_guide_pages(app):
    for stub, markdown in guide_stubs(app):
        shutil.copyfile(markdown, os.path.splitext(stub)[0] + '.md')
        for target in page_images(markdown):
            source = os.path.normpath(os.path.join(os.path.dirname(markdown), target))
            if not os.path.isfile(source):
                LOGGER.warning('%s links the picture %s, which does not exist', markdown, target)
                continue
            copy = os.path.normpath(os.path.join(os.path.dirname(stub), target))
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            shutil.copyfile(source, copy)


def read_guide_page(app, docname, source):
    stub = str(app.env.doc2path(docname))
    if os.path.basename(os.path.dirname(stub)) != 'docsite' or not os.path.isfile(os.path.splitext(stub)[0] + '.md'):
        return
    labels = [line for line in source[0].splitlines() if LABEL_LINE.match(line)]
    source[0] = '\n'.join(labels + [
        '',
        '.. include:: %s' % (os.path.splitext(os.path.basename(stub))[0] + '.md'),
        '   :parser: myst_parser.sphinx_',
        '',
    ])


def link_ansible_label(app, env, node, contnode):
    if node.get('refdomain') != 'std' or node.get('reftype') != 'ref':
        return None
    target = ANSIBLE_LABELS.get(node.get('reftarget'))
    if target is None:
        return None
    reference = nodes.reference('', '', internal=False, refuri=ANSIBLE_DOCS + target)
    reference.append(contnode)
    return reference


def configure(app, config):
    config.intersphinx_mapping = {}
    # The copies of the guide pages are included by their stubs, never documents of their own.
    config.exclude_patterns = list(config.exclude_patterns) + ['docsite/*.md', '**/docsite/*.md']
    # `#heading` links of the guide pages point to headings up to this level (GitHub's slugs).
    config.myst_heading_anchors = 3


def main(argv=None):
    """``check-images GUIDE_DIR``: the pictures the guide pages link exist; ``check-html HTML_DIR``: the pictures
    of the built pages are in the site. Exit status 1 and one line per missing picture otherwise."""
    args = sys.argv[1:] if argv is None else argv
    checks = {'check-images': (missing_images, 'links the picture %s, which does not exist'),
              'check-html': (missing_html_images, 'shows the picture %s, which is not in the site')}
    if len(args) != 2 or args[0] not in checks:
        print('usage: dokku_ps_docsite.py check-images GUIDE_DIR | check-html HTML_DIR', file=sys.stderr)
        return 2
    find, message = checks[args[0]]
    missing = find(args[1])
    for page, target in missing:
        print('%s %s' % (page, message % target), file=sys.stderr)
    return 1 if missing else 0


def setup(app):
    app.setup_extension('myst_parser')
    app.add_config_value('dokku_ps_guide_dir', '', 'env')
    app.connect('config-inited', configure)
    app.connect('builder-inited', copy_guide_pages)
    app.connect('source-read', read_guide_page)
    app.connect('missing-reference', link_ansible_label)
    return {'version': '1', 'parallel_read_safe': True, 'parallel_write_safe': True}


if __name__ == '__main__':
    sys.exit(main())
