"""The state a stage carries from step to step and the services every step handler uses."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
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
from dockyard.oci.protocols import Image
from dockyard.transports.store import Store


@dataclass
class StageState:
    """A stage being built: its image so far, the cache key chain, and what later steps need to know."""

    name: str
    image: Image
    key: str
    shell: tuple[str, ...] = ("/bin/sh", "-c")
    cmd_set: bool = False
    ran: bool = False

    @property
    def run(self) -> RunConfig:
        return self.image.config().config

    @property
    def workdir(self) -> str:
        return self.run.working_dir or "/"


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
    open_external: Callable[[str], Image] = field(default=_no_image)
    noted: set[str] = field(default_factory=set)
    """One-time notes already shown (e.g. the tree-diff fallback)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while an image is extracted for `--from` (stages of one level build in threads)."""

    @property
    def listings(self) -> Path:
        """Where per-layer path listings are cached (see `users.layer_listing`)."""
        return self.cache.root / "listings"

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
        return SourceRoot.tree(self.rootfs(self.image_for(ref)), f"image of --from={ref}")


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
