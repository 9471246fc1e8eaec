"""BuildKit's shell lexer: quotes, escapes, word splitting and every `${...}` form, checked against shell semantics."""

from __future__ import annotations

import pytest

from dockyard.dockerfile import DockerfileSyntaxError, ShellLex

ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "EMPTY": "", "FOO": "foo.tar.gz", "PATH": "/a:/b"}

WORDS = [
    ("hello", "hello", ("hello",)),
    ("he'll'o", "hello", ("hello",)),
    ("he\\'llo", "he'llo", ("he'llo",)),
    ("hel\\lo", "hello", ("hello",)),
    ("hel\\\\lo", "hel\\lo", ("hel\\lo",)),
    ("'hel'\\''lo'", "hel'lo", ("hel'lo",)),
    ('"hel\\"lo"', 'hel"lo', ('hel"lo',)),
    ('"h\\$ello"', "h$ello", ("h$ello",)),
    ('"a\\b"', "a\\b", ("a\\b",)),
    ("$PWD", "/home", ("/home",)),
    ("${PWD}", "/home", ("/home",)),
    ("\\$PWD", "$PWD", ("$PWD",)),
    ("'$PWD'", "$PWD", ("$PWD",)),
    ('"$PWD"', "/home", ("/home",)),
    ("${KOREAN}", "한국어", ("한국어",)),
    ("${UNSET:-x}", "x", ("x",)),
    ("${EMPTY:-x}", "x", ("x",)),
    ("${EMPTY-x}", "", ()),
    ("${UNSET-x}", "x", ("x",)),
    ("${PWD:+y}", "y", ("y",)),
    ("${EMPTY:+y}", "", ()),
    ("${EMPTY+y}", "y", ("y",)),
    ("${UNSET+y}", "", ()),
    ("${EMPTY?}", "", ()),
    ("${PWD:?}", "/home", ("/home",)),
    ("${FOO%.gz}", "foo.tar", ("foo.tar",)),
    ("${FOO%%.*}", "foo", ("foo",)),
    ("${FOO%.*}", "foo.tar", ("foo.tar",)),
    ("${FOO#*.}", "tar.gz", ("tar.gz",)),
    ("${FOO##*.}", "gz", ("gz",)),
    ("${PATH/:/;}", "/a;/b", ("/a;/b",)),
    ("${PATH//\\//|}", "|a:|b", ("|a:|b",)),
    ("$", "$", ("$",)),
    ("$1", "", ()),
    ("${PWD:-${SHELL}}", "/home", ("/home",)),
    ("${UNSET:-${SHELL}-x}", "bash-x", ("bash-x",)),
    ("a b  c", "a b  c", ("a", "b", "c")),
    ('"a b"  c', "a b  c", ("a b", "c")),
    ("e\\ f", "e f", ("e f",)),
    ("${UNSET:-a b}", "a b", ("a", "b")),
    ('"${UNSET:-a b}"', "a b", ("a b",)),
    ('""', "", ()),
]


@pytest.mark.parametrize(("word", "value", "words"), WORDS)
def test_dockerfile_lexer_words(word: str, value: str, words: tuple[str, ...]) -> None:
    result = ShellLex().process(word, ENV)
    assert (result.value, result.words) == (value, words)


@pytest.mark.parametrize(("word", "message"), [
    ("he'llo", "matching single-quote"),
    ('"abc', "matching double-quote"),
    ("${UNSET:?must be set}", "UNSET: must be set"),
    ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
    ("${UNSET?}", "UNSET: is not allowed to be unset"),
    ("${}", "bad substitution"),
    ("${:}", "bad substitution"),
    ("${PWD", "missing '}'"),
    ("${PWD:x}", "unsupported modifier"),
    ("${PWD:#x}", "unsupported modifier"),
    ("${PATH/a", "missing '/'"),
    ("${PATH#\\x}", "invalid escape"),
])
def test_dockerfile_lexer_errors(word: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        ShellLex().word(word, ENV)


def test_dockerfile_lexer_backtick_escape() -> None:
    assert ShellLex("`").word("a`$b`\\c\\d", {"b": "x"}) == "a$b\\c\\d"


def test_dockerfile_lexer_modes() -> None:
    assert ShellLex(skip_unset=True).word("$A ${B} ${C:-d} ${D/a/b} $PWD", ENV) == "$A ${B} ${C:-d} ${D/a/b} /home"
    assert ShellLex(raw_quotes=True).word("'a'\"b\"", {}) == "'a'\"b\""
    assert ShellLex(raw_escapes=True).word("a\\ b", {}) == "a\\ b"
    assert ShellLex(skip_quotes=True).word("it's \"$PWD\"", ENV) == "it's \"/home\""


def test_dockerfile_lexer_reports_names() -> None:
    result = ShellLex().process("$PWD ${NOPE:-x} $EMPTY", ENV)
    assert result.matched == {"PWD", "EMPTY"} and result.unmatched == {"NOPE"}


def test_dockerfile_lexer_is_linear_on_long_input() -> None:
    word = "${X:-" * 200 + "y" + "}" * 200 + " a" * 5000
    assert ShellLex().words(word, {})[0] == "y"


def test_dockerfile_lexer_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(DockerfileSyntaxError, match="nested too deeply"):
        ShellLex().word("${X:-" * 5000 + "}" * 5000, {})


def test_dockerfile_lexer_patterns_do_not_backtrack() -> None:
    value = "a" * 3000
    assert ShellLex().word("${V#*a*a*a*a*a*a*a*a*a*c}", {"V": value}) == value
    assert ShellLex().word("${V//a/b}", {"V": "banana"}) == "bbnbnb"
    assert ShellLex().word("${V/n*/N}", {"V": "banana"}) == "baN"
    assert ShellLex().word("${V%a*}", {"V": "banana"}) == "banan"
    assert ShellLex().word("${V%%a*}", {"V": "banana"}) == "b"
    assert ShellLex().word("${V#\\*}", {"V": "*x"}) == "x"
