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
- The build is offline: intersphinx fetches no inventory (conf.py's mapping is emptied). The few labels of
  the Ansible docsite that antsibull-docs' pages refer to become plain links to docs.ansible.com instead;
  any other unresolved reference stays a warning (and the build, run with -W, fails).

conf.py sets `dokku_ps_guide_dir` to the directory of the Markdown pages (the collection's docs/).
"""

from __future__ import annotations

import os
import re
import shutil

from docutils import nodes

ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/devel/'

# Labels of the Ansible docsite that antsibull-docs' generated pages refer to, and where they are.
ANSIBLE_LABELS = {
    'common_return_values': 'reference_appendices/common_return_values.html#common-return-values',
    'ansible_configuration_settings': 'reference_appendices/config.html#ansible-configuration-settings',
}

LABEL_LINE = re.compile(r'^\.\. _[^:]+:\s*$')


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


def copy_guide_pages(app):
    for stub, markdown in guide_stubs(app):
        shutil.copyfile(markdown, os.path.splitext(stub)[0] + '.md')


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


def setup(app):
    app.setup_extension('myst_parser')
    app.add_config_value('dokku_ps_guide_dir', '', 'env')
    app.connect('config-inited', configure)
    app.connect('builder-inited', copy_guide_pages)
    app.connect('source-read', read_guide_page)
    app.connect('missing-reference', link_ansible_label)
    return {'version': '1', 'parallel_read_safe': True, 'parallel_write_safe': True}
