"""BuildKit's shell-word lexer (`frontend/dockerfile/shell/lex.go`): quotes, escapes, word splitting, `$VAR` expansion.

Only the builder's subset of shell: `$NAME`, `${NAME}`, `${NAME[:]-word}`, `${NAME[:]+word}`, `${NAME[:]?word}`,
`${NAME#pat}`, `${NAME##pat}`, `${NAME%pat}`, `${NAME%%pat}`, `${NAME/pat/repl}`, `${NAME//pat/repl}`.
Single quotes are literal; the escape token (`\\` or a backtick) escapes outside quotes and, inside double quotes,
only before `"`, `$` and itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.dockerfile.errors import DockerfileSyntaxError
from dockyard.dockerfile.shellpattern import replace_pattern, trim_prefix, trim_suffix
from dockyard.dockerfile.textutil import go_isdigit, go_isletter, go_isspace

_SPECIAL_PARAMS = frozenset("@*#?-$!0")


@dataclass(frozen=True, slots=True)
class Expansion:
    """The result of processing one word: the joined text, the split words, and which names were looked up."""

    value: str
    words: tuple[str, ...]
    matched: frozenset[str] = field(default_factory=frozenset)
    unmatched: frozenset[str] = field(default_factory=frozenset)


class _Words:
    """Word splitting after expansion (the `wordsStruct` of lex.go)."""

    __slots__ = ("buf", "in_word", "words")

    def __init__(self) -> None:
        self.words: list[str] = []
        self.buf: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if not go_isspace(ch):
            self.add_raw_char(ch)
        elif self.in_word:
            self._flush()

    def add_raw_char(self, ch: str) -> None:
        self.buf.append(ch)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def _flush(self) -> None:
        text = "".join(self.buf)
        if text:
            self.words.append(text)
            self.buf.clear()
            self.in_word = False

    def result(self) -> list[str]:
        self._flush()
        return self.words


class ShellLex:
    """One lexer configuration; `process` may be called many times (it is not thread-safe while running)."""

    def __init__(self, escape: str = "\\", *, raw_quotes: bool = False, raw_escapes: bool = False,
                 skip_unset: bool = False, skip_quotes: bool = False) -> None:
        self.escape, self.raw_quotes, self.raw_escapes = escape, raw_quotes, raw_escapes
        self.skip_unset, self.skip_quotes = skip_unset, skip_quotes
        self._src, self._pos, self._raw = "", 0, False
        self._env: Mapping[str, str] = {}
        self._matched: set[str] = set()
        self._unmatched: set[str] = set()

    def process(self, word: str, env: Mapping[str, str]) -> Expansion:
        """Expand `word` with `env`; raises `DockerfileSyntaxError` for a bad substitution or an open quote."""
        self._src, self._pos, self._env, self._raw = word, 0, env, self.raw_escapes
        self._matched, self._unmatched = set(), set()
        try:
            value, words = self._process_stop_on(None, self.raw_escapes)
        except _LexError as err:
            raise DockerfileSyntaxError(f"failed to process {word!r}: {err}") from None
        except RecursionError:
            raise DockerfileSyntaxError(f"failed to process {word[:40]!r}: substitutions nested too deeply") from None
        return Expansion(value, tuple(words), frozenset(self._matched), frozenset(self._unmatched))

    def word(self, word: str, env: Mapping[str, str]) -> str:
        """`ProcessWord`: the expanded text with quotes removed and inner spaces kept."""
        return self.process(word, env).value

    def words(self, word: str, env: Mapping[str, str]) -> tuple[str, ...]:
        """`ProcessWords`: the expanded text split into words (quotes keep spaces inside a word)."""
        return self.process(word, env).words

    def _peek(self) -> str | None:
        return self._src[self._pos] if self._pos < len(self._src) else None

    def _next(self) -> str | None:
        if self._pos < len(self._src):
            self._pos += 1
            return self._src[self._pos - 1]
        return None

    # -- lex.go, function by function ----------------------------------------------------------------------------
    def _process_stop_on(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        saved, self._raw = self._raw, raw_escapes
        try:
            while (ch := self._peek()) is not None:
                if stop is not None and ch == stop:
                    self._next()
                    return "".join(result), words.result()
                if ch == "$":
                    tmp = self._process_dollar()
                    result.append(tmp)
                    words.add_string(tmp)
                elif ch in "'\"" and not self.skip_quotes:
                    tmp = self._single_quote() if ch == "'" else self._double_quote()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                else:
                    self._next()
                    if ch == self.escape:
                        if self._raw:
                            words.add_raw_char(ch)
                            result.append(ch)
                        nxt = self._next()
                        if nxt is None:
                            break
                        words.add_raw_char(nxt)
                        result.append(nxt)
                    else:
                        words.add_char(ch)
                        result.append(ch)
        finally:
            self._raw = saved
        if stop is not None:
            raise _LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def _single_quote(self) -> str:
        out: list[str] = []
        quote = self._next()
        if self.raw_quotes and quote:
            out.append(quote)
        while True:
            ch = self._next()
            if ch is None:
                raise _LexError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def _double_quote(self) -> str:
        out: list[str] = []
        quote = self._next()
        if self.raw_quotes and quote:
            out.append(quote)
        while True:
            ch = self._peek()
            if ch is None:
                raise _LexError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self._next()
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self._process_dollar())
                continue
            self._next()
            if ch == self.escape:
                if self._raw:
                    out.append(ch)
                nxt = self._peek()
                if nxt is None:
                    continue
                if nxt in ('"', "$", self.escape):
                    ch = nxt
                    self._next()
            out.append(ch)

    def _process_dollar(self) -> str:
        self._next()
        if self._peek() != "{":
            name = self._process_name()
            if not name:
                return "$"
            value = self._get(name)
            if value is None:
                return "$" + name if self.skip_unset else ""
            return value
        self._next()
        first = self._peek()
        if first is None:
            raise _LexError("syntax error: missing '}'")
        if first in "{}:":
            raise _LexError("syntax error: bad substitution")
        name = self._process_name()
        ch = self._next()
        if ch is None:
            raise _LexError("syntax error: missing '}'")
        if ch == "}":
            value = self._get(name)
            if value is None:
                return "${" + name + "}" if self.skip_unset else ""
            return value
        if ch == "/":
            return self._substitute(name)
        modifier, null_is_unset = ch, False
        if ch == ":":
            null_is_unset = True
            modifier = self._next() or ""
            if not modifier:
                raise _LexError("syntax error: missing '}'")
        if modifier not in ("+", "-", "?", "#", "%"):
            raise _LexError(f"unsupported modifier ({ch if ch != ':' else ':' + modifier}) in substitution")
        pattern_op = modifier in "#%"
        if null_is_unset and pattern_op:
            raise _LexError(f"unsupported modifier (:{modifier}) in substitution")
        word = self._stop_on_brace("}", pattern_op)
        value = self._get(name)
        if value is None and self.skip_unset:
            return "${" + name + (":" if null_is_unset else "") + modifier + word + "}"
        empty = value is None or (null_is_unset and value == "")
        if modifier == "-":
            return word if empty else (value or "")
        if modifier == "+":
            return "" if empty else word
        if modifier == "?":
            if value is None:
                raise _LexError(f"{name}: {word or 'is not allowed to be unset'}")
            if empty:
                raise _LexError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        greedy = word.startswith(modifier)
        if greedy:
            word = word[1:]
        if modifier == "%":
            return trim_suffix(word, value or "", greedy)
        return trim_prefix(word, value or "", greedy)

    def _substitute(self, name: str) -> str:
        replace_all = self._peek() == "/"
        if replace_all:
            self._next()
        pattern = self._stop_on_brace("/", True, missing="syntax error: missing '/' in ${}")
        replacement = self._stop_on_brace("}", True)
        value = self._get(name)
        if value is None and self.skip_unset:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        return replace_pattern(value or "", pattern, replacement, replace_all=replace_all)

    def _stop_on_brace(self, stop: str, raw_escapes: bool, missing: str = "syntax error: missing '}'") -> str:
        try:
            word, _ = self._process_stop_on(stop, raw_escapes)
        except _LexError:
            if self._peek() is None:
                raise _LexError(missing) from None
            raise
        return word

    def _process_name(self) -> str:
        name: list[str] = []
        while (ch := self._peek()) is not None:
            if not name and go_isdigit(ch):
                while (d := self._peek()) is not None and go_isdigit(d):
                    name.append(d)
                    self._next()
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                self._next()
                return ch
            if not (go_isletter(ch) or go_isdigit(ch) or ch == "_"):
                break
            name.append(ch)
            self._next()
        return "".join(name)

    def _get(self, name: str) -> str | None:
        value = self._env.get(name)
        (self._matched if value is not None else self._unmatched).add(name)
        return value


class _LexError(Exception):
    """Internal: carries a lex.go error message up to `ShellLex.process`."""
