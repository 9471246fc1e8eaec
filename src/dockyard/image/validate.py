"""End-to-end checks of an image or index: every digest, size and diff_id, as go-containerregistry's validate."""

from __future__ import annotations

from dockyard.errors import DigestMismatch, InvalidManifest, SizeMismatch
from dockyard.oci.digest import Digest, Hasher
from dockyard.oci.mediatype import is_index, is_layer
from dockyard.oci.protocols import Image, ImageIndex

CHUNK = 1 << 20


def validate_image(image: Image, *, layers: bool = True) -> None:
    """Raise unless the manifest, config and (with `layers`) every layer are exactly what they claim."""
    raw = image.raw_manifest()
    if Digest.of(raw, image.digest().algorithm) != image.digest():
        raise DigestMismatch(f"manifest bytes do not hash to {image.digest()}")
    manifest = image.manifest()
    config_raw = image.raw_config()
    if Digest.of(config_raw, manifest.config.digest.algorithm) != manifest.config.digest:
        raise DigestMismatch(f"config does not hash to {manifest.config.digest}")
    if len(config_raw) != manifest.config.size:
        raise SizeMismatch(f"config is {len(config_raw)} bytes, manifest says {manifest.config.size}")
    image_layers = image.layers()
    if len(image_layers) != len(manifest.layers):
        raise InvalidManifest(f"image has {len(image_layers)} layers, manifest lists {len(manifest.layers)}")
    is_image = not manifest.artifact_type and all(is_layer(d.media_type) for d in manifest.layers)
    diff_ids = image.config().diff_ids if is_image else ()
    if is_image and len(diff_ids) != len(manifest.layers):
        raise InvalidManifest(f"config lists {len(diff_ids)} diff_ids for {len(manifest.layers)} layers")
    if not layers:
        return
    for i, layer in enumerate(image_layers):
        desc = layer.descriptor
        with layer.open() as stream:
            h = Hasher(desc.digest.algorithm)
            while chunk := stream.read(CHUNK):
                h.update(chunk)
        if h.digest() != desc.digest or h.size != desc.size:
            raise DigestMismatch(f"layer {i} is {h.digest()} ({h.size} bytes), expected {desc.digest} ({desc.size})")
        if is_image:
            with layer.open_uncompressed() as stream:
                got, _ = Digest.of_stream(stream)
            if got != diff_ids[i]:
                raise DigestMismatch(f"layer {i} uncompresses to {got}, config says diff_id {diff_ids[i]}")
            if layer.diff_id() != diff_ids[i]:
                raise DigestMismatch(f"layer {i} reports diff_id {layer.diff_id()}, config says {diff_ids[i]}")


def validate_index(index: ImageIndex, *, layers: bool = True) -> None:
    """Validate an index and, recursively, every child it lists."""
    if Digest.of(index.raw_manifest(), index.digest().algorithm) != index.digest():
        raise DigestMismatch(f"index bytes do not hash to {index.digest()}")
    for desc in index.manifests():
        if is_index(desc.media_type):
            child_index = index.index(desc.digest)
            validate_index(child_index, layers=layers)
            got, media_type = child_index.digest(), child_index.index_manifest().media_type
        else:
            child = index.image(desc.digest)
            validate_image(child, layers=layers)
            got, media_type = child.digest(), child.manifest().media_type
        if got != desc.digest:
            raise DigestMismatch(f"index child {desc.digest} resolved to {got}")
        if media_type != desc.media_type:
            raise InvalidManifest(f"index child {desc.digest} is a {media_type}, the index says {desc.media_type}")


def validate(artifact: Image | ImageIndex, *, layers: bool = True) -> None:
    """Validate either kind."""
    if isinstance(artifact, Image):
        validate_image(artifact, layers=layers)
    else:
        validate_index(artifact, layers=layers)
