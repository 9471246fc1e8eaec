"""`dockyard build --push`: the built image goes to the store and to every -t tag that names a registry (a real
CNCF distribution registry), and is refused cleanly when no tag names one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.build.executor import build
from dockyard.build.options import BuildRequest
from dockyard.build.output import names_registry
from dockyard.build.progress import Progress, ProgressMode
from dockyard.errors import InvalidArgument
from dockyard.testing.cncf import CncfRegistry, cncf_registry
from dockyard.transports.resolve import open_image
from dockyard.transports.store import Store

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CncfRegistry]:
    with cncf_registry(tmp_path_factory.mktemp("cncf-build-push")) as reg:
        yield reg


@pytest.fixture(autouse=True)
def _no_user_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-xdg-runtime"))


@pytest.fixture
def ctx(tmp_path: Path, busybox_base: str) -> Path:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "hello.txt").write_text("hello\n")
    (root / "Dockerfile").write_text(f"FROM {busybox_base}\nWORKDIR /app\nCOPY hello.txt .\n")
    return root


def test_build_push_names_registry() -> None:
    assert names_registry("localhost:5000/app:1")
    assert names_registry("registry.example.com/team/app")
    assert names_registry("localhost/app")
    assert not names_registry("app:1")
    assert not names_registry("team/app:1")


def test_build_push_cli_pushes_registry_tags(ctx: Path, registry: CncfRegistry) -> None:
    first, second = registry.ref("pushed/app:1"), registry.ref("pushed/other:2")
    proc = subprocess.run([DOCKYARD, "build", "--push", "-t", first, "-t", second, "-t", "local:1",
                           "--progress", "quiet", "--format", "json", str(ctx)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert len(result["destinations"]) == 5  # the store's three names, then the two pushes
    for ref in (first, second):
        remote = open_image(f"docker://{ref}")
        assert str(remote.digest()) == result["digest"]
        assert remote.config().config.working_dir == "/app"
    assert str(Store.open().get("local:1").digest()) == result["digest"]


def test_build_push_needs_registry_tag(ctx: Path) -> None:
    with pytest.raises(InvalidArgument, match="--push needs"):
        build(BuildRequest(context=ctx, tags=("local:1",), push=True), Progress(ProgressMode.QUIET))
    proc = subprocess.run([DOCKYARD, "build", "--push", "--progress", "quiet", str(ctx)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode != 0
    assert "--push needs" in proc.stderr and "Traceback" not in proc.stderr
