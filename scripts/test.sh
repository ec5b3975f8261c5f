#!/usr/bin/env bash
# Run every test of the collection: the one command for developers and CI.
#
#   ./scripts/test.sh                        all stages: unit sanity docs integration
#   ./scripts/test.sh unit                   only some stages, in the order given
#   ./scripts/test.sh integration -- -k scale   extra arguments after -- go to pytest
#
# Stages:
#   unit         pytest tests/unit
#   sanity       ansible-test sanity --venv on a fresh copy of the tree in .build/sanity, and
#                ansible-doc for every module (a broken DOCUMENTATION fails the run), and
#                ansible-lint (production profile) on playbooks/ and roles/, and
#                galaxy-importer on the tarball built from that copy (.build/galaxy/; any warning fails), and
#                antsibull-docs lint-collection-docs (modules, roles, extra docs)
#   docs         the documentation site (antsibull-docs + Sphinx): every module, role and guide page
#                (docs/*.md), in .build/docs/build/html/index.html; any warning fails the stage, and so
#                does a picture a page links that is missing (the benchmark's charts)
#   integration  pytest tests/integration (needs the Docker daemon; bootstrap starts one), on three
#                pytest-xdist workers (DOKKU_PS_TEST_WORKERS, 0 for one process)
#
# Every stage runs even when an earlier one failed; the summary at the end lists them all and the
# exit status is non-zero when any failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly ALL_STAGES=(unit sanity docs integration)

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

stages=()
pytest_args=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --)
            shift
            pytest_args=("$@")
            break
            ;;
        unit | sanity | docs | integration) stages+=("$1") ;;
        *)
            printf 'test.sh: unknown stage %q (stages: %s)\n' "$1" "${ALL_STAGES[*]}" >&2
            exit 2
            ;;
    esac
    shift
done
[ "${#stages[@]}" -gt 0 ] || stages=("${ALL_STAGES[@]}")

needs_docker=0
for stage in "${stages[@]}"; do
    [ "$stage" = integration ] && needs_docker=1
done

banner() { printf '\n==== %s ====\n' "$*"; }

banner "bootstrap"
started=$SECONDS
if [ "$needs_docker" = 0 ]; then
    export DOKKU_PS_SKIP_DOCKER="${DOKKU_PS_SKIP_DOCKER:-1}"
fi
# shellcheck source=/dev/null
source "${ROOT}/scripts/bootstrap.sh"
printf 'bootstrap: done in %ds\n' "$((SECONDS - started))"
cd "$ROOT"

# True when the directory holds pytest test files.
has_tests() {
    [ -d "$1" ] && [ -n "$(find "$1" -type f \( -name 'test_*.py' -o -name '*_test.py' \) -print -quit)" ]
}

# Runs pytest on a directory; exit status 5 (no tests collected) counts as a pass only when the
# directory holds no test file yet, or when arguments given after -- deselected everything.
run_pytest() {
    local dir="$1" rc=0
    shift
    if ! has_tests "$dir"; then
        printf 'no test files under %s yet: nothing to run\n' "$dir"
        return 0
    fi
    python -m pytest "$dir" "$@" ${pytest_args[@]+"${pytest_args[@]}"} || rc=$?
    if [ "$rc" -eq 5 ]; then
        if [ "${#pytest_args[@]}" -gt 0 ]; then
            printf 'the pytest arguments selected no test under %s\n' "$dir"
            return 0
        fi
        printf 'pytest collected no test from %s although it holds test files\n' "$dir" >&2
    fi
    return "$rc"
}

stage_unit() {
    run_pytest tests/unit
}

# Three pytest workers (pytest-xdist, one test file per worker at a time, so module-scoped private daemons
# are started once) keep two CPUs about 85% busy, most of it ansible-playbook and the modules' Python
# starting: the CPUs, not the workers, are the limit. 212 tests took 20.5 minutes (2026-12-06).
# DOKKU_PS_TEST_WORKERS=0 runs them in one process.
stage_integration() {
    local workers="${DOKKU_PS_TEST_WORKERS:-3}"
    if [ "$workers" = 0 ] || [ "$workers" = 1 ]; then
        run_pytest tests/integration
    else
        run_pytest tests/integration -n "$workers" --dist loadfile --durations=15
    fi
}

# ansible-test needs the tree at a real path ending in ansible_collections/<namespace>/<name> (a
# symlink does not do: it resolves the working directory), so test a fresh copy of the files git
# knows about (tracked, plus untracked files that are not ignored).
prepare_sanity_copy() {
    local dest="$1" file
    rm -rf "${ROOT}/.build/sanity"
    mkdir -p "$dest"
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' file; do
            # Tracked files deleted in the work tree are still listed: skip them.
            if [ -e "$file" ] || [ -L "$file" ]; then
                printf '%s\0' "$file"
            fi
        done |
        tar -C "$ROOT" --null -T - -cf - | tar -C "$dest" -xf -
    # The copy lies inside this repository's work tree, where .build/ is ignored: without a
    # repository of its own, ansible-test would ask the outer git for the file list and find
    # nothing ("All targets skipped"). Its own repository lists every copied file as untracked.
    git -C "$dest" init -q
}

stage_sanity() {
    local dest="${ROOT}/.build/sanity/ansible_collections/dokku_ps/docker" pyver rc=0 module name ignores
    local lint_targets path
    # Findings are fixed, never silenced: tests/sanity/ holds no ignore or skip files.
    ignores="$(find tests/sanity -maxdepth 1 -type f \( -name 'ignore-*.txt' -o -name 'skip-*.txt' \) 2>/dev/null || true)"
    if [ -n "$ignores" ]; then
        printf 'sanity ignore/skip files are not allowed here: %s\n' "$ignores" >&2
        rc=1
    fi
    prepare_sanity_copy "$dest"
    pyver="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    printf 'ansible-test sanity --venv --python %s in %s\n' "$pyver" "$dest"
    (cd "$dest" && ansible-test sanity --venv --python "$pyver" --color no) || rc=$?

    printf '\nansible-doc for every module\n'
    for module in plugins/modules/*.py; do
        [ -e "$module" ] || continue
        name="$(basename "$module" .py)"
        [ "$name" = "__init__" ] && continue
        if ansible-doc -t module "dokku_ps.docker.${name}" >/dev/null 2>"${ROOT}/.build/logs/ansible-doc.err" &&
            ! grep -q '\[ERROR\]\|\[WARNING\]' "${ROOT}/.build/logs/ansible-doc.err"; then
            printf '  ok      dokku_ps.docker.%s\n' "$name"
        else
            printf '  FAILED  dokku_ps.docker.%s\n' "$name"
            sed 's/^/          /' "${ROOT}/.build/logs/ansible-doc.err"
            rc=1
        fi
    done

    lint_targets=()
    for path in playbooks roles; do
        [ -d "$path" ] && lint_targets+=("$path")
    done
    if [ "${#lint_targets[@]}" -gt 0 ]; then
        printf '
ansible-lint --profile production %s\n' "${lint_targets[*]}"
        ansible-lint --offline --profile production --nocolor "${lint_targets[@]}" || rc=$?
    fi

    galaxy_import "$dest" || rc=$?
    lint_collection_docs || rc=$?
    return "$rc"
}

# Builds the collection tarball from the sanity copy (the files git knows, nothing ignored) into
# .build/galaxy/ and runs galaxy-importer on it, the validator Galaxy and Automation Hub run on every
# upload. Configured by scripts/galaxy-importer.cfg: offline, no container engine, no ansible-test (the
# stage runs that itself), ansible-lint with Galaxy's own rule selection. galaxy-importer exits 0 even when
# it found problems it only logs: every line it logs as WARNING, ERROR or CRITICAL fails the step (missing
# role metadata, lint findings, a missing changelog are all warnings).
galaxy_import() {
    local src="$1" out="${ROOT}/.build/galaxy" tarball rc=0
    printf '\nansible-galaxy collection build, galaxy-importer\n'
    rm -rf "$out"
    mkdir -p "${out}/importer/tmp" "${out}/importer/ansible-tmp"
    if ! (cd "$src" && ansible-galaxy collection build --force --output-path "$out") \
        >"${out}/build.log" 2>&1; then
        cat "${out}/build.log" >&2
        return 1
    fi
    tarball="$(find "$out" -maxdepth 1 -name '*.tar.gz' -print -quit)"
    printf '  built %s\n' "${tarball#"${ROOT}/"}"
    (
        cd "${out}/importer" &&
            GALAXY_IMPORTER_CONFIG="${ROOT}/scripts/galaxy-importer.cfg" \
                GALAXY_IMPORTER_TMP_ROOT_DIR="${out}/importer/tmp" \
                GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP="${out}/importer/ansible-tmp" \
                python -m galaxy_importer.main "$tarball"
    ) >"${out}/importer.log" 2>&1 || rc=$?
    # Its log: INFO lines bare, every other level as "LEVEL: message".
    grep -v '^Loading ' "${out}/importer.log" | sed 's/^/  /'
    if [ "$rc" -ne 0 ]; then
        printf 'galaxy-importer failed (exit status %d; log: %s)\n' "$rc" "${out}/importer.log" >&2
        return 1
    fi
    if grep -qE '^(WARNING|ERROR|CRITICAL): ' "${out}/importer.log"; then
        printf 'galaxy-importer reported warnings or errors (log: %s)\n' "${out}/importer.log" >&2
        return 1
    fi
}

# antsibull-docs' linter on the collection as Ansible finds it (the link bootstrap makes under
# .build/collections): the markup and references of every module's and role's documentation, and the
# extra docs (docs/docsite/) with the references they make.
lint_collection_docs() {
    printf '\nantsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs\n'
    if antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
        "${ROOT}/.build/collections/ansible_collections/dokku_ps/docker"; then
        printf '  no findings\n'
    else
        return 1
    fi
}

# A string as a Python literal.
py_str() {
    python -c 'import sys; print(repr(sys.argv[1]))' "$1"
}

# The documentation site, built from the collection as Ansible finds it (the link under .build/collections)
# the way collections publish theirs: `antsibull-docs sphinx-init` writes a Sphinx project (conf.py,
# build.sh) into .build/docs, and its build.sh renders the collection to reStructuredText with
# antsibull-docs (--fail-on-error) and runs sphinx-build -W --keep-going (every warning is an error).
# One collection, so one flat site (--squash-hierarchy): the collection's page is the start page. conf.py
# gets the site's extension (scripts/docsite/dokku_ps_docsite.py): the guide pages docs/*.md through
# myst-parser, and no network (intersphinx off; the Ansible docsite labels antsibull-docs' pages use become
# plain links). A picture a guide page links (the benchmark's charts, docs/images/bench/) must exist, and every
# picture of the built pages must be in the site: the stage fails otherwise, naming it.
stage_docs() {
    local dest="${ROOT}/.build/docs" rc=0
    local collection="${ROOT}/.build/collections/ansible_collections/dokku_ps/docker"
    local docsite="${ROOT}/scripts/docsite/dokku_ps_docsite.py"
    printf 'pictures the guide pages link (docs/*.md)\n'
    if ! python "$docsite" check-images "${collection}/docs"; then
        printf 'a guide page links a picture that does not exist (the charts: .venv/bin/python bench/charts.py)\n' >&2
        return 1
    fi
    rm -rf "$dest"
    # antsibull-docs refuses a directory that others may write to
    mkdir -p "$dest"
    chmod 0755 "$dest"
    antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error \
        --project dokku_ps.docker --copyright 'dokku_ps contributors' --title dokku_ps.docker \
        --dest-dir "$dest" dokku_ps.docker >"${ROOT}/.build/logs/docs-sphinx-init.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "${ROOT}/.build/logs/docs-sphinx-init.log" >&2
        return "$rc"
    fi
    {
        printf '\n# Added by scripts/test.sh (docs stage): the extension of this site and the guide pages.\n'
        printf 'import sys\n'
        printf 'sys.path.insert(0, %s)\n' "$(py_str "${ROOT}/scripts/docsite")"
        printf "extensions.append('dokku_ps_docsite')\n"
        printf 'dokku_ps_guide_dir = %s\n' "$(py_str "${collection}/docs")"
    } >>"${dest}/conf.py"
    # myst-parser prints its whole configuration on every build: left out of the output, kept in the log.
    "${dest}/build.sh" 2>&1 | tee "${ROOT}/.build/logs/docs-build.log" | grep -v '^myst v[0-9.]*: MdParserConfig(' ||
        rc=$?
    # Sphinx fails on its warnings itself (-W); this also catches what antsibull-docs only logs.
    if [ "$rc" -eq 0 ] && grep -qE '\b(WARNING|ERROR|CRITICAL)\b' "${ROOT}/.build/logs/docs-build.log"; then
        printf 'the docs build logged warnings or errors (log: %s)\n' "${ROOT}/.build/logs/docs-build.log" >&2
        rc=1
    fi
    if [ "$rc" -eq 0 ] && ! python "$docsite" check-html "${dest}/build/html"; then
        printf 'a page of the docs site shows a picture the site does not have\n' >&2
        rc=1
    fi
    [ "$rc" -eq 0 ] && printf 'docs site: %s\n' "${dest}/build/html/index.html"
    return "$rc"
}

results=()
failed=0
for stage in "${stages[@]}"; do
    banner "$stage"
    started=$SECONDS
    rc=0
    "stage_${stage}" || rc=$?
    elapsed=$((SECONDS - started))
    if [ "$rc" -eq 0 ]; then
        results+=("$(printf '  %-12s PASS  %4ds' "$stage" "$elapsed")")
    else
        results+=("$(printf '  %-12s FAIL  %4ds  (exit status %d)' "$stage" "$elapsed" "$rc")")
        failed=1
    fi
done

banner "summary"
printf '%s\n' "${results[@]}"
if [ "$failed" -ne 0 ]; then
    printf 'test.sh: FAILED\n'
    exit 1
fi
printf 'test.sh: all stages passed\n'
