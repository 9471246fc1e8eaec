"""The local store: writing, reading back, names, lookups, tag/untag/rmi and disk usage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_testkit import MemoryBlobs, blob_files, make_image, make_index

from dockyard.errors import Conflict, InvalidArgument, InvalidReference, ManifestUnknown, NotFound
from dockyard.image.validate import validate
from dockyard.oci.digest import Digest
from dockyard.oci.mediatype import MediaType
from dockyard.oci.platform import Platform
from dockyard.oci.protocols import Image, ImageIndex
from dockyard.oci.reference import Reference
from dockyard.transports.store import Store, default_store_root, dockyard_home


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.open() as s:
        yield s


@pytest.fixture
def src() -> MemoryBlobs:
    return MemoryBlobs()


def ref(text: str) -> Reference:
    return Reference.parse(text)


def test_store_home_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKYARD_HOME", str(tmp_path / "h"))
    assert default_store_root() == tmp_path / "h" / "store"
    monkeypatch.delenv("DOCKYARD_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert dockyard_home() == tmp_path / "xdg" / "dockyard"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dockyard_home() == tmp_path / "home" / ".local" / "share" / "dockyard"


def test_store_open_creates_layout(store: Store) -> None:
    assert store.root == Path(str(default_store_root()))
    for sub in ("blobs/sha256", "tmp"):
        assert (store.root / sub).is_dir()
    assert (store.root / "store.db").is_file()
    mode = store.meta._query("PRAGMA journal_mode")[0][0]
    assert mode == "wal"


def test_store_write_and_read_back_validates(store: Store, src: MemoryBlobs) -> None:
    img = make_image(src, "one", layers=2)
    desc = store.write(img, [ref("busybox:1.36")])
    assert desc.digest == img.digest()
    assert desc.media_type == MediaType.OCI_MANIFEST
    assert desc.size == len(img.raw_manifest())
    back = store.get("busybox:1.36")
    assert isinstance(back, Image)
    assert back.raw_manifest() == img.raw_manifest()
    validate(back)
    # every blob is a file named by its digest, with the right bytes
    for digest, data in src.blobs.items():
        assert (store.root / "blobs" / "sha256" / digest.encoded).read_bytes() == data
    assert list((store.root / "tmp").iterdir()) == []


def test_store_lookups(store: Store, src: MemoryBlobs) -> None:
    img = make_image(src, "lookups")
    d = img.digest()
    store.write(img, [ref("docker.io/library/alpine:3"), ref("ghcr.io/acme/app:v1")])
    for text in ("alpine:3", "docker.io/library/alpine:3", "index.docker.io/library/alpine:3",
                 "ghcr.io/acme/app:v1", str(d), f"alpine@{d}", d.encoded, d.encoded[:4], d.encoded[:12],
                 f"sha256:{d.encoded[:8]}"):
        assert store.resolve(text).digest == d, text
    assert store.resolve(ref("alpine:3")).digest == d
    assert store.resolve(Reference("docker.io", "library/alpine", "3")).digest == d


def test_store_not_found_messages(store: Store, src: MemoryBlobs) -> None:
    store.write(make_image(src, "x"), [ref("alpine:3")])
    with pytest.raises(ManifestUnknown, match="no image alpine:latest"):
        store.resolve("alpine")
    with pytest.raises(NotFound, match="local store"):
        store.resolve("sha256:" + "0" * 64)
    with pytest.raises(NotFound):
        store.resolve("beef")  # a valid name and a short ID prefix: neither matches
    with pytest.raises(NotFound):
        store.get("abc")  # too short for an ID: only a name
    with pytest.raises(InvalidReference):
        store.resolve("Not A Ref")


def _colliding_images(src: MemoryBlobs) -> tuple[Image, Image]:
    """Two images whose manifest digests share their first 4 hex digits (found by brute force)."""
    seen: dict[str, Image] = {}
    for i in range(100_000):
        img = make_image(src, f"c{i}", layers=0)
        prefix = img.digest().encoded[:4]
        if prefix in seen:
            return seen[prefix], img
        seen[prefix] = img
    raise AssertionError("no collision")


def test_store_short_id_ambiguity(store: Store) -> None:
    a, b = _colliding_images(MemoryBlobs())
    store.write(a, [])
    store.write(b, [])
    prefix = a.digest().encoded[:4]
    with pytest.raises(InvalidArgument, match="ambiguous") as info:
        store.resolve(prefix)
    assert a.digest().short in info.value.message and b.digest().short in info.value.message
    common = next(i for i in range(4, 64) if a.digest().encoded[i] != b.digest().encoded[i])
    assert store.resolve(a.digest().encoded[:common + 1]).digest == a.digest()
    assert store.resolve(b.digest().encoded[:common + 1]).digest == b.digest()


def test_store_list_rows_like_docker_images(store: Store, src: MemoryBlobs) -> None:
    clock = iter(range(1000, 2000, 10))
    store.clock = lambda: float(next(clock))
    a = make_image(src, "a", platform=Platform("linux", "arm64", "v8"))
    b = make_image(src, "b")
    c = make_image(src, "c")
    store.write(a, [ref("app:1"), ref("app:latest")])
    store.write(b, [])
    store.write(c, [Reference.parse(f"app@{c.digest()}")])
    rows = store.list()
    assert [(r.repository, r.tag) for r in rows] == [("app", "<none>"), ("<none>", "<none>"),
                                                     ("app", "1"), ("app", "latest")]
    first = rows[2]
    assert first.id == a.digest().short and first.digest == a.digest()
    assert first.config_digest == a.manifest().config.digest
    assert first.platforms == (Platform("linux", "arm64", "v8"),)
    assert first.created is not None and first.created.year == 2024
    assert first.size == sum(len(v) for k, v in src.blobs.items()
                             if k in {a.digest(), a.manifest().config.digest, a.manifest().layers[0].digest})
    assert first.repo_tags == ("app:1", "app:latest")
    assert first.repo_digests == (f"app@{a.digest()}",)
    assert rows[1].dangling and rows[1].reference is None
    assert not rows[0].dangling and rows[0].reference == Reference("docker.io", "library/app", None, c.digest())


def test_store_index_with_two_platforms(store: Store, src: MemoryBlobs) -> None:
    amd = make_image(src, "amd", platform=Platform("linux", "amd64"))
    arm = make_image(src, "arm", platform=Platform("linux", "arm64", "v8"), created="2024-05-01T00:00:00Z")
    index = make_index(src, [amd, arm])
    desc = store.write(index, [ref("multi:1")])
    assert desc.media_type == MediaType.OCI_INDEX
    back = store.get("multi:1")
    assert isinstance(back, ImageIndex)
    validate(back)
    assert [d.platform for d in back.manifests()] == [Platform("linux", "amd64"), Platform("linux", "arm64", "v8")]
    [row] = store.list()
    assert row.is_index and row.config_digest is None
    assert row.platforms == (Platform("linux", "amd64"), Platform("linux", "arm64", "v8"))
    assert row.created is not None and row.created.month == 5
    assert row.size == sum(len(v) for v in src.blobs.values())
    # children are reachable by digest, but are not images of their own
    child = store.get(str(arm.digest()))
    assert isinstance(child, Image) and child.config().architecture == "arm64"
    assert store.info(str(arm.digest())).platforms == (Platform("linux", "arm64", "v8"),)
    with pytest.raises(Conflict, match="part of the index"):
        store.remove(str(arm.digest()))
    # tagging a child gives it a record of its own
    store.tag(str(arm.digest()), "multi:arm")
    assert {r.tag for r in store.list()} == {"1", "arm"}


def test_store_tag_and_untag(store: Store, src: MemoryBlobs) -> None:
    a, b = make_image(src, "a"), make_image(src, "b")
    store.write(a, [ref("app:1")])
    store.write(b, [ref("app:2")])
    assert store.tag("app:1", "app:stable") == ref("app:stable")
    assert store.resolve("app:stable").digest == a.digest()
    store.tag(b.digest().encoded[:8], "app:stable")  # a tag moves, as in docker
    assert store.resolve("app:stable").digest == b.digest()
    with pytest.raises(InvalidArgument):
        store.tag("app:1", f"app@{a.digest()}")
    with pytest.raises(NotFound):
        store.tag("nope:1", "app:x")
    assert store.untag("app:1") == a.digest()
    rows = {(r.repository, r.tag, r.digest) for r in store.list()}
    assert ("<none>", "<none>", a.digest()) in rows  # the image stays, dangling
    with pytest.raises(NotFound):
        store.untag("app:1")


def test_store_write_moves_tag_and_rejects_wrong_digest_name(store: Store, src: MemoryBlobs) -> None:
    a, b = make_image(src, "a"), make_image(src, "b")
    store.write(a, [ref("app:latest")])
    store.write(b, ["app:latest"])
    assert store.resolve("app").digest == b.digest()
    assert [r.digest for r in store.list() if r.dangling] == [a.digest()]
    with pytest.raises(InvalidArgument, match="does not match"):
        store.write(make_image(src, "c"), [Reference.parse(f"app@{a.digest()}")])
    assert len(store.list()) == 2


def test_store_rmi_semantics(store: Store, src: MemoryBlobs) -> None:
    a = make_image(src, "a")
    store.write(a, [ref("app:1"), ref("app:2"), ref("other:1")])
    # by name: only that name goes
    result = store.remove("app:1")
    assert result.untagged == (ref("app:1"),) and result.deleted is None and result.bytes_reclaimed == 0
    # by ID with several names: must be forced, like docker
    with pytest.raises(Conflict, match="must be forced"):
        store.remove(a.digest().short)
    result = store.remove(a.digest().short, force=True)
    assert set(result.untagged) == {ref("app:2"), ref("other:1")}
    assert result.deleted == a.digest()
    assert result.bytes_reclaimed == sum(len(v) for v in src.blobs.values())
    assert result.blobs_removed == 3
    assert store.list() == [] and blob_files(store.root) == []
    with pytest.raises(NotFound):
        store.get(str(a.digest()))


def test_store_rmi_by_id_single_name_and_last_name(store: Store, src: MemoryBlobs) -> None:
    a, b = make_image(src, "a"), make_image(src, "b", shared_layer=b"s" * 50)
    c = make_image(src, "c", shared_layer=b"s" * 50)
    store.write(a, [ref("one:1")])
    assert store.remove(str(a.digest())).deleted == a.digest()  # one name: no force needed
    store.write(b, [ref("b:1")])
    store.write(c, [ref("c:1")])
    result = store.remove("b:1")  # the last name: the image goes, but the shared layer stays for c
    assert result.deleted == b.digest()
    shared = b.manifest().layers[0].digest
    assert shared == c.manifest().layers[0].digest
    assert store.has_blob(shared)
    validate(store.get("c:1"))


def test_store_disk_usage(store: Store, src: MemoryBlobs) -> None:
    a, b = make_image(src, "a"), make_image(src, "b")
    store.write(a, [ref("a:1")])
    store.write(b, [])
    usage = store.disk_usage()
    assert usage.images == 2 and usage.dangling == 1 and usage.blobs == 6
    assert usage.bytes == sum(len(v) for v in src.blobs.values())
    b_bytes = len(b.raw_manifest()) + len(b.raw_config()) + b.manifest().layers[0].size
    assert usage.reclaimable == b_bytes


def test_store_put_blob_is_idempotent(store: Store, src: MemoryBlobs) -> None:
    img = make_image(src, "again")
    store.write(img, [ref("a:1")])
    store.write(img, [ref("a:2")])  # all blobs present: nothing re-written, new name recorded
    cfg = img.manifest().config
    with img.open_blob(cfg) as stream:
        store.put_blob(cfg, stream)  # rename onto the identical blob is fine
    assert {r.tag for r in store.list()} == {"1", "2"}
    validate(store.get("a:2"))
    assert Digest.of((store.root / "blobs" / "sha256" / cfg.digest.encoded).read_bytes()) == cfg.digest


def test_store_docker_schema2_manifest_list(store: Store, src: MemoryBlobs) -> None:
    amd = make_image(src, "d-amd", docker=True)
    arm = make_image(src, "d-arm", platform=Platform("linux", "arm", "v7"), docker=True)
    lst = make_index(src, [amd, arm], docker=True)
    desc = store.write(lst, ["docker/list:1"])
    assert desc.media_type == MediaType.DOCKER_MANIFEST_LIST
    validate(store.get("docker/list:1"))
    [row] = store.list()
    assert row.platforms == (Platform("linux", "amd64"), Platform("linux", "arm", "v7"))
    assert store.resolve(str(amd.digest())).media_type == MediaType.DOCKER_MANIFEST
