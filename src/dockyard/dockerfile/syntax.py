"""BuildKit's line-level parser (`parser/parser.go`): directives, continuations, comments and heredocs -> `Node`s.

A `Node` is one logical instruction before any typing: the keyword as written, raw `--flags`, the argument values
of the matching line parser (ENV/LABEL as key, value, separator triples) and its heredoc bodies. `dump` renders
a file as BuildKit's `Node.Dump()` does, which is what the parser test cases (`testfiles/*/result`) record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.dockerfile.directives import DirectiveParser, Directives
from dockyard.dockerfile.errors import DockerfileSyntaxError
from dockyard.dockerfile.lexer import ShellLex
from dockyard.dockerfile.lineparsers import parse_args, split_command
from dockyard.dockerfile.textutil import go_quote, lstrip_space, strip_space

_HEREDOC = re.compile(r"([0-9]*)<<(-?)([^<]*)\Z")
_HEREDOC_KEYWORDS = frozenset({"add", "copy", "run"})
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A here-document: `name` is the unquoted delimiter, `content` the raw body lines (newlines kept).

    `expand` is False when the delimiter was quoted (`<<"EOF"`); `chomp` is the `<<-` form, whose leading tabs
    BuildKit strips from COPY/ADD sources (`content_chomped`). `start_line`..`end_line` span the body and the
    terminator line.
    """

    name: str
    content: str
    fd: int = 0
    expand: bool = True
    chomp: bool = False
    start_line: int = 0
    end_line: int = 0

    @property
    def content_chomped(self) -> str:
        """The content with leading tabs removed from every line when `chomp`, else as is."""
        if not self.chomp:
            return self.content
        return re.sub(r"(?m)^\t+", "", self.content)


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line (`#` after optional blanks); `text` is what follows the `#`, trimmed."""

    line: int
    text: str
    directive: bool = False


@dataclass(frozen=True, slots=True)
class Node:
    """One logical instruction as BuildKit's parser sees it (before flags and arguments are interpreted)."""

    keyword: str
    flags: tuple[str, ...]
    values: tuple[str, ...]
    json: bool
    original: str
    start_line: int
    end_line: int
    comments: tuple[str, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()
    sub: Node | None = None

    def dump(self) -> str:
        """BuildKit's `Node.Dump()` of this instruction, e.g. `copy ["--from=a"] "x" "/y"`."""
        out = self.keyword.lower()
        if self.flags:
            out += " [" + " ".join(go_quote(f) for f in self.flags) + "]"
        if self.sub is not None:
            out += " (" + self.sub.dump() + ")"
        for value in self.values:
            out += " " + go_quote(value)
        return out.strip()


@dataclass(frozen=True, slots=True)
class RawFile:
    """The result of the line-level parse: nodes, directives, every comment, and empty-continuation warnings."""

    nodes: tuple[Node, ...]
    directives: Directives
    comments: tuple[Comment, ...]
    lines: tuple[str, ...]
    empty_continuations: tuple[int, ...]

    def dump(self) -> str:
        """The whole AST as BuildKit dumps it: one `(...)` line per instruction."""
        return "".join(f"({n.dump()})\n" for n in self.nodes)


def _is_comment(line: str) -> bool:
    return lstrip_space(line).startswith("#")


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    """Remove a trailing escape token (plus blanks) not itself escaped; False means the line continues."""
    body = line.rstrip(" \t")
    if body.endswith(escape):
        body = body[:-1]
        if not body or body[-1] != escape:
            return body, False
    return line, True


def heredoc_word(word: str) -> tuple[str, int, bool, bool] | None:
    """`ParseHeredoc`: for a word like `<<-"EOF"` the delimiter `EOF`, its fd, `expand` (unquoted) and `chomp`."""
    match = _HEREDOC.match(word)
    if match is None or not match.group(3):
        return None
    rest = match.group(3)
    plain = ShellLex("\\", skip_unset=True).words(rest, {})
    if len(plain) != 1:
        return None
    raw = ShellLex("\\", skip_unset=True, raw_quotes=True).words(rest, {})
    quotes = sum(plain[0].count(q) for q in "'\"")
    raw_quotes = sum(raw[0].count(q) for q in "'\"")
    return plain[0], int(match.group(1) or "0"), quotes == raw_quotes, match.group(2) == "-"


def _heredocs_in(line: str) -> list[tuple[str, int, bool, bool]]:
    """`heredocsFromLine`: every heredoc word of the line, lexed as the shell would split it."""
    try:
        words = ShellLex("\\", raw_quotes=True, raw_escapes=True, skip_unset=True).words(line, {})
    except DockerfileSyntaxError:
        return []
    return [found for word in words if (found := heredoc_word(word)) is not None]


def _node(line: str, parser: DirectiveParser, comments: tuple[str, ...], start: int, end: int) -> Node:
    keyword, flags, rest = split_command(line)
    args = parse_args(keyword, rest, parser.escape)
    sub = _node(args.sub, parser, (), start, end) if args.sub is not None else None
    return Node(keyword, flags, args.values, args.json, line, start, end, comments, sub=sub)


def _can_contain_heredoc(node: Node) -> bool:
    target = node.sub if node.keyword.lower() == "onbuild" and node.sub is not None else node
    return target.keyword.lower() in _HEREDOC_KEYWORDS and not target.json


def parse_nodes(text: str) -> RawFile:
    """Parse Dockerfile text into nodes exactly as BuildKit's `parser.Parse` does; errors carry the line."""
    raw = text.split("\n")
    tokens = [line + "\n" for line in raw[:-1]] + ([raw[-1]] if raw[-1] else [])
    if tokens and tokens[0].startswith(_BOM):
        tokens[0] = tokens[0][1:]
    lines = tuple(_trim_newline(t) for t in tokens)
    directives = DirectiveParser()
    nodes: list[Node] = []
    comments: list[str] = []
    all_comments: list[Comment] = []
    empty_cont: list[int] = []
    i = 0

    def read(strip_left: bool) -> tuple[str, bool]:
        nonlocal i
        token = lines[i]
        i += 1
        if strip_left:
            token = lstrip_space(token)
        is_directive = directives.feed(token, i)
        if _is_comment(token):
            all_comments.append(Comment(i, strip_space(lstrip_space(token)[1:]), is_directive))
            return "", is_directive
        return token, is_directive

    while i < len(tokens):
        if _is_comment(tokens[i]):
            comment = strip_space(tokens[i][1:])
            comments = [*comments, comment] if comment else []
        token, is_directive = read(True)
        if is_directive:
            comments.pop()
        start = i
        logical, done = _trim_continuation(token, directives.escape)
        if done and not logical:
            continue
        parts = [logical]
        while not done and i < len(tokens):
            was_comment = _is_comment(tokens[i])
            token, _ = read(False)
            if was_comment:
                continue
            if not lstrip_space(token):
                empty_cont.append(i)
                continue
            token, done = _trim_continuation(token, directives.escape)
            parts.append(token)
        line = "".join(parts)
        try:
            node = _node(line, directives, tuple(comments), start, i)
            heredocs = _heredocs_in(line) if _can_contain_heredoc(node) and "<<" in line else []
        except DockerfileSyntaxError as err:
            raise DockerfileSyntaxError(err.reason, line=start, end_line=i) from None
        bodies: list[Heredoc] = []
        for name, fd, expand, chomp in heredocs:
            body_start, content = i + 1, []
            while i < len(tokens):
                candidate = lines[i]
                i += 1
                if (candidate.lstrip("\t") if chomp else candidate) == name:
                    break
                content.append(tokens[i - 1])
            else:
                raise DockerfileSyntaxError(f"unterminated heredoc {name!r}", line=start, end_line=i)
            bodies.append(Heredoc(name, "".join(content), fd, expand, chomp, body_start, i))
        nodes.append(Node(node.keyword, node.flags, node.values, node.json, line, start, i, node.comments,
                          tuple(bodies), node.sub))
        comments = []
    if not nodes:
        raise DockerfileSyntaxError("file with no instructions", line=max(len(tokens), 1))
    return RawFile(tuple(nodes), directives.result(), tuple(all_comments), lines, tuple(empty_cont))
