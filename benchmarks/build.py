"""`dockyard build` vs `buildah bud --isolation chroot --layers` on the same Dockerfile and context, side by side.

The context holds --size-mib of this machine's files (in a dir) plus five small files; the 10-step Dockerfile
starts from a busybox image made here (an OCI layout both tools read as `FROM oci:DIR:tag`), copies the small
files one step each, runs two RUN steps and copies the big dir. Three measurements, both as CLIs (start-up
included), median of --repeat runs:
  cold         empty cache/storage (a fresh DOCKYARD_HOME, a fresh buildah --root with the vfs driver)
  warm         the same build again, nothing changed (budget: under 1 s)
  one-changed  one small copied file changed (only the steps from it on are rebuilt)
  from-cache   an empty store/storage that imports the cache a cold build exported to a real CNCF registry
               (dockyard --cache-to REF,mode=max / --cache-from REF; buildah --cache-to / --cache-from REPO)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in (_HERE, "")]
sys.path.insert(0, _HERE)
from _common import ROOT, VENV_BIN, machine, machine_files, parser, table  # noqa: E402

DOCKERFILE = """\
FROM oci:{layout}:base
ENV APP=/app
WORKDIR /app
COPY f0.txt .
COPY f1.txt .
RUN echo built > /built
COPY f2.txt .
COPY f3.txt .
COPY big/ ./big/
RUN ls -R /app/big | wc -l > /count
"""


def make_context(base: Path, size: int) -> tuple[Path, Path]:
    sys.path.insert(0, str(ROOT / "src"))
    from dockyard.testing.busybox import make_rootfs
    from dockyard.transports.resolve import write_location
    from dockyard.transports.rootfs import imported

    layout = base / "layout"
    with imported(make_rootfs(base / "rootfs")) as image:
        write_location(f"oci:{layout}:base", image)
    ctx = base / "ctx"
    big = ctx / "big"
    big.mkdir(parents=True)
    total = 0
    for n, path in enumerate(machine_files()):
        if total >= size:
            break
        try:
            shutil.copyfile(path, big / f"{n:06d}-{path.name}")
            total += path.stat().st_size
        except OSError:
            continue
    for n in range(4):
        (ctx / f"f{n}.txt").write_text(f"file {n}\n")
    (ctx / "Dockerfile").write_text(DOCKERFILE.format(layout=layout))
    return ctx, layout


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{proc.stderr.decode()}")
    return time.perf_counter() - start


def measure(ctx: Path, repeat: int, prepare: Callable[[], list[str]], env: dict[str, str]) -> list[float]:
    colds, warms, changed = [], [], []
    for i in range(repeat):
        argv = prepare()
        (ctx / "f3.txt").write_text("file 3\n")
        colds.append(timed(argv, env))
        warms.append(timed(argv, env))
        (ctx / "f3.txt").write_text(f"changed {i}\n")
        changed.append(timed(argv, env))
    return [sorted(v)[len(v) // 2] for v in (colds, warms, changed)]


def from_cache(ctx: Path, repeat: int, export: Callable[[], list[str]], fresh: Callable[[], list[str]],
               env: dict[str, str]) -> float:
    """Median time of a build on an empty store that imports the cache a cold build just exported."""
    times = []
    for _ in range(repeat):
        (ctx / "f3.txt").write_text("file 3\n")
        timed(export(), env)
        times.append(timed(fresh(), env))
    return sorted(times)[len(times) // 2]


def main() -> None:
    args = parser("dockyard build vs buildah bud", 100).parse_args()
    buildah = shutil.which("buildah")
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-build-"))
    try:
        ctx, _layout = make_context(work, args.size_mib << 20)
        env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}

        def dockyard(*extra: str) -> list[str]:
            home = work / "home"
            shutil.rmtree(home, ignore_errors=True)
            env["DOCKYARD_HOME"] = str(home)
            return [str(VENV_BIN / "dockyard"), "build", "--progress", "quiet", "-t", "bench:1", *extra, str(ctx)]

        def theirs(*extra: str) -> list[str]:
            assert buildah is not None
            for d in ("bstore", "brun"):
                subprocess.run(["rm", "-rf", str(work / d)], check=False)
            return [buildah, "--root", str(work / "bstore"), "--runroot", str(work / "brun"), "--storage-driver",
                    "vfs", "bud", "--isolation", "chroot", "--layers", "-q", "--tls-verify=false", *extra,
                    "-t", "bench:1", str(ctx)]

        rows: list[list[object]] = [["dockyard", *measure(ctx, args.repeat, dockyard, env)]]
        if buildah:
            rows.append(["buildah", *measure(ctx, args.repeat, theirs, env)])
        from dockyard.testing.cncf import cncf_registry

        with cncf_registry(work / "registry") as reg:
            ours, bah = reg.ref("bench/dockyard-cache"), reg.ref("bench/buildah-cache")
            rows[0].append(from_cache(ctx, args.repeat, lambda: dockyard("--cache-to", f"{ours}:c,mode=max"),
                                      lambda: dockyard("--cache-from", f"{ours}:c"), env))
            if buildah:
                rows[1].append(from_cache(ctx, args.repeat, lambda: theirs("--cache-to", bah),
                                          lambda: theirs("--cache-from", bah), env))
        print(machine())
        print(f"context: {args.size_mib} MiB of machine files + 4 small files; 10-step Dockerfile, 2 RUN steps")
        print(table(["builder", "cold s", "warm s", "one-changed s", "from-cache s"], rows))
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
