"""Content digests (`algorithm:encoded`) per the OCI image spec, with streaming hashers."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import BinaryIO, Self

from dockyard.errors import DigestMismatch, InvalidArgument, SizeMismatch, Unsupported

#: Hex lengths of the algorithms the OCI image spec registers.
ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}

_GRAMMAR = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+\Z")
_HEX = re.compile(r"[a-f0-9]+")
CHUNK = 1 << 20


@dataclass(frozen=True, order=True, slots=True)
class Digest:
    """A validated content digest such as `sha256:4413...`."""

    algorithm: str
    encoded: str

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse and validate `algorithm:encoded`; raises InvalidArgument or Unsupported."""
        if not _GRAMMAR.match(text):
            raise InvalidArgument(f"invalid digest {text!r}: expected algorithm:hex")
        algorithm, encoded = text.split(":", 1)
        length = ALGORITHMS.get(algorithm)
        if length is None:
            raise Unsupported(f"unsupported digest algorithm {algorithm!r} in {text!r}")
        if len(encoded) != length or not _HEX.fullmatch(encoded):
            raise InvalidArgument(f"invalid {algorithm} digest {text!r}: expected {length} lowercase hex digits")
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Self:
        """The digest of `data`; raises Unsupported for algorithms the image spec does not register."""
        if algorithm not in ALGORITHMS:
            raise Unsupported(f"unsupported digest algorithm {algorithm!r}")
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    @classmethod
    def of_stream(cls, stream: BinaryIO, algorithm: str = "sha256") -> tuple[Self, int]:
        """Hash a stream to its end; returns (digest, size)."""
        h = Hasher(algorithm)
        while chunk := stream.read(CHUNK):
            h.update(chunk)
        return cls(algorithm, h.hexdigest()), h.size

    @property
    def hex(self) -> str:
        """The encoded part (hex for sha256/sha512)."""
        return self.encoded

    @property
    def short(self) -> str:
        """The first 12 hex digits, as `docker images` shows IDs."""
        return self.encoded[:12]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"


class Hasher:
    """Incremental hasher that also counts bytes."""

    def __init__(self, algorithm: str = "sha256") -> None:
        if algorithm not in ALGORITHMS:
            raise Unsupported(f"unsupported digest algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._h = hashlib.new(algorithm)
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self._h.update(data)
        self.size += len(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()

    def digest(self) -> Digest:
        return Digest(self.algorithm, self._h.hexdigest())


class VerifyingReader(io.BufferedIOBase):
    """Wraps a stream and raises DigestMismatch/SizeMismatch at EOF if content is not what was expected.

    Reading past the expected size raises immediately, so a hostile source cannot stream forever.
    """

    def __init__(self, stream: BinaryIO, digest: Digest, size: int | None = None) -> None:
        super().__init__()
        self._stream = stream
        self._expected = digest
        self._size = size
        self._hasher = Hasher(digest.algorithm)
        self._done = False

    def read(self, n: int | None = -1) -> bytes:
        to_eof = n is None or n < 0
        data = self._stream.read(-1 if n is None or to_eof else n)
        if data:
            self._hasher.update(data)
            if self._size is not None and self._hasher.size > self._size:
                raise SizeMismatch(f"content of {self._expected} is larger than the declared {self._size} bytes")
        # read() with no size reads to EOF, so it must verify too, not only the empty read after it.
        if not self._done and (to_eof or (not data and n != 0)):
            self._done = True
            self.check()
        return data

    def check(self) -> None:
        """Raise unless everything read so far is exactly the expected content."""
        if self._size is not None and self._hasher.size != self._size:
            raise SizeMismatch(
                f"content of {self._expected} has {self._hasher.size} bytes, descriptor says {self._size}"
            )
        got = self._hasher.digest()
        if got != self._expected:
            raise DigestMismatch(f"content hashes to {got}, expected {self._expected}")

    def verifies(self, digest: Digest, size: int) -> bool:
        """True when this reader itself guarantees exactly `digest` and `size` (a sink may skip rehashing)."""
        return self._expected == digest and self._size == size

    def read1(self, n: int = -1) -> bytes:
        return self.read(n)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()
        super().close()
