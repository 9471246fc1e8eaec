"""The character level of the RUN-script analyzer: words, quotes, expansions, operators, redirections, heredocs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

_BLANKS = " \t"
_METACHARS = frozenset(" \t\n;&|()<>")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_SPECIAL_PARAMS = frozenset("@*#?$!-0123456789")
#: Inside double quotes a backslash escapes only these (POSIX 2.2.3).
_DQ_ESCAPES = frozenset('$`"\\\n')
_OPERATORS = ("&&", "||", ";;&", ";;", ";&", "|&", ";", "|", "&", "(", ")")
#: What an expansion looks like in an argument (ShellCheck's `oversimplify`).
EXPANSION = "${VAR}"


class ShellSyntaxError(ValueError):
    """The script cannot be followed (unterminated quote or substitution)."""


class NestedParser(Protocol):
    """What the word reader calls back for command substitutions."""

    def nested(self, closer: str) -> None: ...

    def nested_text(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word: `text` with quotes removed and expansions as `${VAR}`; `literal` when it had no expansion,
    `quoted` when any part was quoted, `assignment` for an unquoted `NAME=value` prefix."""

    text: str
    literal: bool
    quoted: bool
    assignment: bool


class WordReader:
    """A cursor over the script text."""

    def __init__(self, text: str, owner: NestedParser) -> None:
        self.s = text
        self.i = 0
        self.owner = owner
        self.heredocs: list[tuple[str, bool]] = []

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.s[j] if j < len(self.s) else ""

    def advance(self, n: int) -> None:
        self.i += n

    def startswith(self, prefix: str) -> bool:
        return self.s.startswith(prefix, self.i)

    def skip_blanks(self) -> None:
        s, i = self.s, self.i
        while i < len(s):
            if s[i] in _BLANKS:
                i += 1
            elif s[i] == "\\" and s.startswith("\n", i + 1):
                i += 2
            else:
                break
        self.i = i

    def skip_comment(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = len(self.s) if end < 0 else end

    def skip_balanced(self, opener: str, closer: str) -> None:
        """Skip `((...))`-like text, counting nested parentheses; quotes are not interpreted."""
        depth, i, s = 0, self.i + len(opener), self.s
        while i < len(s):
            if s.startswith(closer, i) and depth == 0:
                self.i = i + len(closer)
                return
            depth += {"(": 1, ")": -1}.get(s[i], 0)
            i += 1
        raise ShellSyntaxError(f"unterminated {opener}")

    def operator(self) -> str | None:
        if self.startswith("&>"):
            return None
        for op in _OPERATORS:
            if self.startswith(op):
                self.i += len(op)
                return op
        return None

    def redirection(self) -> bool:
        """Consume a redirection operator and its target word (a heredoc delimiter is remembered)."""
        s, j = self.s, self.i
        while j < len(s) and s[j].isdigit():
            j += 1
        if s.startswith("&>", j) and j == self.i:
            j += 3 if s.startswith("&>>", j) else 2
        elif j < len(s) and s[j] in "<>":
            if s.startswith(("<(", ">("), j):
                return False
            op = next(o for o in ("<<<", "<<-", "<<", ">>", "<>", ">|", ">&", "<&", "<", ">") if s.startswith(o, j))
            if op in ("<<", "<<-"):
                self.i = j + len(op)
                self.skip_blanks()
                self.heredocs.append((self.word().text, op == "<<-"))
                return True
            j += len(op)
        else:
            return False
        self.i = j
        self.skip_blanks()
        if self.peek() and self.peek() not in "\n;&|()":
            self.word()
        return True

    def read_heredoc_bodies(self) -> None:
        """After a newline: skip the bodies of the heredocs opened on the line just ended."""
        s = self.s
        for delimiter, strip_tabs in self.heredocs:
            while self.i < len(s):
                end = s.find("\n", self.i)
                line = s[self.i:] if end < 0 else s[self.i:end]
                self.i = len(s) if end < 0 else end + 1
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
        self.heredocs.clear()

    def function_parens(self) -> bool:
        """`name ()` after a word at command start: a function definition, not a command."""
        s, j = self.s, self.i
        while j < len(s) and s[j] in _BLANKS:
            j += 1
        if not s.startswith("(", j):
            return False
        j += 1
        while j < len(s) and s[j] in _BLANKS:
            j += 1
        if not s.startswith(")", j):
            return False
        self.i = j + 1
        return True

    def word(self) -> Word:
        """Read one word at the cursor."""
        s = self.s
        out: list[str] = []
        literal, quoted = True, False
        start = self.i
        assignment = False
        while self.i < len(s):
            c = s[self.i]
            if c in _METACHARS:
                if c in "<>" and self.peek(1) == "(":
                    self.i += 2
                    self.owner.nested(")")
                    literal = False
                    continue
                break
            if c == "=" and not assignment and not quoted and self.i > start and _is_name(s[start:self.i]):
                assignment = True
                out.append(c)
                self.i += 1
                if self.peek() == "(":
                    self.skip_balanced("(", ")")
                continue
            if c == "\\":
                nxt = self.peek(1)
                if nxt == "\n":
                    self.i += 2
                    continue
                out.append(nxt)
                self.i += 2
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated single quote")
                out.append(s[self.i + 1:end])
                self.i, quoted = end + 1, True
            elif c == '"':
                self.i += 1
                literal = self._double_quoted(out) and literal
                quoted = True
            elif c == "$":
                literal = self._dollar(out) and literal
            elif c == "`":
                self._backtick()
                out.append(EXPANSION)
                literal = False
            else:
                out.append(c)
                self.i += 1
        return Word("".join(out), literal, quoted, assignment)

    def _double_quoted(self, out: list[str]) -> bool:
        s, literal = self.s, True
        while self.i < len(s):
            c = s[self.i]
            if c == '"':
                self.i += 1
                return literal
            if c == "\\" and self.peek(1) in _DQ_ESCAPES and self.peek(1):
                if self.peek(1) != "\n":
                    out.append(self.peek(1))
                self.i += 2
            elif c == "$":
                literal = self._dollar(out) and literal
            elif c == "`":
                self._backtick()
                out.append(EXPANSION)
                literal = False
            else:
                out.append(c)
                self.i += 1
        raise ShellSyntaxError("unterminated double quote")

    def _dollar(self, out: list[str]) -> bool:
        """An expansion at `$`; returns False when it expanded something (True for a lone `$`)."""
        s = self.s
        nxt = self.peek(1)
        if nxt == "'":
            j = self.i + 2
            while j < len(s) and s[j] != "'":
                j += 2 if s[j] == "\\" else 1
            if j >= len(s):
                raise ShellSyntaxError("unterminated $'...'")
            out.append(s[self.i + 2:j])
            self.i = j + 1
            return True
        if nxt == '"':
            self.i += 2
            return self._double_quoted(out)
        if self.startswith("$(("):
            self.skip_balanced("$((", "))")
        elif nxt == "(":
            self.i += 2
            self.owner.nested(")")
        elif nxt == "{":
            self._braced()
        elif nxt in _NAME_START:
            self.i += 2
            while self.i < len(s) and s[self.i] in _NAME_CHARS:
                self.i += 1
        elif nxt and nxt in _SPECIAL_PARAMS:
            self.i += 2
        else:
            out.append("$")
            self.i += 1
            return True
        out.append(EXPANSION)
        return False

    def _braced(self) -> None:
        s, depth, i = self.s, 0, self.i + 2
        while i < len(s):
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == "}" and depth == 0:
                self.i = i + 1
                return
            if c == "$" and s.startswith("(", i + 1):
                self.i = i + 2
                self.owner.nested(")")
                i = self.i
                continue
            depth += {"{": 1, "}": -1}.get(c, 0)
            i += 1
        raise ShellSyntaxError("unterminated ${")

    def _backtick(self) -> None:
        s, i, body = self.s, self.i + 1, []
        while i < len(s) and s[i] != "`":
            if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in "`$\\":
                body.append(s[i + 1])
                i += 2
            else:
                body.append(s[i])
                i += 1
        if i >= len(s):
            raise ShellSyntaxError("unterminated backtick")
        self.i = i + 1
        self.owner.nested_text("".join(body))


def _is_name(text: str) -> bool:
    return bool(text) and text[0] in _NAME_START and all(c in _NAME_CHARS for c in text)
