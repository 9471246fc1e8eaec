"""A small POSIX/bash command analyzer for RUN scripts: the simple commands, their arguments and flags, and pipes.

It reads just enough shell to answer what hadolint's rules ask of ShellCheck's AST: which commands run (in `&&`,
`||`, `;`, `|` lists, subshells, `$(...)`, backticks, `if`/`for`/`while`/`case` bodies), with which words (quotes
removed, expansions shown as `${VAR}` as ShellCheck's `oversimplify` does), and whether a pipe appears. It is not a
shell: there is no expansion, and nothing is ever run. Unbalanced quotes make the whole script opaque (no commands),
which is what a ShellCheck parse failure does to hadolint's rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.lint.shellwords import ShellSyntaxError, WordReader

#: Reserved words that may open or continue a compound command without being a command themselves.
_SKIP_WORDS = frozenset({"if", "then", "elif", "else", "do", "while", "until", "!", "{", "time", "coproc"})
_END_WORDS = frozenset({"fi", "done", "}"})
#: Commands whose first non-flag argument is the command that really runs (ShellCheck's `getCommandName`).
_WRAPPERS = frozenset({"busybox", "builtin", "command", "run"})


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command: `name` as the shell resolves it, `args` every word after the first.

    `flags` pairs each flag letter or long-flag name with the index of the argument it came from: `-yq` gives
    `("y", i), ("q", i)`, `--target=x` gives `("target", i)` (hadolint's `getAllFlags`).
    """

    name: str
    args: tuple[str, ...]
    flags: tuple[tuple[str, int], ...]

    def has_flag(self, *names: str) -> bool:
        return any(f in names for f, _ in self.flags)

    def has_arg(self, *values: str) -> bool:
        return any(a in values for a in self.args)

    def is_(self, name: str, *args: str) -> bool:
        """`name` with any of `args` among its arguments (hadolint's `cmdHasArgs`); any args when none given."""
        return self.name == name and (not args or self.has_arg(*args))

    def args_no_flags(self, drop_values_of: Iterable[str] = ()) -> list[str]:
        """Arguments that are not flags, also without the word after each flag named in `drop_values_of`."""
        flag_idx = {i for _, i in self.flags}
        drop = {i + 1 for f, i in self.flags if f in frozenset(drop_values_of)}
        return [a for i, a in enumerate(self.args) if i not in flag_idx and i not in drop]

    def flag_values(self, name: str) -> list[str]:
        """The word after each occurrence of flag `name` (`useradd -u 1000` -> `["1000"]`)."""
        return [self.args[i + 1] for f, i in self.flags if f == name and i + 1 < len(self.args)]


@dataclass(frozen=True, slots=True)
class Script:
    """A parsed RUN script: `commands` in ShellCheck's pre-order (a command before the ones nested in its words)."""

    original: str
    commands: tuple[Command, ...]
    has_pipes: bool

    def any(self, name: str, *args: str) -> bool:
        return any(c.is_(name, *args) for c in self.commands)

    def index(self, name: str, *args: str) -> int | None:
        return next((i for i, c in enumerate(self.commands) if c.is_(name, *args)), None)

    def names(self) -> list[str]:
        return [c.name for c in self.commands]


def split_flags(args: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """hadolint's `getAllFlags`: `--name[=v]` is one flag, `-abc` three; `-` and `--` are none."""
    out: list[tuple[str, int]] = []
    for i, arg in enumerate(args):
        if arg in ("-", "--") or not arg.startswith("-"):
            continue
        if arg.startswith("--"):
            out.append((arg[2:].partition("=")[0], i))
        else:
            out.extend((letter, i) for letter in arg[1:])
    return tuple(out)


def _effective_name(first: str, literal: bool, args: list[tuple[str, bool]]) -> str | None:
    """ShellCheck's `getCommandName`: the literal first word, or what `command`/`exec`/`busybox` run."""
    if not literal:
        return None
    if first in _WRAPPERS:
        if args and not args[0][0].startswith("-"):
            return args[0][0] if args[0][1] else None
        return first
    if first == "exec":
        i = 0
        while i < len(args) and args[i][0].startswith("-") and args[i][0] != "--":
            i += 2 if args[i][0] == "-a" else 1
        if i < len(args) and args[i][0] == "--":
            i += 1
        if i < len(args):
            return args[i][0] if args[i][1] else None
    return first


class _Parser:
    """Walks the script once; nested scripts (`$(...)`, subshells) recurse on the same cursor."""

    def __init__(self, text: str) -> None:
        self.reader = WordReader(text, self)
        self.commands: list[Command] = []
        self.pipes = False

    def nested(self, closer: str) -> None:
        """Called by the word reader for `$(` and `<(`: parse commands up to the closer."""
        self.sequence(closer)

    def nested_text(self, text: str) -> None:
        """Called for a backtick substitution, whose text is already unescaped."""
        sub = _Parser(text)
        sub.sequence(None)
        self.commands.extend(sub.commands)
        self.pipes = self.pipes or sub.pipes

    def sequence(self, closer: str | None) -> None:
        r = self.reader
        words: list[tuple[str, bool]] = []
        children_start = len(self.commands)
        skip = ""          # "for": skip words until `do`; "case": until `in`; "[[": until `]]`
        patterns = 0       # depth of `case` bodies; >0 with `in_pattern` means words are patterns
        in_pattern = False

        def finish() -> None:
            nonlocal words, children_start
            children = self.commands[children_start:]
            del self.commands[children_start:]
            if words:
                first, literal = words[0]
                name = _effective_name(first, literal, words[1:])
                if name is not None:
                    args = tuple(w for w, _ in words[1:])
                    self.commands.append(Command(name, args, split_flags(args)))
            self.commands.extend(children)
            words = []
            children_start = len(self.commands)

        while True:
            r.skip_blanks()
            c = r.peek()
            if not c:
                finish()
                if closer is not None:
                    raise ShellSyntaxError("unterminated nested command")
                return
            if c == "#":
                r.skip_comment()
                continue
            if c == "\n":
                r.advance(1)
                finish()
                r.read_heredoc_bodies()
                continue
            if closer is not None and c == closer and not in_pattern:
                r.advance(1)
                finish()
                return
            if not words and not skip and r.startswith("(("):
                r.skip_balanced("((", "))")
                continue
            op = r.operator()
            if op is not None:
                if in_pattern:
                    if op == ")":
                        in_pattern = False
                    continue
                finish()
                if op in ("|", "|&"):
                    self.pipes = True
                elif op in (";;", ";&", ";;&") and patterns:
                    in_pattern = True
                elif op == "(":
                    self.sequence(")")
                    children_start = len(self.commands)
                continue
            if r.redirection():
                continue
            token = r.word()
            word, literal = token.text, token.literal
            plain = literal and not token.quoted
            if in_pattern:
                if plain and word == "esac":
                    patterns, in_pattern = patterns - 1, False
                continue
            if skip:
                if skip == "for" and plain and word == "do":
                    skip = ""
                elif skip == "case" and plain and word == "in":
                    skip, in_pattern, patterns = "", True, patterns + 1
                elif skip == "[[" and plain and word == "]]":
                    skip = ""
                continue
            if not words and plain:
                if word in _SKIP_WORDS:
                    continue
                if word in _END_WORDS or (word == "esac" and patterns):
                    patterns -= word == "esac"
                    continue
                if word in ("for", "select", "case", "[["):
                    skip = word if word != "select" else "for"
                    continue
                if word == "function":
                    r.skip_blanks()
                    r.word()
                    continue
                if r.function_parens():
                    continue
            if not words and token.assignment:
                continue
            words.append((word, literal))


def parse_script(text: str) -> Script:
    """Parse a RUN script; a script the reader cannot follow gives no commands (as a ShellCheck parse error does)."""
    parser = _Parser(text)
    try:
        parser.sequence(None)
    except ShellSyntaxError:
        return Script(text, (), False)
    return Script(text, tuple(parser.commands), parser.pipes)
