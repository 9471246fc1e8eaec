"""RUN: the command executes in a sandbox over the stage's layers (extracted once each), its upper dir
becomes the layer. The sandbox modules are imported lazily so COPY-only builds never need them."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.build.cache import CacheRecord, step_key
from dockyard.build.steps.base import BuildEnv, StageState
from dockyard.build.steps.metadata import command
from dockyard.build.steps.users import resolve_ids
from dockyard.dockerfile import Mount, MountType, RunInstruction
from dockyard.errors import InvalidArgument, NotFound, Unsupported
from dockyard.layers.extract import extract_layers
from dockyard.mutate.image import Addendum, append
from dockyard.oci.config import History
from dockyard.oci.protocols import Layer
from dockyard.transports.blobs import BlobLayer

if TYPE_CHECKING:
    from dockyard.build.sandbox.base import BindMount, RunSpec

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_ONLY_HEREDOC = re.compile(r"^<<-?[\"']?(\w+)[\"']?$")


def script(inst: RunInstruction, state: StageState) -> tuple[str, ...]:
    """The argv: exec form as given; shell form through SHELL, heredocs appended (a lone heredoc is the script)."""
    if inst.command.exec_form or not inst.heredocs:
        return command(state, inst.command)
    text = inst.command.text.strip()
    if len(inst.heredocs) == 1 and _ONLY_HEREDOC.match(text):
        return (*state.shell, inst.heredocs[0].content)
    body = "".join(f"{doc.content}{doc.name}\n" for doc in inst.heredocs)
    return (*state.shell, f"{text}\n{body}")


def layer_tree(env: BuildEnv, layer: Layer) -> Path:
    """`layer` extracted once into `trees/<diff_id>/`, whiteouts kept in overlay form (lower dirs for RUN)."""
    final = env.cache.trees / layer.diff_id().hex
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
    try:
        # whiteouts and opaque markers in overlay form, resolved inside `tmp` like every other entry (a link in
        # the layer must never lead a whiteout to the host)
        extract_layers([layer], tmp, preserve_owners=True, allow_devices=True, preserve_xattrs=True,
                       overlay_whiteouts=True)
        os.rename(tmp, final)
    except FileExistsError:
        shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not final.is_dir():
            raise
    return final


def layer_trees(env: BuildEnv, layers: Sequence[Layer]) -> list[Path]:
    """`layer_tree` of every layer, the missing ones extracted two at a time: each goes to its own directory, and
    creating files releases the GIL, so a many-layer base (a python or node image) unpacks on both cores."""
    missing = [layer for layer in layers if not (env.cache.trees / layer.diff_id().hex).is_dir()]
    if len(missing) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1), thread_name_prefix="tree") as pool:
            for future in [pool.submit(layer_tree, env, layer) for layer in missing]:
                future.result()
    return [layer_tree(env, layer) for layer in layers]


def _tree_digest(root: Path) -> str:
    """Content digest of a bind-mount source, so a changed input invalidates the step."""
    h = hashlib.sha256()
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = Path(dirpath) / name
            h.update(os.path.relpath(full, root).encode() + b"\0")
            if full.is_file() and not full.is_symlink():
                with open(full, "rb") as f:
                    while chunk := f.read(1 << 20):
                        h.update(chunk)
    return h.hexdigest()


def _mounts(inst: RunInstruction, state: StageState, env: BuildEnv, what: str,
            spec_env: dict[str, str]) -> tuple[list[BindMount], list[str], list[str]]:
    """BindMounts and tmpfs targets for the step, plus the parts that belong in its cache key."""
    from dockyard.build.sandbox.base import BindMount

    binds: list[BindMount] = []
    tmpfs: list[str] = []
    keyed: list[str] = []
    for m in inst.mounts:
        target = posixpath.join(state.workdir, m.target) if m.target else state.workdir
        if m.type is MountType.CACHE:
            binds.append(BindMount(_cache_dir(env, m, target), target, readonly=m.readonly))
            keyed.append(f"cache:{target}:{m.id or ''}")
        elif m.type is MountType.TMPFS:
            tmpfs.append(target)
            keyed.append(f"tmpfs:{target}")
        elif m.type is MountType.BIND:
            source = _bind_source(m, env, what)
            binds.append(BindMount(source, target, readonly=m.readonly))
            keyed.append(f"bind:{target}:{m.from_stage or ''}:{_tree_digest(source) if source.is_dir() else ''}")
        elif m.type is MountType.SECRET:
            _secret(m, env, what, binds, spec_env)
        else:
            raise Unsupported(f"{what}: --mount=type={m.type} is not supported")
    return binds, tmpfs, keyed


def _cache_dir(env: BuildEnv, m: Mount, target: str) -> Path:
    name = hashlib.sha256((m.id or target).encode()).hexdigest()[:32]
    path = env.cache.mounts / name
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, m.mode if m.mode is not None else 0o755)
        if m.uid is not None or m.gid is not None:
            os.chown(path, m.uid or 0, m.gid or 0)
    return path


def _bind_source(m: Mount, env: BuildEnv, what: str) -> Path:
    root = env.source_root(m.from_stage) if m.from_stage else env.context
    found = root.lookup(m.source or ".", what)
    return found[0][1].abspath if found[0][0] != "." else root.root


def _secret(m: Mount, env: BuildEnv, what: str, binds: list[BindMount], spec_env: dict[str, str]) -> None:
    from dockyard.build.sandbox.base import BindMount

    sid = m.id or (posixpath.basename(m.target) if m.target else None)
    if not sid:
        raise InvalidArgument(f"{what}: a secret mount needs id= or target=")
    source = env.request.secrets.get(sid)
    if source is None:
        if m.required:
            raise NotFound(f"{what}: secret {sid!r} is required but was not given", hint="--secret id=ID,src=FILE")
        return
    if m.env:
        spec_env[m.env] = source.read_text()
        if not m.target:
            return
    binds.append(BindMount(source.resolve(), m.target or f"/run/secrets/{sid}", readonly=True))


def _spec(inst: RunInstruction, state: StageState, env: BuildEnv, argv: tuple[str, ...],
          variables: Mapping[str, str], what: str) -> tuple[RunSpec, list[str]]:
    from dockyard.build.sandbox.base import Network, RunSpec

    spec_env = {"PATH": DEFAULT_PATH, **variables}
    public = dict(spec_env)
    binds, tmpfs, keyed = _mounts(inst, state, env, what, spec_env)
    if inst.network not in (None, "default", "none", "host"):
        raise Unsupported(f"{what}: --network={inst.network} is not supported (use default, none or host)")
    network = Network.NONE if inst.network == "none" else Network.HOST
    # no USER: root, 0:0 without reading /etc/passwd (as BuildKit does; saves a pass over the base layers)
    uid, gid = resolve_ids(state.image, state.run.user, what, env.listings) if state.run.user else (0, 0)
    spec = RunSpec(args=argv, env=spec_env, cwd=state.workdir, user=f"{uid}:{gid}", network=network,
                   mounts=binds, tmpfs=tmpfs)
    keyed += [json.dumps(sorted(public.items())), f"user={uid}:{gid}", f"cwd={state.workdir}", f"net={network}"]
    return spec, keyed


def apply(state: StageState, inst: RunInstruction, env: BuildEnv, variables: Mapping[str, str]) -> tuple[str, bool]:
    """Run one RUN step (or take its layer from the cache); returns (history text, cached)."""
    what = f"line {inst.start_line}: RUN"
    if inst.security not in (None, "sandbox") or inst.devices:
        raise Unsupported(f"{what}: --security=insecure and --device are not supported")
    argv = script(inst, state)
    text = f"RUN {' '.join(argv)} # buildkit"
    spec, keyed = _spec(inst, state, env, argv, variables, what)
    state.key = step_key(state.key, text, *keyed)
    state.ran = True
    record = env.cache.hit(state.key, env.store, lazy=state.intermediate)
    if record is not None:
        layer: Layer = env.cache.layer(record, env.store)
        state.image = append(state.image, Addendum(layer, record.history), created=env.created)
        return text, True
    from dockyard.build.emulation import check_runnable
    from dockyard.build.runner import execute

    check_runnable(state.image.config().platform, what)
    layers = state.image.layers()
    built = execute(env, layers, lambda: layer_trees(env, layers), spec, what,
                    state.compression, state.tree)
    layer = BlobLayer(env.store, built.descriptor, built.diff_id())
    history = History(created=env.created, created_by=text, comment="buildkit.dockerfile.v0")
    env.cache.put(state.key, CacheRecord(layer.descriptor, layer.diff_id(), history))
    state.image = append(state.image, Addendum(layer, history), created=env.created)
    return text, False
