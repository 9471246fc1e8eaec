"""`dockyard import`: busybox root filesystems from a directory and from plain, gzip and zstd tars, with --change."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from cli_testkit import Cli

from dockyard.image.validate import validate
from dockyard.layers.extract import extract_layers
from dockyard.oci.mediatype import MediaType
from dockyard.oci.protocols import Image
from dockyard.transports.store import Store


def _stored(name: str) -> Image:
    image = Store.open().get(name)
    assert isinstance(image, Image)
    return image


@pytest.mark.parametrize("kind", ["dir", "tar", "gz", "zst"])
def test_import_busybox_rootfs(cli: Cli, rootfs, kind: str, tmp_path: Path) -> None:
    source = getattr(rootfs, kind)
    done = cli.json("import", source, "-t", f"bb:{kind}")
    assert isinstance(done, dict) and set(done) == {"name", "digest", "size"}
    assert done["name"] == f"bb:{kind}"
    image = _stored(f"bb:{kind}")
    m = image.manifest()
    total = len(image.raw_manifest()) + m.config.size + sum(d.size for d in m.layers)
    assert str(image.digest()) == done["digest"] and total == done["size"]
    validate(image)
    manifest = image.manifest()
    assert manifest.media_type == MediaType.OCI_MANIFEST
    assert [d.media_type for d in manifest.layers] == [MediaType.OCI_LAYER_GZIP]
    history = image.config().history
    assert len(history) == 1 and history[0].created_by == f"dockyard import {source.name}"
    assert image.config().created == "1970-01-01T00:00:00Z"  # SOURCE_DATE_EPOCH=0 (tests/conftest.py)
    # the layer really is the root filesystem, with busybox's applets as relative symlinks
    out = tmp_path / "unpacked"
    extract_layers(image.layers(), out)
    assert (out / "bin" / "busybox").read_bytes() == Path("/bin/busybox").read_bytes()
    assert os.readlink(out / "bin" / "sh") == "busybox"
    assert (out / "etc" / "passwd").read_text().startswith("root:")


def test_tar_imports_keep_the_tar_byte_for_byte(cli: Cli, rootfs) -> None:
    """A tar is the layer as given: the same uncompressed bytes (diff_id) whatever the input compression."""
    for kind in ("tar", "gz", "zst"):
        cli.ok("import", getattr(rootfs, kind), "-t", f"bb:{kind}")
    diff_ids = {_stored(f"bb:{k}").config().diff_ids for k in ("tar", "gz", "zst")}
    plain = hashlib.sha256(rootfs.tar.read_bytes()).hexdigest()
    assert {tuple(map(str, d)) for d in diff_ids} == {(f"sha256:{plain}",)}


def test_directory_import_is_reproducible(cli: Cli, rootfs) -> None:
    first = cli.json("import", rootfs.dir, "-t", "a:1")
    second = cli.json("import", rootfs.dir, "-t", "b:1")
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["digest"] == second["digest"]


def test_compression_options(cli: Cli, rootfs) -> None:
    cli.ok("import", rootfs.tar, "-t", "z:1", "--compression", "zstd")
    cli.ok("import", rootfs.gz, "-t", "n:1", "--compression", "none")
    assert _stored("z:1").manifest().layers[0].media_type == MediaType.OCI_LAYER_ZSTD
    plain = _stored("n:1")
    assert plain.manifest().layers[0].media_type == MediaType.OCI_LAYER
    assert plain.manifest().layers[0].size == rootfs.tar.stat().st_size
    validate(_stored("z:1"))
    validate(plain)


def test_changes_land_in_the_config(cli: Cli, rootfs) -> None:
    cli.ok("import", rootfs.tar, "-t", "app:1", "-m", "imported for a test", "--platform", "linux/arm64",
           "-c", 'CMD ["/bin/sh", "-c", "echo hi"]',
           "-c", "ENTRYPOINT /bin/busybox",
           "-c", 'ENV A=1 B="two words"',
           "-c", "ENV LEGACY value with spaces",
           "-c", "USER 1000:1000",
           "-c", "WORKDIR /srv",
           "-c", "EXPOSE 80 53/udp",
           "-c", 'LABEL org.example.team=core "quoted key"=yes',
           "-c", 'VOLUME ["/data", "/cache"]',
           "-c", "VOLUME /logs",
           "-c", "STOPSIGNAL SIGTERM")
    config = json.loads(cli.ok("inspect", "app:1", "--config").out)
    run = config["config"]
    assert run["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert run["Entrypoint"] == ["/bin/sh", "-c", "/bin/busybox"]
    assert run["Env"] == ["A=1", "B=two words", "LEGACY=value with spaces"]
    assert run["User"] == "1000:1000"
    assert run["WorkingDir"] == "/srv"
    assert run["ExposedPorts"] == {"53/udp": {}, "80/tcp": {}}
    assert run["Labels"] == {"org.example.team": "core", "quoted key": "yes"}
    assert run["Volumes"] == {"/cache": {}, "/data": {}, "/logs": {}}
    assert run["StopSignal"] == "SIGTERM"
    assert (config["os"], config["architecture"]) == ("linux", "arm64")
    assert config["history"][0]["comment"] == "imported for a test"
    listed = cli.json("images")
    assert isinstance(listed, list) and listed[0]["platforms"] == ["linux/arm64"]
    described = cli.json("inspect", "app:1")
    assert isinstance(described, dict)
    assert described["config"]["user"] == "1000:1000" and described["platform"] == "linux/arm64"


def test_import_output_table(cli: Cli, rootfs) -> None:
    out = cli.ok("import", rootfs.gz, "-t", "registry.example.com:5000/team/app").text.split()
    assert out[0] == "registry.example.com:5000/team/app:latest" and out[1].startswith("sha256:")
