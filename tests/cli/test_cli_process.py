"""The installed `dockyard` console script end to end: real exit codes, clean stderr, --debug tracebacks."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from cli_testkit import Cli, assert_one_error, store_state, subprocess_dockyard


def test_happy_path_in_a_real_process(rootfs, tmp_path: Path) -> None:
    done = subprocess_dockyard("import", rootfs.dir, "-t", "busybox:1.0", "-c", "CMD /bin/sh", "-o", "json")
    assert done.code == 0 and done.err == ""
    digest = done.json()["digest"]  # type: ignore[index]
    saved = subprocess_dockyard("save", "busybox:1.0", "-o", tmp_path / "b.tar")
    assert saved.code == 0 and saved.err == ""
    listed = subprocess_dockyard("images", "-q")
    assert (listed.code, listed.text, listed.err) == (0, f"{digest[7:19]}\n", "")


def test_exit_codes_and_one_line_errors(cli: Cli, busybox: str, tmp_path: Path) -> None:
    cli.ok("tag", "busybox:1.0", "busybox:2.0")
    cli.ok("save", "busybox:1.0", "-o", tmp_path / "b.tar")
    half = tmp_path / "half.tar"
    half.write_bytes((tmp_path / "b.tar").read_bytes()[:600_000])
    before = store_state(cli)
    cases = [
        (2, ["images", "--output", "xml"]),
        (2, ["inspect", "UPPER/Case:tag"]),
        (3, ["inspect", "nothere:1"]),
        (4, ["load", "-i", str(half)]),
        (5, ["copy", "dir:/tmp/image", "x:1"]),
        (6, ["rmi", busybox[7:19]]),
    ]
    for code, args in cases:
        assert_one_error(subprocess_dockyard(*args), code)
    assert store_state(cli) == before


def test_decompression_bomb_is_bounded(cli: Cli, busybox: str, tmp_path: Path) -> None:
    """20 MB of zeros in a 20 kB gzip: refused once past DOCKYARD_MAX_LAYER, before anything is stored."""
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tf:
        info = tarfile.TarInfo("zeros")
        info.size = 20_000_000
        tf.addfile(info, io.BytesIO(bytes(info.size)))
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(gzip.compress(payload.getvalue(), 9))
    assert bomb.stat().st_size < 100_000
    before = store_state(cli)
    result = subprocess_dockyard("import", bomb, "-t", "bomb:1", env={"DOCKYARD_MAX_LAYER": "1000000"})
    assert_one_error(result, 4, "limit")
    assert store_state(cli) == before


def test_debug_shows_the_traceback() -> None:
    plain = subprocess_dockyard("inspect", "nothere:1")
    assert_one_error(plain, 3)
    debug = subprocess_dockyard("--debug", "inspect", "nothere:1")
    assert debug.code == 3
    assert "Traceback" in debug.err and "ManifestUnknown" in debug.err
    assert debug.err.strip().splitlines()[-1].startswith("dockyard: error: no image nothere:1")
    from_env = subprocess_dockyard("inspect", "nothere:1", env={"DOCKYARD_DEBUG": "1"})
    assert "Traceback" in from_env.err


def test_help_and_no_arguments() -> None:
    shown = subprocess_dockyard("--help")
    assert shown.code == 0 and "import" in shown.text and "copy" in shown.text
    bare = subprocess_dockyard()
    assert bare.code in (0, 2) and "Usage" in bare.text + bare.err
    assert "Traceback" not in bare.err
