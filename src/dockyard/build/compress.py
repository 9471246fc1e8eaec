"""Layers of intermediate stages are stored uncompressed; a layer is compressed only when it reaches an output.

BuildKit does the same: its snapshots are plain trees and compression happens at export. A build stage whose
layers never leave the builder (the apt-get and gcc stage of a multi-stage build) then costs no compression
at all. When such a layer does end up in the output (`--target build`, or a cache hit recorded by a stage that
was intermediate then), `compressed` converts it (byte for byte, same diff_id) once and remembers the result,
so the output image is the same whatever the cache held. `--cache-to` compresses the same way before export.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from dockyard.build.cache import write_json
from dockyard.build.steps.base import BuildEnv
from dockyard.layers.filelayer import layer_from_tar
from dockyard.mutate.image import MutatedImage
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.mediatype import Compression, is_docker, layer_compression
from dockyard.oci.protocols import Image, Layer
from dockyard.transports.blobs import BlobLayer
from dockyard.transports.store import Store


def compressed(image: Image, env: BuildEnv, compression: Compression) -> Image:
    """`image` with every uncompressed layer compressed as `compression` (itself when there is none)."""
    if compression is Compression.NONE:
        return image
    layers = list(image.layers())
    plain = [n for n, layer in enumerate(layers) if layer_compression(layer.descriptor.media_type) is
             Compression.NONE]
    if not plain:
        return image
    docker = is_docker(image.manifest().media_type)
    for n in plain:
        layers[n] = compress_layer(layers[n], env.store, env.cache.root, compression, docker)
    return MutatedImage(image, image.config(), layers, replace_layers=True)


def compress_layer(layer: Layer, store: Store, cache_root: Path, compression: Compression, docker: bool) -> Layer:
    """`layer` (uncompressed) as a `compression` blob in `store`, made once and remembered under `cache_root`."""
    diff_id = layer.diff_id()
    memo = cache_root / "compressed" / f"{diff_id.hex}.{compression.value}{'.docker' if docker else ''}.json"
    try:
        desc = Descriptor.from_json(json.loads(memo.read_bytes()))
        if store.has_blob(desc.digest):
            return BlobLayer(store, desc, diff_id)
    except (OSError, ValueError):
        pass
    memo.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=memo.parent, prefix="work-") as tmp, layer.open() as raw:
        built = layer_from_tar(raw, Path(tmp) / "blob", compression, docker_media_types=docker)
        with built.open() as blob:
            store.put_blob(built.descriptor, blob)
    write_json(memo, built.descriptor.to_json())
    return BlobLayer(store, built.descriptor, diff_id)
