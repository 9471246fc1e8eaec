"""Extraction through symlinks already in the tree: resolved inside the root (moby's FollowSymlinkInScope), never out.

GNU tar is the peer for the benign cases (relative links that stay inside): it follows existing directory links
for an entry's parents and replaces a link with a directory for a directory entry, as docker and containerd do.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from layers_testkit import hostile, tar_bytes

from dockyard.errors import InvalidLayer, UnsafePath
from dockyard.layers.extract import extract_layers, extract_tar
from dockyard.layers.members import Member, write_members
from dockyard.layers.safedir import MAX_SYMLINKS
from dockyard.testing.peers import require_tool

USRMERGE = [Member.dir("usr"), Member.dir("usr/lib"), Member.file("usr/lib/libc.so", b"libc"),
            Member.symlink("lib", "usr/lib"), Member.symlink("lib64", "/usr/lib")]


def test_usrmerge_layer_writes_through_the_lib_link(tmp_path: Path) -> None:
    upper = [Member.dir("lib/x86_64-linux-gnu", mode=0o750), Member.file("lib/x86_64-linux-gnu/libfoo.so", b"foo"),
             Member.file("lib64/ld.so", b"ld"), Member.hardlink("hl", "lib/libc.so")]
    out = tmp_path / "out"
    extract_layers([tar_bytes(USRMERGE), tar_bytes(upper)], out)
    assert os.readlink(out / "lib") == "usr/lib" and os.readlink(out / "lib64") == "/usr/lib"
    assert (out / "usr/lib/x86_64-linux-gnu/libfoo.so").read_bytes() == b"foo"
    assert (out / "usr/lib/ld.so").read_bytes() == b"ld"  # an absolute link resolves from the root
    assert stat.S_IMODE((out / "usr/lib/x86_64-linux-gnu").stat().st_mode) == 0o750  # deferred dir metadata too
    assert os.stat(out / "hl").st_ino == os.stat(out / "usr/lib/libc.so").st_ino
    assert sorted(p.name for p in out.iterdir()) == ["hl", "lib", "lib64", "usr"]


def test_absolute_link_to_etc_lands_in_the_roots_etc(tmp_path: Path) -> None:
    host = Path("/etc/passwd")
    before = (host.stat().st_mtime_ns, host.read_bytes())
    out = tmp_path / "out"
    extract_layers([hostile(("a", tarfile.SYMTYPE, "/etc"), ("a/passwd", tarfile.REGTYPE, "", b"root::0:0::/:/x\n")),
                    tar_bytes([Member.file("a/shadow", b"s")])], out)
    assert (out / "etc" / "passwd").read_bytes() == b"root::0:0::/:/x\n"
    assert (out / "etc" / "shadow").read_bytes() == b"s"
    assert (host.stat().st_mtime_ns, host.read_bytes()) == before
    assert not Path("/etc/shadow-dockyard-test").exists()
    extract_layers([tar_bytes([Member.whiteout("a/passwd")])], out)  # a whiteout through the link: the root's file
    assert not (out / "etc" / "passwd").exists() and host.exists()


@pytest.mark.parametrize("target", ["../../..", "../" * 40, "/..", "/../../x/..", "sub/../../.."])
def test_dotdot_links_clamp_at_the_root(tmp_path: Path, target: str) -> None:
    out = tmp_path / "deep" / "out"
    extract_tar(hostile(("sub", tarfile.DIRTYPE, ""), ("a", tarfile.SYMTYPE, target),
                        ("a/escaped", tarfile.REGTYPE, "", b"x")), out)
    assert (out / "escaped").read_bytes() == b"x"
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "deep" / "escaped").exists()


def test_link_chain_through_absolute_and_relative_hops(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    out = tmp_path / "out"
    extract_tar(hostile(("d", tarfile.DIRTYPE, ""), ("d/one", tarfile.SYMTYPE, "../two"),
                        ("two", tarfile.SYMTYPE, str(victim)), ("three", tarfile.SYMTYPE, "d/one/" + "../" * 50),
                        ("d/one/file", tarfile.REGTYPE, "", b"1"), ("three/file", tarfile.REGTYPE, "", b"3")), out)
    assert list(victim.iterdir()) == []
    inside = out / str(victim).lstrip("/")
    assert (inside / "file").read_bytes() == b"1"
    # three -> d/one/../../..(50 times): d/one resolves to <root><victim>, then `..` climbs it and stops at the root
    assert (out / "file").read_bytes() == b"3"


@pytest.mark.parametrize("links", [(("a", "b"), ("b", "a")), (("a", "a"),), (("a", "/a"),),
                                   (("a", "b/x"), ("b", "a/y"))])
def test_symlink_loops_give_a_clear_error(tmp_path: Path, links: tuple[tuple[str, str], ...]) -> None:
    entries = [(name, tarfile.SYMTYPE, target) for name, target in links]
    with pytest.raises(InvalidLayer, match="too many levels of symbolic links resolving 'a'"):
        extract_tar(hostile(*entries, ("a/file", tarfile.REGTYPE, "", b"x")), tmp_path / "out")


def test_long_chain_under_the_limit_resolves(tmp_path: Path) -> None:
    chain = [(f"l{n}", tarfile.SYMTYPE, f"l{n + 1}") for n in range(MAX_SYMLINKS - 1)]
    out = tmp_path / "out"
    extract_tar(hostile(("real", tarfile.DIRTYPE, ""), *chain, (f"l{MAX_SYMLINKS - 1}", tarfile.SYMTYPE, "real"),
                        ("l0/f", tarfile.REGTYPE, "", b"deep")), out)
    assert (out / "real" / "f").read_bytes() == b"deep"
    with pytest.raises(InvalidLayer, match="too many levels"):
        extract_tar(hostile(("x", tarfile.SYMTYPE, "l0"), ("x/g", tarfile.REGTYPE, "", b"")), out)


def test_link_replaced_by_a_directory_in_a_later_layer(tmp_path: Path) -> None:
    lower = [Member.dir("t"), Member.file("t/old", b"old"), Member.symlink("d", "t")]
    upper = [Member.dir("d"), Member.file("d/new", b"new")]
    out = tmp_path / "out"
    extract_layers([tar_bytes(lower), tar_bytes(upper)], out)
    assert (out / "d").is_dir() and not (out / "d").is_symlink()
    assert sorted(p.name for p in (out / "d").iterdir()) == ["new"]
    assert sorted(p.name for p in (out / "t").iterdir()) == ["old"]


def test_link_replaced_within_one_layer_is_not_resolved_from_a_stale_cache(tmp_path: Path) -> None:
    out = tmp_path / "out"
    extract_tar(hostile(("p", tarfile.DIRTYPE, ""), ("p/f1", tarfile.REGTYPE, "", b"1"), ("q", tarfile.DIRTYPE, ""),
                        ("p", tarfile.SYMTYPE, "q"), ("p/f2", tarfile.REGTYPE, "", b"2"),
                        ("p", tarfile.DIRTYPE, ""), ("p/f3", tarfile.REGTYPE, "", b"3")), out)
    assert sorted(p.name for p in (out / "q").iterdir()) == ["f2"]
    assert sorted(p.name for p in (out / "p").iterdir()) == ["f3"]


def test_dangling_link_parent_is_created_inside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    extract_tar(hostile(("a", tarfile.SYMTYPE, "/missing/dir"), ("a/f", tarfile.REGTYPE, "", b"f")), out)
    assert (out / "missing" / "dir" / "f").read_bytes() == b"f"


def test_link_to_a_file_in_the_path_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(InvalidLayer, match="not a directory"):
        extract_tar(hostile(("file", tarfile.REGTYPE, "", b""), ("a", tarfile.SYMTYPE, "file"),
                            ("a/x", tarfile.REGTYPE, "", b"")), tmp_path / "out")


def test_whiteouts_and_opaque_markers_resolve_through_links(tmp_path: Path) -> None:
    lower = [*USRMERGE, Member.file("usr/lib/gone", b"g"), Member.dir("usr/lib/sub"), Member.file("usr/lib/sub/a", b"")]
    # unsorted on purpose: what this layer wrote before the opaque marker (through the link) survives it
    upper = [Member.file("lib/sub/mine", b"m"), Member.opaque("lib/sub"), Member.whiteout("lib/gone"),
             Member.whiteout("lib64/sub/mine"), Member.whiteout("nowhere/x")]
    out = tmp_path / "out"
    result = extract_layers([tar_bytes(lower), tar_bytes(upper, sort=False)], out)
    assert sorted(p.name for p in (out / "usr/lib").iterdir()) == ["libc.so", "sub"]
    assert sorted(p.name for p in (out / "usr/lib/sub").iterdir()) == ["mine"]
    assert result.whiteouts == 4


def test_names_with_dotdot_are_still_rejected(tmp_path: Path) -> None:
    with pytest.raises(UnsafePath, match="escapes the root"):
        extract_tar(hostile(("a", tarfile.SYMTYPE, "."), ("a/../x", tarfile.REGTYPE, "", b"")), tmp_path / "out")
    with pytest.raises(UnsafePath, match="points outside the root"):
        extract_tar(hostile(("a", tarfile.SYMTYPE, "/"), ("h", tarfile.LNKTYPE, "a/../../etc/passwd")),
                    tmp_path / "out2")


@pytest.mark.skipif(os.geteuid() != 0, reason="overlay whiteouts are 0/0 char devices and trusted.* xattrs")
def test_overlay_whiteouts_stay_inside(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    out = tmp_path / "out"
    layer = hostile(("x", tarfile.SYMTYPE, str(victim)), ("x/.wh.new", tarfile.REGTYPE, "", b""),
                    ("x/.wh..wh..opq", tarfile.REGTYPE, "", b""), ("d", tarfile.DIRTYPE, ""),
                    ("d/kept", tarfile.REGTYPE, "", b"k"), ("d/.wh.kept", tarfile.REGTYPE, "", b""),
                    ("d/.wh.gone", tarfile.REGTYPE, "", b""))
    result = extract_tar(layer, out, overlay_whiteouts=True)
    assert list(victim.iterdir()) == [] and not _xattr(victim)
    inside = out / str(victim).lstrip("/")
    st = os.lstat(inside / "new")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert _xattr(inside) == b"y"
    assert (out / "d" / "kept").read_bytes() == b"k"  # this layer's own file is not whited out
    assert stat.S_ISCHR(os.lstat(out / "d" / "gone").st_mode)
    assert result.whiteouts == 4


def _xattr(path: Path) -> bytes | None:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False)
    except OSError:
        return None


@pytest.mark.parametrize("upper", [
    [Member.file("lib/x86_64-linux-gnu/libfoo.so", b"foo"), Member.file("lib/extra", b"e")],
    [Member.dir("lib"), Member.file("lib/only", b"o")],
])
def test_same_tree_as_gnu_tar_for_links_that_stay_inside(tmp_path: Path, upper: list[Member],
                                                         snap: Callable[..., object]) -> None:
    require_tool("tar")
    tars = [tmp_path / "lower.tar", tmp_path / "upper.tar"]
    for path, members in zip(tars, [[m for m in USRMERGE if m.entry.path != "lib64"], upper], strict=True):
        with open(path, "wb") as f:
            write_members(members, f)
    gnu = tmp_path / "gnu"
    gnu.mkdir()
    for path in tars:
        subprocess.run(["tar", "-xf", str(path), "-C", str(gnu)], check=True)
    ours = tmp_path / "ours"
    with open(tars[0], "rb") as lower, open(tars[1], "rb") as top:
        extract_layers([lower, top], ours)
    # mtimes differ by design: GNU tar cannot restore usr/lib's after the second run added a child, we can
    assert snap(ours, owners=False, mtimes=False) == snap(gnu, owners=False, mtimes=False)
