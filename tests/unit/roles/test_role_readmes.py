# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The variable tables of the roles' README.md files follow meta/argument_specs.yml, their source.

Each README lists the variables of its role in a Markdown table whose rows start with
``| `name` | type | default |``. Every option of the main entry point must have a row with its type and,
when the spec gives one, its default (or ``required``); a row naming no option of the spec is stale. The
app role's README also lists the keys of ``dokku_ps_app`` the same way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES_DIR = os.path.join(REPO_ROOT, 'roles')
ROLES = sorted(name for name in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, name)))
ROW = re.compile(r'^\| `([a-z0-9_]+)` \|([^|]*)\|([^|]*)\|')


def main_options(role):
    with open(os.path.join(ROLES_DIR, role, 'meta', 'argument_specs.yml')) as handle:
        return yaml.safe_load(handle)['argument_specs']['main']['options']


def readme_rows(role):
    """The rows of the README's tables, as {name: (type, default)}; a name listed twice fails."""
    rows = {}
    with open(os.path.join(ROLES_DIR, role, 'README.md')) as handle:
        for line in handle:
            match = ROW.match(line)
            if match:
                name, kind, default = (part.strip() for part in match.groups())
                assert name not in rows, '%s: %s is listed twice' % (role, name)
                rows[name] = (kind, default)
    return rows


def readme_type(spec):
    if spec.get('type') == 'list' and spec.get('elements'):
        return 'list of %ss' % spec['elements']
    return spec.get('type', 'str')


def readme_default(spec):
    """How the README shows the spec's default; None when the spec has none (the README explains it)."""
    if spec.get('required'):
        return 'required'
    if 'default' not in spec:
        return None
    value = spec['default']
    if isinstance(value, bool):
        text = 'true' if value else 'false'
    elif value == '':
        text = '""'
    elif value == []:
        text = '[]'
    else:
        text = str(value)
    return '`%s`' % text


def expected_rows(role):
    options = dict(main_options(role))
    if role == 'app':
        options.update(options['dokku_ps_app']['options'])
    return options


@pytest.mark.parametrize('role', ROLES)
def test_every_role_has_a_readme_and_galaxy_meta(role):
    assert os.path.isfile(os.path.join(ROLES_DIR, role, 'README.md'))
    with open(os.path.join(ROLES_DIR, role, 'meta', 'main.yml')) as handle:
        meta = yaml.safe_load(handle)
    info = meta['galaxy_info']
    assert info['description'] and info['author']
    assert info['license'] == 'GPL-3.0-or-later'
    assert meta['dependencies'] == []


@pytest.mark.parametrize('role', ROLES)
def test_readme_lists_every_variable_with_its_type_and_default(role):
    rows = readme_rows(role)
    for name, spec in sorted(expected_rows(role).items()):
        assert name in rows, '%s/README.md does not list %s' % (role, name)
        kind, default = rows[name]
        assert kind == readme_type(spec), '%s/README.md: type of %s' % (role, name)
        wanted = readme_default(spec)
        if wanted is not None:
            assert default == wanted, '%s/README.md: default of %s' % (role, name)


@pytest.mark.parametrize('role', ROLES)
def test_readme_lists_no_variable_the_spec_lacks(role):
    stale = sorted(set(readme_rows(role)) - set(expected_rows(role)))
    assert not stale, '%s/README.md lists %s, not in meta/argument_specs.yml' % (role, ', '.join(stale))
