"""CLI interop with skopeo through a real CNCF registry: `dockyard push` is pulled identically by `skopeo copy`,
and what `skopeo copy` pushes is pulled identically by `dockyard pull`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_testkit import Cli, make_index

from dockyard.image.validate import validate
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.testing.cncf import CncfRegistry, cncf_registry
from dockyard.testing.peers import require_tool
from dockyard.transports.layout import Layout
from dockyard.transports.resolve import open_location


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CncfRegistry]:
    with cncf_registry(tmp_path_factory.mktemp("cncf-cli-interop")) as reg:
        yield reg


@pytest.fixture(autouse=True)
def _no_user_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-xdg-runtime"))


def skopeo(*args: str | Path) -> bytes:
    require_tool("skopeo")
    proc = subprocess.run(["skopeo", "--insecure-policy", *map(str, args)], capture_output=True, timeout=300,
                          check=False)
    if proc.returncode != 0:
        pytest.fail(f"skopeo {' '.join(map(str, args))} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def layout_top(path: Path, tag: str) -> Digest:
    """The digest `tag` names in an OCI layout, read from index.json as skopeo wrote it."""
    for entry in json.loads((path / "index.json").read_text())["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return Digest.parse(entry["digest"])
    raise AssertionError(f"no {tag} in {path}/index.json")


def test_cli_remote_skopeo_pulls_what_we_push(cli: Cli, busybox: str, registry: CncfRegistry, tmp_path: Path) -> None:
    ref = registry.ref("interop/ours:1.0")
    cli.ok("push", "busybox:1.0", ref)
    raw = cli.ok("inspect", "busybox:1.0", "--raw").out
    assert skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}") == raw
    out = tmp_path / "skopeo-layout"
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"oci:{out}:1.0")
    assert str(layout_top(out, "1.0")) == busybox
    copied = Layout.open(out).get("1.0")
    assert isinstance(copied, Image) and copied.raw_manifest() == raw
    assert copied.raw_config() == cli.ok("inspect", "busybox:1.0", "--config").out
    validate(copied)


def test_cli_remote_skopeo_pulls_our_index(cli: Cli, rootfs: object, registry: CncfRegistry, tmp_path: Path) -> None:
    index_digest = make_index(cli, rootfs)  # type: ignore[arg-type]
    ref = registry.ref("interop/multi:1")
    cli.ok("push", "multi:1", ref)
    out = tmp_path / "all"
    skopeo("copy", "--all", "--src-tls-verify=false", f"docker://{ref}", f"oci:{out}:1")
    assert str(layout_top(out, "1")) == index_digest
    copied = Layout.open(out).get("1")
    assert isinstance(copied, ImageIndex)
    validate(copied)


@pytest.mark.parametrize("fmt", ["oci", "v2s2"])
def test_cli_remote_we_pull_what_skopeo_pushes(cli: Cli, busybox: str, registry: CncfRegistry, tmp_path: Path,
                                               fmt: str) -> None:
    """skopeo writes the manifest (v2s2: a Docker schema 2 manifest and config of its own making); we pull it
    byte for byte, as skopeo itself pulls it."""
    cli.ok("copy", "busybox:1.0", f"oci:{tmp_path / 'src'}:1.0")
    ref = registry.ref(f"interop/theirs-{fmt}:1.0")
    skopeo("copy", "--dest-tls-verify=false", "--format", fmt, f"oci:{tmp_path / 'src'}:1.0", f"docker://{ref}")
    theirs = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}")
    expected = Digest.of(theirs)
    if fmt == "v2s2":
        assert json.loads(theirs)["mediaType"] == MediaType.DOCKER_MANIFEST and str(expected) != busybox

    done = cli.json("pull", ref)
    assert done["digest"] == str(expected)  # type: ignore[index]
    assert cli.ok("inspect", ref, "--raw").out == theirs
    assert cli.ok("manifest", ref).out == theirs
    assert cli.ok("digest", ref).text == f"{expected}\n"
    pulled = open_location(f"store:{ref}")
    assert isinstance(pulled, Image)
    validate(pulled)

    out = tmp_path / "skopeo-pulled"
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"oci:{out}:1.0")
    skopeo_copy = Layout.open(out).get("1.0")
    assert isinstance(skopeo_copy, Image)
    if fmt == "oci":  # skopeo keeps an OCI manifest as it is; a v2s2 one it converts for an OCI layout
        assert skopeo_copy.digest() == expected
    assert [d.digest for d in skopeo_copy.manifest().layers] == [d.digest for d in pulled.manifest().layers]
    assert skopeo_copy.config().diff_ids == pulled.config().diff_ids
