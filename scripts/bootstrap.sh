#!/usr/bin/env bash
# Prepare everything the tests and the demo need. Idempotent, quiet, and fast when already done.
#
#   ./scripts/bootstrap.sh            run it (prints one line per step)
#   source scripts/bootstrap.sh       same, then the caller has the environment below
#
# Steps:
#   1. .venv (python3 -m venv) with requirements-dev.txt; skipped while the stamp file
#      .venv/.requirements-<sha256 of requirements-dev.txt> exists
#   2. scripts/ensure-docker.sh: a Docker daemon answering on /var/run/docker.sock, /bin/busybox
#   3. shellcheck (apt) for the shellcheck sanity test, and an offline pip bootstrap for
#      `ansible-test --venv` (it otherwise downloads get-pip.py from a host we cannot reach)
#   4. .build/collections/ansible_collections/dokku_ps/docker -> repository root (symlink)
#   5. the test/demo images (python -m tests.support.images)
#   6. nginx from Debian's packages (/usr/sbin/nginx) for the proxy tests, which run private instances of
#      it; installed only when missing, and the system's nginx service is never started (see step_nginx)
#   7. pebble 2.6 (pebble, pebble-challtestsrv: an ACME test server with ARI) from Debian trixie for the HTTPS
#      tests, which run private instances of it (tests/support/pebble.py): `apt-get install pebble/trixie`
#      through the trixie source pinned to priority 100 (scripts/trixie-source.sh, shared with docker.io);
#      installed only when missing or older than 2.6 (bookworm's 2.4 has no ARI); it starts no service
#   8. Debian's cron (/usr/sbin/cron) for the test of the tls_renewal role's cron entry, which runs a cron daemon
#      of its own (tests/integration/test_tls_renewal_role.py); installed only when missing, and the system's cron
#      service is never started (as for nginx, see step_cron)
#   9. Debian's docker-registry (/usr/bin/docker-registry, distribution 2.8) for the test of swarm services that
#      pull an app's image from a registry; the tests run private instances of it (tests/support/registry.py);
#      installed only when missing, and the system's registry service is never started (as for cron)
#
# requirements-dev.txt includes `acme` (certbot's ACME library, 5.x; it brings cryptography, josepy,
# pyOpenSSL and requests): the HTTPS tests drive pebble with it (tests/support/acme_flow.py).
#
# Exported afterwards (when sourced): DOKKU_PS_ROOT, VIRTUAL_ENV, PATH (.venv/bin first),
# ANSIBLE_COLLECTIONS_PATH.
#
# Environment knobs:
#   DOKKU_PS_SKIP_DOCKER=1   skip steps 2, 5, 6, 7 and 8 (no daemon, nginx, pebble or cron needed, e.g. unit
#                            tests or sanity only)
#   PYTHON=python3.11        the interpreter that creates .venv (default: python3)

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    # Sourced: do the work in a child process (so `set -e` never reaches an interactive shell),
    # then export the environment here.
    _dokku_ps_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
    if bash "${_dokku_ps_root}/scripts/bootstrap.sh"; then
        export DOKKU_PS_ROOT="$_dokku_ps_root"
        export VIRTUAL_ENV="${_dokku_ps_root}/.venv"
        case ":${PATH}:" in
            *":${VIRTUAL_ENV}/bin:"*) ;;
            *) export PATH="${VIRTUAL_ENV}/bin:${PATH}" ;;
        esac
        export ANSIBLE_COLLECTIONS_PATH="${_dokku_ps_root}/.build/collections"
        unset _dokku_ps_root
        return 0
    fi
    unset _dokku_ps_root
    return 1
fi

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly VENV="${ROOT}/.venv"
readonly LOG_DIR="${ROOT}/.build/logs"

say() { printf 'bootstrap: %s\n' "$*"; }
die() {
    printf 'bootstrap: ERROR: %s\n' "$*" >&2
    exit 1
}

# 1. Virtual environment.
step_venv() {
    local python reqs_hash stamp
    python="${PYTHON:-python3}"
    reqs_hash="$(sha256sum "${ROOT}/requirements-dev.txt" | cut -c1-16)"
    stamp="${VENV}/.requirements-${reqs_hash}"
    if [ -f "$stamp" ] && "${VENV}/bin/python" -c 'import sys' >/dev/null 2>&1; then
        say "venv: up to date (${VENV})"
        return 0
    fi
    if ! "${VENV}/bin/python" -c 'import sys' >/dev/null 2>&1; then
        command -v "$python" >/dev/null 2>&1 || die "${python} not found (set PYTHON=...)"
        rm -rf "$VENV"
        "$python" -m venv "$VENV" || die "could not create ${VENV} with ${python}"
    fi
    say "venv: installing requirements-dev.txt (log: ${LOG_DIR}/pip-install.log)"
    if ! {
        "${VENV}/bin/python" -m pip install -q --upgrade pip &&
            "${VENV}/bin/python" -m pip install -q -r "${ROOT}/requirements-dev.txt"
    } >"${LOG_DIR}/pip-install.log" 2>&1; then
        grep -v "^WARNING: Location" "${LOG_DIR}/pip-install.log" | tail -20 >&2
        die "pip install failed (full log: ${LOG_DIR}/pip-install.log)"
    fi
    rm -f "${VENV}"/.requirements-*
    touch "$stamp"
    say "venv: ready (ansible-core $("${VENV}/bin/python" -c 'from ansible.release import __version__ as v; print(v)'))"
}

# 2. Docker daemon and /bin/busybox.
step_docker() {
    if [ "${DOKKU_PS_SKIP_DOCKER:-0}" = "1" ]; then
        say "docker: skipped (DOKKU_PS_SKIP_DOCKER=1)"
        return 0
    fi
    "${ROOT}/scripts/ensure-docker.sh" | sed 's/^ensure-docker: /bootstrap: docker: /'
}

# 3. Tools for ansible-test sanity.
step_sanity_tools() {
    local log="${LOG_DIR}/apt-shellcheck.log"
    if command -v shellcheck >/dev/null 2>&1; then
        say "shellcheck: present"
    elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "shellcheck: installing (apt)"
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q shellcheck >"$log" 2>&1; then
            apt-get update -q >>"$log" 2>&1 || true
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q shellcheck >>"$log" 2>&1 ||
                die "could not install shellcheck (log: ${log})"
        fi
    else
        say "shellcheck: MISSING (install it; the shellcheck sanity test is skipped without it)"
    fi
    prepare_get_pip
}

# 4. The collection where Ansible looks for it.
step_collection_link() {
    local links="${ROOT}/.build/collections/ansible_collections/dokku_ps"
    mkdir -p "$links"
    if [ "$(readlink "${links}/docker" 2>/dev/null || true)" != "$ROOT" ]; then
        ln -sfn "$ROOT" "${links}/docker"
        say "collection: linked ${links}/docker -> ${ROOT}"
    else
        say "collection: ${links}/docker -> ${ROOT}"
    fi
}

# 5. The test/demo images.
step_images() {
    if [ "${DOKKU_PS_SKIP_DOCKER:-0}" = "1" ]; then
        return 0
    fi
    (cd "$ROOT" && "${VENV}/bin/python" -m tests.support.images) | sed 's/^images: /bootstrap: images: /' ||
        die "building the test images failed"
}

# 6. nginx for the proxy tests. They run their own nginx processes (own prefix, config, pid file and high
# ports, tests/support/nginx.py), never the system's service, so the package is installed without starting it:
# its postinst starts the service through invoke-rc.d (or deb-systemd-invoke), which asks /usr/sbin/policy-rc.d
# first; while the machine has none, a temporary one that answers 101 ("action forbidden") is in place for the
# install only. A policy-rc.d of the machine is left as it is; should the service have started anyway (it did
# not run before and its pid file names a live nginx now), that one nginx is stopped by the pid in its pid file.
readonly NGINX_BINARY=/usr/sbin/nginx
readonly NGINX_PIDFILE=/run/nginx.pid
readonly POLICY_RC=/usr/sbin/policy-rc.d

# apt-get install PACKAGE into LOG under a temporary policy-rc.d that forbids starting any service (a policy-rc.d of
# the machine is left as it is), trying again after an apt-get update; returns apt-get's status.
apt_install_no_service() {
    local package="$1" log="$2" ours=0 rc=0
    if [ ! -e "$POLICY_RC" ]; then
        printf '#!/bin/sh\n# dokku_ps bootstrap: no service starts during its apt-get install of %s\nexit 101\n' \
            "$package" >"$POLICY_RC"
        chmod 0755 "$POLICY_RC"
        ours=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >"$log" 2>&1; then
        apt-get update -q >>"$log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >>"$log" 2>&1 || rc=$?
    fi
    if [ "$ours" = 1 ]; then
        rm -f "$POLICY_RC"
    fi
    return "$rc"
}

step_nginx() {
    local log="${LOG_DIR}/apt-nginx.log" was_running=0 pid rc=0
    if [ "${DOKKU_PS_SKIP_DOCKER:-0}" = "1" ]; then
        return 0
    fi
    if [ -x "$NGINX_BINARY" ]; then
        say "nginx: present ($("$NGINX_BINARY" -v 2>&1 | sed 's/^nginx version: //'))"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "${NGINX_BINARY} is missing and cannot be installed here (needs root and apt-get: apt-get install nginx)"
    fi
    nginx_pid_alive && was_running=1
    say "nginx: installing (apt; the service is not started)"
    apt_install_no_service nginx "$log" || rc=$?
    [ "$rc" -eq 0 ] || die "could not install nginx (log: ${log})"
    [ -x "$NGINX_BINARY" ] || die "nginx installed but ${NGINX_BINARY} is missing (log: ${log})"
    if [ "$was_running" = 0 ] && nginx_pid_alive; then
        pid="$(cat "$NGINX_PIDFILE")"
        say "nginx: the package started the system nginx (pid ${pid}); stopping that one"
        kill -QUIT "$pid" || true
    fi
    say "nginx: installed ($("$NGINX_BINARY" -v 2>&1 | sed 's/^nginx version: //'))"
}

# True when the system nginx's pid file names a live nginx process.
nginx_pid_alive() {
    local pid
    [ -r "$NGINX_PIDFILE" ] || return 1
    pid="$(cat "$NGINX_PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ "$(cat "/proc/${pid}/comm" 2>/dev/null || true)" = "nginx" ]
}

# 7. pebble for the HTTPS tests: Debian trixie's 2.6 (the first with ARI, draft-ietf-acme-ari-03; it depends on
# libc6 alone). The package has no maintainer scripts: it installs two binaries and starts nothing. The tests run
# their own pebble processes on 127.0.0.1 high ports (tests/support/pebble.py).
readonly PEBBLE_BINARIES=(/usr/bin/pebble /usr/bin/pebble-challtestsrv)
readonly PEBBLE_MIN_VERSION=2.6

pebble_present() {
    local binary version
    for binary in "${PEBBLE_BINARIES[@]}"; do
        [ -x "$binary" ] || return 1
    done
    version="$(dpkg-query -W -f='${Version}' pebble 2>/dev/null || true)"
    [ -n "$version" ] && dpkg --compare-versions "$version" ge "$PEBBLE_MIN_VERSION"
}

step_pebble() {
    local log="${LOG_DIR}/apt-pebble.log"
    if [ "${DOKKU_PS_SKIP_DOCKER:-0}" = "1" ]; then
        return 0
    fi
    if pebble_present; then
        say "pebble: present ($(dpkg-query -W -f='${Version}' pebble))"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "pebble ${PEBBLE_MIN_VERSION} or newer is missing and cannot be installed here (needs root and apt-get: apt-get install pebble/trixie)"
    fi
    say "pebble: installing pebble/trixie (apt)"
    "${ROOT}/scripts/trixie-source.sh" >"$log" 2>&1 || die "could not add Debian trixie as an apt source (log: ${log})"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q pebble/trixie >>"$log" 2>&1; then
        apt-get update -q >>"$log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q pebble/trixie >>"$log" 2>&1 ||
            die "could not install pebble/trixie (log: ${log})"
    fi
    pebble_present || die "pebble/trixie installed but ${PEBBLE_BINARIES[*]} (${PEBBLE_MIN_VERSION}+) are missing (log: ${log})"
    say "pebble: installed ($(dpkg-query -W -f='${Version}' pebble))"
}

# 8. cron for the test of the tls_renewal role: it runs its own cron daemon (in a mount namespace of its own, where
# /etc/cron.d is a directory of the test), never the system's service. The package's postinst starts the service
# through invoke-rc.d, so the install runs with a temporary policy-rc.d that forbids it (as for nginx, step 6); a
# policy-rc.d of the machine is left as it is. Should the service have started anyway (no cron ran before and
# /run/crond.pid names a live cron now), that one daemon is stopped by the pid in its pid file.
readonly CRON_BINARY=/usr/sbin/cron
readonly CRON_PIDFILE=/run/crond.pid

step_cron() {
    local log="${LOG_DIR}/apt-cron.log" was_running=0 pid rc=0
    if [ "${DOKKU_PS_SKIP_DOCKER:-0}" = "1" ]; then
        return 0
    fi
    if [ -x "$CRON_BINARY" ]; then
        say "cron: present ($(dpkg-query -W -f='${Version}' cron 2>/dev/null || echo unknown))"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "${CRON_BINARY} is missing and cannot be installed here (needs root and apt-get: apt-get install cron)"
    fi
    cron_pid_alive && was_running=1
    say "cron: installing (apt; the service is not started)"
    apt_install_no_service cron "$log" || rc=$?
    [ "$rc" -eq 0 ] || die "could not install cron (log: ${log})"
    [ -x "$CRON_BINARY" ] || die "cron installed but ${CRON_BINARY} is missing (log: ${log})"
    if [ "$was_running" = 0 ] && cron_pid_alive; then
        pid="$(cat "$CRON_PIDFILE")"
        say "cron: the package started the system cron (pid ${pid}); stopping that one"
        kill -TERM "$pid" || true
    fi
    say "cron: installed ($(dpkg-query -W -f='${Version}' cron))"
}

# 9. docker-registry for the swarm test of images pulled from a registry (tests/support/registry.py runs private
# instances). Installed under a temporary policy-rc.d that forbids starting its service (a policy-rc.d of the
# machine is left as it is).
readonly REGISTRY_BINARY=/usr/bin/docker-registry

step_registry() {
    local log="${LOG_DIR}/apt-registry.log" rc=0
    if [ "${DOKKU_PS_SKIP_DOCKER:-0}" = "1" ]; then
        return 0
    fi
    if [ -x "$REGISTRY_BINARY" ]; then
        say "docker-registry: present ($(dpkg-query -W -f='${Version}' docker-registry 2>/dev/null || echo unknown))"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "${REGISTRY_BINARY} is missing and cannot be installed here (needs root and apt-get: apt-get install docker-registry)"
    fi
    say "docker-registry: installing (apt; the service is not started)"
    apt_install_no_service docker-registry "$log" || rc=$?
    [ "$rc" -eq 0 ] || die "could not install docker-registry (log: ${log})"
    [ -x "$REGISTRY_BINARY" ] || die "docker-registry installed but ${REGISTRY_BINARY} is missing (log: ${log})"
    say "docker-registry: installed ($(dpkg-query -W -f='${Version}' docker-registry))"
}

# True when the system cron's pid file names a live cron process.
cron_pid_alive() {
    local pid
    [ -r "$CRON_PIDFILE" ] || return 1
    pid="$(cat "$CRON_PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ "$(cat "/proc/${pid}/comm" 2>/dev/null || true)" = "cron" ]
}

# `ansible-test ... --venv` bootstraps pip in each virtualenv it creates with a get-pip.py that it
# downloads from a host outside the package registries. Provide it from the cache instead: a small
# stand-in that installs the pinned pip from a wheel fetched from PyPI with pip itself.
prepare_get_pip() {
    local at_dir version cache script wheel
    at_dir="$("${VENV}/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
    version="$(sed -n "s/^ *pip='\([0-9][0-9.]*\)',.*/\1/p" "${at_dir}/_internal/python_requirements.py" | head -1)"
    [ -n "$version" ] || version="24.2"
    cache="${HOME}/.ansible/test/cache"
    script="${cache}/get_pip_${version//./_}.py"
    wheel="${cache}/pip-${version}-py3-none-any.whl"
    if [ -f "$script" ] && { ! grep -q 'dokku_ps offline get-pip' "$script" || [ -f "$wheel" ]; }; then
        say "ansible-test: pip ${version} bootstrap cached"
        return 0
    fi
    mkdir -p "$cache"
    if [ ! -f "$wheel" ]; then
        "${VENV}/bin/python" -m pip download -q --no-deps --only-binary :all: -d "$cache" "pip==${version}" \
            >"${LOG_DIR}/pip-download.log" 2>&1 || {
            die "could not download pip ${version} (log: ${LOG_DIR}/pip-download.log)"
        }
    fi
    cat >"${script}.tmp" <<'EOF'
# dokku_ps offline get-pip: stand-in for get-pip.py written by scripts/bootstrap.sh.
# Installs pip from the wheel beside this file (downloaded from PyPI with pip).
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEELS = sorted(glob.glob(os.path.join(HERE, "pip-*-py3-none-any.whl")))
if not WHEELS:
    sys.exit("no pip wheel next to %s; rerun scripts/bootstrap.sh" % __file__)
sys.path.insert(0, WHEELS[-1])
from pip._internal.cli.main import main  # noqa: E402

ARGS = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", "--no-index", "--find-links", HERE] + ARGS))
EOF
    mv "${script}.tmp" "$script"
    say "ansible-test: pip ${version} bootstrap prepared (${script})"
}

main() {
    mkdir -p "$LOG_DIR"
    # Serialise concurrent bootstraps (e.g. test.sh and demo.sh started together).
    exec 9>"${ROOT}/.build/bootstrap.lock"
    flock 9
    step_venv
    step_docker
    step_sanity_tools
    step_collection_link
    step_images
    step_nginx
    step_pebble
    step_cron
    step_registry
}

main "$@"
