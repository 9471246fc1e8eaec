"""Images over any content-addressed blob source, and writing images into any blob sink.

This is go-containerregistry's `partial` idea: a transport only provides `open_blob(digest)`
(and, as a sink, `has_blob`/`put_blob`); manifests, configs and layers are derived here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import BinaryIO, Protocol

from dockyard.errors import DigestMismatch, InvalidManifest, LimitExceeded, SizeMismatch
from dockyard.layers.compression import decompress
from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest, Hasher, VerifyingReader
from dockyard.oci.manifest import ImageManifest, IndexManifest, parse_any
from dockyard.oci.mediatype import is_index, layer_compression
from dockyard.oci.protocols import Image, ImageIndex, Layer

#: Configs are JSON documents read whole; refuse anything absurd.
MAX_CONFIG = 64 << 20
MAX_MANIFEST = 4 << 20
#: Blob writes in flight at once for sinks that declare `concurrent_puts = True`.
PARALLEL_PUTS = 3


class BlobSource(Protocol):
    """Anything that can open a blob by digest (raises BlobUnknown when it has none)."""

    def open_blob(self, digest: Digest) -> BinaryIO: ...


class BlobSink(Protocol):
    """Anything that can store blobs by digest, verifying them."""

    def has_blob(self, digest: Digest) -> bool: ...

    def put_blob(self, descriptor: Descriptor, stream: BinaryIO) -> None:
        """Store exactly the content `descriptor` names; raise DigestMismatch/SizeMismatch otherwise."""
        ...


def read_verified(source: BlobSource, descriptor: Descriptor, limit: int) -> bytes:
    """Read a small blob whole, checking its digest and size."""
    if descriptor.data is not None:
        return descriptor.data
    if descriptor.size > limit:
        raise LimitExceeded(f"blob {descriptor.digest} is {descriptor.size} bytes, over the {limit}-byte limit")
    parts = []
    with VerifyingReader(source.open_blob(descriptor.digest), descriptor.digest, descriptor.size) as r:
        while chunk := r.read(1 << 20):  # loops until EOF, where the digest and size are checked
            parts.append(chunk)
    return b"".join(parts)


def copy_verified(stream: BinaryIO, out: BinaryIO, descriptor: Descriptor) -> int:
    """Copy `stream` to `out`, raising SizeMismatch/DigestMismatch unless it is exactly `descriptor`'s content.

    A VerifyingReader for the same digest and size raises at EOF by itself, so it is not hashed twice.
    Raises before anything past the declared size is written. Returns the bytes copied.
    """
    digest = descriptor.digest
    trusted = isinstance(stream, VerifyingReader) and stream.verifies(digest, descriptor.size)
    hasher = Hasher(digest.algorithm)
    copied = 0
    while chunk := stream.read(1 << 20):
        copied += len(chunk)
        if copied > descriptor.size:
            raise SizeMismatch(f"blob {digest} is larger than the declared {descriptor.size} bytes")
        if not trusted:
            hasher.update(chunk)
        out.write(chunk)
    if copied != descriptor.size:
        raise SizeMismatch(f"blob {digest} has {copied} bytes, its descriptor says {descriptor.size}")
    if not trusted and hasher.digest() != digest:
        raise DigestMismatch(f"blob content hashes to {hasher.digest()}, expected {digest}")
    return copied


class BlobLayer:
    """A layer whose bytes come from a blob source; reads are verified against the descriptor."""

    def __init__(self, source: BlobSource, descriptor: Descriptor, diff_id: Digest | None) -> None:
        self._source = source
        self._descriptor = descriptor
        self._diff_id = diff_id

    @property
    def descriptor(self) -> Descriptor:
        return self._descriptor

    def diff_id(self) -> Digest:
        if self._diff_id is None:
            with self.open_uncompressed() as r:
                self._diff_id, _ = Digest.of_stream(r)
        return self._diff_id

    def open(self) -> BinaryIO:
        return VerifyingReader(self._source.open_blob(self._descriptor.digest),  # type: ignore[return-value]
                               self._descriptor.digest, self._descriptor.size)

    def open_uncompressed(self) -> BinaryIO:
        return decompress(self.open(), layer_compression(self._descriptor.media_type))


class BlobImage:
    """An Image over a blob source, given its raw manifest bytes."""

    def __init__(self, source: BlobSource, raw_manifest: bytes, *, what: str = "manifest") -> None:
        self._source = source
        self._raw = raw_manifest
        self._manifest = ImageManifest.parse(raw_manifest, what)

    def raw_manifest(self) -> bytes:
        return self._raw

    def manifest(self) -> ImageManifest:
        return self._manifest

    def digest(self) -> Digest:
        return self._manifest.digest

    def raw_config(self) -> bytes:
        return self._raw_config

    @cached_property
    def _raw_config(self) -> bytes:
        return read_verified(self._source, self._manifest.config, MAX_CONFIG)

    def config(self) -> ImageConfig:
        return self._config

    @cached_property
    def _config(self) -> ImageConfig:
        return ImageConfig.parse(self._raw_config)

    def layers(self) -> Sequence[Layer]:
        return self._layers

    @cached_property
    def _layers(self) -> list[Layer]:
        descs = self._manifest.layers
        try:
            diff_ids: Sequence[Digest | None] = self.config().diff_ids
        except InvalidManifest:
            diff_ids = []  # artifacts: the config is not an image config
        if len(diff_ids) != len(descs):
            diff_ids = [None] * len(descs)
        return [BlobLayer(self._source, d, i) for d, i in zip(descs, diff_ids, strict=True)]

    def open_blob(self, descriptor: Descriptor) -> BinaryIO:
        return VerifyingReader(self._source.open_blob(descriptor.digest),  # type: ignore[return-value]
                               descriptor.digest, descriptor.size)


class BlobIndex:
    """An ImageIndex over a blob source, given its raw bytes."""

    def __init__(self, source: BlobSource, raw_manifest: bytes, *, what: str = "index") -> None:
        self._source = source
        self._raw = raw_manifest
        self._index = IndexManifest.parse(raw_manifest, what)

    def raw_manifest(self) -> bytes:
        return self._raw

    def index_manifest(self) -> IndexManifest:
        return self._index

    def digest(self) -> Digest:
        return self._index.digest

    def manifests(self) -> Sequence[Descriptor]:
        return self._index.manifests

    def _child(self, digest: Digest) -> bytes:
        for d in self._index.manifests:
            if d.digest == digest:
                return read_verified(self._source, d, MAX_MANIFEST)
        raise InvalidManifest(f"index {self.digest()} has no child {digest}")

    def image(self, digest: Digest) -> Image:
        return BlobImage(self._source, self._child(digest), what=f"manifest {digest}")

    def index(self, digest: Digest) -> ImageIndex:
        return BlobIndex(self._source, self._child(digest), what=f"index {digest}")


def load_artifact(source: BlobSource, descriptor: Descriptor) -> Image | ImageIndex:
    """Open the image or index a descriptor points to."""
    raw = read_verified(source, descriptor, MAX_MANIFEST)
    return from_raw(source, raw)


def from_raw(source: BlobSource, raw: bytes) -> Image | ImageIndex:
    parsed = parse_any(raw)
    if isinstance(parsed, IndexManifest):
        return BlobIndex(source, raw)
    return BlobImage(source, raw)


def blobs_of(image: Image) -> Iterator[tuple[Descriptor, Callable[[], BinaryIO]]]:
    """Every blob an image needs except its manifest: config first, then layers in order."""
    m = image.manifest()
    yield m.config, lambda: image.open_blob(m.config)
    for layer in image.layers():
        yield layer.descriptor, layer.open


def write_artifact(
    sink: BlobSink,
    artifact: Image | ImageIndex,
    *,
    on_blob: Callable[[Descriptor, bool], None] | None = None,
) -> Descriptor:
    """Write every blob of an image or index (children first, manifests last) into `sink`.

    Blobs the sink already has are skipped. Returns the descriptor of the top manifest.
    `on_blob(descriptor, skipped)` is called per blob for progress reporting.
    """
    import io

    def put(desc: Descriptor, opener: Callable[[], BinaryIO]) -> None:
        skipped = sink.has_blob(desc.digest)
        if not skipped:
            with opener() as stream:
                sink.put_blob(desc, stream)
        if on_blob:
            on_blob(desc, skipped)

    if isinstance(artifact, Image) and not is_index(artifact.manifest().media_type):
        blobs = list(blobs_of(artifact))
        if getattr(sink, "concurrent_puts", False) and len(blobs) > 2:
            # overlap reading (network, decompression) with hashing and writing; the GIL is released
            # by hashlib and file I/O, so two or three workers help even on two cores
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=PARALLEL_PUTS) as pool:
                for future in [pool.submit(put, d, o) for d, o in blobs]:
                    future.result()
        else:
            for desc, opener in blobs:
                put(desc, opener)
        top = artifact.manifest().descriptor()
    else:
        assert isinstance(artifact, ImageIndex)
        for child in artifact.manifests():
            write_artifact(sink, child_of(artifact, child), on_blob=on_blob)
        top = artifact.index_manifest().descriptor()
    raw = artifact.raw_manifest()
    if not sink.has_blob(top.digest):
        sink.put_blob(top, io.BytesIO(raw))
    if on_blob:
        on_blob(top, False)
    return top


def child_of(index: ImageIndex, descriptor: Descriptor) -> Image | ImageIndex:
    """The image or nested index a descriptor of `index` points to."""
    if is_index(descriptor.media_type):
        return index.index(descriptor.digest)
    return index.image(descriptor.digest)
