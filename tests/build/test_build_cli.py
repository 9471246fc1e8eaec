"""`dockyard build` as a user runs it: outputs read back by skopeo, clean errors, JSON progress, and the
built image loaded and run by a real docker engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.testing.peers import require_tool

DOCKYARD = str(Path(sys.executable).parent / "dockyard")

DOCKERFILE = """\
FROM {base} AS build
WORKDIR /src
COPY hello.txt .
RUN cat hello.txt hello.txt > /src/twice.txt
FROM {base}
COPY --from=build /src/twice.txt /twice.txt
CMD ["cat", "/twice.txt"]
"""


def dockyard(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([DOCKYARD, *args], capture_output=True, text=True, check=False, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"dockyard {' '.join(args)} failed: {proc.stderr}")
    return proc


@pytest.fixture
def ctx(tmp_path: Path, busybox_base: str) -> Path:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "hello.txt").write_text("hello\n")
    (root / "Dockerfile").write_text(DOCKERFILE.format(base=busybox_base))
    return root


def _sandbox_or_copy_only(ctx: Path, busybox_base: str) -> None:
    from dockyard.build.sandbox.detect import detect_sandbox
    from dockyard.errors import Unsupported

    try:
        detect_sandbox()
    except Unsupported:
        (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=busybox_base).replace(
            "RUN cat hello.txt hello.txt > /src/twice.txt", "COPY hello.txt /src/twice.txt"))


def test_build_cli_outputs_read_by_skopeo(ctx: Path, tmp_path: Path, busybox_base: str) -> None:
    skopeo = require_tool("skopeo")
    _sandbox_or_copy_only(ctx, busybox_base)
    done = dockyard("build", "-t", "app:1", "--progress", "json", "--format", "json", str(ctx))
    result = json.loads(done.stdout)
    assert result["destinations"] == ["app:1"]
    events = [json.loads(line) for line in done.stderr.splitlines()]
    assert events[-1]["event"] == "done"
    assert dockyard("images").stdout.count("app") >= 1
    layout = tmp_path / "layout"
    dockyard("build", "-t", "app:1", "-o", f"type=oci,dest={layout}", str(ctx))
    info = json.loads(subprocess.run([skopeo, "inspect", f"oci:{layout}:1"], capture_output=True, text=True,
                                     check=True).stdout)
    assert info["Layers"] and info["Digest"] == result["digest"]
    archive = tmp_path / "app.tar"
    dockyard("build", "-t", "app:1", "-o", f"type=docker-archive,dest={archive}", str(ctx))
    info = json.loads(subprocess.run([skopeo, "inspect", f"docker-archive:{archive}"], capture_output=True,
                                     text=True, check=True).stdout)
    assert len(info["Layers"]) == 2


@pytest.mark.parametrize(("line", "needle"), [
    ("COPY ../etc/passwd /x", "outside the build context"),
    ("COPY missing.txt /x", "not found in the build context"),
    ("FROZ nothing", "unknown instruction"),
])
def test_build_cli_clean_errors(ctx: Path, busybox_base: str, line: str, needle: str) -> None:
    (ctx / "Dockerfile").write_text(f"FROM {busybox_base}\n{line}\n")
    done = dockyard("build", str(ctx), check=False)
    assert done.returncode != 0
    assert needle in done.stderr.lower()
    assert "Traceback" not in done.stderr


def test_build_cli_docker_runs_image(ctx: Path, tmp_path: Path, busybox_base: str, docker_host: str) -> None:
    from dockyard.testing.docker import docker

    _sandbox_or_copy_only(ctx, busybox_base)
    archive = tmp_path / "app.tar"
    dockyard("build", "-t", "dockyard-build-test:1", "-o", f"type=docker-archive,dest={archive}", str(ctx))
    docker(docker_host, "load", "-i", str(archive))
    out = docker(docker_host, "run", "--rm", "dockyard-build-test:1").stdout.decode()
    assert out in {"hello\nhello\n", "hello\n"}


def test_build_cli_analyze_reads_built_image(ctx: Path, busybox_base: str) -> None:
    _sandbox_or_copy_only(ctx, busybox_base)
    dockyard("build", "-t", "app:2", "--progress", "quiet", str(ctx))
    report = json.loads(dockyard("analyze", "-o", "json", "app:2").stdout)
    commands = [layer["command"] for layer in report["layer"]]
    assert commands[-1] == "COPY --from=build /src/twice.txt /twice.txt # buildkit"
    assert len(commands) == 2


def test_build_push_to_registry_and_build_from_it(ctx: Path, tmp_path: Path, busybox_base: str) -> None:
    from dockyard.build.executor import build
    from dockyard.build.options import BuildRequest, OutputSpec, OutputType
    from dockyard.build.progress import Progress, ProgressMode
    from dockyard.testing.cncf import cncf_registry

    with cncf_registry(tmp_path / "registry") as registry:
        (ctx / "Dockerfile").write_text(f"FROM {busybox_base}\nCOPY hello.txt /hello.txt\n")
        pushed = build(BuildRequest(context=ctx, tags=(registry.ref("built:1"),),
                                    output=OutputSpec(OutputType.REGISTRY)), Progress(ProgressMode.QUIET))
        (ctx / "Dockerfile").write_text(f"FROM {registry.ref('built:1')}\nCOPY hello.txt /again.txt\n")
        child = build(BuildRequest(context=ctx, tags=("child:1",)), Progress(ProgressMode.QUIET))
    assert child.image.config().diff_ids[:2] == pushed.image.config().diff_ids
    assert len(child.image.layers()) == 3
