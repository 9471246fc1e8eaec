"""Selecting COPY/ADD sources from a build context or a stage's tree, with Docker's directory semantics.

Sources are resolved inside a root (the context after `.dockerignore`, or an extracted stage) and never leave
it: `../x` and symlinks pointing outside are refused with UnsafePath.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from dockyard.dockerfile import ContextFile, DockerIgnore, FileKind, iter_context
from dockyard.errors import InvalidArgument, NotFound, UnsafePath

_GLOB = set("*?[")


@dataclass(frozen=True, slots=True)
class Selected:
    """One entry to write: `dest` is the image path (no leading `/`), `source` the file it comes from."""

    dest: str
    source: ContextFile


class SourceRoot:
    """An indexed tree sources are taken from: `files` maps slash paths (relative to `root`) to entries."""

    def __init__(self, root: Path, files: Mapping[str, ContextFile], what: str) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.files = files
        self.what = what

    @classmethod
    def context(cls, context_dir: Path, dockerfile: Path | None) -> SourceRoot:
        ignore = DockerIgnore.load(context_dir, dockerfile)
        return cls(context_dir, {f.path: f for f in iter_context(context_dir, ignore)}, "build context")

    @classmethod
    def tree(cls, root: Path, what: str) -> SourceRoot:
        return cls(root, {f.path: f for f in iter_context(root)}, what)

    def _root_entry(self) -> ContextFile:
        st = os.stat(self.root)
        return ContextFile(".", self.root, FileKind.DIR, st.st_mode, 0, st.st_mtime_ns)

    def lookup(self, src: str, instruction: str) -> list[tuple[str, ContextFile]]:
        """The entries a source argument names (a glob may name several), symlinks at the top followed."""
        rel = posixpath.normpath(src.replace("\\", "/") if os.sep == "\\" else src)
        if rel.startswith("/"):
            rel = posixpath.normpath(rel.lstrip("/") or ".")
        if rel == ".." or rel.startswith("../"):
            raise UnsafePath(f"{instruction}: source {src!r} is outside the {self.what}",
                             hint="a build can only copy files inside its context directory")
        if rel == ".":
            return [(".", self._root_entry())]
        if _GLOB & set(rel):
            parts = rel.split("/")
            found = [(p, e) for p, e in self.files.items()
                     if len(q := p.split("/")) == len(parts) and all(map(fnmatchcase, q, parts))]
            if not found:
                raise NotFound(f"{instruction}: no source files were specified by {src!r} in the {self.what}")
            return [(p, self._follow(e, instruction)) for p, e in sorted(found)]
        entry = self.files.get(rel)
        if entry is None:
            raise NotFound(f"{instruction}: {src!r} not found in the {self.what}",
                           hint="check the path and that .dockerignore does not exclude it")
        return [(rel, self._follow(entry, instruction))]

    def _follow(self, entry: ContextFile, instruction: str) -> ContextFile:
        if entry.kind is not FileKind.SYMLINK:
            return entry
        real = os.path.realpath(entry.abspath)
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            raise UnsafePath(f"{instruction}: {entry.path!r} is a symlink to {entry.link_target!r}, "
                             f"outside the {self.what}", hint="copy the target into the context instead")
        rel = os.path.relpath(real, self.real_root).replace(os.sep, "/")
        target = self.files.get(rel)
        if target is None:
            raise NotFound(f"{instruction}: {entry.path!r} points to {rel!r}, which is not in the {self.what}")
        return ContextFile(entry.path, target.abspath, target.kind, target.mode, target.size, target.mtime_ns,
                           target.link_target)

    def below(self, rel: str) -> list[ContextFile]:
        if rel == ".":
            return list(self.files.values())
        prefix = rel + "/"
        return [e for p, e in self.files.items() if p.startswith(prefix)]


def destination(dest: str, workdir: str) -> tuple[str, bool]:
    """The absolute image path of a COPY destination (relative ones are under WORKDIR) and whether it is a dir."""
    is_dir = dest.endswith("/") or dest in (".", "") or dest.endswith("/.")
    full = posixpath.normpath(posixpath.join(workdir or "/", dest))
    return full.lstrip("/") or ".", is_dir


def child(directory: str, name: str) -> str:
    """`directory/name` as an image path (`directory` "." is the root)."""
    return name if directory == "." else posixpath.join(directory, name)


def select(root: SourceRoot, sources: Sequence[str], dest: str, workdir: str, instruction: str,
           existing_dir: Callable[[str], bool] = lambda _p: False) -> list[Selected]:
    """Docker's rules: a directory copies its contents; several sources need a destination ending in `/`;
    a file copied onto an existing directory (`existing_dir`) goes inside it."""
    target, dest_is_dir = destination(dest, workdir)
    dest_is_dir = dest_is_dir or existing_dir(target)
    matches = [m for src in sources for m in root.lookup(src, instruction)]
    if len(matches) > 1 and not dest_is_dir:
        raise InvalidArgument(f"{instruction}: when copying more than one source the destination must be a "
                              f"directory and end with a /")
    out: dict[str, Selected] = {}
    for rel, entry in matches:
        if entry.kind is FileKind.DIR:
            if target != ".":
                out[target] = Selected(target, entry)
            cut = 0 if rel == "." else len(rel) + 1
            for entry_ in root.below(rel):
                path = child(target, entry_.path[cut:])
                out[path] = Selected(path, entry_)
        elif entry.kind is FileKind.OTHER:
            raise InvalidArgument(f"{instruction}: {rel!r} is not a regular file, directory or symlink")
        else:
            path = child(target, posixpath.basename(rel)) if dest_is_dir else target
            if path in (".", ""):
                raise InvalidArgument(f"{instruction}: cannot copy a file onto /")
            out[path] = Selected(path, entry)
    return [out[k] for k in sorted(out)]


def select_parents(root: SourceRoot, sources: Sequence[str], dest: str, workdir: str,
                   instruction: str) -> list[Selected]:
    """`COPY --parents`: each match keeps its path (and parent directories, with their own metadata) below
    the destination directory; a `/./` in a source is the pivot: only the part after it is kept."""
    target, _ = destination(dest, workdir)
    out: dict[str, Selected] = {}
    for src in sources:
        pivot, sep, _rest = src.lstrip("/").removeprefix("./").partition("/./")
        base = posixpath.normpath(pivot) if sep else ""
        if base.startswith(".."):
            raise UnsafePath(f"{instruction}: source {src!r} is outside the {root.what}")
        cut = 0 if base in ("", ".") else len(base) + 1
        for rel, entry in root.lookup(src.replace("/./", "/"), instruction):
            kept = rel[cut:] if rel != "." else ""
            parts = kept.split("/") if kept else []
            for n in range(1, len(parts)):  # the parents between the pivot and the match
                parent = root.files.get(posixpath.join(base, *parts[:n]) if cut else "/".join(parts[:n]))
                if parent is not None:
                    path = child(target, "/".join(parts[:n]))
                    out.setdefault(path, Selected(path, parent))
            at = child(target, kept) if kept else target
            if entry.kind is FileKind.DIR:
                if at != ".":
                    out[at] = Selected(at, entry)
                for below in root.below(rel):
                    path = child(at, below.path[len(rel) + 1:] if rel != "." else below.path)
                    out[path] = Selected(path, below)
            elif entry.kind is FileKind.OTHER:
                raise InvalidArgument(f"{instruction}: {rel!r} is not a regular file, directory or symlink")
            else:
                out[at] = Selected(at, entry)
    return [out[k] for k in sorted(out)]
