# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in Docker daemon for the unit tests of the Docker connection and client: a tiny HTTP server on a unix
socket that answers ``/version``, and answers that carry only a ``Date`` header (the daemon's clock).

Imported as ``tests.unit.docker_daemon`` (conftest.py puts the repository root on ``sys.path``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler


class FakeDaemon(object):
    """A unix-socket HTTP server answering /version with a given API version (and counting requests)."""

    def __init__(self, path, api_version):
        daemon = self
        self.paths = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server naming)
                daemon.paths.append(self.path)
                body = json.dumps({'ApiVersion': api_version, 'Version': '26.1.5',
                                   'MinAPIVersion': '1.24'}).encode('utf-8')
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

            def address_string(self):
                return 'unix'

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05})
        self.thread.daemon = True

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Response(object):
    """An answer of the daemon as the client's response hook sees it: only its headers."""

    def __init__(self, date=None):
        self.headers = {'Date': date} if date else {}


def http_date(timestamp):
    """A time as the ``Date`` header of an HTTP answer gives it (whole seconds, GMT)."""
    return email.utils.formatdate(timestamp, usegmt=True)
