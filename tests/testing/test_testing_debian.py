"""The Debian base cache: a valid cached tar is reused without debootstrap, a damaged one is not trusted."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from dockyard.testing import debian


def _cache(where: Path, body: bytes, *, sha256: str | None = None) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    tar = where / "debian-bookworm-minbase.tar"
    tar.write_bytes(body)
    meta = {"suite": "bookworm", "sha256": sha256 or hashlib.sha256(body).hexdigest(), "size": len(body)}
    (where / "debian-bookworm-minbase.tar.json").write_text(json.dumps(meta))
    return tar


def test_valid_cache_is_reused_without_debootstrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tar = _cache(tmp_path / "cache", b"a rootfs tar")
    monkeypatch.setattr(debian, "require_tool", lambda name: "/nonexistent/" + name)  # never runs
    found = debian.debian_rootfs("bookworm", cache=tmp_path / "cache")
    assert found.cached and found.tar == tar and found.size == 12
    monkeypatch.setenv("DOCKYARD_TEST_CACHE", str(tmp_path / "cache"))
    assert debian.debian_rootfs("bookworm").cached


@pytest.mark.parametrize("damage", ["content", "size", "meta", "missing"])
def test_damaged_cache_is_not_trusted(tmp_path: Path, damage: str) -> None:
    tar = _cache(tmp_path, b"a rootfs tar")
    meta = tmp_path / "debian-bookworm-minbase.tar.json"
    if damage == "content":
        tar.write_bytes(b"A rootfs tar")
    elif damage == "size":
        tar.write_bytes(b"a rootfs tar, longer")
    elif damage == "meta":
        meta.write_text("{not json")
    else:
        tar.unlink()
    assert debian._valid(tar, meta) is None
    assert debian._valid(*_pair(_cache(tmp_path / "ok", b"x"))) is not None


def _pair(tar: Path) -> tuple[Path, Path]:
    return tar, tar.with_name(tar.name + ".json")


def test_minimize_drops_downloads_devices_and_host_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for d in ("var/cache/apt/archives/partial", "var/lib/apt/lists/partial", "dev/pts", "etc"):
        (root / d).mkdir(parents=True)
    for f in ("var/cache/apt/archives/bash_5.2_amd64.deb", "var/cache/apt/pkgcache.bin",
              "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "etc/resolv.conf",
              "etc/hostname", "etc/passwd", "var/cache/apt/archives/lock"):
        (root / f).write_text("x")
    os.symlink("/proc/self/fd", root / "dev" / "fd")
    debian._minimize(root)
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert left == ["dev", "etc", "etc/passwd", "var", "var/cache", "var/cache/apt", "var/cache/apt/archives",
                    "var/cache/apt/archives/lock", "var/cache/apt/archives/partial", "var/lib", "var/lib/apt",
                    "var/lib/apt/lists", "var/lib/apt/lists/partial"]
