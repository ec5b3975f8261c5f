#!/usr/bin/env bash
# Make Debian 13 (trixie) an apt source pinned to priority 100, for the few packages the tests take from it
# (docker.io and containerd: scripts/ensure-docker.sh; pebble: scripts/bootstrap.sh). With the pin, nothing
# else on the machine moves to trixie: a package comes from there only when asked for as `<package>/trixie`.
#
#   scripts/trixie-source.sh            the source and the pin; `apt-get update` only when either file changed
#   scripts/trixie-source.sh --update   the same, and `apt-get update` in any case
#
# Idempotent and quiet (one line when it changes something). Needs root on Debian; the mirror and keyring are
# the ones of the bookworm entry in /etc/apt/sources.list.d/debian.sources.
set -euo pipefail

readonly TRIXIE_SOURCES=/etc/apt/sources.list.d/dokku-ps-trixie.sources
readonly TRIXIE_PIN=/etc/apt/preferences.d/dokku-ps-trixie
readonly DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources

say() { printf 'trixie-source: %s\n' "$*"; }
die() {
    printf 'trixie-source: ERROR: %s\n' "$*" >&2
    exit 1
}

# Prints the URI of the main Debian archive from the bookworm sources file.
debian_uri() {
    [ -r "$DEBIAN_SOURCES" ] || die "$DEBIAN_SOURCES not found: cannot derive the Debian mirror for trixie"
    awk '
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print uri; exit } }
        /^$/ { uri = "" }
    ' "$DEBIAN_SOURCES"
}

# Writes $2 into the file $1 unless it already holds exactly that; true when it wrote.
write_if_changed() {
    local file="$1" content="$2"
    if [ -f "$file" ] && [ "$(cat "$file")" = "$content" ]; then
        return 1
    fi
    printf '%s\n' "$content" >"${file}.tmp"
    mv "${file}.tmp" "$file"
}

main() {
    local update=0 changed=0 uri keyring
    case "${1:-}" in
        --update) update=1 ;;
        "") ;;
        *) die "unknown argument: $1 (usage: trixie-source.sh [--update])" ;;
    esac
    [ "$(id -u)" -eq 0 ] || die "needs root"
    uri="$(debian_uri)"
    [ -n "$uri" ] || die "no 'Suites: bookworm' entry with a URI in ${DEBIAN_SOURCES}"
    keyring="$(awk '/^Signed-By:/ { print $2; exit }' "$DEBIAN_SOURCES")"
    keyring="${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}"

    if write_if_changed "$TRIXIE_SOURCES" "Types: deb
URIs: ${uri}
Suites: trixie
Components: main
Signed-By: ${keyring}"; then
        changed=1
    fi
    if write_if_changed "$TRIXIE_PIN" "Package: *
Pin: release n=trixie
Pin-Priority: 100"; then
        changed=1
    fi
    if [ "$changed" = 1 ]; then
        say "added Debian trixie as an apt source (pinned to priority 100)"
    fi
    if [ "$changed" = 1 ] || [ "$update" = 1 ]; then
        apt-get update -q >/dev/null || die "apt-get update failed"
    fi
}

main "$@"
