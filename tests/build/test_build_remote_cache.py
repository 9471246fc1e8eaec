"""`--cache-to` / `--cache-from`: the build cache exported to a real CNCF registry or an OCI layout and reused by
a build on an empty store (another machine, a CI runner), in BuildKit's min and max modes; broken or missing
caches are warnings, never a failed or wrong build."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.build.executor import BuildResult, build
from dockyard.build.options import BuildRequest, CacheMode, CacheSpec
from dockyard.build.progress import Progress, ProgressMode
from dockyard.build.remotecache import CACHE_CONFIG, LISTING, decode_records
from dockyard.errors import InvalidArgument, InvalidManifest
from dockyard.testing.busybox import make_rootfs
from dockyard.testing.cncf import CncfRegistry, cncf_registry
from dockyard.transports.resolve import open_location
from dockyard.transports.rootfs import imported
from dockyard.transports.store import Store

DOCKYARD = str(Path(sys.executable).parent / "dockyard")

DOCKERFILE = """\
FROM busybox:test AS build
COPY src.txt /src.txt
RUN wc -c /src.txt > /size.txt && echo built > /marker
FROM busybox:test
WORKDIR /app
COPY --from=build /size.txt /app/size.txt
RUN cat /app/size.txt > /app/copy.txt
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CncfRegistry]:
    with cncf_registry(tmp_path_factory.mktemp("cncf-build-cache")) as reg:
        yield reg


@pytest.fixture(autouse=True)
def _no_user_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)


def fresh_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A new, empty DOCKYARD_HOME holding only the busybox base (same digest on every 'machine')."""
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / name))
    rootfs = tmp_path / "rootfs"
    if not rootfs.exists():
        make_rootfs(rootfs)
    with imported(rootfs) as image:
        Store.open().write(image, ["busybox:test"])


def context(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    root.mkdir(exist_ok=True)
    (root / "src.txt").write_text("some source\n")
    (root / "Dockerfile").write_text(DOCKERFILE)
    return root


def run(ctx: Path, *, cache_from: str | None = None, cache_to: str | None = None) -> tuple[BuildResult, str]:
    out = io.StringIO()
    result = build(BuildRequest(
        context=ctx, tags=("app:1",),
        cache_from=(CacheSpec.parse(cache_from, "--cache-from"),) if cache_from else (),
        cache_to=(CacheSpec.parse(cache_to),) if cache_to else (),
    ), Progress(ProgressMode.PLAIN, out))
    return result, out.getvalue()


def test_build_cache_spec_forms() -> None:
    assert CacheSpec.parse("localhost:5000/app:cache") == CacheSpec("localhost:5000/app:cache", CacheMode.MIN)
    assert CacheSpec.parse("localhost:5000/app:cache,mode=max").mode is CacheMode.MAX
    assert CacheSpec.parse("type=registry,ref=r.example/a:c,mode=max") == CacheSpec("r.example/a:c", CacheMode.MAX)
    assert CacheSpec.parse("type=local,dest=/tmp/c") == CacheSpec("oci:/tmp/c:buildcache", CacheMode.MIN)
    assert CacheSpec.parse("type=local,src=/tmp/c", "--cache-from").location == "oci:/tmp/c:buildcache"
    for bad, message in (("", "empty"), ("type=gha", "not supported"), ("r/a,mode=huge", "min or max"),
                         ("r/a,oops", "key=value"), ("type=registry", "no cache reference"),
                         ("r/a,compression=zstd", "unknown option")):
        with pytest.raises(InvalidArgument, match=message):
            CacheSpec.parse(bad)


def test_build_cache_max_to_registry_rebuilds_nothing_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: CncfRegistry) -> None:
    ref = registry.ref("cache/app:buildcache")
    fresh_machine(tmp_path, monkeypatch, "machine-a")
    ctx = context(tmp_path)
    first, log = run(ctx, cache_to=f"type=registry,ref={ref},mode=max")
    assert first.built == 5 and first.cache_exports == (f"docker://{ref}",)
    assert "exported cache (max, 6 records)" in log  # 5 steps, and COPY --from keyed by the build stage's key

    remote = open_location(f"docker://{ref}")
    assert not isinstance(remote, str)
    manifest = json.loads(remote.raw_manifest())
    assert manifest["config"]["mediaType"] == CACHE_CONFIG
    assert manifest["artifactType"] == "application/vnd.dockyard.buildcache.v1"
    records = decode_records(remote.raw_config(), ref)  # type: ignore[union-attr]
    assert len(records) == 6 and sum(1 for r in records.values() if r.next_key is not None) == 1
    layers = [blob for blob in manifest["layers"] if blob["mediaType"] != LISTING]
    listings = [blob for blob in manifest["layers"] if blob["mediaType"] == LISTING]
    assert len(layers) == 5 and len(listings) == 5 and all(r.listing is not None for r in records.values())
    # the build stage's layers are stored uncompressed locally, but travel compressed, as BuildKit exports them
    assert {layer["mediaType"] for layer in layers} == {"application/vnd.oci.image.layer.v1.tar+gzip"}

    fresh_machine(tmp_path, monkeypatch, "machine-b")  # an empty store: only the registry knows the layers
    second, log = run(ctx, cache_from=ref)
    assert "importing cache from" in log and "6 records" in log
    assert (second.built, second.cached) == (0, 5)
    assert second.descriptor.digest == first.descriptor.digest  # the same image, byte for byte
    assert Store.open().get("app:1").digest() == first.descriptor.digest
    # only what the output needs was pulled: the build stage's two layers stayed in the registry (BuildKit's lazy
    # blobs); its listings came along, so its COPY knew the layer's paths without the layer
    build_stage = [r for k, r in records.items() if r.diff_id not in
                   {layer.diff_id() for layer in Store.open().get("app:1").layers()}]  # type: ignore[union-attr]
    assert len(build_stage) == 2
    assert not any(Store.open().has_blob(r.layer.digest) for r in build_stage)

    (ctx / "src.txt").write_text("changed source\n")  # a real change still rebuilds from that step
    third, _ = run(ctx, cache_from=ref)
    assert third.built >= 2 and third.descriptor.digest != first.descriptor.digest


def test_build_cache_lazy_layer_fetched_when_a_later_step_needs_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: CncfRegistry) -> None:
    """A stage's cached RUN layer is left in the registry until a changed later RUN of that stage needs it as a
    lower dir; then it is fetched, verified, and the build is the same as a cold one."""
    ref = registry.ref("cache/lazy:buildcache")
    fresh_machine(tmp_path, monkeypatch, "machine-a")
    ctx = context(tmp_path)
    (ctx / "Dockerfile").write_text(DOCKERFILE.replace(
        "RUN wc -c /src.txt > /size.txt && echo built > /marker",
        "RUN echo built > /marker\nRUN wc -c /src.txt > /size.txt"))
    run(ctx, cache_to=f"{ref},mode=max")
    (ctx / "Dockerfile").write_text((ctx / "Dockerfile").read_text().replace("wc -c /src.txt", "wc -c < /src.txt"))
    cold_home = tmp_path / "cold"
    fresh_machine(tmp_path, monkeypatch, "cold")
    cold, _ = run(ctx)
    fresh_machine(tmp_path, monkeypatch, "machine-b")
    warm, log = run(ctx, cache_from=ref)
    assert warm.cached >= 3 and warm.built >= 1, log  # the marker RUN from the cache, the changed RUN again
    assert warm.descriptor.digest == cold.descriptor.digest
    assert cold_home.is_dir()


def test_build_cache_min_exports_only_final_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_machine(tmp_path, monkeypatch, "machine-a")
    ctx = context(tmp_path)
    dest = tmp_path / "cache-layout"
    first, log = run(ctx, cache_to=f"type=local,dest={dest}")  # mode=min is the default, as in BuildKit
    assert "exported cache (min, 4 records)" in log  # WORKDIR, COPY --from (by content and by stage key), RUN

    fresh_machine(tmp_path, monkeypatch, "machine-b")
    second, _ = run(ctx, cache_from=f"type=local,src={dest}")
    # the build stage is not in a min cache: its two steps run again, and give the same bytes, so the final
    # stage's COPY --from (keyed by content) and everything after it comes from the cache
    assert (second.built, second.cached) == (2, 3)
    assert second.descriptor.digest == first.descriptor.digest


def test_build_cache_missing_or_corrupt_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_machine(tmp_path, monkeypatch, "machine-a")
    ctx = context(tmp_path)
    _, log = run(ctx, cache_from=f"oci:{tmp_path / 'nowhere'}:buildcache")
    assert "warning: cache oci:" in log and "not used" in log

    dest = tmp_path / "cache-layout"
    first, _ = run(ctx, cache_to=f"oci:{dest}:c,mode=max")
    layout_blobs = dest / "blobs" / "sha256"
    manifest = json.loads(open_location(f"oci:{dest}:c").raw_manifest())
    for layer in manifest["layers"]:  # tamper with every cached layer blob on disk, keeping its size
        (layout_blobs / layer["digest"].split(":")[1]).write_bytes(b"x" * layer["size"])

    fresh_machine(tmp_path, monkeypatch, "machine-b")
    second, log = run(ctx, cache_from=f"oci:{dest}:c")
    assert second.cached == 0 and second.built == 5  # nothing taken from a cache that does not verify
    assert "warning: cache from oci:" in log and "content hashes to" in log, log
    assert second.descriptor.digest == first.descriptor.digest


def test_build_cache_from_a_plain_image_is_refused_with_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_machine(tmp_path, monkeypatch, "machine-a")
    result, log = run(context(tmp_path), cache_from="busybox:test")
    assert "is not a dockyard build cache" in log and result.built == 5
    with pytest.raises(InvalidManifest, match="not a dockyard build cache"):
        decode_records(b'{"version": 2}', "x")


def test_build_cache_cli_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_machine(tmp_path, monkeypatch, "machine-a")
    ctx = context(tmp_path)
    dest = tmp_path / "cli-cache"
    proc = subprocess.run([DOCKYARD, "build", "--cache-to", f"type=local,dest={dest},mode=max", "--format", "json",
                           "--progress", "plain", "-t", "app:1", str(ctx)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cache_exports"] == [f"oci:{dest}:buildcache"]
    fresh_machine(tmp_path, monkeypatch, "machine-b")
    proc = subprocess.run([DOCKYARD, "build", "--cache-from", f"type=local,src={dest}", "--format", "json",
                           "--progress", "quiet", "-t", "app:1", str(ctx)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cached"] == 5
    proc = subprocess.run([DOCKYARD, "build", "--cache-to", "type=s3", str(ctx)],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 2 and "not supported" in proc.stderr and "Traceback" not in proc.stderr


def test_build_cache_export_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry that is down fails the build (as BuildKit), unless ignore-error=true makes it a warning."""
    import socket

    from dockyard.errors import Error

    fresh_machine(tmp_path, monkeypatch, "machine-a")
    ctx = context(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}/cache/app:c"  # nothing listens once the socket is closed
    assert CacheSpec.parse(f"{dead},ignore-error=true").ignore_error
    with pytest.raises(InvalidArgument, match="ignore-error must be true or false"):
        CacheSpec.parse(f"{dead},ignore-error=maybe")
    result, log = run(ctx, cache_to=f"type=registry,ref={dead},ignore-error=true")
    assert result.cache_exports == () and "warning: cache export to" in log
    with pytest.raises(Error):
        run(ctx, cache_to=f"type=registry,ref={dead}")


def test_build_cache_hostile_listings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache's listing blob that is not gzip, inflates without bound, or is not a listing: a clear error (the
    hit then becomes a warning and a miss), never a traceback or an unbounded read."""
    import gzip
    import io as _io
    from types import SimpleNamespace

    from dockyard.build import remotecache
    from dockyard.build.cache import BuildCache, CacheRecord
    from dockyard.oci.config import History
    from dockyard.oci.descriptor import Descriptor
    from dockyard.oci.digest import Digest

    def imported(data: bytes) -> tuple[remotecache.ImportedCache, CacheRecord]:
        layer = Descriptor("application/vnd.oci.image.layer.v1.tar", Digest.of(b"x"), 1)
        record = CacheRecord(layer, Digest.of(b"x"), History(), listing=Descriptor.for_bytes(LISTING, data))
        image = SimpleNamespace(open_blob=lambda _desc: _io.BytesIO(data))
        return remotecache.ImportedCache("oci:hostile", {"k" * 64: record}, image), record  # type: ignore[arg-type]

    source, record = imported(b"not gzip at all")
    with pytest.raises(InvalidManifest, match="is not gzip"):
        source.fetch_listing(record)
    monkeypatch.setattr(remotecache, "MAX_LISTING", 1024)
    source, record = imported(gzip.compress(b"\0" * (4 * 1024 + 2)))
    with pytest.raises(InvalidManifest, match="inflates past"):
        source.fetch_listing(record)
    source, record = imported(gzip.compress(b'{"not": "a listing"}'))
    cache = BuildCache(tmp_path / "cache", imports=[source])
    with pytest.raises(InvalidManifest, match="malformed"):
        cache._keep_listing(source, record)
    from dockyard.transports.store import Store

    assert cache.hit("k" * 64, Store.open(tmp_path / "store"), lazy=True) is None  # a warning and a miss
    assert cache.warnings and "malformed" in cache.warnings[0]
