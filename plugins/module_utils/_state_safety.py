# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may write the state directory: the owner and mode checks of its paths and documents (refused, never repaired).

Nothing is read or written through a path other users could tamper with: the state directory, ``apps/`` and
``locks/`` are owned by the running user or root and writable by nobody else; every directory on the way to them
is owned by root or the running user and, when others may write it, sticky (like ``/tmp``); every document read
(and so every document about to be overwritten) is owned by the running user and mode 0600 or stricter, checked
on the open descriptor. A store that fails a check is refused with :class:`UnsafeStateError`, one line naming the
path, the rule and the fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import StateError

UNSAFE_HINT = "see docs/state.md"
_MAX_SYMLINKS = 40
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
_OTHERS_ANY = stat.S_IRWXG | stat.S_IRWXO


class UnsafeStateError(StateError):
    """The state directory, a directory on the way to it or a document can be written (or read) by other users,
    or belongs to another user. Never wrapped by other messages: the fix is about permissions, not content."""


def problem(exc):
    """A short description of an OSError."""
    return exc.strerror or str(exc)


def _mode(info):
    return "%04o" % stat.S_IMODE(info.st_mode)


def _whom(mode):
    """Who besides the owner the bits of ``mode`` (only group and others count) are granted to."""
    return "other users" if mode & stat.S_IRWXO else "its group"


def _owners(euid):
    """The owners a directory of the store may have."""
    if euid == 0:
        return "root (the user running dokku_ps)"
    return "root or the user running dokku_ps (uid %d)" % euid


def check_document(path, info):
    """Refuse a document (``info``: fstat of its open descriptor) that another user owns or that grants group or
    others any permission: documents hold env values in clear, and a writable one lets others plant content."""
    euid = os.geteuid()
    loose = stat.S_IMODE(info.st_mode) & _OTHERS_ANY
    if info.st_uid != euid:
        fix = "check its content, then chown %d %s" % (euid, path)
        if loose:
            fix += " && chmod 0600 %s" % path
        raise UnsafeStateError("%s: the state document is owned by uid %d, not by the user running dokku_ps (uid %d);"
                               " refusing to use it: %s (or move it away); %s"
                               % (path, info.st_uid, euid, fix, UNSAFE_HINT))
    if loose:
        readable = loose & (stat.S_IRGRP | stat.S_IROTH)
        writable = loose & _OTHERS_WRITE
        if readable and writable:
            access = "readable and writable"
        elif readable:
            access = "readable"
        elif writable:
            access = "writable"
        else:
            access = "accessible"
        fix = "chmod 0600 %s" % path
        if writable:
            fix = "check its content, then " + fix
        raise UnsafeStateError("%s: the state document is %s by %s (mode %s); refusing to use it: %s; %s"
                               % (path, access, _whom(loose), _mode(info), fix, UNSAFE_HINT))


def _resolve(path):
    """Resolve the absolute ``path`` component by component as the kernel does.

    Returns ``(lookups, resolved)``: ``lookups`` lists ``(directory, entry, info)`` for every name looked up,
    ``directory`` a real path, ``info`` the ``lstat`` of the entry (symbolic links are followed, and their targets
    resolved the same way); ``resolved`` is the real path, or None when a component is missing or cannot be
    examined (the operation that follows reports that itself).
    """
    pending = [part for part in path.split("/") if part]
    current = "/"
    lookups = []
    hops = 0
    while pending:
        name = pending.pop(0)
        if name == ".":
            continue
        if name == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, name)
        try:
            info = os.lstat(candidate)
        except OSError:
            lookups.append((current, candidate, None))
            return lookups, None
        lookups.append((current, candidate, info))
        if stat.S_ISLNK(info.st_mode):
            hops += 1
            if hops > _MAX_SYMLINKS:
                return lookups, None
            try:
                target = os.readlink(candidate)
            except OSError:
                return lookups, None
            if target.startswith("/"):
                current = "/"
            pending = [part for part in target.split("/") if part] + pending
        elif stat.S_ISDIR(info.st_mode):
            current = candidate
        elif pending:
            return lookups, None
        else:
            return lookups, candidate
    return lookups, current


def verify_store(state_dir, subdirs):
    """Refuse (:class:`UnsafeStateError`) a store other users could tamper with; True once it was checked, False
    while the state directory does not exist.

    ``subdirs``: ``(path, what)`` of the directories of the store (``apps/``, ``locks/``), ``what`` naming each in
    messages.

    * every directory on the way to the state directory and its ``subdirs`` (symbolic links followed) is owned
      by root or the effective uid and, when its group or others may write it, has the sticky bit; a symbolic
      link in such a directory is owned by root or the effective uid;
    * the state directory and its ``subdirs`` (when they exist) are owned by root or the effective uid and
      writable by nobody else (the sticky bit does not help: others could create ``apps/`` or plant documents).

    A missing state directory is fine (nothing to read); the directories on the way to it are checked all the
    same, and the caller checks again on its next use, until it exists.
    """
    euid = os.geteuid()
    checked = set()
    state_real = _verify_path(os.path.abspath(state_dir), "the state directory", euid, checked)
    if state_real is None:
        return False
    for path, what in subdirs:
        _verify_path(os.path.abspath(path), what, euid, checked)
    return True


def _verify_path(path, what, euid, checked):
    """Check the directories on the way to the directory ``path`` and ``path`` itself; its real path, or None
    when it does not exist (or is not a directory: the operation that follows reports it)."""
    label = "%s %s" % (what, path)
    lookups, resolved = _resolve(path)
    for directory, entry, info in lookups:
        parent = _verify_parent(directory, label, euid, checked)
        if (info is not None and stat.S_ISLNK(info.st_mode) and parent.st_mode & _OTHERS_WRITE
                and info.st_uid not in (0, euid)):
            raise UnsafeStateError("%s: a symbolic link on the path to %s is owned by uid %d, not by %s, in a"
                                   " directory other users can write (mode %s), so its owner can point it"
                                   " elsewhere; refusing to follow it: replace it by a link owned by root"
                                   " (or choose another state_dir); %s"
                                   % (entry, label, info.st_uid, _owners(euid), _mode(parent), UNSAFE_HINT))
    if resolved is None:
        return None
    try:
        info = os.lstat(resolved)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    if resolved != path:
        what = label
    if info.st_uid not in (0, euid):
        raise UnsafeStateError("%s: %s is owned by uid %d, not by %s; refusing to use it: check what it holds,"
                               " then chown %d %s (or choose another state_dir); %s"
                               % (resolved, what, info.st_uid, _owners(euid), euid, resolved, UNSAFE_HINT))
    if info.st_mode & _OTHERS_WRITE:
        raise UnsafeStateError("%s: %s is writable by %s (mode %s); refusing to use it: check what it holds,"
                               " then chmod 0700 %s (or choose another state_dir); %s"
                               % (resolved, what, _whom(info.st_mode & _OTHERS_WRITE), _mode(info), resolved,
                                  UNSAFE_HINT))
    checked.add(resolved)
    return resolved


def _verify_parent(directory, label, euid, checked):
    """Check one directory in which a name on the path to ``label`` is looked up; its ``lstat``."""
    try:
        info = os.lstat(directory)
    except OSError as exc:
        raise StateError("%s: cannot examine a directory on the path to %s: %s" % (directory, label, problem(exc)))
    if directory in checked:
        return info
    if info.st_uid not in (0, euid):
        raise UnsafeStateError("%s: a directory on the path to %s is owned by uid %d, not by %s, so its owner"
                               " can replace what lies below it; refusing to go through it: choose another"
                               " state_dir (or chown 0 %s if that user should not own it); %s"
                               % (directory, label, info.st_uid, _owners(euid), directory, UNSAFE_HINT))
    if info.st_mode & _OTHERS_WRITE and not info.st_mode & stat.S_ISVTX:
        raise UnsafeStateError("%s: a directory on the path to %s is writable by %s without the sticky bit"
                               " (mode %s), so they can replace what lies below it; refusing to go through it:"
                               " chmod go-w %s, or chmod +t %s like /tmp (or choose another state_dir); %s"
                               % (directory, label, _whom(info.st_mode & _OTHERS_WRITE), _mode(info), directory,
                                  directory, UNSAFE_HINT))
    checked.add(directory)
    return info
