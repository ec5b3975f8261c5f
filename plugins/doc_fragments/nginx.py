# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The nginx the modules drive for apps whose proxy is on, shared by every module that changes web containers."""

    DOCUMENTATION = r'''
options:
  nginx_include_dir:
    description:
      - The directory the collection owns in nginx's configuration, one C(<app>.conf) per proxied app (the role
        P(dokku_ps.docker.proxy#role) creates it and includes it in nginx's C(http) block).
      - Like every option of this group, it can be set once for every module with C(module_defaults) and the
        action group C(group/dokku_ps.docker.ps).
    type: path
    default: /etc/nginx/dokku-ps
  nginx_binary:
    description:
      - The nginx binary that tests the configuration (C(nginx -t)) before a change goes live, and reloads it.
    type: path
    default: /usr/sbin/nginx
  nginx_conf:
    description:
      - nginx's main configuration file (C(-c)).
    type: path
    default: /etc/nginx/nginx.conf
  nginx_pid_file:
    description:
      - Where the running nginx keeps its pid. When the file is missing, nginx is not running and is not
        reloaded (it reads the configuration when it starts).
    type: path
    default: /run/nginx.pid
  nginx_prefix:
    description:
      - nginx's prefix (C(-p)); empty for the one it was built with.
    type: path
  proxy_listen_address:
    description:
      - The address nginx listens on for the apps' host ports. Empty means every interface.
    type: str
  proxy_subnet:
    description:
      - The IPv4 subnet of the Docker network C(dokku-ps) that proxied web containers join at fixed addresses.
        Used when the network is created (the first time a proxied web container is), so choose it before the
        first deploy; change it by removing the network when no container is on it.
      - The default lies outside Docker's default address pools.
    type: str
    default: 172.16.240.0/20
  acme_directory:
    description:
      - The directory URL of the ACME CA that issues the certificates of apps with O(dokku_ps.docker.dokku_ps_app#module:https=acme)
        (docs/tls.md). Let's Encrypt's production CA by default; its staging CA is
        V(https://acme-staging-v02.api.letsencrypt.org/directory); any RFC 8555 CA (a private step-ca, for example)
        works.
    type: str
    default: https://acme-v02.api.letsencrypt.org/directory
  acme_email:
    description:
      - The contact address of the ACME account (the CA writes to it about expiring certificates). One account is
        kept per directory URL and address, in the state directory.
    type: str
  acme_ca_bundle:
    description:
      - A PEM file of the certificates that the ACME CA's own HTTPS server is verified against, for a private CA;
        empty for the system's trusted roots.
    type: path
  acme_webroot:
    description:
      - The directory nginx serves the ACME http-01 challenges from (one directory per app under it). It must be
        readable by nginx's workers; the collection creates it with mode 0755.
    type: path
    default: /var/lib/dokku-ps-acme
  acme_timeout:
    description:
      - Seconds one issuance may take in all (the challenges checked through nginx, the CA's validation, the order
        finalized). An issuance that takes longer fails with a one-line error and leaves the app served as it was.
    type: int
    default: 120
notes:
  - The proxy needs the Docker daemon on the host where the module runs, since nginx reaches the containers'
    addresses on the Docker network directly.
'''
