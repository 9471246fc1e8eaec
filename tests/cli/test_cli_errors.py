"""Bad input: one `dockyard: error:` line, the right exit code, no traceback, and the store left as it was."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest
from cli_testkit import Cli, assert_one_error, link, tar_bytes

from dockyard.transports.store import Store


def _layout_of_busybox(cli: Cli, where: Path) -> Path:
    """An OCI layout holding busybox:1.0 as `1.0`; the store is emptied so a copy back must fetch every blob."""
    cli.ok("copy", "busybox:1.0", f"oci:{where}:1.0")
    cli.ok("rmi", "busybox:1.0")
    assert cli.json("images") == []
    return where


def _blob(layout: Path, digest: str) -> Path:
    path = layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return path


def _manifest(layout: Path) -> dict[str, object]:
    index = json.loads((layout / "index.json").read_bytes())
    return json.loads(_blob(layout, index["manifests"][0]["digest"]).read_bytes())  # type: ignore[no-any-return]


def _layer_digest(layout: Path) -> str:
    layers = _manifest(layout)["layers"]
    assert isinstance(layers, list)
    return str(layers[0]["digest"])


def test_truncated_archives(cli: Cli, busybox: str, rootfs, tmp_path: Path) -> None:
    for fmt, name in (("docker-archive", "d.tar"), ("oci-archive", "o.tar")):
        whole = tmp_path / name
        cli.ok("save", "busybox:1.0", "-o", whole, "--format", fmt)
        half = tmp_path / f"half-{name}"
        half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        cli.fails(4, "load", "-i", half, needles=("truncated",))
        cli.fails(4, "copy", f"{fmt}:{half}", "other:1")
    stub = tmp_path / "stub.tar"
    stub.write_bytes(b"\0" * 100)
    cli.fails(4, "load", "-i", stub)
    half_rootfs = tmp_path / "half-rootfs.tar"
    half_rootfs.write_bytes(rootfs.tar.read_bytes()[:700_000])
    cli.fails(4, "import", half_rootfs, "-t", "half:1", needles=("truncated",))


def test_altered_layer_blob_is_a_digest_error(cli: Cli, busybox: str, tmp_path: Path) -> None:
    layout = _layout_of_busybox(cli, tmp_path / "layout")
    blob = _blob(layout, _layer_digest(layout))
    data = bytearray(blob.read_bytes())
    data[1000] ^= 0xFF
    blob.write_bytes(bytes(data))
    cli.fails(4, "copy", f"oci:{layout}:1.0", "bad:1", needles=("hashes to", _layer_digest(layout)))
    cli.fails(4, "copy", f"oci:{layout}:1.0", f"oci-archive:{tmp_path / 'out.tar'}")
    assert not (tmp_path / "out.tar").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tar")]


def test_altered_config_blob_is_a_digest_error(cli: Cli, busybox: str, tmp_path: Path) -> None:
    layout = _layout_of_busybox(cli, tmp_path / "layout")
    config = _manifest(layout)["config"]
    assert isinstance(config, dict)
    blob = _blob(layout, config["digest"])
    raw = blob.read_bytes()
    blob.write_bytes(raw[:-1] + b" ")  # same size, different bytes
    cli.fails(4, "copy", f"oci:{layout}:1.0", "bad:1")
    cli.fails(4, "inspect", f"oci:{layout}:1.0", "--config")


def test_manifest_that_is_not_json(cli: Cli, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    junk = b"this is not a manifest"
    digest = hashlib.sha256(junk).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(junk)
    entry = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{digest}",
             "size": len(junk), "annotations": {"org.opencontainers.image.ref.name": "1"}}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
    cli.fails(4, "copy", f"oci:{layout}:1", "bad:1", needles=("not valid JSON",))
    cli.fails(4, "inspect", f"oci:{layout}:1")
    (layout / "index.json").write_text("{not json")
    cli.fails(4, "inspect", f"oci:{layout}:1", needles=("index.json",))


def test_blob_missing_from_layout(cli: Cli, busybox: str, tmp_path: Path) -> None:
    layout = _layout_of_busybox(cli, tmp_path / "layout")
    layer = _layer_digest(layout)
    os.unlink(_blob(layout, layer))
    cli.fails(3, "copy", f"oci:{layout}:1.0", "bad:1", needles=(layer, "missing"))
    cli.fails(3, "save", f"oci:{layout}:1.0", "-o", tmp_path / "out.tar")
    assert not (tmp_path / "out.tar").exists()


HOSTILE = {
    "dotdot": [("../etc/passwd", b"root::0:0::/:/bin/sh\n")],
    "deep-dotdot": [("usr/../../etc/passwd", b"x\n")],
    "through-symlink": [link("escape", "/"), ("escape/etc/passwd", b"root::0:0::/:/bin/sh\n")],
    "through-relative-symlink": [link("up", "../.."), ("up/tmp/owned", b"x\n")],
    "through-nested-symlink": [link("etc", "/etc"), ("etc/cron.d/job", b"* * * * * root id\n")],
    "hardlink-out": [link("shadow", "../../etc/shadow", hard=True)],
    "hardlink-through-symlink": [link("root", "/"), link("shadow", "root/etc/shadow", hard=True)],
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_layers_are_refused_by_import(cli: Cli, busybox: str, tmp_path: Path, name: str) -> None:
    plain = tmp_path / f"{name}.tar"
    plain.write_bytes(tar_bytes(HOSTILE[name]))
    line = cli.fails(4, "import", plain, "-t", "hostile:1")
    assert any(word in line for word in ("escapes", "symlink", "outside"))
    packed = tmp_path / f"{name}.tar.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    cli.fails(4, "import", packed, "-t", "hostile:1")


def test_symlinks_themselves_are_fine(cli: Cli, tmp_path: Path) -> None:
    """Absolute and `..` symlink targets are normal in a root filesystem; only writing through them is not."""
    plain = tmp_path / "ok.tar"
    plain.write_bytes(tar_bytes([link("bin/sh", "/bin/busybox"), link("lib", "usr/lib"), link("up", "../.."),
                                 ("usr/lib/x", b"x"), link("escape", "/"), ("escape", b"now a file")]))
    cli.ok("import", plain, "-t", "fine:1")


@pytest.mark.parametrize("text", ["UPPER/Case:tag", "a:b:c", "busybox:", "busy box", "busybox@sha256:123"])
def test_bad_references(cli: Cli, busybox: str, text: str) -> None:
    cli.fails(2, "inspect", text)
    cli.fails(2, "tag", "busybox:1.0", text)
    cli.fails(2, "copy", "busybox:1.0", text)


def test_bad_reference_for_import_and_archives(cli: Cli, rootfs, tmp_path: Path) -> None:
    cli.fails(2, "import", rootfs.tar, "-t", "UPPER/Case:tag", needles=("lowercase",))
    cli.fails(2, "copy", "x:1", f"docker-archive:{tmp_path / 'a.tar'}:UPPER:1")
    cli.fails(2, "copy", "x:1", "oci:")


@pytest.mark.parametrize("text", ["dir:/tmp/image", "containers-storage:busybox:1",
                                  "docker-daemon:busybox:latest"])
def test_unsupported_transports(cli: Cli, busybox: str, text: str) -> None:
    cli.fails(5, "inspect", text, needles=("not supported yet",))
    cli.fails(5, "copy", "busybox:1.0", text, needles=("not supported yet",))


def test_docker_is_also_an_image_name(cli: Cli, busybox: str) -> None:
    """`docker:latest` and `dir:1.0` are ordinary image names, not transports."""
    cli.ok("tag", "busybox:1.0", "docker:latest")
    cli.ok("tag", "busybox:1.0", "dir:1.0")
    assert cli.ok("inspect", "docker:latest", "--raw").out == cli.ok("inspect", "dir:1.0", "--raw").out


def test_missing_files(cli: Cli, busybox: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    cli.fails(3, "load", "-i", missing, needles=("does not exist",))
    cli.fails(3, "import", missing, "-t", "x:1", needles=(str(missing),))
    cli.fails(3, "inspect", f"oci:{missing}")
    cli.fails(3, "inspect", f"docker-archive:{missing}.tar")
    cli.fails(3, "copy", f"oci-archive:{missing}.tar", "x:1")
    cli.fails(3, "inspect", "nothere:1", needles=("no image nothere:1",))
    cli.fails(2, "load", "-i", tmp_path, needles=("directory",))


def test_bad_options(cli: Cli, busybox: str, rootfs, tmp_path: Path) -> None:
    cli.fails(2, "images", "--output", "xml", needles=("'xml' is not one of", "dockyard images --help"))
    cli.fails(2, "inspect", "busybox:1.0", "-o", "yaml")
    cli.fails(2, "prune", "--filter", "foo=bar", needles=("unsupported filter 'foo=bar'",))
    cli.fails(2, "prune", "--filter", "until=soon", needles=("invalid until",))
    cli.fails(2, "import", rootfs.tar, "-t", "x:1", "-c", "RUN rm -rf /", needles=("unsupported change 'RUN'",))
    cli.fails(2, "import", rootfs.tar, "-t", "x:1", "-c", "WORKDIR relative")
    cli.fails(2, "import", rootfs.tar, "-t", "x:1", "-c", "EXPOSE http")
    cli.fails(2, "import", rootfs.tar, "-t", "x:1", "--compression", "lz4")
    cli.fails(2, "import", rootfs.tar, "-t", "x:1", "--platform", "linux/amd64/v1/extra")
    cli.fails(2, "save", "busybox:1.0", "-o", tmp_path / "x.tar", "--format", "zip")
    cli.fails(2, "copy", "busybox:1.0", f"store:busybox@sha256:{'0' * 64}", needles=("digest",))
    cli.fails(2, "tag", "busybox:1.0")
    cli.fails(2, "no-such-verb")
    cli.fails(3, "inspect", "busybox:1.0", "--platform", "linux/s390x")
    assert not (tmp_path / "x.tar").exists()


def test_not_a_tar(cli: Cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(os.urandom(4096))
    cli.fails(4, "import", junk, "-t", "x:1", needles=("not a tar",))
    cli.fails(4, "load", "-i", junk)
    gz = tmp_path / "junk.tar.gz"
    gz.write_bytes(gzip.compress(b"hello, not a tar at all"))
    cli.fails(4, "import", gz, "-t", "x:1")


def test_failed_write_leaves_no_temp_files(cli: Cli, busybox: str, tmp_path: Path) -> None:
    layout = _layout_of_busybox(cli, tmp_path / "layout")
    blob = _blob(layout, _layer_digest(layout))
    blob.write_bytes(blob.read_bytes()[:-10])
    cli.fails(4, "copy", f"oci:{layout}:1.0", "bad:1")
    assert list((Store.open().root / "tmp").iterdir()) == []


def test_load_reports_the_images_stored_before_a_broken_one(cli: Cli, busybox: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "small.tar"
    small.write_bytes(tar_bytes([("hello.txt", b"hello\n")]))
    first = cli.json("import", small, "-t", "small:1")
    assert isinstance(first, dict)
    archive = tmp_path / "two.tar"
    cli.ok("save", "small:1", "busybox:1.0", "-o", archive)
    layer = json.loads(cli.ok("inspect", "busybox:1.0", "--raw").out)["layers"][0]["digest"]
    with tarfile.open(archive) as tf:
        offset = tf.getmember(f"blobs/sha256/{layer.removeprefix('sha256:')}").offset_data
    with open(archive, "r+b") as f:  # flip one byte inside busybox's layer: same size, wrong digest
        f.seek(offset + 5000)
        byte = f.read(1)
        f.seek(offset + 5000)
        f.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / "second-home"))
    result = cli("load", "-i", archive)
    assert_one_error(result, 4, layer)
    assert result.text == f"Loaded image: small:1 {first['digest']}\n"
    assert [r["repository"] for r in cli.json("images")] == ["small"]  # type: ignore[index]


def test_copy_to_a_layout_that_is_a_file(cli: Cli, busybox: str, tmp_path: Path) -> None:
    target = tmp_path / "plain-file"
    target.write_text("not a layout")
    cli.fails(2, "copy", "busybox:1.0", f"oci:{target}:1", needles=("not a directory",))


def test_cli_internal_error_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A bug (not bad input) still ends in one line, exit 70, and the traceback only with --debug."""
    from dockyard.cli.commands import version as version_module
    from dockyard.cli.main import run

    def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(version_module.version, "callback", broken)
    for argv, traceback_shown in ((["version"], False), (["--debug", "version"], True)):
        with pytest.raises(SystemExit) as exited:
            run(argv)
        err = capsys.readouterr().err
        assert exited.value.code == 70
        assert "dockyard: error: internal error: RuntimeError: boom" in err
        assert ("Traceback" in err) is traceback_shown
        assert ("run with --debug" in err) is not traceback_shown
