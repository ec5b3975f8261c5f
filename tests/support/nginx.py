"""A private nginx for the proxy tests, and a bounded request loop.

``PrivateNginx`` runs Debian's ``/usr/sbin/nginx`` with everything of its own under one directory (its
prefix): main config ``nginx.conf`` (which includes ``dokku-ps/*.conf`` inside ``http {}``, as the role's
conf.d file does for the system nginx), pid file, error log, temp paths. It listens only on 127.0.0.1, on
free high ports (``port`` is one, ``ports(n)`` gives more). The system nginx, its service and /etc/nginx are
never touched. The master runs in the foreground (``daemon off``) as our child, so it is stopped by its pid.

The collection drives it through ``_nginx.Nginx(**nginx.driver_options())`` (binary, prefix, conf, include
dir, pid file): exactly the options the modules will take::

    with PrivateNginx(tmp_path / "nginx") as server:
        driver = _nginx.Nginx(**server.driver_options())
        text = proxy_config.render("shop", settings, members, listen_address="127.0.0.1")
        driver.apply({"shop.conf": _nginx.NginxFile(text, 0o644)})
        result = nginx.request_loop(server.url(), count=30, seconds=10)

``http_extra`` (default none), set before ``start``, is more configuration inside ``http {}`` after the include,
e.g. a ``default_server`` of the test's own (``default_server_conf``) that answers names no app claims.

``command_prefix`` (default none) goes in front of every nginx command line this class runs (``-t``, the
master, ``-s reload``): e.g. ``PrivateDaemon.netns_command()`` runs the nginx inside a private Docker daemon's
network namespace, where that daemon's containers are reachable. It may be changed while nginx is stopped (a
restarted daemon has a new namespace). The collection's ``proxy.Nginx`` runs the plain binary (``nginx -t`` binds
nothing and ``-s reload`` signals the pid in the pid file, so neither needs the namespace).

``request_loop`` sends at most ``count`` requests and stops after ``seconds`` whatever happens, one fresh
connection each, and counts successes, failures and the body of each answer (PROXY_IMAGE answers with the
container's hostname, so the body names the backend). ``BackgroundLoop`` runs one in a thread while a
test changes things.
"""

from __future__ import annotations

import collections
import http.client
import os
import signal
import socket
import subprocess
import threading
import time

BINARY = "/usr/sbin/nginx"
LISTEN_ADDRESS = "127.0.0.1"

MAIN_CONF = """\
# private nginx of a dokku_ps test
worker_processes 1;
daemon off;
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/error.log info;
events {
    worker_connections 512;
}
http {
    access_log off;
    client_body_temp_path %(prefix)s/tmp/body;
    proxy_temp_path %(prefix)s/tmp/proxy;
    fastcgi_temp_path %(prefix)s/tmp/fastcgi;
    uwsgi_temp_path %(prefix)s/tmp/uwsgi;
    scgi_temp_path %(prefix)s/tmp/scgi;
    include %(include_dir)s/*.conf;
%(http_extra)s}
"""


# what a test's own default server answers for a name no app claims: 421 Misdirected Request
DEFAULT_SERVER_STATUS = 421


def default_server_conf(port, address=LISTEN_ADDRESS):
    """A ``default_server`` on ``address:port`` that answers every name no other server claims with 421."""
    return ("    server {\n        listen %s:%d default_server;\n        server_name _;\n        return %d;\n    }\n"
            % (address, port, DEFAULT_SERVER_STATUS))


class NginxError(RuntimeError):
    """The private nginx did not start or stop as expected."""


def free_port(address=LISTEN_ADDRESS):
    """A TCP port that nothing listens on right now (the kernel's choice of an ephemeral port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


class PrivateNginx:
    def __init__(self, root, binary=BINARY, command_prefix=()):
        self.root = os.path.abspath(str(root))
        self.binary = binary
        self.command_prefix = list(command_prefix)
        self.conf = os.path.join(self.root, "nginx.conf")
        self.include_dir = os.path.join(self.root, "dokku-ps")
        self.pid_file = os.path.join(self.root, "nginx.pid")
        self.error_log = os.path.join(self.root, "error.log")
        self.port = free_port()
        self._extra_ports = []
        self._proc = None
        self.http_extra = ""

    def ports(self, count):
        """``count`` free ports, the first being ``port``."""
        while len(self._extra_ports) < count - 1:
            port = free_port()
            if port != self.port and port not in self._extra_ports:
                self._extra_ports.append(port)
        return [self.port] + self._extra_ports[:count - 1]

    def driver_options(self):
        """Keyword arguments of ``proxy.Nginx`` for this nginx."""
        return {"binary": self.binary, "prefix": self.root, "conf": self.conf, "include_dir": self.include_dir,
                "pid_file": self.pid_file}

    def url(self, path="/", port=None, scheme="http"):
        return "%s://%s:%d%s" % (scheme, LISTEN_ADDRESS, port or self.port, path)

    @property
    def pid(self):
        """The master's pid while it runs (read from the pid file, checked against our child)."""
        if self._proc is None or self._proc.poll() is not None:
            return None
        try:
            with open(self.pid_file, encoding="ascii") as handle:
                pid = int(handle.read().strip() or "0")
        except (OSError, ValueError):
            return None
        return pid if pid == self._proc.pid else None

    def argv(self, *args):
        return list(self.command_prefix) + [self.binary, "-p", self.root, "-c", self.conf] + list(args)

    def start(self, timeout=10):
        os.makedirs(os.path.join(self.root, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(self.root, "logs"), exist_ok=True)  # nginx opens <prefix>/logs/error.log early
        os.makedirs(self.include_dir, mode=0o755, exist_ok=True)
        with open(self.conf, "w", encoding="utf-8") as handle:
            handle.write(MAIN_CONF % {"prefix": self.root, "include_dir": self.include_dir,
                                      "http_extra": self.http_extra})
        check = subprocess.run(self.argv("-t"), capture_output=True, text=True, timeout=30, check=False)
        if check.returncode != 0:
            raise NginxError("nginx -t of the private config failed: %s" % check.stderr.strip())
        # The master outlives this call: stop() reaps it.
        # pylint: disable-next=consider-using-with
        self._proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        deadline = time.monotonic() + timeout
        while self.pid is None:
            if self._proc.poll() is not None:
                raise NginxError("nginx exited with %s while starting: %s" % (self._proc.returncode, self.log_tail()))
            if time.monotonic() >= deadline:
                self.stop()
                raise NginxError("nginx wrote no pid file within %ss: %s" % (timeout, self.log_tail()))
            time.sleep(0.05)

    def reload(self, timeout=30):
        """``nginx -s reload`` (the way proxy.Nginx reloads)."""
        result = subprocess.run(self.argv("-s", "reload"), capture_output=True, text=True, timeout=timeout,
                                check=False)
        if result.returncode != 0:
            raise NginxError("nginx -s reload failed: %s" % result.stderr.strip())

    def reloads(self):
        """How many reloads the master has started so far (its error log at level info says so)."""
        try:
            with open(self.error_log, encoding="utf-8", errors="replace") as handle:
                return sum(1 for line in handle if "(SIGHUP) received" in line)
        except OSError:
            return 0

    def stop(self, timeout=15):
        """SIGQUIT (graceful) to the master, by pid; SIGKILL if it lingers. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def log_tail(self, lines=20):
        try:
            with open(self.error_log, encoding="utf-8", errors="replace") as handle:
                return "\n".join(handle.read().splitlines()[-lines:])
        except OSError as exc:
            return "(no error log: %s)" % exc

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()


LoopResult = collections.namedtuple("LoopResult", "sent ok failed bodies statuses errors seconds max_latency")


class SniConnection(http.client.HTTPSConnection):
    """An https connection to ``address`` that sends ``server_name`` as SNI and checks the certificate for that
    name with ``context`` (the name need not resolve: the address is given)."""

    def __init__(self, address, port, server_name, context, timeout):
        super().__init__(server_name, port, timeout=timeout, context=context)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def get(url, host=None, timeout=5.0, context=None):
    """One GET on a fresh connection -> (status, body text). An ``https://`` URL sends ``host`` as SNI too and checks
    the certificate with ``context`` (an ``ssl.SSLContext``)."""
    assert url.startswith("http://") or url.startswith("https://")
    secure = url.startswith("https://")
    hostport, _slash, path = url.split("://", 1)[1].partition("/")
    address, _colon, port = hostport.partition(":")
    if secure:
        conn = SniConnection(address, int(port or 443), host or address, context, timeout)
    else:
        conn = http.client.HTTPConnection(address, int(port or 80), timeout=timeout)
    try:
        conn.request("GET", "/" + path, headers={"Host": host or hostport, "Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace").strip()
    finally:
        conn.close()


def request_loop(url, count=100, seconds=10.0, host=None, timeout=5.0, stop=None, pause=0.0, context=None):
    """At most ``count`` GETs of ``url``, for at most ``seconds`` (whichever ends first), or until the event
    ``stop`` is set. A 200 is a success, anything else (another status, a refused or reset connection, a
    timeout) a failure. Returns a LoopResult: ``bodies`` counts the 200 bodies (backend names),
    ``statuses`` every status (0 for no answer), ``errors`` the first five failures."""
    ok = failed = sent = 0
    bodies = collections.Counter()
    statuses = collections.Counter()
    errors = []
    max_latency = 0.0
    started = time.monotonic()
    deadline = started + seconds
    while sent < count and time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        sent += 1
        began = time.monotonic()
        try:
            status, body = get(url, host=host, timeout=min(timeout, max(0.1, deadline - began)), context=context)
        except (OSError, http.client.HTTPException) as exc:
            status, body = 0, "%s: %s" % (type(exc).__name__, exc)
        max_latency = max(max_latency, time.monotonic() - began)
        statuses[status] += 1
        if status == 200:
            ok += 1
            bodies[body] += 1
        else:
            failed += 1
            if len(errors) < 5:
                errors.append("%s %s" % (status, body[:200]))
        if pause:
            time.sleep(pause)
    return LoopResult(sent, ok, failed, bodies, statuses, errors, time.monotonic() - started, max_latency)


class BackgroundLoop:
    """``request_loop`` in a thread: ``with BackgroundLoop(url, seconds=30) as loop: ...; loop.result``.

    Leaving the block stops the loop (it also stops by itself at its count or time bound)."""

    def __init__(self, url, count=100000, seconds=60.0, **kwargs):
        self._stop = threading.Event()
        self.result = None
        self._thread = threading.Thread(target=self._run, args=(url, count, seconds), kwargs=kwargs, daemon=True)

    def _run(self, url, count, seconds, **kwargs):
        self.result = request_loop(url, count=count, seconds=seconds, stop=self._stop, **kwargs)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=30)
