"""OCI whiteout naming rules."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.layers.whiteout import (
    OPAQUE,
    is_opaque_marker,
    is_whiteout,
    is_whiteout_meta,
    opaque_dir,
    opaque_marker_for,
    whiteout_for,
    whiteout_target,
)


def test_whiteout_round_trip() -> None:
    assert whiteout_for("a/b") == "a/.wh.b"
    assert whiteout_for("top") == ".wh.top"
    assert whiteout_for("/abs/path/") == "abs/.wh.path"
    assert whiteout_target("a/.wh.b") == "a/b"
    assert whiteout_target(".wh..hidden") == ".hidden"
    assert is_whiteout("a/.wh.b") and is_whiteout(".wh.x")
    assert not is_whiteout("a/b") and not is_whiteout("a/.wh.") and not is_whiteout("a/.wh..wh..opq")
    assert not is_whiteout("a.wh.b/c")


def test_opaque() -> None:
    assert OPAQUE == ".wh..wh..opq"
    assert opaque_marker_for("usr/share") == "usr/share/.wh..wh..opq"
    assert opaque_marker_for(".") == ".wh..wh..opq"
    assert opaque_dir("usr/share/.wh..wh..opq") == "usr/share"
    assert opaque_dir(".wh..wh..opq") == "."
    assert is_opaque_marker("a/.wh..wh..opq") and not is_opaque_marker("a/.wh.opq")
    assert is_whiteout_meta("a/.wh..wh.plnk") and is_whiteout_meta(OPAQUE) and not is_whiteout_meta("a/.wh.b")


def test_errors() -> None:
    with pytest.raises(InvalidArgument):
        whiteout_target("a/b")
    with pytest.raises(InvalidArgument):
        opaque_dir("a/b")
    with pytest.raises(InvalidArgument):
        whiteout_for("/")
    with pytest.raises(InvalidArgument):
        whiteout_for("a/..")
