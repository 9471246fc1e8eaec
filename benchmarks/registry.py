"""Registry server: `dockyard serve` against the CNCF registry 2.8.2 (`docker-registry`), side by side in one run.

Measured (DESIGN section 6 budgets in brackets):
- skopeo push and pull of one image of 5 layers x 100 MiB of random bytes [ours >= 1.0x CNCF MB/s, goal 1.2x];
- raw blob upload (POST, then PUT of the whole file) and download with curl, the same 5 blobs one after another
  [upload >= 2x, download >= 1.2x];
- peak RSS (VmHWM from /proc/PID/status) of each server while 20 curl uploads of 100 MiB run at once [ours < 200 MB].

Every measurement starts a fresh server on fresh storage; the two registries alternate which goes first in each
round. Both run with access logs off. MB/s is 10^6 bytes per second of blob bytes (config + layers).
Run: .venv/bin/python benchmarks/registry.py [--size-mib 100] [--layers 5] [--repeat 3] [--concurrency 20]
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
import signal
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _common import CACHE, MIB, VENV_BIN, free_port, machine, parser, random_gzip_layer, table

TAG = "bench"
DOCKYARD = str(VENV_BIN / "dockyard")
CNCF = "docker-registry"


# -- the image --------------------------------------------------------------------------------------------


def _json_blob(blobs: Path, doc: object) -> dict[str, object]:
    data = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


@dataclass(frozen=True)
class Bench:
    """The cached OCI layout and what it holds."""

    layout: Path
    manifest_digest: str
    layers: tuple[tuple[str, int], ...]  # (digest, size) of each layer blob
    total: int  # config + layer bytes

    def blob_file(self, digest: str) -> Path:
        return self.layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def build_image(layers: int, size_mib: int) -> Bench:
    """An OCI layout with `layers` random layers of `size_mib` MiB, cached under CACHE."""
    dest = CACHE / f"registry-{layers}x{size_mib}m"
    if not (dest / "index.json").exists():
        shutil.rmtree(dest, ignore_errors=True)
        blobs = dest / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        descs, diff_ids = [], []
        for n in range(layers):
            digest, size, diff_id = random_gzip_layer(blobs, size_mib * MIB, seed=n)
            descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
            diff_ids.append(diff_id)
        config = _json_blob(blobs, {"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
                                    "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids}})
        manifest = _json_blob(blobs, {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                                      "layers": descs})
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
             "annotations": {"org.opencontainers.image.ref.name": TAG}}]}
        (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        (dest / "index.json").write_text(json.dumps(index))
    entry = json.loads((dest / "index.json").read_text())["manifests"][0]
    manifest_doc = json.loads((dest / "blobs" / "sha256" / entry["digest"].split(":")[1]).read_bytes())
    layer_list = tuple((d["digest"], d["size"]) for d in manifest_doc["layers"])
    return Bench(dest, entry["digest"], layer_list, manifest_doc["config"]["size"] + sum(s for _, s in layer_list))


# -- the registries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A running registry process: `host` is `127.0.0.1:PORT`."""

    name: str
    host: str
    pid: int

    def vm(self, field: str) -> float:
        """A /proc/PID/status memory field (VmHWM, VmRSS) in MB (10^6 bytes)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / 1e6
        raise RuntimeError(f"{field} not in /proc/{self.pid}/status")


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"registry did not start: {log.read_text(errors='replace')[-800:]}")
            time.sleep(0.05)


@contextmanager
def registry(kind: str, root: Path) -> Iterator[Server]:
    """A fresh `dockyard serve` ("ours") or `docker-registry serve` ("cncf") on empty storage under `root`."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    port = free_port()
    if kind == "ours":
        (root / "registry.toml").write_text('access_log = "off"\n')
        argv = [DOCKYARD, "serve", "--port", str(port), "--data-dir", str(root / "data"),
                "--config", str(root / "registry.toml")]
    else:
        config = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
                  "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
                  "http": {"addr": f"127.0.0.1:{port}", "secret": "bench"}}
        (root / "config.yml").write_text(json.dumps(config))
        argv = [CNCF, "serve", str(root / "config.yml")]
    log = root / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(proc, f"http://127.0.0.1:{port}/v2/", log)
        yield Server(kind, f"127.0.0.1:{port}", proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


# -- the clients ------------------------------------------------------------------------------------------


def _run(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr[-2000:]}")
    return proc.stdout


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def skopeo_push(bench: Bench, server: Server) -> None:
    _run(["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{bench.layout}:{TAG}",
          f"docker://{server.host}/bench/app:{TAG}"])


def skopeo_pull(server: Server, dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    _run(["skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false",
          f"docker://{server.host}/bench/app:{TAG}", f"oci:{dest}:{TAG}"])


def served_digest(server: Server) -> str:
    request = urllib.request.Request(f"http://{server.host}/v2/bench/app/manifests/{TAG}", method="HEAD",
                                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.headers["Docker-Content-Digest"])


def curl_upload(server: Server, repo: str, digest: str, path: Path) -> None:
    """POST for a session, then PUT the whole file with `?digest=` (curl streams it; no `Expect: 100-continue`)."""
    head = _run(["curl", "-sS", "-f", "-X", "POST", "-D", "-", "-o", "/dev/null",
                 f"http://{server.host}/v2/{repo}/blobs/uploads/"])
    location = next(line.split(":", 1)[1].strip() for line in head.splitlines()
                    if line.lower().startswith("location:"))
    if location.startswith("/"):
        location = f"http://{server.host}{location}"
    joiner = "&" if "?" in location else "?"
    _run(["curl", "-sS", "-f", "-X", "PUT", "-T", str(path), "-H", "Expect:", "-H",
          "Content-Type: application/octet-stream", "-o", "/dev/null", f"{location}{joiner}digest={digest}"])


def curl_download(server: Server, repo: str, digest: str) -> None:
    _run(["curl", "-sS", "-f", "-o", "/dev/null", f"http://{server.host}/v2/{repo}/blobs/{digest}"])


# -- rounds -----------------------------------------------------------------------------------------------


def measure(kind: str, bench: Bench, work: Path) -> dict[str, float]:
    """MB/s of one fresh-storage round for one registry: skopeo push/pull, then curl upload/download."""
    out: dict[str, float] = {}
    with registry(kind, work / f"{kind}-skopeo") as server:
        out["skopeo push"] = bench.total / 1e6 / _timed(lambda: skopeo_push(bench, server))
        if served_digest(server) != bench.manifest_digest:
            sys.exit(f"{kind}: the pushed manifest digest changed")
        out["skopeo pull"] = bench.total / 1e6 / _timed(lambda: skopeo_pull(server, work / "pulled"))
        shutil.rmtree(work / "pulled", ignore_errors=True)
    layer_bytes = sum(size for _, size in bench.layers)
    with registry(kind, work / f"{kind}-curl") as server:
        def upload() -> None:
            for digest, _ in bench.layers:
                curl_upload(server, "raw/blobs", digest, bench.blob_file(digest))

        def download() -> None:
            for digest, _ in bench.layers:
                curl_download(server, "raw/blobs", digest)

        out["curl upload"] = layer_bytes / 1e6 / _timed(upload)
        out["curl download"] = layer_bytes / 1e6 / _timed(download)
    return out


def peak_rss(kind: str, bench: Bench, work: Path, concurrency: int) -> tuple[float, float, float]:
    """(idle RSS, peak RSS, seconds) of a fresh server while `concurrency` curl uploads run at once."""
    with registry(kind, work / f"{kind}-rss") as server:
        idle = server.vm("VmRSS")
        jobs = [(f"rss/repo-{i}", *bench.layers[i % len(bench.layers)]) for i in range(concurrency)]
        threads = [threading.Thread(target=curl_upload, args=(server, repo, d, bench.blob_file(d)))
                   for repo, d, _ in jobs]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        for repo, digest, _ in jobs:  # every upload landed
            request = urllib.request.Request(f"http://{server.host}/v2/{repo}/blobs/{digest}", method="HEAD")
            with urllib.request.urlopen(request, timeout=10):
                pass
        return idle, server.vm("VmHWM"), elapsed


def main() -> None:
    p = parser(__doc__.splitlines()[0], default_mib=100)
    p.add_argument("--layers", type=int, default=5, help="layers in the image (default 5)")
    p.add_argument("--concurrency", type=int, default=20, help="concurrent uploads for the RSS probe (default 20)")
    args = p.parse_args()
    for tool in ("skopeo", "curl", CNCF):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    bench = build_image(args.layers, args.size_mib)
    work = CACHE / "registry-work"
    print(f"# registry: {args.layers} x {args.size_mib} MiB random layers ({bench.total / 1e6:.0f} MB of blobs), "
          f"{args.repeat} rounds; {machine()}")
    results: dict[str, list[dict[str, float]]] = {"cncf": [], "ours": []}
    for round_no in range(args.repeat):
        order = ("cncf", "ours") if round_no % 2 == 0 else ("ours", "cncf")
        for kind in order:
            results[kind].append(measure(kind, bench, work))
            row = " ".join(f"{k} {v:.0f}" for k, v in results[kind][-1].items())
            print(f"  round {round_no + 1} {kind}: {row} MB/s", flush=True)
    budgets = {"skopeo push": 1.0, "skopeo pull": 1.0, "curl upload": 2.0, "curl download": 1.2}
    rows = []
    for what, budget in budgets.items():
        theirs = statistics.median(r[what] for r in results["cncf"])
        ours = statistics.median(r[what] for r in results["ours"])
        spread = " / ".join(f"{r[what]:.0f}" for r in results["ours"])
        rows.append([what, theirs, ours, spread, ours / theirs, f">= {budget}x", "met" if ours / theirs >= budget
                     else "NOT met"])
    print()
    print(table(["MB/s (median)", "CNCF 2.8.2", "dockyard", "dockyard runs", "ratio", "budget", "verdict"], rows))
    rss_rows = []
    for kind in ("cncf", "ours"):
        idle, peak, seconds = peak_rss(kind, bench, work, args.concurrency)
        total = sum(bench.layers[i % len(bench.layers)][1] for i in range(args.concurrency))
        rss_rows.append(["dockyard" if kind == "ours" else "CNCF 2.8.2", idle, peak, total / 1e6 / seconds])
    print()
    print(table([f"{args.concurrency} concurrent uploads", "idle RSS MB", "peak RSS MB (VmHWM)", "MB/s"], rss_rows))
    ours_peak = rss_rows[1][2]
    print(f"\npeak RSS budget (< 200 MB): {'met' if isinstance(ours_peak, float) and ours_peak < 200 else 'NOT met'}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
