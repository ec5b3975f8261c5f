#!/usr/bin/env bash
# Make sure a Docker daemon answers on the local socket, and that /bin/busybox
# (static) exists for the test images.
#
# Idempotent: when a daemon already answers, only the busybox check runs.
# Otherwise, on Debian as root, it installs docker.io and containerd from
# Debian trixie (pinned to priority 100 so nothing else moves, by
# scripts/trixie-source.sh; bookworm's docker.io 20.10 deadlocks under
# concurrent stops), plus busybox-static,
# then starts dockerd in the background and waits for it to answer.
#
# Environment:
#   DOCKER_HOST            only unix:// is supported (default unix:///var/run/docker.sock)
#   DOKKU_PS_DOCKERD_WAIT  seconds to wait for the daemon (default 60)
set -euo pipefail

readonly DEFAULT_SOCK=/var/run/docker.sock
readonly PIDFILE=/var/run/dokku-ps-dockerd.pid
readonly LOGFILE=/var/log/dokku-ps-dockerd.log
readonly WAIT_SECONDS="${DOKKU_PS_DOCKERD_WAIT:-60}"

say() { printf 'ensure-docker: %s\n' "$*"; }
die() {
    printf 'ensure-docker: ERROR: %s\n' "$*" >&2
    exit 1
}

socket_path() {
    local host="${DOCKER_HOST:-unix://${DEFAULT_SOCK}}"
    case "$host" in
        unix://*) printf '%s\n' "${host#unix://}" ;;
        *) die "DOCKER_HOST=${host} is not a unix socket; this script only manages a local daemon (unset DOCKER_HOST or point it at unix://...)" ;;
    esac
}

SOCK="$(socket_path)"
readonly SOCK

# True when the daemon answers GET /_ping with OK.
ping_daemon() {
    [ -S "$SOCK" ] || return 1
    local answer
    answer="$(curl -fsS --max-time 3 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" || return 1
    [ "$answer" = "OK" ]
}

is_debian() {
    [ -r /etc/os-release ] && grep -qE '^(ID|ID_LIKE)=.*debian' /etc/os-release
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

ensure_busybox() {
    if [ -x /bin/busybox ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! is_debian; then
        die "/bin/busybox is missing; install a static busybox (Debian: apt-get install busybox-static) as root"
    fi
    say "installing busybox-static"
    if ! apt_install busybox-static >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt_install busybox-static >/dev/null
    fi
    [ -x /bin/busybox ] || die "busybox-static installed but /bin/busybox is still missing"
}

# True when an installed dockerd is version 26 or newer.
dockerd_recent() {
    command -v dockerd >/dev/null 2>&1 || return 1
    local version major
    version="$(dpkg-query -W -f='${Version}' docker.io 2>/dev/null || true)"
    version="${version#*:}"
    major="${version%%.*}"
    [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -ge 26 ]
}

install_docker() {
    say "adding Debian trixie (pinned to priority 100) for docker.io; apt-get update"
    "$(dirname "${BASH_SOURCE[0]}")/trixie-source.sh" --update | sed 's/^trixie-source: /ensure-docker: /' ||
        die "could not add Debian trixie as an apt source"
    say "installing docker.io/trixie containerd/trixie busybox-static (this takes a minute)"
    if ! apt_install docker.io/trixie containerd/trixie busybox-static >/tmp/dokku-ps-apt.log 2>&1; then
        tail -20 /tmp/dokku-ps-apt.log >&2
        die "apt-get install of docker.io failed (full log: /tmp/dokku-ps-apt.log)"
    fi
    command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is not on PATH"
}

# True when the dockerd we started earlier is still alive.
our_dockerd_alive() {
    [ -r "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -d "/proc/$pid" ] && grep -q dockerd "/proc/$pid/comm" 2>/dev/null
}

# Closes every descriptor above 2 of the calling (sub)shell: a daemon started from it must not keep
# the caller's descriptors, such as the bootstrap's lock, open for as long as it runs.
close_inherited_fds() {
    local fd
    for fd in /proc/self/fd/*; do
        fd="${fd##*/}"
        if [[ "$fd" =~ ^[0-9]+$ ]] && [ "$fd" -gt 2 ]; then
            eval "exec ${fd}>&-"
        fi
    done
}

start_dockerd() {
    if our_dockerd_alive; then
        say "dockerd (pid $(cat "$PIDFILE")) is already starting; waiting for it"
        return 0
    fi
    if [ "$SOCK" != "$DEFAULT_SOCK" ]; then
        die "no daemon answers on ${SOCK}; this script only starts one on ${DEFAULT_SOCK}"
    fi
    say "starting dockerd (log: ${LOGFILE})"
    mkdir -p "$(dirname "$LOGFILE")"
    # setsid: the daemon must outlive this script and the shell that ran it; it keeps none of their
    # descriptors (a bootstrap lock held by the daemon would block every later bootstrap).
    (
        close_inherited_fds
        exec setsid dockerd --pidfile "$PIDFILE" --host "unix://${SOCK}" </dev/null >>"$LOGFILE" 2>&1
    ) &
}

wait_for_daemon() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ping_daemon; then
            return 0
        fi
        sleep 0.5
    done
    tail -20 "$LOGFILE" >&2 2>/dev/null || true
    die "dockerd did not answer on ${SOCK} within ${WAIT_SECONDS}s (log: ${LOGFILE})"
}

main() {
    command -v curl >/dev/null 2>&1 || die "curl is required to ping the Docker socket"
    if ping_daemon; then
        ensure_busybox
        say "daemon answers on ${SOCK}"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        die "no Docker daemon answers on ${SOCK}, and installing/starting one needs root"
    fi
    if ! is_debian; then
        die "no Docker daemon answers on ${SOCK}; automatic installation is only supported on Debian"
    fi
    if ! dockerd_recent; then
        install_docker
    fi
    ensure_busybox
    start_dockerd
    wait_for_daemon
    say "daemon answers on ${SOCK}"
}

main "$@"
