"""WORKDIR: set the working directory and, as BuildKit does, create it (and missing parents) when absent.

The created directories are mode 0755, owned by the stage's USER (resolved through the image's /etc/passwd
and /etc/group), and form one small layer; a WORKDIR naming an existing directory adds no layer.
"""

from __future__ import annotations

import dataclasses
import posixpath
import tempfile
import time
from pathlib import Path

from dockyard.build.cache import CacheRecord, step_key
from dockyard.build.steps import metadata
from dockyard.build.steps.base import BuildEnv, StageState
from dockyard.build.steps.users import is_dir, layer_listing, resolve_ids
from dockyard.dockerfile import WorkdirInstruction
from dockyard.layers.filelayer import build_layer
from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.writer import TarWriter
from dockyard.mutate.image import Addendum, MutatedImage, append
from dockyard.oci.config import History
from dockyard.oci.mediatype import Compression
from dockyard.oci.protocols import Image, Layer
from dockyard.transports.blobs import BlobLayer

DIR_MODE = 0o755


def _non_dir(image: Image, path: str, env: BuildEnv) -> bool:
    """Whether the topmost layer naming `path` has it as something other than a directory (file, symlink,
    whiteout): then the builder cannot tell what WORKDIR resolves to without following links."""
    for layer in reversed(image.layers()):
        dirs, others = layer_listing(layer, env.listings)
        if path in dirs:
            return False
        if path in others:
            return True
    return False


def missing_dirs(image: Image, workdir: str, env: BuildEnv) -> tuple[str, ...]:
    """The components of absolute `workdir` (no leading `/`, parents first) that the image lacks.

    Empty when the directory exists, and also when a component is a file, symlink or deleted entry (the
    step then stays config-only, as before this step created directories).
    """
    parts = [p for p in workdir.strip("/").split("/") if p]
    missing: list[str] = []
    for n in range(1, len(parts) + 1):
        path = "/".join(parts[:n])
        if missing:
            missing.append(path)
        elif not is_dir(image, path, env.listings):
            if _non_dir(image, path, env):
                return ()
            missing.append(path)
    return tuple(missing)


def apply(state: StageState, inst: WorkdirInstruction, env: BuildEnv) -> tuple[str, bool | None]:
    """Apply one WORKDIR; returns (history text, cached) with cached None when no layer was made."""
    workdir = posixpath.normpath(posixpath.join(state.workdir, inst.path))
    create = missing_dirs(state.image, workdir, env)
    if not create:
        text = metadata.apply(state, inst, env)
        state.key = step_key(state.key, text)
        return text, None
    text = metadata.describe(inst, state)
    what = f"line {inst.start_line}: WORKDIR"
    user = state.run.user
    uid, gid = resolve_ids(state.image, user, what, env.listings) if user else (0, 0)
    state.key = step_key(state.key, text, "mkdir", f"{uid}:{gid}", *create)
    history = History(created=env.created, created_by=text, comment="buildkit.dockerfile.v0")
    config = state.image.config()
    new = config.evolve(config=dataclasses.replace(config.config, working_dir=workdir), created=env.created)
    state.image = MutatedImage(state.image, new, [])
    record = env.cache.hit(state.key, env.store, lazy=state.intermediate)
    cached = record is not None
    if record is not None:
        layer: Layer = env.cache.layer(record, env.store)
        history = record.history
    else:
        layer = _build(create, uid, gid, env, state.compression)
        env.cache.put(state.key, CacheRecord(layer.descriptor, layer.diff_id(), history))
    state.image = append(state.image, Addendum(layer, history), created=env.created)
    return text, cached


def _build(dirs: tuple[str, ...], uid: int, gid: int, env: BuildEnv, compression: Compression) -> Layer:
    with tempfile.TemporaryDirectory(dir=env.workspace, prefix="workdir-") as tmp:
        tar = Path(tmp) / "layer.tar"
        mtime = env.epoch if env.epoch is not None else int(time.time())
        with open(tar, "wb") as sink, TarWriter(sink, clamp_mtime=env.epoch) as writer:
            for path in dirs:
                writer.add(TarEntry(path, EntryType.DIR, 0, DIR_MODE, uid, gid, mtime=mtime), None)
        built = build_layer(tar, Path(tmp) / "blob", compression, source_date_epoch=env.epoch)
        with built.open() as blob:
            env.store.put_blob(built.descriptor, blob)
        return BlobLayer(env.store, built.descriptor, built.diff_id())
