# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions raised by every layer of the collection.

Each carries a one-line, user-facing message. Modules turn them into ``fail_json(msg=...)``;
nothing below a module ever prints a traceback to the user.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class DokkuPsError(Exception):
    """Base class. ``str(error)`` is the message shown to the user."""

    def __init__(self, message, **details):
        super(DokkuPsError, self).__init__(message)
        self.message = message
        self.details = details

    def __str__(self):
        return self.message


class ValidationError(DokkuPsError):
    """Bad input: names the field and the rule. Raised before anything changes."""

    def __init__(self, field, rule, value=None):
        message = "%s: %s" % (field, rule)
        super(ValidationError, self).__init__(message, field=field, rule=rule)


class StateError(DokkuPsError):
    """A state document that cannot be read, parsed or validated, or a lock that cannot be taken."""


class DockerUnavailable(DokkuPsError):
    """The Docker daemon cannot be reached (missing socket, permission, timeout)."""


class DockerError(DokkuPsError):
    """The Docker daemon answered with an error."""


class ConflictError(DokkuPsError):
    """Something that is not ours is in the way (a container on one of our names)."""


class NotFoundError(DokkuPsError):
    """A named thing (app, image) does not exist."""


class AppsFailed(DokkuPsError):
    """Some apps of a multi-app run failed; ``details['result']`` holds every app's outcome."""
