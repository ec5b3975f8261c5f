# -*- coding: utf-8 -*-
# Copyright: dokku_ps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dokku_ps.docker.plugins.module_utils._errors import ValidationError
from ansible_collections.dokku_ps.docker.plugins.module_utils._parsers import (
    http_target_problem,
    parse_checks_file,
    parse_dokku_scale,
    parse_procfile,
    split_command,
    strip_trailing_comment,
)
from tests.unit.helpers import raised, refused


# ---------------------------------------------------------------- parse_procfile

def test_procfile_basic_order_and_trimming():
    text = "web:  node web.js --port $PORT  \nworker:python worker.py\n  release : ./migrate\n"
    assert parse_procfile(text) == OrderedDict([
        ("web", "node web.js --port $PORT"),
        ("worker", "python worker.py"),
        ("release", "./migrate"),
    ])
    assert list(parse_procfile(text)) == ["web", "worker", "release"]


def test_procfile_comments_blank_lines_crlf_cr_and_bom():
    text = u"\ufeff# a comment\r\n\r\n   # indented comment\r\n// slash comment\rweb: run a\r\n\t\nworker: run b"
    assert parse_procfile(text) == {"web": "run a", "worker": "run b"}


def test_procfile_bytes_are_decoded():
    assert parse_procfile(b"web: echo caf\xc3\xa9\n") == {"web": u"echo caf\xe9"}


def test_procfile_bad_utf8():
    with pytest.raises(ValidationError, match=r"^Procfile: not valid UTF-8"):
        parse_procfile(b"web: \xff\n")


def test_procfile_splits_at_first_colon():
    assert parse_procfile("web: gunicorn -b 0.0.0.0:$PORT app:main") == {"web": "gunicorn -b 0.0.0.0:$PORT app:main"}


@pytest.mark.parametrize("line, command", [
    ("web: run --fast # explain", "run --fast"),
    ("web: run --fast\t# explain", "run --fast"),
    ('web: echo "#1"', 'echo "#1"'),
    ("web: echo '#1 # two'", "echo '#1 # two'"),
    ("web: echo a#b", "echo a#b"),
    ("web: curl http://host/#anchor", "curl http://host/#anchor"),
    ("web: echo \\#literal", "echo \\#literal"),
    ('web: echo "a \\" # still quoted" # gone', 'echo "a \\" # still quoted"'),
])
def test_procfile_trailing_comments(line, command):
    assert parse_procfile(line) == {"web": command}


def test_strip_trailing_comment_unbalanced_quote_keeps_everything():
    assert strip_trailing_comment('echo "abc # def') == 'echo "abc # def'


@pytest.mark.parametrize("text, message", [
    ("web run", "Procfile: no ':' on line 1 (each line must be 'type: command')"),
    ("web: a\n<<<<<<< HEAD\n", "Procfile: no ':' on line 2 (each line must be 'type: command')"),
    ("web:", "Procfile: empty command for process type 'web' on line 1"),
    ("web:   # only a comment", "Procfile: empty command for process type 'web' on line 1"),
    (": run", "Procfile: missing process type before ':' on line 1"),
    ("web: a\n\nworker: b\nweb: c\n", "Procfile: duplicate process type 'web' on line 4 (first defined on line 1)"),
    ("", "Procfile: defines no process types (expected lines of 'type: command')"),
    ("# nothing\n\n", "Procfile: defines no process types (expected lines of 'type: command')"),
])
def test_procfile_errors(text, message):
    assert refused(parse_procfile, text) == message


@pytest.mark.parametrize("name", ["Web", "my_worker", "-web", "web-", "a" * 64, "web.1", "my web"])
def test_procfile_invalid_type_names(name):
    message = refused(parse_procfile, "%s: run" % name)
    assert message.startswith("Procfile: invalid process type ")
    assert "on line 1" in message and "DNS label" in message and "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$" in message


@pytest.mark.parametrize("name", ["web", "a", "0", "a-b", "w" * 63, "1st-worker"])
def test_procfile_valid_type_names(name):
    assert parse_procfile("%s: run" % name) == {name: "run"}


def test_procfile_source_names_the_field():
    error = raised(ValidationError, parse_procfile, "bad", source="procfile_path:/app/Procfile")
    assert error.details["field"] == "procfile_path:/app/Procfile"
    assert str(error).startswith("procfile_path:/app/Procfile: ")


def test_procfile_long_name_is_shortened_in_message():
    message = refused(parse_procfile, "%s: run" % ("X" * 500))
    assert len(message) < 300


# ---------------------------------------------------------------- parse_dokku_scale

def test_dokku_scale_basic():
    text = "web=1\r\n worker = 2 \n# comment\n\nclock=0  # trailing comment\r"
    assert parse_dokku_scale(text) == OrderedDict([("web", 1), ("worker", 2), ("clock", 0)])


def test_dokku_scale_empty_is_empty():
    assert parse_dokku_scale("") == {}
    assert parse_dokku_scale("# only comments\n") == {}


@pytest.mark.parametrize("text, message", [
    ("web", "DOKKU_SCALE: no '=' on line 1 (each line must be 'type=count')"),
    ("web=1\nweb=2", "DOKKU_SCALE: duplicate process type 'web' on line 2 (first defined on line 1)"),
    ("web=-1", "DOKKU_SCALE: invalid count '-1' for process type 'web' on line 1: must be an integer >= 0"),
    ("web=", "DOKKU_SCALE: invalid count '' for process type 'web' on line 1: must be an integer >= 0"),
    ("web=two", "DOKKU_SCALE: invalid count 'two' for process type 'web' on line 1: must be an integer >= 0"),
    ("web=1.5", "DOKKU_SCALE: invalid count '1.5' for process type 'web' on line 1: must be an integer >= 0"),
    ("web=+1", "DOKKU_SCALE: invalid count '+1' for process type 'web' on line 1: must be an integer >= 0"),
    ("web=b=1", "DOKKU_SCALE: invalid count 'b=1' for process type 'web' on line 1: must be an integer >= 0"),
    ("=1", "DOKKU_SCALE: missing process type before '=' on line 1"),
])
def test_dokku_scale_errors(text, message):
    assert refused(parse_dokku_scale, text) == message


def test_dokku_scale_invalid_name():
    with pytest.raises(ValidationError, match=r"^DOKKU_SCALE: invalid process type 'Web' on line 2: must be at most 63 "
                                              r"characters: lowercase letters, digits and dashes"):
        parse_dokku_scale("web=1\nWeb=1")


def test_dokku_scale_non_ascii_digits_refused():
    refused(parse_dokku_scale, u"web=\u0663")  # ARABIC-INDIC DIGIT THREE: int() would accept it


# ---------------------------------------------------------------- split_command

ENV = {"GREETING": "hello world", "EMPTY": "", "OPTS": " -a  -b ", "NAME": "x"}


@pytest.mark.parametrize("command, argv", [
    ("node web.js --port $PORT", ["node", "web.js", "--port", "5000"]),
    ("node web.js --port ${PORT}", ["node", "web.js", "--port", "5000"]),
    ("echo $GREETING", ["echo", "hello", "world"]),
    ('echo "$GREETING"', ["echo", "hello world"]),
    ("echo '$GREETING'", ["echo", "$GREETING"]),
    ('echo "${GREETING}!"', ["echo", "hello world!"]),
    ("echo $UNKNOWN end", ["echo", "end"]),
    ('echo "$UNKNOWN" end', ["echo", "", "end"]),
    ("echo $EMPTY", ["echo"]),
    ("run $OPTS", ["run", "-a", "-b"]),
    ("run pre$OPTS", ["run", "pre", "-a", "-b"]),
    ("echo $PS", ["echo", "web"]),
    ("echo ${NAME}_suffix $NAME_suffix", ["echo", "x_suffix"]),
    ("echo ${UNKNOWN:-fallback} ${EMPTY:-def} ${EMPTY-def}", ["echo", "fallback", "def"]),
    ("bind 0.0.0.0:${PORT:-8000}", ["bind", "0.0.0.0:5000"]),
    ("echo ${A:-${NAME}y}", ["echo", "xy"]),
    ("echo $ $1 $$ cost$", ["echo", "$", "$1", "$$", "cost$"]),
    ('echo "a \\"quoted\\" \\$NAME \\\\ \\n"', ["echo", 'a "quoted" $NAME \\ \\n']),
    ("echo a\\ b \\$NAME", ["echo", "a b", "$NAME"]),
    ("echo '' \"\"", ["echo", "", ""]),
    ("  spaced   \t out  ", ["spaced", "out"]),
    ("echo hi # a comment", ["echo", "hi"]),
    ("echo a#b '#c' \"#d\"", ["echo", "a#b", "#c", "#d"]),
    ("sh -c 'exec gunicorn -b :$PORT app'", ["sh", "-c", "exec gunicorn -b :$PORT app"]),
    ('python -c "print(\'$NAME\')"', ["python", "-c", "print('x')"]),
])
def test_split_command(command, argv):
    assert split_command(command, ENV, 5000, process_type="web") == argv


def test_split_command_port_empty_or_none():
    assert split_command("echo $PORT.", {}, None) == ["echo", "."]
    assert split_command("echo $PORT.", {}, "") == ["echo", "."]
    assert split_command("echo $PORT", {"PORT": "1"}, 80) == ["echo", "80"]


def test_split_command_port_and_ps_override_env():
    assert split_command("$PORT $PS", {"PORT": "1", "PS": "zzz"}, 2, process_type="worker") == ["2", "worker"]


def test_split_command_non_string_env_values():
    assert split_command("echo $N $M.", {"N": 3, "M": None}, None) == ["echo", "3", "."]


@pytest.mark.parametrize("command, rule", [
    ("echo 'abc", "unterminated single quote starting at character 6"),
    ('echo "abc', "unterminated double quote starting at character 6"),
    ("echo abc\\", "the command ends with a backslash that escapes nothing"),
    ("echo ${NAME", "unterminated '${' starting at character 6"),
    ("echo ${}", "bad substitution '${}' at character 6: expected ${NAME}"),
    ("echo ${1x}", "bad substitution '${1x}' at character 6: expected ${NAME}"),
    ("echo ${NAME:=x}", "unsupported expansion '${NAME:=x}' at character 6: only ${NAME}, ${NAME:-default} and "
                        "${NAME-default} are supported"),
    ("", "the command is empty after variable expansion"),
    ("$EMPTY $UNKNOWN", "the command is empty after variable expansion"),
    ("# just a comment", "the command is empty after variable expansion"),
])
def test_split_command_errors(command, rule):
    message = refused(split_command, command, ENV, 5000, process_type="web")
    assert message == "processes.web: " + rule


def test_split_command_errors_never_show_env_values():
    message = refused(split_command, 'echo "$SECRET', {"SECRET": "hunter2"}, None, field="processes.web")
    assert "hunter2" not in message


def test_split_command_field_default_and_override():
    with pytest.raises(ValidationError, match=r"^command: "):
        split_command("", {}, None)
    with pytest.raises(ValidationError, match=r"^my field: "):
        split_command("", {}, None, process_type="web", field="my field")


def test_split_command_non_string():
    with pytest.raises(ValidationError, match=r"must be a string"):
        split_command(None, {}, None)


# ---------------------------------------------------------------- properties

@settings(max_examples=300)
@given(st.one_of(st.text(), st.binary()))
def test_parsers_only_raise_validation_error(text):
    for parser in (parse_procfile, parse_dokku_scale):
        try:
            result = parser(text)
        except ValidationError as exc:
            assert "\n" not in str(exc)
        else:
            assert isinstance(result, OrderedDict)


_procfile_ish = st.lists(
    st.one_of(
        st.sampled_from(["web", "worker", "Web", "w_1", "", " ", "#", "//", ":", "=", "\r\n", "\r", "\n", "'", '"',
                         "\\", "$", "${", "}", "1", "-1", " # ", "\t"]),
        st.text(max_size=5),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=500)
@given(_procfile_ish)
def test_parsers_only_raise_validation_error_on_procfile_like_text(text):
    for parser in (parse_procfile, parse_dokku_scale):
        try:
            parser(text)
        except ValidationError as exc:
            assert "\n" not in str(exc)


@settings(max_examples=500)
@given(_procfile_ish, st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=4),
       st.one_of(st.none(), st.integers(0, 65535), st.just("")))
def test_split_command_only_raises_validation_error(command, env, port):
    try:
        argv = split_command(command, env, port, process_type="web")
    except ValidationError as exc:
        assert "\n" not in str(exc)
    else:
        assert argv and all(isinstance(word, str) for word in argv)


_SHLEX_SAFE = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 \t'\"\\-_=.:/@%+,;()[]{}*?!~<>|&")),
    max_size=40,
)


@settings(max_examples=500)
@given(_SHLEX_SAFE)
def test_split_command_matches_shlex_without_expansion(command):
    """Without ``$``, ``#``, backticks and newlines, quoting and escaping behave exactly like shlex (posix)."""
    try:
        expected = shlex.split(command)
    except ValueError:
        expected = None
    try:
        argv = split_command(command, {}, None)
    except ValidationError:
        argv = None
    if expected == []:
        assert argv is None  # an empty command is an error for us
    else:
        assert argv == expected


_process_type = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20).filter(
    lambda name: not name.startswith("-") and not name.endswith("-"))
_plain_word = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Z"), blacklist_characters="#'\"\\\x85"),
    min_size=1, max_size=8,
).filter(lambda word: word == word.strip())
_word = st.one_of(
    _plain_word,
    _plain_word.map(lambda word: word + "#" + word),
    # Quoted words: '...' and "..." hiding " #" from the comment stripper.
    st.text(alphabet=st.one_of(st.sampled_from([" ", "#", '"', "\\", "$", "\t"]),
                               st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="'\x85\u2028\u2029")),
            max_size=8).map(lambda inner: "'" + inner + "'"),
    st.lists(st.one_of(st.sampled_from([" ", "#", "'", "\\\"", "\\\\", "$", "\t"]),
                       st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\"\\\x85\u2028\u2029")),
             max_size=8).map(lambda parts: '"' + "".join(parts) + '"'),
)
_command = st.lists(_word, min_size=1, max_size=6).map(" ".join)


@st.composite
def _procfiles(draw):
    processes = draw(st.dictionaries(_process_type, _command, min_size=1, max_size=6))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = []
    for name, command in processes.items():
        for dummy in range(draw(st.integers(0, 2))):
            lines.append(draw(st.sampled_from(["", "   ", "# comment", "  # indented: comment", "// other", "\t"])))
        trailing = draw(st.sampled_from(["", "  ", " # trailing comment", "\t#x"]))
        before = draw(st.sampled_from(["", " "]))
        after_colon = draw(st.sampled_from(["", " ", "\t", "   "]))
        lines.append(before + name + before + ":" + after_colon + command + trailing)
    if draw(st.booleans()):
        lines.append("")
    return processes, newline.join(lines)


@settings(max_examples=300)
@given(_procfiles())
def test_procfile_round_trip(case):
    processes, text = case
    parsed = parse_procfile(text)
    assert parsed == processes
    assert list(parsed) == list(processes)


@st.composite
def _scale_files(draw):
    scale = draw(st.dictionaries(_process_type, st.integers(0, 10 ** 6), max_size=6))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = []
    for name, count in scale.items():
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# comment", "  # x=1"])))
        pad = draw(st.sampled_from(["", " ", "\t"]))
        trailing = draw(st.sampled_from(["", " ", " # c"]))
        lines.append(pad + name + pad + "=" + pad + str(count) + trailing)
    return scale, newline.join(lines)


@settings(max_examples=300)
@given(_scale_files())
def test_dokku_scale_round_trip(case):
    scale, text = case
    parsed = parse_dokku_scale(text)
    assert parsed == scale
    assert list(parsed) == list(scale)


# ---------------------------------------------------------------- input Docker, the kernel or HTTP cannot take

@pytest.mark.parametrize("text, line", [
    ("web: sleep\x00 1\n", 1),
    ("# fine\nworker: work\nweb: \x00sleep 1\r\n", 3),
    ("web: sleep 1 # a comment\x00\nworker: w\x00\n", 2),
])
def test_procfile_refuses_nul_in_a_command(text, line):
    message = refused(parse_procfile, text, source="/app/Procfile in image shop:1")
    assert message.startswith("/app/Procfile in image shop:1: ") and "NUL" in message
    assert "line %d" % line in message and "\x00" not in message


def test_procfile_nul_in_a_comment_line_is_harmless():
    assert parse_procfile("# \x00\nweb: run\n") == {"web": "run"}


@pytest.mark.parametrize("text, what", [
    ("/he\x00alth\n", "a NUL character"),
    ("/a\tb ok\n", "a control character"),
    ("/a\x7f\n", "a control character"),
    ("/caf\u00e9\n", "a non-ASCII character"),
    ("//ho\x00st/x\n", "the host"),
    ("https://h\u00f6st/x\n", "the host"),
    ("//a\x01b/\n", "the host"),
])
def test_checks_file_refuses_what_http_cannot_send(text, what):
    message = refused(parse_checks_file, text)
    assert message.startswith("CHECKS: line 1: ") and what in message, message
    assert "\x00" not in message


@pytest.mark.parametrize("path, host", [("/a b", None), ("/x", "a b"), ("/x", "h\r\n X: y"), ("/x\r\nX: y", None)])
def test_http_target_problem(path, host):
    problem = http_target_problem(path, host)
    assert problem and "\n" not in problem and "\r" not in problem


def test_http_target_problem_accepts_ordinary_targets():
    for path, host in (("/", None), ("/health?full=1&x=%20", "example.com:8080"), ("/a/b#c", "xn--hst-sna.test")):
        assert http_target_problem(path, host) is None


@settings(max_examples=300)
@given(st.text(), st.one_of(st.none(), st.text()))
def test_http_target_problem_never_raises_and_is_one_line(path, host):
    problem = http_target_problem(path, host)
    if problem is not None:
        assert "\n" not in problem and "\r" not in problem
    else:
        assert all(32 < ord(char) < 127 for char in path + (host or ""))
