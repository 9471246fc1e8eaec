"""RUN steps through the real sandbox (runc over overlayfs, or bwrap): changes become layers, cache mounts
persist outside the image, secrets never reach a layer, the history or the config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.build.executor import BuildResult, build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.errors import InvalidArgument, Unsupported
from dockyard.layers.compression import decompress
from dockyard.layers.tarreader import TarReader

Tree = Callable[[object], Path]


@pytest.fixture(autouse=True)
def _sandbox() -> None:
    from dockyard.build.sandbox.detect import detect_sandbox

    try:
        detect_sandbox()
    except Unsupported as exc:
        pytest.skip(str(exc))


def run_build(ctx: Path, dockerfile: str, **kw: object) -> BuildResult:
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    return build(BuildRequest(context=ctx, tags=("run:test",), **kw),  # type: ignore[arg-type]
                 Progress(ProgressMode.QUIET))


def test_build_run_writes_layer(tmp_path: Path, busybox_base: str, image_tree: Tree) -> None:
    result = run_build(tmp_path / "ctx", f"""\
FROM {busybox_base}
ARG GREETING=hi
ENV WHO=world
WORKDIR /w
RUN echo $GREETING $WHO > /x && pwd > /w/pwd && id -u > /uid
RUN rm -f /etc/group
USER app:1001
RUN id -u > /tmp/uid
RUN <<EOT
echo heredoc > /tmp/here
EOT
""")
    tree = image_tree(result.image)
    assert (tree / "x").read_text() == "hi world\n"
    assert (tree / "w" / "pwd").read_text() == "/w\n"
    assert (tree / "uid").read_text() == "0\n"
    assert (tree / "tmp" / "uid").read_text() == "1000\n"
    assert (tree / "tmp" / "here").read_text() == "heredoc\n"
    assert not (tree / "etc" / "group").exists()  # the whiteout made it through
    history = [h.created_by for h in result.image.config().history if not h.empty_layer]
    assert history[1] == "WORKDIR /w"  # /w did not exist: WORKDIR made it in a layer
    assert history[2] == "RUN /bin/sh -c echo $GREETING $WHO > /x && pwd > /w/pwd && id -u > /uid # buildkit"
    again = run_build(tmp_path / "ctx", (tmp_path / "ctx" / "Dockerfile").read_text())
    assert again.built == 0 and again.descriptor.digest == result.descriptor.digest


def test_build_run_failure_is_an_error(tmp_path: Path, busybox_base: str) -> None:
    with pytest.raises(InvalidArgument, match="exit code 3"):
        run_build(tmp_path / "ctx", f"FROM {busybox_base}\nRUN exit 3\n")


def test_build_run_cache_mount_and_secret(tmp_path: Path, busybox_base: str, image_tree: Tree) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cr3t-value")
    dockerfile = f"""\
FROM {busybox_base}
RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /count
RUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /secret-len
RUN --mount=type=bind,source=.,target=/src cat /src/input > /copied
"""
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "input").write_text("bound\n")
    first = run_build(tmp_path / "ctx", dockerfile, secrets={"tok": secret})
    tree = image_tree(first.image)
    assert (tree / "count").read_text().strip() == "1"
    assert (tree / "secret-len").read_text().strip() == "12"
    assert (tree / "copied").read_text() == "bound\n"
    assert not (tree / "cache").exists() or not any((tree / "cache").iterdir())
    assert not (tree / "run" / "secrets" / "tok").exists() or (tree / "run" / "secrets" / "tok").stat().st_size == 0
    assert b"s3cr3t" not in first.image.config().raw
    for layer in first.image.layers():
        with layer.open() as raw:
            reader = TarReader(decompress(raw))
            for entry in reader:
                if entry.size:
                    assert b"s3cr3t" not in reader.body().read()
    second = run_build(tmp_path / "ctx", dockerfile.replace("> /count", "> /count2"), secrets={"tok": secret})
    assert (image_tree(second.image) / "count2").read_text().strip() == "2"  # the cache dir persisted
    assert json.loads(second.image.config().raw)["config"].get("Volumes") is None
