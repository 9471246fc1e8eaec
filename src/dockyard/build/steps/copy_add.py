"""COPY and ADD: the selected files become one synthetic, normalized layer (no root filesystem needed).

The cache key covers the instruction and, for every selected file, its destination, mode, owner and content
hash; identical inputs give an identical layer (mtimes clamped to the build's epoch).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dockyard.build.cache import CacheRecord, step_key
from dockyard.build.chmod import Chmod
from dockyard.build.context import Selected, SourceRoot, child, destination, select, select_parents
from dockyard.build.steps.base import BuildEnv, StageState
from dockyard.build.steps.users import is_dir, resolve_ids
from dockyard.dockerfile import AddInstruction, ContextFile, CopyInstruction, FileKind, PatternMatcher
from dockyard.errors import DigestMismatch, Unsupported
from dockyard.layers.compression import decompress
from dockyard.layers.filelayer import build_layer
from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.tarreader import TarReader
from dockyard.layers.writer import TarWriter, path_key
from dockyard.mutate.image import Addendum, append
from dockyard.oci.config import History
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import Compression
from dockyard.oci.protocols import Layer
from dockyard.transports.blobs import BlobLayer

CHUNK = 1 << 20
_TAR_MAGIC = b"ustar"


@dataclass(frozen=True, slots=True)
class _Item:
    """One tar entry to write: its header and where its body comes from (a file, a tar member, bytes)."""

    entry: TarEntry
    path: Path | None = None
    data: bytes | None = None


def _chmod(text: str | None, what: str) -> Chmod | None:
    return Chmod.parse(text, what) if text is not None else None


def _mode(chmod: Chmod | None, mode: int, is_dir: bool = False) -> int:
    return chmod.apply(mode, is_dir) if chmod is not None else mode


def _entries(selected: list[Selected], owner: tuple[int, int] | None, chmod: Chmod | None) -> Iterator[_Item]:
    """Tar entries for selected files: `owner` None keeps the source's (COPY --from), else sets it."""
    for sel in selected:
        src: ContextFile = sel.source
        if owner is None:
            st = os.lstat(src.abspath)
            uid, gid = st.st_uid, st.st_gid
        else:
            uid, gid = owner
        perm = _mode(chmod, stat.S_IMODE(src.mode), src.kind is FileKind.DIR)
        mtime = src.mtime_ns // 1_000_000_000
        if src.kind is FileKind.DIR:
            yield _Item(TarEntry(sel.dest, EntryType.DIR, 0, perm, uid, gid, mtime=mtime))
        elif src.kind is FileKind.SYMLINK:
            yield _Item(TarEntry(sel.dest, EntryType.SYMLINK, 0, 0o777, uid, gid, mtime=mtime,
                                 linkname=src.link_target or ""))
        else:
            size = os.stat(src.abspath).st_size
            yield _Item(TarEntry(sel.dest, EntryType.FILE, size, perm, uid, gid, mtime=mtime), path=src.abspath)


def _is_tar(path: Path) -> bool:
    try:
        with open(path, "rb") as raw, decompress(raw) as plain:
            head = plain.read(512)
    except Exception:
        return False
    return len(head) == 512 and head[257:262] == _TAR_MAGIC


def _single_tar(root: SourceRoot, src: str, what: str) -> Path | None:
    found = root.lookup(src, what)
    if len(found) == 1 and found[0][1].kind is FileKind.FILE and _is_tar(found[0][1].abspath):
        return found[0][1].abspath
    return None


def _tar_items(path: Path, target: str, workspace: Path) -> Iterator[_Item]:
    """ADD of a local tar: its members under `target` (bodies spooled to the workspace)."""
    spool = Path(tempfile.mkdtemp(dir=workspace, prefix="add-"))
    with open(path, "rb") as raw:
        reader = TarReader(decompress(raw), what=str(path))
        for n, entry in enumerate(reader):
            dest = posixpath.normpath(posixpath.join(target, entry.path)) if entry.path != "." else target
            if entry.type is EntryType.HARDLINK:
                entry = entry._replace(linkname=posixpath.normpath(posixpath.join(target, entry.linkname)))
            entry = entry._replace(path=dest)
            if entry.type is EntryType.FILE:
                body = spool / str(n)
                with open(body, "wb") as out:
                    stream = reader.body()
                    while chunk := stream.read(CHUNK):
                        out.write(chunk)
                yield _Item(entry, path=body)
            else:
                yield _Item(entry)


def _fetch(url: str, checksum: str | None, workspace: Path, what: str) -> Path:
    """ADD of a URL: only with --checksum (so the build stays reproducible and verified)."""
    if checksum is None:
        raise Unsupported(f"{what}: ADD of a URL needs --checksum=sha256:<hex> (downloads must be verified)")
    want = Digest.parse(checksum)
    name = posixpath.basename(urllib.parse.urlparse(url).path) or "download"
    dest = Path(tempfile.mkdtemp(dir=workspace, prefix="url-")) / name
    h = hashlib.new(want.algorithm)
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        while chunk := response.read(CHUNK):
            h.update(chunk)
            out.write(chunk)
    if h.hexdigest() != want.hex:
        raise DigestMismatch(f"{what}: {url} has digest {want.algorithm}:{h.hexdigest()}, expected {want}")
    return dest


def _collect(state: StageState, inst: CopyInstruction | AddInstruction, env: BuildEnv, what: str,
             uid: int, gid: int, mode: Chmod | None) -> list[_Item]:
    from_ref = inst.from_stage if isinstance(inst, CopyInstruction) else None
    root: SourceRoot = env.source_root(from_ref) if from_ref else env.context
    items: list[_Item] = []
    local: list[str] = []
    target, dest_is_dir = destination(inst.dest, state.workdir)
    for src in inst.sources:
        if isinstance(inst, AddInstruction) and src.startswith(("http://", "https://")):
            fetched = _fetch(src, inst.checksum, env.workspace, what)
            path = child(target, fetched.name) if dest_is_dir else target
            st = fetched.stat()
            items.append(_Item(TarEntry(path, EntryType.FILE, st.st_size, _mode(mode, 0o600),
                                        uid, gid, mtime=int(time.time())), path=fetched))
        elif (isinstance(inst, AddInstruction) and inst.unpack is not False
              and (tar := _single_tar(root, src, what)) is not None):
            items.extend(_tar_items(tar, target, env.workspace))
        else:
            local.append(src)
    if local:
        keep = from_ref is not None and not inst.chown
        if isinstance(inst, CopyInstruction) and inst.parents:
            selected = select_parents(root, local, inst.dest, state.workdir, what)
        else:
            selected = select(root, local, inst.dest, state.workdir, what,
                              lambda p: is_dir(state.image, p, env.listings))
        if inst.excludes:
            matcher = PatternMatcher(inst.excludes)
            selected = [s for s in selected if not matcher.matches_or_parent_matches(s.source.path)]
        items.extend(_entries(selected, None if keep else (uid, gid), mode))
    for doc in inst.inline_sources:
        data = (doc.content_chomped if doc.chomp else doc.content).encode()
        path = child(target, doc.name) if dest_is_dir else target
        items.append(_Item(TarEntry(path, EntryType.FILE, len(data), _mode(mode, 0o644), uid, gid),
                           data=data))
    return items


def _digest(items: list[_Item], env: BuildEnv) -> str:
    h = hashlib.sha256()
    for item in sorted(items, key=lambda i: path_key(i.entry.path)):
        e = item.entry
        if item.path is not None:
            content = env.hashes.sha256(item.path, remember=not item.path.is_relative_to(env.workspace))
        else:
            content = hashlib.sha256(item.data or b"").hexdigest()
        h.update(f"{e.path}\0{e.type}\0{e.mode:o}\0{e.uid}:{e.gid}\0{e.linkname}\0{content}\n".encode())
    return h.hexdigest()


def _write_tar(items: list[_Item], sink: BinaryIO, epoch: int | None) -> None:
    with TarWriter(sink, clamp_mtime=epoch) as writer:
        for item in sorted(items, key=lambda i: path_key(i.entry.path)):
            if item.path is not None:
                with open(item.path, "rb") as body:
                    writer.add(item.entry, body)
            else:
                writer.add(item.entry, item.data if item.entry.type is EntryType.FILE else None)


def describe(inst: CopyInstruction | AddInstruction) -> str:
    flags = []
    if isinstance(inst, CopyInstruction) and inst.from_stage:
        flags.append(f"--from={inst.from_stage}")
    for name, value in (("chown", inst.chown), ("chmod", inst.chmod)):
        if value is not None:
            flags.append(f"--{name}={value}")
    if inst.link:
        flags.append("--link")
    if isinstance(inst, CopyInstruction) and inst.parents:
        flags.append("--parents")
    words = [*flags, *inst.sources, *(f"<<{d.name}" for d in inst.inline_sources), inst.dest]
    return f"{inst.keyword_text.upper()} {' '.join(words)} # buildkit"


def apply(state: StageState, inst: CopyInstruction | AddInstruction, env: BuildEnv) -> tuple[str, bool]:
    """Add the layer of one COPY/ADD to `state`; returns (history text, whether it came from the cache)."""
    what = f"line {inst.start_line}: {inst.keyword_text.upper()}"
    text = describe(inst)
    uid, gid = resolve_ids(state.image, inst.chown, what, env.listings) if inst.chown else (0, 0)
    alias = _stage_alias(state, inst, env, text, uid, gid)
    found = env.cache.hit(alias, env.store, lazy=state.intermediate) if alias is not None else None
    if found is not None and found.next_key is not None:  # the source stage is unchanged: no need to open it
        state.key = found.next_key
        layer: Layer = env.cache.layer(found, env.store)
        state.image = append(state.image, Addendum(layer, found.history), created=env.created)
        return text, True
    items = _collect(state, inst, env, what, uid, gid, _chmod(inst.chmod, what))
    key = step_key(state.key, text, f"workdir={state.workdir}", _digest(items, env))
    state.key = key
    record = env.cache.hit(key, env.store, lazy=state.intermediate)
    if record is not None:
        layer = env.cache.layer(record, env.store)
        history, cached = record.history, True
    else:
        history = History(created=env.created, created_by=text, comment="buildkit.dockerfile.v0")
        layer = _build(items, env, state.compression)
        record = CacheRecord(layer.descriptor, layer.diff_id(), history)
        env.cache.put(key, record)
        cached = False
    if alias is not None:
        env.cache.put(alias, CacheRecord(record.layer, record.diff_id, record.history, next_key=key))
    state.image = append(state.image, Addendum(layer, history), created=env.created)
    return text, cached


def _stage_alias(state: StageState, inst: CopyInstruction | AddInstruction, env: BuildEnv, text: str,
                 uid: int, gid: int) -> str | None:
    """For `COPY --from=STAGE`: a key from the stage's own cache key instead of the copied files' content.

    BuildKit keys a copy from another stage by that stage's definition first and by content only when needed;
    so does this: when the source stage ended with the same key as before, the copy is a hit without opening
    (extracting or mounting) the stage at all, which matters most for a stage that came from `--cache-from`.
    """
    from_ref = inst.from_stage if isinstance(inst, CopyInstruction) else None
    stage_key_ = env.stage_key(from_ref) if from_ref else None
    if stage_key_ is None:
        return None
    return step_key(state.key, text, f"workdir={state.workdir}", f"owner={uid}:{gid}",
                    f"exclude={chr(0).join(inst.excludes)}", f"from-stage-key={stage_key_}")


def _build(items: list[_Item], env: BuildEnv, compression: Compression) -> Layer:
    with tempfile.TemporaryDirectory(dir=env.workspace, prefix="copy-") as tmp:
        tar = Path(tmp) / "layer.tar"
        with open(tar, "wb") as sink:
            _write_tar(items, sink, env.epoch)
        built = build_layer(tar, Path(tmp) / "blob", compression, source_date_epoch=env.epoch)
        with built.open() as blob:
            env.store.put_blob(built.descriptor, blob)
        return BlobLayer(env.store, built.descriptor, built.diff_id())

