"""The model behind `analyze --tui`, as plain functions: file trees per layer or of the image up to a layer, each
path marked added / modified / removed / unchanged and wasted, filtered and sorted like dive's file tree."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from dockyard.analyze.apply import ADDED, MODIFIED, WHITEOUT, Removal
from dockyard.analyze.model import Report
from dockyard.analyze.units import go_bytes
from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.whiteout import OPAQUE

__all__ = ["Change", "FileNode", "count", "filter_tree", "image_tree", "info_line", "layer_detail", "layer_rows",
           "layer_tree", "sort_tree", "view"]


class Change(StrEnum):
    """What a layer (or the layers up to it) did to a path."""

    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


ALL_CHANGES = frozenset(Change)


@dataclass(frozen=True, slots=True)
class FileNode:
    """A path of a tree: its change, size (a directory: the files under it), the layer that made it, whether it is
    dead weight (a copy overwritten or deleted later, or a removal that hid bytes), and its children."""

    name: str
    path: str
    change: Change
    size: int
    layer: int
    wasted: bool
    type: EntryType | None
    """None for a removal and for a parent directory the tar implies but does not list."""
    link: str = ""
    children: tuple[FileNode, ...] = ()
    is_dir: bool = False


class _Build:
    """A mutable node while a tree is assembled."""

    __slots__ = ("change", "children", "entry", "layer", "size", "wasted")

    def __init__(self, change: Change, layer: int, entry: TarEntry | None, size: int = 0, wasted: bool = False,
                 children: dict[str, _Build] | None = None) -> None:
        self.change, self.layer, self.entry, self.size, self.wasted = change, layer, entry, size, wasted
        self.children = children


def _dead_layers(report: Report) -> dict[str, frozenset[int]]:
    """Per wasted path, the layers whose copy of it is dead."""
    return {w.path: frozenset(w.layers) for w in report.reclaim.paths}


def _parent(root: _Build, path: str, layer: int) -> _Build:
    """The directory holding `path`, creating missing (implied) directories on the way."""
    node = root
    parent = path.rpartition("/")[0]
    for part in parent.split("/") if parent else ():
        assert node.children is not None
        child = node.children.get(part)
        if child is None or child.children is None:
            child = node.children[part] = _Build(Change.UNCHANGED, layer, None, children={})
        node = child
    return node


def _put(root: _Build, e: TarEntry, change: Change, layer: int, wasted: bool) -> None:
    up = _parent(root, e.path, layer)
    assert up.children is not None
    name = e.path.rpartition("/")[2]
    old = up.children.get(name)
    if e.type is EntryType.DIR:
        if old is not None and old.children is not None:
            if change is not Change.UNCHANGED:
                old.change = change
            old.entry, old.layer = e, layer
            return
        up.children[name] = _Build(change, layer, e, children={})
        return
    size = e.size if e.type is EntryType.FILE else 0
    up.children[name] = _Build(change, layer, e, size, wasted)


def _remove(root: _Build, path: str) -> None:
    up = _find(root, path.rpartition("/")[0] or ".")
    if up is not None and up.children is not None:
        up.children.pop(path.rpartition("/")[2], None)


def _ghost(root: _Build, removal: Removal, layer: int) -> None:
    """Show what a whiteout removed; an opaque directory's hidden contents as its `.wh..wh..opq` marker."""
    path = f"{removal.path}/{OPAQUE}" if removal.opaque else removal.path
    if removal.opaque and removal.path == ".":
        path = OPAQUE
    up = _parent(root, path, layer)
    assert up.children is not None
    name = path.rpartition("/")[2]
    if name not in up.children:
        up.children[name] = _Build(Change.REMOVED, layer, None, removal.bytes, removal.bytes > 0)


def _kind(kind: int) -> Change:
    return Change.ADDED if kind == ADDED else Change.MODIFIED if kind == MODIFIED else Change.UNCHANGED


def layer_tree(report: Report, index: int) -> FileNode:
    """What layer `index` changes: its entries (with their change kind) and what its whiteouts removed."""
    dead = _dead_layers(report)
    root = _Build(Change.UNCHANGED, index, None, children={})
    delta = report.deltas[index]
    for e, kind in zip(report.entries[index], delta.kinds, strict=True):
        if kind == WHITEOUT or e.path == ".":
            continue
        _put(root, e, _kind(kind), index, index in dead.get(e.path, ()))
    for removal in delta.removals:
        _ghost(root, removal, index)
    return _freeze(root, "", "")


def image_tree(report: Report, upto: int | None = None) -> FileNode:
    """The image's filesystem with layers 0..`upto` (default: all) applied, each path marked by the layer that last
    changed it, plus what whiteouts removed and nothing re-added (as `removed`)."""
    last = len(report.layers) - 1 if upto is None else upto
    dead = _dead_layers(report)
    root = _Build(Change.UNCHANGED, -1, None, children={})
    ghosts: dict[tuple[str, bool], tuple[Removal, int]] = {}
    for i in range(last + 1):
        delta = report.deltas[i]
        for removal in delta.removals:
            if removal.opaque:
                node = _find(root, removal.path)
                if node is not None and node.children is not None:
                    node.children = {}
            else:
                _remove(root, removal.path)
            ghosts[removal.path, removal.opaque] = (removal, i)
        for e, kind in zip(report.entries[i], delta.kinds, strict=True):
            if kind != WHITEOUT and e.path != ".":
                _put(root, e, _kind(kind), i, i in dead.get(e.path, ()))
    for removal, i in ghosts.values():
        if (_find(root, removal.path) is not None) == removal.opaque:  # an opaque dir still there; a path gone
            _ghost(root, removal, i)
    return _freeze(root, "", "")


def _find(root: _Build, path: str) -> _Build | None:
    node: _Build | None = root
    for part in path.split("/") if path != "." else ():
        if node is None or node.children is None:
            return None
        node = node.children.get(part)
    return node


def _freeze(node: _Build, name: str, path: str) -> FileNode:
    e = node.entry
    children: tuple[FileNode, ...] = ()
    size = node.size
    if node.children is not None:
        children = tuple(_freeze(c, n, f"{path}/{n}" if path else n) for n, c in sorted(node.children.items()))
        size = sum(c.size for c in children)
    return FileNode(name, path, node.change, size, node.layer, node.wasted, e.type if e is not None else None,
                    e.linkname if e is not None else "", children, node.children is not None)


def filter_tree(node: FileNode, shown: Collection[Change] = ALL_CHANGES, wasted_only: bool = False) -> FileNode | None:
    """Keep the paths whose change is `shown` (and that are wasted, with `wasted_only`), with the directories
    leading to them; directory sizes count what stays. None when nothing stays."""
    if not node.is_dir:
        keep = node.change in shown and (node.wasted or not wasted_only)
        return node if keep else None
    kept = tuple(c for c in (filter_tree(child, shown, wasted_only) for child in node.children) if c is not None)
    if not kept and (node.children or node.change not in shown or wasted_only):
        return None if node.path else _replace(node, ())
    return _replace(node, kept)


def _replace(node: FileNode, children: tuple[FileNode, ...]) -> FileNode:
    return FileNode(node.name, node.path, node.change, sum(c.size for c in children), node.layer, node.wasted,
                    node.type, node.link, children, node.is_dir)


def sort_tree(node: FileNode, by_size: bool = False) -> FileNode:
    """Children by name (dive's order) or by size, largest first (ties by name), at every level."""
    if not node.children:
        return node
    children = [sort_tree(c, by_size) for c in node.children]
    children.sort(key=(lambda c: (-c.size, c.name)) if by_size else (lambda c: c.name))
    return FileNode(node.name, node.path, node.change, node.size, node.layer, node.wasted, node.type, node.link,
                    tuple(children), node.is_dir)


def view(report: Report, layer: int, *, whole_image: bool = False, shown: Collection[Change] = ALL_CHANGES,
         wasted_only: bool = False, by_size: bool = False) -> FileNode:
    """The tree the browser shows: one layer's changes or the image up to that layer, filtered and sorted."""
    tree = image_tree(report, layer) if whole_image else layer_tree(report, layer)
    kept = filter_tree(tree, shown, wasted_only)
    return sort_tree(kept if kept is not None else _replace(tree, ()), by_size)


def info_line(report: Report) -> str:
    """dive's numbers and the reclaimable bytes in one line."""
    d, r = report.dive, report.reclaim
    return (f"Image {go_bytes(report.size)} · efficiency {100 * d.efficiency:.4f} % · "
            f"wasted (dive) {go_bytes(d.wasted_bytes)} ({100 * d.wasted_user_percent:.1f} % of user bytes) · "
            f"reclaimable {go_bytes(r.reclaimable_bytes)}")


def layer_detail(report: Report, index: int) -> str:
    """One line about a layer: digest, its adds, changes, removals and dead bytes."""
    lyr = report.layers[index]
    return (f"Layer {lyr.index}{' (base)' if lyr.base else ''} {lyr.digest.short} · "
            f"+{lyr.added_files} ({go_bytes(lyr.added_bytes)}) ~{lyr.modified_files} ({go_bytes(lyr.modified_bytes)})"
            f" -{lyr.removed_files} ({go_bytes(lyr.removed_bytes)}) · reclaimable {go_bytes(lyr.reclaimable_bytes)}")


def layer_rows(report: Report) -> Sequence[tuple[str, str, str]]:
    """The layer list: index (`*` for base layers), size and the command, one tuple per layer."""
    return [(f"{lyr.index}{'*' if lyr.base else ''}", go_bytes(lyr.size), " ".join(lyr.command.split()))
            for lyr in report.layers]


def count(node: FileNode, changes: Mapping[Change, int] | None = None) -> dict[Change, int]:
    """How many non-directory paths of each change a tree holds."""
    out = dict(changes or {})
    todo = [node]
    while todo:
        n = todo.pop()
        if n.is_dir:
            todo.extend(n.children)
        else:
            out[n.change] = out.get(n.change, 0) + 1
    return out
