"""`copy`, `save` and `load` across every transport pair: digests of manifest, config and layers never change."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
from cli_testkit import Cli, make_index

from dockyard.image.validate import validate
from dockyard.oci.protocols import Image
from dockyard.transports.resolve import open_location

KINDS = ("store", "oci", "oci-archive", "docker-archive")


def _ref(kind: str, where: Path, role: str) -> str:
    """A reference of `kind` named after `role` (src/dst), tagged `1.0`."""
    return {
        "store": f"{role}/busybox:1.0",
        "oci": f"oci:{where / role}-layout:1.0",
        "oci-archive": f"oci-archive:{where / role}.oci.tar:1.0",
        "docker-archive": f"docker-archive:{where / role}.docker.tar:{role}/busybox:1.0",
    }[kind]


def _blobs(cli: Cli, ref: str) -> tuple[bytes, bytes, list[str]]:
    """Raw manifest, raw config and layer digests, read through the CLI."""
    raw = cli.ok("inspect", ref, "--raw").out
    config = cli.ok("inspect", ref, "--config").out
    return raw, config, [d["digest"] for d in json.loads(raw)["layers"]]


@pytest.mark.parametrize("dst_kind", KINDS)
@pytest.mark.parametrize("src_kind", KINDS)
def test_copy_between_every_pair(cli: Cli, busybox: str, tmp_path: Path, src_kind: str, dst_kind: str) -> None:
    original = _blobs(cli, "busybox:1.0")
    src = _ref(src_kind, tmp_path, "src")
    if src_kind == "store":
        cli.ok("tag", "busybox:1.0", src)
    else:
        cli.ok("copy", "busybox:1.0", src)
    dst = _ref(dst_kind, tmp_path, "dst")
    written = cli.json("copy", src, dst)
    assert isinstance(written, dict) and set(written) == {"destination", "descriptor", "names"}
    assert written["descriptor"]["digest"] == busybox
    assert _blobs(cli, dst) == original
    artifact = open_location(dst)
    assert isinstance(artifact, Image)
    validate(artifact)
    if dst_kind == "store":
        info = cli.json("inspect", dst)
        assert isinstance(info, dict) and "dst/busybox:1.0" in info["names"]


def test_copy_names_destinations_after_the_source(cli: Cli, busybox: str, tmp_path: Path) -> None:
    """A destination without a name of its own takes the source's, as skopeo does."""
    cli.ok("copy", "busybox:1.0", f"oci:{tmp_path / 'layout'}")
    index = json.loads((tmp_path / "layout" / "index.json").read_bytes())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
    cli.ok("copy", "busybox:1.0", f"docker-archive:{tmp_path / 'a.tar'}")
    with tarfile.open(tmp_path / "a.tar") as tf:
        member = tf.extractfile("manifest.json")
        assert member is not None
        assert json.load(member)[0]["RepoTags"] == ["busybox:1.0"]
    assert cli.ok("copy", f"oci:{tmp_path / 'layout'}:1.0", "copied").text.split() == ["store:copied:latest", busybox]


@pytest.mark.parametrize("via", ["oci-then-docker-archive", "oci-archive", "docker-archive-then-oci-archive"])
def test_round_trip_keeps_every_digest(cli: Cli, busybox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       via: str) -> None:
    """The issue's round trip: store -> OCI layout -> docker-archive -> (another) store, byte-exact."""
    original = _blobs(cli, "busybox:1.0")
    hops = {
        "oci-then-docker-archive": [f"oci:{tmp_path / 'layout'}:1.0",
                                    f"docker-archive:{tmp_path / 'img.tar'}:busybox:1.0"],
        "oci-archive": [f"oci-archive:{tmp_path / 'img.oci.tar'}:1.0"],
        "docker-archive-then-oci-archive": [f"docker-archive:{tmp_path / 'img.tar'}:busybox:1.0",
                                            f"oci-archive:{tmp_path / 'img.oci.tar'}:1.0",
                                            f"oci:{tmp_path / 'layout'}:1.0"],
    }[via]
    previous = "busybox:1.0"
    for hop in hops:
        cli.ok("copy", previous, hop)
        previous = hop
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / "second-home"))
    assert cli.json("images") == []
    cli.ok("copy", previous, "busybox:back")
    assert _blobs(cli, "busybox:back") == original
    assert cli.json("images")[0]["digest"] == busybox  # type: ignore[index]
    validate(open_location("busybox:back"))  # type: ignore[arg-type]


def test_save_and_load_one_image(cli: Cli, busybox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "busybox.tar"
    assert cli.ok("save", "busybox:1.0", "-o", out).text == f"saved 1 image(s) to {out} (docker-archive)\n"
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / "second-home"))
    assert cli.ok("load", "-i", out).text == f"Loaded image: busybox:1.0 {busybox}\n"
    assert cli.ok("inspect", "busybox:1.0", "--raw").out.startswith(b"{")
    assert hashlib.sha256(cli.ok("inspect", "busybox:1.0", "--raw").out).hexdigest() == busybox[7:]


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_save_several_images_into_one_archive(cli: Cli, rootfs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              fmt: str) -> None:
    digests = {}
    for i, change in enumerate(("USER 1", "USER 2", "USER 3")):
        done = cli.json("import", rootfs.tar, "-t", f"app:{i}", "-c", change)
        assert isinstance(done, dict)
        digests[f"app:{i}"] = done["digest"]
    cli.ok("tag", "app:0", "ghcr.io/example/app:0")
    refs = [*digests, "ghcr.io/example/app:0"]
    out = tmp_path / "many.tar"
    saved = cli.json("save", *refs, "-o", out, "--format", fmt)
    assert isinstance(saved, dict) and set(saved) == {"path", "format", "images", "names"}
    assert saved["format"] == fmt and saved["path"] == str(out)
    assert saved["names"] == refs
    assert [d["digest"] for d in saved["images"]] == [*digests.values(), digests["app:0"]]

    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / "second-home"))
    loaded = cli.json("load", "-i", out)
    assert isinstance(loaded, list)
    for item in loaded:
        assert set(item) == {"descriptor", "names"}
    by_name = {n: item["descriptor"]["digest"] for item in loaded for n in item["names"]}
    assert by_name == {**digests, "ghcr.io/example/app:0": digests["app:0"]}
    listed = cli.json("images")
    assert isinstance(listed, list) and len(listed) == 4


def test_save_index_as_docker_archive_picks_a_platform(cli: Cli, rootfs, tmp_path: Path) -> None:
    make_index(cli, rootfs)
    arm = cli.ok("inspect", "part:arm64", "--raw").out
    cli.ok("save", "multi:1", "-o", tmp_path / "arm.tar", "--platform", "linux/arm64")
    assert cli.ok("inspect", f"docker-archive:{tmp_path / 'arm.tar'}", "--raw").out == arm
    # oci-archive and layouts keep the whole index; --platform narrows a copy to one image
    cli.ok("save", "multi:1", "-o", tmp_path / "all.oci.tar", "--format", "oci-archive")
    whole = cli.json("inspect", f"oci-archive:{tmp_path / 'all.oci.tar'}")
    assert isinstance(whole, dict) and len(whole["manifests"]) == 2
    cli.ok("copy", "multi:1", f"oci:{tmp_path / 'one'}:arm", "--platform", "linux/arm64")
    assert cli.ok("inspect", f"oci:{tmp_path / 'one'}:arm", "--raw").out == arm
    cli.ok("copy", "multi:1", f"oci:{tmp_path / 'one'}:all")
    assert cli.json("inspect", f"oci:{tmp_path / 'one'}:all")["manifests"]  # type: ignore[index]


def test_image_ids_never_become_names(cli: Cli, busybox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`save ID` / `copy ID ...` keep the image unnamed: an ID parses as a name but must not be used as one."""
    short, full = busybox[7:19], busybox
    cli.ok("save", short, full, "busybox:1.0", "-o", tmp_path / "ids.tar")
    with tarfile.open(tmp_path / "ids.tar") as tf:
        member = tf.extractfile("manifest.json")
        assert member is not None
        assert [e["RepoTags"] for e in json.load(member)] == [[], [], ["busybox:1.0"]]
    saved = cli.json("save", short, "-o", tmp_path / "id.oci.tar", "--format", "oci-archive")
    assert isinstance(saved, dict) and saved["names"] == []
    cli.ok("copy", short, f"oci:{tmp_path / 'layout'}")
    index = json.loads((tmp_path / "layout" / "index.json").read_bytes())
    assert "annotations" not in index["manifests"][0]
    cli.ok("copy", full, f"docker-archive:{tmp_path / 'full.tar'}")
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / "second-home"))
    for archive in ("ids.tar", "id.oci.tar", "full.tar"):
        cli.ok("load", "-i", tmp_path / archive)
    listed = cli.json("images")
    assert isinstance(listed, list)
    assert sorted((r["repository"], r["tag"]) for r in listed) == [("busybox", "1.0")]
    assert listed[0]["names"] == ["busybox:1.0"]


def test_platform_must_match_a_single_image(cli: Cli, busybox: str, tmp_path: Path) -> None:
    """--platform narrows an index; for a single image of another platform it is an error, as in docker."""
    other = "linux/s390x"
    cli.fails(3, "copy", "busybox:1.0", f"oci:{tmp_path / 'l'}", "--platform", other, needles=("not linux/s390x",))
    cli.fails(3, "save", "busybox:1.0", "-o", tmp_path / "x.tar", "--platform", other)
    cli.fails(3, "copy", "busybox:1.0", f"docker-archive:{tmp_path / 'y.tar'}", "--platform", other)
    assert not [p.name for p in tmp_path.iterdir() if p.name != "dockyard-home"]
    host = cli.json("images")[0]["platforms"][0]  # type: ignore[index]
    cli.ok("copy", "busybox:1.0", f"oci:{tmp_path / 'l'}", "--platform", host)
    cli.ok("save", "busybox:1.0", "-o", tmp_path / "x.tar", "--platform", host)
