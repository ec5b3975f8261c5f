# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks option, the CHECKS file and which checks apply (pure logic)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _checks as checks
from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import parse_checks_file


def test_checks_file_format():
    parsed = parse_checks_file('WAIT=2\r\n# comment\n/about  Our Amazing Team\n//example.com/x\n'
                               'https://secure.test/a ok\n/images/logo.png\nATTEMPTS=3\nTIMEOUT=9\n')
    assert parsed == {'wait': 2, 'attempts': 3, 'timeout': 9, 'http': [
        {'path': '/about', 'content': 'Our Amazing Team', 'host': None, 'scheme': 'http'},
        {'path': '/x', 'content': None, 'host': 'example.com', 'scheme': 'http'},
        {'path': '/a', 'content': 'ok', 'host': 'secure.test', 'scheme': 'https'},
        {'path': '/images/logo.png', 'content': None, 'host': None, 'scheme': 'http'},
    ]}


@pytest.mark.parametrize('text', ['WAIT=abc\n', 'ATTEMPTS=0\n', 'about.html\n', '//\n', 'https:///x\n'])
def test_checks_file_errors(text):
    with pytest.raises(ValidationError) as info:
        parse_checks_file(text)
    assert str(info.value).startswith('CHECKS:')


def test_validate_checks_normalises():
    result = checks.validate_checks({
        'web': {'http': ['/health ok', {'path': '/', 'content': 'Welcome', 'scheme': 'https'}], 'attempts': '3'},
        'worker': 'skipped',
        'clock': {'command': 'test -f /tmp/ready', 'uptime': 2},
    })
    assert result['web']['http'] == [
        {'path': '/health', 'content': 'ok', 'host': None, 'scheme': 'http'},
        {'path': '/', 'content': 'Welcome', 'host': None, 'scheme': 'https'},
    ]
    assert result['web']['attempts'] == 3
    assert result['worker'] == {'mode': 'skipped'}
    assert result['clock'] == {'mode': 'enabled', 'command': ['/bin/sh', '-c', 'test -f /tmp/ready'], 'uptime': 2}


@pytest.mark.parametrize('value, field', [
    ({'Web': 'skipped'}, 'checks'),
    ({'web': 'sometimes'}, 'checks.web.mode'),
    ({'worker': {'http': ['/']}}, 'checks.worker.http'),
    ({'web': {'http': ['no-slash']}}, 'checks.web.http'),
    ({'web': {'attempts': 0}}, 'checks.web.attempts'),
    ({'web': {'timeout': -1}}, 'checks.web.timeout'),
    ({'web': {'retries': 3}}, 'checks.web'),
    ({'web': {'command': 5}}, 'checks.web.command'),
    (['web'], 'checks'),
])
def test_validate_checks_refusals(value, field):
    with pytest.raises(ValidationError) as info:
        checks.validate_checks(value)
    assert str(info.value).startswith(field + ':')


def test_effective_checks_precedence():
    image_checks = {'wait': 1, 'http': [{'path': '/', 'content': None, 'host': None, 'scheme': 'http'}]}
    doc = {'checks': {'worker': {'mode': 'enabled', 'uptime': 3}}, 'image_checks': image_checks}
    web = checks.effective(doc, 'web')
    assert web['source'] == 'CHECKS file in the image' and web['wait'] == 1 and web.get('uptime') is None
    assert web['attempts'] == checks.DEFAULTS['attempts']
    worker = checks.effective(doc, 'worker')
    assert worker['source'] == 'checks option' and worker['uptime'] == 3
    clock = checks.effective(doc, 'clock')
    assert clock['source'] == 'default' and clock['uptime'] == checks.DEFAULT_UPTIME
    doc['checks']['web'] = {'mode': 'skipped'}
    assert checks.effective(doc, 'web')['mode'] == 'skipped', "the option wins over the image's CHECKS file"


def test_stop_first():
    checker = checks.Checker(None, {'checks': {'web': {'mode': 'disabled'}}, 'env': {}})
    assert checker.stop_first({'process_type': 'web', 'ports': None})
    assert not checker.stop_first({'process_type': 'worker', 'ports': None})
    assert checker.stop_first({'process_type': 'worker', 'ports': {'container': 5000, 'host': 8080}})
    assert not checker.stop_first({'process_type': 'worker', 'ports': {'container': 5000, 'host': None}})


# ---------------------------------------------------------------- input Docker, the kernel or HTTP cannot take

@pytest.mark.parametrize('command, what', [
    ('test -f /tmp/re\x00ady', 'the command contains a NUL'),
    (['test', '-f', '/tmp/\x00'], 'item 3 contains a NUL'),
    ('x' * 131072, 'the command is 131072 bytes'),
    (['test', 'y' * 131072], 'item 2 is 131072 bytes'),
])
def test_validate_checks_refuses_commands_the_kernel_cannot_run(command, what):
    with pytest.raises(ValidationError) as info:
        checks.validate_checks({'worker': {'command': command}})
    message = str(info.value)
    assert message.startswith('checks.worker.command: ') and what in message, message
    assert '\x00' not in message and 'xxxxxxxx' not in message and 'yyyyyyyy' not in message


def test_validate_checks_accepts_a_command_at_the_limit():
    result = checks.validate_checks({'worker': {'command': ['test', 'y' * 131071]}})
    assert result['worker']['command'][1] == 'y' * 131071


@pytest.mark.parametrize('item, what', [
    ({'path': '/he\x00alth'}, 'the path'),
    ({'path': '/a\r\nX-Smuggled: 1'}, 'the path'),
    ({'path': '/a b'}, 'a space'),
    ({'path': '/caf\u00e9'}, 'non-ASCII'),
    ({'path': '/', 'host': 'example.com\r\n X-Smuggled: 1'}, 'the host'),
    ({'path': '/', 'host': 'ex\x00ample.com'}, 'the host'),
    ({'path': '/', 'host': 'exa mple.com'}, 'the host'),
    ({'path': '/', 'host': ['example.com']}, 'host must be a string'),
    ({'path': '/', 'content': 5}, 'content must be a string'),
    ('/he\x00alth ok', 'the path'),
    ('//ex\x01ample.com/ ok', 'the host'),
])
def test_validate_checks_refuses_http_targets_http_cannot_send(item, what):
    with pytest.raises(ValidationError) as info:
        checks.validate_checks({'web': {'http': [item]}})
    message = str(info.value)
    assert message.startswith('checks.web.http: ') and what in message, message
    assert '\n' not in message and '\r' not in message and '\x00' not in message


def test_validate_checks_keeps_ordinary_http_targets():
    result = checks.validate_checks({'web': {'http': [{'path': '/health?x=%20', 'host': 'example.com:8080'},
                                                      '//example.com/about ok']}})
    assert result['web']['http'] == [
        {'path': '/health?x=%20', 'content': None, 'host': 'example.com:8080', 'scheme': 'http'},
        {'path': '/about', 'content': 'ok', 'host': 'example.com', 'scheme': 'http'},
    ]


# ---------------------------------------------------------------- failure messages: outside text masked, own words not

class _DyingDocker(object):
    """A new container that dies at once, after logging ``log``; a check command prints ``output``."""

    def __init__(self, log, output=''):
        self.log = log
        self.output = output

    def container_events(self, container_id, seconds, kinds):
        return ['die']

    def logs_tail(self, container_id, lines):
        return self.log.splitlines()

    def exec_run(self, container_id, command):
        return 1, self.output

    def inspect_container(self, container_id):
        return {'State': {'Running': True, 'Restarting': False, 'Status': 'running'}}


SECRET_ENV = {'PEM': 'pem-line-one\npem-line-two', 'SPLIT': 'alpha-word beta-word', 'APP_NAME': 'shop',
              'ROLE': 'web', 'WORKERS': '1'}


def _checker(docker, checks_config):
    from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
    doc = {'name': 'shop', 'env': SECRET_ENV, 'checks': checks.validate_checks(checks_config), 'web_port': 5000}
    return checks.Checker(docker, doc, redactor=Redactor(env=SECRET_ENV, public=['shop', 'web']))


def test_a_failed_check_masks_each_line_of_the_log_but_not_its_own_words():
    docker = _DyingDocker('ok\npem-line-one\npem-line-two\nalpha-word beta-word\nbye')
    checker = _checker(docker, {'web': {'uptime': 3}})
    with pytest.raises(checks.CheckFailed) as info:
        checker(docker, 'c1', {'name': 'shop.web.1', 'process_type': 'web', 'ports': None})
    message = str(info.value)
    assert message == ('shop.web.1 died while its checks ran (checks from the checks option); last log lines: '
                       'ok | XXXXXX | XXXXXX | bye')


def test_a_failed_check_command_masks_its_output():
    docker = _DyingDocker('', output='pem-line-one\npem-line-two\n')
    docker.container_events = lambda *args: []
    checker = _checker(docker, {'web': {'command': 'echo "$PEM"; exit 1', 'attempts': 1, 'wait': 0}})
    with pytest.raises(checks.CheckFailed) as info:
        checker(docker, 'c1', {'name': 'shop.web.1', 'process_type': 'web', 'ports': None})
    message = str(info.value)
    assert 'exit status 1: XXXXXX' in message and 'pem-line' not in message
    assert message.startswith('shop.web.1 failed its check command /bin/sh -c echo "$PEM"; exit 1 after 1 attempt')


# ---------------------------------------------------------------- where checks come from: option, app.json, CHECKS

def app_json_entry(check_type='startup', name='check', **fields):
    """An app.json healthcheck entry as the app document carries it (normalised, defaults filled in)."""
    result = {'type': check_type, 'name': name, 'path': None, 'content': None, 'command': None, 'port': None,
              'attempts': 1, 'timeout': 5, 'wait': 0, 'initial_delay': 0, 'uptime': None, 'listening': False,
              'scheme': 'http'}
    result.update(fields)
    return result


APP_JSON_SOURCE = '/app/app.json in image shop:v2'


def app_json(healthchecks):
    return {'source': APP_JSON_SOURCE, 'formation': None, 'healthchecks': healthchecks}


IMAGE_CHECKS = {'wait': 1, 'attempts': 2, 'http': [{'path': '/', 'content': None, 'host': None, 'scheme': 'http'}]}


def test_app_json_checks_come_after_the_options_own_checks_and_before_the_checks_file():
    entries = [app_json_entry('readiness', 'r1'), app_json_entry('liveness', 'l1'), app_json_entry('startup', 's1')]
    doc = {'app_json': app_json({'web': entries, 'worker': [app_json_entry('startup', 'w1', command=['true'])],
                                 'clock': [app_json_entry('liveness', 'only-liveness', command=['true'])]}),
           'image_checks': IMAGE_CHECKS, 'checks': None}
    web = checks.effective(doc, 'web')
    assert web['source'] == 'app.json' and web['mode'] == 'enabled' and web['app_json'] == APP_JSON_SOURCE
    assert [item['name'] for item in web['entries']] == ['s1', 'r1'], 'startup entries, then readiness; no liveness'
    assert 'uptime' not in web and 'http' not in web, 'the entries replace every other check'
    assert checks.effective(doc, 'worker')['source'] == 'app.json', 'app.json checks any process type'
    assert checks.effective(doc, 'clock')['source'] == 'default', 'a liveness check does not gate a rollout'
    assert checks.effective(doc, 'clock')['uptime'] == checks.DEFAULT_UPTIME

    # the option's own checks win; its mode applies to the app.json's
    doc['checks'] = checks.validate_checks({'web': {'http': ['/own']}, 'worker': 'skipped'})
    assert checks.effective(doc, 'web')['source'] == 'checks option'
    assert checks.effective(doc, 'web')['http'][0]['path'] == '/own'
    worker = checks.effective(doc, 'worker')
    # skipped or disabled: nothing of the other sources runs, so the option is named as the source
    assert worker['source'] == 'checks option' and worker['mode'] == 'skipped'
    doc['checks'] = checks.validate_checks({'web': {'mode': 'disabled', 'attempts': 9}})
    web = checks.effective(doc, 'web')
    assert web['source'] == 'checks option' and web['mode'] == 'disabled'
    assert web['entries'][0]['attempts'] == 1, "an entry keeps its own settings, not the option's"


def test_the_checks_file_takes_the_options_mode_and_settings():
    doc = {'image_checks': IMAGE_CHECKS, 'checks': checks.validate_checks({'web': {'mode': 'enabled', 'attempts': 7}})}
    web = checks.effective(doc, 'web')
    assert web['source'] == 'CHECKS file in the image' and web['http'] == IMAGE_CHECKS['http']
    assert web['attempts'] == 7 and web['wait'] == 1, "the option's attempts over the file's, the file's wait"
    doc['checks'] = checks.validate_checks({'web': 'skipped'})
    assert checks.effective(doc, 'web')['mode'] == 'skipped'
    assert checks.effective({'checks': {'web': {'mode': 'enabled'}}}, 'web')['source'] == 'default'
    assert checks.effective({'app_json': None}, 'web') == {
        'mode': 'enabled', 'uptime': 10, 'wait': 5, 'timeout': 30, 'attempts': 5, 'source': 'default'}


# ---------------------------------------------------------------- the listening ports of a container (/proc/net/tcp)

TCP4_HEADER = ('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode')
TCP6_HEADER = ('  sl  local_address                         remote_address                        st tx_queue '
               'rx_queue tr tm->when retrnsmt   uid  timeout inode')


def proc_line(number, local, state='0A', remote=None):
    remote = remote or ('0' * (len(local.split(':')[0])) + ':0000')
    return ('%4d: %s %s %s 00000000:00000000 00:00000000 00000000     0        0 11263906 1 0000000000000000 100 0 0 '
            '10 0' % (number, local, remote, state))


def proc_tables(tcp4=(), tcp6=()):
    lines = [TCP4_HEADER] + [proc_line(n, local) for n, local in enumerate(tcp4)]
    lines += [TCP6_HEADER] + [proc_line(n, local) for n, local in enumerate(tcp6)]
    return '\n'.join(lines) + '\n'


def test_parse_listening_reads_ipv4_and_ipv6_sockets_with_hex_ports():
    text = '\n'.join([
        TCP4_HEADER,
        proc_line(0, '00000000:1388'),                       # 0.0.0.0:5000
        proc_line(1, '0100007F:2328'),                       # 127.0.0.1:9000
        proc_line(2, '0100007F:1388', '01', '0100007F:A1B2'),  # an established connection: not listening
        proc_line(3, '0200A8C0:FFFF'),                       # 192.168.0.2:65535
        TCP6_HEADER,
        proc_line(0, '00000000000000000000000000000000:1389'),  # [::]:5001
        proc_line(1, '00000000000000000000000001000000:1F90'),  # [::1]:8080
        proc_line(2, '0000000000000000FFFF00000100007F:0050'),  # [::ffff:127.0.0.1]:80
        proc_line(3, '000080FE00000000FF005452DA3C0AFE:0016', '06'),  # TIME_WAIT
    ])
    assert checks.parse_listening(text) == [
        ('127.0.0.1', 80), ('0.0.0.0', 5000), ('::', 5001), ('::1', 8080), ('127.0.0.1', 9000),
        ('192.168.0.2', 65535)]
    assert checks.reachable_ports(checks.parse_listening(text)) == [5000, 5001, 65535]


@pytest.mark.parametrize('text, expected', [
    (TCP4_HEADER + '\n', []),
    (proc_tables(['00000000:1388', '00000000:1388']), [('0.0.0.0', 5000)]),
    # cat's complaint about a missing tcp6 (IPv6 off) among the lines
    (TCP4_HEADER + "\ncat: can't open '/proc/net/tcp6': No such file or directory\n" + proc_line(0, '00000000:0050'),
     [('0.0.0.0', 80)]),
    (TCP4_HEADER + '\n   0: zz:1388 00000000:0000 0A\n   1: 00000000:GG 00000000:0000 0A\n   2: 000000:0050 0 0A\n',
     []),
    ('OCI runtime exec failed: exec failed: unable to start container process: exec: "cat": executable file not '
     'found in $PATH: unknown\r\n', None),
    ('', None),
    (None, None),
])
def test_parse_listening_edge_cases(text, expected):
    assert checks.parse_listening(text) == expected


@pytest.mark.parametrize('sockets, problem', [
    (None, 'could not read the listening ports'),
    ([], 'it listens on no TCP port: expected=5000 actual=none'),
    ([('0.0.0.0', 5001)], 'listening on unexpected port(s): expected=5000 actual=5001'),
    ([('::', 5001), ('0.0.0.0', 5001), ('127.0.0.1', 9000)],
     'listening on unexpected port(s): expected=5000 actual=5001,9000'),
    ([('127.0.0.1', 5000), ('::1', 5000)],
     'it listens on port 5000 on the loopback address only (127.0.0.1, ::1), which nothing outside the container '
     'reaches'),
    ([('127.0.0.1', 5000), ('::', 5000)], None),
    ([('0.0.0.0', 5000), ('0.0.0.0', 5001)], None),
])
def test_listening_problem(sockets, problem):
    assert checks.listening_problem(sockets, 5000) == problem


# ---------------------------------------------------------------- the Checker against a recording fake daemon

class _Daemon(object):
    """Stands in for _docker_client.Docker in the Checker: records every wait and exec, in order. ``listening`` is
    the text of /proc/net/tcp{,6} the container shows (None: the image has neither cat nor a shell); ``commands``
    maps a check command to the (exit code, output) of each of its runs; ``events`` ends a wait of that many
    seconds with that event."""

    def __init__(self, listening=None, commands=None, events=None, address='127.0.0.1'):
        self.listening = listening
        self.commands = dict((tuple(key), list(value)) for key, value in (commands or {}).items())
        self.events = events or {}
        self.address = address
        self.calls = []

    def container_events(self, container_id, seconds, kinds):
        self.calls.append(('wait', int(round(seconds))))
        return [self.events[int(round(seconds))]] if int(round(seconds)) in self.events else []

    def exec_run(self, container_id, command):
        if list(command) in [list(c) for c in checks.READ_LISTENING_COMMANDS]:
            self.calls.append(('ports', command[0]))
            if self.listening is None:
                return 126, 'OCI runtime exec failed: exec: "%s": executable file not found in $PATH' % command[0]
            return 0, self.listening
        self.calls.append(('exec', tuple(command)))
        results = self.commands.get(tuple(command)) or [(0, '')]
        return results.pop(0) if len(results) > 1 else results[0]

    def inspect_container(self, container_id):
        return {'State': {'Running': True, 'Restarting': False, 'Status': 'running'},
                'NetworkSettings': {'Ports': {}, 'Networks': {'bridge': {'IPAddress': self.address}}}}

    def logs_tail(self, container_id, lines):
        return []


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


WEB_SPEC = {'name': 'shop.web.1', 'process_type': 'web', 'ports': None}


def _app_json_checker(daemon, healthchecks, **doc):
    from ansible_collections.dokku_ps.docker.plugins.module_utils._redaction import Redactor
    doc = dict({'name': 'shop', 'env': SECRET_ENV, 'web_port': 5000, 'checks': None,
                'app_json': app_json(healthchecks)}, **doc)
    return checks.Checker(daemon, doc, redactor=Redactor(env=SECRET_ENV, public=['shop', 'web']))


def test_app_json_entries_run_in_order_each_with_its_own_settings():
    with _Site() as site:
        daemon = _Daemon(commands={('migrated',): [(1, 'not yet'), (0, '')]})
        entries = [
            app_json_entry('readiness', 'page', path='/ok', content='hello', port=site.port, initial_delay=2,
                           attempts=3, wait=6),
            app_json_entry('startup', 'migrations', command=['migrated'], initial_delay=3, attempts=2, wait=4),
            app_json_entry('liveness', 'alive', command=['never-run-here']),
            app_json_entry('startup', 'warm', uptime=7),
        ]
        checker = _app_json_checker(daemon, {'web': entries})
        checker(daemon, 'c1', WEB_SPEC)
    assert daemon.calls == [
        ('wait', 3), ('exec', ('migrated',)), ('wait', 4), ('exec', ('migrated',)),  # startup: migrations
        ('wait', 7),                                                                 # startup: warm (uptime)
        ('wait', 2),                                                                 # readiness: page, 1st try
    ]


def test_a_failed_app_json_entry_names_itself_the_container_and_the_app_json():
    daemon = _Daemon(commands={('sh', '-c', 'echo "$PEM"; exit 2'): [(2, 'pem-line-one\npem-line-two\n')]})
    entries = [app_json_entry('startup', 'secret\nprinter', command=['sh', '-c', 'echo "$PEM"; exit 2'],
                              attempts=2, wait=1)]
    with pytest.raises(checks.CheckFailed) as info:
        _app_json_checker(daemon, {'worker': entries})(daemon, 'c1', dict(WEB_SPEC, name='shop.worker.1',
                                                                          process_type='worker'))
    assert str(info.value) == (
        "shop.worker.1 failed its startup check 'secret\\nprinter' (command sh -c echo \"$PEM\"; exit 2) after 2 "
        "attempt(s): exit status 2: XXXXXX (checks from the app.json: /app/app.json in image shop:v2); the "
        "container logged nothing")
    assert daemon.calls.count(('wait', 1)) == 1, 'one wait between the two attempts'


def test_app_json_http_entries_check_status_and_content_on_their_port():
    with _Site() as site:
        daemon = _Daemon(listening=proc_tables(['00000000:%04X' % site.port]))
        content = [app_json_entry('readiness', 'greeting', path='/ok', content='goodbye', port=site.port)]
        with pytest.raises(checks.CheckFailed) as info:
            _app_json_checker(daemon, {'web': content})(daemon, 'c1', WEB_SPEC)
        assert str(info.value).startswith(
            "shop.web.1 failed its readiness check 'greeting' (GET /ok on port %d) after 1 attempt(s): the response "
            "does not contain 'goodbye' (checks from the app.json: " % site.port)
        status = [app_json_entry('startup', 'status', path='/broken', port=site.port, attempts=2)]
        with pytest.raises(checks.CheckFailed) as info:
            _app_json_checker(daemon, {'worker': status})(daemon, 'c1', dict(WEB_SPEC, process_type='worker'))
        assert 'HTTP 500 from 127.0.0.1:%d/broken' % site.port in str(info.value)
        assert ('ports', 'cat') not in daemon.calls, 'an answer needs no look at the ports'


def test_an_unanswered_http_check_names_the_ports_the_container_listens_on():
    port = _closed_port()
    daemon = _Daemon(listening=proc_tables(['00000000:1389'], ['00000000000000000000000000000000:1389']))
    entries = [app_json_entry('startup', 'home', path='/', port=port, attempts=2)]
    with pytest.raises(checks.CheckFailed) as info:
        _app_json_checker(daemon, {'web': entries})(daemon, 'c1', WEB_SPEC)
    message = str(info.value)
    assert "failed its startup check 'home' (GET / on port %d) after 2 attempt(s): no answer from 127.0.0.1:%d (" \
        % (port, port) in message
    assert message.endswith('); listening on unexpected port(s): expected=%d actual=5001 (checks from the app.json: '
                            '/app/app.json in image shop:v2); the container logged nothing' % port), message
    assert daemon.calls.count(('ports', 'cat')) == 1, 'read once, after the last attempt'

    # the checks option's HTTP checks too; an image without cat and without a shell says so
    daemon = _Daemon(listening=None)
    checker = _checker(daemon, {'web': {'http': ['/'], 'attempts': 1, 'wait': 0}})
    checker.doc['web_port'] = port
    with pytest.raises(checks.CheckFailed) as info:
        checker(daemon, 'c1', WEB_SPEC)
    assert '); could not read the listening ports (checks from the checks option)' in str(info.value)
    assert daemon.calls == [('ports', 'cat'), ('ports', '/bin/sh')]


def test_app_json_listening_and_uptime_entries():
    daemon = _Daemon(listening=proc_tables(['00000000:1389']))
    listening = [app_json_entry('startup', 'port', listening=True, attempts=3, wait=2)]
    with pytest.raises(checks.CheckFailed) as info:
        _app_json_checker(daemon, {'web': listening})(daemon, 'c1', WEB_SPEC)
    assert str(info.value).startswith(
        "shop.web.1 failed its startup check 'port' (listening on port 5000) after 3 attempt(s): listening on "
        "unexpected port(s): expected=5000 actual=5001 (checks from the app.json")
    assert daemon.calls == [('ports', 'cat'), ('wait', 2), ('ports', 'cat'), ('wait', 2), ('ports', 'cat')]
    on_its_port = [app_json_entry('startup', 'port', listening=True, port=5001)]
    _app_json_checker(daemon, {'web': on_its_port})(daemon, 'c1', WEB_SPEC)

    dying = _Daemon(events={9: 'die'})
    uptime = [app_json_entry('startup', 'warm', uptime=9)]
    with pytest.raises(checks.CheckFailed) as info:
        _app_json_checker(dying, {'web': uptime})(dying, 'c1', WEB_SPEC)
    assert str(info.value).startswith("shop.web.1 died while its startup check 'warm' ran (checks from the app.json")


def test_the_app_json_given_inline_is_named_so():
    daemon = _Daemon()
    checker = _app_json_checker(daemon, {'web': [app_json_entry(command=['false'])]})
    checker.doc['app_json']['source'] = 'app_json option'
    daemon.commands[('false',)] = [(1, '')]
    with pytest.raises(checks.CheckFailed) as info:
        checker(daemon, 'c1', WEB_SPEC)
    assert '(checks from the app.json: app_json option)' in str(info.value)


def _default_checker(daemon, **doc):
    return checks.Checker(daemon, dict({'name': 'shop', 'env': {}, 'web_port': 5000, 'checks': None}, **doc))


@pytest.mark.parametrize('tables', [
    proc_tables(['00000000:1389']),
    proc_tables([], ['00000000000000000000000000000000:1389', '00000000000000000000000000000000:2328']),
])
def test_the_default_check_fails_a_web_container_listening_on_other_ports(tables):
    daemon = _Daemon(listening=tables)
    with pytest.raises(checks.CheckFailed) as info:
        _default_checker(daemon)(daemon, 'c1', WEB_SPEC)
    actual = '5001' if '2328' not in tables else '5001,9000'
    assert str(info.value) == ('shop.web.1 is listening on unexpected port(s): expected=5000 actual=%s (checks '
                               'from the default); the container logged nothing' % actual)
    assert daemon.calls == [('wait', 10), ('ports', 'cat')], 'the ports are read once the uptime has passed'


@pytest.mark.parametrize('tables, calls', [
    (proc_tables([]), [('ports', 'cat')]),                                   # a web process that is no server
    (proc_tables(['0100007F:2328']), [('ports', 'cat')]),                     # a private port only
    (proc_tables(['00000000:1388', '00000000:2328']), [('ports', 'cat')]),    # its port and another one
    (None, [('ports', 'cat'), ('ports', '/bin/sh')]),                         # nothing to read the ports with
])
def test_the_default_check_keeps_passing_what_it_passed(tables, calls):
    daemon = _Daemon(listening=tables)
    _default_checker(daemon)(daemon, 'c1', WEB_SPEC)
    assert daemon.calls == [('wait', 10)] + calls


def test_the_listening_gate_is_for_web_and_the_default_check_only():
    daemon = _Daemon(listening=proc_tables(['00000000:1389']))
    _default_checker(daemon)(daemon, 'c1', dict(WEB_SPEC, name='shop.worker.1', process_type='worker'))
    _default_checker(daemon, web_port=5001)(daemon, 'c1', WEB_SPEC)
    assert daemon.calls.count(('ports', 'cat')) == 1, 'no look at the ports of a worker'
    own = checks.Checker(daemon, {'name': 'shop', 'env': {}, 'web_port': 5000,
                                  'checks': checks.validate_checks({'web': {'uptime': 1}})})
    own(daemon, 'c1', WEB_SPEC)
    assert daemon.calls.count(('ports', 'cat')) == 1, 'an own uptime check is not gated on the ports'


def test_docker_healthcheck_is_the_specs_mapping():
    from ansible_collections.dokku_ps.docker.plugins.module_utils import _specs as specs
    assert checks.docker_healthcheck is specs.docker_healthcheck
    doc = {'web_port': 5000, 'app_json': app_json({'web': [app_json_entry('liveness', command=['true'])]})}
    assert checks.docker_healthcheck(doc, 'web')['Test'] == ['CMD', 'true']
