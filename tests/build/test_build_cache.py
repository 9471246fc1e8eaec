"""The build cache and reproducibility: no-change rebuilds are all hits and fast, one changed file rebuilds
from its step on, and COPY-only images get the same digest whatever the files' mtimes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dockyard.build.executor import BuildResult, build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode

TEN_STEPS = """\
FROM {base}
ENV APP=/app
WORKDIR /app
COPY f0.txt .
COPY f1.txt .
COPY f2.txt .
COPY f3.txt .
COPY f4.txt .
COPY dir/ ./dir/
LABEL stage=final
CMD ["/bin/sh"]
"""


def make_ctx(root: Path, base: str) -> Path:
    (root / "dir").mkdir(parents=True)
    for n in range(5):
        (root / f"f{n}.txt").write_text(f"file {n}\n")
    for n in range(50):
        (root / "dir" / f"d{n}").write_text(f"d {n}\n" * 100)
    (root / "Dockerfile").write_text(TEN_STEPS.format(base=base))
    return root


def run_build(ctx: Path, **kw: object) -> BuildResult:
    return build(BuildRequest(context=ctx, tags=("cached:test",), **kw),  # type: ignore[arg-type]
                 Progress(ProgressMode.QUIET))


def test_build_cache_hits_and_partial_rebuild(tmp_path: Path, busybox_base: str) -> None:
    ctx = make_ctx(tmp_path / "ctx", busybox_base)
    first = run_build(ctx)
    assert (first.built, first.cached) == (7, 0)  # WORKDIR /app makes a layer
    start = time.monotonic()
    again = run_build(ctx)
    elapsed = time.monotonic() - start
    assert (again.built, again.cached) == (0, 7)
    assert again.descriptor.digest == first.descriptor.digest
    assert elapsed < 1.0, f"no-change rebuild took {elapsed:.2f}s"
    (ctx / "f3.txt").write_text("changed\n")
    changed = run_build(ctx)
    assert (changed.built, changed.cached) == (3, 4)  # f3, f4 and dir/ rebuilt; WORKDIR, f0..f2 cached
    assert changed.descriptor.digest != first.descriptor.digest
    forced = run_build(ctx, no_cache=True)
    assert (forced.built, forced.cached) == (7, 0)
    assert forced.descriptor.digest == changed.descriptor.digest


def test_build_reproducible_across_mtimes(tmp_path: Path, busybox_base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    ctx = make_ctx(tmp_path / "ctx", busybox_base)
    first = run_build(ctx, no_cache=True)
    for path in ctx.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = run_build(ctx, no_cache=True)
    assert second.descriptor.digest == first.descriptor.digest
    assert first.image.config().created == "1970-01-01T00:00:00Z"


def test_build_source_date_epoch_sets_times(tmp_path: Path, busybox_base: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    ctx = make_ctx(tmp_path / "ctx", busybox_base)
    result = run_build(ctx)
    assert result.image.config().created == "2023-11-14T22:13:20Z"
    assert all(h.created == "2023-11-14T22:13:20Z" for h in result.image.config().history[1:])
