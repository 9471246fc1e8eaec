"""Interop with real tools: umoci images go into the store intact; what the store holds, skopeo and umoci read."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from dockyard.errors import BlobUnknown
from dockyard.image.validate import validate
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.protocols import Image
from dockyard.testing.peers import require_tool
from dockyard.transports.blobs import load_artifact
from dockyard.transports.store import Store


class LayoutBlobs:
    """Just enough of an OCI layout reader for this test (the real transport lives elsewhere)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def open_blob(self, digest: Digest) -> BinaryIO:
        path = self.root / "blobs" / digest.algorithm / digest.encoded
        if not path.is_file():
            raise BlobUnknown(f"{digest} not in {self.root}")
        return path.open("rb")

    def top(self, tag: str) -> Descriptor:
        index = json.loads((self.root / "index.json").read_bytes())
        for entry in index["manifests"]:
            desc = Descriptor.from_json(entry)
            if desc.ref_name == tag:
                return desc
        raise AssertionError(f"no {tag} in {self.root}")


def run(*cmd: str, cwd: Path) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{cmd}: {done.stderr}"
    return done.stdout


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open() as s:
        yield s


@pytest.fixture
def umoci_image(tmp_path: Path) -> Path:
    """An OCI layout `lay` with tag v1 built by umoci: one layer with /etc/hello, Cmd /bin/sh."""
    umoci = require_tool("umoci")
    run(umoci, "init", "--layout", "lay", cwd=tmp_path)
    run(umoci, "new", "--image", "lay:v1", cwd=tmp_path)
    (tmp_path / "rootfs" / "etc").mkdir(parents=True)
    (tmp_path / "rootfs" / "etc" / "hello").write_text("hello from umoci\n")
    run(umoci, "insert", "--image", "lay:v1", "rootfs/etc", "/etc", cwd=tmp_path)
    run(umoci, "config", "--image", "lay:v1", "--config.cmd", "/bin/sh", cwd=tmp_path)
    return tmp_path / "lay"


@pytest.mark.peer("umoci")
@pytest.mark.peer("skopeo")
def test_store_roundtrip_with_umoci_and_skopeo(store: Store, umoci_image: Path, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    umoci = require_tool("umoci")
    layout = LayoutBlobs(umoci_image)
    image = load_artifact(layout, layout.top("v1"))
    assert isinstance(image, Image)
    desc = store.write(image, ["localhost/umoci/test:v1"])
    back = store.get("localhost/umoci/test:v1")
    validate(back)
    assert isinstance(back, Image) and back.config().config.cmd == ("/bin/sh",)
    [row] = store.list()
    assert row.repository == "localhost/umoci/test" and row.tag == "v1" and str(row.platforms[0]).startswith("linux/")

    # export the stored image as a fresh OCI layout, from the store's blobs only
    out = tmp_path / "out"
    (out / "blobs" / "sha256").mkdir(parents=True)
    (out / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    for d in (desc.digest, back.manifest().config.digest, *(lay.digest for lay in back.manifest().layers)):
        with store.open_blob(d) as src, (out / "blobs" / "sha256" / d.encoded).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    entry = Descriptor(desc.media_type, desc.digest, desc.size, {"org.opencontainers.image.ref.name": "v1"})
    (out / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry.to_json()]}))

    # skopeo copies it (verifying every digest) and reports the same manifest digest
    run(skopeo, "copy", "oci:out:v1", "oci:copied:v1", cwd=tmp_path)
    inspected = json.loads(run(skopeo, "inspect", "oci:copied:v1", cwd=tmp_path))
    assert inspected["Digest"] == str(desc.digest)
    # umoci unpacks it to the original file
    run(umoci, "unpack", "--image", "out:v1", "bundle", cwd=tmp_path)
    assert (tmp_path / "bundle" / "rootfs" / "etc" / "hello").read_text() == "hello from umoci\n"
