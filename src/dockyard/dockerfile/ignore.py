"""`.dockerignore`: reading the file (moby's `ignorefile.ReadAll`) and matching paths (`PatternMatcher`).

`DockerIgnore.matches` answers what BuildKit's context walker decides: it evaluates the path's directories
from the top down, each reusing its parent's per-pattern results (`MatchesUsingParentResults`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.dockerfile.errors import DockerfileError, DockerIgnoreError
from dockyard.dockerfile.model import read_text
from dockyard.dockerfile.patterns import Pattern, go_clean

#: Per-pattern results for a directory, handed to its children (`MatchInfo`); empty means "no parent info".
MatchInfo = tuple[bool, ...]

_WILDCARDS = frozenset("*?[\\")


def read_patterns(text: str) -> tuple[str, ...]:
    """`ignorefile.ReadAll`: drop a BOM, `#` comment lines and blanks; clean each pattern, strip one leading `/`."""
    out: list[str] = []
    for number, raw in enumerate(text.split("\n")):
        line = raw.removeprefix("\ufeff") if number == 0 else raw
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return tuple(out)


def _go_dir(path: str) -> str:
    return go_clean(posixpath.dirname(path)) if "/" in path else "."


class PatternMatcher:
    """A compiled list of patterns (moby's `PatternMatcher`); paths are slash-separated and relative."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(Pattern.compile(p) for p in patterns if p.strip())
        self.exclusions = any(p.exclusion for p in self.patterns)
        #: Every `!` pattern is a plain path, so an excluded directory needs walking only on its way to one.
        self.prefix_exceptions_only = all(not (_WILDCARDS & set(p.text)) for p in self.patterns if p.exclusion)

    def matches_exact(self, path: str) -> bool:
        """`MatchesExact`: the last matching pattern decides; parents are not considered."""
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion == matched and pattern.match(path):
                matched = not pattern.exclusion
        return matched

    def matches_or_parent_matches(self, path: str) -> bool:
        """`MatchesOrParentMatches`: like `matches_exact`, but a pattern matching a parent directory counts."""
        matched = False
        dirs = _go_dir(path).split("/")
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern.match(path) or (dirs != ["."] and any(
                    pattern.match("/".join(dirs[:i + 1])) for i in range(len(dirs)))):
                matched = not pattern.exclusion
        return matched

    def matches_using_parent_results(self, path: str, parent: MatchInfo = ()) -> tuple[bool, MatchInfo]:
        """`MatchesUsingParentResults`: `parent` is what the parent directory returned (empty at the top)."""
        if parent and len(parent) != len(self.patterns):
            raise ValueError("wrong number of values in parent match info")
        matched = False
        info = [False] * len(self.patterns)
        dirs = _go_dir(path).split("/") if not parent else ["."]
        for i, pattern in enumerate(self.patterns):
            match = bool(parent) and parent[i]
            if not match:
                if pattern.exclusion != matched:
                    continue
                match = pattern.match(path) or (dirs != ["."] and any(
                    pattern.match("/".join(dirs[:j + 1])) for j in range(len(dirs))))
            info[i] = match
            if match:
                matched = not pattern.exclusion
        return matched, tuple(info)

    def may_include_below(self, directory: str) -> bool:
        """Whether anything under an excluded `directory` can be re-included by a `!` pattern."""
        if not self.exclusions:
            return False
        if not self.prefix_exceptions_only:
            return True
        prefix = directory + "/"
        return any((p.text + "/").startswith(prefix) for p in self.patterns if p.exclusion)


@dataclass(frozen=True, slots=True)
class DockerIgnore:
    """The ignore rules of one build: `path` is the file they came from (None when there is none)."""

    patterns: tuple[str, ...] = ()
    path: Path | None = None
    matcher: PatternMatcher = field(default_factory=lambda: PatternMatcher(()), compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, path: Path | None = None) -> DockerIgnore:
        """Rules from `.dockerignore` text; a malformed pattern raises `DockerIgnoreError`."""
        patterns = read_patterns(text)
        try:
            return cls(patterns, path, PatternMatcher(patterns))
        except DockerfileError as err:
            raise DockerIgnoreError(err.reason, path=path) from None

    @classmethod
    def load(cls, context_dir: Path | str, dockerfile_path: Path | str | None = None) -> DockerIgnore:
        """The rules BuildKit uses: `<Dockerfile>.dockerignore` next to the Dockerfile if it exists, else
        `.dockerignore` at the root of the context, else none."""
        candidates = []
        if dockerfile_path is not None:
            dockerfile = Path(dockerfile_path)
            candidates.append(dockerfile.with_name(dockerfile.name + ".dockerignore"))
        candidates.append(Path(context_dir) / ".dockerignore")
        for candidate in candidates:
            if candidate.is_file():
                return cls.parse(read_text(candidate, ".dockerignore"), candidate)
        return cls()

    def matches(self, rel_path: str) -> bool:
        """True when the context path (slash-separated, relative to the context root) is excluded."""
        path = go_clean(rel_path).lstrip("/")
        if path in ("", "."):
            return False
        matched = False
        info: MatchInfo = ()
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            matched, info = self.matcher.matches_using_parent_results("/".join(parts[:depth]), info)
        return matched
