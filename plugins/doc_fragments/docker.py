# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The Docker connection options, shared by every module."""

    DOCUMENTATION = r'''
options:
  docker_host:
    description:
      - The URL or Unix socket path of the Docker daemon API, for example V(unix:///var/run/docker.sock) or
        V(tcp://127.0.0.1:2376).
      - If not given, the value of the E(DOCKER_HOST) environment variable is used, else
        V(unix:///var/run/docker.sock).
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  tls:
    description:
      - Talk to the daemon over TLS without verifying its certificate (see O(validate_certs) to verify it).
      - The E(DOCKER_TLS) environment variable is used when the option is not given.
    type: bool
    default: false
  validate_certs:
    description:
      - Talk to the daemon over TLS and verify its certificate.
      - The E(DOCKER_TLS_VERIFY) environment variable is used when the option is not given.
    type: bool
    default: false
    aliases: [tls_verify]
  ca_path:
    description:
      - CA certificate used to verify the daemon's certificate.
      - Defaults to C(ca.pem) in the directory named by E(DOCKER_CERT_PATH) when that is set.
    type: path
    aliases: [ca_cert, tls_ca_cert]
  client_cert:
    description:
      - Client certificate presented to the daemon. Defaults to C(cert.pem) in E(DOCKER_CERT_PATH).
    type: path
    aliases: [tls_client_cert]
  client_key:
    description:
      - Key of the client certificate. Defaults to C(key.pem) in E(DOCKER_CERT_PATH).
    type: path
    aliases: [tls_client_key]
  api_version:
    description:
      - Docker Engine API version to speak. V(auto) negotiates the daemon's version.
      - The E(DOCKER_API_VERSION) environment variable is used when the option is not given.
      - API 1.41 or newer is required.
    type: str
    default: auto
    aliases: [docker_api_version]
  timeout:
    description:
      - Seconds to wait for an answer to any single Docker API call (stop calls add the stop timeout).
        A daemon that does not answer in time makes the task fail instead of hang.
      - The E(DOCKER_TIMEOUT) environment variable is used when the option is not given.
    type: int
    default: 60
notes:
  - Connection options can be set once for every module of the collection with
    C(module_defaults) and the action group C(group/dokku_ps.docker.ps).
requirements:
  - docker (the Docker SDK for Python) >= 5.0.0 on the managed host
'''
