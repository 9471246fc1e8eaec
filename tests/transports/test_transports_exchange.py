"""`save` and `load` (library and CLI) against real peers: skopeo, and a real Docker Engine loading and running them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.cli.main import run
from dockyard.errors import InvalidArgument, InvalidContent
from dockyard.image.validate import validate
from dockyard.layers.extract import extract_layers
from dockyard.oci.protocols import Image
from dockyard.testing.docker import docker
from dockyard.testing.peers import missing_peer
from dockyard.transports.exchange import ArchiveFormat, detect_format, load, save
from dockyard.transports.store import Store

Peer = Callable[..., str]
BUSYBOX = Path("/bin/busybox")


def dockyard(*args: str | os.PathLike[str]) -> None:
    """The CLI in-process; fails the test unless it exits 0."""
    try:
        run([os.fspath(a) for a in args])
    except SystemExit as exc:
        assert exc.code in (0, None), f"dockyard {' '.join(map(str, args))} exited {exc.code}"


@pytest.fixture(scope="module")
def busybox_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """busybox-static with `--install -s` applets relinked relative, plus the directories a container needs."""
    if not BUSYBOX.is_file():
        missing_peer("busybox-static is not installed (apt-get install busybox-static)")
    root = tmp_path_factory.mktemp("busybox") / "rootfs"
    (root / "bin").mkdir(parents=True)
    for name in ("etc", "proc", "sys", "dev", "tmp", "root"):
        (root / name).mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    subprocess.run([str(root / "bin" / "busybox"), "--install", "-s", str(root / "bin")], check=True)
    for applet in (root / "bin").iterdir():
        if applet.is_symlink():
            applet.unlink()
            applet.symlink_to("busybox")
    return root


def _stored(ref: str, store: Store | None = None) -> Image:
    image = (store or Store.open()).get(ref)
    assert isinstance(image, Image)
    return image


def test_save_and_load_many_images(images, tmp_path: Path) -> None:
    dockyard("copy", f"oci:{images.layout}:app", "busybox:app")
    dockyard("copy", f"oci:{images.layout}:base", "store:ghcr.io/example/busybox:base")
    refs = ["busybox:app", "ghcr.io/example/busybox:base", f"oci:{images.layout}:base"]
    for fmt in ArchiveFormat:
        out = tmp_path / f"{fmt.value}.tar"
        saved = save(refs, out, fmt)
        assert saved.names == ("busybox:app", "ghcr.io/example/busybox:base")  # a layout tag is not a name
        assert [d.digest for d in saved.images] == [_stored(r).digest() for r in refs[:2]] + [saved.images[1].digest]
        assert detect_format(out) is fmt
        other = Store.open(tmp_path / f"store-{fmt.value}")
        loaded = load(out, other)
        assert {n for item in loaded for n in item.names} == {"busybox:app", "ghcr.io/example/busybox:base"}
        for name in ("busybox:app", "ghcr.io/example/busybox:base"):
            theirs = _stored(name, other)
            validate(theirs)
            assert theirs.raw_manifest() == _stored(name).raw_manifest()
            assert theirs.raw_config() == _stored(name).raw_config()


def test_save_and_load_refuse_nonsense(tmp_path: Path, tar_of) -> None:
    with pytest.raises(InvalidArgument):
        save([], tmp_path / "empty.tar")
    neither = tar_of(tmp_path / "neither.tar", {"hello.txt": b"hi"})
    with pytest.raises(InvalidContent, match="neither a docker-archive"):
        detect_format(neither)
    with pytest.raises(InvalidContent):
        load(neither)
    assert Store.open().list() == []


def test_skopeo_reads_what_dockyard_saves(busybox_tree: Path, peer: Peer, tmp_path: Path) -> None:
    dockyard("import", busybox_tree, "-t", "dockyard-test/busybox:1", "-c", 'CMD ["/bin/sh"]')
    image = _stored("dockyard-test/busybox:1")
    out = tmp_path / "busybox.tar"
    dockyard("save", "dockyard-test/busybox:1", "-o", out)
    inspected = json.loads(peer("skopeo", "inspect", f"docker-archive:{out}"))
    assert inspected["Architecture"] == image.config().architecture and inspected["Os"] == "linux"
    assert len(inspected["Layers"]) == 1
    config = peer("skopeo", "inspect", "--config", "--raw", f"docker-archive:{out}")
    assert config.encode() == image.raw_config()
    assert json.loads(config)["config"]["Cmd"] == ["/bin/sh"]
    dockyard("save", "dockyard-test/busybox:1", "-o", tmp_path / "busybox.oci.tar", "--format", "oci-archive")
    raw = peer("skopeo", "inspect", "--raw", f"oci-archive:{tmp_path / 'busybox.oci.tar'}:dockyard-test/busybox:1")
    assert raw.encode() == image.raw_manifest()
    layout = tmp_path / "layout"
    dockyard("copy", "dockyard-test/busybox:1", f"oci:{layout}:1")
    assert json.loads(peer("skopeo", "inspect", f"oci:{layout}:1"))["Digest"] == str(image.digest())
    assert str(image.manifest().layers[0].digest) in peer("umoci", "stat", "--image", f"{layout}:1")
    # skopeo converts a docker-archive to OCI as it copies it (re-serializing the config); the content survives
    peer("skopeo", "copy", "-q", f"docker-archive:{out}", f"oci:{tmp_path / 'via-skopeo'}:1")
    dockyard("copy", f"oci:{tmp_path / 'via-skopeo'}:1", "via-skopeo:1")
    back = _stored("via-skopeo:1")
    validate(back)
    assert json.loads(back.raw_config()) == json.loads(image.raw_config())


def _docker_run(host: str, ref: str) -> str:
    return docker(host, "run", "--rm", "--network", "none", ref, "/bin/sh", "-c", "echo ok").stdout.decode().strip()


def test_docker_loads_and_runs_what_dockyard_imports(busybox_tree: Path, docker_host: str, tmp_path: Path) -> None:
    ref = "dockyard-test/imported:1"
    dockyard("import", busybox_tree, "-t", ref, "-c", 'CMD ["/bin/sh"]', "-c", "ENV PATH=/bin")
    out = tmp_path / "imported.tar"
    dockyard("save", ref, "-o", out)
    loaded = docker(docker_host, "load", "-i", str(out)).stdout.decode()
    assert f"Loaded image: {ref}" in loaded
    try:
        assert _docker_run(docker_host, ref) == "ok"
        image_id = docker(docker_host, "image", "inspect", "--format", "{{.Id}}", ref).stdout.decode().strip()
        assert image_id == str(_stored(ref).manifest().config.digest)
    finally:
        docker(docker_host, "rmi", "-f", ref, check=False)


def test_docker_saved_images_load_into_dockyard(busybox_tree: Path, docker_host: str, tmp_path: Path) -> None:
    """`docker import` + `docker save` on the real engine, `dockyard load`, then back to docker and run."""
    rootfs_tar = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs_tar, "w") as tf:
        tf.add(busybox_tree, arcname=".")
    ref = "dockyard-test/from-docker:1"
    docker(docker_host, "import", "--change", 'CMD ["/bin/sh"]', str(rootfs_tar), ref)
    saved = tmp_path / "docker-saved.tar"
    try:
        docker(docker_host, "save", "-o", str(saved), ref)
        engine_id = docker(docker_host, "image", "inspect", "--format", "{{.Id}}", ref).stdout.decode().strip()
    finally:
        docker(docker_host, "rmi", "-f", ref, check=False)
    dockyard("load", "-i", saved)
    image = _stored(ref)
    validate(image)
    assert str(image.manifest().config.digest) == engine_id
    assert image.config().config.cmd == ("/bin/sh",)
    unpacked = tmp_path / "unpacked"
    extract_layers(image.layers(), unpacked)
    assert (unpacked / "bin" / "busybox").read_bytes() == BUSYBOX.read_bytes()
    assert os.readlink(unpacked / "bin" / "sh") == "busybox"

    again = tmp_path / "again.tar"
    dockyard("save", ref, "-o", again)
    docker(docker_host, "load", "-i", str(again))
    try:
        assert _docker_run(docker_host, ref) == "ok"
    finally:
        docker(docker_host, "rmi", "-f", ref, check=False)


def test_oci_archive_names(images, tmp_path: Path) -> None:
    """containerd's full name wins; a bare tag or a ref.name that is no image name loads unnamed."""
    layout = images.copy_layout(tmp_path / "layout")
    index = json.loads((layout / "index.json").read_bytes())
    by_tag = {e["annotations"]["org.opencontainers.image.ref.name"]: e for e in index["manifests"]}
    by_tag["base"]["annotations"]["io.containerd.image.name"] = "docker.io/library/busybox:base"
    by_tag["app"]["annotations"]["org.opencontainers.image.ref.name"] = "Not/AN:Image-Name"
    (layout / "index.json").write_text(json.dumps(index))
    archive = tmp_path / "named.oci.tar"
    with tarfile.open(archive, "w") as tf:
        for path in sorted(layout.rglob("*")):
            tf.add(path, arcname=str(path.relative_to(layout)), recursive=False)
    loaded = load(archive)
    assert sorted(item.names for item in loaded) == [(), ("busybox:base",)]
    assert {r.reference.familiar if r.reference else None for r in Store.open().list()} == {"busybox:base", None}
