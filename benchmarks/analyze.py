"""`dockyard analyze --ci` vs `CI=true dive --source docker-archive` on the same docker-archives, side by side.

Images (built once, cached under $DOCKYARD_BENCH_CACHE, default /tmp/dockyard-bench):
  big      about 300 MiB in 5 uncompressed layers of this machine's files (as `docker save` writes them); the
           last two layers overwrite 200 files and delete a directory
  files50k 50,000 small files (100-2,000 bytes) in 500 directories, plus a layer rewriting 1,000 of them
  del50k   the same 50,000 files, then a layer deleting 20 directories (dive re-stacks its tree per whiteout)
Both tools run as CLIs (start-up included), interleaved, median of --repeat runs; peak RSS from wait4. The
"library call" column times `analyze(open_image(...))` alone in a fresh interpreter (no CLI start-up).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# benchmarks/copy.py shadows the stdlib `copy` that tarfile imports: load tarfile with the script dir off the path.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
import tarfile  # noqa: E402

sys.path.insert(0, _HERE)
from _common import CACHE, MIB, VENV_BIN, machine_files, write_sample_tar  # noqa: E402

from dockyard.image.empty import EmptyImage  # noqa: E402
from dockyard.layers.filelayer import FileLayer  # noqa: E402
from dockyard.layers.members import Member, write_members  # noqa: E402
from dockyard.mutate.image import Addendum, append  # noqa: E402
from dockyard.oci.config import History  # noqa: E402
from dockyard.testing.peers import find_tool  # noqa: E402
from dockyard.transports import archive  # noqa: E402


def _save(dest: Path, layer_files: Sequence[Path]) -> Path:
    adds = [Addendum(FileLayer.from_blob(p), History(created_by=f"/bin/sh -c step {i}"))
            for i, p in enumerate(layer_files)]
    archive.write(dest, [(append(EmptyImage(), *adds), [f"bench-{dest.stem}:1"])])
    return dest


def _members_tar(dest: Path, members: list[Member]) -> Path:
    with open(dest, "wb") as f:
        write_members(members, f)
    return dest


def big_image() -> Path:
    dest = CACHE / "analyze-big.tar"
    if dest.exists():
        return dest
    work = CACHE / "analyze-big"
    work.mkdir(parents=True, exist_ok=True)
    files = machine_files()
    layers = [write_sample_tar(work / f"l{i}.tar", 90 * MIB, files, seed=i) for i in range(3)]
    with tarfile.open(layers[0]) as tar:
        names = [m for m in tar.getmembers() if m.isreg()][:200]
        dirs = sorted({m.name.rsplit("/", 1)[0] for m in tar.getmembers() if m.name.count("/") >= 3})
        top = dirs[len(dirs) // 2 : len(dirs) // 2 + 1]  # one directory, three levels down
    rnd = random.Random(7)
    rewrite = [Member.file(m.name, rnd.randbytes(m.size), mode=0o755) for m in names]
    layers.append(_members_tar(work / "l3.tar", rewrite))
    layers.append(_members_tar(work / "l4.tar", [Member.whiteout(t) for t in top] + [Member.file("marker", b"x")]))
    return _save(dest, layers)


def _small_files() -> list[Member]:
    rnd = random.Random(0)
    members = [Member.dir("usr"), Member.dir("usr/share")]
    for d in range(500):
        members.append(Member.dir(f"usr/share/pkg{d:03d}"))
        members.extend(Member.file(f"usr/share/pkg{d:03d}/file{f:03d}.txt", rnd.randbytes(rnd.randint(100, 2000)))
                       for f in range(100))
    return members


def files_image(name: str, deletions: bool) -> Path:
    dest = CACHE / f"analyze-{name}.tar"
    if dest.exists():
        return dest
    work = CACHE / f"analyze-{name}"
    work.mkdir(parents=True, exist_ok=True)
    first = _members_tar(work / "l0.tar", _small_files())
    if deletions:
        second = [Member.dir("usr"), Member.dir("usr/share"), *(Member.whiteout(f"usr/share/pkg{d:03d}")
                                                               for d in range(0, 500, 25))]
    else:
        second = [Member.dir("usr"), Member.dir("usr/share"),
                  *(Member.file(f"usr/share/pkg{d:03d}/file{f:03d}.txt", b"y" * 500)
                    for d in range(10) for f in range(100))]
    return _save(dest, [first, _members_tar(work / "l1.tar", second)])


def _timed(argv: Sequence[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run; the exit status is the gate's verdict, not an error."""
    env = {**os.environ, "CI": "true"}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1) or "error" in err.lower():
        sys.exit(f"{argv[0]} failed ({proc.returncode}): {err}")
    return elapsed, usage.ru_maxrss


def _library(image: Path) -> tuple[float, int]:
    """The library call alone (no CLI start-up), in a fresh interpreter: `analyze(open_image(...))`."""
    code = ("import time; from dockyard.transports.resolve import open_image; from dockyard.analyze import analyze;"
            f"s = time.perf_counter(); analyze(open_image('docker-archive:{image}'));"
            "print(time.perf_counter() - s)")
    proc = subprocess.run([str(VENV_BIN / "python"), "-c", code], capture_output=True, text=True, check=True)
    return float(proc.stdout), 0


def compare(label: str, image: Path, repeat: int, dive: str) -> tuple[str, float, float, float, int, int]:
    ours = [str(VENV_BIN / "dockyard"), "analyze", f"docker-archive:{image}", "--ci"]
    theirs = [dive, "--source", "docker-archive", str(image)]
    runs: dict[str, list[tuple[float, int]]] = {"ours": [], "dive": [], "lib": []}
    for _ in range(repeat):  # interleaved, so background load hits both alike
        runs["dive"].append(_timed(theirs))
        runs["ours"].append(_timed(ours))
        runs["lib"].append(_library(image))
    med: Callable[[str], float] = lambda k: statistics.median(t for t, _ in runs[k])  # noqa: E731
    rss: Callable[[str], int] = lambda k: max(r for _, r in runs[k])  # noqa: E731
    return label, med("ours"), med("lib"), med("dive"), rss("ours"), rss("dive")


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5, help="runs per tool and image; the median is reported")
    p.add_argument("--only", action="append", choices=["big", "files50k", "del50k"],
                   help="benchmark only this image (repeatable)")
    args = p.parse_args()
    dive = find_tool("dive")
    if dive is None:
        sys.exit("dive is not installed (`make tools`)")
    builders: dict[str, tuple[str, Callable[[], Path]]] = {
        "big": ("big (~300 MiB, 5 layers)", big_image),
        "files50k": ("files50k (50,000 files)", lambda: files_image("files50k", False)),
        "del50k": ("del50k (50,000 files, 20 dir deletions)", lambda: files_image("del50k", True)),
    }
    images = [(label, build()) for name, (label, build) in builders.items() if not args.only or name in args.only]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| image | size | dive s | dockyard CLI s | ratio | library call s | ratio | dockyard RSS MiB "
          "| dive RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, image in images:
        name, ours, lib, theirs, rss_ours, rss_dive = compare(label, image, args.repeat, dive)
        print(f"| {name} | {image.stat().st_size / MIB:.0f} MiB | {theirs:.3f} | {ours:.3f} | {ours / theirs:.2f}x | "
              f"{lib:.3f} | {lib / theirs:.2f}x | {rss_ours / 1024:.0f} | {rss_dive / 1024:.0f} |", flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
