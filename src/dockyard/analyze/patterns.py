"""Where bloat lives in an image filesystem: path patterns for package caches, docs, locales and build toolchains,
each with the fix that removes it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.analyze.model import FindingKind


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named kind of bloat: the finding it feeds, a title and the fix."""

    name: str
    kind: FindingKind
    title: str
    fix: str


_HOME = r"(?:root|home/[^/]+)"
_TOOLS = r"(?:gcc|g\+\+|c\+\+|cc|clang|clang\+\+|make|cmake|rustc|cargo|go|gofmt)(?:-[\d.]+)?$"
#: (regex over a file's directory with a trailing `/`, regex over its name or None, pattern); first match wins.
_TABLE: tuple[tuple[str, str | None, Pattern], ...] = (
    (r"var/lib/apt/lists/", r"(?!lock$)", Pattern(
        "apt-lists", FindingKind.PACKAGE_CACHE, "apt package lists",
        "run `rm -rf /var/lib/apt/lists/*` in the same RUN as `apt-get update && apt-get install`")),
    (r"var/cache/apt/(?:archives/(?:partial/)?)?$", r".*\.(?:deb|bin)$", Pattern(
        "apt-archives", FindingKind.PACKAGE_CACHE, "apt package archives",
        "use `apt-get install --no-install-recommends` and `apt-get clean` in the same RUN, or a cache mount: "
        "`RUN --mount=type=cache,target=/var/cache/apt ...`")),
    (r"(?:var/cache/apk|etc/apk/cache)/", None, Pattern(
        "apk-cache", FindingKind.PACKAGE_CACHE, "apk package cache", "use `apk add --no-cache`")),
    (rf"(?:{_HOME}/\.cache/pip|tmp/pip-[^/]*)/", None, Pattern(
        "pip-cache", FindingKind.PACKAGE_CACHE, "pip cache",
        "use `pip install --no-cache-dir` (or `ENV PIP_NO_CACHE_DIR=1`), or a cache mount")),
    (rf"(?:{_HOME}/\.npm|{_HOME}/\.cache/yarn|usr/local/share/\.cache/yarn|{_HOME}/\.yarn/cache)/", None, Pattern(
        "npm-cache", FindingKind.PACKAGE_CACHE, "npm/yarn cache",
        "run `npm ci && npm cache clean --force` (`yarn cache clean`) in the same RUN, or use "
        "`RUN --mount=type=cache,target=/root/.npm`")),
    (r"var/cache/(?:yum|dnf)/", None, Pattern(
        "yum-cache", FindingKind.PACKAGE_CACHE, "yum/dnf cache",
        "run `yum clean all` / `dnf clean all` (and `rm -rf /var/cache/yum`) in the same RUN as the install")),
    (rf"(?:{_HOME}/\.cache/go-build|{_HOME}/go/pkg/mod|go/pkg/mod)/", None, Pattern(
        "go-cache", FindingKind.PACKAGE_CACHE, "Go build and module caches",
        "build in a separate stage (multi-stage build) or use cache mounts for /root/.cache/go-build")),
    (r"usr/(?:local/)?share/(?:doc|info|gtk-doc|help)/", None, Pattern(
        "docs", FindingKind.DOCS, "documentation",
        "exclude docs at install time (dpkg `path-exclude=/usr/share/doc/*` in /etc/dpkg/dpkg.cfg.d/), "
        "`apk add` without -doc packages, or delete them in the same RUN")),
    (r"usr/(?:local/)?share/man/", None, Pattern(
        "man", FindingKind.DOCS, "man pages",
        "exclude man pages at install time (dpkg `path-exclude=/usr/share/man/*`) or delete them in the same RUN")),
    (r"usr/(?:share/locale|lib/locale|share/i18n/locales)/", None, Pattern(
        "locales", FindingKind.LOCALES, "locales and translations",
        "keep only the locales you use (dpkg `path-exclude=/usr/share/locale/*` plus `path-include` for yours, "
        "or `localedef` just one)")),
    (r"usr/(?:local/)?bin/$", _TOOLS, Pattern(
        "toolchain", FindingKind.TOOLCHAIN, "build toolchains and headers", "")),
    (r"(?:usr/(?:lib|libexec)/gcc/|usr/(?:local/)?include/|usr/local/go/|usr/lib/go-[\d.]+/|usr/lib/llvm-[\d.]+/|"
     rf"usr/local/(?:cargo|rustup)/|{_HOME}/\.(?:cargo|rustup)/)", None, Pattern(
        "toolchain", FindingKind.TOOLCHAIN, "build toolchains and headers",
        "build in one stage and copy only the artifacts into a slim final stage (multi-stage build: "
        "`FROM ... AS build` then `COPY --from=build`)")),
)
_COMPILED = tuple((re.compile(d), re.compile(n) if n else None, p) for d, n, p in _TABLE)
#: Any of the directory regexes: most directories match none, and one test says so.
_ANY_DIR = re.compile("|".join(f"(?:{d})" for d, _, _ in _TABLE))
#: One entry per pattern name (the toolchain's two rows share one; the fix is on the second).
PATTERNS = tuple({p.name: p for _, _, p in _TABLE if p.fix}.values())
_BY_NAME = {p.name: p for p in PATTERNS}


#: The name rules that apply in one directory: (regex over the name or None for any name, pattern), in order.
Rules = tuple[tuple["re.Pattern[str] | None", Pattern], ...]


class Classifier:
    """Classifies paths, remembering the verdict for each directory (most files share theirs)."""

    def __init__(self) -> None:
        self._dirs: dict[str, Rules] = {}

    def rules_for(self, directory: str) -> Rules:
        """The rules for files directly in a directory (a normalized path, "" for the root); often empty."""
        rules = self._dirs.get(directory)
        if rules is None:
            key = directory + "/"
            rules = self._dirs[directory] = tuple(
                (n, _BY_NAME[p.name]) for d, n, p in _COMPILED if d.match(key)) if _ANY_DIR.match(key) else ()
        return rules

    def classify(self, path: str) -> Pattern | None:
        """The bloat pattern a normalized path falls under, if any."""
        parent, _, name = path.rpartition("/")
        return first_match(self.rules_for(parent), name)


def first_match(rules: Rules, name: str) -> Pattern | None:
    """The pattern of the first rule a file name satisfies."""
    for name_rx, pattern in rules:
        if name_rx is None or name_rx.match(name):
            return pattern
    return None


def classify(path: str) -> Pattern | None:
    """The bloat pattern of one path (see `Classifier` to classify many)."""
    return Classifier().classify(path)
