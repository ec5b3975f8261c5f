# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App.json healthchecks: a type's entries, what each one checks and on which port, liveness as Docker's HEALTHCHECK.

The app document carries the normalised app.json under ``app_json`` (None without one); its ``healthchecks`` map a
process type to its entries in document order (docs/decisions.md, "Checks: where they come from"). Startup and
readiness entries gate replacements (the runtime checks run them); liveness entries become the container's Docker
HEALTHCHECK, which a scheduler puts on every container (or task) of the type.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

from ansible_collections.dokku_ps.docker.plugins.module_utils._names import DEFAULT_WEB_PORT, WEB, ordered_types


# the kinds of app.json entry that gate a replacement, in the order they run
GATING_CHECK_TYPES = ('startup', 'readiness')


LIVENESS = 'liveness'


# the kinds of check one app.json entry is (see entry_kind)
COMMAND_CHECK = 'command'


LISTENING_CHECK = 'listening'


UPTIME_CHECK = 'uptime'


HTTP_CHECK = 'http'


NANOSECONDS = 10 ** 9


# Docker takes durations of a health check of 0 (which means: the image's value) or at least 1 ms
MIN_HEALTH_DURATION = 10 ** 6


def app_json_checks(app_doc, ptype, check_types):
    """The app.json healthcheck entries of ``ptype`` whose ``type`` is one of ``check_types``: every entry of the
    first type in document order, then every entry of the next type, and so on."""
    entries = (((app_doc.get('app_json') or {}).get('healthchecks')) or {}).get(ptype) or []
    return [entry for check_type in check_types for entry in entries if entry.get('type') == check_type]


def entry_kind(entry):
    """What one app.json entry checks: a command when it has one; else the port when ``listening``; else the
    uptime when it has an uptime and no path; else an HTTP request to its path (``/`` when it has none)."""
    if entry.get('command'):
        return COMMAND_CHECK
    if entry.get('listening'):
        return LISTENING_CHECK
    if entry.get('uptime') is not None and not entry.get('path'):
        return UPTIME_CHECK
    return HTTP_CHECK


def check_port(app_doc, ptype, port=None):
    """The container port a check of ``ptype`` targets: ``port`` when given; else web's port (the PORT its
    containers get, ``web_port``) for web, and Dokku's default port 5000 for the other types, which get no PORT."""
    if port:
        return int(port)
    if ptype == WEB:
        return app_doc.get('web_port') or DEFAULT_WEB_PORT
    return DEFAULT_WEB_PORT


def _seconds(value, floor):
    """Seconds as Docker's nanoseconds, at least ``floor`` nanoseconds."""
    return max(int(value or 0) * NANOSECONDS, floor)


def _http_health_script(entry, port):
    """A shell command that fetches the entry's URL from inside the container with whichever client the image has
    (busybox or GNU wget, else curl) and, with ``content``, looks for it in the answer. Every value is quoted; the
    content is matched by the shell itself (a ``case`` pattern: a literal substring, newlines included), so no
    grep is needed."""
    scheme = entry.get('scheme') or 'http'
    url = shlex.quote('%s://127.0.0.1:%d%s' % (scheme, port, entry.get('path') or '/'))
    # the extra flags of wget and of curl: no certificate check over https, the Host header a check may name
    flags = (' --no-check-certificate', 'k') if scheme == 'https' else ('', '')
    if entry.get('host'):
        header = shlex.quote('Host: %s' % entry['host'])
        flags = ('%s --header %s' % (flags[0], header), '%s -H %s' % (flags[1], header))
    fetch = 'wget -q%s -O - %s || curl -fsS%s %s' % (flags[0], url, flags[1], url)
    if entry.get('content'):
        return ('body=$(%s) && case "$body" in *%s*) ;; *) echo "the answer does not contain the expected '
                'content" >&2; exit 1;; esac' % (fetch, shlex.quote(entry['content'])))
    return '{ %s; } >/dev/null' % fetch


def _listening_health_script(port):
    """A shell command that passes when a TCP socket of the container listens on ``port`` (state 0A in
    /proc/net/tcp or tcp6), with nothing but the shell's own ``read`` and ``case``."""
    return ('for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] || continue; '
            'while read -r sl local remote st rest; do case "$local $st" in *:%04X\\ 0A) exit 0;; esac; '
            'done < "$f"; done; echo "nothing listens on port %d" >&2; exit 1' % (port, port))


def docker_healthcheck(app_doc, ptype):
    """The Docker HEALTHCHECK (the Engine API's HealthConfig) of the containers of ``ptype``, from the app.json's
    liveness entries of that type; None without one (the swarm scheduler adds its gating checks: healthcheck_of).

    One entry: a command runs as it is (``CMD``); an HTTP check fetches ``http://127.0.0.1:<port><path>`` inside
    the container (``CMD-SHELL``, see _http_health_script); a listening check reads /proc/net/tcp{,6}. Interval is
    the entry's ``wait`` (at least 1 s: 0 would mean Docker's default of 30 s), Timeout its ``timeout`` (at least
    1 s), Retries its ``attempts``, StartPeriod its ``initial_delay`` (0 becomes 1 ms, so the image's own start
    period is not inherited). Several entries become one test that passes when all of them pass, in order, each in
    its own subshell: the shortest wait, the sum of the timeouts (time for all of them), the most attempts, the
    longest initial delay. Uptime entries are left out (a running container is up: Docker has nothing to check;
    see ignored_liveness)."""
    return healthcheck_of(app_doc, ptype, app_json_checks(app_doc, ptype, (LIVENESS,)))


def healthcheck_of(app_doc, ptype, entries):
    """The HealthConfig of app.json-shaped ``entries`` of ``ptype`` (docker_healthcheck says how); None when none of
    them is more than an uptime."""
    entries = [entry for entry in entries if entry_kind(entry) != UPTIME_CHECK]
    if not entries:
        return None
    tests = []
    for entry in entries:
        kind = entry_kind(entry)
        if kind == COMMAND_CHECK:
            tests.append((list(entry['command']), ' '.join(shlex.quote(word) for word in entry['command'])))
        elif kind == LISTENING_CHECK:
            tests.append((None, _listening_health_script(check_port(app_doc, ptype, entry.get('port')))))
        else:
            tests.append((None, _http_health_script(entry, check_port(app_doc, ptype, entry.get('port')))))
    if len(tests) == 1 and tests[0][0] is not None:
        test = ['CMD'] + tests[0][0]
    elif len(tests) == 1:
        test = ['CMD-SHELL', tests[0][1]]
    else:
        test = ['CMD-SHELL', ' && '.join('( %s )' % script for _argv, script in tests)]
    return {
        'Test': test,
        'Interval': _seconds(min(entry.get('wait') or 0 for entry in entries), NANOSECONDS),
        'Timeout': _seconds(sum(entry.get('timeout') or 0 for entry in entries), NANOSECONDS),
        'Retries': max(max(entry.get('attempts') or 1 for entry in entries), 1),
        'StartPeriod': _seconds(max(entry.get('initial_delay') or 0 for entry in entries), MIN_HEALTH_DURATION),
    }


def ignored_liveness(app_doc):
    """One sentence per app.json liveness entry that no Docker HEALTHCHECK carries (uptime checks), for the run's
    warnings."""
    notes = []
    for ptype in ordered_types((((app_doc.get('app_json') or {}).get('healthchecks')) or {}).keys()):
        for entry in app_json_checks(app_doc, ptype, (LIVENESS,)):
            if entry_kind(entry) == UPTIME_CHECK:
                notes.append('the liveness check %r of %s in the app.json is an uptime check, which Docker cannot run '
                             'in a running container: it is ignored (uptime checks gate rollouts as startup or '
                             'readiness checks)' % (entry.get('name'), ptype))
    return notes
