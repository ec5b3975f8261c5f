# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for the files an app brings along: Procfile, DOKKU_SCALE, and Procfile commands.

Pure functions: text in, data out, :class:`ValidationError` (one line, naming the file or field, the
line and the rule) for anything wrong. Nothing else is ever raised for bad input.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._names import PROCESS_TYPE_RULE, is_process_type

# Word separators when splitting a command (a shell's default IFS, plus CR like shlex).
_SPLIT_WHITESPACE = " \t\r\n"
_NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_NAME_CHARS = _NAME_START + "0123456789"
_MAX_SHOWN = 40


def _show(value):
    """``repr`` of a user-supplied fragment, shortened so a message stays one short line."""
    if len(value) > _MAX_SHOWN:
        value = value[:_MAX_SHOWN] + "..."
    return repr(value)


def decode_text(text, source):
    """Text of a file as str: bytes decoded as UTF-8 (a one-line error naming ``source`` otherwise), a byte order
    mark dropped."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(source, "not valid UTF-8 text (byte %d)" % exc.start)
    if not isinstance(text, str):
        raise ValidationError(source, "expected text, got %s" % type(text).__name__)
    if text.startswith(u"\ufeff"):
        text = text[1:]
    return text


def _lines(text):
    """Number the lines of ``text``; CRLF and lone CR end a line like LF does."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return enumerate(text.split("\n"), 1)


def _is_comment_line(stripped):
    return stripped.startswith("#") or stripped.startswith("//")


def strip_trailing_comment(command):
    """Remove a trailing shell-style comment from ``command``.

    A ``#`` starts a comment only where a shell would see one: at the start of a word (first character,
    or preceded by whitespace) and outside single and double quotes; a backslash escapes the next
    character (not inside single quotes). So ``echo "#1"``, ``echo a#b`` and ``echo \\#x`` keep their
    ``#``, while ``run --fast  # why`` loses `` # why``. Trailing whitespace is removed too.
    """
    quote = None
    index = 0
    length = len(command)
    while index < length:
        char = command[index]
        if quote == "'":
            if char == "'":
                quote = None
        elif char == "\\":
            index += 1
        elif quote == '"':
            if char == '"':
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or command[index - 1].isspace()):
            return command[:index].rstrip()
        index += 1
    return command.rstrip()


def parse_procfile(text, source="Procfile"):
    """Parse Procfile text into an ordered ``{process type: command}``.

    Follows Dokku's lenient (procfile-util, non-strict) reading, with our stricter type names:

    * one ``type: command`` per line, split at the first colon; whitespace around both is trimmed;
    * blank lines are ignored; lines whose first non-blank characters are ``#`` or ``//`` are comments;
    * CRLF and lone CR line ends are accepted, as is a UTF-8 byte order mark; ``bytes`` are decoded as UTF-8;
    * a trailing comment is stripped only when its ``#`` starts a word (first character of the command or
      preceded by whitespace) and is outside quotes, as a shell would read it -- commands such as
      ``echo "#1"`` or ``curl host/#anchor`` keep their ``#`` (see :func:`strip_trailing_comment`);
    * the type must be a DNS label (``^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$``, SPEC 2), stricter than
      procfile-util's ``[A-Za-z0-9_-]+``, because it ends up in container names.

    Errors (:class:`ValidationError` with ``field=source``, naming the line): a line without a colon (this
    also catches merge-conflict markers), an empty type or command, an invalid type name, a duplicate type,
    a command with a NUL character (no process can receive it), and a Procfile that defines no process type
    at all.
    """
    text = decode_text(text, source)
    processes = OrderedDict()
    first_seen = {}
    for number, line in _lines(text):
        stripped = line.strip()
        if not stripped or _is_comment_line(stripped):
            continue
        if ":" not in stripped:
            raise ValidationError(source, "no ':' on line %d (each line must be 'type: command')" % number)
        name, command = stripped.split(":", 1)
        name = name.strip()
        command = strip_trailing_comment(command.strip())
        if not name:
            raise ValidationError(source, "missing process type before ':' on line %d" % number)
        if not is_process_type(name):
            raise ValidationError(source, "invalid process type %s on line %d: %s" % (_show(name), number, PROCESS_TYPE_RULE))
        if not command:
            raise ValidationError(source, "empty command for process type '%s' on line %d" % (name, number))
        if "\x00" in command:
            raise ValidationError(source, "the command of process type '%s' on line %d contains a NUL character, "
                                  "which no process can receive" % (name, number))
        if name in processes:
            raise ValidationError(source, "duplicate process type '%s' on line %d (first defined on line %d)"
                                  % (name, number, first_seen[name]))
        processes[name] = command
        first_seen[name] = number
    if not processes:
        raise ValidationError(source, "defines no process types (expected lines of 'type: command')")
    return processes


def parse_dokku_scale(text, source="DOKKU_SCALE"):
    """Parse a DOKKU_SCALE file into an ordered ``{process type: count}``.

    * one ``type=count`` per line, split at the first ``=``; whitespace around both is trimmed;
    * blank lines and ``#`` comment lines are ignored, as is a trailing `` # comment``; CRLF and lone CR
      line ends are accepted; ``bytes`` are decoded as UTF-8;
    * the count is a plain decimal integer >= 0 (no sign); the type must be a DNS label.

    Stricter than Dokku, which kept the first of duplicate entries and accepted negative counts: a duplicate
    type or a negative count is an error here. A file with no entries gives an empty dict; whether that
    is acceptable is the caller's decision.
    """
    text = decode_text(text, source)
    scale = OrderedDict()
    first_seen = {}
    for number, line in _lines(text):
        stripped = strip_trailing_comment(line.strip())
        if not stripped:
            continue
        if "=" not in stripped:
            raise ValidationError(source, "no '=' on line %d (each line must be 'type=count')" % number)
        name, count = stripped.split("=", 1)
        name = name.strip()
        count = count.strip()
        if not name:
            raise ValidationError(source, "missing process type before '=' on line %d" % number)
        if not is_process_type(name):
            raise ValidationError(source, "invalid process type %s on line %d: %s" % (_show(name), number, PROCESS_TYPE_RULE))
        if not count or not all(c in "0123456789" for c in count):
            raise ValidationError(source, "invalid count %s for process type '%s' on line %d: must be an integer >= 0"
                                  % (_show(count), name, number))
        if name in scale:
            raise ValidationError(source, "duplicate process type '%s' on line %d (first defined on line %d)"
                                  % (name, number, first_seen[name]))
        scale[name] = int(count)
        first_seen[name] = number
    return scale


class _Words(object):
    """Accumulates argv words; a word exists once anything (even an empty quoted string) started it."""

    def __init__(self):
        self.words = []
        self.current = []
        self.started = False

    def add(self, chars):
        self.current.append(chars)
        self.started = True

    def end(self):
        if self.started:
            self.words.append("".join(self.current))
        self.current = []
        self.started = False

    def add_split(self, value):
        """An unquoted expansion: field-split on whitespace, like a shell (no quote processing, no globs)."""
        for char in value:
            if char in _SPLIT_WHITESPACE:
                self.end()
            else:
                self.add(char)


def split_command(command, env, port, process_type=None, field=None):
    """Expand variables in a Procfile command and split it into argv, the way a POSIX shell would.

    * ``$NAME`` and ``${NAME}`` expand from ``env``; ``$PORT`` is ``port`` (``None`` or ``""`` give an empty
      string) and ``$PS`` is ``process_type``, both taking precedence over ``env``; unknown names expand to an
      empty string. ``${NAME:-word}`` / ``${NAME-word}`` (default when unset or empty / when unset) are
      supported because Procfiles often use ``${PORT:-5000}``; other ``${...}`` forms are refused.
    * ``$`` not followed by a name or ``{`` (``$1``, ``$$``, a lone ``$``) stays a literal ``$``.
    * Single quotes keep everything literal. Double quotes expand variables and keep the result in one word;
      a backslash inside them escapes only ``$ ` " \\`` and newline. Outside quotes a backslash escapes any
      character.
    * An unquoted expansion is split on whitespace into several words, and one that expands to nothing adds
      no word (a shell's field splitting; there is no globbing and quotes in values are not interpreted --
      unlike Dokku, which expands the text first and splits after).
    * An unquoted ``#`` at the start of a word starts a comment that runs to the end.

    The command is not run through a shell; this only builds the argv. Errors (:class:`ValidationError`,
    never showing values from ``env``): unterminated quotes or ``${``, a trailing backslash, an unsupported
    ``${...}`` form, and a command that yields no words.
    """
    if field is None:
        field = "processes.%s" % process_type if process_type else "command"
    if not isinstance(command, str):
        raise ValidationError(field, "the command must be a string, got %s" % type(command).__name__)
    variables = {}
    for key, value in (env or {}).items():
        variables[str(key)] = "" if value is None else str(value)
    variables["PORT"] = "" if port is None else str(port)
    if process_type is not None:
        variables["PS"] = str(process_type)

    words = _Words()
    index = 0
    length = len(command)
    while index < length:
        char = command[index]
        if char in _SPLIT_WHITESPACE:
            words.end()
            index += 1
        elif char == "'":
            close = command.find("'", index + 1)
            if close < 0:
                raise ValidationError(field, "unterminated single quote starting at character %d" % (index + 1))
            words.add(command[index + 1:close])
            index = close + 1
        elif char == '"':
            index = _double_quoted(command, index, variables, words, field)
        elif char == "\\":
            if index + 1 >= length:
                raise ValidationError(field, "the command ends with a backslash that escapes nothing")
            words.add(command[index + 1])
            index += 2
        elif char == "$":
            value, index = _expand(command, index, variables, field)
            if value is None:
                words.add("$")
            else:
                words.add_split(value)
        elif char == "#" and (index == 0 or command[index - 1] in _SPLIT_WHITESPACE):
            break
        else:
            words.add(char)
            index += 1
    words.end()
    if not words.words:
        raise ValidationError(field, "the command is empty after variable expansion")
    return words.words


def _double_quoted(command, start, variables, words, field):
    """Consume a double-quoted string starting at ``start`` (the quote); return the index after it."""
    words.add("")
    index = start + 1
    length = len(command)
    while index < length:
        char = command[index]
        if char == '"':
            return index + 1
        if char == "\\" and index + 1 < length and command[index + 1] in '$`"\\\n':
            if command[index + 1] != "\n":
                words.add(command[index + 1])
            index += 2
        elif char == "$":
            value, index = _expand(command, index, variables, field)
            words.add("$" if value is None else value)
        else:
            words.add(char)
            index += 1
    raise ValidationError(field, "unterminated double quote starting at character %d" % (start + 1))


def _expand(command, start, variables, field):
    """Expand the ``$`` at ``start``. Return ``(value, next index)``; value None means a literal ``$``."""
    length = len(command)
    index = start + 1
    if index < length and command[index] in _NAME_START:
        end = index
        while end < length and command[end] in _NAME_CHARS:
            end += 1
        return variables.get(command[index:end], ""), end
    if index < length and command[index] == "{":
        close = _closing_brace(command, index + 1)
        if close < 0:
            raise ValidationError(field, "unterminated '${' starting at character %d" % (start + 1))
        inner = command[index + 1:close]
        end = 0
        if inner and inner[0] in _NAME_START:
            end = 1
            while end < len(inner) and inner[end] in _NAME_CHARS:
                end += 1
        if end == 0:
            raise ValidationError(field, "bad substitution %s at character %d: expected ${NAME}"
                                  % (_show("${" + inner + "}"), start + 1))
        name, rest = inner[:end], inner[end:]
        if not rest:
            return variables.get(name, ""), close + 1
        if rest.startswith(":-"):
            value = variables.get(name, "")
            return (value if value else _expand_plain(rest[2:], variables, field)), close + 1
        if rest.startswith("-"):
            value = variables.get(name)
            return (value if value is not None else _expand_plain(rest[1:], variables, field)), close + 1
        raise ValidationError(field, "unsupported expansion %s at character %d: only ${NAME}, ${NAME:-default} and "
                              "${NAME-default} are supported" % (_show("${" + inner + "}"), start + 1))
    return None, index


def _closing_brace(text, index):
    """Index of the ``}`` closing a ``${`` whose body starts at ``index`` (nested ``${...}`` allowed), or -1."""
    depth = 0
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return -1


def _expand_plain(text, variables, field):
    """Expand ``$NAME`` / ``${NAME}`` in a ``${NAME:-default}`` default (no quote processing)."""
    out = []
    index = 0
    while index < len(text):
        if text[index] == "$":
            value, index = _expand(text, index, variables, field)
            out.append("$" if value is None else value)
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


CHECKS_SETTINGS = ("WAIT", "TIMEOUT", "ATTEMPTS")


def parse_checks_file(text, source="CHECKS"):
    """Dokku's CHECKS file (0.7-0.30) -> {'wait', 'timeout', 'attempts' (when set), 'http': [checks]}.

    ``#`` lines are comments; ``WAIT=5``, ``TIMEOUT=30`` and ``ATTEMPTS=5`` are settings (integers >= 0, and
    >= 1 for the last two); every other line is a check: a path or relative URL, optionally followed by
    whitespace and the content the response must contain. ``//host/path`` sends that Host header;
    ``https://host/path`` (or ``http://``) gives the scheme and the Host header. Each check is
    ``{'path', 'content', 'host', 'scheme'}``.
    """
    text = decode_text(text, source)
    result = {"http": []}
    for number, line in _lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if sep and key.strip().upper() in CHECKS_SETTINGS and " " not in key.strip():
            name = key.strip().upper()
            value = value.strip()
            minimum = 0 if name == "WAIT" else 1
            if not value.isdigit() or int(value) < minimum:
                raise ValidationError(source, "%s on line %d must be an integer >= %d, not %s"
                                      % (name, number, minimum, _show(value)))
            result[name.lower()] = int(value)
            continue
        target, _space, content = stripped.partition(" ")
        content = content.strip()
        scheme, host, path = "http", None, target
        for prefix in ("https://", "http://"):
            if target.lower().startswith(prefix):
                scheme = prefix[:-3].lower()
                host, _slash, rest = target[len(prefix):].partition("/")
                path = "/" + rest
                break
        else:
            if target.startswith("//"):
                host, _slash, rest = target[2:].partition("/")
                path = "/" + rest
        if not path.startswith("/") or (host is not None and not host):
            raise ValidationError(source, "line %d: %s is not a path (/about), //host/path or an http(s) URL"
                                  % (number, _show(target)))
        problem = http_target_problem(path, host)
        if problem:
            raise ValidationError(source, "line %d: %s" % (number, problem))
        result["http"].append({"path": path, "content": content or None, "host": host, "scheme": scheme})
    return result


def _unsendable(text):
    """The first character of ``text`` an HTTP/1.1 request line or header cannot carry as it is (a control
    character, whitespace, DEL or a non-ASCII character), as ``(position, char)``, or None."""
    for position, char in enumerate(text, 1):
        if ord(char) <= 32 or ord(char) >= 127:
            return position, char
    return None


def http_target_problem(path, host):
    """What is wrong with the path and Host header of an HTTP check, or None.

    ``http.client`` refuses control characters and spaces in a path (``InvalidURL``) and non-ASCII
    characters (``UnicodeEncodeError``), and passes a CR or LF followed by a blank into a header unchanged (a
    second header smuggled into the request); so neither may contain control characters, whitespace, DEL or
    non-ASCII characters: percent-encode them in a path, use the IDNA (xn--) form of a host name.
    """
    found = _unsendable(path)
    if found:
        return ("the path %s has %s at character %d, which an HTTP request cannot carry (percent-encode it)"
                % (_show(path), _describe_char(found[1]), found[0]))
    if host is not None:
        found = _unsendable(host)
        if found:
            return ("the host %s has %s at character %d, which a Host header cannot carry (a host name, optionally "
                    "with :port, in its ASCII form)" % (_show(host), _describe_char(found[1]), found[0]))
    return None


def _describe_char(char):
    if char == "\x00":
        return "a NUL character"
    if char == " ":
        return "a space"
    if ord(char) < 32 or ord(char) == 127:
        return "a control character (%r)" % char
    if char.isspace():
        return "whitespace (%r)" % char
    return "a non-ASCII character (%r)" % char
