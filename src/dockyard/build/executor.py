"""Running a build plan: each needed stage in dependency order, each step from the cache or built.

    from dockyard.build.executor import build
    result = build(BuildRequest(context=Path(".")), Progress())
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.build.cache import BuildCache, CacheRecord, RecordSource, step_key
from dockyard.build.compress import compressed
from dockyard.build.context import SourceRoot
from dockyard.build.options import BuildRequest, OutputType
from dockyard.build.output import write_output
from dockyard.build.planner import BuildPlan, plan
from dockyard.build.progress import Progress
from dockyard.build.steps import copy_add, metadata, run, workdir
from dockyard.build.steps.base import BuildEnv, StageState, set_config
from dockyard.dockerfile import (
    AddInstruction,
    CopyInstruction,
    ResolvedInstruction,
    ResolvedStage,
    RunInstruction,
    WorkdirInstruction,
    parse,
    resolve,
)
from dockyard.errors import Error, InvalidArgument, Unsupported
from dockyard.image.empty import EmptyImage
from dockyard.layers.writer import resolve_epoch
from dockyard.mutate.image import MutatedImage
from dockyard.oci.config import History
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.mediatype import Compression
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.store import Store


@dataclass(frozen=True, slots=True)
class BuildResult:
    """The final image, its manifest descriptor and where it was written."""

    image: Image | ImageIndex
    descriptor: Descriptor
    destinations: tuple[str, ...]
    built: int
    cached: int
    cache_exports: tuple[str, ...] = ()


def _created(plan_: BuildPlan) -> tuple[str, int | None]:
    """History/config time and layer mtime clamp: SOURCE_DATE_EPOCH, else 0 for COPY-only builds, else now."""
    from dockyard.transports.rootfs import created_now

    epoch = resolve_epoch()
    if epoch is None and not plan_.runs_commands:
        return "1970-01-01T00:00:00Z", 0
    return created_now(), epoch


class Executor:
    """Builds the stages of one plan; `images` holds every finished stage by index."""

    def __init__(self, request: BuildRequest, progress: Progress) -> None:
        self.request = request
        self.progress = progress
        self.platform = request.platform or Platform.host()
        self.externals: dict[str, Image] = {}
        self.images: dict[int, Image] = {}
        self.keys: dict[int, str] = {}
        self._lock = threading.Lock()
        self.imports: list[RecordSource] = []
        self.final_chain: frozenset[int] = frozenset()

    def external(self, ref: str, platform: str | None = None) -> Image:
        """A base or `--from` image (memoized); `platform` is a stage's `FROM --platform`."""
        memo = f"{ref}@{platform or ''}"
        with self._lock:  # stages of one level run in threads; open each image once
            if memo not in self.externals:
                wanted = Platform.parse(platform) if platform else self.request.platform
                if ref == "scratch":
                    self.externals[memo] = EmptyImage(wanted or self.platform)
                else:
                    from dockyard.transports.resolve import open_image

                    image = open_image(ref, wanted)
                    have = image.config().platform
                    if wanted is not None and not wanted.matches(have):  # BuildKit's InvalidBaseImagePlatform
                        self.progress.note(f"warning: base image {ref} is {have}, not {wanted}; using it anyway")
                    self.externals[memo] = image
            return self.externals[memo]

    def base_env(self, ref: str) -> Mapping[str, str]:
        env = self.external(ref).config().config.env
        return dict(item.partition("=")[::2] for item in env)

    def run(self) -> BuildResult:
        """Build, write the output and export the cache."""
        final, cache = self.build_image()
        desc, where = write_output(final, self.request)
        exports = export_cache(self.request, self.progress, [cache], [final])
        self.progress.done(str(desc.digest))
        return BuildResult(final, desc, where, self.progress.built, self.progress.cached, exports)

    def build_image(self) -> tuple[Image, BuildCache]:
        """Build the target stage; returns the final image (its layers are in the store) and the cache used."""
        the_plan = plan(self.request, self.base_env)
        for name in the_plan.unused_build_args:
            self.progress.note(f"warning: build arg {name} was not consumed by any ARG")
        cache = BuildCache(disabled=self.request.no_cache, imports=self.imports)
        created, epoch = _created(the_plan)
        names = {s.stage.name: s.stage.index for s in the_plan.stages if s.stage.name}
        self.final_chain = _chain(the_plan)
        with tempfile.TemporaryDirectory(dir=cache.root, prefix="work-") as work:
            env = BuildEnv(self.request, Store.open(), cache, self.progress,
                           SourceRoot.context(self.request.context, self.request.dockerfile_path),
                           created, epoch, Path(work), cache.file_hashes())
            env.stage_image = lambda ref: self._stage(ref, names)
            env.stage_key = lambda ref: self._stage_key(ref, names)
            env.open_external = self.external
            try:
                with env.mounts:  # merged views of --from images are unmounted before the workspace goes
                    self._build_stages(the_plan, env)
            finally:
                env.hashes.save()
                for warning in cache.warnings:
                    self.progress.note(f"warning: {warning}")
            final = compressed(self.images[the_plan.target], env, self.request.compression)
            if self.request.labels:
                run_config = final.config().config
                labels = {**run_config.labels, **self.request.labels}
                new = final.config().evolve(config=dataclasses.replace(run_config, labels=labels))
                final = MutatedImage(final, new, [])
        return final, cache

    def _build_stages(self, the_plan: BuildPlan, env: BuildEnv) -> None:
        """Build every stage of the plan, each as soon as the stages it uses are done, up to `request.jobs` at
        a time (threads: RUN steps wait on their sandbox, file work releases the GIL)."""
        jobs = min(max(len(level) for level in the_plan.levels), self.request.jobs or os.cpu_count() or 1)
        if jobs <= 1:
            for level in the_plan.levels:
                for index in level:
                    self._build_stage(the_plan.stage(index), env)
            return
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        waiting = [index for level in the_plan.levels for index in level]
        done: set[int] = set()
        running: dict[Future[None], int] = {}
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="stage") as pool:
            while waiting or running:
                for index in [i for i in waiting if the_plan.needs.get(i, frozenset()) <= done]:
                    if len(running) >= jobs:
                        break
                    waiting.remove(index)
                    running[pool.submit(self._build_stage, the_plan.stage(index), env)] = index
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: running[f]):  # the first failure by stage order
                    index = running.pop(future)
                    future.result()
                    done.add(index)

    def _stage_key(self, ref: str, names: Mapping[str, int]) -> str | None:
        index = _stage_index(ref, names)
        return self.keys.get(index) if index is not None else None

    def _stage(self, ref: str, names: Mapping[str, int]) -> Image | None:
        index = _stage_index(ref, names)
        return self.images.get(index) if index is not None else None

    def _build_stage(self, stage: ResolvedStage, env: BuildEnv) -> None:
        label = stage.stage.ref
        if stage.base_stage is not None:
            image, key = self.images[stage.base_stage], self.keys[stage.base_stage]
        else:
            image = self.external(stage.base, stage.platform)
            key = step_key("from", str(image.digest()), stage.platform or str(self.platform))
        state = StageState(label, image, key)
        state.intermediate = stage.stage.index not in self.final_chain  # reaches no output unless asked for
        state.compression = Compression.NONE if state.intermediate else self.request.compression
        raw = json.loads(image.config().raw).get("config") or {}
        if isinstance(raw.get("Shell"), list) and raw["Shell"]:
            state.shell = tuple(str(x) for x in raw["Shell"])
        self.progress.step(label, 0, f"FROM {stage.base}", cached=None)
        if raw.get("OnBuild"):
            self._onbuild(state, env, [str(t) for t in raw["OnBuild"]])
        for number, ri in enumerate(stage.instructions, start=1):
            self._step(state, env, ri, number)
        self.images[stage.stage.index] = state.image
        self.keys[stage.stage.index] = state.key

    def _onbuild(self, state: StageState, env: BuildEnv, triggers: list[str]) -> None:
        """Run the base image's ONBUILD triggers first, then clear them (as Docker does)."""
        vars_ = dict(item.partition("=")[::2] for item in state.run.env)
        resolved = resolve(parse("FROM scratch\n" + "\n".join(triggers) + "\n"), base_env=lambda _r: vars_)
        for number, ri in enumerate(resolved.stages[0].instructions, start=1):
            self._step(state, env, ri, number)
        set_config(state, env, state.run, History(created=env.created, created_by="ONBUILD triggers",
                                                  empty_layer=True), {"OnBuild": None})

    def _step(self, state: StageState, env: BuildEnv, ri: ResolvedInstruction, number: int) -> None:
        inst = ri.instruction
        start = time.monotonic()
        cached: bool | None = None
        if isinstance(inst, (CopyInstruction, AddInstruction)):
            text, cached = copy_add.apply(state, inst, env)
        elif isinstance(inst, RunInstruction):
            text, cached = run.apply(state, inst, env, ri.variables)
        elif isinstance(inst, WorkdirInstruction):
            text, cached = workdir.apply(state, inst, env)
        elif isinstance(inst, metadata.METADATA):
            text = metadata.apply(state, inst, env)
            state.key = step_key(state.key, text)
        else:
            raise Unsupported(f"line {inst.start_line}: {inst.keyword_text} is not supported by the builder")
        self.progress.step(state.name, number, text, cached=cached, seconds=time.monotonic() - start)


def _stage_index(ref: str, names: Mapping[str, int]) -> int | None:
    """The stage a `--from`/`FROM` reference names: by name, else by number."""
    index = names.get(ref.lower())
    return int(ref) if index is None and ref.isdigit() else index


def _chain(the_plan: BuildPlan) -> frozenset[int]:
    """The target stage and the stages it is built FROM: their layers are the output image's."""
    chain = {the_plan.target}
    stage = the_plan.stage(the_plan.target)
    while stage.base_stage is not None:
        chain.add(stage.base_stage)
        stage = the_plan.stage(stage.base_stage)
    return frozenset(chain)


def open_imports(request: BuildRequest, progress: Progress) -> list[RecordSource]:
    """Open every `--cache-from`; as with BuildKit, a cache that is missing or unusable is a warning."""
    from dockyard.build.remotecache import ImportedCache
    from dockyard.errors import Error

    found: list[RecordSource] = []
    for spec in request.cache_from:
        try:
            imported = ImportedCache.open(spec.location)
        except Error as exc:
            progress.note(f"warning: cache {spec.location} not used: {exc.message}")
            continue
        progress.note(f"importing cache from {spec.location}: {len(imported.records)} records")
        found.append(imported)
    return found


def export_cache(request: BuildRequest, progress: Progress, caches: Sequence[BuildCache],
                 finals: Sequence[Image]) -> tuple[str, ...]:
    """Write the cache records the build made or used to every `--cache-to` (min or max mode), each with the
    listing of its layer."""
    if not request.cache_to:
        return ()
    from dockyard.build.remotecache import cache_artifact, encode_listing, select
    from dockyard.build.steps.users import layer_listing
    from dockyard.transports.resolve import write_location

    cache = caches[0]
    used: dict[str, CacheRecord] = {}
    for each in caches:  # one cache per platform: the first one's blob source fetches every pending layer
        used.update(each.used)
        cache.pending.update(each.pending)
    written = []
    final_layers = [layer.diff_id() for image in finals for layer in image.layers()]
    store = Store.open()
    source = cache.blobs(store)
    for spec in request.cache_to:
        records = _compressed_records(select(used, final_layers, spec.mode), cache, store, request.compression)
        listings = {rec.diff_id: encode_listing(*layer_listing(cache.layer(rec, store), cache.listings))
                    for rec in records.values()}
        try:
            done = write_location(spec.location, cache_artifact(records, source, listings))
        except Error as exc:
            if not spec.ignore_error:  # BuildKit fails the build too, unless ignore-error=true
                raise
            progress.note(f"warning: cache export to {spec.location} failed: {exc.message}")
            continue
        progress.note(f"exported cache ({spec.mode}, {len(records)} records) to {done.destination}")
        written.append(done.destination)
    return tuple(written)


def _compressed_records(records: Mapping[str, CacheRecord], cache: BuildCache, store: Store,
                        compression: Compression) -> dict[str, CacheRecord]:
    """The records, with the uncompressed layers of intermediate stages compressed for export (as BuildKit
    compresses at export): a cache travels at the size of the image, not of its trees."""
    from dockyard.build.compress import compress_layer
    from dockyard.oci.mediatype import layer_compression

    if compression is Compression.NONE:
        return dict(records)
    out: dict[str, CacheRecord] = {}
    for key, rec in records.items():
        if layer_compression(rec.layer.media_type) is Compression.NONE:
            packed = compress_layer(cache.layer(rec, store), store, cache.root, compression, docker=False)
            rec = dataclasses.replace(rec, layer=packed.descriptor)
        out[key] = rec
    return out


def build(request: BuildRequest, progress: Progress | None = None) -> BuildResult:
    """Build the image `request` describes and write it to its output.

    With several `platforms`, each is built (at the same time, up to `jobs`; a RUN for a platform this machine
    cannot execute fails, unless its stage is `FROM --platform=$BUILDPLATFORM`) and the output is an OCI index.
    """
    progress = progress or Progress()
    imports = open_imports(request, progress)
    if len(request.platforms) <= 1:
        single = dataclasses.replace(request, platform=request.platforms[0]) if request.platforms else request
        executor = Executor(single, progress)
        executor.imports = imports
        return executor.run()
    from dockyard.image.index import ImageListIndex

    if request.output.type is OutputType.DOCKER_ARCHIVE:
        raise InvalidArgument("a docker-archive holds one platform; use -o type=oci or the store for "
                              f"{len(request.platforms)} platforms")

    def one(platform: Platform) -> tuple[Image, BuildCache]:
        progress.note(f"building for {platform}")
        executor = Executor(dataclasses.replace(request, platform=platform, platforms=()), progress)
        executor.imports = imports
        return executor.build_image()

    jobs = min(len(request.platforms), request.jobs or os.cpu_count() or 1)
    if jobs > 1:  # platforms are independent builds (their RUN steps may wait on the network or on QEMU)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="platform") as pool:
            built = [future.result() for future in [pool.submit(one, p) for p in request.platforms]]
    else:
        built = [one(p) for p in request.platforms]
    finals = [final for final, _ in built]
    caches = [cache for _, cache in built]
    index = ImageListIndex(finals)
    desc, where = write_output(index, request)
    exports = export_cache(request, progress, caches, finals)
    progress.done(str(desc.digest))
    return BuildResult(index, desc, where, progress.built, progress.cached, exports)
