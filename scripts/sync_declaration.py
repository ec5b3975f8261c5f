"""Write the app declaration (plugins/module_utils/_declaration.py) into every place that documents it.

    python3 scripts/sync_declaration.py           rewrite the generated blocks
    python3 scripts/sync_declaration.py --check   exit 1, naming the files, when a block differs

The generated blocks sit between ``# BEGIN app declaration`` and ``# END app declaration`` markers in
dokku_ps_app's options, dokku_ps_fleet's ``apps`` suboptions, and the ``options`` of the app role's
``dokku_ps_app`` and the fleet role's ``dokku_ps_apps``. tests/unit/plugins/module_utils/test_declaration.py
runs the check.
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


def _declaration():
    path = os.path.join(ROOT, "plugins", "module_utils", "_declaration.py")
    spec = importlib.util.spec_from_file_location("dokku_ps_declaration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# file -> (where in the declaration, how an option is referenced there, indentation of the options, a role?)
TARGETS = {
    "plugins/modules/dokku_ps_app.py": ("app", lambda key: key, 2, False),
    "plugins/modules/dokku_ps_fleet.py": ("fleet", lambda key: "apps[].%s" % key, 6, False),
    "roles/app/meta/argument_specs.yml": ("fleet", lambda key: "dokku_ps_app.%s" % key, 10, True),
    "roles/fleet/meta/argument_specs.yml": ("fleet", lambda key: "dokku_ps_apps[].%s" % key, 10, True),
}


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key, as the rest of the files write them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def render_block(where, reference, indent, role):
    """The YAML of the declaration's options for one place, indented, with its markers."""
    options = _declaration().documentation(where, reference, role)
    text = yaml.dump(options, Dumper=_Dumper, sort_keys=False, width=110 - indent, default_flow_style=False,
                     allow_unicode=True)
    pad = " " * indent
    lines = [pad + BEGIN] + [(pad + line) if line else line for line in text.splitlines()] + [pad + END]
    return "\n".join(lines) + "\n"


def synced(path):
    """(current text, text with its block regenerated) of a target file."""
    where, reference, indent, role = TARGETS[path]
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        text = handle.read()
    lines = text.splitlines(keepends=True)
    starts = [number for number, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [number for number, line in enumerate(lines) if line.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise SystemExit("%s: needs exactly one '%s' ... '%s' block" % (path, BEGIN, END))
    new = "".join(lines[:starts[0]]) + render_block(where, reference, indent, role) + "".join(lines[ends[0] + 1:])
    return text, new


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report the files that differ")
    args = parser.parse_args(argv)
    differ = []
    for path in sorted(TARGETS):
        text, new = synced(path)
        if text != new:
            differ.append(path)
            if not args.check:
                with open(os.path.join(ROOT, path), "w", encoding="utf-8") as handle:
                    handle.write(new)
    if args.check and differ:
        print("the app declaration differs from plugins/module_utils/_declaration.py in: %s "
              "(run python3 scripts/sync_declaration.py)" % ", ".join(differ), file=sys.stderr)
        return 1
    for path in differ:
        print("rewrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
