"""dive's stacked tree (`StackTreeRange`): the layers below a whiteout merged dive's way, to size what it deletes.

dive starts from a raw copy of layer 0's tree (whiteout nodes included), stacks layer 0 onto it again, then each
further layer: a node whose name starts with `.wh.` removes its target, every other node (implied parents too)
is added with its payload, keeping existing children. Opaque markers are not in dive's trees, so they hide
nothing. dive rebuilds this tree for every whiteout it meets (which is why it needs a minute on big layers with
deletions); here it is built once and stacked forward layer by layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import methodcaller
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.analyze.divecompat import LayerTree

_WH = ".wh."


class _Node:
    __slots__ = ("children", "is_dir", "size")

    def __init__(self, size: int, is_dir: bool) -> None:
        self.size = size
        self.is_dir = is_dir
        self.children: dict[str, _Node] = {}


class Stacked:
    """The merged tree of layers 0..n as dive computes it, indexed by path."""

    def __init__(self, first: LayerTree) -> None:
        self._root = _Node(0, True)
        self._index: dict[str, _Node] = {"": self._root}
        for path, (size, is_dir) in first.nodes.items():
            self._add(path, size, is_dir)
        self.stack(first)

    def stack(self, tree: LayerTree) -> None:
        """Stack one more layer on top."""
        whiteouts = [p for p in tree.nodes if _WH in p and p.rpartition("/")[2].startswith(_WH)]
        targets = [_target(p) for p in whiteouts]
        if any(t in tree.nodes for t in targets):
            self._stack_in_order(tree)  # a layer that deletes and re-adds a path: dive's visiting order decides
            return
        for target in targets:
            self._remove(target)
        skip = set(whiteouts)
        for path, (size, is_dir) in tree.nodes.items():
            if path not in skip:
                self._add(path, size, is_dir)

    def _stack_in_order(self, tree: LayerTree) -> None:
        from dockyard.analyze.divecompat import dfs_key

        for path in sorted(tree.nodes, key=dfs_key):
            if path.rpartition("/")[2].startswith(_WH):
                self._remove(_target(path))
            else:
                size, is_dir = tree.nodes[path]
                self._add(path, size, is_dir)

    def deleted_size(self, path: str) -> int | None:
        """What a whiteout of `path` weighs in dive: a directory's subtree size, 0 for a file, None if missing."""
        node = self._index.get(path)
        if node is None:
            return None
        if not node.is_dir:
            return 0
        total = 0
        todo = [node]
        while todo:
            n = todo.pop()
            total += n.size
            todo.extend(n.children.values())
        return total

    def deleted_sizes(self, paths: Iterable[str]) -> dict[str, int | None]:
        """`deleted_size` of each path."""
        return {path: self.deleted_size(path) for path in paths}

    def _add(self, path: str, size: int, is_dir: bool) -> None:
        node = self._index.get(path)
        if node is None:
            parent, _, name = path.rpartition("/")
            up = self._index.get(parent)
            if up is None:
                self._add(parent, 0, False)  # dive's implied parent: an empty payload
                up = self._index[parent]
            node = up.children[name] = self._index[path] = _Node(size, is_dir)
            return
        node.size = size
        node.is_dir = is_dir

    def _remove(self, path: str) -> None:
        node = self._index.get(path)
        if node is None or not path:
            return  # dive logs the failed removal and goes on
        parent, _, name = path.rpartition("/")
        del self._index[parent].children[name]
        todo = [(path, node)]
        while todo:
            p, n = todo.pop()
            del self._index[p]
            todo.extend((f"{p}/{k}", c) for k, c in n.children.items())


def _target(path: str) -> str:
    parent, _, base = path.rpartition("/")
    name = base[len(_WH):]
    return f"{parent}/{name}" if parent else name


class Union:
    """dive's stacked tree of layers that delete nothing: every node of every layer, with the payload of the last
    layer that has it (implied parents included, as `Stacked` would stack them), as one dict instead of a tree."""

    def __init__(self, trees: Sequence[LayerTree]) -> None:
        self._trees = trees
        self._sizes: dict[str, int] = {}
        for tree in trees:
            self._sizes.update(tree.sizes)

    def deleted_sizes(self, paths: Iterable[str]) -> dict[str, int | None]:
        """What a whiteout of each path weighs in dive (see `Stacked.deleted_size`), in one pass over the nodes."""
        sizes = self._sizes
        out: dict[str, int | None] = {}
        totals: dict[str, int] = {}  # directories: their subtree's size
        for path in paths:
            if not path:  # the root: everything
                out[path] = sum(sizes.values())
            elif path not in sizes:
                out[path] = None
            elif path not in next(t for t in reversed(self._trees) if path in t.sizes).dirs:
                out[path] = 0  # the last layer that has it says file, or implies it: not a directory
            else:
                totals[path] = sizes[path]
        if totals:
            dirs = list(totals)
            prefixes = tuple(d + "/" for d in dirs)
            for path in filter(methodcaller("startswith", prefixes), sizes):
                for d, prefix in zip(dirs, prefixes, strict=True):
                    if path.startswith(prefix):
                        totals[d] += sizes[path]
        out.update(totals)
        return out
