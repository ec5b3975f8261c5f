#!/usr/bin/env bash
# Run the demo: bootstrap (venv, Docker daemon, images, collection link), start the demo's own nginx (when it
# does not run yet), make the demo's certificate (once), then ansible-playbook playbooks/demo.yml against
# localhost. Extra arguments go to ansible-playbook, e.g. ./scripts/demo.sh -v   or   ./scripts/demo.sh --check
#
# The demo nginx is Debian's /usr/sbin/nginx with everything of its own under .build/demo-nginx/ (prefix): the
# main config nginx.conf, the include directory dokku-ps/ (the collection writes one <app>.conf there), the pid
# file nginx.pid and logs/. It listens on 127.0.0.1 only, on the demo app's ports: http on DOKKU_PS_DEMO_PORT
# (default 8080) and https on DOKKU_PS_DEMO_HTTPS_PORT (default 8443, for the name demo.localhost). The system's
# nginx, its service and /etc/nginx are never touched. It keeps running after the demo (the app stays behind
# it); a later run reuses it, found by its pid file. Stop it with
#   kill -QUIT "$(cat .build/demo-nginx/nginx.pid)"
#
# The certificate of the https port comes from a CA of the demo's own, made once by scripts/demo_tls.py (the
# venv's cryptography) under .build/demo-tls/: ca.crt (what curl trusts), demo.localhost.crt and .key (what the
# app is given as https: provided). The CA's key is not kept. A later run keeps them while they are valid for 30
# more days. The demo ends with curl over https:
#   curl --cacert .build/demo-tls/ca.crt --resolve demo.localhost:8443:127.0.0.1 https://demo.localhost:8443/
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly PLAYBOOK="${ROOT}/playbooks/demo.yml"
readonly NGINX_BINARY=/usr/sbin/nginx
readonly NGINX_PREFIX="${ROOT}/.build/demo-nginx"
readonly NGINX_CONF="${NGINX_PREFIX}/nginx.conf"
readonly NGINX_PIDFILE="${NGINX_PREFIX}/nginx.pid"
readonly NGINX_INCLUDE_DIR="${NGINX_PREFIX}/dokku-ps"
readonly NGINX_LOG_DIR="${NGINX_PREFIX}/logs"
readonly DEMO_ADDRESS=127.0.0.1
readonly DEMO_PORT="${DOKKU_PS_DEMO_PORT:-8080}"
readonly DEMO_HTTPS_PORT="${DOKKU_PS_DEMO_HTTPS_PORT:-8443}"
readonly DEMO_DOMAIN=demo.localhost
readonly TLS_DIR="${ROOT}/.build/demo-tls"
readonly NGINX_WAIT_SECONDS=10

say() { printf 'demo: %s\n' "$*"; }
die() {
    printf 'demo: ERROR: %s\n' "$*" >&2
    exit 1
}

# shellcheck source=/dev/null
source "${ROOT}/scripts/bootstrap.sh"
cd "$ROOT"

if [ ! -f "$PLAYBOOK" ]; then
    printf 'demo.sh: %s does not exist yet\n' "$PLAYBOOK" >&2
    exit 1
fi
for port in "$DEMO_PORT" "$DEMO_HTTPS_PORT"; do
    if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
        die "a demo port must be a number from 1 to 65535, not '${port}'"
    fi
done
[ "$DEMO_PORT" != "$DEMO_HTTPS_PORT" ] ||
    die "DOKKU_PS_DEMO_PORT and DOKKU_PS_DEMO_HTTPS_PORT must differ (both are ${DEMO_PORT})"

# The main config of the demo nginx: every path under its prefix, the apps' configs included inside http {}.
nginx_main_conf() {
    cat <<EOF
# nginx of the dokku_ps demo, written by scripts/demo.sh. The apps' configs are in dokku-ps/ (written by the
# collection's modules); nothing here touches the system's nginx.
worker_processes 1;
pid ${NGINX_PIDFILE};
error_log ${NGINX_LOG_DIR}/error.log notice;
events {
    worker_connections 256;
}
http {
    access_log ${NGINX_LOG_DIR}/access.log;
    client_body_temp_path ${NGINX_PREFIX}/tmp/body;
    proxy_temp_path ${NGINX_PREFIX}/tmp/proxy;
    fastcgi_temp_path ${NGINX_PREFIX}/tmp/fastcgi;
    uwsgi_temp_path ${NGINX_PREFIX}/tmp/uwsgi;
    scgi_temp_path ${NGINX_PREFIX}/tmp/scgi;
    include ${NGINX_INCLUDE_DIR}/*.conf;
}
EOF
}

# Prints the pid of the demo nginx's master when it runs (its pid file names a live nginx started with our
# config), else nothing.
demo_nginx_pid() {
    local pid
    [ -r "$NGINX_PIDFILE" ] || return 0
    pid="$(cat "$NGINX_PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    [ "$(cat "/proc/${pid}/comm" 2>/dev/null || true)" = "nginx" ] || return 0
    tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF -- "-c ${NGINX_CONF}" || return 0
    printf '%s\n' "$pid"
}

# Closes every descriptor above 2 of the calling (sub)shell, as scripts/ensure-docker.sh does: nginx outlives
# this script and must keep none of its descriptors (the start lock below, a caller's pipe).
close_inherited_fds() {
    local fd
    for fd in /proc/self/fd/*; do
        fd="${fd##*/}"
        if [[ "$fd" =~ ^[0-9]+$ ]] && [ "$fd" -gt 2 ]; then
            eval "exec ${fd}>&-"
        fi
    done
}

start_demo_nginx() {
    local pid deadline wanted
    [ -x "$NGINX_BINARY" ] || die "${NGINX_BINARY} is missing (scripts/bootstrap.sh installs it)"
    mkdir -p "$NGINX_INCLUDE_DIR" "$NGINX_LOG_DIR" "${NGINX_PREFIX}/tmp"
    chmod 0755 "$NGINX_PREFIX" "$NGINX_INCLUDE_DIR"
    # one demo.sh at a time decides whether to start nginx
    exec 8>"${NGINX_PREFIX}/.start.lock"
    flock -w 60 8 || die "another demo.sh holds ${NGINX_PREFIX}/.start.lock"
    wanted="$(nginx_main_conf)"
    pid="$(demo_nginx_pid)"
    if [ -n "$pid" ]; then
        if [ "$(cat "$NGINX_CONF")" != "$wanted" ]; then
            printf '%s\n' "$wanted" >"$NGINX_CONF"
            "$NGINX_BINARY" -p "$NGINX_PREFIX" -c "$NGINX_CONF" -t -q || die "nginx -t of ${NGINX_CONF} failed"
            "$NGINX_BINARY" -p "$NGINX_PREFIX" -c "$NGINX_CONF" -s reload
            say "nginx: reloaded the demo nginx (pid ${pid}) with its new main config"
        else
            say "nginx: the demo nginx runs (pid ${pid}, prefix ${NGINX_PREFIX#"${ROOT}/"}): reused"
        fi
        exec 8>&-
        return 0
    fi
    if ss -Hltn "( sport = :${DEMO_PORT} )" | grep -q .; then
        die "something else listens on port ${DEMO_PORT}: choose another with DOKKU_PS_DEMO_PORT=<port>"
    fi
    if ss -Hltn "( sport = :${DEMO_HTTPS_PORT} )" | grep -q .; then
        die "something else listens on port ${DEMO_HTTPS_PORT}: choose another with DOKKU_PS_DEMO_HTTPS_PORT=<port>"
    fi
    printf '%s\n' "$wanted" >"$NGINX_CONF"
    rm -f "$NGINX_PIDFILE"
    "$NGINX_BINARY" -p "$NGINX_PREFIX" -c "$NGINX_CONF" -t -q || die "nginx -t of ${NGINX_CONF} failed"
    # nginx puts itself in the background (its master calls setsid); it keeps none of our descriptors
    (
        close_inherited_fds
        exec "$NGINX_BINARY" -p "$NGINX_PREFIX" -c "$NGINX_CONF" -e "${NGINX_LOG_DIR}/error.log"
    ) </dev/null >>"${NGINX_LOG_DIR}/start.log" 2>&1 || die "nginx did not start (see ${NGINX_LOG_DIR}/error.log)"
    deadline=$((SECONDS + NGINX_WAIT_SECONDS))
    until pid="$(demo_nginx_pid)" && [ -n "$pid" ]; do
        [ "$SECONDS" -lt "$deadline" ] || die "the demo nginx wrote no pid file within ${NGINX_WAIT_SECONDS}s (see ${NGINX_LOG_DIR}/error.log)"
        sleep 0.1
    done
    exec 8>&-
    say "nginx: started the demo nginx (pid ${pid}, prefix ${NGINX_PREFIX#"${ROOT}/"})"
}

# curl shows the https calls at the end of the playbook; a minimal Debian has none.
ensure_curl() {
    local log="${ROOT}/.build/logs/apt-curl.log"
    if command -v curl >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "curl is missing and cannot be installed here (needs root and apt-get: apt-get install curl)"
    fi
    say "curl: installing Debian's package (log: ${log#"${ROOT}/"})"
    mkdir -p "$(dirname "$log")"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl >"$log" 2>&1; then
        apt-get update >>"$log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl >>"$log" 2>&1 ||
            die "apt-get install curl failed (see ${log})"
    fi
}

# The demo CA and the certificate of the demo's domain (kept while they fit, see scripts/demo_tls.py).
make_demo_certificate() {
    local said
    said="$("${VIRTUAL_ENV}/bin/python" "${ROOT}/scripts/demo_tls.py" "$TLS_DIR" "$DEMO_DOMAIN")" ||
        die "scripts/demo_tls.py could not make the demo's certificate in ${TLS_DIR}"
    say "tls: ${said}"
}

start_demo_nginx
say "nginx: the demo app answers through it on http://${DEMO_ADDRESS}:${DEMO_PORT}/ and https://${DEMO_DOMAIN}:${DEMO_HTTPS_PORT}/ (listens on ${DEMO_ADDRESS} only)"
ensure_curl
make_demo_certificate

# The demo runs on localhost without an inventory file: keep Ansible quiet about that.
export ANSIBLE_LOCALHOST_WARNING="${ANSIBLE_LOCALHOST_WARNING:-False}"
export ANSIBLE_INVENTORY_UNPARSED_WARNING="${ANSIBLE_INVENTORY_UNPARSED_WARNING:-False}"
# The report at the end is a multi-line message: show it as YAML, not as one escaped JSON string.
export ANSIBLE_CALLBACK_RESULT_FORMAT="${ANSIBLE_CALLBACK_RESULT_FORMAT:-yaml}"

printf '\n==== ansible-playbook playbooks/demo.yml ====\n'
exec ansible-playbook "$PLAYBOOK" -e "demo_nginx_prefix=${NGINX_PREFIX}" -e "demo_proxy_address=${DEMO_ADDRESS}" \
    -e "demo_proxy_port=${DEMO_PORT}" -e "demo_https_port=${DEMO_HTTPS_PORT}" -e "demo_domain=${DEMO_DOMAIN}" \
    -e "demo_tls_dir=${TLS_DIR}" "$@"
