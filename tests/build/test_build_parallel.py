"""Independent stages build at the same time: two stages meet at a rendezvous in a shared cache mount, which
only works when both RUN steps are running at once; `jobs=1` builds them one after the other."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.build.executor import build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode

STAGE = """\
FROM {base} AS {me}
ARG TOKEN
RUN --mount=type=cache,target=/rv,id=rendezvous \\
    touch /rv/$TOKEN-{me}; n=0; \\
    while [ ! -e /rv/$TOKEN-{other} ] && [ $n -lt 40 ]; do sleep 0.1; n=$((n+1)); done; \\
    if [ -e /rv/$TOKEN-{other} ]; then echo met > /{me}.txt; else echo alone > /{me}.txt; fi
"""


def dockerfile(base: str) -> str:
    return (STAGE.format(base=base, me="left", other="right") + STAGE.format(base=base, me="right", other="left")
            + f"FROM {base}\nCOPY --from=left /left.txt /\nCOPY --from=right /right.txt /\n")


@pytest.mark.parametrize(("jobs", "expected"), [(2, ("met", "met")), (1, ("alone", "met"))])
def test_build_parallel_independent_stages(tmp_path: Path, busybox_base: str, image_tree: Callable[[str], Path],
                                           jobs: int, expected: tuple[str, str]) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(dockerfile(busybox_base))
    log = io.StringIO()
    build(BuildRequest(context=ctx, tags=("par:1",), jobs=jobs, build_args={"TOKEN": uuid.uuid4().hex}),
          Progress(ProgressMode.PLAIN, log))
    tree = image_tree("par:1")
    # one after the other, the first stage waits 4 s alone and the second finds its marker
    got = ((tree / "left.txt").read_text().strip(), (tree / "right.txt").read_text().strip())
    assert got == expected, log.getvalue()


def test_build_parallel_failure_is_reported_once(tmp_path: Path, busybox_base: str) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {busybox_base} AS a\nRUN exit 3\nFROM {busybox_base} AS b\nRUN true\n"
                                    f"FROM {busybox_base}\nCOPY --from=a /bin/sh /a\nCOPY --from=b /bin/sh /b\n")
    from dockyard.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="exit code 3"):
        build(BuildRequest(context=ctx, jobs=2), Progress(ProgressMode.QUIET))


def test_build_parallel_stage_starts_when_its_own_inputs_are_done(tmp_path: Path, busybox_base: str,
                                                                 image_tree: Callable[[str], Path]) -> None:
    """`next` uses only `fast`; it starts while `slow` (same level as `fast`) still runs and meets it there, which
    a level-by-level build could not do."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    token = uuid.uuid4().hex
    mount = "--mount=type=cache,target=/rv,id=rendezvous"
    (ctx / "Dockerfile").write_text(f"""\
FROM {busybox_base} AS slow
RUN {mount} n=0; while [ ! -e /rv/{token}-next ] && [ $n -lt 40 ]; do sleep 0.1; n=$((n+1)); done; \\
    if [ -e /rv/{token}-next ]; then echo met > /slow.txt; else echo alone > /slow.txt; fi
FROM {busybox_base} AS fast
RUN echo fast > /fast.txt
FROM fast AS next
RUN {mount} touch /rv/{token}-next
FROM {busybox_base}
COPY --from=slow /slow.txt /slow.txt
COPY --from=next /fast.txt /fast.txt
""")
    build(BuildRequest(context=ctx, tags=("dep:1",), jobs=2), Progress(ProgressMode.QUIET))
    assert (image_tree("dep:1") / "slow.txt").read_text().strip() == "met"
