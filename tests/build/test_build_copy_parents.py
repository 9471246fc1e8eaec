"""`COPY --parents` (dockerfile 1.7 labs, BuildKit's semantics): matches keep their context path below the
destination, parent directories keep their own modes, and `/./` pivots which part of the path is kept."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.build.executor import build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.errors import UnsafePath


def files(tree: Path, under: str) -> list[str]:
    top = tree / under
    return sorted(str(p.relative_to(top)) + ("/" if p.is_dir() else "") for p in top.rglob("*"))


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    for d in ("x/a", "y/b", "app/src/pkg", "app/docs"):
        (root / d).mkdir(parents=True)
    (root / "x/a/file.txt").write_text("xa\n")
    (root / "y/b/file.txt").write_text("yb\n")
    (root / "y/b/other.md").write_text("md\n")
    (root / "app/src/pkg/mod.py").write_text("code\n")
    (root / "app/docs/readme").write_text("docs\n")
    os.chmod(root / "x", 0o750)
    return root


def run(ctx: Path, dockerfile: str, base: str, tree: Callable[[str], Path]) -> Path:
    (ctx / "Dockerfile").write_text(f"FROM {base}\n{dockerfile}")
    build(BuildRequest(context=ctx, tags=("parents:1",)), Progress(ProgressMode.QUIET))
    return tree("parents:1")


def test_build_copy_parents_keeps_paths(ctx: Path, busybox_base: str, image_tree: Callable[[str], Path]) -> None:
    tree = run(ctx, "COPY --parents x/a/file.txt y/b/*.txt /out/\n", busybox_base, image_tree)
    assert files(tree, "out") == ["x/", "x/a/", "x/a/file.txt", "y/", "y/b/", "y/b/file.txt"]
    assert stat.S_IMODE(os.lstat(tree / "out/x").st_mode) == 0o750  # parents keep their own mode


def test_build_copy_parents_pivot(ctx: Path, busybox_base: str, image_tree: Callable[[str], Path]) -> None:
    tree = run(ctx, "COPY --parents ./app/./src/pkg /srv/\n", busybox_base, image_tree)
    assert files(tree, "srv") == ["src/", "src/pkg/", "src/pkg/mod.py"]


def test_build_copy_parents_directory_and_without(ctx: Path, busybox_base: str,
                                                  image_tree: Callable[[str], Path]) -> None:
    tree = run(ctx, "COPY --parents app/docs /p/\nCOPY app/docs /q/\n", busybox_base, image_tree)
    assert files(tree, "p") == ["app/", "app/docs/", "app/docs/readme"]
    assert files(tree, "q") == ["readme"]  # without --parents a directory copies its contents


def test_build_copy_parents_refuses_escape(ctx: Path, busybox_base: str, image_tree: Callable[[str], Path]) -> None:
    with pytest.raises(UnsafePath):
        run(ctx, "COPY --parents ../x/./a /o/\n", busybox_base, image_tree)
