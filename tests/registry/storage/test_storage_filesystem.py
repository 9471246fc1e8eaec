"""Filesystem-driver specifics: crash safety, the on-disk layout, locks across processes, fsync, sendfile paths."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import stat
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import Conflict, NotFound
from dockyard.registry.storage import CheckedDriver, FilesystemDriver, InMemoryDriver, LocalFiles
from dockyard.registry.storage.filesystem import UPLOADS

_WRITE_FOREVER = """
import sys, time
from pathlib import Path
from dockyard.registry.storage import FilesystemDriver
driver = FilesystemDriver(Path(sys.argv[1]))
writer = driver.writer("/repo/_uploads/u1/data", append=len(sys.argv) > 2)
chunk = bytes(range(256)) * 4096
for i in range(64):
    writer.write(chunk)
    if i == 2:
        print("ready", flush=True)
time.sleep(60)
"""

_PUT_FOREVER = """
import sys
from pathlib import Path
from dockyard.registry.storage import FilesystemDriver
driver = FilesystemDriver(Path(sys.argv[1]))
versions = [b"a" * (3 << 20), b"b" * (2 << 20)]
for i in range(100000):
    driver.put_content("/repo/_manifests/tags/latest/current/link", versions[i % 2])
    if i == 3:
        print("ready", flush=True)
"""


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert proc.stdout is not None
    proc.stdout.close()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_storage_abandoned_writer_leaves_nothing_visible(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    writer = driver.writer("/blobs/data")
    writer.write(b"x" * 100_000)
    with warnings.catch_warnings():  # neither committed nor closed, as if the request died
        warnings.simplefilter("ignore", ResourceWarning)
        del writer
        gc.collect()
    with pytest.raises(NotFound):
        driver.stat("/blobs/data")
    assert driver.list("/") == []
    assert not (tmp_path / "blobs").exists()


def test_storage_sigkill_mid_write_is_invisible_and_resumable(tmp_path: Path) -> None:
    proc = _start(_WRITE_FOREVER, str(tmp_path))
    try:
        with pytest.raises(Conflict):  # the live process holds the upload's lock
            FilesystemDriver(tmp_path).writer("/repo/_uploads/u1/data", append=True)
    finally:
        _kill(proc)
    driver = FilesystemDriver(tmp_path)  # a "restarted" registry
    for path in ("/repo/_uploads/u1/data", "/repo"):
        with pytest.raises(NotFound):
            driver.stat(path)
    assert driver.list("/") == []
    writer = driver.writer("/repo/_uploads/u1/data", append=True)  # the kernel dropped the dead writer's lock
    assert writer.size >= 3 << 20
    assert writer.size % (1 << 20) == 0
    writer.cancel()
    assert _files(tmp_path) == []


def test_storage_resume_in_a_new_process(tmp_path: Path) -> None:
    _kill(_start(_WRITE_FOREVER, str(tmp_path)))
    probe = FilesystemDriver(tmp_path).writer("/repo/_uploads/u1/data", append=True)
    first = probe.size
    probe.close()
    _kill(_start(_WRITE_FOREVER, str(tmp_path), "append"))
    writer = FilesystemDriver(tmp_path).writer("/repo/_uploads/u1/data", append=True)
    assert writer.size > first
    writer.commit()
    assert FilesystemDriver(tmp_path).stat("/repo/_uploads/u1/data").size == writer.size


def test_storage_sigkill_mid_put_content_keeps_a_whole_version(tmp_path: Path) -> None:
    _kill(_start(_PUT_FOREVER, str(tmp_path)))
    driver = FilesystemDriver(tmp_path)
    content = driver.get_content("/repo/_manifests/tags/latest/current/link")
    assert content in (b"a" * (3 << 20), b"b" * (2 << 20))
    assert driver.list("/repo/_manifests/tags/latest/current") == ["/repo/_manifests/tags/latest/current/link"]


def test_storage_temp_files_never_listed(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    writer = driver.writer("/a/pending")
    writer.write(b"x")
    driver.put_content("/a/done", b"y")
    (tmp_path / UPLOADS / ".put-stray").write_bytes(b"left by a crash")
    (tmp_path / "a" / ".editor-swap").write_bytes(b"hidden")
    assert driver.list("/") == ["/a"]
    assert driver.list("/a") == ["/a/done"]
    writer.close()


def test_storage_layout_on_disk(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    driver.put_content("/v2/blobs/sha256/ab/abcd/data", b"blob")
    writer = driver.writer("/v2/repo/_uploads/u1/data")
    writer.write(b"part")
    writer.close()
    assert (tmp_path / "v2/blobs/sha256/ab/abcd/data").read_bytes() == b"blob"
    assert (tmp_path / UPLOADS / "v2/repo/_uploads/u1/data").read_bytes() == b"part"
    driver.delete("/v2/repo")
    assert _files(tmp_path) == ["v2/blobs/sha256/ab/abcd/data"]


def test_storage_commit_fsyncs_file_and_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    driver = FilesystemDriver(tmp_path)
    kinds: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        kinds.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    writer = driver.writer("/x/data")
    writer.write(b"abc")
    writer.commit()
    assert kinds == ["file", "dir"]
    kinds.clear()
    driver.put_content("/x/link", b"sha256:...")
    assert kinds == ["file", "dir"]


def test_storage_local_path_for_sendfile(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    driver.put_content("/blobs/data", b"bytes")
    assert isinstance(driver, LocalFiles)
    assert driver.local_path("/blobs/data") == tmp_path / "blobs/data"
    checked = CheckedDriver(driver)
    assert checked.local_path("/blobs/data") == tmp_path / "blobs/data"
    for path in ("/missing", "/blobs"):
        with pytest.raises(NotFound):
            driver.local_path(path)
    assert driver.redirect_url("/blobs/data", "GET") is None
    assert CheckedDriver(InMemoryDriver()).local_path("/blobs/data") is None


def test_storage_file_where_directory_is_needed(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    driver.put_content("/a", b"file")
    with pytest.raises(Conflict):
        driver.put_content("/a/b", b"x")
    driver.put_content("/d/e", b"x")
    with pytest.raises(Conflict):
        driver.put_content("/d", b"x")
    assert driver.get_content("/a") == b"file"


def test_storage_commits_race_deletes_that_prune_parents(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    errors: list[BaseException] = []

    def churn(name: str) -> None:  # put + delete: every delete prunes /x/y and maybe /x
        for _ in range(150):
            driver.put_content(f"/x/y/{name}", b"data")
            driver.delete(f"/x/y/{name}")

    def upload(name: str) -> None:  # commits into /x/z while `reap` deletes the whole tree
        for _ in range(150):
            writer = driver.writer(f"/x/z/{name}/data")
            writer.write(b"data")
            with contextlib.suppress(NotFound):  # reaped before commit: expected
                writer.commit()

    def reap(name: str) -> None:
        for _ in range(150):
            with contextlib.suppress(NotFound):
                driver.delete("/x/z")

    def guard(work: Callable[[str], None], name: str) -> None:
        try:
            work(name)
        except BaseException as exc:  # report in the main thread
            errors.append(exc)

    work = [(churn, f"f{i}") for i in range(4)] + [(upload, f"u{i}") for i in range(3)] + [(reap, "")]
    threads = [threading.Thread(target=guard, args=item) for item in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with contextlib.suppress(NotFound):
        driver.delete("/x/z")
    assert driver.list("/") == []
    assert _files(tmp_path) == []
