"""`analyze(image)`: stream every layer once, then compute dive's numbers, the true waste, the base/app split and
the findings into one `Report`."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, cast

import zstandard
from isal import igzip_lib

from dockyard.analyze.apply import Merged
from dockyard.analyze.base import BaseLayers, BaseOpener, find_base
from dockyard.analyze.divecompat import dive_metrics
from dockyard.analyze.final import final_view
from dockyard.analyze.findings import findings
from dockyard.analyze.model import BaseSplit, LayerReport, Report
from dockyard.analyze.prefetch import Prefetcher
from dockyard.analyze.probes import ELF_MAGIC, ELF_MIN_SIZE, SECRET_HINT, Probes, secret_candidate
from dockyard.analyze.reclaim import reclaim
from dockyard.analyze.runtime import tuned
from dockyard.analyze.tarscan import scan_layer
from dockyard.errors import InvalidLayer, Unsupported
from dockyard.layers.compression import decompress
from dockyard.layers.tarformat import TarEntry
from dockyard.oci.config import ImageConfig
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import CONFIG_TYPES, Compression, is_layer, layer_compression
from dockyard.oci.protocols import Image, Layer

#: Called after each layer is scanned: (layer index, layer count, compressed bytes of that layer).
Progress = Callable[[int, int, int], None]
#: Layers scanned at once (see `_scan_all`).
SCAN_WORKERS = 2
#: isal's inflate error (not an OSError subclass).
_ISAL_ERROR: type[Exception] = igzip_lib.IsalError  # type: ignore[assignment]


def check_image(image: Image) -> None:
    """Refuse artifacts that are not container images (signatures, attestations, SBOMs) and unknown layers."""
    manifest = image.manifest()
    what = manifest.artifact_type or manifest.config.media_type
    if manifest.config.media_type not in CONFIG_TYPES:
        raise Unsupported(f"{image.digest()} is not a container image but an artifact of type {what}",
                          hint="analyze the image it refers to instead")
    for i, desc in enumerate(manifest.layers):
        if not is_layer(desc.media_type):
            raise Unsupported(f"layer {i} ({desc.digest}) has media type {desc.media_type}, not an image layer")


def analyze(image: Image, *, reference: str = "", base: Image | None = None, base_ref: str | None = None,
            open_base: BaseOpener | None = None, progress: Progress | None = None) -> Report:
    """Analyze one image. `base` (or a base its annotations name, opened with `open_base`) splits base from app."""
    check_image(image)
    config = image.config()
    layers = image.layers()
    with tuned():
        probes = Probes()
        merged = Merged()
        entries: list[list[TarEntry]] = []
        for i, (scanned, found_here) in enumerate(_scan_all(layers)):
            entries.append(scanned)
            probes.elves += found_here.elves
            probes.secrets += found_here.secrets
            merged.apply(i, scanned)
            if progress is not None:
                progress(i, len(layers), layers[i].descriptor.size)
        dive = dive_metrics(entries)
        final = final_view(merged)
        reclaimed, dead_per_layer = reclaim(merged, final, len(layers))
        found = findings(merged, final, reclaimed, probes)
    diff_ids = config.diff_ids if len(config.diff_ids) == len(layers) else ()
    based = find_base(image, diff_ids, base=base, base_ref=base_ref, opener=open_base)
    commands = dive_commands(config, len(layers))
    reports = tuple(_layer_report(i, layer, diff_ids, commands[i], len(entries[i]), merged, dive.layer_sizes[i],
                                  dead_per_layer[i], i < based.count, config)
                    for i, layer in enumerate(layers))
    return Report(
        reference=reference or str(image.digest()), digest=image.digest(), media_type=image.manifest().media_type,
        platform=str(config.platform), created=config.created,
        compressed_size=sum(desc.size for desc in image.manifest().layers), layers=reports, dive=dive,
        reclaim=reclaimed, base=_split(based, reports), findings=found,
        entries=tuple(tuple(e) for e in entries), deltas=tuple(merged.deltas))


def _scan_all(layers: Sequence[Layer]) -> Iterator[tuple[list[TarEntry], Probes]]:
    """Each layer's entries and probe hits, in layer order, scanned `SCAN_WORKERS` layers at a time.

    Layers differ: one of big files is bound by its digest check (off the GIL), one of many small files by header
    parsing (on it), so scanning two at once keeps both cores busy. The first failing layer's error is raised; on
    the way out no new layer is started and the running ones are waited for. (Plain threads: `concurrent.futures`
    would add about 4 ms of imports to every `dockyard analyze`.)
    """
    if len(layers) < 2:
        yield from (_scan_one(layer, i) for i, layer in enumerate(layers))
        return
    results: list[tuple[list[TarEntry], Probes] | BaseException | None] = [None] * len(layers)
    done = [threading.Event() for _ in layers]
    todo = iter(range(len(layers)))  # shared by the workers: next() on it is atomic under the GIL
    stop = threading.Event()

    def work() -> None:
        for i in todo:
            if stop.is_set():
                return
            try:
                results[i] = _scan_one(layers[i], i)
            except BaseException as exc:  # handed to the consumer, raised in layer order
                results[i] = exc
            done[i].set()

    workers = [threading.Thread(target=work, name=f"dockyard-scan-{n}", daemon=True)
               for n in range(min(SCAN_WORKERS, len(layers)))]
    for worker in workers:
        worker.start()
    try:
        for i in range(len(layers)):
            done[i].wait()
            result, results[i] = results[i], None
            if isinstance(result, BaseException):
                raise result
            assert result is not None
            yield result
    finally:
        stop.set()
        for worker in workers:
            worker.join()


def _scan_one(layer: Layer, index: int) -> tuple[list[TarEntry], Probes]:
    probes = Probes()
    probes.layer = index
    return _scan(layer, index, probes), probes


def _scan(layer: Layer, index: int, probes: Probes) -> list[TarEntry]:
    desc = layer.descriptor
    what = f"layer {index} ({desc.digest})"
    compression = layer_compression(desc.media_type)
    stream = layer.open()
    try:
        with Prefetcher(stream if compression is Compression.NONE else decompress(stream, compression)) as tar:
            return scan_layer(cast(BinaryIO, tar), what=what, probe=probes.probe, probe_magic=ELF_MAGIC,
                              probe_min_size=ELF_MIN_SIZE, probe_names=secret_candidate, name_hint=SECRET_HINT)
    except (OSError, EOFError, zlib.error, zstandard.ZstdError, _ISAL_ERROR) as exc:
        raise InvalidLayer(f"{what}: corrupt {compression} stream: {exc}") from None
    finally:
        stream.close()


def dive_commands(config: ImageConfig, count: int) -> list[str]:
    """The history command of each layer as dive maps it: empty_layer entries skipped, `/bin/sh -c ` trimmed."""
    history = [h for h in config.history if not h.empty_layer]
    out = []
    for i in range(count):
        created_by = history[i].created_by if i < len(history) else None
        out.append("(missing)" if i >= len(history) else (created_by or "").removeprefix("/bin/sh -c "))
    return out


def _layer_report(i: int, layer: Layer, diff_ids: Sequence[Digest], command: str, entries: int, merged: Merged,
                  size: int, dead: int, base: bool, config: ImageConfig) -> LayerReport:
    counts = merged.counts[i]
    removals = merged.deltas[i].removals
    history = [h for h in config.history if not h.empty_layer]
    diff_id = diff_ids[i] if diff_ids else None
    return LayerReport(
        index=i, digest=layer.descriptor.digest, diff_id=diff_id,
        media_type=layer.descriptor.media_type, compressed_size=layer.descriptor.size, size=size, command=command,
        comment=history[i].comment if i < len(history) else None, entries=entries,
        added_files=counts.added_files, added_bytes=counts.added_bytes, modified_files=counts.modified_files,
        modified_bytes=counts.modified_bytes, removed_files=sum(r.files for r in removals),
        removed_bytes=sum(r.bytes for r in removals), reclaimable_bytes=dead, base=base)


def _split(based: BaseLayers, layers: Sequence[LayerReport]) -> BaseSplit:
    base = layers[: based.count]
    app = layers[based.count :]
    return BaseSplit(
        source=based.source, base_name=based.name, base_digest=based.digest, layers=based.count,
        base_bytes=sum(layer.size for layer in base), app_bytes=sum(layer.size for layer in app),
        base_reclaimable=sum(layer.reclaimable_bytes for layer in base),
        app_reclaimable=sum(layer.reclaimable_bytes for layer in app), note=based.note)
