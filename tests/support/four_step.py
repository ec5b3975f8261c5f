"""The four-step pattern every state-changing feature is tested with.

1. check mode: predicts a change and changes nothing (Docker state and state files);
2. apply: changes, and does what check mode predicted;
3. check mode again: no change predicted;
4. apply again: ``changed: false``, the containers are exactly as after step 2, and so is the desired state
   recorded in the state store (``docker_state.desired_state``: a run may record how far it read the daemon's
   events, see ``docker_state.OBSERVATION_KEYS``; check mode records nothing at all).

``after_check(predicted)`` and ``after_apply(applied)``, when given, run right after step 1 and step 2 (before
the next step), for what a feature must also leave alone in check mode or must have done when applied
(e.g. the proxy's nginx config and its reloads).
"""

from __future__ import annotations

import json

from tests.support.docker_state import desired_state, snapshot, state_files
from tests.support.results import all_containers


def _did_something(value):
    """True when a containers report names any container."""
    if isinstance(value, dict):
        return any(_did_something(item) for item in value.values())
    if isinstance(value, list):
        return bool(value)
    return False


def four_step(runner, api, app, module, args, after_check=None, after_apply=None):
    """Returns the results of step 1 (prediction) and step 2 (apply), both run with diff."""
    before = snapshot(api, app)
    files = state_files(runner.state_dir)
    predicted = runner.module(module, args, check=True, diff=True)
    assert predicted["changed"] is True, "check mode predicted no change"
    assert snapshot(api, app) == before, "check mode changed containers"
    assert state_files(runner.state_dir) == files, "check mode changed the state store"
    if after_check is not None:
        after_check(predicted)
    applied = runner.module(module, args, diff=True)
    assert applied["changed"] is True
    assert all_containers(applied) == all_containers(predicted), "check mode mispredicted the containers"
    if after_apply is not None:
        after_apply(applied)
    after = snapshot(api, app)
    files = state_files(runner.state_dir)
    desired = desired_state(runner.state_dir)
    assert runner.module(module, args, check=True)["changed"] is False, "idempotent check predicted a change"
    assert state_files(runner.state_dir) == files, "the idempotent check changed the state store"
    final = runner.module(module, args)
    assert final["changed"] is False, "second apply changed something: %s" % json.dumps(final)[:3000]
    assert not _did_something(all_containers(final)), "second apply reports container work"
    assert snapshot(api, app) == after, "second apply touched containers"
    assert desired_state(runner.state_dir) == desired, "second apply rewrote the desired state"
    return predicted, applied
