"""Foreign containers are never stopped or removed.

A container that sits on one of our names without our app label, one that carries our labels with a
DIFFERENT app name, and one on a temporary (``*.upcoming-*``) name: scale down, scale up, absent, stopped,
restarted, rebuilt and fleet prune leave all of them exactly as they were (same id, same state, same
restart policy). A run that needs such a name fails before changing anything and says what to do.
(tests/integration/test_bad_input.py covers a label-less container on web.2 with scale and absent.)
"""

from __future__ import annotations

from tests.support.bad_input import assert_refused, run_bad
from tests.support.docker_state import remove_app_containers, snapshot

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
# a short uptime check keeps replacements quick (the 10 s default is tested in test_rollouts.py)
QUICK = {"web": {"uptime": 1}, "worker": {"uptime": 1}}


def _foreign(api, image, name, labels=None):
    container = api.create_container(image, command=["sleep", "86400"], name=name, labels=labels or {},
                                     host_config=api.create_host_config(restart_policy={"Name": "always"}))
    api.start(container["Id"])
    return container["Id"]


def test_foreign_containers_survive_every_operation(runner, api, app_name, standard_images):
    app = app_name
    other = app_name + "-other"
    image = standard_images["base"]
    definition = {"name": app, "image": image, "processes": PROCESSES, "checks": QUICK}
    try:
        runner.modules([
            ("dokku_ps_app", definition),
            ("dokku_ps_scale", {"app": app, "scale": {"web": 2, "worker": 1}}),
        ])
        foreign = {
            # no labels at all, on a name we would use for web.4
            "%s.web.4" % app: _foreign(api, image, "%s.web.4" % app),
            # Dokku's labels, but another app's: on worker.3
            "%s.worker.3" % app: _foreign(api, image, "%s.worker.3" % app, {
                "dokku": "", "com.dokku.app-name": other, "com.dokku.process-type": "worker",
                "com.dokku.dyno": "worker.3", "com.dokku.container-type": "deploy"}),
            # a temporary name, not ours
            "%s.web.1.upcoming-0123abcd" % app: _foreign(api, image, "%s.web.1.upcoming-0123abcd" % app,
                                                         {"com.dokku.app-name": other}),
        }
        # our app label on a name that is not one of ours: not ours either (another app's name space)
        other_named = "%s.web.1" % other
        foreign[other_named] = _foreign(api, image, other_named, {"com.dokku.app-name": app,
                                                                  "com.dokku.process-type": "web"})

        def untouched():
            now = dict(snapshot(api, app))
            now.update(snapshot(api, other))
            return dict((name, now.get(name)) for name in foreign)

        expected = untouched()
        assert all(state[1] == "running" and state[2] == "always" for state in expected.values())

        # runs that need a foreign name: refused before any change, and the message says what to do
        ours_before = dict((name, state) for name, state in snapshot(api, app).items() if name not in foreign)
        cases = [
            ("dokku_ps_scale", {"app": app, "scale": {"web": 4}}, ["%s.web.4" % app]),
            ("dokku_ps_scale", {"app": app, "scale": {"worker": 3}}, ["%s.worker.3" % app, "app label: %s" % other]),
            ("dokku_ps_fleet", {"apps": [dict(definition, scale={"web": 5})]}, ["%s.web.4" % app]),
        ]
        cases = [(module, args, words + ["untouched", "rename or remove them"]) for module, args, words in cases]
        assert_refused(run_bad(runner, cases), cases)
        assert untouched() == expected
        current = dict((name, state) for name, state in snapshot(api, app).items() if name not in foreign)
        assert current == ours_before, "a refused run changed our containers"

        # runs that do not need those names work around them (one playbook; a stopped or removed foreign
        # container would show in the final comparison: they run with policy 'always' and a stop by the API is
        # a manual stop that Docker never undoes)
        steps = [
            ("dokku_ps_scale", {"app": app, "scale": {"web": 1, "worker": 0}}),
            ("dokku_ps_scale", {"app": app, "scale": {"web": 3, "worker": 2}}),
            ("dokku_ps_state", {"app": app, "state": "stopped"}),
            ("dokku_ps_state", {"app": app, "state": "started"}),
            ("dokku_ps_state", {"app": app, "state": "restarted"}),
            ("dokku_ps_state", {"app": app, "state": "rebuilt"}),
            ("dokku_ps_policy", {"app": app, "restart_policy": "no"}),
            ("dokku_ps_app", dict(definition, env={"NEW": "1"})),
        ]
        returncode, results, output = runner.tasks([{"dokku_ps.docker." + module: args} for module, args in steps])
        assert returncode == 0 and len(results) == len(steps), output[-3000:]
        assert untouched() == expected, "a run touched a foreign container"
        ours = sorted(name for name in snapshot(api, app) if name not in foreign)
        assert ours == sorted(["%s.web.1" % app, "%s.web.2" % app, "%s.web.3" % app,
                               "%s.worker.1" % app, "%s.worker.2" % app])

        # prune removes the app (ours only), then absent has nothing of ours left to remove
        pruned = runner.module("dokku_ps_fleet", {"apps": [], "prune": True})
        assert pruned["apps_pruned"] == [app]
        assert untouched() == expected
        assert sorted(snapshot(api, app)) == sorted(name for name in foreign if name.startswith(app + "."))
        runner.module("dokku_ps_app", {"name": app, "state": "absent"})
        assert untouched() == expected
    finally:
        remove_app_containers(api, other)
