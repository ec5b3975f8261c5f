"""The https scenario (issue 22): what HTTPS costs through the collection's nginx.

Against a PRIVATE nginx (tests/support/nginx.py, ``worker_processes 1``, 127.0.0.1) driven through the modules'
nginx options, as the proxy scenario does. Per repetition:

1. requests/s of wrk through that nginx to ONE app, ``bn-https-web`` (web=3), over http and over https, the same
   client, concurrency and duration: keep-alive connections, and a new connection per request (``Connection:
   close``: every https request pays a full TLS handshake, wrk resumes no session); each pair in two halves ordered
   A B B A (which is A alternates by repetition); the ratio https / http per repetition. The app serves both ports
   from a provided certificate (``https: provided``, EC P-256, signed by a CA made for the run), with the http port
   left serving (``https_redirect: false``) and no HSTS header, so both answer the same page. Its domain is
   ``localhost``: wrk sends the URL's host as SNI and resolves it itself, and ``localhost`` is the one name it
   resolves to 127.0.0.1 here without touching /etc/hosts;
2. failed requests during a rollout of that app (a changed env) under load over https, as the proxy scenario
   loads its operations: two Python loops of a new connection per request (a full TLS handshake each, the
   certificate checked against the run's CA, SNI and Host ``localhost``) and wrk's keep-alive connections;
3. the time a deploy with issuance adds: the first deploy of a proxied app (web=1) with ``https: acme`` against a
   pebble the scenario starts (tests/support/pebble.py; its http-01 validations come through the private nginx's
   http port of that app) and the first deploy of the same app without TLS, ``ansible-playbook`` wall time, order
   alternating; the difference per repetition. Both apps are deleted after each deploy (untimed), so each acme
   deploy issues a certificate; before the repetitions an untimed acme deploy registers the ACME account (one per
   directory and e-mail, kept in the state directory), which later deploys reuse, as on a real host.

Everything is named ``bn-https-*`` and removed at the end; nginx and pebble are stopped by pid.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
import os
import socket
import ssl

from common import expect_running, force_remove, log
import load
from scenarios import under_load, under_load_text
from tests.support import acme_flow, certs, images
from tests.support.nginx import PrivateNginx
from tests.support.pebble import CHALLTESTSRV, PEBBLE, Pebble

WEB = {"web": "sh -c '%s'" % images.PROXY_WEB_SCRIPT}  # busybox httpd on $PORT (5000), answers its hostname
CHECKS = {"web": {"uptime": 1}}
APP = "bn-https-web"
DOMAIN = "localhost"  # see the docstring: the name wrk resolves and sends as SNI
ACME_APPS = {"acme": "bn-https-acme", "off": "bn-https-off"}
ACME_DOMAIN = "acme.bn-https.test"  # pebble's DNS answers 127.0.0.1 for every name
ACME_EMAIL = "bench@bn-https.test"
MODES = (("keepalive", ()), ("fresh", ("Connection: close",)))
CERT_DAYS = 7


def pebble_problem():
    """None when Debian's pebble is installed, else why the deploy part is skipped."""
    missing = [path for path in (PEBBLE, CHALLTESTSRV) if not os.access(path, os.X_OK)]
    if missing:
        return "%s missing (scripts/bootstrap.sh installs pebble)" % ", ".join(missing)
    return None


def _bench_certificate(workdir):
    """(chain PEM, key PEM, CA file) of a certificate for DOMAIN signed by a CA made now for this run."""
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    root = certs.make("bn-https bench CA", ca=True, not_before=now, days=CERT_DAYS)
    leaf = root.issue(DOMAIN, names=[DOMAIN], not_before=now, days=CERT_DAYS)
    ca_file = os.path.join(workdir, "bn-https-ca.pem")
    with open(ca_file, "w", encoding="ascii") as handle:
        handle.write(root.cert_pem)
    return certs.pem(leaf), leaf.key_pem(), ca_file


def _https_get(port, name, cafile):
    """(status, sha256 fingerprint of the served certificate, "<protocol> <cipher>" negotiated) of GET / over https
    to 127.0.0.1:``port`` with SNI and Host ``name``, verified against ``cafile``; Python's default client context
    offers TLS 1.2 and 1.3, as wrk does."""
    context = ssl.create_default_context(cafile=cafile)
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            der = tls.getpeercert(binary_form=True)
            negotiated = "%s %s" % (tls.version(), tls.cipher()[0])
            tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % name).encode("ascii"))
            while len(answer) < 1024 * 1024:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                answer += chunk
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    return status, "sha256:" + hashlib.sha256(der).hexdigest(), negotiated


def _http_get(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/", headers={"Host": DOMAIN})
        response = connection.getresponse()
        return response.status
    finally:
        connection.close()


def run(bench, reps=None, seconds=6, wrk_skip=None, pebble_skip=None):
    """The scenario (see the module's docstring) into ``bench.https_results`` and the samples ``https_deploy_web1``.
    ``seconds``: wrk's time per target and connection mode in each repetition (two halves)."""
    results = bench.https_results
    results.update({"settings": {
        "wrk": None if wrk_skip else {"threads": load.THREADS, "connections": load.CONNECTIONS, "seconds": seconds,
                                      "request_timeout": load.REQUEST_TIMEOUT},
        "wrk_skip": wrk_skip, "pebble_skip": pebble_skip, "nginx_worker_processes": 1, "checks": CHECKS,
        "certificate": "a provided EC P-256 certificate signed by a CA made for the run",
        "domain": DOMAIN, "acme_domain": ACME_DOMAIN},
        "throughput": [], "rollout": [], "deploy": [], "warmup": None})
    server = PrivateNginx(os.path.join(bench.workdir, "https-nginx"))
    ansible = bench.ansible("https")
    web_http, web_https, acme_http, acme_https = server.ports(4)
    options = {"nginx_binary": server.binary, "nginx_conf": server.conf, "nginx_include_dir": server.include_dir,
               "nginx_pid_file": server.pid_file, "nginx_prefix": server.root, "proxy_listen_address": "127.0.0.1"}
    chain, key, ca_file = _bench_certificate(bench.workdir)
    web = dict(options, name=APP, image=images.PROXY_IMAGE, processes=dict(WEB), checks=dict(CHECKS),
               env={"RELEASE": "0"}, proxy=True, domains=[DOMAIN],
               proxy_ports=["http:%d:5000" % web_http], https_redirect=False, hsts=False)
    try:
        server.start()
        # the app as a running app gets https: defined and scaled over http, then its certificate
        ansible.module("dokku_ps_app", web, expect_changed=True)
        ansible.module("dokku_ps_scale", dict(options, app=APP, scale={"web": 3}), expect_changed=True)
        # an https mapping needs the certificate in the same declaration (refused without one since issue 22)
        web_tls = dict(web, https="provided", tls_certificate=chain, tls_key=key,
                       proxy_ports=["http:%d:5000" % web_http, "https:%d:5000" % web_https])
        run_tls = ansible.module("dokku_ps_app", web_tls, expect_changed=True)
        expect_running(bench.api, APP + ".", 3, "https setup")
        status, served, negotiated = _https_get(web_https, DOMAIN, ca_file)
        if status != 200 or served != run_tls.result["certificate"]["fingerprint"] or _http_get(web_http) != 200:
            raise RuntimeError("https: the app does not answer 200 over both ports with its certificate")
        results["settings"]["negotiated"] = negotiated
        log("https: the app answers over http and https (%s)" % negotiated)
        urls = {"http": "http://%s:%d/" % (DOMAIN, web_http), "https": "https://%s:%d/" % (DOMAIN, web_https)}
        rollout = _Rollout(bench, ansible, server, web_tls, urls["https"], ca_file, wrk_skip)
        if pebble_skip:
            log("https: deploy with issuance SKIPPED: %s" % pebble_skip)
            _repetitions(bench, reps, urls, seconds, wrk_skip, rollout, None)
            return
        with acme_flow.webroot_dir(prefix="bn-https-webroot-") as webroot:
            with Pebble(os.path.join(bench.workdir, "https-pebble"), acme_http) as authority:
                acme = dict(options, acme_directory=authority.directory_url, acme_ca_bundle=authority.ca_bundle,
                            acme_webroot=webroot, acme_email=ACME_EMAIL)
                deploys = {
                    "off": dict(acme, name=ACME_APPS["off"], image=images.PROXY_IMAGE, processes=dict(WEB),
                                checks=dict(CHECKS), proxy=True, domains=[ACME_DOMAIN],
                                proxy_ports=["http:%d:5000" % acme_http], wait_to_retire=0),
                }
                deploys["acme"] = dict(deploys["off"], name=ACME_APPS["acme"], https="acme",
                                       proxy_ports=["http:%d:5000" % acme_http, "https:%d:5000" % acme_https])
                deployer = _Deployer(bench, ansible, options, deploys, acme_https, authority)
                warm = deployer.deploy("acme")
                results["warmup"] = {"wall": warm["wall"], "task": warm["task"]}
                log("https: untimed first acme deploy (ACME account registered) %.1f s" % warm["wall"])
                _repetitions(bench, reps, urls, seconds, wrk_skip, rollout, deployer)
    finally:
        for name in [APP] + list(ACME_APPS.values()):
            try:
                ansible.module("dokku_ps_app", dict(options, name=name, state="absent"))
            except Exception as exc:  # noqa: BLE001  (cleanup_main removes what is left)
                log("https: cleanup of %s: %s" % (name, str(exc).strip().splitlines()[0][:200]))
        force_remove(bench.api, "bn-https-")
        server.stop()


def _repetitions(bench, reps, urls, seconds, wrk_skip, rollout, deployer):
    results = bench.https_results
    for rep in bench.repetitions(reps):
        if not wrk_skip:
            results["throughput"].append(_throughput(bench, urls, seconds, rep))
        results["rollout"].append(rollout.run(rep))
        if deployer is not None:
            sample = {"order": bench.rotated(["acme", "off"], rep)}
            for kind in sample["order"]:
                sample[kind] = deployer.deploy(kind)
                contender = "collection-https-acme" if kind == "acme" else "collection-https-off"
                bench.record("https_deploy_web1", contender, sample[kind]["wall"], sample[kind]["task"])
            sample["extra"] = sample["acme"]["wall"] - sample["off"]["wall"]
            results["deploy"].append(sample)
            log("https: first deploy of web=1 without TLS %.1f s, with https: acme (issued by pebble) %.1f s: %+.1f s"
                % (sample["off"]["wall"], sample["acme"]["wall"], sample["extra"]))


def _throughput(bench, urls, seconds, rep):
    """wrk over http and https for ``seconds`` each, per connection mode, in halves ordered A B B A."""
    sample = {}
    for mode, headers in MODES:
        first, second = bench.rotated(["http", "https"], rep)
        entry = {"order": [first, second, second, first]}
        runs = {"http": [], "https": []}
        for target in entry["order"]:
            runs[target].append(load.run(urls[target], max(1, seconds // 2), headers=headers))
        for target, parts in runs.items():
            requests = sum(part["requests"] for part in parts)
            entry[target] = {"runs": parts, "requests": requests, "failed": sum(part["failed"] for part in parts),
                             "rps": requests / sum(part["seconds"] for part in parts)}
        entry["ratio"] = entry["https"]["rps"] / entry["http"]["rps"] if entry["http"]["rps"] else None
        sample[mode] = entry
        log("https: %s, requests/s over http %.0f, over https %.0f (ratio %.2f); failed %d / %d" % (
            mode, entry["http"]["rps"], entry["https"]["rps"], entry["ratio"] or 0, entry["http"]["failed"],
            entry["https"]["failed"]))
    return sample


class _Rollout:
    """A rollout of the https app (web=3, a changed env) under load over https: the scenario's request loops (a new
    connection and TLS handshake per request, the certificate checked against the run's CA) and wrk's keep-alive
    connections, through the private nginx's https port."""

    def __init__(self, bench, ansible, server, declaration, url, ca_file, wrk_skip):
        self.bench = bench
        self.ansible = ansible
        self.server = server
        self.declaration = declaration
        self.url = url.replace("//%s:" % DOMAIN, "//127.0.0.1:")  # the loops connect by address, SNI and Host name
        self.context = ssl.create_default_context(cafile=ca_file)
        self.wrk_url = url
        self.wrk_skip = wrk_skip

    def run(self, rep):
        replaced = ["%s.web.%d" % (APP, index) for index in (1, 2, 3)]
        sample = under_load(self.server, self.wrk_skip, lambda: self.ansible.module(
            "dokku_ps_app", dict(self.declaration, env={"RELEASE": str(rep + 1)}), expect_changed=True),
            url=self.url, wrk_url=self.wrk_url, host=DOMAIN, context=self.context)
        if sample.pop("run").result["containers"].get("replaced") != replaced:
            raise RuntimeError("https: the rollout did not replace %s" % replaced)
        expect_running(self.bench.api, APP + ".", 3, "https rollout")
        log("https: rollout of web=3 under load over https %s" % under_load_text(sample))
        return sample


class _Deployer:
    """First deploys of the scenario's two apps, each deleted again (untimed) so that the next one starts anew."""

    def __init__(self, bench, ansible, options, deploys, https_port, authority):
        self.bench = bench
        self.ansible = ansible
        self.options = options
        self.deploys = deploys
        self.https_port = https_port
        self.authority = authority

    def deploy(self, kind):
        args = self.deploys[kind]
        run = self.ansible.module("dokku_ps_app", args, expect_changed=True)
        expect_running(self.bench.api, args["name"] + ".", 1, "https deploy")
        sample = {"wall": run.wall, "task": run.task()["duration"]}
        certificate = run.result.get("certificate") or {}
        if kind == "acme":
            if certificate.get("action") != "issued":
                raise RuntimeError("https: the acme deploy issued no certificate: %s" % certificate)
            _status, served, _negotiated = _https_get(self.https_port, ACME_DOMAIN, self.authority.roots_file)
            if served != certificate.get("fingerprint"):
                raise RuntimeError("https: nginx does not serve the certificate just issued")
            sample["certificate"] = {"names": certificate.get("names"), "not_after": certificate.get("not_after")}
        elif certificate and certificate.get("source"):
            raise RuntimeError("https: the deploy without TLS has a certificate: %s" % certificate)
        self.ansible.module("dokku_ps_app", dict(self.options, name=args["name"], state="absent"))
        force_remove(self.bench.api, args["name"] + ".")
        return sample
