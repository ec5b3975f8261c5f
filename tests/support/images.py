"""Build the small local images that the tests and the demo use.

There is no image registry here, so every image is built locally with the Docker SDK from a
``FROM scratch`` context that holds the host's static ``/bin/busybox`` plus one symlink per applet
(``sh``, ``sleep``, ``httpd``, ``echo``, ``wget``, ...). Nothing is ever pulled.

Reusable entry point for tests::

    from tests.support.images import build_image
    image = build_image(client, "dokku-ps-test/myapp:latest",
                        files={"Procfile": "web: sleep 3600\\n", "DOKKU_SCALE": "web=2\\n"})

Builds are cached: an image whose tag exists and carries the label ``io.dokku-ps.test-image-hash``
with the hash of all build inputs is reused as it is.

``python -m tests.support.images`` (or ``python tests/support/images.py``) builds the standard
images (``BASE_IMAGE``, ``DEMO_IMAGE`` and ``PROXY_IMAGE``); ``--check`` also runs a smoke test of them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import posixpath
import subprocess
import sys
import tarfile
import time

BUSYBOX_PATH = "/bin/busybox"
HASH_LABEL = "io.dokku-ps.test-image-hash"
BASE_IMAGE = "dokku-ps-test/base:latest"
DEMO_IMAGE = "dokku-ps-demo:latest"
PROXY_IMAGE = "dokku-ps-test/proxy-web:latest"

# Long-lived, and exits at once on SIGTERM: containers run with --init, so docker-init is PID 1 and
# forwards the signal to sleep, whose default action on SIGTERM is to exit.
DEFAULT_CMD = ["sleep", "86400"]
DEFAULT_PATH = "/bin"

# Bump when the layout of the generated context changes, so cached images are rebuilt.
_LAYOUT_VERSION = 1

DEMO_PROCFILE = (
    "web: httpd -f -p $PORT -h /app/www\n"
    "worker: sh -c 'while true; do echo working; sleep 5; done'\n"
)
# The demo's page, made at each request: www/ has no index.html, so busybox httpd answers / with the CGI script
# cgi-bin/index.cgi. The page names the container that answered (its hostname, the short container id), so
# calls through the proxy show which web container served them (playbooks/demo.yml prints it).
DEMO_INDEX_CGI = (
    "#!/bin/sh\n"
    "# the page of the dokku-ps demo: it names the container that answered (its hostname)\n"
    "printf 'Content-Type: text/html\\r\\n\\r\\n'\n"
    "cat <<EOF\n"
    "<!DOCTYPE html>\n"
    "<html><head><title>dokku-ps demo</title></head>\n"
    "<body><h1>Hello from dokku-ps demo</h1>\n"
    "<p>Served by busybox httpd, managed by the dokku_ps.docker collection.</p>\n"
    "<p>Answered by container <code id=\"container\">$(hostname)</code>.</p></body></html>\n"
    "EOF\n"
)
DEMO_FILES = {"Procfile": DEMO_PROCFILE, "www/cgi-bin/index.cgi": DEMO_INDEX_CGI}

# The web process of the proxy tests: busybox httpd on $PORT whose only page is the container's hostname,
# so a response through nginx tells which container answered. The page is written at every start (a
# container that Docker restarts writes it again); ``web`` is also the command tests run without the
# collection (``PROXY_WEB_COMMAND``).
PROXY_WEB_SCRIPT = "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p \"$PORT\" -h /tmp/www"
PROXY_PROCFILE = "web: sh -c '%s'\n" % PROXY_WEB_SCRIPT
PROXY_WEB_COMMAND = ["sh", "-c", PROXY_WEB_SCRIPT]
PROXY_FILES = {"Procfile": PROXY_PROCFILE}

_ETC_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
_ETC_GROUP = "root:x:0:\nnogroup:x:65534:\n"


def _busybox_bytes():
    try:
        with open(BUSYBOX_PATH, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise RuntimeError(
            "%s is missing (%s); run scripts/ensure-docker.sh or apt-get install busybox-static"
            % (BUSYBOX_PATH, exc.strerror)
        ) from exc


def busybox_applets():
    """Return the sorted applet names that the host's busybox provides (``busybox --list``)."""
    out = subprocess.run(
        [BUSYBOX_PATH, "--list"], check=True, capture_output=True, text=True
    ).stdout
    names = {name.strip() for name in out.splitlines()}
    names.discard("")
    names.discard("busybox")
    return sorted(name for name in names if "/" not in name)


def _dockerfile_quote(value):
    """Quote ``value`` for a Dockerfile ENV/WORKDIR instruction (double-quoted, escaped)."""
    if any(ch in value for ch in "\n\r\0"):
        raise ValueError("value must not contain newlines or NUL: %r" % (value,))
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return '"%s"' % escaped


def _normalise_files(files, workdir):
    """Map each file path to an absolute normalised path inside the image."""
    result = {}
    for path, content in (files or {}).items():
        if not path or path.endswith("/"):
            raise ValueError("invalid file path %r" % (path,))
        full = posixpath.normpath(posixpath.join(workdir, path))
        if not full.startswith("/") or full == "/":
            raise ValueError("invalid file path %r" % (path,))
        if isinstance(content, str):
            content = content.encode("utf-8")
        elif not isinstance(content, (bytes, bytearray)):
            raise TypeError("content of %r must be str or bytes" % (path,))
        result[full] = bytes(content)
    return result


def _render_dockerfile(workdir, cmd, entrypoint, env):
    lines = ["FROM scratch", "COPY rootfs/ /"]
    full_env = {"PATH": DEFAULT_PATH}
    full_env.update(env or {})
    for key in sorted(full_env):
        if not key or "=" in key or any(ch.isspace() for ch in key):
            raise ValueError("invalid environment variable name %r" % (key,))
        lines.append("ENV %s=%s" % (key, _dockerfile_quote(str(full_env[key]))))
    lines.append("WORKDIR %s" % _dockerfile_quote(workdir))
    if entrypoint is not None:
        lines.append("ENTRYPOINT %s" % json.dumps(list(entrypoint)))
    if cmd is not None:
        lines.append("CMD %s" % json.dumps(list(cmd)))
    return "\n".join(lines) + "\n"


def _add_dir(tar, name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o1777 if name.endswith("/tmp") else 0o755
    tar.addfile(info)


def _add_file(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _add_symlink(tar, name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    info.mode = 0o777
    tar.addfile(info)


def build_context(workdir="/app", files=None, cmd=None, entrypoint=None, env=None):
    """Return ``(tar_bytes, input_hash)`` of a build context for the given image description."""
    if not workdir.startswith("/"):
        raise ValueError("workdir must be absolute: %r" % (workdir,))
    workdir = posixpath.normpath(workdir)
    busybox = _busybox_bytes()
    applets = busybox_applets()
    image_files = _normalise_files(files, workdir)
    image_files.setdefault("/etc/passwd", _ETC_PASSWD.encode())
    image_files.setdefault("/etc/group", _ETC_GROUP.encode())
    dockerfile = _render_dockerfile(workdir, cmd, entrypoint, env)

    dirs = {"/bin", "/usr", "/etc", "/tmp", "/root", workdir}
    for path in image_files:
        parent = posixpath.dirname(path)
        while parent != "/":
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    for path in list(dirs):
        parent = posixpath.dirname(path)
        while parent != "/":
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    clash = dirs & set(image_files)
    if clash:
        raise ValueError("paths used both as file and directory: %s" % sorted(clash))

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add_file(tar, "Dockerfile", dockerfile.encode())
        _add_dir(tar, "rootfs")
        for path in sorted(dirs):
            _add_dir(tar, "rootfs" + path)
        _add_file(tar, "rootfs/bin/busybox", busybox, 0o755)
        for applet in applets:
            if "/bin/" + applet not in image_files:
                _add_symlink(tar, "rootfs/bin/" + applet, "busybox")
        for alias in ("/sbin", "/usr/bin", "/usr/sbin"):
            if alias not in dirs:
                _add_symlink(tar, "rootfs" + alias, "/bin")
        for path in sorted(image_files):
            data = image_files[path]
            mode = 0o755 if data.startswith(b"#!") else 0o644
            _add_file(tar, "rootfs" + path, data, mode)

    digest = hashlib.sha256()
    digest.update(json.dumps({
        "layout": _LAYOUT_VERSION,
        "dockerfile": dockerfile,
        "applets": applets,
        "busybox": hashlib.sha256(busybox).hexdigest(),
        "files": {path: hashlib.sha256(data).hexdigest() for path, data in image_files.items()},
    }, sort_keys=True).encode())
    return buf.getvalue(), digest.hexdigest()


def _existing_image(client, tag):
    import docker.errors  # imported lazily: the module must import without the SDK installed

    try:
        return client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None


def build_image(client, tag, files=None, workdir="/app", cmd=None, entrypoint=None, labels=None,
                env=None):
    """Build (or reuse) a busybox image tagged ``tag``; return the ``docker.models.images.Image``.

    ``files`` maps a path (relative to ``workdir``, or absolute) to its text (or bytes) content,
    e.g. ``{"Procfile": "web: httpd -f -p $PORT\\n", "DOKKU_SCALE": "web=1\\n"}``. Files whose
    content starts with ``#!`` are made executable. ``cmd`` and ``entrypoint`` are exec-form lists.
    ``env`` and ``labels`` are dicts. The image's PATH is ``/bin`` unless ``env`` sets it.

    The image is rebuilt only when no image with that tag carries the same input hash.
    """
    image, _built = _build_image(client, tag, files=files, workdir=workdir, cmd=cmd,
                                 entrypoint=entrypoint, labels=labels, env=env)
    return image


def _build_image(client, tag, files=None, workdir="/app", cmd=None, entrypoint=None, labels=None,
                 env=None):
    context, input_hash = build_context(workdir=workdir, files=files, cmd=cmd,
                                        entrypoint=entrypoint, env=env)
    all_labels = {str(k): str(v) for k, v in (labels or {}).items()}
    input_hash = hashlib.sha256(
        (input_hash + json.dumps(all_labels, sort_keys=True)).encode()
    ).hexdigest()
    all_labels[HASH_LABEL] = input_hash

    existing = _existing_image(client, tag)
    if existing is not None and (existing.labels or {}).get(HASH_LABEL) == input_hash:
        return existing, False
    image, _logs = client.images.build(
        fileobj=io.BytesIO(context),
        custom_context=True,
        tag=tag,
        labels=all_labels,
        rm=True,
        forcerm=True,
        pull=False,
    )
    return image, True


def build_standard_images(client, log=print):
    """Build (or reuse) ``BASE_IMAGE``, ``DEMO_IMAGE`` and ``PROXY_IMAGE``; return ``{tag: image}``."""
    specs = [
        (BASE_IMAGE, {"cmd": DEFAULT_CMD}),
        (DEMO_IMAGE, {"cmd": DEFAULT_CMD, "files": DEMO_FILES, "workdir": "/app"}),
        (PROXY_IMAGE, {"cmd": PROXY_WEB_COMMAND, "files": PROXY_FILES, "workdir": "/app", "env": {"PORT": "5000"}}),
    ]
    images = {}
    for tag, kwargs in specs:
        started = time.monotonic()
        image, built = _build_image(client, tag, **kwargs)
        log("images: %s %s (%s) in %.1fs" % (
            "built" if built else "reused", tag, image.short_id, time.monotonic() - started))
        images[tag] = image
    return images


def _container_ip(container):
    container.reload()
    for net in container.attrs["NetworkSettings"]["Networks"].values():
        if net.get("IPAddress"):
            return net["IPAddress"]
    raise RuntimeError("container %s has no IP address" % container.name)


def smoke_test(client, log=print):
    """Check that the images behave as the tests expect; raise AssertionError if not."""
    import urllib.request

    suffix = "%d-%d" % (int(time.time()), id(client) % 10000)
    base = client.containers.run(BASE_IMAGE, detach=True, init=True,
                                 name="dokku-ps-smoke-base-" + suffix)
    try:
        started = time.monotonic()
        base.stop(timeout=10)
        elapsed = time.monotonic() - started
        log("images: check: stop of %s with --init took %.2fs" % (BASE_IMAGE, elapsed))
        assert elapsed < 2.0, "stopping the base image took %.2fs" % elapsed
    finally:
        base.remove(force=True)

    web = client.containers.run(DEMO_IMAGE, ["httpd", "-f", "-p", "5000", "-h", "/app/www"],
                                detach=True, init=True, name="dokku-ps-smoke-web-" + suffix)
    try:
        url = "http://%s:5000/" % _container_ip(web)
        body = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None and "Hello from dokku-ps demo" in body, "httpd did not serve index"
        assert '<code id="container">%s</code>' % web.attrs["Config"]["Hostname"] in body, "no hostname: %s" % body
        log("images: check: httpd in %s serves %s" % (DEMO_IMAGE, url))
        started = time.monotonic()
        web.stop(timeout=10)
        log("images: check: stop of httpd took %.2fs" % (time.monotonic() - started))
    finally:
        web.remove(force=True)

    out = client.containers.run(DEMO_IMAGE, ["sh", "-c", "cat Procfile; pwd; id -u; echo $PATH"],
                                remove=True, init=True)
    text = out.decode()
    assert "web: httpd" in text and "/app" in text, text
    log("images: check: sh/cat/pwd/id work in %s" % DEMO_IMAGE)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--check", action="store_true",
                        help="also start containers to check that the images behave")
    args = parser.parse_args(argv)
    import docker

    client = docker.from_env()
    try:
        build_standard_images(client)
        if args.check:
            smoke_test(client)
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
