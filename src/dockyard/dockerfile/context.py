"""Walking a build context the way BuildKit sends it: sorted, `.dockerignore` applied, symlinks never followed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dockyard.dockerfile.errors import DockerfileReadError
from dockyard.dockerfile.ignore import DockerIgnore, MatchInfo


class FileKind(StrEnum):
    """What a context entry is (symlinks are entries of their own, never followed)."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ContextFile:
    """One entry of the context: `path` is slash-separated and relative to the context root."""

    path: str
    abspath: Path
    kind: FileKind
    mode: int
    size: int
    mtime_ns: int
    link_target: str | None = None


def _entry(rel: str, abspath: Path, st: os.stat_result) -> ContextFile:
    if stat.S_ISLNK(st.st_mode):
        return ContextFile(rel, abspath, FileKind.SYMLINK, st.st_mode, st.st_size, st.st_mtime_ns,
                           os.readlink(abspath))
    kind = FileKind.DIR if stat.S_ISDIR(st.st_mode) else FileKind.FILE if stat.S_ISREG(st.st_mode) else FileKind.OTHER
    return ContextFile(rel, abspath, kind, st.st_mode, st.st_size if kind is FileKind.FILE else 0, st.st_mtime_ns)


def iter_context(context_dir: Path | str, ignore: DockerIgnore | None = None) -> Iterator[ContextFile]:
    """Every entry of the context not excluded by `ignore`, depth-first in name order (parents first).

    An excluded directory is still walked when a `!` pattern may re-include something below it; it is then
    yielded just before the first entry it contains, as BuildKit sends the parents of an included path.
    Raises `DockerfileReadError` for an unreadable directory.
    """
    root = Path(context_dir)
    if not root.is_dir():
        raise DockerfileReadError("build context is not a directory", path=root)
    yield from _walk(root, "", ignore or DockerIgnore(), (), [])


def _walk(directory: Path, prefix: str, ignore: DockerIgnore, parent: MatchInfo,
          pending: list[ContextFile]) -> Iterator[ContextFile]:
    try:
        with os.scandir(directory) as it:
            names = sorted(entry.name for entry in it)
    except OSError as err:
        raise DockerfileReadError(f"cannot read context directory: {err.strerror or err}", path=directory) from None
    matcher = ignore.matcher
    for name in names:
        abspath = directory / name
        rel = prefix + name
        try:
            st = os.lstat(abspath)
        except OSError as err:
            raise DockerfileReadError(f"cannot stat context entry: {err.strerror or err}", path=abspath) from None
        excluded, info = matcher.matches_using_parent_results(rel, parent) if matcher.patterns else (False, ())
        entry = _entry(rel, abspath, st)
        if not excluded:
            yield from pending
            pending.clear()
            yield entry
        if entry.kind is FileKind.DIR and (not excluded or matcher.may_include_below(rel)):
            depth = len(pending)
            if excluded:
                pending.append(entry)
            yield from _walk(abspath, rel + "/", ignore, info, pending)
            del pending[depth:]
