"""A tiny busybox root filesystem for builder tests (Debian's busybox-static, with passwd and group files)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "cat", "echo", "id", "ls", "mkdir", "wc", "pwd", "env", "true", "sleep", "touch", "seq")


def make_rootfs(root: Path) -> Path:
    """Write the rootfs under `root` (created) and return it."""
    (root / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    for name in APPLETS:
        os.symlink("busybox", root / "bin" / name)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\napp:x:1001:\nstaff:x:50:\n")
    (root / "tmp").mkdir(mode=0o1777)
    os.chmod(root / "tmp", 0o1777)
    return root
