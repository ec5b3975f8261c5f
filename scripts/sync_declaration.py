"""Write the app declaration and the shared result entries into every place that documents them.

    python3 scripts/sync_declaration.py           rewrite the generated blocks
    python3 scripts/sync_declaration.py --check   exit 1, naming the files, when a block differs

The app declaration (plugins/module_utils/_declaration.py) sits between ``# BEGIN app declaration`` and
``# END app declaration`` markers in dokku_ps_app's options, dokku_ps_fleet's ``apps`` suboptions, and the
``options`` of the app role's ``dokku_ps_app`` and the fleet role's ``dokku_ps_apps``.

The RETURN entries every module shares (plugins/module_utils/_result_docs.py: the app outcome's keys, the
summaries of several apps, ``proxy_changed``) sit between ``# BEGIN shared results`` and ``# END shared results``
markers at the top level of each module's RETURN, and between ``# BEGIN shared results of each app`` and
``# END shared results of each app`` markers under ``apps.contains`` where a module returns several apps.

tests/unit/plugins/module_utils/test_declaration.py runs the check.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "# BEGIN app declaration (generated from plugins/module_utils/_declaration.py by scripts/sync_declaration.py)"
END = "# END app declaration"
# the blocks of shared RETURN entries: the top level of RETURN, and each app's outcome under apps.contains
RESULTS = "shared results"
EACH_APP = "shared results of each app"


def _load(name):
    """A dependency-free file of plugins/module_utils, loaded by path (no ansible_collections needed)."""
    path = os.path.join(ROOT, "plugins", "module_utils", "%s.py" % name)
    spec = importlib.util.spec_from_file_location("dokku_ps%s" % name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _declaration():
    return _load("_declaration")


def _result_docs():
    return _load("_result_docs")


# file -> (where in the declaration, how an option is referenced there, indentation of the options, a role?)
TARGETS = {
    "plugins/modules/dokku_ps_app.py": ("app", lambda key: key, 2, False),
    "plugins/modules/dokku_ps_fleet.py": ("fleet", lambda key: "apps[].%s" % key, 6, False),
    "roles/app/meta/argument_specs.yml": ("fleet", lambda key: "dokku_ps_app.%s" % key, 10, True),
    "roles/fleet/meta/argument_specs.yml": ("fleet", lambda key: "dokku_ps_apps[].%s" % key, 10, True),
}

# module -> the ``returned`` of each group of shared entries at the top level of its RETURN (see
# _result_docs.entries; a group not named is not there), and whether its ``apps`` holds each app's outcome
RESULT_TARGETS = {
    "plugins/modules/dokku_ps_app.py": dict(outcome="always", document="when O(state=present)", proxy_changed=True),
    "plugins/modules/dokku_ps_certs.py": dict(outcome="when O(app) is given",
                                              summaries="when O(apps) or O(all) is given", proxy_changed=True,
                                              apps=True),
    "plugins/modules/dokku_ps_fleet.py": dict(summaries="always", proxy_changed=True, apps=True),
    "plugins/modules/dokku_ps_policy.py": dict(outcome="when O(global=false)", summaries="when O(global=true)",
                                               apps=True),
    "plugins/modules/dokku_ps_report.py": dict(outcome="when O(app) is given",
                                               summaries="when neither O(app) nor O(global) is given",
                                               proxy_changed=True, apps=True),
    "plugins/modules/dokku_ps_run.py": dict(outcome="always", document=False),
    "plugins/modules/dokku_ps_scale.py": dict(outcome="always", proxy_changed=True),
    "plugins/modules/dokku_ps_state.py": dict(outcome="when O(app) is given",
                                              summaries="when O(apps) or O(all) is given", proxy_changed=True,
                                              apps=True),
}
# modules that work on no app (the cluster, images): their RETURN has no shared entries
NO_APP_MODULES = ("plugins/modules/dokku_ps_image.py", "plugins/modules/dokku_ps_swarm.py",
                  "plugins/modules/dokku_ps_swarm_node.py")
# indentation of the blocks: the top level of RETURN, and under apps.contains
RESULTS_INDENT = 0
EACH_APP_INDENT = 4


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key, as the rest of the files write them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _render(entries, indent, begin, end):
    """The YAML of documented entries, indented, between its markers."""
    text = yaml.dump(entries, Dumper=_Dumper, sort_keys=False, width=110 - indent, default_flow_style=False,
                     allow_unicode=True)
    pad = " " * indent
    lines = [pad + begin] + [(pad + line) if line else line for line in text.splitlines()] + [pad + end]
    return "\n".join(lines) + "\n"


def render_block(where, reference, indent, role):
    """The YAML of the declaration's options for one place, indented, with its markers."""
    return _render(_declaration().documentation(where, reference, role), indent, BEGIN, END)


def results_markers(name):
    """The BEGIN and END markers of a block of shared RETURN entries (RESULTS or EACH_APP)."""
    return ("# BEGIN %s (generated from plugins/module_utils/_result_docs.py by scripts/sync_declaration.py)" % name,
            "# END %s" % name)


def render_results(path):
    """The blocks of shared entries of a module's RETURN: [(begin marker, end marker, text with its markers)]."""
    groups = dict(RESULT_TARGETS[path])
    nested = groups.pop("apps", False)
    docs = _result_docs()
    blocks = [(RESULTS, docs.entries(**groups), RESULTS_INDENT)]
    if nested:
        blocks.append((EACH_APP, docs.each_app(), EACH_APP_INDENT))
    rendered = []
    for name, entries, indent in blocks:
        begin, end = results_markers(name)
        rendered.append((begin, end, _render(entries, indent, begin, end)))
    return rendered


def _replace(path, text, begin, end, block):
    lines = text.splitlines(keepends=True)
    starts = [number for number, line in enumerate(lines) if line.strip() == begin]
    ends = [number for number, line in enumerate(lines) if line.strip() == end]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise SystemExit("%s: needs exactly one '%s' ... '%s' block" % (path, begin, end))
    return "".join(lines[:starts[0]]) + block + "".join(lines[ends[0] + 1:])


def targets():
    """Every file with generated blocks, sorted."""
    return sorted(set(TARGETS) | set(RESULT_TARGETS))


def synced(path):
    """(current text, text with its blocks regenerated) of a target file."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        text = handle.read()
    new = text
    if path in TARGETS:
        new = _replace(path, new, BEGIN, END, render_block(*TARGETS[path]))
    if path in RESULT_TARGETS:
        for begin, end, block in render_results(path):
            new = _replace(path, new, begin, end, block)
    return text, new


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report the files that differ")
    args = parser.parse_args(argv)
    differ = []
    for path in targets():
        text, new = synced(path)
        if text != new:
            differ.append(path)
            if not args.check:
                with open(os.path.join(ROOT, path), "w", encoding="utf-8") as handle:
                    handle.write(new)
    if args.check and differ:
        print("the generated blocks differ from plugins/module_utils/_declaration.py or _result_docs.py in: %s "
              "(run python3 scripts/sync_declaration.py)" % ", ".join(differ), file=sys.stderr)
        return 1
    for path in differ:
        print("rewrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
