#!/usr/bin/env bash
# Installs what the benchmark needs besides the project's venv, from Debian's packages: docker-compose (compose
# v1 1.29 on bookworm, the compose contender) and wrk (the HTTP load generator of the proxy scenario).
# Idempotent: installs only what is missing; never pulls images (bench/run.py builds its own, with the SDK).
#
#   bash bench/setup.sh              both
#   bash bench/setup.sh wrk          only wrk (bench/run.py calls it so when the proxy scenario finds no wrk)
set -euo pipefail

wanted=("$@")
if [ "${#wanted[@]}" = 0 ]; then
    wanted=(docker-compose wrk)
fi

version() {
    case "$1" in
        docker-compose) docker-compose version --short 2>/dev/null || echo '?' ;;
        wrk) { wrk --version 2>/dev/null || true; } | head -1 | cut -d' ' -f1-2 ;;  # --version exits 1
    esac
}

missing=()
for tool in "${wanted[@]}"; do
    case "$tool" in
        docker-compose | wrk) ;;
        *)
            echo "setup: unknown tool ${tool} (docker-compose, wrk)" >&2
            exit 2
            ;;
    esac
    if command -v "$tool" >/dev/null 2>&1; then
        echo "setup: ${tool} present: $(version "$tool")"
    else
        missing+=("$tool")
    fi
done
if [ "${#missing[@]}" = 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: ${missing[*]} missing and apt-get is not usable here; the benchmark skips what needs them" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# the package names are the tools' names
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/bn-apt.log 2>&1; then
    apt-get update >>/tmp/bn-apt.log 2>&1 || true
    apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/bn-apt.log 2>&1 || {
        echo "setup: apt-get install ${missing[*]} failed (see /tmp/bn-apt.log); the benchmark skips what needs them" >&2
        exit 0
    }
fi
for tool in "${missing[@]}"; do
    echo "setup: installed ${tool} $(version "$tool")"
done
