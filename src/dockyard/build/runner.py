"""Executing one RUN step and turning its changes into a layer: overlayfs + runc/bwrap when possible, else the
tree-diff fallback (the stage's layers extracted into one tree, the step run on it in place, the tree compared
before and after; see `treediff.py`). `DOCKYARD_SANDBOX=runc|bwrap|tree` forces a choice."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from dockyard.build.sandbox.base import RunSpec, Sandbox
from dockyard.build.steps.base import BuildEnv, StageTree
from dockyard.errors import InvalidArgument, Unsupported
from dockyard.layers.extract import extract_layers
from dockyard.layers.filelayer import FileLayer
from dockyard.oci.mediatype import Compression
from dockyard.oci.protocols import Layer

TREE = "tree"


def choose(env: BuildEnv) -> tuple[Sandbox, bool]:
    """The sandbox and whether it works on a plain tree (the fallback); the fallback is announced once."""
    from dockyard.build.sandbox.detect import detect_sandbox, detect_tree_sandbox

    forced = os.environ.get("DOCKYARD_SANDBOX") or None
    if forced != TREE:
        try:
            return detect_sandbox(forced), False
        except Unsupported as exc:
            reason = exc.message
    else:
        reason = "DOCKYARD_SANDBOX=tree"
    sandbox = detect_tree_sandbox()
    if TREE not in env.noted:
        env.noted.add(TREE)
        env.progress.note(f"{reason}: RUN steps use the tree-diff fallback with {sandbox.name} "
                          "(slower: each stage is unpacked into one tree, walked before and after every RUN)")
    return sandbox, True


def execute(env: BuildEnv, layers: Sequence[Layer], lowers: Callable[[], list[Path]], spec: RunSpec,
            what: str, compression: Compression, kept: StageTree) -> FileLayer:
    """Run `spec` over the stage whose layers are `layers`; returns the layer of its changes, already stored.
    `lowers()` extracts the layers as overlay lower dirs when overlay is used; `kept` is the stage's working
    tree for the fallback (kept between its RUN steps)."""
    from dockyard.build.snapshot import snapshot_upper

    sandbox, tree = choose(env)
    with tempfile.TemporaryDirectory(dir=env.workspace, prefix="run-") as tmp:
        base = Path(tmp)
        (base / "work").mkdir()
        if tree:
            return _tree(env, sandbox, layers, spec, base, what, compression, kept)
        dirs = lowers()
        if not dirs:
            (base / "empty").mkdir()
            dirs = [base / "empty"]
        (base / "upper").mkdir()
        _check(sandbox.run(dirs, base / "upper", base / "work", spec, stdout=sys.stderr.fileno()).exit_code,
               spec, what)
        built = snapshot_upper(base / "upper", base / "blob", compression, source_date_epoch=env.epoch)
        _store(env, built)
        _keep_tree(env, base / "upper", built)
        return built


def _keep_tree(env: BuildEnv, upper: Path, built: FileLayer) -> None:
    """Keep the upper dir as the layer's tree (the next RUN's lower dir, as docker's overlay2 keeps diff dirs)
    and record its listing, instead of extracting the blob we just wrote again later."""
    from dockyard.build.steps.users import record_tree_listing

    hex_ = built.diff_id().hex
    final = env.cache.trees / hex_
    if final.exists():
        return
    record_tree_listing(upper, hex_, env.listings)
    final.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # another build made it first: the blob is extracted on demand instead
        os.rename(upper, final)


def _tree(env: BuildEnv, sandbox: Sandbox, layers: Sequence[Layer], spec: RunSpec, base: Path,
          what: str, compression: Compression, kept: StageTree) -> FileLayer:
    from dockyard.build.sandbox.spec import Mountpoints, mount_targets
    from dockyard.build.treediff import diff_layer, take

    privileged = os.geteuid() == 0
    ids = tuple(layer.diff_id().hex for layer in layers)
    reuse = kept.root is not None and kept.root.is_dir() and ids[:len(kept.applied)] == kept.applied
    if not reuse:
        if kept.root is not None:
            shutil.rmtree(kept.root, ignore_errors=True)
        kept.root, kept.applied = Path(tempfile.mkdtemp(dir=env.workspace, prefix="stage-tree-")), ()
    root = kept.root
    assert root is not None
    try:
        extract_layers(layers[len(kept.applied):], root, preserve_owners=privileged, allow_devices=privileged,
                       preserve_xattrs=privileged)  # only what was added since the last RUN of this stage
        os.chmod(root, 0o755)
        points = Mountpoints.scan(root, mount_targets(spec))  # runc's targets; bwrap mounts a subset
        before = take(root)
        _check(sandbox.run([root], None, base / "work", spec, stdout=sys.stderr.fileno()).exit_code, spec, what)
        owner = None if privileged else (os.geteuid(), os.getegid())
        built, _ = diff_layer(root, before, base / "blob", compression, source_date_epoch=env.epoch,
                              ignore=set(points.missing), owner_map=owner)
        points.clean(root)  # the runtime's mount points are not part of the stage
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)  # half-changed: the next step starts again from the layers
        kept.root, kept.applied = None, ()
        raise
    kept.applied = (*ids, built.diff_id().hex)
    _store(env, built)
    return built


def _check(code: int, spec: RunSpec, what: str) -> None:
    if code != 0:
        raise InvalidArgument(f"{what} {' '.join(spec.args)!r} failed with exit code {code}")


def _store(env: BuildEnv, built: FileLayer) -> None:
    with built.open() as blob:
        env.store.put_blob(built.descriptor, blob)
