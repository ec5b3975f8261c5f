# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checker (module_utils/_checker.py): runs the checks of new containers against a recording fake daemon."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _check_rules as rules
from ansible_collections.dokku_ps.docker.plugins.module_utils import _checker as checking
from ansible_collections.dokku_ps.docker.plugins.module_utils import _listening as listening
from tests.unit.fake_docker import FakeDocker, summary
from tests.unit.helpers import app_document, app_json_document, healthcheck_entry as app_json_entry, proc_tables


def test_stop_first():
    check = checking.Checker(None, app_document(checks={'web': {'mode': 'disabled'}}, env={}))
    assert check.stop_first({'process_type': 'web', 'ports': None})
    assert not check.stop_first({'process_type': 'worker', 'ports': None})
    assert check.stop_first({'process_type': 'worker', 'ports': {'container': 5000, 'host': 8080}})
    assert not check.stop_first({'process_type': 'worker', 'ports': {'container': 5000, 'host': None}})


# ---------------------------------------------------------------- failure messages: outside text masked, own words not

def _died(container_id='c1'):
    """The event of a container that died."""
    return {'Type': 'container', 'Action': 'die', 'Actor': {'ID': container_id, 'Attributes': {}}, 'timeNano': 0}


def _dying(log, output=''):
    """A new container c1 that dies at once, after logging ``log``; any command in it prints ``output``."""
    docker = FakeDocker([summary('c1', 'shop.web.1')], events=[_died()])
    docker.logged['c1'] = log
    docker.exec_default = (1, output)
    return docker


SECRET_ENV = {'PEM': 'pem-line-one\npem-line-two', 'SPLIT': 'alpha-word beta-word', 'APP_NAME': 'shop',
              'ROLE': 'web', 'WORKERS': '1'}


def _checker(docker, checks_config):
    from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
    doc = app_document(name='shop', env=SECRET_ENV, checks=rules.validate_checks(checks_config), web_port=5000)
    return checking.Checker(docker, doc, redactor=Redactor(env=SECRET_ENV, public=['shop', 'web']))


def test_a_failed_check_masks_each_line_of_the_log_but_not_its_own_words():
    docker = _dying('ok\npem-line-one\npem-line-two\nalpha-word beta-word\nbye')
    checker = _checker(docker, {'web': {'uptime': 3}})
    with pytest.raises(checking.CheckFailed) as info:
        checker(docker, 'c1', {'name': 'shop.web.1', 'process_type': 'web', 'ports': None})
    message = str(info.value)
    assert message == ('shop.web.1 died while its checks ran (checks from the checks option); last log lines: '
                       'ok | XXXXXX | XXXXXX | bye')


def test_a_failed_check_command_masks_its_output():
    docker = _dying('', output='pem-line-one\npem-line-two\n')
    docker.events = []  # it does not die: its check command fails
    checker = _checker(docker, {'web': {'command': 'echo "$PEM"; exit 1', 'attempts': 1, 'wait': 0}})
    with pytest.raises(checking.CheckFailed) as info:
        checker(docker, 'c1', {'name': 'shop.web.1', 'process_type': 'web', 'ports': None})
    message = str(info.value)
    assert 'exit status 1: XXXXXX' in message and 'pem-line' not in message
    assert message.startswith('shop.web.1 failed its check command /bin/sh -c echo "$PEM"; exit 1 after 1 attempt')


# ---------------------------------------------------------------- the Checker against a recording fake daemon

def _daemon(tables=None, commands=None, dies=False):
    """A new container c1 on 127.0.0.1 (where _Site serves) that shows ``tables`` as its /proc/net/tcp{,6} (None:
    the image has neither cat nor a shell), answers each check command of ``commands`` with its (exit code, output)
    in turn (any other with 0 and nothing), and dies during a wait when ``dies``."""
    on_bridge = {'Networks': {'bridge': {'IPAddress': '127.0.0.1'}}}
    docker = FakeDocker([summary('c1', 'shop.web.1', NetworkSettings=on_bridge)], events=[_died()] if dies else [])
    for command in listening.READ_LISTENING_COMMANDS:
        docker.execs[tuple(command)] = [(0, tables)] if tables is not None else [
            (126, 'OCI runtime exec failed: exec: "%s": executable file not found in $PATH' % command[0])]
    docker.execs.update((tuple(command), list(answers)) for command, answers in (commands or {}).items())
    return docker


def _seen(docker):
    """The waits and the commands of the checks, in order: ('wait', seconds), ('ports', program) for a look at the
    listening ports, ('exec', command) for a check command."""
    seen = []
    for call in docker.calls:
        if call.method == 'container_events':
            seen.append(('wait', int(round(call.arg[0]))))
        elif call.method == 'exec_run' and list(call.arg) in [list(c) for c in listening.READ_LISTENING_COMMANDS]:
            seen.append(('ports', call.arg[0]))
        elif call.method == 'exec_run':
            seen.append(('exec', call.arg))
    return seen


class _Site(object):
    """A small HTTP server on 127.0.0.1 (the 'container'): /ok answers 'hello world', anything else 500."""

    def __enter__(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                body = b'hello world' if self.path == '/ok' else b'broken'
                self.send_response(200 if self.path == '/ok' else 500)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _closed_port():
    import socket
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


# where the app.json of these checks was read (failures name it)
APP_JSON_SOURCE = '/app/app.json in image shop:v2'
WEB_SPEC = {'name': 'shop.web.1', 'process_type': 'web', 'ports': None}


def _app_json_checker(daemon, healthchecks, **doc):
    from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
    doc = app_document(**dict({'name': 'shop', 'env': SECRET_ENV, 'web_port': 5000, 'checks': {},
                               'app_json': app_json_document(healthchecks, source=APP_JSON_SOURCE)}, **doc))
    return checking.Checker(daemon, doc, redactor=Redactor(env=SECRET_ENV, public=['shop', 'web']))


def test_app_json_entries_run_in_order_each_with_its_own_settings():
    with _Site() as site:
        daemon = _daemon(commands={('migrated',): [(1, 'not yet'), (0, '')]})
        entries = [
            app_json_entry('readiness', 'page', path='/ok', content='hello', port=site.port, initial_delay=2,
                           attempts=3, wait=6),
            app_json_entry('startup', 'migrations', command=['migrated'], initial_delay=3, attempts=2, wait=4),
            app_json_entry('liveness', 'alive', command=['never-run-here']),
            app_json_entry('startup', 'warm', uptime=7),
        ]
        checker = _app_json_checker(daemon, {'web': entries})
        checker(daemon, 'c1', WEB_SPEC)
    assert _seen(daemon) == [
        ('wait', 3), ('exec', ('migrated',)), ('wait', 4), ('exec', ('migrated',)),  # startup: migrations
        ('wait', 7),                                                                 # startup: warm (uptime)
        ('wait', 2),                                                                 # readiness: page, 1st try
    ]


def test_a_failed_app_json_entry_names_itself_the_container_and_the_app_json():
    daemon = _daemon(commands={('sh', '-c', 'echo "$PEM"; exit 2'): [(2, 'pem-line-one\npem-line-two\n')]})
    entries = [app_json_entry('startup', 'secret\nprinter', command=['sh', '-c', 'echo "$PEM"; exit 2'],
                              attempts=2, wait=1)]
    with pytest.raises(checking.CheckFailed) as info:
        _app_json_checker(daemon, {'worker': entries})(daemon, 'c1', dict(WEB_SPEC, name='shop.worker.1',
                                                                          process_type='worker'))
    assert str(info.value) == (
        "shop.worker.1 failed its startup check 'secret\\nprinter' (command sh -c echo \"$PEM\"; exit 2) after 2 "
        "attempt(s): exit status 2: XXXXXX (checks from the app.json: /app/app.json in image shop:v2); the "
        "container logged nothing")
    assert _seen(daemon).count(('wait', 1)) == 1, 'one wait between the two attempts'


def test_app_json_http_entries_check_status_and_content_on_their_port():
    with _Site() as site:
        daemon = _daemon(proc_tables(['00000000:%04X' % site.port]))
        content = [app_json_entry('readiness', 'greeting', path='/ok', content='goodbye', port=site.port)]
        with pytest.raises(checking.CheckFailed) as info:
            _app_json_checker(daemon, {'web': content})(daemon, 'c1', WEB_SPEC)
        assert str(info.value).startswith(
            "shop.web.1 failed its readiness check 'greeting' (GET /ok on port %d) after 1 attempt(s): the response "
            "does not contain 'goodbye' (checks from the app.json: " % site.port)
        status = [app_json_entry('startup', 'status', path='/broken', port=site.port, attempts=2)]
        with pytest.raises(checking.CheckFailed) as info:
            _app_json_checker(daemon, {'worker': status})(daemon, 'c1', dict(WEB_SPEC, process_type='worker'))
        assert 'HTTP 500 from 127.0.0.1:%d/broken' % site.port in str(info.value)
        assert ('ports', 'cat') not in _seen(daemon), 'an answer needs no look at the ports'


def test_an_unanswered_http_check_names_the_ports_the_container_listens_on():
    port = _closed_port()
    daemon = _daemon(proc_tables(['00000000:1389'], ['00000000000000000000000000000000:1389']))
    entries = [app_json_entry('startup', 'home', path='/', port=port, attempts=2)]
    with pytest.raises(checking.CheckFailed) as info:
        _app_json_checker(daemon, {'web': entries})(daemon, 'c1', WEB_SPEC)
    message = str(info.value)
    assert "failed its startup check 'home' (GET / on port %d) after 2 attempt(s): no answer from 127.0.0.1:%d (" \
        % (port, port) in message
    assert message.endswith('); listening on unexpected port(s): expected=%d actual=5001 (checks from the app.json: '
                            '/app/app.json in image shop:v2); the container logged nothing' % port), message
    assert _seen(daemon).count(('ports', 'cat')) == 1, 'read once, after the last attempt'

    # the checks option's HTTP checks too; an image without cat and without a shell says so
    daemon = _daemon(None)
    checker = _checker(daemon, {'web': {'http': ['/'], 'attempts': 1, 'wait': 0}})
    checker.doc['web_port'] = port
    with pytest.raises(checking.CheckFailed) as info:
        checker(daemon, 'c1', WEB_SPEC)
    assert '); could not read the listening ports (checks from the checks option)' in str(info.value)
    assert _seen(daemon) == [('ports', 'cat'), ('ports', '/bin/sh')]


def test_app_json_listening_and_uptime_entries():
    daemon = _daemon(proc_tables(['00000000:1389']))
    listening = [app_json_entry('startup', 'port', listening=True, attempts=3, wait=2)]
    with pytest.raises(checking.CheckFailed) as info:
        _app_json_checker(daemon, {'web': listening})(daemon, 'c1', WEB_SPEC)
    assert str(info.value).startswith(
        "shop.web.1 failed its startup check 'port' (listening on port 5000) after 3 attempt(s): listening on "
        "unexpected port(s): expected=5000 actual=5001 (checks from the app.json")
    assert _seen(daemon) == [('ports', 'cat'), ('wait', 2), ('ports', 'cat'), ('wait', 2), ('ports', 'cat')]
    on_its_port = [app_json_entry('startup', 'port', listening=True, port=5001)]
    _app_json_checker(daemon, {'web': on_its_port})(daemon, 'c1', WEB_SPEC)

    dying = _daemon(dies=True)
    uptime = [app_json_entry('startup', 'warm', uptime=9)]
    with pytest.raises(checking.CheckFailed) as info:
        _app_json_checker(dying, {'web': uptime})(dying, 'c1', WEB_SPEC)
    assert str(info.value).startswith("shop.web.1 died while its startup check 'warm' ran (checks from the app.json")


def test_the_app_json_given_inline_is_named_so():
    daemon = _daemon()
    checker = _app_json_checker(daemon, {'web': [app_json_entry(command=['false'])]})
    checker.doc['app_json']['source'] = 'app_json option'
    daemon.execs[('false',)] = [(1, '')]
    with pytest.raises(checking.CheckFailed) as info:
        checker(daemon, 'c1', WEB_SPEC)
    assert '(checks from the app.json: app_json option)' in str(info.value)


def _default_checker(daemon, **doc):
    return checking.Checker(daemon, app_document(**dict({'name': 'shop', 'env': {}, 'web_port': 5000, 'checks': {}},
                                                        **doc)))


@pytest.mark.parametrize('tables', [
    proc_tables(['00000000:1389']),
    proc_tables([], ['00000000000000000000000000000000:1389', '00000000000000000000000000000000:2328']),
])
def test_the_default_check_fails_a_web_container_listening_on_other_ports(tables):
    daemon = _daemon(tables)
    with pytest.raises(checking.CheckFailed) as info:
        _default_checker(daemon)(daemon, 'c1', WEB_SPEC)
    actual = '5001' if '2328' not in tables else '5001,9000'
    assert str(info.value) == ('shop.web.1 is listening on unexpected port(s): expected=5000 actual=%s (checks '
                               'from the default); the container logged nothing' % actual)
    assert _seen(daemon) == [('wait', 10), ('ports', 'cat')], 'the ports are read once the uptime has passed'


@pytest.mark.parametrize('tables, calls', [
    (proc_tables([]), [('ports', 'cat')]),                                   # a web process that is no server
    (proc_tables(['0100007F:2328']), [('ports', 'cat')]),                     # a private port only
    (proc_tables(['00000000:1388', '00000000:2328']), [('ports', 'cat')]),    # its port and another one
    (None, [('ports', 'cat'), ('ports', '/bin/sh')]),                         # nothing to read the ports with
])
def test_the_default_check_keeps_passing_what_it_passed(tables, calls):
    daemon = _daemon(tables)
    _default_checker(daemon)(daemon, 'c1', WEB_SPEC)
    assert _seen(daemon) == [('wait', 10)] + calls


def test_the_listening_gate_is_for_web_and_the_default_check_only():
    daemon = _daemon(proc_tables(['00000000:1389']))
    _default_checker(daemon)(daemon, 'c1', dict(WEB_SPEC, name='shop.worker.1', process_type='worker'))
    _default_checker(daemon, web_port=5001)(daemon, 'c1', WEB_SPEC)
    assert _seen(daemon).count(('ports', 'cat')) == 1, 'no look at the ports of a worker'
    own = checking.Checker(daemon, app_document(name='shop', env={}, web_port=5000,
                                                checks=rules.validate_checks({'web': {'uptime': 1}})))
    own(daemon, 'c1', WEB_SPEC)
    assert _seen(daemon).count(('ports', 'cat')) == 1, 'an own uptime check is not gated on the ports'
