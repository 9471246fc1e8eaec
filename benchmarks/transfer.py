"""`dockyard copy` against `skopeo copy` between OCI layouts and docker-archives, 5 gzip layers.

Budget (docs DESIGN section 6, "our client push / pull at least 1.0x skopeo", applied to copy): our wall time at
most skopeo's (ratio ours/skopeo <= 1.0, lower is better).
Run: .venv/bin/python benchmarks/transfer.py [--size-mib 48] [--repeat 3]
"""

# ruff: noqa: E402  (imports follow the sys.path fix below)
from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path.append(sys.path.pop(0))  # search this directory last: a script name must never shadow the stdlib

import hashlib
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import CACHE, CHUNK, MIB, VENV_BIN, machine, machine_files, parser, run, table, write_sample_tar
from isal import isal_zlib

LAYERS = 5
TAG = "bench"
DOCKYARD = str(VENV_BIN / "dockyard")


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest.split(":")[1]
    path.write_bytes(data)
    return digest, len(data)


def _gzip_layer(tar: Path, layout: Path) -> tuple[str, int, str]:
    """Gzip `tar` into the layout's blobs (streaming); return (digest, size, diff_id)."""
    comp = isal_zlib.compressobj(3, isal_zlib.DEFLATED, 31)
    blob_hash, diff_hash = hashlib.sha256(), hashlib.sha256()
    tmp = layout / "blobs" / "sha256" / "tmp"
    size = 0
    with tar.open("rb") as src, tmp.open("wb") as dst:
        while chunk := src.read(CHUNK):
            diff_hash.update(chunk)
            out = comp.compress(chunk)
            blob_hash.update(out)
            size += dst.write(out)
        out = comp.flush()
        blob_hash.update(out)
        size += dst.write(out)
    tmp.rename(tmp.with_name(blob_hash.hexdigest()))
    return "sha256:" + blob_hash.hexdigest(), size, "sha256:" + diff_hash.hexdigest()


def build_layout(dest: Path, layer_mib: int) -> Path:
    """An OCI layout holding one image of LAYERS gzip layers made from this machine's files plus random bytes."""
    if (dest / "index.json").exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "blobs" / "sha256").mkdir(parents=True)
    files = machine_files()
    layers, diff_ids = [], []
    for n in range(LAYERS):
        tar = write_sample_tar(dest.parent / f"layer-{n}.tar", layer_mib * MIB, files, seed=n)
        digest, size, diff_id = _gzip_layer(tar, dest)
        tar.unlink()
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
        diff_ids.append(diff_id)
    config = {"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
              "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"layer {n}"} for n in range(LAYERS)]}
    cdigest, csize = _blob(dest, json.dumps(config, separators=(",", ":")).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
                "layers": layers}
    mdigest, msize = _blob(dest, json.dumps(manifest, separators=(",", ":")).encode())
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest, "size": msize,
        "annotations": {"org.opencontainers.image.ref.name": TAG}}]}
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (dest / "index.json").write_text(json.dumps(index))
    return dest


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    #: The destination reference, with {out} standing for a fresh path.
    dest: str
    #: The file or directory name {out} stands for.
    out: str


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _clean(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(scn: Scenario, work: Path, repeat: int) -> tuple[float, float, float, int, int]:
    """Median seconds for skopeo, our CLI and our library call, and the output sizes (skopeo's, ours)."""
    from dockyard.transports.copy import copy

    out = work / scn.out
    dest = scn.dest.format(out=out)
    skopeo = ["skopeo", "--insecure-policy", "copy", "-q", scn.source, dest]
    ours = [DOCKYARD, "copy", scn.source, dest]
    times: dict[str, list[float]] = {"skopeo": [], "cli": [], "lib": []}
    sizes = {}
    runners: dict[str, Callable[[], object]] = {
        "skopeo": lambda: run(skopeo), "cli": lambda: run(ours), "lib": lambda: copy(scn.source, dest)}
    for _ in range(repeat):  # interleaved, so background noise hits every tool alike
        for kind, runner in runners.items():
            _clean(out)
            times[kind].append(_timed(runner))
            sizes[kind] = _size(out)
    _clean(out)
    med = {k: statistics.median(v) for k, v in times.items()}
    return med["skopeo"], med["cli"], med["lib"], sizes["skopeo"], sizes["cli"]


def main(argv: Sequence[str] | None = None) -> None:
    args = parser(__doc__.splitlines()[0], default_mib=48).parse_args(argv)
    base = CACHE / f"copy-{args.size_mib}m"
    src = build_layout(base / "layout", args.size_mib)
    total = _size(src / "blobs")
    work = Path(tempfile.mkdtemp(prefix="copy-", dir=CACHE))
    os.environ["DOCKYARD_HOME"] = str(work / "home")  # never touch the user's store
    try:
        # docker-archive sources: skopeo's (layers stored uncompressed, as `docker save` writes them) and ours
        # (layers stored as given, gzip).
        plain_archive, gzip_archive = base / "skopeo.tar", base / "dockyard.tar"
        if not plain_archive.exists():
            run(["skopeo", "--insecure-policy", "copy", "-q", f"oci:{src}:{TAG}",
                 f"docker-archive:{plain_archive}:{TAG}:1"])
        if not gzip_archive.exists():
            run([DOCKYARD, "copy", f"oci:{src}:{TAG}", f"docker-archive:{gzip_archive}:{TAG}:1"])
        scenarios = [
            Scenario("OCI -> OCI", f"oci:{src}:{TAG}", "oci:{out}:" + TAG, "layout"),
            Scenario("OCI -> docker-archive", f"oci:{src}:{TAG}", "docker-archive:{out}:" + TAG + ":1", "out.tar"),
            Scenario("docker-archive (plain layers) -> OCI", f"docker-archive:{plain_archive}",
                     "oci:{out}:" + TAG, "layout"),
            Scenario("docker-archive (gzip layers) -> OCI", f"docker-archive:{gzip_archive}",
                     "oci:{out}:" + TAG, "layout"),
        ]
        print(f"# copy: {LAYERS} gzip layers, {args.size_mib} MiB tars each, {total / MIB:.0f} MiB of blobs; "
              f"median of {args.repeat}; skopeo {_skopeo_version()}; {machine()}\n")
        rows = []
        worst = 0.0
        for scn in scenarios:
            sk, cli, lib, sk_size, our_size = measure(scn, work, args.repeat)
            worst = max(worst, cli / sk)
            rows.append((scn.name, sk, cli, lib, cli / sk, lib / sk, f"{sk_size / MIB:.0f}", f"{our_size / MIB:.0f}"))
        print(table(["scenario", "skopeo s", "ours CLI s", "ours lib s", "CLI/skopeo", "lib/skopeo",
                     "skopeo out MiB", "ours out MiB"], rows))
        verdict = "met" if worst <= 1.0 else "NOT met"
        print(f"\nbudget (ours/skopeo <= 1.0, CLI incl. start-up): {verdict}: worst ratio {worst:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _skopeo_version() -> str:
    out = subprocess.run(["skopeo", "--version"], capture_output=True, text=True, check=False).stdout
    return out.split()[-1] if out else "?"


if __name__ == "__main__":
    main()
