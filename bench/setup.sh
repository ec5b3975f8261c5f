#!/usr/bin/env bash
# Installs what the benchmark needs besides the project's venv: Debian's docker-compose (compose v1 1.29 on
# bookworm). Idempotent; never pulls images (bench/run.py builds its own, with the SDK).
set -euo pipefail

if command -v docker-compose >/dev/null 2>&1; then
    echo "setup: docker-compose present: $(docker-compose version --short 2>/dev/null || echo '?')"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: docker-compose missing and apt-get is not usable here; the compose contender will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends docker-compose >/tmp/bn-apt.log 2>&1; then
    apt-get update >>/tmp/bn-apt.log 2>&1 || true
    apt-get install -y --no-install-recommends docker-compose >>/tmp/bn-apt.log 2>&1 || {
        echo "setup: apt-get install docker-compose failed (see /tmp/bn-apt.log); the compose contender will be skipped" >&2
        exit 0
    }
fi
echo "setup: installed docker-compose $(docker-compose version --short 2>/dev/null || echo '?')"
