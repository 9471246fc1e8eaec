"""The state a stage carries from step to step and the services every step handler uses."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.build.cache import BuildCache, FileHashes
from dockyard.build.context import SourceRoot
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress
from dockyard.layers.extract import extract_layers
from dockyard.mutate.image import MutatedImage
from dockyard.oci.config import History, ImageConfig, RunConfig
from dockyard.oci.jsonvalue import JSONValue, encode
from dockyard.oci.mediatype import Compression
from dockyard.oci.protocols import Image
from dockyard.transports.store import Store


@dataclass
class StageTree:
    """The tree-diff fallback's working root of one stage, kept from one RUN step to the next: `applied` lists
    the diff_ids (hex) of the layers it holds, so later steps only apply what was added since."""

    root: Path | None = None
    applied: tuple[str, ...] = ()


@dataclass
class StageState:
    """A stage being built: its image so far, the cache key chain, and what later steps need to know."""

    name: str
    image: Image
    key: str
    shell: tuple[str, ...] = ("/bin/sh", "-c")
    cmd_set: bool = False
    ran: bool = False
    compression: Compression = Compression.GZIP
    tree: StageTree = field(default_factory=StageTree)
    intermediate: bool = False
    """Outside the target's chain: its layers reach no output, so cache hits may leave them unfetched."""
    """How this stage's new layers are written: the requested one in the target's chain, none elsewhere
    (intermediate layers are compressed only if they reach an output: see `build/compress.py`)."""

    @property
    def run(self) -> RunConfig:
        return self.image.config().config

    @property
    def workdir(self) -> str:
        return self.run.working_dir or "/"


#: One lock for the whole process: stages build in threads, and so do the platforms of a multi-platform build,
#: each with its own BuildEnv but the same `rootfs/` and `trees/` directories.
_EXTRACTING = threading.Lock()


def _no_image(ref: str) -> Image:
    from dockyard.errors import NotFound

    raise NotFound(f"no stage or image named {ref!r}")


@dataclass
class BuildEnv:
    """Services for step handlers: store, cache, context, request, timestamps and stage lookups."""

    request: BuildRequest
    store: Store
    cache: BuildCache
    progress: Progress
    context: SourceRoot
    created: str
    epoch: int | None
    workspace: Path
    hashes: FileHashes
    stage_image: Callable[[str], Image | None] = field(default=lambda _ref: None)
    stage_key: Callable[[str], str | None] = field(default=lambda _ref: None)
    """The cache key a finished stage ended with (None for an image that is not a stage)."""
    open_external: Callable[[str], Image] = field(default=_no_image)
    noted: set[str] = field(default_factory=set)
    views: dict[str, Path] = field(default_factory=dict)
    """Read-only merged views of `--from` images, by manifest digest (see `merged_view`)."""
    mounts: ExitStack = field(default_factory=ExitStack)
    """Mounts that live until the build ends; the executor closes it before removing the workspace."""
    """One-time notes already shown (e.g. the tree-diff fallback)."""
    lock: threading.Lock = field(default_factory=lambda: _EXTRACTING)
    """Held while an image is extracted for `--from` (stages of one level build in threads)."""

    @property
    def listings(self) -> Path:
        """Where per-layer path listings are cached (see `users.layer_listing`)."""
        return self.cache.listings

    def image_for(self, ref: str) -> Image:
        """A `--from=` reference: an earlier stage (name or index), else an image."""
        found = self.stage_image(ref)
        return found if found is not None else self.open_external(ref)

    def rootfs(self, image: Image) -> Path:
        """`image` extracted once (owners kept) under the build cache, keyed by its manifest digest."""
        target = self.cache.root / "rootfs" / image.digest().hex
        done = target.with_name(target.name + ".done")
        with self.lock:
            if not done.exists():
                if target.exists():  # left half-done by an interrupted build
                    import shutil

                    shutil.rmtree(target)
                extract_layers(image.layers(), target, preserve_owners=os.geteuid() == 0)
                done.touch()
        return target

    def source_root(self, ref: str) -> SourceRoot:
        image = self.image_for(ref)
        return SourceRoot.tree(self.merged_view(image) or self.rootfs(image), f"image of --from={ref}")

    def merged_view(self, image: Image) -> Path | None:
        """`image` as a read-only overlay of its cached layer trees (shared with RUN's lower dirs), mounted until
        the build ends; None where overlay cannot be mounted (the caller extracts the image instead).

        A `COPY --from=build /app/bin` then costs the last layers' trees, not an extraction of the whole stage.
        """
        from dockyard.build.sandbox.detect import overlay_problem

        if overlay_problem() is not None or not image.layers():
            return None
        from dockyard.build.sandbox.overlay import readonly_mount
        from dockyard.build.steps.run import layer_trees
        from dockyard.errors import Unsupported

        key = image.digest().hex
        with self.lock:
            if key not in self.views:
                lowers = layer_trees(self, image.layers())
                try:
                    self.views[key] = self.mounts.enter_context(
                        readonly_mount(lowers, self.workspace / "views" / key))
                except Unsupported:
                    return None
            return self.views[key]


def set_config(state: StageState, env: BuildEnv, run: RunConfig, history: History,
               extra: dict[str, JSONValue] | None = None) -> None:
    """Replace the run config (and extra config keys such as Shell or Healthcheck) with a history entry."""
    config = state.image.config()
    new = config.evolve(config=run, history=[*config.history, history], created=env.created)
    if extra:
        obj = json.loads(new.raw)
        section = obj.setdefault("config", {})
        for key, value in extra.items():
            section[key] = value
        new = ImageConfig.parse(encode(obj))
    state.image = MutatedImage(state.image, new, [])
