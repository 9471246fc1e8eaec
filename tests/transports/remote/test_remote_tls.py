"""TLS against a real CNCF registry serving HTTPS with a self-signed certificate: custom CA, insecure, refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from remote_testkit import Blobs, make_image

from dockyard.errors import Error
from dockyard.image.validate import validate
from dockyard.oci.platform import Platform
from dockyard.testing.cncf import CncfRegistry, cncf_registry, self_signed
from dockyard.transports import remote
from dockyard.transports.remote import RemoteOptions


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CncfRegistry, Path]]:
    base = tmp_path_factory.mktemp("cncf-tls")
    cert, key = self_signed(base)
    with cncf_registry(base / "registry", tls=(cert, key)) as reg:
        yield reg, cert


def test_remote_tls_with_custom_ca(tls_registry: tuple[CncfRegistry, Path], blobs: Blobs, repo: str) -> None:
    reg, cert = tls_registry
    image = make_image(blobs, Platform("linux", "amd64"), {"tls": b"secure\n"})
    options = RemoteOptions(ca_cert=cert)
    remote.push(image, reg.ref(f"{repo}:1"), options)
    validate(remote.open_remote(reg.ref(f"{repo}:1"), options=options))
    # A loopback registry without a CA of ours is reached like docker does: TLS, unverified.
    assert remote.head_digest(reg.ref(f"{repo}:1")).digest == image.digest()


def test_remote_tls_wrong_ca_is_refused(tls_registry: tuple[CncfRegistry, Path], tmp_path: Path,
                                        repo: str) -> None:
    reg, _ = tls_registry
    other, _ = self_signed(tmp_path, "other")
    with pytest.raises(Error) as info:
        remote.open_remote(reg.ref(f"{repo}:1"), options=RemoteOptions(ca_cert=other))
    assert info.value.message.startswith(f"cannot connect to registry {reg.host}: ")
    assert "certificate verify failed" in info.value.message
    assert info.value.hint is not None and "--insecure" in info.value.hint
    with pytest.raises(Error, match="cannot load CA certificate"):
        remote.open_remote(reg.ref(f"{repo}:1"), options=RemoteOptions(ca_cert=tmp_path / "missing.crt"))
