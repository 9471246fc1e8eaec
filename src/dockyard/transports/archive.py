"""docker-archive: `docker save` tars, read in place and written in the Docker 25+ combined form.

Reading takes `manifest.json` (`[{"Config", "RepoTags", "Layers", "LayerSources"?}]`). When the tar is
also an OCI layout (Docker 25+), each image is the layout's exact manifest; otherwise a Docker schema2
manifest is synthesized: layer digests are the sha256 of the stored files, media types follow each
file's compression, diff_ids come from the config. Written archives look like Docker 25's, which both
`docker load` (20.10 on, which sniffs gzip and zstd layer files) and skopeo read::

    blobs/sha256/<hex>   manifests, configs and layers (layers stored as given, compressed or not)
    index.json           one entry per tag: io.containerd.image.name + org.opencontainers.image.ref.name
    manifest.json        [{"Config": "blobs/sha256/<cfg>", "RepoTags": ["name:tag"], "Layers": [...]}]
    oci-layout           {"imageLayoutVersion":"1.0.0"}
    repositories         {"name": {"tag": "<hex of the top layer>"}} (legacy; unused when manifest.json exists)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from dockyard.errors import (
    BlobUnknown,
    InvalidArgument,
    InvalidContent,
    InvalidManifest,
    NotFound,
    Unsupported,
)
from dockyard.image.select import select_image
from dockyard.layers.compression import detect
from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import REF_NAME, Descriptor
from dockyard.oci.digest import CHUNK, Digest, Hasher
from dockyard.oci.jsonvalue import JSONValue, encode
from dockyard.oci.manifest import ImageManifest, IndexManifest
from dockyard.oci.mediatype import Compression, MediaType, is_layer, is_manifest, layer_type
from dockyard.oci.protocols import Image
from dockyard.oci.reference import Reference
from dockyard.transports.blobs import MAX_CONFIG, MAX_MANIFEST, BlobImage, BlobIndex, write_artifact
from dockyard.transports.layoutindex import (
    IMAGE_NAME,
    INDEX_FILE,
    LAYOUT_BYTES,
    LAYOUT_FILE,
    LayoutReader,
    blob_name,
    open_artifact,
)
from dockyard.transports.ociarchive import (
    OTHER_COMPRESSIONS,
    TarBlobSink,
    TarMembers,
    TarWriter,
    atomic_output,
    read_layout,
)

MANIFEST_FILE = "manifest.json"
REPOSITORIES_FILE = "repositories"


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One image of `manifest.json`: member paths of its config and layers, and its tags."""

    config: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]
    layer_sources: Mapping[str, Descriptor] = field(default_factory=dict)


def parse_manifest_json(raw: bytes, where: str) -> tuple[ArchiveEntry, ...]:
    """The entries of a docker-archive `manifest.json`; InvalidManifest when it is malformed."""
    what = f"{where}/{MANIFEST_FILE}"
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidManifest(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, list):
        raise InvalidManifest(f"{what} must be a JSON array")
    out = []
    for i, item in enumerate(value):
        item_what = f"{what}[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise InvalidManifest(f"{item_what} must be an object with a string 'Config'")
        tags, layers = item.get("RepoTags") or [], item.get("Layers") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InvalidManifest(f"{item_what}: 'RepoTags' must be an array of strings")
        if not isinstance(layers, list) or not all(isinstance(t, str) for t in layers):
            raise InvalidManifest(f"{item_what}: 'Layers' must be an array of strings")
        sources = item.get("LayerSources") or {}
        if not isinstance(sources, dict):
            raise InvalidManifest(f"{item_what}: 'LayerSources' must be an object")
        parsed = {k: Descriptor.from_json(v, f"{item_what}.LayerSources[{k}]") for k, v in sources.items()}
        out.append(ArchiveEntry(item["Config"], tuple(tags), tuple(layers), parsed))
    return tuple(out)


def _normalized(ref: str) -> str:
    return str(Reference.parse(ref))


class DockerArchive:
    """A docker-archive opened for reading, without extracting it; also the BlobSource of its images."""

    def __init__(self, members: TarMembers, entries: tuple[ArchiveEntry, ...], layout: LayoutReader | None) -> None:
        self.members = members
        self.where = f"docker-archive {members.path}"
        self._entries = entries
        self._layout = layout
        self._paths: dict[Digest, str] = {}
        self._layer_info: dict[str, tuple[Digest, int, Compression]] = {}

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> DockerArchive:
        members = TarMembers.scan(path)
        where = f"docker-archive {members.path}"
        layout = read_layout(members, where)
        if MANIFEST_FILE in members:
            entries = parse_manifest_json(members.read(MANIFEST_FILE, MAX_MANIFEST), where)
        elif layout is not None:
            entries = ()
        elif REPOSITORIES_FILE in members:
            raise Unsupported(f"{where} is in the pre-1.10 legacy format (no {MANIFEST_FILE})",
                              hint="re-save it with a current docker")
        else:
            raise InvalidContent(f"{where} is not a docker-archive: it has no {MANIFEST_FILE}")
        return cls(members, entries, layout)

    def entries(self) -> tuple[ArchiveEntry, ...]:
        """The images `manifest.json` lists (empty for a plain OCI layout tar)."""
        return self._entries

    def tags(self) -> list[str]:
        if not self._entries and self._layout is not None:
            return self._layout.tags()
        return sorted({t for e in self._entries for t in e.repo_tags})

    def image(self, ref: str | None = None) -> Image:
        """The image tagged `ref` (`name:tag`, normalized as docker does), `@N` for the N-th, or the first."""
        if not self._entries and self._layout is not None:
            return select_image(self._layout.get(ref))
        return self._image_for(self._find(ref))

    def images(self) -> list[tuple[Image, tuple[str, ...]]]:
        """Every image with its RepoTags, in manifest.json order."""
        if not self._entries and self._layout is not None:
            return [(select_image(open_artifact(self, d, self.where)), tuple(n for n in (d.ref_name,) if n))
                    for d in self._layout.entries()]
        return [(self._image_for(e), e.repo_tags) for e in self._entries]

    def _find(self, ref: str | None) -> ArchiveEntry:
        if not self._entries:
            raise NotFound(f"{self.where} lists no images")
        if ref is None:
            return self._entries[0]
        if ref.startswith("@"):
            try:
                return self._entries[int(ref[1:])]
            except (ValueError, IndexError):
                raise NotFound(f"{self.where} has no image {ref} (it has {len(self._entries)})") from None
        want = _normalized(ref)
        for e in self._entries:
            for tag in e.repo_tags:
                try:
                    if _normalized(tag) == want:
                        return e
                except InvalidArgument:
                    if tag == ref:
                        return e
        raise NotFound(f"tag {ref!r} not found in {self.where} (available: {', '.join(self.tags()) or 'none'})")

    def _image_for(self, entry: ArchiveEntry) -> Image:
        config_raw = self.members.read(entry.config, MAX_CONFIG)
        config_digest = Digest.of(config_raw)
        self._paths.setdefault(config_digest, entry.config)
        if self._layout is not None:
            found = self._from_layout(config_digest)
            if found is not None:
                return found
        return self._synthesize(entry, config_raw, config_digest)

    def _from_layout(self, config: Digest) -> Image | None:
        """The image manifest in the OCI view whose config is `config` (indexes searched, gaps tolerated)."""
        assert self._layout is not None
        queue, seen = list(self._layout.entries()), set()
        while queue:
            d = queue.pop(0)
            if d.digest in seen:
                continue
            seen.add(d.digest)
            try:
                artifact = open_artifact(self, d, self.where)
            except (BlobUnknown, Unsupported):
                continue
            if isinstance(artifact, BlobIndex):
                queue.extend(artifact.manifests())
            elif isinstance(artifact, BlobImage) and artifact.manifest().config.digest == config:
                return artifact
        return None

    def _synthesize(self, entry: ArchiveEntry, config_raw: bytes, config_digest: Digest) -> Image:
        what = f"image {', '.join(entry.repo_tags) or entry.config} in {self.where}"
        diff_ids = ImageConfig.parse(config_raw, f"config of {what}").diff_ids
        if len(diff_ids) != len(entry.layers):
            raise InvalidManifest(f"{what}: {MANIFEST_FILE} lists {len(entry.layers)} layers, "
                                  f"the config has {len(diff_ids)} diff_ids")
        infos = [self._layer(path, diff_id) for path, diff_id in zip(entry.layers, diff_ids, strict=True)]
        oci = any(c is Compression.ZSTD for _, _, c in infos)  # Docker schema2 has no zstd layer type
        layers = []
        for (digest, size, compression), diff_id in zip(infos, diff_ids, strict=True):
            source = entry.layer_sources.get(str(diff_id))
            if source is not None and source.digest == digest and source.size == size:
                layers.append(source)
            else:
                layers.append(Descriptor(layer_type(compression, docker=not oci), digest, size))
        config = Descriptor(MediaType.OCI_CONFIG if oci else MediaType.DOCKER_CONFIG, config_digest, len(config_raw))
        manifest = ImageManifest.build(
            config, layers, media_type=MediaType.OCI_MANIFEST if oci else MediaType.DOCKER_MANIFEST)
        return BlobImage(self, manifest.raw, what=what)

    def _layer(self, path: str, diff_id: Digest) -> tuple[Digest, int, Compression]:
        """(digest, size, compression) of a layer file.

        An uncompressed layer's digest is its diff_id, so it is not hashed here: every read goes through a
        VerifyingReader, which raises DigestMismatch if the file is not what the config says. A compressed
        layer is hashed once by streaming.
        """
        if path not in self._layer_info:
            with self.members.open(path) as f:
                head = f.read(8)
            if detect(head) is Compression.NONE and not any(head.startswith(m) for m in OTHER_COMPRESSIONS):
                self._layer_info[path] = (diff_id, self.members.size(path), Compression.NONE)
                self._paths.setdefault(diff_id, path)
                return self._layer_info[path]
            h = Hasher()
            compression = Compression.NONE
            with self.members.open(path) as f:
                while chunk := f.read(CHUNK):
                    if not h.size:
                        compression = detect(chunk[:8])
                        for magic, name in OTHER_COMPRESSIONS.items():
                            if chunk.startswith(magic):
                                raise Unsupported(f"layer {path} in {self.where} is {name}-compressed")
                    h.update(chunk)
            self._layer_info[path] = (h.digest(), h.size, compression)
            self._paths.setdefault(h.digest(), path)
        return self._layer_info[path]

    def open_blob(self, digest: Digest) -> BinaryIO:
        name = blob_name(digest)
        if name in self.members:
            return self.members.open(name)
        path = self._paths.get(digest)
        if path is None:
            raise BlobUnknown(f"blob {digest} is missing from {self.where}")
        return self.members.open(path)


def _repo_tags(tags: Sequence[str]) -> list[Reference]:
    refs = []
    for tag in tags:
        ref = Reference.parse(tag)
        if ref.digest is not None:
            raise InvalidArgument(f"docker-archive tags cannot carry a digest: {tag!r}")
        refs.append(ref)
    return refs


def write(path: str | os.PathLike[str], images: Sequence[tuple[Image, Sequence[str]]]) -> None:
    """Write images with their repo tags (`name:tag`) as one docker-archive at `path` (atomically)."""
    plan = [(image, _repo_tags(tags)) for image, tags in images]
    seen: set[str] = set()
    for image, refs in plan:
        manifest = image.manifest()
        if not is_manifest(manifest.media_type) or not all(is_layer(d.media_type) for d in manifest.layers):
            raise Unsupported(f"image {image.digest()} is not a container image: docker-archive cannot hold it")
        for ref in refs:
            if str(ref) in seen:
                raise InvalidArgument(f"tag {ref.familiar} is given to more than one image")
            seen.add(str(ref))
    with atomic_output(path) as out:
        writer = TarWriter(out)
        sink = TarBlobSink(writer)
        index: list[Descriptor] = []
        manifests: list[JSONValue] = []
        repositories: dict[str, dict[str, str]] = {}
        for image, refs in plan:
            top = write_artifact(sink, image)
            m = image.manifest()
            top_id = (m.layers[-1].digest if m.layers else m.config.digest).encoded
            for ref in refs:
                assert ref.tag is not None
                index.append(top.with_annotations({IMAGE_NAME: str(ref), REF_NAME: ref.tag}))
                repositories.setdefault(ref.familiar_name, {})[ref.tag] = top_id
            if not refs:
                index.append(top)
            tags: list[JSONValue] = [r.familiar for r in refs]
            layers: list[JSONValue] = [blob_name(d.digest) for d in m.layers]
            manifests.append({"Config": blob_name(m.config.digest), "RepoTags": tags, "Layers": layers})
        writer.add_bytes(INDEX_FILE, IndexManifest.build(index).raw)
        writer.add_bytes(MANIFEST_FILE, encode(manifests) + b"\n")
        writer.add_bytes(LAYOUT_FILE, LAYOUT_BYTES)
        if repositories:
            repos: JSONValue = {k: dict(sorted(v.items())) for k, v in sorted(repositories.items())}
            writer.add_bytes(REPOSITORIES_FILE, encode(repos) + b"\n")
        writer.finish()
