#!/usr/bin/env bash
# Run the demo: bootstrap (venv, Docker daemon, images, collection link), then
# ansible-playbook playbooks/demo.yml against localhost. Extra arguments go to ansible-playbook,
# e.g. ./scripts/demo.sh -v   or   ./scripts/demo.sh --check
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly PLAYBOOK="${ROOT}/playbooks/demo.yml"

# shellcheck source=/dev/null
source "${ROOT}/scripts/bootstrap.sh"
cd "$ROOT"

if [ ! -f "$PLAYBOOK" ]; then
    printf 'demo.sh: %s does not exist yet\n' "$PLAYBOOK" >&2
    exit 1
fi

# The demo runs on localhost without an inventory file: keep Ansible quiet about that.
export ANSIBLE_LOCALHOST_WARNING="${ANSIBLE_LOCALHOST_WARNING:-False}"
export ANSIBLE_INVENTORY_UNPARSED_WARNING="${ANSIBLE_INVENTORY_UNPARSED_WARNING:-False}"
# The report at the end is a multi-line message: show it as YAML, not as one escaped JSON string.
export ANSIBLE_CALLBACK_RESULT_FORMAT="${ANSIBLE_CALLBACK_RESULT_FORMAT:-yaml}"

printf '\n==== ansible-playbook playbooks/demo.yml ====\n'
exec ansible-playbook "$PLAYBOOK" "$@"
