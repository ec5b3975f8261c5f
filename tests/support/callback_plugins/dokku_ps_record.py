# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test and benchmark callback: appends every task result as one JSON line to $DOKKU_PS_RECORD_FILE, with the
task's duration: from the moment the strategy starts the task to the moment its result comes back, so it holds
what Ansible spends on the task (templating, shipping the module, starting Python) plus the module run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: dokku_ps_record
type: aggregate
short_description: Record task results and their durations as JSON lines (tests and benchmark only)
description:
  - Appends one JSON object per task result (task name, status, duration in seconds, result) to the file named
    by E(DOKKU_PS_RECORD_FILE).
requirements:
  - enabled in the test runner with E(ANSIBLE_CALLBACKS_ENABLED)
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'dokku_ps_record'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.time()

    def _record(self, result, status):
        path = os.environ.get('DOKKU_PS_RECORD_FILE')
        if not path:
            return
        started = self._started.get(result._task._uuid)
        entry = {'task': result.task_name, 'status': status,
                 'duration': (time.time() - started) if started else None, 'result': result._result}
        with open(path, 'a') as handle:
            handle.write(json.dumps(entry, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')
