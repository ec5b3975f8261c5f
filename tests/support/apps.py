"""Apps the integration tests deploy again and again: web and worker processes that sleep, short checks."""

from __future__ import annotations

PROCESSES = {"web": "sleep 86400", "worker": "sleep 86400"}
# a short uptime check keeps replacements quick (the 10 s default is tested in test_rollouts.py)
QUICK = {"web": {"uptime": 1}, "worker": {"uptime": 1}}
# the computed restart policy of an app nobody set one for, as Docker reports it
DEFAULT_POLICY = {"Name": "on-failure", "MaximumRetryCount": 10}


def deploy(runner, app, image, web=2, worker=1, processes=None, checks=None):
    """Define and deploy ``app``, then scale it (two tasks of one playbook); returns the dokku_ps_app arguments (to
    run them again)."""
    args = {"name": app, "image": image, "processes": processes or PROCESSES, "checks": checks or QUICK}
    runner.modules([("dokku_ps_app", args), ("dokku_ps_scale", {"app": app, "scale": {"web": web, "worker": worker}})])
    return args
