# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process types: the types an app defines, the command and env (DYNO, PORT) of each, the formation fitted to them.

What every process of an app gets whatever runs it: a scheduler turns these into containers (or tasks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils._names import DEFAULT_WEB_PORT, WEB


def process_command(app_doc, ptype):
    """The command string of a type, or None when the app runs the image's own command."""
    processes = app_doc.get('processes')
    if processes is None:
        return None
    return processes.get(ptype)


def type_is_defined(app_doc, ptype):
    processes = app_doc.get('processes')
    return processes is None or ptype in processes


def process_env(app_doc, ptype, index):
    """The env of a process of ``ptype`` (the app's, plus DYNO and PORT) and the value of PORT. ``index``: the
    process's number, or a template its scheduler fills in (Swarm's ``{{.Task.Slot}}``)."""
    web_port = app_doc.get('web_port') or DEFAULT_WEB_PORT
    port_value = str(web_port) if ptype == WEB else ''
    env = dict(app_doc.get('env') or {})
    env['DYNO'] = '%s.%s' % (ptype, index)
    env['PORT'] = port_value
    return env, port_value


def initial_formation(processes):
    """A new app: web=1 when it has a web process or runs the image command; every other type 0."""
    if processes is None:
        return {WEB: 1}
    formation = dict((ptype, 0) for ptype in processes)
    if WEB in processes:
        formation[WEB] = 1
    return formation


def reconcile_formation(formation, processes, dokku_scale=None):
    """Fit a stored formation to (new) processes.

    Returns (formation, dropped) where dropped lists the types that left the processes while scaled
    above 0 (their containers get removed at the next deploy). A DOKKU_SCALE file from the image sets the
    counts of the types it lists.
    """
    result = dict(formation or {})
    dropped = []
    if dokku_scale:
        result.update(dokku_scale)
    if processes is not None:
        for ptype in list(result):
            if ptype not in processes:
                if result[ptype] > 0 and not (dokku_scale and ptype in dokku_scale):
                    dropped.append(ptype)
                del result[ptype]
        for ptype in processes:
            result.setdefault(ptype, 0)
    return result, sorted(dropped)
