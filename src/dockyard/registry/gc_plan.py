"""Garbage collection planning (the mark): which manifests are unreachable and which blobs nothing needs.

Pure functions over a metadata snapshot and a listing of storage; no I/O. A plan is only a proposal: every
deletion is re-checked in the metadata store's write transaction (see `registry/gc.py`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dockyard.oci.digest import Digest
from dockyard.registry.meta.gcstore import BlobLink, ManifestNode


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob's bytes as found in storage."""

    digest: Digest
    size: int
    mod_time: float


@dataclass(frozen=True, slots=True)
class BlobCandidate:
    """A blob the mark did not reach: unreferenced, with every link and its bytes older than the cutoff."""

    digest: Digest
    size: int  # bytes in storage (0 when only dangling links or a condemned mark remain)
    repositories: tuple[str, ...]


def kept_manifests(nodes: Sequence[ManifestNode], cutoff: float) -> set[tuple[str, Digest]]:
    """(repository, digest) of every manifest reachable from a tag, or pushed after `cutoff` (unix time).

    Reachable: tagged; listed by a kept index; or a referrer whose subject is kept (signatures, SBOMs and
    attestations live as long as what they describe).
    """
    by_key = {(n.repository, n.digest): n for n in nodes}
    referrers: defaultdict[tuple[str, Digest], list[ManifestNode]] = defaultdict(list)
    for n in nodes:
        if n.subject is not None:
            referrers[(n.repository, n.subject)].append(n)
    stack = [(n.repository, n.digest) for n in nodes if n.tags or n.pushed > cutoff]
    kept: set[tuple[str, Digest]] = set()
    while stack:
        key = stack.pop()
        if key in kept or key not in by_key:
            continue
        kept.add(key)
        node = by_key[key]
        stack.extend((node.repository, child) for child in node.children)
        stack.extend((r.repository, r.digest) for r in referrers[key])
    return kept


def deletion_order(doomed: Sequence[ManifestNode]) -> list[ManifestNode]:
    """`doomed` with every index before the children it lists and every subject before its referrers.

    The store refuses to delete a manifest an index still lists, or a referrer whose subject is still there,
    so this order lets one pass delete them all. The relations form a DAG (a digest cannot name a manifest
    that names it back).
    """
    keys = {(n.repository, n.digest): n for n in doomed}
    parents: defaultdict[tuple[str, Digest], list[tuple[str, Digest]]] = defaultdict(list)
    for n in doomed:
        for child in n.children:
            parents[(n.repository, child)].append((n.repository, n.digest))
        if n.subject is not None:
            parents[(n.repository, n.digest)].append((n.repository, n.subject))
    depth: dict[tuple[str, Digest], int] = {}

    def level(key: tuple[str, Digest]) -> int:
        """Longest chain of doomed parents above `key` (iterative; a cycle from a damaged database is cut)."""
        todo, on_path = [key], {key}
        while todo:
            current = todo[-1]
            pending = [p for p in parents[current] if p in keys and p not in depth and p not in on_path]
            if pending:
                todo.append(pending[0])
                on_path.add(pending[0])
                continue
            todo.pop()
            on_path.discard(current)
            depth[current] = 1 + max((depth.get(p, -1) for p in parents[current] if p in keys), default=-1)
        return depth[key]

    return sorted(doomed, key=lambda n: (level((n.repository, n.digest)), n.repository, str(n.digest)))


def referenced_blobs(nodes: Iterable[ManifestNode]) -> set[Digest]:
    """Every digest the given manifests are (their own bytes) or point at (configs, layers, children, data)."""
    marked: set[Digest] = set()
    for n in nodes:
        marked.add(n.digest)
        marked.update(r.digest for r in n.refs)
    return marked


def blob_candidates(stored: Iterable[StoredBlob], links: Iterable[BlobLink], condemned: Iterable[Digest],
                    referenced: set[Digest], cutoff: float) -> list[BlobCandidate]:
    """The sweep: stored, linked or condemned blobs that nothing references and nothing touched after `cutoff`."""
    sizes: dict[Digest, int] = {}
    young: set[Digest] = set()
    for blob in stored:
        sizes[blob.digest] = blob.size
        if blob.mod_time > cutoff:
            young.add(blob.digest)
    repos: defaultdict[Digest, list[str]] = defaultdict(list)
    for link in links:
        repos[link.digest].append(link.repository)
        if link.linked > cutoff:
            young.add(link.digest)
    every = set(sizes) | set(repos) | set(condemned)
    return [BlobCandidate(d, sizes.get(d, 0), tuple(repos[d]))
            for d in sorted(every - referenced - young, key=str)]
