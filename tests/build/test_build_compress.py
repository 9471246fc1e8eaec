"""Intermediate stages' layers are stored uncompressed (never compressed unless they reach an output), and an
output is the same image whatever the cache held: `--target build` after a full build (cache hits on
uncompressed layers) equals a cold `--target build`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.build.executor import build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.oci.mediatype import Compression, layer_compression
from dockyard.testing.busybox import make_rootfs
from dockyard.transports.rootfs import imported
from dockyard.transports.store import Store

DOCKERFILE = """\
FROM busybox:test AS build
COPY a.txt /a.txt
RUN cat /a.txt /a.txt > /b.txt
FROM busybox:test
COPY --from=build /b.txt /b.txt
"""


def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / name))
    rootfs = tmp_path / "rootfs"
    if not rootfs.exists():
        make_rootfs(rootfs)
    with imported(rootfs) as image:
        Store.open().write(image, ["busybox:test"])
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "a.txt").write_text("a\n")
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    return ctx


def test_build_compress_intermediate_layers_stay_plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = machine(tmp_path, monkeypatch, "one")
    request = BuildRequest(context=ctx, tags=("app:1",))
    result = build(request, Progress(ProgressMode.QUIET))
    final = Store.open().get("app:1")
    kinds = [layer_compression(layer.descriptor.media_type) for layer in final.layers()]  # type: ignore[union-attr]
    assert kinds == [Compression.GZIP, Compression.GZIP]
    cache = cache_kinds(tmp_path / "one")
    assert Compression.NONE in cache and Compression.GZIP in cache  # the build stage's two layers are plain

    target = build(BuildRequest(context=ctx, tags=("build:1",), target="build"), Progress(ProgressMode.QUIET))
    assert target.cached == 2  # both steps from the cache, where they are uncompressed ...
    layers = Store.open().get("build:1").layers()  # type: ignore[union-attr]
    assert {layer_compression(layer.descriptor.media_type) for layer in layers} == {Compression.GZIP}  # ... output
    assert result.descriptor.digest != target.descriptor.digest

    ctx2 = machine(tmp_path, monkeypatch, "two")
    cold = build(BuildRequest(context=ctx2, tags=("build:1",), target="build"), Progress(ProgressMode.QUIET))
    assert cold.built == 2 and cold.descriptor.digest == target.descriptor.digest  # the same image either way


def cache_kinds(home: Path) -> list[Compression]:
    import json

    index = home / "build-cache" / "index"
    return [layer_compression(json.loads(p.read_text())["layer"]["mediaType"]) for p in index.glob("*.json")]
