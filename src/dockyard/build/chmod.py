"""`--chmod` values: octal (`0755`) or symbolic as GNU chmod writes them (`u=rwx,go=rx`, `+x`, `a-w,u+s`, `g=u`).

Symbolic modes apply to each source file's own mode (BuildKit's dockerfile 1.14 semantics); no umask is
applied, so a clause without `ugoa` means `a`. `X` adds execute only to directories and to files that
already have an execute bit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.errors import InvalidArgument

_WHO = {"u": 0o4700, "g": 0o2070, "o": 0o1007}
_CLAUSE = re.compile(r"^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$")
_ACTION = re.compile(r"([-+=])([ugo]|[rwxXst]*)")


@dataclass(frozen=True, slots=True)
class Chmod:
    """A parsed `--chmod`: `octal` set, or symbolic `clauses` (who mask, operator, permission text)."""

    text: str
    octal: int | None
    clauses: tuple[tuple[int, str, str], ...] = ()

    @classmethod
    def parse(cls, text: str, what: str = "--chmod") -> Chmod:
        if text and all(c in "01234567" for c in text):
            value = int(text, 8)
            if value > 0o7777:
                raise InvalidArgument(f"{what}: --chmod={text} is out of range")
            return cls(text, value)
        clauses: list[tuple[int, str, str]] = []
        for part in text.split(","):
            match = _CLAUSE.match(part)
            if not match:
                raise InvalidArgument(f"{what}: --chmod={text}: {part!r} is neither an octal nor a symbolic mode "
                                      "(examples: 0755, u=rwx,go=rx, +x)")
            who = 0
            for c in match.group(1) or "a":
                who |= 0o7777 if c == "a" else _WHO[c]
            for op, perms in _ACTION.findall(match.group(2)):
                clauses.append((who, op, perms))
        return cls(text, None, tuple(clauses))

    def apply(self, mode: int, is_dir: bool) -> int:
        """The new permission bits for a file (or directory) whose current bits are `mode`."""
        if self.octal is not None:
            return self.octal
        mode &= 0o7777
        for who, op, perms in self.clauses:
            bits = self._bits(perms, mode, is_dir) & who
            if op == "+":
                mode |= bits
            elif op == "-":
                mode &= ~bits
            else:  # "=": clear who's bits (not the other set-id bit), then set
                keep = ~who | (0o6000 & ~who)
                if is_dir:  # GNU chmod keeps a directory's set-id bits unless named explicitly
                    keep |= 0o6000 & mode & ~(self._bits(perms, mode, is_dir) & 0o6000)
                mode = (mode & keep) | bits
        return mode & 0o7777

    @staticmethod
    def _bits(perms: str, mode: int, is_dir: bool) -> int:
        if perms in _WHO:  # copy another class's bits: g=u
            shift = {"u": 6, "g": 3, "o": 0}[perms]
            rwx = (mode >> shift) & 0o7
            return rwx * 0o111
        bits = 0
        for c in perms:
            if c == "r":
                bits |= 0o444
            elif c == "w":
                bits |= 0o222
            elif c == "x" or (c == "X" and (is_dir or mode & 0o111)):
                bits |= 0o111
            elif c == "s":
                bits |= 0o6000
            elif c == "t":
                bits |= 0o1000
        return bits
