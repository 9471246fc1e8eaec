"""Applying layers as the OCI image spec says, in memory: what each layer adds, changes and removes, what stays
visible, and which bytes can be reclaimed.

Per layer, whiteouts and opaque markers first hide what the layers below put there (never what this layer adds,
wherever its entries sit in the tar), then the entries apply in order: a directory over a directory keeps its
children, anything else replaces what was at its path (a file over a directory drops the directory's subtree).
Every regular file with content is a copy; a hardlink shares the copy of its target. A copy is live when some path
of the final filesystem still refers to it. Reclaimable bytes are the bytes of copies that are not live: files
overwritten (a chmod-only re-add too: the old copy is dead once), deleted, hidden by an opaque directory, or
under a directory deleted as a whole. Nothing here holds file contents.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.whiteout import META_PREFIX, OPAQUE, PREFIX

ADDED, MODIFIED, UNCHANGED, WHITEOUT = 1, 2, 0, 3
_DIR, _FILE, _HARDLINK = EntryType.DIR, EntryType.FILE, EntryType.HARDLINK
_new = tuple.__new__


class Node:
    """A directory of the merged filesystem: the layer and entry that made it (None: implied), and its children."""

    __slots__ = ("children", "copy", "entry", "layer")

    def __init__(self, layer: int, entry: TarEntry | None, children: dict[str, Node | Leaf]) -> None:
        self.layer = layer
        self.entry = entry
        self.children = children
        self.copy = -1
        """Directories show no file content."""


class Leaf(NamedTuple):
    """Any other path of the merged filesystem (files, links, devices): immutable, and a tuple because there are
    tens of thousands of them."""

    layer: int
    entry: TarEntry
    children: None
    copy: int
    """Index of the file copy this path shows (-1: no content)."""


#: A path of the merged filesystem; `children is None` tells a `Leaf`.
AnyNode = Node | Leaf


@dataclass(frozen=True, slots=True)
class Removal:
    """What one whiteout or opaque marker hid: the path, and the files and bytes under it."""

    path: str
    files: int
    bytes: int
    opaque: bool


@dataclass(frozen=True, slots=True)
class LayerDelta:
    """One layer's effect: a change kind per entry (aligned with the entries) and what its whiteouts removed."""

    kinds: bytes
    removals: tuple[Removal, ...]


class Counts(NamedTuple):
    """Non-directory entries of one layer that add a path or change one, and their bytes."""

    added_files: int
    added_bytes: int
    modified_files: int
    modified_bytes: int


class Merged:
    """The merged filesystem, built layer by layer."""

    def __init__(self) -> None:
        self.root = Node(-1, None, {})
        self.copies: list[TarEntry] = []
        """Every file copy, in layer order (see `copy_layer`)."""
        self.deltas: list[LayerDelta] = []
        self.counts: list[Counts] = []
        """Per layer, aligned with `deltas`."""
        self._starts: list[int] = []  # per layer, the index of its first copy
        self._dirs: dict[str, Node] = {"": self.root}

    def copy_layer(self, copy: int) -> int:
        """The layer that added a copy."""
        return bisect_right(self._starts, copy) - 1

    def apply(self, layer: int, entries: Sequence[TarEntry]) -> LayerDelta:
        """Apply one layer's entries (layers in order); returns its delta."""
        hidden: list[int] = []
        removals: list[Removal] = []
        for i, e in enumerate(entries):
            if PREFIX in e.path:
                base = e.path.rpartition("/")[2]
                if base.startswith(PREFIX):
                    hidden.append(i)
                    if base == OPAQUE or not base.startswith(META_PREFIX):  # other `.wh..wh.` names: metadata
                        removal = self._hide(e.path, base == OPAQUE)
                        if removal is not None:
                            removals.append(removal)
        kinds = bytearray([ADDED]) * len(entries)  # the common kind; every other one is set below
        skip = set(hidden)
        for i in hidden:
            kinds[i] = WHITEOUT
        self._starts.append(len(self.copies))
        dirs, copies, put = self._dirs, self.copies, self._put
        add = copies.append
        added_files = added_bytes = modified_files = modified_bytes = 0
        for i, e in enumerate(entries):
            if skip and i in skip:
                continue
            parent, _, name = e.path.rpartition("/")
            if name == ".":
                kinds[i] = UNCHANGED
                continue
            up = dirs.get(parent)
            if up is None:
                up = self._mkdirs(parent, layer)
            children = up.children
            if e.type is _FILE and name not in children:  # `_put`'s commonest case, inline
                size = e.size
                if size:
                    children[name] = _new(Leaf, (layer, e, None, len(copies)))
                    add(e)
                    added_bytes += size
                else:
                    children[name] = _new(Leaf, (layer, e, None, -1))
                added_files += 1
                continue
            kind = kinds[i] = put(up, name, e, layer, copies)
            if e.type is not _DIR:
                if kind == ADDED:
                    added_files += 1
                    added_bytes += e.size
                elif kind == MODIFIED:
                    modified_files += 1
                    modified_bytes += e.size
        delta = LayerDelta(bytes(kinds), tuple(removals))
        self.deltas.append(delta)
        self.counts.append(Counts(added_files, added_bytes, modified_files, modified_bytes))
        return delta

    def _put(self, up: Node, name: str, e: TarEntry, layer: int, copies: list[TarEntry]) -> int:
        children = up.children
        old = children.get(name)
        kind = ADDED if old is None or old.layer == layer else MODIFIED
        if e.type is _DIR:
            if isinstance(old, Node):
                if kind == MODIFIED and old.entry is not None and (old.entry.mode, old.entry.uid, old.entry.gid) == (
                        e.mode, e.uid, e.gid):
                    kind = UNCHANGED
                old.entry, old.layer = e, layer
                return kind
            node = children[name] = Node(layer, e, {})
            self._dirs[e.path] = node
            return kind
        copy = -1
        if e.type is _FILE and e.size:
            copy = len(copies)
            copies.append(e)
        elif e.type is _HARDLINK:
            target = self.lookup(e.linkname)
            copy = target.copy if target is not None else -1
        if isinstance(old, Node):
            self._forget_dirs()
        children[name] = _new(Leaf, (layer, e, None, copy))
        return kind

    def _mkdirs(self, path: str, layer: int) -> Node:
        """The directory at `path`, creating missing ones (a non-directory in the way is replaced)."""
        parent, _, name = path.rpartition("/")
        up = self._dirs.get(parent) or self._mkdirs(parent, layer)
        node = up.children.get(name)
        if not isinstance(node, Node):
            if node is not None:
                self._forget_dirs()
            node = up.children[name] = Node(layer, None, {})
        self._dirs[path] = node
        return node

    def lookup(self, path: str) -> AnyNode | None:
        """The node at a normalized path, if it exists."""
        parent, _, name = path.rpartition("/")
        up: AnyNode | None = self._dirs.get(parent)
        if up is None:
            up = self.root
            for part in parent.split("/") if parent else ():
                up = up.children.get(part) if up.children is not None else None
                if up is None:
                    return None
        return up.children.get(name) if up.children is not None else None

    def _hide(self, path: str, opaque: bool) -> Removal | None:
        if opaque:
            directory = path.rpartition("/")[0]
            node = self.lookup(directory) if directory else self.root
            if not isinstance(node, Node) or not node.children:
                return None
            files, size = _weigh(node.children.values())
            node.children = {}
            self._forget_dirs()
            return Removal(directory or ".", files, size, True)
        parent, _, base = path.rpartition("/")
        target = f"{parent}/{base[len(PREFIX):]}" if parent else base[len(PREFIX):]
        up = self.lookup(parent) if parent else self.root
        if not isinstance(up, Node) or (node := up.children.pop(base[len(PREFIX):], None)) is None:
            return None
        if node.children is not None:
            self._forget_dirs()
        files, size = _weigh([node])
        return Removal(target, files, size, False)

    def _forget_dirs(self) -> None:
        self._dirs = {"": self.root}

    def walk(self) -> Iterator[tuple[str, AnyNode]]:
        """Every path of the merged filesystem (parents before children), with its node."""
        todo: list[tuple[str, Node]] = [("", self.root)]
        while todo:
            prefix, node = todo.pop()
            for name, child in node.children.items():
                path = f"{prefix}/{name}" if prefix else name
                yield path, child
                if child.children is not None:
                    todo.append((path, child))


def _weigh(nodes: Iterable[AnyNode]) -> tuple[int, int]:
    """Files (non-directories) and regular-file bytes under some nodes, the nodes included."""
    files = size = 0
    todo = list(nodes)
    while todo:
        n = todo.pop()
        if n.children is None:
            files += 1
            if n.entry is not None and n.entry.type is _FILE:
                size += n.entry.size
        else:
            todo.extend(n.children.values())
    return files, size
