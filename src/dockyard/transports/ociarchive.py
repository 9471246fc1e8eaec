"""oci-archive: a tar of an OCI layout, read in place (members served as slices) and written as one stream.

The tar plumbing here (member index, bounded slices, deterministic writer, blob sink) is shared with
docker-archive, which in its Docker 25+ form is an OCI layout tar plus `manifest.json`.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from dockyard.errors import (
    BlobUnknown,
    Error,
    InvalidArgument,
    InvalidContent,
    LimitExceeded,
    NotFound,
    SizeMismatch,
    Unsupported,
)
from dockyard.layers.compression import decompress, detect
from dockyard.oci.descriptor import REF_NAME, Descriptor
from dockyard.oci.digest import CHUNK, Digest, VerifyingReader
from dockyard.oci.manifest import IndexManifest
from dockyard.oci.mediatype import Compression
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.transports.blobs import MAX_MANIFEST, write_artifact
from dockyard.transports.layout import atomic_file
from dockyard.transports.layoutindex import (
    INDEX_FILE,
    LAYOUT_BYTES,
    LAYOUT_FILE,
    LayoutReader,
    blob_name,
    check_layout_file,
    validate_ref_name,
)

BLOCK = 512
_MAX_LINKS = 16
OTHER_COMPRESSIONS = {b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}


@dataclass(frozen=True, slots=True)
class Member:
    """Where a regular file's content lies in the tar."""

    offset: int
    size: int


class _Slice(io.RawIOBase):
    """`size` bytes of a file from `offset`, on its own file handle."""

    def __init__(self, path: Path, name: str, member: Member) -> None:
        super().__init__()
        self._f = open(path, "rb", buffering=0)
        self._f.seek(member.offset)
        self._left = member.size
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self._left)]
        got = self._f.readinto(view)
        if not got:
            raise InvalidContent(f"archive ends inside member {self._name}: the file was truncated")
        self._left -= got
        return got

    def close(self) -> None:
        self._f.close()
        super().close()


class TarMembers:
    """The regular files of a tar archive, indexed once (name -> offset, size); read as bounded slices.

    Symlinks and hardlinks between members resolve to their target; a gzip- or zstd-compressed
    archive is first decompressed to an anonymous temp file.
    """

    def __init__(self, path: Path, data: Path, members: dict[str, Member], links: dict[str, str],
                 keep: object = None) -> None:
        self.path = path
        self._data = data
        self._members = members
        self._links = links
        self._keep = keep  # a decompressed temp file must live as long as we do

    @classmethod
    def scan(cls, path: str | os.PathLike[str]) -> TarMembers:
        """Index the archive at `path`; raise InvalidContent on a truncated or malformed tar."""
        p = Path(path)
        try:
            f = open(p, "rb")
        except FileNotFoundError:
            raise NotFound(f"archive {p} does not exist") from None
        except IsADirectoryError:
            raise InvalidArgument(f"archive {p} is a directory, not a tar file") from None
        with f:
            head = f.read(8)
        compression = detect(head)
        for magic, name in OTHER_COMPRESSIONS.items():
            if head.startswith(magic):
                raise Unsupported(f"archive {p} is {name}-compressed", hint="decompress it first")
        if compression is Compression.NONE:
            return cls._index(p, p, None)
        tmp = tempfile.NamedTemporaryFile(prefix="dockyard-archive-")  # lives as long as the index
        try:
            with decompress(open(p, "rb"), compression) as r:
                while chunk := r.read(CHUNK):
                    tmp.write(chunk)
        except Error:
            tmp.close()
            raise
        except Exception as exc:  # isal/zstandard raise their own types for corrupt streams
            tmp.close()
            raise InvalidContent(f"archive {p} is not valid {compression.value} data: {exc}") from None
        tmp.flush()
        return cls._index(Path(tmp.name), p, tmp)

    @classmethod
    def _index(cls, data: Path, shown: Path, keep: object) -> TarMembers:
        members: dict[str, Member] = {}
        links: dict[str, str] = {}
        total = data.stat().st_size
        try:
            with tarfile.open(data, mode="r:") as tf:
                for info in tf:
                    name = _clean(info.name)
                    if name is None:
                        continue
                    if info.isreg():
                        if info.sparse is not None:
                            raise Unsupported(f"archive {shown}: sparse member {info.name} is not supported")
                        if info.offset_data + info.size > total:
                            raise InvalidContent(f"archive {shown} is truncated: member {name} needs "
                                                 f"{info.offset_data + info.size} bytes, the file has {total}")
                        members[name] = Member(info.offset_data, info.size)
                        links.pop(name, None)
                    elif info.issym() or info.islnk():
                        base = posixpath.dirname(name) if info.issym() else ""
                        target = _clean(posixpath.join(base, info.linkname.lstrip("/")))
                        if target is not None:
                            links[name] = target
                            members.pop(name, None)
                end = tf.offset
        except tarfile.TarError as exc:
            raise InvalidContent(f"archive {shown} is not a valid tar file: {exc}") from None
        with open(data, "rb") as f:
            f.seek(end)
            if f.read(BLOCK) != bytes(BLOCK):
                raise InvalidContent(f"archive {shown} is truncated or corrupt: no tar header or end-of-archive "
                                     f"marker at byte {end}")
        return cls(shown, data, members, links, keep)

    def names(self) -> list[str]:
        return sorted({*self._members, *self._links})

    def _resolve(self, name: str) -> tuple[str, Member] | None:
        clean = _clean(name)
        for _ in range(_MAX_LINKS):
            if clean is None:
                return None
            if clean in self._members:
                return clean, self._members[clean]
            clean = self._links.get(clean)
        return None

    def __contains__(self, name: str) -> bool:
        return self._resolve(name) is not None

    def size(self, name: str) -> int:
        found = self._resolve(name)
        if found is None:
            raise NotFound(f"archive {self.path} has no file {name}")
        return found[1].size

    def open(self, name: str) -> BinaryIO:
        """The content of member `name`; NotFound when the archive has no such regular file."""
        found = self._resolve(name)
        if found is None:
            raise NotFound(f"archive {self.path} has no file {name}")
        return cast(BinaryIO, io.BufferedReader(_Slice(self._data, found[0], found[1]), CHUNK))

    def read(self, name: str, limit: int) -> bytes:
        """A small member read whole; LimitExceeded past `limit` bytes."""
        size = self.size(name)
        if size > limit:
            raise LimitExceeded(f"{name} in archive {self.path} is {size} bytes, over the {limit}-byte limit")
        with self.open(name) as f:
            return f.read()

    def open_blob(self, digest: Digest) -> BinaryIO:
        """A blob stored at `blobs/<alg>/<encoded>` (the layout convention)."""
        name = blob_name(digest)
        if name not in self:
            raise BlobUnknown(f"blob {digest} is missing from archive {self.path}")
        return self.open(name)


def _clean(name: str) -> str | None:
    """A member name normalized (`./a//b` -> `a/b`); None for the root or names escaping it."""
    norm = posixpath.normpath(name.lstrip("/"))
    if norm in (".", "") or norm == ".." or norm.startswith("../"):
        return None
    return norm


def read_layout(members: TarMembers, where: str) -> LayoutReader | None:
    """The OCI layout view of an archive, or None when it has no `oci-layout` + `index.json`."""
    if LAYOUT_FILE not in members or INDEX_FILE not in members:
        return None
    check_layout_file(members.read(LAYOUT_FILE, 1 << 16), where)
    return LayoutReader(members, IndexManifest.parse(members.read(INDEX_FILE, MAX_MANIFEST), f"{where}/{INDEX_FILE}"),
                        where)


class OciArchive:
    """An oci-archive opened for reading, without extracting it."""

    def __init__(self, members: TarMembers, layout: LayoutReader) -> None:
        self.members = members
        self.layout = layout

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> OciArchive:
        members = TarMembers.scan(path)
        where = f"oci-archive {members.path}"
        layout = read_layout(members, where)
        if layout is None:
            raise InvalidContent(f"{where} is not an OCI layout: it needs {LAYOUT_FILE} and {INDEX_FILE}")
        return cls(members, layout)

    def open_blob(self, digest: Digest) -> BinaryIO:
        return self.members.open_blob(digest)

    def entries(self) -> tuple[Descriptor, ...]:
        return self.layout.entries()

    def tags(self) -> list[str]:
        return self.layout.tags()

    def get(self, tag: str | None = None) -> Image | ImageIndex:
        return self.layout.get(tag)

    def get_digest(self, digest: Digest) -> Image | ImageIndex:
        return self.layout.get_digest(digest)


# -- writing ------------------------------------------------------------------------------------------


def source_date_epoch() -> int:
    """The mtime for written tar members: SOURCE_DATE_EPOCH, else 0."""
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return 0
    try:
        return max(0, int(text))
    except ValueError:
        raise InvalidArgument(f"SOURCE_DATE_EPOCH={text!r} is not an integer") from None


class TarWriter:
    """A deterministic tar stream: members in call order, root-owned, one fixed mtime, PAX when needed."""

    def __init__(self, out: BinaryIO, mtime: int | None = None) -> None:
        self._out = out
        self._mtime = source_date_epoch() if mtime is None else mtime
        self._dirs: set[str] = set()

    def _header(self, name: str, kind: bytes, size: int) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.size, info.mtime = kind, size, self._mtime
        info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        self._out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def add_dir(self, name: str) -> None:
        """A directory entry (`name/`), written once however often it is asked for."""
        name = name.rstrip("/") + "/"
        if name not in self._dirs:
            self._dirs.add(name)
            self._header(name, tarfile.DIRTYPE, 0)

    def add_parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.add_dir("/".join(parts[:i]))

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add_stream(name, len(data), io.BytesIO(data))

    def add_stream(self, name: str, size: int, stream: BinaryIO) -> None:
        """Copy exactly `size` bytes of `stream` as member `name`."""
        self._header(name, tarfile.REGTYPE, size)
        left = size
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                raise SizeMismatch(f"{name} ended after {size - left} of its {size} bytes")
            self._out.write(chunk)
            left -= len(chunk)
        if size % BLOCK:
            self._out.write(bytes(BLOCK - size % BLOCK))

    def finish(self) -> None:
        """The end-of-archive marker (two zero blocks, as Go's archive/tar writes)."""
        self._out.write(bytes(2 * BLOCK))


class TarBlobSink:
    """A BlobSink writing `blobs/<alg>/<encoded>` members into a tar stream, verifying each blob."""

    def __init__(self, writer: TarWriter) -> None:
        self.writer = writer
        self._written: set[Digest] = set()

    def has_blob(self, digest: Digest) -> bool:
        return digest in self._written

    def put_blob(self, descriptor: Descriptor, stream: BinaryIO) -> None:
        name = blob_name(descriptor.digest)
        self.writer.add_parents(name)
        reader = VerifyingReader(stream, descriptor.digest, descriptor.size)
        self.writer.add_stream(name, descriptor.size, cast(BinaryIO, reader))
        reader.check()
        self._written.add(descriptor.digest)


def atomic_output(path: str | os.PathLike[str]) -> AbstractContextManager[BinaryIO]:
    """Write an archive to a temp file beside `path`, renamed over it only when complete."""
    target = Path(path)
    if target.is_dir():
        raise InvalidArgument(f"{target} is a directory; an archive must be a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_file(target)


def tagged_entries(items: Sequence[tuple[Descriptor, str | None]]) -> list[Descriptor]:
    """index.json entries for (descriptor, tag) pairs; a later tag replaces an earlier one."""
    out: list[Descriptor] = []
    for desc, tag in items:
        if tag is None:
            out = [d for d in out if d.ref_name is not None or d.digest != desc.digest]
            out.append(desc)
        else:
            out = [d for d in out if d.ref_name != tag]
            out.append(desc.with_annotations({REF_NAME: validate_ref_name(tag)}))
    return out


def write(path: str | os.PathLike[str], artifact: Image | ImageIndex, tag: str | None = None) -> Descriptor:
    """Write one image or index as an oci-archive at `path`; returns its index.json entry."""
    return write_many(path, [(artifact, tag)])[-1]


def write_many(path: str | os.PathLike[str],
               items: Sequence[tuple[Image | ImageIndex, str | None]]) -> list[Descriptor]:
    """Write several images or indexes, each with an optional tag, into one oci-archive at `path`."""
    for _, tag in items:
        if tag is not None:
            validate_ref_name(tag)
    with atomic_output(path) as out:
        writer = TarWriter(out)
        sink = TarBlobSink(writer)
        tops = [(write_artifact(sink, artifact), tag) for artifact, tag in items]
        entries = tagged_entries(tops)
        writer.add_bytes(INDEX_FILE, IndexManifest.build(entries).raw)
        writer.add_bytes(LAYOUT_FILE, LAYOUT_BYTES)
        writer.finish()
    return entries
