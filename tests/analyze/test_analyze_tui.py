"""`analyze --tui`: the tree model as plain functions, the textual browser driven by its pilot, and the CLI's
refusal without a terminal."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from analyze_helpers import build_image

from dockyard.analyze import Report, analyze
from dockyard.analyze.formats.tui_check import check_tui
from dockyard.analyze.formats.tui_tree import (
    Change,
    FileNode,
    count,
    filter_tree,
    image_tree,
    info_line,
    layer_rows,
    layer_tree,
    sort_tree,
    view,
)
from dockyard.cli.main import run
from dockyard.errors import InvalidArgument
from dockyard.layers.members import Member

LAYERS = [
    [Member.dir("etc"), Member.file("etc/a", b"a" * 100), Member.file("etc/b", b"b" * 50),
     Member.dir("usr"), Member.dir("usr/bin"), Member.file("usr/bin/tool", b"t" * 1000),
     Member.file("usr/bin/tool2", b"u" * 10), Member.dir("var"), Member.dir("var/cache"),
     Member.file("var/cache/x", b"x" * 200)],
    [Member.file("etc/a", b"A" * 120), Member.whiteout("etc/b"), Member.dir("app"),
     Member.file("app/main", b"m" * 300), Member.opaque("var/cache"), Member.file("var/cache/y", b"y" * 10),
     Member.file("my file", b"s" * 5)],
    [Member.file("app/main", b"m" * 300, mode=0o755), Member.whiteout("usr/bin"),
     Member.symlink("app/link", "main")],
]


@pytest.fixture
def report(tmp_path: Path) -> Report:
    _, image = build_image(tmp_path, LAYERS)
    return analyze(image, reference="img:1")


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build_image(tmp_path, LAYERS)[0]


def _flat(node: FileNode) -> dict[str, FileNode]:
    out = {}
    todo = list(node.children)
    while todo:
        n = todo.pop()
        out[n.path] = n
        todo.extend(n.children)
    return out


def test_layer_tree_marks_changes_and_waste(report: Report) -> None:
    first = _flat(layer_tree(report, 0))
    assert {p for p, n in first.items() if not n.is_dir} == {"etc/a", "etc/b", "usr/bin/tool", "usr/bin/tool2",
                                                               "var/cache/x"}
    assert all(n.change is Change.ADDED for n in first.values())
    assert {p for p, n in first.items() if n.wasted} == {"etc/a", "etc/b", "usr/bin/tool", "usr/bin/tool2",
                                                          "var/cache/x"}
    assert first["usr"].size == 1010 and first["usr"].is_dir
    second = _flat(layer_tree(report, 1))
    assert second["etc/a"].change is Change.MODIFIED and second["etc/a"].size == 120 and not second["etc/a"].wasted
    assert second["etc/b"].change is Change.REMOVED and second["etc/b"].wasted
    assert second["etc"].change is Change.UNCHANGED and second["etc"].type is None  # implied by the tar
    opaque = second["var/cache/.wh..wh..opq"]
    assert (opaque.change, opaque.size, opaque.wasted) == (Change.REMOVED, 200, True)
    assert second["var/cache/y"].change is Change.ADDED
    assert second["app/main"].change is Change.ADDED and second["app/main"].wasted  # chmod-only re-add later
    assert second["my file"].size == 5
    third = _flat(layer_tree(report, 2))
    assert third["app/main"].change is Change.MODIFIED and not third["app/main"].wasted
    assert third["usr/bin"].change is Change.REMOVED and third["usr/bin"].size == 1010
    assert third["app/link"].link == "main" and third["app/link"].size == 0
    assert count(layer_tree(report, 1)) == {Change.MODIFIED: 1, Change.REMOVED: 2, Change.ADDED: 3}


def test_image_tree_stacks_layers_and_keeps_removed_as_ghosts(report: Report) -> None:
    final = _flat(image_tree(report))
    files = {p: (n.change, n.layer) for p, n in final.items() if not n.is_dir}
    assert files == {
        "etc/a": (Change.MODIFIED, 1), "etc/b": (Change.REMOVED, 1), "app/main": (Change.MODIFIED, 2),
        "app/link": (Change.ADDED, 2), "var/cache/y": (Change.ADDED, 1), "my file": (Change.ADDED, 1),
        "var/cache/.wh..wh..opq": (Change.REMOVED, 1), "usr/bin": (Change.REMOVED, 2),
    }
    assert "usr/bin/tool" not in final and final["usr"].size == 1010  # the ghost weighs what it removed
    upto0 = _flat(image_tree(report, 0))
    assert {p for p, n in upto0.items() if n.change is Change.REMOVED} == set()
    assert upto0.keys() == _flat(layer_tree(report, 0)).keys()
    upto1 = _flat(image_tree(report, 1))
    assert "usr/bin/tool" in upto1 and upto1["etc/b"].change is Change.REMOVED and upto1["app/main"].wasted


def test_filter_and_sort(report: Report) -> None:
    tree = layer_tree(report, 1)
    removed = filter_tree(tree, {Change.REMOVED})
    assert removed is not None
    assert {p for p, n in _flat(removed).items() if not n.is_dir} == {"etc/b", "var/cache/.wh..wh..opq"}
    assert removed.size == 250  # directory sizes count what stays
    wasted = filter_tree(tree, wasted_only=True)
    assert wasted is not None and {p for p, n in _flat(wasted).items() if not n.is_dir} == {
        "etc/b", "var/cache/.wh..wh..opq", "app/main"}
    empty = filter_tree(tree, set())
    assert empty is not None and empty.children == () and empty.size == 0
    by_name = [c.name for c in sort_tree(tree).children]
    assert by_name == sorted(by_name)
    by_size = sort_tree(tree, by_size=True)
    assert [c.name for c in by_size.children] == ["app", "var", "etc", "my file"]
    assert [c.name for c in by_size.children[1].children[0].children] == [".wh..wh..opq", "y"]
    shown = view(report, 2, whole_image=True, shown={Change.ADDED}, by_size=True)
    assert {p for p, n in _flat(shown).items() if not n.is_dir} == {"app/link", "var/cache/y", "my file"}


def test_layer_rows_and_info(report: Report) -> None:
    rows = layer_rows(report)
    assert [r[0] for r in rows] == ["0", "1", "2"]
    assert rows[0][2] == "step 0" and rows[0][1] == "1.4 kB"
    line = info_line(report)
    assert "efficiency" in line and "reclaimable" in line
    assert f"{report.reclaim.reclaimable_bytes}" != "0"


def test_app_pilot(report: Report) -> None:
    from textual.widgets import DataTable, Static, Tree

    from dockyard.analyze.formats.tui import AnalyzeApp

    async def drive() -> None:
        app = AnalyzeApp(report)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            assert app.layer == 0 and app.current is not None
            tree: Tree[FileNode] = app.query_one("#files", Tree)
            assert {c.data.name for c in tree.root.children if c.data is not None} == {"etc", "usr", "var"}
            assert app.query_one("#layers-table", DataTable).row_count == 3
            assert "efficiency" in str(app.query_one("#info", Static).render())
            await pilot.press("down")
            assert app.layer == 1
            assert "etc/b" in _flat(app.current)
            await pilot.press("ctrl+a")
            assert Change.ADDED not in app.shown
            assert "app/main" not in _flat(app.current) and "etc/a" in _flat(app.current)
            assert "[ ] added" in str(app.query_one("#filters", Static).render())
            await pilot.press("m", "ctrl+r")
            assert app.shown == {Change.UNCHANGED}
            assert not [n for n in _flat(app.current).values() if not n.is_dir]
            await pilot.press("ctrl+a", "m", "ctrl+r", "ctrl+w")
            assert app.wasted_only
            assert {p for p, n in _flat(app.current).items() if not n.is_dir} == {
                "etc/b", "var/cache/.wh..wh..opq", "app/main"}
            await pilot.press("ctrl+w", "s")
            assert app.by_size and app.current.children[0].name == "app"
            await pilot.press("down", "v")
            assert app.layer == 2 and app.whole_image
            labels = {str(c.label) for c in tree.root.children}
            assert any("usr/" in lbl for lbl in labels)
            bin_ghost = _flat(app.current)["usr/bin"]
            assert bin_ghost.change is Change.REMOVED
            await pilot.press("q")
        assert app.return_code in (None, 0)

    asyncio.run(drive())


def test_app_lazy_tree_and_cap(tmp_path: Path) -> None:
    from textual.widgets import Tree

    from dockyard.analyze.formats import tui

    many = [Member.dir("d")] + [Member.file(f"d/f{i:04}", b"x") for i in range(30)]
    deep = [Member.dir("a"), Member.dir("a/b"), Member.file("a/b/c", b"c")]
    _, image = build_image(tmp_path, [many + deep])
    report = analyze(image)

    async def drive() -> None:
        app = tui.AnalyzeApp(report)
        old = tui.MAX_CHILDREN, tui.AUTO_EXPAND
        tui.MAX_CHILDREN, tui.AUTO_EXPAND = 10, 3
        try:
            async with app.run_test(size=(120, 30)) as pilot:
                tree: Tree[FileNode] = app.query_one("#files", Tree)
                by_name = {c.data.name: c for c in tree.root.children if c.data is not None}
                assert by_name["a"].is_expanded and not by_name["d"].is_expanded
                assert not by_name["d"].children  # loaded on expansion only
                by_name["d"].expand()
                await pilot.pause()
                labels = [str(c.label) for c in by_name["d"].children]
                assert len(labels) == 11 and labels[-1].startswith("… 20 more")
        finally:
            tui.MAX_CHILDREN, tui.AUTO_EXPAND = old

    asyncio.run(drive())


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_check_tui() -> None:
    check_tui(stdin=_Tty(), stdout=_Tty())
    with pytest.raises(InvalidArgument, match="needs an interactive terminal"):
        check_tui(stdin=io.StringIO(), stdout=_Tty())
    with pytest.raises(InvalidArgument, match="--ci"):
        check_tui(ci=True, stdin=_Tty(), stdout=_Tty())
    with pytest.raises(InvalidArgument, match="--output json"):
        check_tui(json=True, stdin=_Tty(), stdout=_Tty())


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        run(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_tui_without_tty_exits_2(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(["analyze", f"docker-archive:{archive}", "--tui"], capsys)
    assert code == 2
    assert "--tui needs an interactive terminal" in err and out == ""


def test_cli_tui_runs_the_browser(archive: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from dockyard.analyze.formats import tui, tui_check

    seen: list[Report] = []
    monkeypatch.setattr(tui_check, "check_tui", lambda **kw: None)
    monkeypatch.setattr(tui, "run_tui", seen.append)
    code, out, _ = _cli(["analyze", f"docker-archive:{archive}", "--tui"], capsys)
    assert code == 0 and out == ""
    assert len(seen) == 1 and len(seen[0].layers) == 3
