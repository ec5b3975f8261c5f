"""Run bad inputs through the modules in one playbook and check each is refused properly."""

from __future__ import annotations

import json


def run_bad(runner, cases, **kwargs):
    """Run each (module, args) as its own task in one playbook; return the results in order."""
    tasks = [{"name": "case %d" % number, "dokku_ps.docker." + module: args, "ignore_errors": True}
             for number, (module, args, _words) in enumerate(cases)]
    _rc, results, output = runner.tasks(tasks, **kwargs)
    assert len(results) == len(cases), output[-3000:]
    return results


def assert_refused(results, cases):
    problems = []
    for entry, (module, args, words) in zip(results, cases):
        msg = entry["result"].get("msg", "")
        if entry["status"] != "failed":
            problems.append("%s %s was accepted" % (module, json.dumps(args)))
        elif "\n" in msg or "Traceback" in msg or "exception" in entry["result"] and "Traceback" in str(
                entry["result"]["exception"]):
            problems.append("%s %s: not a one-line error: %r" % (module, json.dumps(args), msg))
        else:
            for word in words:
                if word not in msg:
                    problems.append("%s %s: %r does not mention %r" % (module, json.dumps(args), msg, word))
    assert not problems, "\n".join(problems)
