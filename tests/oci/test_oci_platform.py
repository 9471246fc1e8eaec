"""Platforms: parsing `os/arch[/variant]`, normalization of aliases, and matching wanted against offered."""

from __future__ import annotations

import platform as host_platform

import pytest

from dockyard.errors import InvalidArgument, InvalidManifest
from dockyard.oci.platform import Platform


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", Platform("linux", "amd64")),
        ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
        ("arm64", Platform("linux", "arm64")),
        ("x86_64", Platform("linux", "amd64")),
        ("linux/x86-64", Platform("linux", "amd64")),
        ("linux/aarch64", Platform("linux", "arm64")),
        ("i686", Platform("linux", "386")),
        ("armhf", Platform("linux", "arm", "v7")),
        ("linux/armel", Platform("linux", "arm", "v6")),
        ("Linux/AMD64", Platform("linux", "amd64")),
        ("linux/arm/V7", Platform("linux", "arm", "v7")),
        ("windows/amd64", Platform("windows", "amd64")),
        ("unknown/unknown", Platform("unknown", "unknown")),
        (" linux/riscv64 ", Platform("linux", "riscv64")),
    ],
)
def test_parse(text: str, expected: Platform) -> None:
    assert Platform.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "/", "linux/", "/amd64", "linux//v7", "a/b/c/d", "linux/amd 64", "linux/arm64/v8\n1"]
)
def test_parse_invalid(text: str) -> None:
    with pytest.raises(InvalidArgument, match="os/arch"):
        Platform.parse(text)


def test_str() -> None:
    assert str(Platform.parse("linux/arm64/v8")) == "linux/arm64/v8"
    assert str(Platform.parse("x86_64")) == "linux/amd64"
    assert str(Platform("windows", "amd64", os_version="10.0.20348.1")) == "windows/amd64"


def test_normalized() -> None:
    assert Platform("linux", "arm64").normalized() == Platform("linux", "arm64", "v8")
    assert Platform("linux", "arm").normalized() == Platform("linux", "arm", "v7")
    assert Platform("linux", "armel").normalized() == Platform("linux", "arm", "v6")
    assert Platform("linux", "x86_64").normalized() == Platform("linux", "amd64")
    assert Platform("linux", "aarch64", "v8").normalized() == Platform("linux", "arm64", "v8")
    assert Platform("linux", "amd64").normalized() == Platform("linux", "amd64")
    w = Platform("windows", "amd64", None, "10.0.17763.5329", ("win32k",))
    assert w.normalized() == w


@pytest.mark.parametrize(
    ("want", "have", "ok"),
    [
        ("linux/arm64", Platform("linux", "arm64", "v8"), True),
        ("linux/arm64/v8", Platform("linux", "arm64"), True),  # no variant on arm64 means v8
        ("arm64", Platform("linux", "arm64", "v8"), True),
        ("aarch64", Platform("linux", "arm64"), True),
        ("x86_64", Platform("linux", "amd64"), True),
        ("linux/amd64", Platform("linux", "x86_64"), True),
        ("linux/amd64", Platform("linux", "arm64"), False),
        ("linux/amd64", Platform("windows", "amd64"), False),
        ("linux/arm/v7", Platform("linux", "arm", "v6"), False),  # variant mismatch
        ("linux/arm/v6", Platform("linux", "arm", "v7"), False),
        ("linux/arm/v7", Platform("linux", "arm"), True),  # arm without a variant means v7
        ("linux/arm", Platform("linux", "arm", "v6"), True),  # no wanted variant: any arm (ranked later)
        ("linux/arm64/v9", Platform("linux", "arm64"), False),
        ("linux/amd64", Platform("linux", "amd64", "v3"), True),
        ("linux/amd64/v3", Platform("linux", "amd64"), False),
        ("linux/amd64", Platform("unknown", "unknown"), False),
    ],
)
def test_matches(want: str, have: Platform, ok: bool) -> None:
    assert Platform.parse(want).matches(have) is ok


def test_matches_os_version() -> None:
    image = Platform("windows", "amd64", os_version="10.0.17763.5329")
    assert Platform("windows", "amd64").matches(image)
    assert Platform("windows", "amd64", os_version="10.0.17763.5329").matches(image)
    assert not Platform("windows", "amd64", os_version="10.0.20348.2227").matches(image)
    assert not Platform("windows", "amd64", os_version="10.0.17763.5329").matches(Platform("windows", "amd64"))


def test_unknown() -> None:
    assert Platform.parse("unknown/unknown").is_unknown
    assert Platform("unknown", "unknown").is_unknown
    assert not Platform("linux", "unknown").is_unknown
    assert not Platform.parse("linux/amd64").is_unknown


def test_host() -> None:
    host = Platform.host()
    assert host.os == "linux"
    machine = host_platform.machine().lower()
    expected = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, host.architecture)
    assert host.architecture == expected
    assert host.matches(host)


def test_json_round_trip() -> None:
    p = Platform("windows", "amd64", "v2", "10.0.17763.5329", ("win32k",))
    obj = p.to_json()
    assert obj == {"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.5329",
                   "os.features": ["win32k"], "variant": "v2"}
    assert list(obj) == ["architecture", "os", "os.version", "os.features", "variant"]  # Go's field order
    assert Platform.from_json(obj) == p
    assert Platform.from_json({"architecture": "arm64", "os": "linux"}) == Platform("linux", "arm64")


@pytest.mark.parametrize(
    "obj",
    [
        {"os": "linux"},
        {"architecture": "amd64"},
        {"architecture": 1, "os": "linux"},
        {"architecture": "amd64", "os": "linux", "variant": 8},
        {"architecture": "amd64", "os": "linux", "os.version": []},
    ],
)
def test_from_json_invalid(obj: dict[str, object]) -> None:
    with pytest.raises(InvalidManifest, match="platform"):
        Platform.from_json(obj)  # type: ignore[arg-type]


def test_oci_platform_parse_known_refuses_typos() -> None:
    """User-typed platforms must name a Go OS and architecture (containerd's platforms.Parse rule)."""
    import pytest as _pytest

    from dockyard.errors import InvalidArgument as _InvalidArgument
    from dockyard.oci.platform import Platform as _Platform

    assert _Platform.parse_known("linux/arm64").architecture == "arm64"
    assert _Platform.parse_known("amd64") == _Platform.parse("linux/amd64")
    assert _Platform.parse_known("windows/amd64").os == "windows"
    for bad in ("bogus", "linux/amd46", "lniux/amd64"):
        with _pytest.raises(_InvalidArgument, match="unknown operating system or architecture"):
            _Platform.parse_known(bad)
    assert _Platform.parse("linux/amd46").architecture == "amd46"  # manifests are read as they are
