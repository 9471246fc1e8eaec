"""Multi-platform builds: `--platform linux/amd64,linux/arm64` builds one image per platform into an OCI index
(read back by real skopeo); the BuildKit cross-compilation pattern (`FROM --platform=$BUILDPLATFORM`) runs its
RUN steps natively; a RUN this machine cannot execute fails with a clear message."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.build.emulation import check_runnable, emulated
from dockyard.build.executor import build
from dockyard.build.options import BuildRequest, OutputSpec, OutputType
from dockyard.build.progress import Progress, ProgressMode
from dockyard.errors import InvalidArgument, Unsupported
from dockyard.image.index import ImageListIndex
from dockyard.layers.extract import extract_layers
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.testing.busybox import make_rootfs
from dockyard.testing.peers import require_tool
from dockyard.transports.layout import Layout
from dockyard.transports.rootfs import imported
from dockyard.transports.store import Store

AMD64, ARM64 = Platform.parse("linux/amd64"), Platform.parse("linux/arm64")
CROSS = """\
FROM --platform=$BUILDPLATFORM busybox:multi AS build
ARG TARGETPLATFORM TARGETARCH BUILDPLATFORM
RUN echo "$TARGETARCH built on $BUILDPLATFORM for $TARGETPLATFORM" > /arch.txt
FROM busybox:multi
COPY --from=build /arch.txt /arch.txt
"""


@pytest.fixture
def multi_base(tmp_path: Path) -> Iterator[str]:
    """`busybox:multi`: an index of a linux/amd64 and a linux/arm64 image (the arm64 one is never executed)."""
    rootfs = make_rootfs(tmp_path / "rootfs")
    with imported(rootfs, platform=AMD64) as amd, imported(rootfs, platform=ARM64) as arm:
        Store.open().write(ImageListIndex([amd, arm]), ["busybox:multi"])
    yield "busybox:multi"


def context(tmp_path: Path, text: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(text)
    return ctx


def test_build_platforms_cross_compile_pattern_makes_an_index(tmp_path: Path, multi_base: str) -> None:
    dest = tmp_path / "out"
    result = build(BuildRequest(context=context(tmp_path, CROSS), tags=("multi:1",), platforms=(AMD64, ARM64),
                                output=OutputSpec(OutputType.OCI, str(dest))), Progress(ProgressMode.QUIET))
    index = Layout.open(dest).get("1")
    assert isinstance(index, ImageIndex) and result.descriptor.digest == index.digest()
    seen = {}
    for desc in index.manifests():
        image = index.image(desc.digest)
        assert desc.platform is not None and image.config().platform == desc.platform
        tree = tmp_path / f"tree-{desc.platform.architecture}"
        extract_layers(image.layers(), tree)
        seen[desc.platform.architecture] = (tree / "arch.txt").read_text().strip()
    assert seen == {"amd64": "amd64 built on linux/amd64 for linux/amd64",
                    "arm64": "arm64 built on linux/amd64 for linux/arm64"}

    skopeo = require_tool("skopeo")
    raw = subprocess.run([skopeo, "inspect", "--raw", f"oci:{dest}:1"], capture_output=True, check=True).stdout
    platforms = sorted(m["platform"]["architecture"] for m in json.loads(raw)["manifests"])
    assert platforms == ["amd64", "arm64"]
    proc = subprocess.run([skopeo, "inspect", "--override-arch", "arm64", f"oci:{dest}:1"],
                          capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["Architecture"] == "arm64"
    copied = tmp_path / "copied"
    subprocess.run([skopeo, "copy", "--all", f"oci:{dest}:1", f"oci:{copied}:1"], capture_output=True, check=True)
    assert isinstance(Layout.open(copied).get("1"), ImageIndex)


def test_build_platforms_store_output_selects_per_platform(tmp_path: Path, multi_base: str) -> None:
    build(BuildRequest(context=context(tmp_path, CROSS), tags=("multi:2",), platforms=(AMD64, ARM64)),
          Progress(ProgressMode.QUIET))
    stored = Store.open().get("multi:2")
    assert isinstance(stored, ImageIndex) and len(stored.manifests()) == 2
    from dockyard.transports.resolve import open_image

    arm: Image = open_image("multi:2", ARM64)
    assert arm.config().architecture == "arm64"


def test_build_platforms_foreign_run_is_refused(tmp_path: Path, multi_base: str) -> None:
    if emulated("arm64"):
        pytest.skip("this machine has a QEMU handler for arm64 registered")
    ctx = context(tmp_path, "FROM busybox:multi\nRUN echo hi > /x\n")
    with pytest.raises(Unsupported, match="cannot run linux/arm64 binaries") as info:
        build(BuildRequest(context=ctx, platforms=(AMD64, ARM64)), Progress(ProgressMode.QUIET))
    assert info.value.hint is not None and "BUILDPLATFORM" in info.value.hint


def test_build_platforms_docker_archive_holds_one(tmp_path: Path, multi_base: str) -> None:
    with pytest.raises(InvalidArgument, match="docker-archive holds one platform"):
        build(BuildRequest(context=context(tmp_path, CROSS), platforms=(AMD64, ARM64),
                           output=OutputSpec(OutputType.DOCKER_ARCHIVE, str(tmp_path / "x.tar"))),
              Progress(ProgressMode.QUIET))


def test_build_platforms_check_runnable(tmp_path: Path) -> None:
    binfmt = tmp_path / "binfmt"
    binfmt.mkdir()
    check_runnable(AMD64, "RUN", host=AMD64, binfmt=binfmt)
    check_runnable(Platform.parse("linux/386"), "RUN", host=AMD64, binfmt=binfmt)
    with pytest.raises(Unsupported, match="linux/arm64"):
        check_runnable(ARM64, "RUN", host=AMD64, binfmt=binfmt)
    (binfmt / "qemu-aarch64").write_text("enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n")
    check_runnable(ARM64, "RUN", host=AMD64, binfmt=binfmt)
    (binfmt / "qemu-aarch64").write_text("disabled\n")
    with pytest.raises(Unsupported):
        check_runnable(ARM64, "RUN", host=AMD64, binfmt=binfmt)
    with pytest.raises(Unsupported, match="windows"):
        check_runnable(Platform.parse("windows/amd64"), "RUN", host=AMD64, binfmt=binfmt)


def test_build_platforms_index_refuses_duplicates(tmp_path: Path) -> None:
    rootfs = make_rootfs(tmp_path / "rootfs")
    with (imported(rootfs, platform=AMD64) as one, imported(rootfs, platform=AMD64, message="other") as two,
          pytest.raises(InvalidArgument, match="two different images for platform linux/amd64")):
        ImageListIndex([one, two])
    with pytest.raises(InvalidArgument):
        ImageListIndex([])
