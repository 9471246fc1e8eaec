"""WORKDIR creates missing directories in a layer (mode 0755, owned by the current USER), and adds no layer when
the directory already exists; keys and digests stay reproducible."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.build.executor import BuildResult, build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.layers.compression import decompress
from dockyard.layers.tarformat import EntryType, TarEntry
from dockyard.layers.tarreader import TarReader
from dockyard.oci.protocols import Layer


def run_build(ctx: Path, dockerfile: str, **kw: object) -> BuildResult:
    (ctx / "Dockerfile").write_text(dockerfile)
    request = BuildRequest(context=ctx, tags=("out:test",), **kw)  # type: ignore[arg-type]
    return build(request, Progress(ProgressMode.QUIET))


def entries(layer: Layer) -> list[TarEntry]:
    with layer.open() as raw:
        return list(TarReader(decompress(raw)))


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "a.txt").write_text("alpha\n")
    return root


def test_build_workdir_creates_dirs_owned_by_user(ctx: Path, busybox_base: str) -> None:
    result = run_build(ctx, f"FROM {busybox_base}\nUSER app\nWORKDIR /srv/app/data\nWORKDIR /srv\n"
                            "COPY a.txt .\n")
    image = result.image
    config = image.config()
    assert config.config.working_dir == "/srv"
    assert len(image.layers()) == 3  # base, WORKDIR /srv/app/data, COPY
    made = entries(image.layers()[1])
    assert [(e.path, e.type, e.mode, e.uid, e.gid) for e in made] == [
        ("srv", EntryType.DIR, 0o755, 1000, 1001),
        ("srv/app", EntryType.DIR, 0o755, 1000, 1001),
        ("srv/app/data", EntryType.DIR, 0o755, 1000, 1001),
    ]
    history = {h.created_by: h for h in config.history}
    assert history["WORKDIR /srv/app/data"].empty_layer is False
    assert history["WORKDIR /srv"].empty_layer is True
    copied = entries(image.layers()[2])
    assert [e.path for e in copied if e.type is EntryType.FILE] == ["srv/a.txt"]


def test_build_workdir_existing_dir_adds_no_layer(ctx: Path, busybox_base: str) -> None:
    result = run_build(ctx, f"FROM {busybox_base}\nWORKDIR /etc\nWORKDIR /\n")
    assert len(result.image.layers()) == 1
    assert result.image.config().config.working_dir == "/"
    assert all(h.empty_layer for h in result.image.config().history[1:])


def test_build_workdir_relative_creates_only_missing_part_as_root(ctx: Path, busybox_base: str) -> None:
    result = run_build(ctx, f"FROM {busybox_base}\nWORKDIR /tmp\nWORKDIR sub/leaf\n")
    assert result.image.config().config.working_dir == "/tmp/sub/leaf"
    assert len(result.image.layers()) == 2
    made = entries(result.image.layers()[1])
    assert [(e.path, e.mode, e.uid, e.gid) for e in made] == [("tmp/sub", 0o755, 0, 0), ("tmp/sub/leaf", 0o755, 0, 0)]
    assert result.image.config().history[-1].created_by == "WORKDIR sub/leaf"


def test_build_workdir_from_scratch_numeric_user(ctx: Path) -> None:
    result = run_build(ctx, "FROM scratch\nUSER 42:43\nWORKDIR /data\nCOPY a.txt .\n")
    made = entries(result.image.layers()[0])
    assert [(e.path, e.mode, e.uid, e.gid) for e in made] == [("data", 0o755, 42, 43)]


def test_build_workdir_reproducible_and_cached(ctx: Path, busybox_base: str) -> None:
    dockerfile = f"FROM {busybox_base}\nWORKDIR /app\nCOPY a.txt .\n"
    first = run_build(ctx, dockerfile, no_cache=True)
    second = run_build(ctx, dockerfile, no_cache=True)
    assert first.descriptor.digest == second.descriptor.digest
    assert first.built == second.built == 2
    cached = run_build(ctx, dockerfile)
    assert cached.descriptor.digest == first.descriptor.digest
    assert cached.cached == 2 and cached.built == 0
    other_user = run_build(ctx, f"FROM {busybox_base}\nUSER app\nWORKDIR /app\nCOPY a.txt .\n")
    assert other_user.image.layers()[1].diff_id() != first.image.layers()[1].diff_id()
    assert other_user.built == 2
