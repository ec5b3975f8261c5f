# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dokku_ps_report (module_utils/_ops_report.py): published ports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.dokku_ps.docker.plugins.module_utils import _ops_report as ops_report


def test_published_ports():
    ports = [
        {'PrivatePort': 5000, 'Type': 'tcp'},
        {'IP': '::', 'PrivatePort': 5000, 'PublicPort': 32768, 'Type': 'tcp'},
        {'IP': '0.0.0.0', 'PrivatePort': 5000, 'PublicPort': 32768, 'Type': 'tcp'},
        {'IP': '0.0.0.0', 'PrivatePort': 53, 'PublicPort': 5353, 'Type': 'udp'},
    ]
    assert ops_report._published_ports(ports) == [
        {'container_port': 53, 'host_port': 5353, 'host_ip': '0.0.0.0', 'protocol': 'udp'},
        {'container_port': 5000, 'host_port': 32768, 'host_ip': '0.0.0.0', 'protocol': 'tcp'},
        {'container_port': 5000, 'host_port': 32768, 'host_ip': '::', 'protocol': 'tcp'},
    ]


def test_published_ports_nothing_published():
    assert ops_report._published_ports(None) == []
    assert ops_report._published_ports([]) == []
    assert ops_report._published_ports([{'PrivatePort': 5000, 'Type': 'tcp'}]) == []
