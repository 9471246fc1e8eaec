"""Digests: parsing per the image-spec grammar, hashing, and the verifying reader."""

from __future__ import annotations

import hashlib
import io
import shutil

import pytest

from dockyard.errors import DigestMismatch, InvalidArgument, SizeMismatch, Unsupported
from dockyard.oci.digest import Digest, Hasher, VerifyingReader

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
ABC_SHA512 = (
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
)


def test_parse_sha256() -> None:
    d = Digest.parse(f"sha256:{EMPTY_SHA256}")
    assert d.algorithm == "sha256"
    assert d.encoded == EMPTY_SHA256
    assert d.hex == EMPTY_SHA256
    assert d.short == "e3b0c44298fc"
    assert str(d) == f"sha256:{EMPTY_SHA256}"
    assert d == Digest.of(b"")


def test_parse_sha512() -> None:
    d = Digest.parse(f"sha512:{ABC_SHA512}")
    assert d.algorithm == "sha512"
    assert d == Digest.of(b"abc", "sha512")
    assert str(d) == f"sha512:{ABC_SHA512}"


@pytest.mark.parametrize(
    "text",
    [
        f"sha256:{EMPTY_SHA256[:-1]}",  # 63 hex digits
        f"sha256:{EMPTY_SHA256}0",  # 65
        "sha256:abc",
        f"sha512:{EMPTY_SHA256}",  # a sha256-length value under sha512
        f"sha256:{ABC_SHA512}",  # a sha512-length value under sha256
    ],
)
def test_wrong_lengths_are_invalid(text: str) -> None:
    with pytest.raises(InvalidArgument, match="hex digits"):
        Digest.parse(text)


def test_uppercase_hex_is_invalid() -> None:
    with pytest.raises(InvalidArgument, match="lowercase"):
        Digest.parse(f"sha256:{EMPTY_SHA256.upper()}")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sha256",
        f"{EMPTY_SHA256}",
        f"SHA256:{EMPTY_SHA256}",
        f":{EMPTY_SHA256}",
        "sha256:",
        f"sha256:{EMPTY_SHA256}\n",
        f" sha256:{EMPTY_SHA256}",
        f"sha256:{EMPTY_SHA256[:32]} {EMPTY_SHA256[33:]}",
        f"sha256:{EMPTY_SHA256[:-1]}g",
    ],
)
def test_malformed_digests_are_invalid(text: str) -> None:
    with pytest.raises(InvalidArgument):
        Digest.parse(text)


@pytest.mark.parametrize("algorithm", ["md5", "sha384", "blake3", "sha256+b64u"])
def test_unknown_algorithm_is_unsupported(algorithm: str) -> None:
    with pytest.raises(Unsupported, match=algorithm.replace("+", r"\+")):
        Digest.parse(f"{algorithm}:{EMPTY_SHA256}")


def test_unsupported_is_not_an_invalid_argument() -> None:
    # Callers treat the two differently: a typo versus a valid digest we cannot verify.
    with pytest.raises(Unsupported) as info:
        Digest.parse(f"md5:{'0' * 32}")
    assert not isinstance(info.value, InvalidArgument)


def test_of_rejects_unregistered_algorithm() -> None:
    with pytest.raises(Unsupported):
        Digest.of(b"x", "md5")
    with pytest.raises(Unsupported):
        Hasher("md5")


def test_digests_order_hash_and_compare_by_value() -> None:
    a, b = Digest.of(b"a"), Digest.of(b"b")
    assert Digest.parse(str(a)) == a
    assert len({a, Digest.parse(str(a)), b}) == 2
    assert sorted([b, a]) == sorted([a, b])
    assert Digest.of(b"a", "sha512") != Digest.of(b"a")


def test_of_stream_hashes_in_chunks() -> None:
    data = bytes(range(256)) * (3 * 4096 + 1)  # 3 MiB + 256 bytes: several 1 MiB chunks
    digest, size = Digest.of_stream(io.BytesIO(data))
    assert size == len(data)
    assert digest.encoded == hashlib.sha256(data).hexdigest()
    digest512, size512 = Digest.of_stream(io.BytesIO(data), "sha512")
    assert (digest512.encoded, size512) == (hashlib.sha512(data).hexdigest(), len(data))


def test_of_stream_empty() -> None:
    assert Digest.of_stream(io.BytesIO(b"")) == (Digest.parse(f"sha256:{EMPTY_SHA256}"), 0)


def test_hasher_counts_bytes() -> None:
    h = Hasher()
    h.update(b"hello ")
    h.update(memoryview(b"world"))
    assert h.size == 11
    assert h.digest() == Digest.of(b"hello world")
    assert h.hexdigest() == hashlib.sha256(b"hello world").hexdigest()


CONTENT = b"The bytes are the truth.\n" * 100


def _reader(content: bytes, expected: bytes = CONTENT, size: int | None = len(CONTENT)) -> VerifyingReader:
    return VerifyingReader(io.BytesIO(content), Digest.of(expected), size)


def test_verifying_reader_passes_on_correct_content() -> None:
    r = _reader(CONTENT)
    chunks = []
    while chunk := r.read(7):
        chunks.append(chunk)
    assert b"".join(chunks) == CONTENT
    assert r.read(7) == b""  # reading again after EOF neither fails nor re-checks


def test_verifying_reader_without_size_checks_digest_only() -> None:
    assert _reader(CONTENT, size=None).read() == CONTENT
    with pytest.raises(DigestMismatch):
        _reader(CONTENT + b"x", size=None).read()


def test_verifying_reader_read_all_verifies_at_once() -> None:
    # read() reads to EOF, so it must raise right away, not only on a later empty read.
    with pytest.raises(DigestMismatch, match=str(Digest.of(CONTENT))):
        _reader(CONTENT.replace(b"truth", b"TRUTH")).read()
    with pytest.raises(SizeMismatch):
        _reader(CONTENT[:-1]).read()
    with pytest.raises(DigestMismatch):
        _reader(CONTENT.replace(b"truth", b"TRUTH")).read(None)


def test_verifying_reader_too_long_raises_before_eof() -> None:
    r = VerifyingReader(io.BytesIO(CONTENT + b"more"), Digest.of(CONTENT), len(CONTENT))
    assert r.read(len(CONTENT)) == CONTENT
    with pytest.raises(SizeMismatch, match="larger than the declared"):
        r.read(1)


def test_verifying_reader_endless_source_is_cut_off() -> None:
    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    r = VerifyingReader(Endless(), Digest.of(b"\0" * 10), 10)  # type: ignore[arg-type]
    with pytest.raises(SizeMismatch):
        for _ in range(100):
            r.read(4096)


def test_verifying_reader_too_short_raises_at_eof() -> None:
    short = CONTENT[:-10]
    r = VerifyingReader(io.BytesIO(short), Digest.of(short), len(CONTENT))
    assert r.read(len(short)) == short  # the digest of what came is right, but the size is not
    with pytest.raises(SizeMismatch, match=f"has {len(short)} bytes, descriptor says {len(CONTENT)}"):
        r.read(1)


def test_verifying_reader_wrong_content_same_size() -> None:
    wrong = CONTENT.replace(b"T", b"t", 1)
    assert len(wrong) == len(CONTENT)
    r = _reader(wrong)
    out = io.BytesIO()
    with pytest.raises(DigestMismatch, match=f"expected {Digest.of(CONTENT)}"):
        shutil.copyfileobj(r, out, 64)
    assert out.getvalue() == wrong[: len(out.getvalue())]


def test_verifying_reader_read_zero_does_not_check() -> None:
    r = _reader(b"")
    assert r.read(0) == b""  # a zero-length read is not EOF
    with pytest.raises(SizeMismatch):
        r.read(10)


def test_verifying_reader_check_and_close() -> None:
    inner = io.BytesIO(CONTENT)
    with VerifyingReader(inner, Digest.of(CONTENT), len(CONTENT)) as r:
        assert r.readable()
        assert r.read1(len(CONTENT)) == CONTENT
        r.check()
    assert inner.closed
    assert r.closed


def test_verifying_reader_sha512() -> None:
    r = VerifyingReader(io.BytesIO(b"abc"), Digest.parse(f"sha512:{ABC_SHA512}"), 3)
    assert r.read() == b"abc"
    with pytest.raises(DigestMismatch):
        VerifyingReader(io.BytesIO(b"abd"), Digest.parse(f"sha512:{ABC_SHA512}"), 3).read()
