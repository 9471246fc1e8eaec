"""Built images run in real podman: a multi-stage RUN build loaded from a docker-archive, and the same build
pulled straight from an oci-archive, print what the Dockerfile made; a multi-platform index gives podman the
amd64 image."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.build.executor import build
from dockyard.build.options import BuildRequest, OutputSpec, OutputType
from dockyard.build.progress import Progress, ProgressMode
from dockyard.oci.platform import Platform
from dockyard.testing.containers import RUN_FLAGS, Containers, containers_tool
from dockyard.testing.peers import require_tool

DOCKERFILE = """\
FROM {base} AS build
COPY hello.txt /src/hello.txt
RUN cat /src/hello.txt /src/hello.txt > /twice.txt && id -u >> /twice.txt
FROM {base}
COPY --from=build /twice.txt /twice.txt
USER 1000
CMD ["cat", "/twice.txt"]
"""


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[Containers]:
    with containers_tool(require_tool("podman"), tmp_path / "podman") as tool:
        yield tool


@pytest.fixture
def ctx(tmp_path: Path, busybox_base: str) -> Path:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "hello.txt").write_text("hello\n")
    (root / "Dockerfile").write_text(DOCKERFILE.format(base=busybox_base))
    return root


def test_build_podman_runs_docker_archive(ctx: Path, tmp_path: Path, podman: Containers) -> None:
    archive = tmp_path / "app.tar"
    build(BuildRequest(context=ctx, tags=("localhost/app:1",),
                      output=OutputSpec(OutputType.DOCKER_ARCHIVE, str(archive))), Progress(ProgressMode.QUIET))
    loaded = podman("load", "-i", str(archive))
    assert "localhost/app:1" in loaded.stdout + loaded.stderr
    out = podman("run", "--rm", *RUN_FLAGS, "localhost/app:1").stdout
    assert out == "hello\nhello\n0\n"
    user = podman("image", "inspect", "--format", "{{.Config.User}}", "localhost/app:1").stdout.strip()
    assert user == "1000"


def test_build_podman_runs_oci_archive_of_an_index(ctx: Path, tmp_path: Path, podman: Containers) -> None:
    (ctx / "Dockerfile").write_text((ctx / "Dockerfile").read_text().replace("FROM busybox:test\nCOPY --from",
                                                                              "FROM scratch\nCOPY --from"))
    dest = tmp_path / "layout"
    log = io.StringIO()
    build(BuildRequest(context=ctx, tags=("app:2",), output=OutputSpec(OutputType.OCI, str(dest)),
                      platforms=(Platform.parse("linux/amd64"), Platform.parse("linux/arm64"))),
          Progress(ProgressMode.PLAIN, log))
    # the build stage's base has no arm64 image: BuildKit warns and uses it (the result is FROM scratch)
    assert "warning: base image busybox:test is linux/amd64, not linux/arm64" in log.getvalue()
    arch = podman("image", "inspect", "--format", "{{.Architecture}}",
                  podman("pull", "-q", f"oci:{dest}:2").stdout.strip().splitlines()[-1]).stdout.strip()
    assert arch == "amd64"
