# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process limits: what the kernel lets a container's process receive (argv and env sizes), checked up front.

A definition whose processes the kernel could not start is refused before anything changes, with the field, the
process type and the sizes, never a value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._formation import process_command, process_env
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import WEB, ordered_types
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import split_command


# What the kernel lets a container's process receive (execve): one argv word or KEY=value env entry of at most
# MAX_ARG_STRLEN bytes with its terminating NUL (Linux: 32 pages of 4 KiB), and all of them together under
# ARG_MAX (a quarter of the stack limit: 2 MiB with Docker's default 8 MiB). Our bound for argv and env
# together is half of that, counted as the kernel counts (each string's bytes, its NUL and its 8-byte pointer):
# the rest is left for what Docker adds (the image's ENTRYPOINT and ENV, HOSTNAME, docker-init's argv).
MAX_ARG_STRLEN = 131072


MAX_STRING_BYTES = MAX_ARG_STRLEN - 1


MAX_PROCESS_BYTES = 1024 * 1024


POINTER_BYTES = 8


# The longest index counted in DYNO when the limits are checked (9 digits): a later scale-up never adds bytes.
_LONGEST_INDEX = 10 ** 9 - 1


def text_bytes(text):
    """The length of ``text`` in UTF-8 as the process receives it (a lone surrogate counts as the 3 bytes of
    the replacement character Docker puts in its place)."""
    return len(text.encode('utf-8', 'surrogatepass'))


def _process_bytes(strings):
    """What ``strings`` cost in a process's argv or env, counted as the kernel counts: bytes, NUL, pointer."""
    return sum(text_bytes(text) + 1 + POINTER_BYTES for text in strings)


def _command_field(doc, ptype):
    """The field that names where the command of ``ptype`` comes from, for messages."""
    source = doc.get('process_source')
    if source == 'procfile':
        return 'procfile (process type %s)' % ptype
    if source == 'procfile_path':
        return 'procfile_path (process type %s of the Procfile %s in image %s)' % (
            ptype, doc.get('procfile_path'), doc.get('image'))
    return 'processes.%s' % ptype


def _check_process(field, what, argv, env, ptype):
    """One process: argv words and env entries within MAX_STRING_BYTES, all of them within MAX_PROCESS_BYTES."""
    for number, word in enumerate(argv, 1):
        if '\x00' in word:
            raise ValidationError(field, 'word %d of %s contains a NUL character, which no process can receive'
                                  % (number, what))
        size = text_bytes(word)
        if size > MAX_STRING_BYTES:
            raise ValidationError(field, 'word %d of %s is %d bytes; one argument may be '
                                  'at most %d bytes (Linux MAX_ARG_STRLEN; the value is not shown)'
                                  % (number, what, size, MAX_STRING_BYTES))
    for entry in env:
        size = text_bytes(entry)
        if size > MAX_STRING_BYTES:
            raise ValidationError('env', 'the entry %s=... of process type %s is %d bytes; one environment entry may '
                                  'be at most %d bytes (Linux MAX_ARG_STRLEN; the value is not shown)'
                                  % (entry.partition('=')[0], ptype, size, MAX_STRING_BYTES))
    argv_bytes = _process_bytes(argv)
    env_bytes = _process_bytes(env)
    if argv_bytes + env_bytes > MAX_PROCESS_BYTES:
        environment = 'the environment (%s, %d bytes)' % (_count(len(env), 'entry', 'entries'), env_bytes)
        if argv:
            detail = '%s (%s, %d bytes) and %s' % (what, _count(len(argv), 'word', 'words'), argv_bytes, environment)
        else:
            detail = environment
        # the field is the larger part: the command, or the env
        raise ValidationError(field if argv_bytes > env_bytes else 'env',
                              '%s of process type %s: %d bytes, above the limit of %d bytes (1 MiB) for '
                              'the arguments and environment of one process (each string counted with its NUL '
                              'and an 8-byte pointer; values are not shown)'
                              % (detail, ptype, argv_bytes + env_bytes, MAX_PROCESS_BYTES))


def _count(number, one, many):
    return '%d %s' % (number, one if number == 1 else many)


def check_process_limits(doc):
    """Refuse a definition whose processes the kernel could not start (checked on the built document, after
    Procfile expansion, for every process type, and for the command of a type's command check, which Docker
    runs with the container's environment):

    * a command with a NUL character (no process can receive one; Docker's docker-init would loop on
      ``invalid argument``);
    * an argv word or a ``KEY=value`` env entry above MAX_STRING_BYTES (131071 bytes, Linux's MAX_ARG_STRLEN
      with the NUL);
    * argv and env together above MAX_PROCESS_BYTES (1 MiB), counted as the kernel does (bytes + NUL + 8-byte
      pointer per string), half of the 2 MiB ARG_MAX of Docker's default stack limit: the rest is for what
      Docker adds.

    DYNO is counted with a 9-digit index, so a later scale-up cannot go over. Messages name the field, the
    process type and the sizes, never a value (an expanded command may hold secrets). Apps that run the image's
    own command are checked for their environment (the image's command is the image's business).
    """
    processes = doc.get('processes')
    if processes is None:
        types = set(doc.get('formation') or {}) | set([WEB])
    else:
        types = set(processes)
    for ptype in ordered_types(types):
        env, port = process_env(doc, ptype, _LONGEST_INDEX)
        entries = ['%s=%s' % (key, env[key]) for key in sorted(env)]
        argv = []
        field = _command_field(doc, ptype) if processes is not None else 'env'
        command = process_command(doc, ptype)
        if command is not None:
            if '\x00' in command:
                raise ValidationError(field, 'the command contains a NUL character (at character %d), which no '
                                      'process can receive' % (command.index('\x00') + 1))
            argv = split_command(command, env, port, process_type=ptype, field=field)
        _check_process(field, 'the command after variable expansion', argv, entries, ptype)
    for ptype in sorted(doc.get('checks') or {}):
        check_command = (doc['checks'][ptype] or {}).get('command')
        if check_command:
            env, _port = process_env(doc, ptype, _LONGEST_INDEX)
            entries = ['%s=%s' % (key, env[key]) for key in sorted(env)]
            _check_process('checks.%s.command' % ptype, 'the check command', list(check_command), entries, ptype)
