"""The role dokku_ps.docker.proxy in the four-step pattern, against a scratch root: its include directory,
conf.d file and main configuration all live under a temporary directory, the service is not managed, and the
package task (one check-mode run) finds the nginx that scripts/bootstrap.sh installed (nothing to do). The machine's /etc/nginx and
its nginx service are never touched (asserted). Then nginx.Nginx applies an app's config into the role's
include directory and nginx -t of the scratch configuration passes with it.
"""

from __future__ import annotations

import os
import re
import stat
import sys

import pytest

from tests.support.ansible_runner import COLLECTIONS_PATH

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
from ansible_collections.dokku_ps.docker.plugins.module_utils import _nginx as nginx  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_config as proxy_config  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.dokku_ps.docker.plugins.module_utils import _proxy_settings as proxy_settings  # noqa: E402  pylint: disable=wrong-import-position

RECAP_RE = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s.*failed=(\d+)", re.M)
SCRATCH_MAIN_CONF = """\
# scratch main configuration of the proxy role's test (never run, only tested with nginx -t)
pid %(root)s/nginx.pid;
error_log %(root)s/error.log;
events {
    worker_connections 64;
}
http {
    client_body_temp_path %(root)s/tmp/body;
    proxy_temp_path %(root)s/tmp/proxy;
    fastcgi_temp_path %(root)s/tmp/fastcgi;
    uwsgi_temp_path %(root)s/tmp/uwsgi;
    scgi_temp_path %(root)s/tmp/scgi;
    include %(root)s/etc/nginx/conf.d/*.conf;
}
"""

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/sbin/nginx"), reason="nginx is not installed")


def tree_state(top):
    """(path, mode, size, mtime_ns) of everything under ``top`` (the machine's /etc/nginx)."""
    result = []
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            info = os.lstat(path)
            result.append((path, info.st_mode, info.st_size, info.st_mtime_ns))
    return result


def run_role(runner, variables, check=False):
    play = {"name": "Role proxy", "hosts": "localhost", "gather_facts": False, "vars": variables,
            "roles": ["dokku_ps.docker.proxy"]}
    returncode, results, output = runner.playbook([play], check=check)
    assert returncode == 0, output[-4000:]
    match = RECAP_RE.search(output)
    assert match, output[-3000:]
    return int(match.group(2)), results


def test_proxy_role_four_steps_in_a_scratch_root(runner, tmp_path):
    root = tmp_path / "root"
    (root / "tmp").mkdir(parents=True)
    main_conf = root / "etc" / "nginx" / "nginx.conf"
    main_conf.parent.mkdir(parents=True)
    main_conf.write_text(SCRATCH_MAIN_CONF % {"root": root})
    include_dir = root / "etc" / "nginx" / "dokku-ps"
    conf_file = root / "etc" / "nginx" / "conf.d" / "dokku-ps.conf"
    variables = {
        "dokku_ps_proxy_main_conf": str(main_conf),
        "dokku_ps_proxy_include_dir": str(include_dir),
        "dokku_ps_proxy_conf_file": str(conf_file),
        "dokku_ps_proxy_manage_service": False,
        # the apt module takes about 14 s here (it re-runs itself under the system's python3 for python3-apt):
        # the four steps leave it out, one more check-mode run below has it
        "dokku_ps_proxy_manage_package": False,
    }
    system = tree_state("/etc/nginx")

    # 1. check mode: predicts the change, writes nothing
    changed, results = run_role(runner, variables, check=True)
    assert changed >= 2
    assert not include_dir.exists() and not conf_file.exists()
    # 2. apply: the directory, the include file, and the handler's nginx -t of the scratch configuration
    changed, results = run_role(runner, variables)
    assert changed >= 2
    assert stat.S_IMODE(os.stat(str(include_dir)).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(str(conf_file)).st_mode) == 0o644
    assert "include %s/*.conf;\n" % include_dir in conf_file.read_text()
    statuses = {entry["task"]: entry["status"] for entry in results}
    assert statuses["Validate the nginx configuration"] == "ok"
    assert "Reload nginx" not in statuses or statuses["Reload nginx"] == "skipped"
    before = tree_state(str(root / "etc"))
    # 3. and 4. check mode and apply again: nothing to do, nothing written
    assert run_role(runner, variables, check=True)[0] == 0
    assert run_role(runner, variables)[0] == 0
    assert tree_state(str(root / "etc")) == before
    # with the package task: bootstrap installed nginx, so nothing to do either
    changed, results = run_role(runner, dict(variables, dokku_ps_proxy_manage_package=True), check=True)
    assert changed == 0
    assert {entry["task"]: entry["status"] for entry in results}["Install nginx from the distribution's packages"] == "ok"
    assert tree_state("/etc/nginx") == system

    # the collection's side: an app config in the role's directory passes nginx -t of the whole configuration
    driver = nginx.Nginx(include_dir=str(include_dir), conf=str(main_conf), pid_file=str(root / "nginx.pid"))
    settings = proxy_settings.settings_of({"web_port": 5000, "proxy": {"enabled": True, "ports": ["http:18080:5000"],
                                                                       "domains": ["shop.test"]}})
    text = proxy_config.render("shop", settings, ["172.16.240.2"], listen_address="127.0.0.1")
    shop = nginx.NginxFile(text, 0o644)
    assert driver.apply({"shop.conf": shop}) == nginx.ApplyResult(True, ["shop"], False)  # nothing runs: no reload
    assert stat.S_IMODE(os.stat(driver.path("shop.conf")).st_mode) == 0o644
    with pytest.raises(proxy_config.ProxyError, match=r'app\(s\) shop; .*\[emerg\]'):
        driver.apply({"shop.conf": nginx.NginxFile(text.replace("listen", "listen_bogus"), 0o644)})
    assert driver.read("shop.conf") == text
