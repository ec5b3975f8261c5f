# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Listening ports (module_utils/_listening.py): /proc/net/tcp{,6} read, and why a port check fails."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.dokku_ps.docker.plugins.module_utils import _listening as listening
from tests.unit.helpers import TCP4_HEADER, TCP6_HEADER, proc_line, proc_tables


# ---------------------------------------------------------------- the listening ports of a container (/proc/net/tcp)

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
    assert listening.parse_listening(text) == [
        ('127.0.0.1', 80), ('0.0.0.0', 5000), ('::', 5001), ('::1', 8080), ('127.0.0.1', 9000),
        ('192.168.0.2', 65535)]
    assert listening.reachable_ports(listening.parse_listening(text)) == [5000, 5001, 65535]


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
    assert listening.parse_listening(text) == expected


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
    assert listening.listening_problem(sockets, 5000) == problem
