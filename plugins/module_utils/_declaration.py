# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app declaration: every key that describes an app, once (type, default, documentation).

dokku_ps_app takes the app keys as its options, dokku_ps_fleet as the suboptions of each item of ``apps``, the
app role as the keys of ``dokku_ps_app`` and the fleet role as the keys of each item of ``dokku_ps_apps``. Their
argument specs are built here (:func:`argument_spec`); their documentation (the modules' DOCUMENTATION and the
roles' ``meta/argument_specs.yml``) is written from here by ``scripts/sync_declaration.py`` between
``BEGIN``/``END`` markers, and a unit test fails when a copy differs from what this file says.

In a description, ``O(@key)`` names another key of the declaration; it becomes the right reference in each place
(``O(key)`` in dokku_ps_app, ``O(apps[].key)`` in dokku_ps_fleet, ``O(dokku_ps_app.key)`` in the app role...).

Each key also says whether a release holds it (:func:`release_keys`): those are the keys a pinned release
replaces (``_releases.PINNED_KEYS``), and the ``release`` key's description lists them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

# Where a key is taken: 'app' (dokku_ps_app) and 'fleet' (dokku_ps_fleet's items, the roles).
APP = 'app'
FLEET = 'fleet'
BOTH = (APP, FLEET)

# Whether a key is part of an app's definition, which every release records and a pinned release replaces
# (release_keys(), _releases.PINNED_KEYS); the name, the formation, the properties, the pin and deploy are not.
RELEASED = True
NOT_RELEASED = False

# In a description, this stands for the keys a release replaces, as O(@key) references (see release_keys()).
RELEASE_KEYS_TEXT = '{release keys}'

# name -> (where, RELEASED or not, the Ansible option spec of the key without its documentation, description lines)
KEYS = [
    ('name', BOTH, NOT_RELEASED, dict(type='str', required=True), [
        'The app name, at most 63 characters: lowercase letters, digits, dots and dashes, starting with a letter '
        'or a digit (Dokku\'s rule).',
    ]),
    ('image', BOTH, RELEASED, dict(type='str'), [
        'A reference to an image on the Docker host (name, name:tag or id). Required to create an app.',
        'The reference is resolved to an image id on every run, so a tag that now points to a new image is a '
        'change of definition. When omitted, the recorded reference and image id are kept.',
        'Images are never pulled.',
    ]),
    ('processes', BOTH, RELEASED, dict(type='dict'), [
        'The process types of the app as a dict of type to command, like the lines of a Procfile.',
        'Commands are split into arguments with shell-like quoting after C($VAR) and C(${VAR}) are expanded from '
        'the app\'s env (C($PORT) is the web port for V(web) and empty for other types). They are not run through '
        'a shell unless the command calls one.',
        'An empty dict means the app runs the image\'s own command (and can scale any valid type name).',
        'When none of O(@processes), O(@procfile) and O(@procfile_path) is given, the recorded processes are kept '
        '(a new app runs the image\'s own command).',
    ]),
    ('procfile', BOTH, RELEASED, dict(type='str'), [
        'The process types as Procfile text, one C(type: command) per line, C(#) comments, CRLF tolerated, '
        'duplicates refused.',
    ]),
    ('procfile_path', BOTH, RELEASED, dict(type='str'), [
        'Read the Procfile out of the image, at this path relative to the image\'s WORKDIR (Dokku\'s '
        'C(procfile-path)). It is read again whenever the image id changes.',
    ]),
    ('env', BOTH, RELEASED, dict(type='dict', no_log=True), [
        'Environment of every container of the app. Values are never logged or returned.',
        'C(DYNO) and C(PORT) are set by the collection for every container and cannot be set here.',
        'When omitted, the recorded env is kept; when given, it replaces the recorded env.',
    ]),
    ('web_port', BOTH, RELEASED, dict(type='int'), [
        'The port the V(web) process listens on inside its containers (C(PORT)). Defaults to 5000 for a new app; '
        'when omitted, the recorded value is kept.',
    ]),
    ('publish', BOTH, RELEASED, dict(type='raw'), [
        'Publish the V(web) port on the host. V(false) (the default for a new app) publishes nothing; a port number '
        'publishes it on that host port, which only one web container can hold (scaling web above 1 is refused, '
        'and a replacement stops the old container first, with a warning); V(auto) gives each web container an '
        'ephemeral host port (M(dokku_ps.docker.dokku_ps_report) shows the ports).',
        'When omitted, the recorded value is kept.',
    ]),
    ('checks', BOTH, RELEASED, dict(type='dict'), [
        'The checks a new container must pass before the container it replaces is retired (deploys, restarts, '
        'rebuilds), per process type. A type\'s value is a mode string or a dict with the keys below.',
        'V(mode) is V(enabled) (the default), V(skipped) (no checks, still zero downtime) or V(disabled) (no checks '
        'and the old container is stopped before the new one starts, Dokku\'s meaning).',
        'V(uptime) (seconds) the container must stay up without restarting; V(http) (web only) a list of checks, '
        'each a path optionally followed by the content the answer must contain (V(/about Our Team)) or a dict '
        'with V(path), V(content), V(host) (Host header) and V(scheme) (V(http) or V(https)); V(command) a command '
        'run inside the container that must exit 0; V(wait) seconds before the first attempt (default 5), '
        'V(timeout) seconds per attempt (default 30), V(attempts) (default 5).',
        'A type without checks of its own here gets the V(startup) and V(readiness) checks of the app\'s '
        'C(app.json) (O(@app_json), docs/app-json.md), else, for V(web), the image\'s Dokku C(CHECKS) file if it '
        'has one, else Dokku\'s default check, which is that the container is still up, without restarts, after '
        '10 seconds. A V(mode) applies to the checks of every source.',
        'HTTP checks go to the container\'s address on its Docker network, or to the loopback address when the '
        'port is published on the host; nowhere else.',
        'New containers that replace nothing (scaling up, a first deploy) are only checked to be running.',
        'When omitted, the recorded checks are kept.',
    ]),
    ('app_json', BOTH, RELEASED, dict(type='raw'), [
        'The app\'s Dokku C(app.json), as a dict or as JSON text (docs/app-json.md). Its V(formation) sets the '
        'instances of the types it lists (every other type then runs 0, and the app cannot be scaled by hand) and '
        'how many instances of a type are replaced at once (V(max_parallel)); its V(healthchecks) gate replacements '
        '(V(startup), V(readiness)) and become Docker health checks of the containers (V(liveness)). Keys that do '
        'not concern processes are ignored.',
        'Given here, it wins over an C(app.json) in the image\'s WORKDIR, which applies otherwise (read once per '
        'image id, and validated either way). An empty dict or text removes the option, so the image\'s file '
        'applies again; when omitted, the recorded value is kept.',
    ]),
    ('proxy', BOTH, RELEASED, dict(type='bool'), [
        'Put the app\'s V(web) containers behind the host\'s nginx, which balances requests between them round robin '
        '(docs/proxy.md). V(false) (the default for a new app) removes the app\'s nginx config; when omitted, the '
        'recorded value is kept.',
        'Proxied V(web) containers join the collection\'s Docker network C(dokku-ps) at fixed addresses, so nginx '
        'reaches them again after Docker restarts them on its own; turning the proxy on or off replaces them.',
        'nginx itself is installed by the role P(dokku_ps.docker.proxy#role); which nginx is driven is set by the '
        'C(nginx_*) options.',
    ]),
    ('proxy_ports', BOTH, RELEASED, dict(type='list', elements='str'), [
        'Port mappings of the proxy in Dokku\'s C(scheme:host-port:container-port) form, for example '
        'V(http:80:5000), or V(https:443:5000) (served once the app has a certificate, O(@https)). One mapping per host '
        'port.',
        'An empty list means Dokku\'s default, V(http:80:<web_port>); when omitted, the recorded value is kept. With a '
        'certificate, every V(http:80:<port>) mapping gets its V(https:443:<port>) unless the app maps V(https) '
        'itself (Dokku\'s rule).',
    ]),
    ('domains', BOTH, RELEASED, dict(type='list', elements='str'), [
        'The names the proxy answers for (nginx\'s C(server_name)), so several apps share a host port. DNS names or '
        'V(*.) wildcards. Without domains the app answers every name on its host ports, which it then needs to '
        'itself. When omitted, the recorded value is kept.',
    ]),
    ('wait_to_retire', BOTH, RELEASED, dict(type='int'), [
        'Seconds the old V(web) containers keep serving the requests they already have after the proxy switched to '
        'the new ones, before they are stopped (Dokku\'s C(wait-to-retire)); also after a scale down. Default 10 '
        '(Dokku waits 60 in the background; here the task waits). When omitted, the recorded value is kept.',
    ]),
    ('https', BOTH, RELEASED, dict(type='str', choices=['off', 'acme', 'provided']), [
        'Serve the app over HTTPS with a certificate covering all its O(@domains) (docs/tls.md): V(acme) has it issued '
        'over ACME (http-01, through the host\'s nginx, at deploy time, and renewed when a third of its lifetime '
        'remains), V(provided) serves the certificate and key given in O(@tls_certificate) and O(@tls_key) (or read '
        'from O(@tls_certificate_path) and O(@tls_key_path)), V(off) (the default for a new app) serves http only and '
        'removes the app\'s certificate.',
        'Needs the proxy (O(@proxy)) and at least one domain. The CA and the ACME account are set by the C(acme_*) '
        'options. When omitted, the recorded value is kept.',
    ]),
    ('tls_certificate', BOTH, NOT_RELEASED, dict(type='str'), [
        'With O(@https=provided): the certificate and its chain as PEM text (leaf first), for example from a vault. '
        'Checked before anything changes: it matches O(@tls_key), its chain is in order, it covers every domain and '
        'has not expired. When omitted, the certificate in place is kept.',
    ]),
    ('tls_key', BOTH, NOT_RELEASED, dict(type='str', no_log=True), [
        'With O(@https=provided): the private key of O(@tls_certificate) as PEM text, without a passphrase. Written '
        'for nginx with mode 0600 and never shown.',
    ]),
    ('tls_certificate_path', BOTH, RELEASED, dict(type='str'), [
        'With O(@https=provided): read the certificate (with its chain) from this file on the managed host instead, at '
        'every run, so a certificate renewed there by another tool is served once it changes.',
    ]),
    ('tls_key_path', BOTH, RELEASED, dict(type='str', no_log=False), [
        'With O(@https=provided): the file of the private key on the managed host, read with O(@tls_certificate_path).',
    ]),
    ('https_redirect', BOTH, RELEASED, dict(type='bool'), [
        'Redirect http requests to https (301, keeping the host and the URI) once the app has a certificate. Default '
        'V(true); when omitted, the recorded value is kept.',
    ]),
    ('hsts', BOTH, RELEASED, dict(type='bool'), [
        'Send the Strict-Transport-Security header over https (Dokku\'s C(hsts)). Default V(true).',
    ]),
    ('hsts_include_subdomains', BOTH, RELEASED, dict(type='bool'), [
        'Add C(includeSubDomains) to the header. Default V(false), unlike Dokku: it makes browsers refuse plain http '
        'on every subdomain of the app\'s names (docs/tls.md).',
    ]),
    ('hsts_max_age', BOTH, RELEASED, dict(type='int'), [
        'The header\'s C(max-age) in seconds. Default V(15724800) (about six months, Dokku\'s).',
    ]),
    ('hsts_preload', BOTH, RELEASED, dict(type='bool'), [
        'Add C(preload) to the header. Default V(false).',
    ]),
    ('release', BOTH, NOT_RELEASED, dict(type='int'), [
        'Run this release of the app (a rollback, docs/releases.md): its image (by id, whatever its tag points at '
        'now), processes, env, web port, publishing, checks, proxy settings and app.json come back through the '
        'usual zero-downtime rollout, and the rollback is recorded as a new release. The formation and the '
        'properties stay; the formation is fitted to the release\'s processes.',
        'Idempotent: a run when the app already runs that release (or a rollback to it) changes nothing. A release '
        'that is no longer kept, or whose image is no longer on the Docker host, is refused before anything '
        'changes. M(dokku_ps.docker.dokku_ps_report) lists the kept releases; the one before the current one is '
        'its C(previous_release).',
        'While a release is pinned, the keys of the declaration that a release replaces (%s) are not applied, '
        'with a warning; remove the pin to deploy the declaration again.' % RELEASE_KEYS_TEXT,
    ]),
    ('scheduler', BOTH, NOT_RELEASED, dict(type='str', choices=['docker-local', 'swarm']), [
        'What runs the app\'s processes: V(docker-local) (containers on the Docker daemon the task connects to, the '
        'default) or V(swarm) (one replicated service per process type on the swarm whose manager that daemon is; '
        'docs/swarm.md says what works there yet). When omitted, the recorded scheduler is kept (a new app: the '
        'global one, O(dokku_ps.docker.dokku_ps_policy#module:scheduler), else V(docker-local)). A deployed app '
        'cannot move to another scheduler.',
    ]),
    ('release_phase_timeout', BOTH, NOT_RELEASED, dict(type='int', default=600), [
        'Longest time, in seconds, each command of the release phase may run (app.json\'s C(scripts.dokku.predeploy), '
        'the Procfile\'s C(release) command, C(scripts.dokku.postdeploy); docs/oneoffs.md). A command still running '
        'then is stopped and counts as failed: a predeploy or release command fails the deploy before any '
        'container changes.',
    ]),
    ('scale', (FLEET,), NOT_RELEASED, dict(type='dict'), [
        'Instances per process type, for example V({web: 2, worker: 1}); types not listed keep their count '
        '(M(dokku_ps.docker.dokku_ps_scale)\'s rules).',
    ]),
    ('restart_policy', (FLEET,), NOT_RELEASED, dict(type='str'), [
        'The app\'s restart policy, V(no), V(always), V(unless-stopped), V(on-failure) or V(on-failure:N) '
        '(M(dokku_ps.docker.dokku_ps_policy)); an empty string unsets it. Quote V(\'no\') in YAML, or it becomes '
        'a boolean.',
    ]),
    ('stop_timeout_seconds', (FLEET,), NOT_RELEASED, dict(type='raw'), [
        'The app\'s stop timeout in seconds, an integer of 0 or more; an empty string unsets it.',
    ]),
    ('keep_releases', (FLEET,), NOT_RELEASED, dict(type='raw'), [
        'How many releases the app keeps, an integer of 1 or more (default 5, or the global value of '
        'M(dokku_ps.docker.dokku_ps_policy)); the oldest beyond it are dropped, never the current one. An empty '
        'string unsets it.',
    ]),
    ('deploy', BOTH, NOT_RELEASED, dict(type='bool', default=True), [
        'Make the containers match the declaration (create missing ones, replace changed ones, remove those of '
        'types that are no longer defined). The first deploy of an app creates the containers of its formation '
        'and marks it deployed.',
        'With V(false) the declaration is only recorded; no container is created, started, stopped, replaced or '
        'removed, and an app never deployed stays undeployed. It applies at the next deploy, start or restore.',
    ]),
]

# only one of these describes the processes
MUTUALLY_EXCLUSIVE = [['processes', 'procfile', 'procfile_path']]

# the desired state of an app: dokku_ps_app's and a fleet declaration's differ
STATE = {
    APP: (dict(type='str', default='present', choices=['present', 'absent']), [
        'V(present) records the definition (and deploys it with O(@deploy=true)).',
        'V(absent) stops every container of the app (restart policy V(no) first, then a stop with the app\'s stop '
        'timeout), removes them, and deletes the app\'s state.',
    ]),
    FLEET: (dict(type='str', default='started', choices=['started', 'stopped', 'absent']), [
        'V(started) deploys the app and makes its formation run; V(stopped) stops its containers and keeps them (a '
        'restore after a reboot leaves it down); V(absent) deletes the app and its containers.',
        'O(@deploy=false) cannot be combined with V(absent).',
    ]),
}


def keys(where):
    """The keys of the declaration taken in ``where`` (APP or FLEET), state included, in documentation order."""
    found = [name for name, places, _released, _spec, _doc in KEYS if where in places]
    return found[:1] + ['state'] + found[1:]


def release_keys():
    """The keys of the declaration that a release holds, so a pinned release replaces them, in declaration order."""
    return [name for name, _places, released, _spec, _doc in KEYS if released]


def _entry(name, where):
    if name == 'state':
        return STATE[where]
    for key, _places, _released, spec, doc in KEYS:
        if key == name:
            return spec, doc
    raise KeyError(name)


def argument_spec(where):
    """The argument spec of the declaration's keys for ``where``: dokku_ps_app's options (the name has the alias
    ``app``) or the suboptions of a fleet item."""
    spec = {}
    for name in keys(where):
        spec[name] = copy.deepcopy(_entry(name, where)[0])
    if where == APP:
        spec['name']['aliases'] = ['app']
    return spec


def documentation(where, reference, role=False):
    """The documented options of the declaration for ``where``, each ``description`` written with the option
    references of its place: ``reference(key)`` gives the O() target of a key (``apps[].image`` ...). A role's
    argument spec (``role``) also says which keys are ``no_log``; a module's documentation cannot."""
    options = {}
    fields = ('type', 'required', 'default', 'choices', 'no_log', 'aliases', 'elements')
    if not role:
        fields = tuple(field for field in fields if field != 'no_log')
    for name in keys(where):
        spec, doc = _entry(name, where)
        option = {'description': [_references(_release_keys_text(line), reference) for line in doc]}
        for field in fields:
            if field in spec:
                option[field] = copy.deepcopy(spec[field])
        if where == APP and name == 'name':
            option['aliases'] = ['app']
        options[name] = option
    return options


def _release_keys_text(line):
    return line.replace(RELEASE_KEYS_TEXT, ', '.join('O(@%s)' % key for key in release_keys()))


def _references(line, reference):
    out = []
    rest = line
    while 'O(@' in rest:
        before, _marker, after = rest.partition('O(@')
        target, _close, rest = after.partition(')')
        key, equals, value = target.partition('=')
        out.append('%sO(%s%s%s)' % (before, reference(key), equals, value))
    out.append(rest)
    return ''.join(out)
