"""Interop with skopeo through a real CNCF registry: what we push skopeo reads byte for byte, and the reverse."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from remote_testkit import Blobs, make_image, make_index

from dockyard.image.validate import validate
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.testing.cncf import CncfRegistry
from dockyard.testing.peers import require_tool
from dockyard.transports import remote
from dockyard.transports.layout import Layout


def skopeo(*args: str) -> bytes:
    require_tool("skopeo")
    proc = subprocess.run(["skopeo", *args], capture_output=True, timeout=300, check=False)
    if proc.returncode != 0:
        pytest.fail(f"skopeo {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def test_remote_skopeo_reads_what_we_push(registry: CncfRegistry, repo: str, busybox: Image,
                                          tmp_path: Path) -> None:
    remote.push(busybox, registry.ref(f"{repo}:ours"))
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.ref(f'{repo}:ours')}")
    assert raw == busybox.raw_manifest()
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{registry.ref(f'{repo}:ours')}"))
    assert info["Digest"] == str(busybox.digest())
    assert info["Layers"] == [str(d.digest) for d in busybox.manifest().layers]
    out = tmp_path / "copied"
    skopeo("copy", "--src-tls-verify=false", f"docker://{registry.ref(f'{repo}:ours')}", f"oci:{out}:ours")
    copied = Layout.open(out).get("ours")
    assert isinstance(copied, Image)
    assert copied.digest() == busybox.digest()
    validate(copied)


def test_remote_skopeo_reads_our_index(registry: CncfRegistry, repo: str, blobs: Blobs, tmp_path: Path) -> None:
    # gzip layers: skopeo compresses uncompressed layers on the way into a layout, which would change digests.
    amd = make_image(blobs, Platform("linux", "amd64"), {"a": b"amd64\n"}, gzipped=True)
    arm = make_image(blobs, Platform("linux", "arm64", "v8"), {"a": b"arm64\n"}, gzipped=True)
    index = make_index(blobs, [(amd, Platform("linux", "amd64")), (arm, Platform("linux", "arm64", "v8"))])
    remote.push(index, registry.ref(f"{repo}:multi"))
    ref = f"docker://{registry.ref(f'{repo}:multi')}"
    assert skopeo("inspect", "--raw", "--tls-verify=false", ref) == index.raw_manifest()
    out = tmp_path / "all"
    skopeo("copy", "--all", "--src-tls-verify=false", ref, f"oci:{out}:multi")
    copied = Layout.open(out).get("multi")
    assert isinstance(copied, ImageIndex)
    assert copied.raw_manifest() == index.raw_manifest()
    validate(copied)


@pytest.mark.parametrize("fmt", ["oci", "v2s2"])
def test_remote_we_read_what_skopeo_pushes(registry: CncfRegistry, repo: str, images: object, fmt: str) -> None:
    layout = images.layout  # type: ignore[attr-defined]  # umoci-built busybox layout (tests/transports/conftest.py)
    dest = registry.ref(f"{repo}:{fmt}")
    skopeo("copy", "--dest-tls-verify=false", "--format", fmt, f"oci:{layout}:app", f"docker://{dest}")
    theirs = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{dest}")
    pulled = remote.open_remote(dest)
    assert isinstance(pulled, Image)
    assert pulled.raw_manifest() == theirs
    assert pulled.digest() == Digest.of(theirs)
    expected_type = MediaType.OCI_MANIFEST if fmt == "oci" else MediaType.DOCKER_MANIFEST
    assert pulled.manifest().media_type == expected_type
    validate(pulled)
    source = Layout.open(layout).get("app")
    assert isinstance(source, Image)
    assert [d.digest for d in pulled.manifest().layers] == [d.digest for d in source.manifest().layers]
    assert remote.head_digest(dest).digest == pulled.digest()
