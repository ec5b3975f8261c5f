# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Listening ports: the TCP ports a container listens on, read from /proc/net/tcp{,6} (Dokku's port-listening check).

Pure: the commands that read the two tables inside a container, the parser of what they print, and the sentence
that says why a container fails a check that a port is listened on from outside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


# TCP_LISTEN in the "st" column of /proc/net/tcp and /proc/net/tcp6
_LISTEN = '0A'


# what reads the two tables inside a container: ``cat``, else the shell's own ``read`` (an image without cat)
READ_LISTENING_COMMANDS = (
    ['cat', '/proc/net/tcp', '/proc/net/tcp6'],
    ['/bin/sh', '-c', 'for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] || continue; '
     'while IFS= read -r line; do printf "%s\\n" "$line"; done < "$f"; done'],
)


def _proc_address(text):
    """The address of a /proc/net/tcp{,6} line as text: the kernel prints each 32-bit word in the host's byte
    order (little-endian on the platforms Docker runs on)."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    if len(raw) not in (4, 16):
        return None
    swapped = b''.join(raw[at:at + 4][::-1] for at in range(0, len(raw), 4))
    address = ipaddress.ip_address(swapped)
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def parse_listening(text):
    """The (address, port) pairs of the listening TCP sockets (state 0A) in the text of /proc/net/tcp and
    /proc/net/tcp6 (both may follow each other; lines that are no socket are skipped), sorted, without repeats.
    None when the text holds no such table (nothing could be read)."""
    found = set()
    table = False
    for line in (text or '').splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == 'sl' and fields[1] == 'local_address':
            table = True
            continue
        if len(fields) < 4 or not fields[0].endswith(':') or ':' not in fields[1] or fields[3] != _LISTEN:
            continue
        address, _sep, port = fields[1].rpartition(':')
        address = _proc_address(address)
        try:
            number = int(port, 16)
        except ValueError:
            continue
        if address is not None:
            found.add((address, number))
    if not table:
        return None
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


def _loopback(address):
    return ipaddress.ip_address(address).is_loopback


def reachable_ports(sockets):
    """The ports of ``sockets`` that listen on an address other than loopback (reachable from outside)."""
    return sorted(set(port for address, port in sockets if not _loopback(address)))


def _ports_text(ports):
    return ','.join(str(port) for port in ports) or 'none'


def listening_problem(sockets, expected):
    """Why ``sockets`` (parse_listening) fail a check that ``expected`` is listened on from outside the container,
    or None: unreadable, nothing listening, other ports only (Dokku's "expected=5000 actual=5001"), or the
    loopback address only."""
    if sockets is None:
        return 'could not read the listening ports'
    ports = sorted(set(port for _address, port in sockets))
    if not ports:
        return 'it listens on no TCP port: expected=%d actual=none' % expected
    if expected not in ports:
        return 'listening on unexpected port(s): expected=%d actual=%s' % (expected, _ports_text(ports))
    if expected not in reachable_ports(sockets):
        loopback = sorted(address for address, port in sockets if port == expected)
        return ('it listens on port %d on the loopback address only (%s), which nothing outside the container '
                'reaches' % (expected, ', '.join(loopback)))
    return None
