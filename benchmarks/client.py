"""Registry client: `dockyard push` / `dockyard pull` against `skopeo copy`, 5 random layers, CNCF registry 2.8.2.

Budget (DESIGN section 6, "our client push / pull at least 1.0x skopeo"): our MB/s at least skopeo's, both ways.
Every round starts fresh registries (new storage), so no blob is ever already there; the tools alternate
which goes first. Run: .venv/bin/python benchmarks/client.py [--size-mib 100] [--layers 5] [--repeat 3]
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _common import CACHE, CHUNK, MIB, VENV_BIN, free_port, machine, parser, random_gzip_layer, table

TAG = "bench"
DOCKYARD = str(VENV_BIN / "dockyard")
REGISTRY = "docker-registry"


# -- the image --------------------------------------------------------------------------------------------


def _json_blob(blobs: Path, doc: object) -> tuple[str, int]:
    data = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def build_layout(dest: Path, layers: int, layer_mib: int) -> Path:
    """An OCI layout with one image of `layers` gzip layers of random bytes (cached across runs)."""
    if (dest / "index.json").exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    descs, diff_ids = [], []
    for n in range(layers):
        digest, size, diff_id = random_gzip_layer(blobs, layer_mib * MIB, seed=n)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
        diff_ids.append(diff_id)
    config = {"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
              "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cdigest, csize = _json_blob(blobs, config)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
                "layers": descs}
    mdigest, msize = _json_blob(blobs, manifest)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest, "size": msize,
        "annotations": {"org.opencontainers.image.ref.name": TAG}}]}
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (dest / "index.json").write_text(json.dumps(index))
    return dest


def blob_bytes(layout: Path) -> tuple[int, str]:
    """Total bytes of the image's blobs (config + layers), and its manifest digest."""
    index = json.loads((layout / "index.json").read_text())
    mdigest = index["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs" / "sha256" / mdigest.split(":")[1]).read_bytes())
    return manifest["config"]["size"] + sum(d["size"] for d in manifest["layers"]), mdigest


# -- the registry -----------------------------------------------------------------------------------------


@contextmanager
def cncf_registry(root: Path) -> Iterator[str]:
    """A fresh `docker-registry serve` with its storage under `root`; yields `127.0.0.1:PORT`."""
    import urllib.request

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    port = free_port()
    config = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
              "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
              "http": {"addr": f"127.0.0.1:{port}", "secret": "bench"}}
    (root / "config.yml").write_text(json.dumps(config))
    with open(root / "log", "wb") as log:
        proc = subprocess.Popen([REGISTRY, "serve", str(root / "config.yml")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"{REGISTRY} did not start: {(root / 'log').read_text()[-500:]}")
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


# -- measuring --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One timed subprocess: wall seconds and its peak resident set size."""

    seconds: float
    max_rss_mib: float


def timed(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run `argv` (output discarded), wall time and peak RSS from wait4; exit on failure."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"command failed ({proc.returncode}): {' '.join(argv)}\n{err.read().decode(errors='replace')}")
    return Run(elapsed, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def manifest_digest(host: str) -> str:
    import urllib.request

    req = urllib.request.Request(f"http://{host}/v2/bench/app/manifests/{TAG}", method="HEAD",
                                 headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(resp.headers["Docker-Content-Digest"])


def skopeo_round(layout: Path, work: Path, expected: str) -> dict[str, Run]:
    with cncf_registry(work / "registry") as host:
        ref = f"docker://{host}/bench/app:{TAG}"
        push = timed(["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:{TAG}",
                      ref])
        if manifest_digest(host) != expected:  # skopeo kept every blob and the manifest as they were
            sys.exit(f"skopeo pushed {manifest_digest(host)}, the layout holds {expected}")
        out = work / "skopeo-pulled"
        shutil.rmtree(out, ignore_errors=True)
        pull = timed(["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false", ref, f"oci:{out}:{TAG}"])
        shutil.rmtree(out, ignore_errors=True)
        return {"push": push, "pull": pull}


def ours_round(layout: Path, work: Path, expected: str) -> dict[str, Run]:
    with cncf_registry(work / "registry") as host:
        ref = f"{host}/bench/app:{TAG}"
        push = timed([DOCKYARD, "push", f"oci:{layout}:{TAG}", ref])
        if manifest_digest(host) != expected:
            sys.exit(f"dockyard pushed {manifest_digest(host)}, the layout holds {expected}")
        home = work / "home"
        shutil.rmtree(home, ignore_errors=True)
        pull = timed([DOCKYARD, "pull", ref], env={"DOCKYARD_HOME": str(home)})
        shutil.rmtree(home, ignore_errors=True)
        out = work / "ours-copied"
        shutil.rmtree(out, ignore_errors=True)
        copy = timed([DOCKYARD, "copy", ref, f"oci:{out}:{TAG}"])
        shutil.rmtree(out, ignore_errors=True)
        return {"push": push, "pull": pull, "copy": copy}


def _times(runs: list[Run]) -> str:
    return ", ".join(f"{r.seconds:.2f}" for r in runs)


def _skopeo_version() -> str:
    out = subprocess.run(["skopeo", "--version"], capture_output=True, text=True, check=False).stdout
    return out.split()[-1] if out else "?"


def main(argv: Sequence[str] | None = None) -> None:
    p = parser(__doc__.splitlines()[0], default_mib=100)
    p.add_argument("--layers", type=int, default=5, help="number of layers (default 5)")
    args = p.parse_args(argv)
    for tool in ("skopeo", REGISTRY):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install skopeo docker-registry)")
    layout = build_layout(CACHE / f"client-{args.layers}x{args.size_mib}m", args.layers, args.size_mib)
    total, mdigest = blob_bytes(layout)
    for blob in (layout / "blobs" / "sha256").iterdir():  # into the page cache, so no tool pays for a cold read
        with blob.open("rb") as f:
            while f.read(CHUNK):
                pass
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-client-", dir=os.environ.get("TMPDIR")))
    runs: dict[str, list[Run]] = {}
    try:
        for round_ in range(args.repeat):  # alternate who goes first, so background load hits both alike
            order = ("skopeo", "ours") if round_ % 2 == 0 else ("ours", "skopeo")
            for tool in order:
                got = skopeo_round(layout, work, mdigest) if tool == "skopeo" else ours_round(layout, work, mdigest)
                for kind, run in got.items():
                    runs.setdefault(f"{tool} {kind}", []).append(run)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def mbs(key: str) -> float:
        return total / 1e6 / statistics.median(r.seconds for r in runs[key])

    def rss(key: str) -> float:
        return max(r.max_rss_mib for r in runs[key])

    print(f"# client: {args.layers} x {args.size_mib} MiB random gzip layers, {total / MIB:.0f} MiB of blobs; "
          f"median of {args.repeat} alternating rounds, fresh registry storage each; distribution 2.8.2, "
          f"skopeo {_skopeo_version()}; {machine()}\n")
    rows = []
    pairs = [("push: oci layout -> registry", "skopeo push", "ours push", "dockyard push"),
             ("pull: registry -> local", "skopeo pull", "ours pull", "dockyard pull (into the store)"),
             ("pull: registry -> oci layout", "skopeo pull", "ours copy", "dockyard copy (to an OCI layout)")]
    verdict = True
    for name, theirs, ours, how in pairs:
        ratio = mbs(ours) / mbs(theirs)
        if ours != "ours copy":
            verdict = verdict and ratio >= 1.0
        rows.append((name, how, mbs(theirs), mbs(ours), ratio, rss(theirs), rss(ours), _times(runs[theirs]),
                     _times(runs[ours])))
    print(table(["direction", "ours", "skopeo MB/s", "ours MB/s", "ours/skopeo", "skopeo RSS MiB",
                 "ours RSS MiB", "skopeo runs s", "our runs s"], rows))
    print(f"\nbudget (ours at least 1.0x skopeo, push and pull): {'met' if verdict else 'NOT met'}")


if __name__ == "__main__":
    main()
