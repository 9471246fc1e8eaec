"""`analyze` tunes the interpreter (GC off, short GIL switch interval) only while it runs and puts it back."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from analyze_helpers import build_image  # type: ignore[import-not-found]

from dockyard.analyze import analyze
from dockyard.analyze.runtime import SWITCH_INTERVAL, tuned
from dockyard.layers.members import Member


@pytest.mark.parametrize("gc_on", [True, False])
def test_analyze_restores_gc_and_switch_interval(tmp_path: Path, gc_on: bool) -> None:
    layers = [[Member.dir("a"), *(Member.file(f"a/f{i}", b"x" * i) for i in range(50))], [Member.whiteout("a/f3")]]
    _, image = build_image(tmp_path, layers)
    interval = sys.getswitchinterval()
    was = gc.isenabled()
    frozen = gc.get_freeze_count()  # an in-process CLI test may have frozen objects before (freeze_for_exit)
    (gc.enable if gc_on else gc.disable)()
    try:
        report = analyze(image)
        assert gc.isenabled() is gc_on
        assert sys.getswitchinterval() == interval
        assert gc.get_freeze_count() == frozen  # moved to the old generation, not left frozen
    finally:
        (gc.enable if was else gc.disable)()
    assert report.layers[1].removed_files == 1


def test_freeze_for_exit_freezes() -> None:
    code = ("import gc; from dockyard.analyze import freeze_for_exit; freeze_for_exit(); "
            "print(gc.get_freeze_count() > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


def test_concurrent_analyses_restore_once(tmp_path: Path) -> None:
    layers = [[Member.dir("a"), *(Member.file(f"a/f{i}", b"x" * i) for i in range(200))]]
    _, image = build_image(tmp_path, layers)
    interval = sys.getswitchinterval()
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    inside: list[tuple[bool, float]] = []
    started = threading.Barrier(2)

    def run() -> None:
        started.wait()
        with tuned():
            inside.append((gc.isenabled(), sys.getswitchinterval()))
            analyze(image)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inside == [(False, min(interval, SWITCH_INTERVAL))] * 2
    assert gc.isenabled() and sys.getswitchinterval() == interval and gc.get_freeze_count() == frozen
