"""The registry verbs of the CLI against a real CNCF registry 2.8.2: push, pull, copy, tags, catalog, digest,
manifest, referrers, delete; `--output json` shapes; progress on stderr; errors as one line with an exit code."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import pytest
from cli_testkit import Cli, Result, assert_one_error, make_index, store_state, subprocess_dockyard

from dockyard.errors import BlobUnknown
from dockyard.image.validate import validate
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import ImageManifest
from dockyard.oci.mediatype import EMPTY_JSON, MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.testing.cncf import CncfRegistry, cncf_registry, free_port
from dockyard.transports import remote
from dockyard.transports.blobs import BlobImage
from dockyard.transports.layout import Layout
from dockyard.transports.resolve import open_location
from dockyard.transports.store import Store

HOST = Platform.host()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CncfRegistry]:
    """One anonymous CNCF registry for this module; every test pushes to repositories named after itself."""
    with cncf_registry(tmp_path_factory.mktemp("cncf-cli")) as reg:
        yield reg


@pytest.fixture(autouse=True)
def _no_user_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the real user's docker or podman credentials."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-xdg-runtime"))


@pytest.fixture
def repo(request: pytest.FixtureRequest, registry: CncfRegistry) -> str:
    """`HOST:PORT/<test name>`: a repository prefix of the module registry unique to the test."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:80]
    return registry.ref(name)


def fresh_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str = "second-home") -> None:
    """Point DOCKYARD_HOME at a new, empty store (so a pull really downloads)."""
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / name))


def names_in_store() -> dict[str, str]:
    """Every stored name and the digest it points to."""
    return {name: str(rec.digest) for rec in Store.open().list() for name in map(str, rec.names)}


# -- push -------------------------------------------------------------------------------------------------


def test_cli_remote_push_with_and_without_destination(cli: Cli, busybox: str, repo: str) -> None:
    done = cli.json("push", "busybox:1.0", f"{repo}/app:1.0")
    assert done == {"reference": f"{repo}/app:1.0", "digest": busybox,
                    "media_type": MediaType.OCI_MANIFEST, "size": len(cli.ok("inspect", "busybox:1.0", "--raw").out)}
    # Without DEST a registry-qualified store name goes to its own registry.
    cli.ok("tag", "busybox:1.0", f"{repo}/own:2")
    result = cli.ok("push", f"{repo}/own:2")
    assert result.text == f"{repo}/own:2 {busybox}\n"
    assert cli.ok("digest", f"{repo}/own:2").text == f"{busybox}\n"
    assert cli.ok("digest", f"{repo}/app:1.0").text == f"{busybox}\n"
    pushed = remote.open_remote(f"{repo}/own:2")
    assert isinstance(pushed, Image)
    validate(pushed)


def test_cli_remote_push_from_an_oci_layout(cli: Cli, busybox: str, repo: str, tmp_path: Path) -> None:
    cli.ok("copy", "busybox:1.0", f"oci:{tmp_path / 'layout'}:1.0")
    assert cli.json("push", f"oci:{tmp_path / 'layout'}:1.0", f"{repo}/from-oci:1.0")["digest"] == busybox  # type: ignore[index]
    assert cli.ok("tags", f"{repo}/from-oci").text == "1.0\n"
    # A layout names no registry, so there is nowhere to push it by default.
    cli.fails(2, "push", f"oci:{tmp_path / 'layout'}:1.0", needles=("give a destination",))


def test_cli_remote_push_progress_goes_to_stderr(cli: Cli, busybox: str, repo: str) -> None:
    """In a pipe, one plain line per blob on stderr; stdout carries only the result."""
    result = cli.ok("push", "busybox:1.0", f"{repo}/p:1")
    assert result.text == f"{repo}/p:1 {busybox}\n"
    lines = result.err.splitlines()
    manifest = ImageManifest.parse(cli.ok("inspect", "busybox:1.0", "--raw").out)
    expected = {f"push: pushed {d.digest.short} ({d.size} bytes)" for d in (manifest.config, *manifest.layers)}
    assert set(lines) == expected | {f"push: manifest {Digest.parse(busybox).short} ({len(manifest.raw)} bytes)"}
    assert lines[-1].startswith("push: manifest ")
    again = cli.ok("push", "busybox:1.0", f"{repo}/p:2")
    assert {line.split()[1] for line in again.err.splitlines()} == {"exists", "manifest"}


def test_cli_remote_progress_in_a_real_pipe(busybox: str, repo: str, tmp_path: Path) -> None:
    """The console script in a subprocess: stderr is a pipe, not a TTY, so no bar, no escape codes."""
    pushed = subprocess_dockyard("push", "busybox:1.0", f"{repo}/pipe:1")
    assert pushed.code == 0, pushed.err
    assert pushed.text == f"{repo}/pipe:1 {busybox}\n"
    assert pushed.err and all(line.startswith("push: ") for line in pushed.err.splitlines())
    assert "\x1b" not in pushed.err
    pulled = subprocess_dockyard("pull", f"{repo}/pipe:1", env={"DOCKYARD_HOME": str(tmp_path / "pipe-home")})
    assert pulled.code == 0, pulled.err
    assert pulled.text == f"{repo}/pipe:1 {busybox}\n"
    words = [line.split()[1] for line in pulled.err.splitlines()]
    assert words and set(words) == {"pulled"} and len(words) == 2  # config and the one layer, each once
    assert "\x1b" not in pulled.err


# -- pull -------------------------------------------------------------------------------------------------


def test_cli_remote_pull_into_the_store(cli: Cli, busybox: str, repo: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    raw = cli.ok("inspect", "busybox:1.0", "--raw").out
    cli.ok("push", "busybox:1.0", f"{repo}/bb:1.0")
    fresh_store(monkeypatch, tmp_path)
    before = store_state(cli)
    assert before[0] == []
    done = cli.json("pull", f"{repo}/bb:1.0")
    assert done == {"reference": f"{repo}/bb:1.0", "digest": busybox, "media_type": MediaType.OCI_MANIFEST}
    assert names_in_store() == {f"{repo}/bb:1.0": busybox}
    assert cli.ok("inspect", f"{repo}/bb:1.0", "--raw").out == raw
    image = open_location(f"store:{repo}/bb:1.0")
    assert isinstance(image, Image)
    validate(image)
    # The docker:// spelling, and a pull by digest is named repo@digest (not a dangling image prune would take).
    cli.ok("pull", f"docker://{repo}/bb:1.0")
    cli.ok("rmi", f"{repo}/bb:1.0")
    cli.ok("pull", f"{repo}/bb@{busybox}")
    assert names_in_store() == {f"{repo}/bb@{busybox}": busybox}
    assert cli.json("prune", "--dry-run")["images"] == []  # type: ignore[index]


def test_cli_remote_pull_platforms_of_an_index(cli: Cli, rootfs: object, repo: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    index_digest = make_index(cli, rootfs)  # type: ignore[arg-type]  # multi:1 = part:amd64 + part:arm64
    parts = {arch: str(Store.open().resolve(f"part:{arch}").digest) for arch in ("amd64", "arm64")}
    index = Store.open().get("multi:1")
    assert isinstance(index, ImageIndex)
    remote.push(index, f"{repo}/multi:1")  # pushed through the library
    fresh_store(monkeypatch, tmp_path)

    default = cli.json("pull", f"{repo}/multi:1")
    assert default["digest"] == parts[HOST.architecture]  # type: ignore[index]  # this machine's platform
    assert cli.json("pull", f"{repo}/multi:1", "--platform", "linux/arm64")["digest"] == parts["arm64"]  # type: ignore[index]
    assert names_in_store() == {f"{repo}/multi:1": parts["arm64"]}  # the tag moved to the last pull

    fresh_store(monkeypatch, tmp_path, "all-home")
    everything = cli.json("pull", f"{repo}/multi:1", "--all-platforms")
    assert everything == {"reference": f"{repo}/multi:1", "digest": index_digest, "media_type": MediaType.OCI_INDEX}
    listed = cli.json("images")
    assert isinstance(listed, list) and len(listed) == 1
    assert listed[0]["platforms"] == ["linux/amd64", "linux/arm64"]
    pulled = open_location(f"store:{repo}/multi:1")
    assert isinstance(pulled, ImageIndex)
    validate(pulled)
    for arch, digest in parts.items():  # every child and its blobs are in the store
        child = Store.open().get(digest)
        assert isinstance(child, Image) and child.config().platform.architecture == arch
        validate(child)

    cli.fails(3, "pull", f"{repo}/multi:1", "--platform", "linux/s390x",
              needles=("no image for platform linux/s390x", "linux/amd64, linux/arm64"))
    cli.fails(2, "pull", f"{repo}/multi:1", "--platform", "linux/arm64", "--all-platforms",
              needles=("exclude each other",))


def test_cli_remote_pull_single_image_wrong_platform(cli: Cli, busybox: str, repo: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cli.ok("push", "busybox:1.0", f"{repo}/one:1")
    fresh_store(monkeypatch, tmp_path)
    other = "linux/arm64" if HOST.architecture != "arm64" else "linux/amd64"
    before = store_state(cli)
    result = cli("pull", f"{repo}/one:1", "--platform", other)
    # The config had to be read to learn the platform: its progress line may come before the one error line.
    progress = [line for line in result.err.splitlines() if line.startswith("pull: pulled ")]
    assert_one_error(Result(result.code, result.out, "\n".join(
        line for line in result.err.splitlines() if line not in progress)), 3, f"not {other}")
    assert store_state(cli) == before
    assert cli.json("pull", f"{repo}/one:1", "--platform", str(HOST))["digest"] == busybox  # type: ignore[index]


# -- copy -------------------------------------------------------------------------------------------------


def test_cli_remote_copy_between_registry_and_layouts(cli: Cli, busybox: str, repo: str, tmp_path: Path,
                                                      registry: CncfRegistry) -> None:
    raw = cli.ok("inspect", "busybox:1.0", "--raw").out
    cli.ok("copy", "busybox:1.0", f"oci:{tmp_path / 'src'}:1.0")
    # oci -> registry
    up = cli.json("copy", f"oci:{tmp_path / 'src'}:1.0", f"{repo}/c:1.0")
    assert isinstance(up, dict) and set(up) == {"destination", "descriptor", "names"}
    assert up["destination"] == f"docker://{repo}/c:1.0" and up["descriptor"]["digest"] == busybox
    assert up["names"] == [f"{repo}/c:1.0"]
    # registry -> oci, tag carried over from the source as skopeo does
    down = cli.json("copy", f"{repo}/c:1.0", f"oci:{tmp_path / 'dst'}")
    assert down["descriptor"]["digest"] == busybox  # type: ignore[index]
    copied = Layout.open(tmp_path / "dst").get("1.0")
    assert isinstance(copied, Image) and copied.raw_manifest() == raw
    validate(copied)
    # registry -> registry, another repository: blobs are mounted, not sent again
    across = cli.json("copy", f"docker://{repo}/c:1.0", f"docker://{repo}/mounted:x")
    assert across["descriptor"]["digest"] == busybox  # type: ignore[index]
    log = registry.log.read_text(errors="replace")
    mounted = repo.split("/", 1)[1] + "/mounted"
    assert f"POST /v2/{mounted}/blobs/uploads/?mount=" in log
    assert f"PATCH /v2/{mounted}/" not in log and f"PUT /v2/{mounted}/blobs/" not in log
    assert remote.get_manifest_raw(f"{repo}/mounted:x").raw == raw


def test_cli_remote_copy_registry_to_registry_index(cli: Cli, rootfs: object, repo: str) -> None:
    index_digest = make_index(cli, rootfs)  # type: ignore[arg-type]
    cli.ok("push", "multi:1", f"{repo}/multi:1")
    assert cli.json("copy", f"{repo}/multi:1", f"{repo}/again:1")["descriptor"]["digest"] == index_digest  # type: ignore[index]
    copied = remote.open_remote(f"{repo}/again:1")
    assert isinstance(copied, ImageIndex)
    validate(copied)


def test_cli_remote_registry_qualified_names(cli: Cli, busybox: str, repo: str, tmp_path: Path) -> None:
    """As a destination a registry-qualified name is a push; as a source the store wins when it has the name."""
    written = cli.json("copy", "busybox:1.0", f"{repo}/q:3")
    assert written["destination"] == f"docker://{repo}/q:3"  # type: ignore[index]
    assert cli.ok("digest", f"{repo}/q:3").text == f"{busybox}\n"
    cli.fails(3, "inspect", f"store:{repo}/q:3")  # nothing was named in the store
    # In the store only: read from the store, the registry is never asked.
    cli.ok("tag", "busybox:1.0", f"{repo}/local-only:1")
    cli.ok("copy", f"{repo}/local-only:1", f"oci:{tmp_path / 'l'}")
    assert Layout.open(tmp_path / "l").get("1").digest() == Digest.parse(busybox)
    cli.fails(3, "digest", f"{repo}/local-only:1", needles=("manifest unknown",))
    # In the registry only: read from the registry.
    cli.ok("copy", f"{repo}/q:3", f"oci:{tmp_path / 'r'}")
    assert Layout.open(tmp_path / "r").get("3").digest() == Digest.parse(busybox)


# -- discovery ------------------------------------------------------------------------------------------


def test_cli_remote_tags_catalog_digest_manifest(cli: Cli, busybox: str, repo: str, registry: CncfRegistry) -> None:
    for tag in ("1.0", "latest", "b"):
        cli.ok("push", "busybox:1.0", f"{repo}/t:{tag}")
    assert sorted(cli.ok("tags", f"{repo}/t").text.split()) == ["1.0", "b", "latest"]
    tags = cli.json("tags", f"docker://{repo}/t")
    assert isinstance(tags, dict) and tags["repository"] == f"{repo}/t"
    assert sorted(tags["tags"]) == ["1.0", "b", "latest"]

    name = repo.split("/", 1)[1] + "/t"
    assert name in cli.ok("catalog", registry.host).text.splitlines()
    listing = cli.json("catalog", registry.host)
    assert isinstance(listing, dict) and listing["registry"] == registry.host and name in listing["repositories"]

    size = len(cli.ok("inspect", "busybox:1.0", "--raw").out)
    assert cli.json("digest", f"{repo}/t:b") == {"reference": f"{repo}/t:b", "digest": busybox,
                                                 "media_type": MediaType.OCI_MANIFEST, "size": size}
    raw = cli.ok("manifest", f"{repo}/t:latest").out
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == busybox
    assert raw == cli.ok("inspect", "busybox:1.0", "--raw").out
    assert cli.ok("manifest", f"{repo}/t@{busybox}").out == raw


def _artifact(subject: Descriptor, payload: bytes) -> BlobImage:
    """An OCI 1.1 artifact (empty config, one JSON layer) whose subject is `subject`."""
    blobs: dict[Digest, bytes] = {}

    def add(media_type: str, data: bytes) -> Descriptor:
        desc = Descriptor.for_bytes(media_type, data)
        blobs[desc.digest] = data
        return desc

    class Source:
        def open_blob(self, digest: Digest) -> BinaryIO:
            if digest not in blobs:
                raise BlobUnknown(f"no blob {digest}")
            return io.BytesIO(blobs[digest])

    manifest = ImageManifest.build(add(MediaType.OCI_EMPTY, EMPTY_JSON), [add("application/json", payload)],
                                   artifact_type="application/vnd.dockyard.test.sbom+json", subject=subject,
                                   annotations={"org.opencontainers.image.title": "sbom"})
    return BlobImage(Source(), manifest.raw)


def test_cli_remote_referrers(cli: Cli, busybox: str, repo: str) -> None:
    cli.ok("push", "busybox:1.0", f"{repo}/r:1")
    assert cli.json("referrers", f"{repo}/r:1") == []
    subject = remote.head_digest(f"{repo}/r:1")
    artifact = _artifact(subject, b'{"packages": []}')
    remote.attach(f"{repo}/r:1", artifact)  # CNCF 2.8 has no referrers API: the tag schema fallback is used
    listed = cli.json("referrers", f"{repo}/r:1")
    assert listed == [{"digest": str(artifact.digest()), "media_type": MediaType.OCI_MANIFEST,
                       "artifact_type": "application/vnd.dockyard.test.sbom+json",
                       "size": len(artifact.raw_manifest()),
                       "annotations": {"org.opencontainers.image.title": "sbom"}}]
    table = cli.ok("referrers", f"{repo}/r@{busybox}").text.splitlines()
    assert table[0].split() == ["DIGEST", "ARTIFACT", "TYPE", "SIZE"]
    assert table[1].split() == [str(artifact.digest()), "application/vnd.dockyard.test.sbom+json",
                                str(len(artifact.raw_manifest()))]
    assert cli.json("referrers", f"{repo}/r:1", "--artifact-type", "application/other") == []


def test_cli_remote_delete(cli: Cli, busybox: str, repo: str) -> None:
    cli.ok("push", "busybox:1.0", f"{repo}/d:1")
    cli.ok("push", "busybox:1.0", f"{repo}/d:keep")
    assert cli.json("delete", f"{repo}/d:1") == {"reference": f"{repo}/d:1", "deleted": busybox}
    # The manifest is gone, so every tag on it goes too (distribution semantics).
    cli.fails(3, "digest", f"{repo}/d:1", needles=("manifest unknown",))
    cli.fails(3, "pull", f"{repo}/d:keep", needles=("manifest unknown",))
    cli.fails(3, "delete", f"{repo}/d:1", needles=("manifest unknown",))
    cli.ok("push", "busybox:1.0", f"{repo}/d:2")
    assert cli.ok("delete", f"{repo}/d@{busybox}").text == f"Deleted: {busybox}\n"
    cli.fails(3, "manifest", f"{repo}/d@{busybox}")


# -- errors ---------------------------------------------------------------------------------------------


def test_cli_remote_unknown_tag_and_repository(cli: Cli, busybox: str, repo: str) -> None:
    cli.ok("push", "busybox:1.0", f"{repo}/u:1")
    for verb in ("pull", "digest", "manifest", "delete", "referrers"):
        line = cli.fails(3, verb, f"{repo}/u:nope")
        assert "manifest unknown" in line and f"{repo}/u:nope" in line, line
    cli.fails(3, "copy", f"docker://{repo}/u:nope", "x:1", needles=("manifest unknown",))
    cli.fails(3, "tags", f"{repo}/never-pushed", needles=("not found",))


def test_cli_remote_connection_refused(cli: Cli, busybox: str) -> None:
    dead = f"127.0.0.1:{free_port()}"
    for args in (("pull", f"{dead}/x:1"), ("push", "busybox:1.0", f"{dead}/x:1"), ("tags", f"{dead}/x"),
                 ("catalog", dead), ("copy", "busybox:1.0", f"docker://{dead}/x:1")):
        line = cli.fails(1, *args)
        assert line == f"dockyard: error: cannot connect to registry {dead}: connection refused", line


def test_cli_remote_bad_references(cli: Cli, busybox: str) -> None:
    cli.fails(2, "pull", "localhost:5000/UPPER:1")
    cli.fails(2, "push", "busybox:1.0", "localhost:5000/x:bad tag")
    cli.fails(2, "digest", "localhost:5000/x::1")


class _Denying(BaseHTTPRequestHandler):
    """A registry that knows the caller but allows nothing: 403 DENIED for everything past /v2/."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body, status = b"{}", 200
        if self.path != "/v2/":
            denied = {"code": "DENIED", "message": "requested access to the resource is denied"}
            body, status = json.dumps({"errors": [denied]}).encode(), 403
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


def test_cli_remote_denied_is_exit_8(cli: Cli) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Denying)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        cli.fails(8, "tags", f"{host}/secret/app", needles=(host, "access denied", "denied"))
        cli.fails(8, "pull", f"{host}/secret/app:1", needles=(host, "access denied"))
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("verb", ["pull", "push", "login", "logout", "tags", "catalog", "digest", "manifest",
                                  "referrers", "delete"])
def test_cli_remote_help(cli: Cli, verb: str) -> None:
    """Help renders (rich markup: a `[/variant]` in a help text once crashed `pull --help`)."""
    result = cli.ok(verb, "--help")
    assert "Usage" in result.text and "Traceback" not in result.err
