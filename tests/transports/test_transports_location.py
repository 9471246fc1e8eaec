"""The transport reference grammar: store names, oci:, oci-archive:, docker-archive:, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.errors import InvalidReference, Unsupported
from dockyard.transports.location import Location, Role, Transport, parse_location


@pytest.mark.parametrize(("text", "familiar"), [
    ("busybox", "busybox:latest"),
    ("busybox:1.36", "busybox:1.36"),
    ("store:busybox:1.36", "busybox:1.36"),
    ("library/busybox", "busybox:latest"),
    ("docker.io/library/busybox:1", "busybox:1"),
    ("ghcr.io/org/app:v1", "ghcr.io/org/app:v1"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("registry.example.com:5000/team/app:2", "registry.example.com:5000/team/app:2"),
    (f"busybox@sha256:{'a' * 64}", f"busybox@sha256:{'a' * 64}"),
    ("docker:latest", "docker:latest"),  # Docker's own image, not the docker:// transport
    ("dir:1.0", "dir:1.0"),
    ("oci", "oci:latest"),
])
def test_store_names(text: str, familiar: str) -> None:
    loc = parse_location(text)
    assert loc.transport is Transport.STORE
    assert loc.reference is not None and loc.reference.familiar == familiar
    assert loc.text == text.removeprefix("store:")
    assert str(loc) == f"store:{familiar}"


def test_default_tag_can_be_left_out() -> None:
    loc = parse_location("busybox", default_tag=False)
    assert loc.reference is not None and loc.reference.tag is None


@pytest.mark.parametrize("text", ["0123456789ab", "abcd", f"sha256:{'b' * 64}", "b" * 64])
def test_image_ids_go_to_the_store_as_text(text: str) -> None:
    loc = parse_location(text)
    assert loc.transport is Transport.STORE and loc.text == text


@pytest.mark.parametrize(("text", "expected"), [
    ("oci:/tmp/layout", Location(Transport.OCI, Path("/tmp/layout"))),
    ("oci:/tmp/layout:1.0", Location(Transport.OCI, Path("/tmp/layout"), "1.0")),
    ("oci:rel/dir:latest", Location(Transport.OCI, Path("rel/dir"), "latest")),
    (f"oci:/l:@sha256:{'c' * 64}", Location(Transport.OCI, Path("/l"), f"@sha256:{'c' * 64}")),
    ("oci-archive:/tmp/a.tar", Location(Transport.OCI_ARCHIVE, Path("/tmp/a.tar"))),
    ("oci-archive:/tmp/a.tar:v2", Location(Transport.OCI_ARCHIVE, Path("/tmp/a.tar"), "v2")),
    ("docker-archive:/tmp/d.tar", Location(Transport.DOCKER_ARCHIVE, Path("/tmp/d.tar"))),
    ("docker-archive:/tmp/d.tar:busybox:1.0", Location(Transport.DOCKER_ARCHIVE, Path("/tmp/d.tar"), "busybox:1.0")),
    ("docker-archive:/tmp/d.tar:@1", Location(Transport.DOCKER_ARCHIVE, Path("/tmp/d.tar"), "@1")),
    ("docker-archive:d.tar:ghcr.io/o/app:1", Location(Transport.DOCKER_ARCHIVE, Path("d.tar"), "ghcr.io/o/app:1")),
])
def test_file_transports(text: str, expected: Location) -> None:
    loc = parse_location(text)
    assert loc == expected
    assert str(loc) == text


@pytest.mark.parametrize("text", [
    "UPPER/Case:tag", "a:b:c", "busybox:", "busy box", "busybox@sha256:123", "", ":tag",
    "oci:", "oci-archive:", "docker-archive:", "docker-archive:d.tar:UPPER:1", "docker-archive:d.tar:@x",
])
def test_invalid_references(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse_location(text)


def test_registry_references() -> None:
    """`docker://` always names a registry; a registry-qualified plain name is a registry destination and a
    store source that falls back to its registry."""
    explicit = parse_location("docker://busybox")
    assert explicit.transport is Transport.REGISTRY and str(explicit.reference) == "docker.io/library/busybox:latest"
    dest = parse_location("ghcr.io/o/r:1", role=Role.DESTINATION)
    assert dest.transport is Transport.REGISTRY and str(dest.reference) == "ghcr.io/o/r:1"
    src = parse_location("ghcr.io/o/r:1")
    assert src.transport is Transport.STORE and src.remote_fallback
    assert not parse_location("busybox:1", role=Role.DESTINATION).remote_fallback
    assert parse_location("busybox:1", role=Role.DESTINATION).transport is Transport.STORE


@pytest.mark.parametrize("text", ["dir:/tmp/image", "dir:./x",
                                  "containers-storage:busybox:1", "docker-daemon:busybox:latest:x"])
def test_unsupported_transports_say_so(text: str) -> None:
    with pytest.raises(Unsupported, match="not supported yet") as info:
        parse_location(text)
    assert info.value.exit_code == 5 and info.value.hint and "oci:" in info.value.hint
