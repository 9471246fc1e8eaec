"""`COPY --from=STAGE` is keyed twice, as BuildKit does: by the source stage's cache key (a hit without opening
the stage) and by the copied content (a hit when the stage changed but the copied files did not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.build.executor import build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.build.steps.base import BuildEnv

DOCKERFILE = """\
FROM {base} AS build
COPY src.txt note.txt /in/
RUN cat /in/src.txt > /out.txt
FROM {base}
COPY --from=build /out.txt /out.txt
"""


def ctx(tmp_path: Path, base: str) -> Path:
    root = tmp_path / "ctx"
    root.mkdir(exist_ok=True)
    (root / "src.txt").write_text("source\n")
    (root / "note.txt").write_text("a note\n")
    (root / "Dockerfile").write_text(DOCKERFILE.format(base=base))
    return root


def test_build_copy_from_unchanged_stage_is_not_opened(tmp_path: Path, busybox_base: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = ctx(tmp_path, busybox_base)
    first = build(BuildRequest(context=root, tags=("k:1",)), Progress(ProgressMode.QUIET))

    def refuse(self: BuildEnv, ref: str) -> object:
        raise AssertionError(f"the unchanged stage {ref} was opened")

    monkeypatch.setattr(BuildEnv, "source_root", refuse)
    again = build(BuildRequest(context=root, tags=("k:1",)), Progress(ProgressMode.QUIET))
    assert (again.built, again.cached) == (0, 3) and again.descriptor.digest == first.descriptor.digest


def test_build_copy_from_same_content_after_a_stage_change(tmp_path: Path, busybox_base: str) -> None:
    root = ctx(tmp_path, busybox_base)
    first = build(BuildRequest(context=root, tags=("k:1",)), Progress(ProgressMode.QUIET))
    (root / "note.txt").write_text("another note\n")  # the stage changes; /out.txt does not
    second = build(BuildRequest(context=root, tags=("k:1",)), Progress(ProgressMode.QUIET))
    assert second.built == 2 and second.cached == 1  # COPY and RUN of the stage again; COPY --from by content
    assert second.descriptor.digest == first.descriptor.digest
