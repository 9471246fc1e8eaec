"""Parser directives (`# syntax=`, `# escape=`, `# check=`): only in the leading comment block, each at most once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.dockerfile.errors import DockerfileSyntaxError
from dockyard.dockerfile.textutil import lstrip_space

#: Go's `\s` is `[\t\n\f\r ]` (no vertical tab); the value is trimmed of trailing blanks.
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")
VALID_DIRECTIVES = frozenset({"syntax", "escape", "check"})


@dataclass(frozen=True, slots=True)
class Directive:
    """One parser directive: `name` lower-cased, `value` as written (trimmed), `line` 1-based."""

    name: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class Directives:
    """The directives of one file and the escape token they select (`\\` unless `# escape=`)."""

    escape: str = "\\"
    syntax: str | None = None
    check: str | None = None
    all: tuple[Directive, ...] = ()


class DirectiveParser:
    """BuildKit's `DirectiveParser`: consumes lines until the first line that is not a valid directive."""

    def __init__(self) -> None:
        self.done = False
        self.found: list[Directive] = []
        self.escape = "\\"

    def feed(self, line: str, number: int) -> bool:
        """Look at one line (newline and leading blanks already trimmed); True when it was a directive."""
        if self.done:
            return False
        if not line.startswith("#"):
            self.done = True
            return False
        match = _DIRECTIVE.match(lstrip_space(line[1:]))
        name = match.group(1).lower() if match else ""
        if match is None or name not in VALID_DIRECTIVES:
            self.done = True
            return False
        if any(d.name == name for d in self.found):
            raise DockerfileSyntaxError(f"only one {name} parser directive can be used", line=number)
        value = match.group(2)
        if name == "escape":
            if value not in ("`", "\\"):
                raise DockerfileSyntaxError(f"invalid escape token '{value}' does not match ` or \\", line=number)
            self.escape = value
        self.found.append(Directive(name, value, number))
        return True

    def result(self) -> Directives:
        by_name = {d.name: d.value for d in self.found}
        return Directives(self.escape, by_name.get("syntax"), by_name.get("check"), tuple(self.found))
