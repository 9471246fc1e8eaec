"""dive 0.13.1's efficiency score, wasted bytes and user wasted percent, computed exactly as dive computes them.

dive (`filetree/efficiency.go`, `image/analysis.go`) builds a tree per layer from the tar paths (parents a path
implies but the tar does not list get an empty payload: size 0, not a directory; `.wh..wh.*` names are never
added) and visits the leaves of each layer. Per path it keeps the sum and the minimum of the sizes seen; a
whiteout leaf's size is the size of what it deletes, looked up in the layers below stacked dive's way (opaque
markers ignored): a directory counts its whole subtree, a file counts 0, and a missing target stops the visit of
the rest of that layer (its path keeps a minimum of -1). The score is sum(min) / sum(sum) over all paths; wasted
bytes is sum(sum) over paths seen at least twice, and only layer 0 counts as the base image.
See ../../../docs/analyze.md for the quirks this reproduces and why.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import compress, filterfalse, repeat
from operator import add, is_, itemgetter, methodcaller
from typing import TYPE_CHECKING, TypeVar

from dockyard.layers.tarformat import EntryType, TarEntry

if TYPE_CHECKING:
    from dockyard.analyze.divestack import Stacked, Union

_WH = ".wh."
_META = ".wh..wh."
_MAX = "\U0010ffff"
_DIR = EntryType.DIR
_PATH, _TYPE, _SIZE = itemgetter(0), itemgetter(1), itemgetter(2)  # TarEntry fields, for map()
_HEAD = itemgetter(0)
_EMPTY = (0, False)  # dive's payload of an implied parent
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Inefficiency:
    """A path dive saw in more than one layer (or deleted): how often and the sum of the sizes it saw."""

    path: str
    count: int
    cumulative_size: int
    minimum_size: int


@dataclass(frozen=True, slots=True)
class DiveMetrics:
    """dive's image-level numbers, with its inefficient files in the order its `--json` export lists them."""

    efficiency: float
    size_bytes: int
    user_size_bytes: int
    wasted_bytes: int
    wasted_user_percent: float
    inefficiencies: tuple[Inefficiency, ...]
    layer_sizes: tuple[int, ...]
    """Per layer: the sum of its tar entries' sizes (dive's layer `sizeBytes`)."""


class LayerTree:
    """One layer as dive's tree sees it: the payload size of every node (implied parents: 0), which nodes are
    directories, and which have children."""

    __slots__ = ("_dirs", "_entries", "_nodes", "parents", "size", "sizes", "whiteouts")

    def __init__(self, entries: Sequence[TarEntry]) -> None:
        paths = list(map(_PATH, entries))
        sizes = list(map(_SIZE, entries))
        self.size = sum(sizes)
        self.whiteouts = False
        self._entries = entries
        self._nodes: dict[str, tuple[int, bool]] | None = None
        self._dirs: set[str] | None = None
        by_path = dict(zip(paths, sizes, strict=True))
        if len(by_path) != len(paths) or "." in by_path or _WH in "\0".join(paths):
            self._build(entries)  # repeated paths, the root, whiteouts: entry by entry
            return
        # The common layer, in C-speed passes: every listed path is a node, parents come from the paths.
        parents = set(map(_HEAD, map(str.rpartition, paths, repeat("/"))))
        parents.discard("")
        for missing in parents.difference(by_path):
            _implied(by_path, parents, missing, 0)
        self.sizes = by_path
        self.parents = parents

    def _build(self, entries: Sequence[TarEntry]) -> None:
        nodes: dict[str, tuple[int, bool]] = {}
        parents: set[str] = set()
        whiteouts = False
        for e in entries:
            path = e.path
            if path == ".":
                continue
            if _WH in path:
                if _META in path:
                    _implied(nodes, parents, _before_meta(path), _EMPTY)
                    continue
                whiteouts = whiteouts or path.rpartition("/")[2].startswith(_WH)
            nodes[path] = (e.size, e.type is _DIR)
            parent = path.rpartition("/")[0]
            if parent:
                parents.add(parent)
                if parent not in nodes:
                    _implied(nodes, parents, parent, _EMPTY)
        self._nodes = nodes
        self.sizes = dict(zip(nodes, map(_HEAD, nodes.values()), strict=True))
        self.parents = parents
        self.whiteouts = whiteouts

    @property
    def dirs(self) -> set[str]:
        """The nodes whose payload is a directory (listed directories; implied parents are not)."""
        if self._dirs is None:
            if self._nodes is not None:
                self._dirs = {path for path, (_, is_dir) in self._nodes.items() if is_dir}
            else:  # built in C-speed passes: paths are unique
                types = map(is_, map(_TYPE, self._entries), repeat(_DIR))
                self._dirs = set(compress(map(_PATH, self._entries), types))
        return self._dirs

    @property
    def nodes(self) -> dict[str, tuple[int, bool]]:
        """Payload (size, is_dir) per node."""
        if self._nodes is None:
            dirs = self.dirs
            self._nodes = dict(zip(self.sizes, zip(self.sizes.values(), map(dirs.__contains__, self.sizes),
                                                   strict=True), strict=True))
        return self._nodes

    def leaves(self) -> list[str]:
        return list(filterfalse(self.parents.__contains__, self.sizes))


def _before_meta(path: str) -> str:
    """The part of `path` before its first `.wh..wh.` component (dive's AddPath stops there)."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.startswith(_META):
            return "/".join(parts[:i])
    return path


def _implied(nodes: dict[str, _T], parents: set[str], path: str, empty: _T) -> None:
    """Create `path` and its missing ancestors with dive's empty payload (`empty`: its size, or size and is_dir)."""
    while path and path not in nodes:
        nodes[path] = empty
        parent = path.rpartition("/")[0]
        if not parent:
            return
        parents.add(parent)
        path = parent


def dfs_key(path: str) -> tuple[str, ...]:
    """dive's visiting order (children first, siblings sorted) as a sort key."""
    return (*path.split("/"), _MAX)


def dive_order(paths: Collection[str]) -> list[str]:
    """`sorted(paths, key=dfs_key)`, faster: each path as one string, parts joined by NUL and closed by \\x01,
    sorts as the tuples do (a part before the longer parts it starts, children before their parent). Paths holding
    NUL, \\x01 or U+10FFFF take `dfs_key`."""
    joined = "".join(paths)
    if "\0" in joined or "\x01" in joined or _MAX in joined:
        return sorted(paths, key=dfs_key)
    keys = map(add, map(methodcaller("replace", "/", "\0"), paths), repeat("\x01"))
    return [path for _, path in sorted(zip(keys, paths, strict=True))]


def target_of(leaf: str) -> str:
    """The path a whiteout leaf names (dive strips `.wh.` from the leaf's own name only)."""
    parent, _, base = leaf.rpartition("/")
    name = base[len(_WH):] if base.startswith(_WH) else base
    return f"{parent}/{name}" if parent else name


def dive_metrics(layers: Sequence[Sequence[TarEntry]]) -> DiveMetrics:
    """dive's numbers for layers given as their tar entries, in order."""
    from dockyard.analyze.divestack import Stacked, Union

    trees = [LayerTree(entries) for entries in layers]
    cum: dict[str, int] = {}  # path -> the sum of its sizes (for paths seen once, also the minimum)
    multi: dict[str, list[int]] = {}  # paths seen again (or dive's failed whiteouts): [minimum, count]
    hits: list[tuple[int, str, str]] = []  # (layer, leaf, path) when a path is seen the second time
    stacked: Stacked | None = None
    stacked_layers = 0  # layers in `stacked`
    for idx, tree in enumerate(trees):
        leaves = tree.leaves()
        nodes = tree.sizes
        if not tree.whiteouts and not cum:  # the first layer: every path is new, every leaf keeps its size
            cum = dict(nodes)
            for parent in tree.parents:
                cum.pop(parent, None)
            continue
        sizes: dict[str, int] = {}
        if tree.whiteouts:
            below: Stacked | Union
            if idx and not any(t.whiteouts for t in trees[:idx]):
                below = Union(trees[:idx])  # nothing deleted below: dive's stacked tree is their union
            else:
                if stacked is None:
                    stacked, stacked_layers = Stacked(trees[0]), 1
                while stacked_layers < idx:
                    stacked.stack(trees[stacked_layers])
                    stacked_layers += 1
                below = stacked
            failed = _whiteout_sizes(leaves, below, sizes)
            if failed is not None:
                leaves.sort(key=dfs_key)
                leaves = leaves[: leaves.index(failed)]
                target = target_of(failed)
                if target not in cum:
                    cum[target] = 0
                    multi[target] = [-1, 0]
        for leaf in leaves:
            if sizes and leaf in sizes:
                size, key = sizes[leaf], target_of(leaf)
            else:
                size, key = nodes[leaf], leaf
            first = cum.get(key)
            if first is None:
                cum[key] = size
                continue
            cum[key] = first + size
            rec = multi.get(key)
            if rec is None:
                multi[key] = [min(first, size), 2]
                hits.append((idx, leaf, key))
                continue
            if rec[0] < 0 or size < rec[0]:
                rec[0] = size
            rec[1] += 1
            if rec[1] == 2:
                hits.append((idx, leaf, key))
    return _finish(trees, cum, multi, hits)


def _whiteout_sizes(leaves: list[str], below: Stacked | Union, sizes: dict[str, int]) -> str | None:
    """Sizes of a layer's whiteout leaves; the first (in dive's order) whose target is missing, if any."""
    whiteouts = [leaf for leaf in leaves if _WH in leaf and leaf.rpartition("/")[2].startswith(_WH)]
    deleted = below.deleted_sizes({target_of(leaf) for leaf in whiteouts})
    missing: list[str] = []
    for leaf in whiteouts:
        size = deleted[target_of(leaf)]
        if size is None:
            missing.append(leaf)
        else:
            sizes[leaf] = size
    return min(missing, key=dfs_key) if missing else None


def _finish(trees: list[LayerTree], cum: dict[str, int], multi: dict[str, list[int]],
            hits: list[tuple[int, str, str]]) -> DiveMetrics:
    cumulative = sum(cum.values())
    minimum = cumulative - sum(cum[k] for k in multi) + sum(rec[0] for rec in multi.values())
    score = 1.0 if cumulative == 0 else minimum / cumulative
    hits.sort(key=lambda h: (h[0], dfs_key(h[1])))  # the order dive appends them in
    ordered = sorted((h[2] for h in hits), key=cum.__getitem__)  # stable; see docs/analyze.md
    ineff = tuple(Inefficiency("/" + p, multi[p][1], cum[p], multi[p][0]) for p in reversed(ordered))
    layer_sizes = tuple(t.size for t in trees)
    size = sum(layer_sizes)
    user = size - (layer_sizes[0] if layer_sizes else 0)
    wasted = sum(i.cumulative_size for i in ineff)
    percent = wasted / user if user else (float("nan") if wasted == 0 else float("inf"))
    return DiveMetrics(score, size, user, wasted, percent, ineff, layer_sizes)
