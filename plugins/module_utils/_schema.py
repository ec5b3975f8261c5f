# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON Schemas (draft 7) of the state documents, and their validation.

Two documents live in the state directory (see ``state_store.py``):

* ``apps/<app>.json`` -- one per app, :data:`APP_SCHEMA`;
* ``global.json`` -- global properties, :data:`GLOBAL_SCHEMA`.

Both carry ``schema_version`` (:data:`SCHEMA_VERSION`). A document with a newer version than this code
knows is refused with a message saying so, instead of a confusing schema error.

The name rules come from ``names.py``, as they do for the modules, the parsers and the state store.

``jsonschema`` is a managed-host dependency. It is imported guarded: this file always imports, and
:func:`validate` raises a one-line :class:`StateError` naming the library when it is missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import StateError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import (
    APP_NAME_MAX_LENGTH, APP_NAME_PATTERN, ENV_KEY_PATTERN, PROCESS_TYPE_PATTERN)
from ansible_collections.dokku_ps.docker.plugins.module_utils._releases import MADE_BY as RELEASE_MADE_BY, RELEASE_KEYS

try:
    import jsonschema
    import jsonschema.validators
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as _import_error:  # pragma: no cover - depends on the host
    jsonschema = None
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = _import_error

SCHEMA_VERSION = 1

# Docker restart policies accepted by the collection (SPEC 2).
RESTART_POLICY_PATTERN = r"^(no|always|unless-stopped|on-failure(:[1-9][0-9]*)?)$"
IMAGE_ID_PATTERN = r"^sha256:[0-9a-f]{64}$"
CONTAINER_ID_PATTERN = r"^[0-9a-f]{64}$"
# No NUL character anywhere (env values and commands: Docker and the kernel cannot pass one to a process).
# ``\u0000`` is understood by Python's re and by ECMA 262; a final newline is allowed, so no (?!\n) is needed.
NO_NUL_PATTERN = r"^[^\u0000]*$"
# ISO 8601 timestamp as written by datetime.isoformat(); the offset is optional.
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?$"

PROCESS_SOURCES = ("none", "processes", "procfile", "procfile_path")


class DocumentInvalid(StateError):
    """A document that breaks its schema (a :class:`StateError`; raised by :func:`validate`)."""


def _schema_pattern(pattern):
    """``pattern`` for a JSON Schema ``pattern`` keyword.

    ``jsonschema`` uses Python's ``re.search``, where ``$`` also matches before a final newline, so
    ``"web\\n"`` would pass ``^web$``. The negative lookahead closes that hole and is valid ECMA 262 too.
    """
    return pattern + r"(?!\n)"


_PROCESS_TYPE = {"type": "string", "pattern": _schema_pattern(PROCESS_TYPE_PATTERN)}
_COUNT = {"type": "integer", "minimum": 0}
_NULLABLE_SECONDS = {"type": ["integer", "null"], "minimum": 0}
_NULLABLE_RESTART_POLICY = {"type": ["string", "null"], "pattern": _schema_pattern(RESTART_POLICY_PATTERN)}
_TIMESTAMP = {"type": "string", "pattern": _schema_pattern(TIMESTAMP_PATTERN)}
_NULLABLE_KEEP = {"type": ["integer", "null"], "minimum": 1}

# an app.json as _app_json.parse normalises it (validated there against its own schema), with where it came from
_APP_JSON = {
    "type": ["object", "null"],
    "required": ["source", "formation", "healthchecks"],
    "properties": {
        "source": {"type": "string", "minLength": 1},
        "formation": {"type": ["object", "null"], "propertyNames": _PROCESS_TYPE},
        "healthchecks": {"type": ["object", "null"], "propertyNames": _PROCESS_TYPE},
    },
}

APP_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://dokku-ps.invalid/schemas/app-1.json",
    "title": "dokku_ps app state document",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "schema_version", "name", "image", "image_id", "processes", "process_source", "procfile_path",
        "env", "web_port", "publish", "formation", "dokku_scale", "checks", "properties", "deployed",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "name": {
            "type": "string",
            "pattern": _schema_pattern(APP_NAME_PATTERN),
            "maxLength": APP_NAME_MAX_LENGTH,
        },
        "image": {"type": "string", "minLength": 1},
        "image_id": {"type": "string", "pattern": _schema_pattern(IMAGE_ID_PATTERN)},
        "processes": {
            "description": "process type -> command; null runs the image's own command",
            "type": ["object", "null"],
            "propertyNames": _PROCESS_TYPE,
            "additionalProperties": {"type": "string", "minLength": 1, "pattern": NO_NUL_PATTERN},
        },
        "process_source": {"enum": list(PROCESS_SOURCES)},
        "procfile_path": {"type": ["string", "null"], "minLength": 1},
        "env": {
            "type": "object",
            "propertyNames": {"type": "string", "pattern": _schema_pattern(ENV_KEY_PATTERN)},
            "additionalProperties": {"type": "string", "pattern": NO_NUL_PATTERN},
        },
        "web_port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "publish": {
            "description": "null or false (no host port), a host port 1..65535, or \"auto\"",
            "anyOf": [
                {"type": "null"},
                {"const": False},
                {"type": "integer", "minimum": 1, "maximum": 65535},
                {"const": "auto"},
            ],
        },
        "formation": {
            "type": "object",
            "propertyNames": _PROCESS_TYPE,
            "additionalProperties": _COUNT,
        },
        "dokku_scale": {
            "description": "formation from the image's DOKKU_SCALE file; non-null means no manual scaling",
            "type": ["object", "null"],
            "propertyNames": _PROCESS_TYPE,
            "additionalProperties": _COUNT,
        },
        "checks": {
            "description": "process type -> checks a new container must pass before the old one is retired",
            "type": "object",
            "propertyNames": _PROCESS_TYPE,
            "additionalProperties": {"type": "object"},
        },
        "image_checks": {
            "description": "the image's CHECKS file (web checks when the checks option does not define web's)",
            "type": ["object", "null"],
        },
        "properties": {
            "type": "object",
            "additionalProperties": False,
            "required": ["restart_policy", "stop_timeout_seconds", "restore"],
            "properties": {
                "restart_policy": _NULLABLE_RESTART_POLICY,
                "stop_timeout_seconds": _NULLABLE_SECONDS,
                "restore": {"type": ["boolean", "null"]},
                "keep_releases": _NULLABLE_KEEP,
            },
        },
        "deployed": {"type": "boolean"}, "scheduler": {"enum": ["docker-local", "swarm"]},
        "applied_policies": {
            "description": ("container id -> restart policy set in place through the update API (labels cannot "
                            "change, so this records what differs from a container's io.dokku-ps.restart-policy)"),
            "type": "object",
            "propertyNames": {"type": "string", "pattern": _schema_pattern(CONTAINER_ID_PATTERN)},
            "additionalProperties": {
                "type": "string",
                "pattern": _schema_pattern(r"^(unknown|" + RESTART_POLICY_PATTERN[1:-1] + r")$"),
            },
        },
        "policy_window": {
            "description": ("what the restart policies of the app's containers are known from (see "
                            "_policy_drift.PolicyWatch.verify): since, the time (nanoseconds of the Docker daemon's "
                            "clock) up to which they are known; caused, container id -> the 'update' and 'start' "
                            "events the collection itself caused after that, all before caused_before"),
            "type": "object",
            "additionalProperties": False,
            "required": ["since", "caused", "caused_before"],
            "properties": {
                "since": {"type": "integer", "minimum": 0},
                "caused": {
                    "type": "object",
                    "propertyNames": {"type": "string", "pattern": _schema_pattern(CONTAINER_ID_PATTERN)},
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
                "caused_before": {"type": "integer", "minimum": 0},
            },
        },
        "proxy": {
            "description": ("the app's web proxy (docs/proxy.md): on or off, its port mappings "
                            "(scheme:host-port:container-port; null: http:80:<web_port>), its domains, and the seconds "
                            "old web containers keep serving after a switch (null: the default)"),
            "type": "object",
            "additionalProperties": False,
            "required": ["enabled", "ports", "domains", "wait_to_retire"],
            "properties": {
                "enabled": {"type": "boolean"},
                "ports": {
                    "type": ["array", "null"],
                    "items": {"type": "string", "pattern": _schema_pattern(r"^https?:[0-9]{1,5}:[0-9]{1,5}$")},
                },
                "domains": {
                    "type": "array",
                    "items": {"type": "string", "pattern": _schema_pattern(r"^(\*\.)?[a-z0-9.-]+$")},
                },
                "wait_to_retire": {"type": ["integer", "null"], "minimum": 0},
                "tls": {
                    "description": ("HTTPS (docs/tls.md; absent or null: off): where the certificate comes from, the "
                                    "files of a provided one on the host, the redirect and HSTS (null: the default)"),
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "required": ["mode", "certificate_path", "key_path", "redirect", "hsts",
                                 "hsts_include_subdomains", "hsts_max_age", "hsts_preload"],
                    "properties": {
                        "mode": {"enum": ["off", "acme", "provided", None]},
                        "certificate_path": {"type": ["string", "null"], "minLength": 1},
                        "key_path": {"type": ["string", "null"], "minLength": 1},
                        "redirect": {"type": ["boolean", "null"]},
                        "hsts": {"type": ["boolean", "null"]},
                        "hsts_include_subdomains": {"type": ["boolean", "null"]},
                        "hsts_max_age": {"type": ["integer", "null"], "minimum": 0},
                        "hsts_preload": {"type": ["boolean", "null"]},
                    },
                },
            },
        },
        "certificate": {
            "description": ("the certificate the app serves (docs/tls.md; null: none): where it came from, what it "
                            "is (names, issuer, validity, fingerprint), when it is renewed (by the CA's renewal "
                            "information or its lifetime) and the last error; the certificate and its key are kept "
                            "beside the documents (certs/<app>.json), never in them"),
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["source"],
            "properties": {
                "source": {"enum": ["acme", "provided"]}, "names": {"type": "array", "items": {"type": "string"}},
                "subject": {"type": "string"}, "issuer": {"type": "string"},
                "not_before": _TIMESTAMP, "not_after": _TIMESTAMP,
                "fingerprint": {"type": "string", "pattern": _schema_pattern(r"^sha256:[0-9a-f]{64}$")},
                "serial": {"type": "string"}, "installed_at": _TIMESTAMP,
                "renew_at": {"anyOf": [{"type": "null"}, _TIMESTAMP]},
                "renew_source": {"enum": ["ari", "lifetime", None]},
                "ari_retry_after": {"anyOf": [{"type": "null"}, _TIMESTAMP]},
                "account": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "required": ["directory", "email"],
                    "properties": {"directory": {"type": "string"}, "email": {"type": ["string", "null"]}},
                },
                "last_error": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "required": ["at", "message"],
                    "properties": {"at": _TIMESTAMP, "message": {"type": "string"}},
                },
            },
        },
        "release_phase": {
            "description": "the release phase of the current release (docs/oneoffs.md); null: none",
            "type": ["object", "null"], "additionalProperties": False, "required": ["release", "status"],
            "properties": {"release": {"type": "integer", "minimum": 1}, "phases": {"type": "array"},
                           "status": {"enum": ["done", "pending", "postdeploy failed"]},
                           "at": {"anyOf": [{"type": "null"}, _TIMESTAMP]}},
        },
        "app_json": dict(_APP_JSON, description="the app.json that applies: the app_json option's, else the image's"),
        "app_json_option": dict(_APP_JSON, description="the app_json option as given (normalised), null: not given"),
        "app_json_image": dict(_APP_JSON, description="the app.json in the image's WORKDIR (normalised), null: none"),
        "updated_at": _TIMESTAMP,
    },
}


def _release_schema():
    """One release of an app (_releases.py): its number, when, what made it, and the definition it recorded,
    each key with the schema of the same key of the app document (an app without proxy settings: null)."""
    documented = APP_SCHEMA["properties"]
    definition = {}
    for key in RELEASE_KEYS:
        schema = copy.deepcopy(documented[key])
        if key in ("proxy", "image", "image_id", "publish", "web_port", "checks", "dokku_scale"):
            # documents of earlier versions may lack a key: the release records null
            schema = {"anyOf": [{"type": "null"}, schema]}
        definition[key] = schema
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["number", "created_at", "made_by", "rollback_of", "definition"],
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "created_at": _TIMESTAMP,
            "made_by": {"enum": list(RELEASE_MADE_BY)},
            "rollback_of": {"type": ["integer", "null"], "minimum": 1},
            "definition": {
                "type": "object",
                "additionalProperties": False,
                "required": list(RELEASE_KEYS),
                "properties": definition,
            },
        },
    }


APP_SCHEMA["properties"]["releases"] = {
    "description": "the app's releases, oldest first; the last one is current (docs/releases.md)",
    "type": "array",
    "items": _release_schema(),
}

GLOBAL_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://dokku-ps.invalid/schemas/global-1.json",
    "title": "dokku_ps global state document",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "properties"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "properties": {
            "type": "object",
            "additionalProperties": False,
            "required": ["restart_policy", "stop_timeout_seconds"],
            "properties": {
                "restart_policy": _NULLABLE_RESTART_POLICY,
                "stop_timeout_seconds": _NULLABLE_SECONDS,
                "keep_releases": _NULLABLE_KEEP, "scheduler": {"enum": [None, "docker-local", "swarm"]},
            },
        },
        "updated_at": _TIMESTAMP,
    },
}

_NEW_GLOBAL_DOCUMENT = {
    "schema_version": SCHEMA_VERSION,
    "properties": {"restart_policy": None, "stop_timeout_seconds": None},
}

# Values below these paths are never shown in messages (they may be secrets).
_SECRET_ROOTS = ("env",)
_SIMPLE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_SHOWN_STRING = 60


def new_global_document():
    """A fresh global document: every property unset (inherits the built-in default)."""
    return copy.deepcopy(_NEW_GLOBAL_DOCUMENT)


def json_path(path):
    """``['formation', 'web']`` -> ``$.formation.web``; odd keys and indexes use brackets."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += "[%d]" % part
        elif _SIMPLE_KEY_RE.match(part):
            out += "." + part
        else:
            out += "[%s]" % _quote(part)
    return out


def _quote(value):
    return repr(value)


def _describe(value):
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a value"


def _shown(instance, secret):
    """How a value appears in a message: hidden when secret, summarized when bulky."""
    if secret:
        return "the value (hidden)"
    if isinstance(instance, (dict, list)):
        return _describe(instance)
    if isinstance(instance, str) and len(instance) > _MAX_SHOWN_STRING:
        return _quote(instance[:_MAX_SHOWN_STRING] + "...")
    return _quote(instance)


def _in_release_env(path):
    """``$.releases[n].definition.env...``: the env a release recorded, as secret as the app's own."""
    return len(path) > 3 and path[0] == "releases" and path[2] == "definition" and path[3] in _SECRET_ROOTS


def _message(error):
    """A one-line problem description for one jsonschema error, with no secret or bulky value in it."""
    path = list(error.absolute_path)
    schema_path = list(error.schema_path)
    instance = error.instance
    is_key = "propertyNames" in schema_path
    secret = bool(path) and (path[0] in _SECRET_ROOTS or _in_release_env(path)) and not is_key
    if error.validator in ("anyOf", "oneOf") and isinstance(error.schema, dict) and error.schema.get("description"):
        message = "%s is not valid: expected %s" % (_shown(instance, secret), error.schema["description"])
    else:
        # jsonschema messages start with repr(instance); replace it when it is bulky or may be secret.
        message = error.message
        raw = _quote(instance)
        shown = _shown(instance, secret)
        if shown != raw:
            if message.startswith(raw):
                message = shown + message[len(raw):]
            elif secret:
                message = "invalid value (hidden) (rule: %s)" % error.validator
    if is_key:
        message = "invalid key: " + message
    return " ".join(message.split())


def _validator_class():
    for name in ("Draft7Validator", "Draft6Validator"):
        cls = getattr(jsonschema, name, None)
        if cls is not None:
            return cls
    raise StateError("the Python library jsonschema on the managed host is too old (need 3.0 or newer, found %s)"
                     % getattr(jsonschema, "__version__", "unknown"))


def _sort_key(error):
    return (len(error.absolute_path), [str(p) for p in error.absolute_path], str(error.validator))


def validate(document, schema, source):
    """Validate ``document`` against ``schema``; raise :class:`DocumentInvalid` on the first problem.

    The message is one line: ``<source>: <json path>: <problem>``, for example
    ``/var/lib/dokku-ps/apps/demo.json: $.formation.web: -1 is less than the minimum of 0``.
    Values below ``$.env`` are never shown. Errors are ordered shallowest path first, so the reported
    problem is deterministic. A missing (or too old) ``jsonschema`` and a document written by a newer
    version of the collection raise a plain :class:`StateError` instead.
    """
    if not HAS_JSONSCHEMA:
        raise StateError("%s: cannot validate the state document: the Python library jsonschema is missing on the "
                         "managed host (install python3-jsonschema or pip install jsonschema): %s"
                         % (source, JSONSCHEMA_IMPORT_ERROR))
    if isinstance(document, dict):
        version = document.get("schema_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            raise StateError("%s: $.schema_version: the document has schema version %d but this collection only "
                             "understands version %d; upgrade the collection" % (source, version, SCHEMA_VERSION))
    validator = _validator_class()(schema)
    errors = sorted(validator.iter_errors(document), key=_sort_key)
    if errors:
        error = errors[0]
        raise DocumentInvalid("%s: %s: %s" % (source, json_path(error.absolute_path), _message(error)))
