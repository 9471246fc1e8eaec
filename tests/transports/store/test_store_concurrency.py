"""The store under real concurrent processes: writers, a pruner and a reader; locked databases wait."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_testkit import MemoryBlobs, make_image

from dockyard.image.validate import validate
from dockyard.oci.digest import Digest
from dockyard.transports.store import Store, prune

HERE = Path(__file__).parent

WRITER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from store_testkit import MemoryBlobs, make_image
from dockyard.transports.store import Store
wid, n = int(sys.argv[2]), int(sys.argv[3])
src = MemoryBlobs()
base = b"a base layer every image shares " * 64
final = {}
with Store.open() as store:
    for i in range(n):
        # a dangling twin first (same layers, other config): the real image then reuses blobs that only a
        # dangling image keeps, exactly what a prune must not collect between the check and the record
        store.write(make_image(src, f"w{wid}-{i}", layers=2, layer_size=4000, created="2000-01-01T00:00:00Z"), [])
        img = make_image(src, f"w{wid}-{i}", layers=2, layer_size=4000, shared_layer=base)
        store.write(img, [f"w{wid}/app:{i}", f"w{wid}/app:latest"])
        final[f"w{wid}/app:{i}"] = final[f"w{wid}/app:latest"] = str(img.digest())
        if i:
            store.untag(f"w{wid}/app:{i - 1}")  # the previous image becomes dangling: prunable
            del final[f"w{wid}/app:{i - 1}"]
        if i % 3 == 0:
            store.tag(f"w{wid}/app:{i}", f"shared:w{wid}")
            final[f"shared:w{wid}"] = str(img.digest())
print(json.dumps(final))
"""

PRUNER = """
import sys, time
from pathlib import Path
from dockyard.transports.store import Store, prune
stop = Path(sys.argv[1])
runs = removed = 0
with Store.open() as store:
    while not stop.exists():
        report = prune(store, dry_run=runs % 5 == 4)
        runs += 1
        removed += 0 if report.dry_run else len(report.images)
        time.sleep(0.01)
print(runs, removed)
"""

READER = """
import sys
from pathlib import Path
from dockyard.image.validate import validate
from dockyard.transports.store import Store
stop = Path(sys.argv[1])
reads = 0
with Store.open() as store:
    while not stop.exists():
        validate(store.get("stable:1"))
        store.list()
        store.disk_usage()
        reads += 1
print(reads)
"""

HOLD_DB = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""

HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX if sys.argv[2] == "ex" else fcntl.LOCK_SH)
print("locked", flush=True)
time.sleep(float(sys.argv[3]))
"""


def spawn(code: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out


def wait_locked(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked", proc.stderr.read() if proc.stderr else ""


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open() as s:
        yield s


def test_store_concurrent_writers_pruner_and_reader(store: Store, tmp_path: Path) -> None:
    src = MemoryBlobs()
    store.write(make_image(src, "stable", layers=2, layer_size=20_000), ["stable:1"])
    stop = tmp_path / "stop"
    pruner = spawn(PRUNER, stop)
    reader = spawn(READER, stop)
    writers = [spawn(WRITER, HERE, wid, 16) for wid in range(4)]
    finals: dict[str, str] = {}
    for proc in writers:
        finals.update(json.loads(finish(proc)))
    stop.touch()
    runs, removed = map(int, finish(pruner).split())
    reads = int(finish(reader))
    assert runs >= 2 and reads >= 1
    assert removed > 0  # the pruner really raced the writers

    # every name points where its writer last put it, and every tagged image is intact
    assert len(finals) == 4 * 3
    for name, digest in finals.items():
        assert str(store.resolve(name).digest) == digest, name
        validate(store.get(name))
    validate(store.get("stable:1"))
    # no record lost a blob, and every blob file holds exactly the bytes its name says
    for row in store.meta.images():
        for blob in store.meta.blobs_of(row.digest):
            assert store.has_blob(blob), (row.digest, blob)
    for f in store.blobs.files():
        with store.open_blob(f.digest) as stream:
            assert Digest.of_stream(stream)[0] == f.digest
    assert list((store.root / "tmp").iterdir()) == []
    final = prune(store)
    assert store.disk_usage().reclaimable == 0
    assert {r.digest for r in store.list()} == {Digest.parse(d) for d in finals.values()} | {
        store.resolve("stable:1").digest}
    assert final.untagged == ()


def test_store_waits_for_a_locked_database(store: Store) -> None:
    src = MemoryBlobs()
    store.write(make_image(src, "a"), ["a:1"])
    holder = spawn(HOLD_DB, store.paths.db, 1.5)
    wait_locked(holder)
    start = time.monotonic()
    store.tag("a:1", "a:2")  # waits on SQLite's busy timeout instead of failing
    store.write(make_image(src, "b"), ["b:1"])
    assert time.monotonic() - start >= 1.0
    finish(holder)
    assert {r.tag for r in store.list()} == {"1", "2"}


def test_store_write_waits_for_a_prune_lock(store: Store) -> None:
    holder = spawn(HOLD_LOCK, store.paths.lock, "ex", 1.0)
    wait_locked(holder)
    start = time.monotonic()
    store.write(make_image(MemoryBlobs(), "w"), ["w:1"])
    assert time.monotonic() - start >= 0.8
    finish(holder)
    validate(store.get("w:1"))


def test_store_prune_waits_for_writers_and_rmi_defers_blob_removal(store: Store) -> None:
    src = MemoryBlobs()
    img = make_image(src, "r")
    store.write(img, ["r:1"])
    holder = spawn(HOLD_LOCK, store.paths.lock, "sh", 2.0)
    wait_locked(holder)
    result = store.remove("r:1")  # a writer is busy: the record goes now, the blobs later
    assert result.deleted == img.digest() and result.blobs_removed == 0
    assert store.has_blob(img.digest())
    start = time.monotonic()
    report = prune(store)
    assert time.monotonic() - start >= 0.3
    finish(holder)
    assert report.bytes_reclaimed == sum(len(v) for v in src.blobs.values())
    assert not store.has_blob(img.digest())
