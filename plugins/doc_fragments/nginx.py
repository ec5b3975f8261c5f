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
notes:
  - The proxy needs the Docker daemon on the host where the module runs, since nginx reaches the containers'
    addresses on the Docker network directly.
'''
