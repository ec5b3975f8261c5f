"""A counting proxy for the Docker API on a unix socket.

Tests point ``docker_host`` at the proxy's socket to count (and list) the API requests a module run
makes, without touching the code under test. It forwards bytes unchanged to the real daemon.
"""

from __future__ import annotations

import os
import re
import socket
import threading

_REQUEST_LINE = re.compile(rb"^([A-Z]+) (\S+) HTTP/1\.[01]\r\n")


def _shutdown(*sockets):
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class CountingProxy:
    def __init__(self, path, upstream="/var/run/docker.sock"):
        self.path = path
        self.upstream = upstream
        self.requests = []
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(path):
            os.unlink(path)
        self._server.bind(path)
        self._server.listen(64)
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self):
        return "unix://" + self.path

    def reset(self):
        with self._lock:
            self.requests = []

    def count(self):
        with self._lock:
            return len(self.requests)

    def _accept(self):
        while not self._closed:
            try:
                client, _addr = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _requests(self, source, sink):
        """client -> daemon: forward bytes, and count requests by parsing heads and skipping bodies."""
        buffer = b""
        body_left = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
                buffer += data
                while True:
                    if body_left:
                        taken = min(body_left, len(buffer))
                        buffer = buffer[taken:]
                        body_left -= taken
                        if body_left:
                            break
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head, buffer = buffer[:end + 4], buffer[end + 4:]
                    match = _REQUEST_LINE.match(head)
                    if match:
                        with self._lock:
                            self.requests.append((match.group(1).decode(), match.group(2).decode()))
                    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    body_left = int(length.group(1)) if length else 0
        except OSError:
            pass
        finally:
            _shutdown(source, sink)

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _shutdown(source, sink)

    def close(self):
        self._closed = True
        try:
            self._server.close()
        finally:
            if os.path.exists(self.path):
                os.unlink(self.path)
