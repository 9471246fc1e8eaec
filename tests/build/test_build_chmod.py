"""`--chmod` modes: octal and GNU-chmod symbolic forms, checked against the real `chmod` (coreutils) on real
files and directories, and applied by COPY to each source file's own mode."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.build.chmod import Chmod
from dockyard.build.executor import build
from dockyard.build.options import BuildRequest
from dockyard.build.progress import Progress, ProgressMode
from dockyard.errors import InvalidArgument

MODES = ["0755", "644", "4755", "+x", "u+x", "a=r", "u=rwx,go=rx", "go-w", "a-w,u+s", "g=u", "o=g", "+X",
         "u=rw,g=r,o=", "a+t", "ug+s", "=r", "u-x+w", "g+X", "o=u,u-x", "a=", "u=rwxs,g=rxs,o=t"]
STARTS = [0o644, 0o755, 0o600, 0o700, 0o4755, 0o2775, 0o1777, 0o000, 0o640]


@pytest.mark.parametrize("text", MODES)
def test_build_chmod_matches_coreutils(tmp_path: Path, text: str) -> None:
    parsed = Chmod.parse(text)
    # an octal mode is set exactly (BuildKit), where GNU chmod keeps a directory's set-id bits
    for is_dir in (False,) if parsed.octal is not None else (False, True):
        for start in STARTS:
            path = tmp_path / f"{'d' if is_dir else 'f'}{start:o}"
            if is_dir:
                path.mkdir()
            else:
                path.touch()
            os.chmod(path, start)
            subprocess.run(["sh", "-c", 'umask 0 && chmod -- "$0" "$1"', text, str(path)], check=True)
            want = stat.S_IMODE(os.lstat(path).st_mode)
            assert parsed.apply(start, is_dir) == want, (text, oct(start), is_dir)
            os.chmod(path, 0o700)
            (path.rmdir if is_dir else path.unlink)()


@pytest.mark.parametrize("bad", ["", "u+q", "9755", "17777", "u=rwx,", "ux", "rwx"])
def test_build_chmod_rejects(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        Chmod.parse(bad)


def test_build_chmod_symbolic_in_copy(tmp_path: Path, busybox_base: str, image_tree: Callable[[str], Path]) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "bin").mkdir(parents=True)
    (ctx / "bin" / "tool").write_text("#!/bin/sh\n")
    os.chmod(ctx / "bin" / "tool", 0o700)
    (ctx / "bin" / "data").write_text("x\n")
    os.chmod(ctx / "bin" / "data", 0o600)
    (ctx / "Dockerfile").write_text(f"FROM {busybox_base}\nCOPY --chmod=go+rX bin/ /opt/bin/\n")
    build(BuildRequest(context=ctx, tags=("chmod:1",)), Progress(ProgressMode.QUIET))
    tree = image_tree("chmod:1")
    assert stat.S_IMODE(os.lstat(tree / "opt/bin/tool").st_mode) == 0o755
    assert stat.S_IMODE(os.lstat(tree / "opt/bin/data").st_mode) == 0o644
