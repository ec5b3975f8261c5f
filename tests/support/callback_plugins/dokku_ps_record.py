# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: appends every task result as one JSON line to $DOKKU_PS_RECORD_FILE."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: dokku_ps_record
type: aggregate
short_description: Record task results as JSON lines (tests only)
description:
  - Appends one JSON object per task result to the file named by E(DOKKU_PS_RECORD_FILE).
requirements:
  - enabled in the test runner with E(ANSIBLE_CALLBACKS_ENABLED)
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'dokku_ps_record'
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get('DOKKU_PS_RECORD_FILE')
        if not path:
            return
        entry = {'task': result.task_name, 'status': status, 'result': result._result}
        with open(path, 'a') as handle:
            handle.write(json.dumps(entry, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')
