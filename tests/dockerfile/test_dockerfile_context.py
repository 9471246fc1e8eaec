"""The build-context walker: sorted, `.dockerignore` applied with re-included children, symlinks kept as links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.dockerfile import DockerfileReadError, DockerIgnore, FileKind, iter_context


def make_tree(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def walk(root: Path, ignore: str | None = None) -> list[str]:
    rules = DockerIgnore.parse(ignore) if ignore is not None else None
    return [f.path + ("/" if f.kind is FileKind.DIR else "") for f in iter_context(root, rules)]


def test_dockerfile_context_sorted_depth_first(tmp_path: Path) -> None:
    make_tree(tmp_path, {"b.txt": "b", "a/z": "z", "a/b/c": "c", "Dockerfile": "FROM scratch\n"})
    assert walk(tmp_path) == ["Dockerfile", "a/", "a/b/", "a/b/c", "a/z", "b.txt"]


def test_dockerfile_context_ignore_and_reinclude(tmp_path: Path) -> None:
    make_tree(tmp_path, {"app.py": "", "debug.log": "", ".git/HEAD": "", "node_modules/x/index.js": "",
                         "node_modules/keep/README": "", "docs/a.md": "", "docs/README.md": "", "tmp/x.tmp": ""})
    ignore = ".git\n*.log\nnode_modules\n!node_modules/keep\ndocs\n!**/README.md\n**/*.tmp\n"
    assert walk(tmp_path, ignore) == ["app.py", "docs/", "docs/README.md", "node_modules/",
                                      "node_modules/keep/", "node_modules/keep/README", "tmp/"]
    rules = DockerIgnore.parse(ignore)
    walked = {f.path for f in iter_context(tmp_path, rules)}
    every = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")}
    assert walked == {p for p in every if not rules.matches(p)} | {"docs", "node_modules", "node_modules/keep"}


def test_dockerfile_context_prunes_excluded_dirs_it_need_not_enter(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, {"big/a": "", "big/b/c": "", "src/main.c": "", "src/gen/x.c": ""})
    visited: list[str] = []
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        visited.append(Path(path).relative_to(tmp_path).as_posix())
        return real_scandir(path)

    monkeypatch.setattr("dockyard.dockerfile.context.os.scandir", scandir)
    assert walk(tmp_path, "big\nsrc\n!src/main.c\n") == ["src/", "src/main.c"]
    assert visited == [".", "src"]
    visited.clear()
    assert walk(tmp_path, "big\n!**/c\n") == ["big/", "big/b/", "big/b/c", "src/", "src/gen/", "src/gen/x.c",
                                              "src/main.c"]
    assert "big/b" in visited


def test_dockerfile_context_symlinks_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    make_tree(outside, {"secret": "s"})
    ctx = tmp_path / "ctx"
    make_tree(ctx, {"real/file": "x"})
    os.symlink(outside, ctx / "escape")
    os.symlink("real/file", ctx / "link")
    entries = {f.path: f for f in iter_context(ctx)}
    assert sorted(entries) == ["escape", "link", "real", "real/file"]
    assert entries["escape"].kind is FileKind.SYMLINK and entries["escape"].link_target == str(outside)
    assert entries["link"].link_target == "real/file"
    assert entries["real/file"].size == 1 and entries["real/file"].kind is FileKind.FILE


def test_dockerfile_context_errors(tmp_path: Path) -> None:
    with pytest.raises(DockerfileReadError, match="not a directory"):
        list(iter_context(tmp_path / "missing"))
    if os.geteuid() == 0:
        pytest.skip("root reads directories without permission bits")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(DockerfileReadError, match="cannot read context directory"):
            list(iter_context(tmp_path))
    finally:
        locked.chmod(0o755)
