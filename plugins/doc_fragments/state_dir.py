# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Where the desired state lives on the managed host, shared by every module."""

    DOCUMENTATION = r'''
options:
  state_dir:
    description:
      - Directory on the managed host holding the desired state (one JSON document per app).
      - If not given, the E(DOKKU_PS_STATE_DIR) environment variable is used, else C(/var/lib/dokku-ps).
      - Like the connection options, it can be set once for every module with C(module_defaults) and the action
        group C(group/dokku_ps.docker.ps).
    type: path
requirements:
  - jsonschema on the managed host (the state documents are checked against a JSON Schema)
'''
