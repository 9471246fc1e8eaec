"""The linter's values: severities (hadolint's levels), rule metadata and findings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """hadolint's levels, most severe first; `ignore` findings are never reported unless overridden."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    STYLE = "style"
    IGNORE = "ignore"

    @property
    def rank(self) -> int:
        """0 for error ... 4 for ignore: smaller is more severe."""
        return _RANKS[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """A severity or failure threshold by name (`none` is hadolint's alias of `ignore`)."""
        value = text.strip().lower()
        if value == "none":
            return cls.IGNORE
        return cls(value)


_RANKS = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2, Severity.STYLE: 3, Severity.IGNORE: 4}

#: hadolint's parse-error code, also used for a Dockerfile that cannot be read.
PARSE_ERROR = "DL1000"


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """What a rule is: its code, default severity, the message of its findings and a one-line summary.

    `url` is the rule's documentation (hadolint's wiki page for DL rules).
    """

    code: str
    severity: Severity
    message: str
    summary: str = ""

    @property
    def url(self) -> str | None:
        if self.code.startswith(("DL", "SC")):
            return f"https://github.com/hadolint/hadolint/wiki/{self.code}"
        return None


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule's raw result: the 1-based line of the offending instruction, and a message when it is specific."""

    line: int
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported problem, in hadolint's JSON shape (`file`, `line`, `column`, `level`, `code`, `message`)."""

    file: str
    line: int
    column: int
    level: Severity
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class FileResult:
    """The findings of one Dockerfile, sorted by line; `lines` are its physical lines (empty when unreadable)."""

    path: str
    findings: tuple[Finding, ...]
    lines: tuple[str, ...] = ()
