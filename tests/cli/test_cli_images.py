"""`images`, `inspect`, `tag` and `rmi`: what the store holds and naming it, in table and JSON form."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cli_testkit import Cli, assert_one_error, make_index

from dockyard.oci.platform import Platform
from dockyard.transports.store import Store

IMAGE_FIELDS = {"repository", "tag", "id", "digest", "media_type", "config_digest", "created", "added", "size",
                "platforms", "names"}


def test_images_lists_names_ids_and_digests(cli: Cli, busybox: str) -> None:
    cli.ok("tag", "busybox:1.0", "busybox:latest")
    listed = cli.json("images")
    assert isinstance(listed, list) and len(listed) == 2
    for row in listed:
        assert set(row) == IMAGE_FIELDS
        assert row["digest"] == busybox and row["id"] == busybox[7:19]
        assert row["platforms"] == [str(Platform.host())]
        assert row["names"] == ["busybox:1.0", "busybox:latest"]
        assert row["created"] == "1970-01-01T00:00:00+00:00"
    assert sorted(r["tag"] for r in listed) == ["1.0", "latest"]

    table = cli.ok("images").text.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE", "PLATFORM"]
    assert {tuple(line.split()[:3]) for line in table[1:]} == {("busybox", "1.0", busybox[7:19]),
                                                                ("busybox", "latest", busybox[7:19])}
    assert cli.ok("images", "-q").text.split() == [busybox[7:19]]  # one ID per image, not per name
    digests = cli.ok("images", "--digests").text.splitlines()
    assert "DIGEST" in digests[0] and all(busybox in line for line in digests[1:])


def test_images_shows_dangling(cli: Cli, rootfs) -> None:
    cli.ok("import", rootfs.tar, "-t", "x:1")
    cli.ok("import", rootfs.tar, "-t", "x:1", "-c", "USER 1")  # the tag moves, the first image dangles
    listed = cli.json("images")
    assert isinstance(listed, list)
    assert sorted((r["repository"], r["tag"]) for r in listed) == [("<none>", "<none>"), ("x", "1")]


def test_inspect_raw_and_config_are_exact_bytes(cli: Cli, busybox: str) -> None:
    raw = cli.ok("inspect", "busybox:1.0", "--raw").out
    assert f"sha256:{hashlib.sha256(raw).hexdigest()}" == busybox
    manifest = json.loads(raw)
    config = cli.ok("inspect", "busybox:1.0", "--config").out
    assert f"sha256:{hashlib.sha256(config).hexdigest()}" == manifest["config"]["digest"]
    assert len(config) == manifest["config"]["size"]
    # by short ID and by digest too
    assert cli.ok("inspect", busybox[7:19], "--raw").out == raw
    assert cli.ok("inspect", f"busybox@{busybox}", "--raw").out == raw
    assert cli.ok("inspect", busybox, "--raw").out == raw


def test_inspect_json_and_table(cli: Cli, busybox: str) -> None:
    info = cli.json("inspect", "busybox:1.0")
    assert isinstance(info, dict)
    assert info["digest"] == busybox and info["names"] == ["busybox:1.0"]
    assert info["platform"] == str(Platform.host())
    assert info["config"]["cmd"] == ["/bin/sh"]
    assert len(info["layers"]) == 1 and info["layers"][0]["diff_id"].startswith("sha256:")
    assert info["history"][0]["created_by"].startswith("dockyard import")
    assert info["size"] > 1_000_000
    text = cli.ok("inspect", "busybox:1.0").text
    assert f"Digest:     {busybox}" in text and "Layers:     1" in text and "Cmd:" in text


def test_inspect_index_and_platform(cli: Cli, rootfs) -> None:
    digest = make_index(cli, rootfs)
    info = cli.json("inspect", "multi:1")
    assert isinstance(info, dict) and info["digest"] == digest
    assert [m["platform"] for m in info["manifests"]] == ["linux/amd64", "linux/arm64"]
    assert "Manifests:" in cli.ok("inspect", "multi:1").text
    arm = cli.ok("inspect", "multi:1", "--platform", "linux/arm64", "--raw").out
    assert f"sha256:{hashlib.sha256(arm).hexdigest()}" == str(Store.open().resolve("part:arm64").digest)
    config = json.loads(cli.ok("inspect", "multi:1", "--platform", "linux/arm64", "--config").out)
    assert config["architecture"] == "arm64"
    picked = cli.json("inspect", "multi:1", "--platform", "arm64")
    assert isinstance(picked, dict) and picked["platform"] == "linux/arm64"
    assert_one_error(cli("inspect", "multi:1", "--platform", "linux/s390x"), 3, "no image for platform linux/s390x")
    assert_one_error(cli("inspect", "part:amd64", "--platform", "linux/arm64"), 3, "linux/amd64 image")


def test_tag_and_rmi(cli: Cli, busybox: str) -> None:
    tagged = cli.json("tag", "busybox:1.0", "mirror.example.com/tools/busybox:stable")
    assert tagged == {"source": "busybox:1.0", "target": "mirror.example.com/tools/busybox:stable"}
    cli.ok("tag", busybox[7:19], "busybox:by-id")
    names = cli.json("inspect", "busybox:1.0")
    assert isinstance(names, dict)
    assert names["names"] == ["busybox:1.0", "busybox:by-id", "mirror.example.com/tools/busybox:stable"]

    # by ID with several names: refused without -f, and nothing changes
    line = cli.fails(6, "rmi", busybox[7:19])
    assert "must be forced" in line
    removed = cli.json("rmi", "busybox:by-id")
    assert removed == [{"untagged": ["busybox:by-id"], "deleted": None, "blobs_removed": 0, "bytes_reclaimed": 0}]
    assert cli.ok("rmi", "mirror.example.com/tools/busybox:stable").text == \
        "Untagged: mirror.example.com/tools/busybox:stable\n"
    cli.ok("tag", "busybox:1.0", "other:1")
    forced = cli.json("rmi", "-f", busybox[7:19])
    assert isinstance(forced, list)
    assert forced[0]["untagged"] == ["busybox:1.0", "other:1"] and forced[0]["deleted"] == busybox
    assert forced[0]["blobs_removed"] == 3
    assert cli.json("images") == []
    assert not list((Store.open().root / "blobs").rglob("*/*"))


def test_rmi_single_name_deletes_the_image(cli: Cli, busybox: str) -> None:
    text = cli.ok("rmi", "busybox:1.0").text
    assert text == f"Untagged: busybox:1.0\nDeleted: {busybox}\n"
    cli.fails(3, "rmi", "busybox:1.0", needles=("no image busybox:1.0",))


def test_rmi_reports_what_it_removed_before_an_error(cli: Cli, busybox: str) -> None:
    cli.ok("tag", "busybox:1.0", "busybox:2.0")
    result = cli("rmi", "busybox:1.0", "nothere:1", "busybox:2.0")
    assert_one_error(result, 3, "no image nothere:1")
    assert result.text == "Untagged: busybox:1.0\n"
    assert [r["tag"] for r in cli.json("images")] == ["2.0"]  # type: ignore[index]


def test_short_id_of_an_index_child(cli: Cli, rootfs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_index(cli, rootfs)
    cli.ok("save", "multi:1", "-o", tmp_path / "multi.oci.tar", "--format", "oci-archive")
    child = str(Store.open().resolve("part:arm64").digest)
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / "second-home"))
    cli.ok("load", "-i", tmp_path / "multi.oci.tar")
    assert cli.ok("inspect", child, "--raw").code == 0  # the full digest works
    assert cli.ok("inspect", child[7:19], "--raw").code == 0
