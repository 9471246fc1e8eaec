"""The one-walk views of an analysis (final filesystem, dive's layer trees, the scanner's name hint) agree with the
plain path-by-path computations they replace, on random layers with ties, whiteouts, links and odd modes."""

from __future__ import annotations

import heapq
import json
import random
from pathlib import Path

import pytest
from analyze_helpers import build_image  # type: ignore[import-not-found]

from dockyard.analyze import analyze
from dockyard.analyze.apply import Merged
from dockyard.analyze.divecompat import LayerTree, dfs_key, dive_order
from dockyard.analyze.divestack import Stacked, Union
from dockyard.analyze.final import final_view
from dockyard.analyze.formats.json import dumps
from dockyard.analyze.model import FindingItem
from dockyard.analyze.patterns import Classifier
from dockyard.analyze.probes import SECRET_HINT, secret_candidate
from dockyard.layers.members import Member
from dockyard.layers.tarformat import EntryType, TarEntry

_DIRS = ("usr", "usr/share", "usr/share/doc", "usr/share/doc/pkg", "usr/bin", "etc", "tmp", "var/lib/apt/lists",
         "root/.cache/pip", "app")


def _random_layers(seed: int) -> list[list[TarEntry]]:
    rnd = random.Random(seed)
    layers: list[list[TarEntry]] = []
    known: list[str] = []
    for index in range(3):
        entries: list[TarEntry] = []
        for d in rnd.sample(_DIRS, 6):
            entries.append(TarEntry(d, EntryType.DIR, mode=rnd.choice([0o755, 0o777, 0o1777])))
        for _ in range(60):
            path = f"{rnd.choice(_DIRS)}/f{rnd.randrange(25)}"
            kind = rnd.choices([EntryType.FILE, EntryType.SYMLINK, EntryType.HARDLINK], [8, 1, 1])[0]
            if kind is EntryType.FILE:
                entries.append(TarEntry(path, kind, size=rnd.choice([0, 10, 10, 20, 300, 300]),
                                        mode=rnd.choice([0o644, 0o644, 0o4755, 0o2755, 0o666, 0o777])))
            elif kind is EntryType.SYMLINK:
                entries.append(TarEntry(path, kind, mode=0o777, linkname="x"))
            elif known:
                entries.append(TarEntry(path, kind, linkname=rnd.choice(known)))
            known.append(path)
        if index and known:
            for _ in range(4):
                victim = rnd.choice(known)
                parent, _, name = victim.rpartition("/")
                entries.append(TarEntry(f"{parent}/.wh.{name}", EntryType.FILE))
            entries.append(TarEntry(f"{rnd.choice(_DIRS)}/.wh..wh..opq", EntryType.FILE))
        layers.append(entries)
    return layers


@pytest.mark.parametrize("seed", range(12))
def test_final_view_matches_a_walk(seed: int) -> None:
    merged = Merged()
    layers = _random_layers(seed)
    for i, entries in enumerate(layers):
        merged.apply(i, entries)
    paths = list(merged.walk())
    shown = {p for p, _ in paths}
    for mentioned in {e.path for entries in layers for e in entries} | {d + "/gone" for d in _DIRS}:
        assert (merged.lookup(mentioned) is not None) == (mentioned in shown), mentioned
    final = final_view(merged, largest=10)

    live = {node.copy for _, node in paths if node.copy >= 0}
    assert {i for i, flag in enumerate(final.live) if flag} == live
    files = [(p, n.layer, n.entry.size) for p, n in paths
             if n.entry is not None and n.entry.type is EntryType.FILE and n.entry.size]
    top = heapq.nlargest(10, files, key=lambda f: f[2])  # ties in walk order: what the report always listed
    assert final.largest == [FindingItem(p, layer, size) for p, layer, size in top]

    setuid, writable, bloat = set(), set(), set()
    classify = Classifier().classify
    for path, node in paths:
        e = node.entry
        if e is None or e.type is EntryType.SYMLINK:
            continue
        if e.mode & 0o6000 and e.type is EntryType.FILE:
            setuid.add((path, node.layer))
        if e.mode & 0o002 and not (e.type is EntryType.DIR and e.mode & 0o1000):
            writable.add((path, node.layer, str(e.type)))
        pattern = classify(path) if e.type is EntryType.FILE else None
        if pattern is not None:
            bloat.add((pattern.name, path, node.layer, e.size))
    assert {(i.path, i.layer) for i in final.setuid} == setuid
    assert {(i.path, i.layer, i.detail.split()[0]) for i in final.writable} == writable
    assert {(name, *row) for name, rows in final.bloat.items() for row in rows} == bloat
    for path, node in paths:
        assert merged.lookup(path) is node


@pytest.mark.parametrize("seed", range(12))
def test_layer_tree_fast_path_matches_the_entry_by_entry_build(seed: int) -> None:
    rnd = random.Random(seed)
    entries = [TarEntry(f"{rnd.choice(_DIRS)}/f{i}", EntryType.FILE, size=rnd.randrange(50)) for i in range(40)]
    entries += [TarEntry(d, EntryType.DIR) for d in rnd.sample(_DIRS, 5)]  # the others are implied parents
    rnd.shuffle(entries)
    fast = LayerTree(entries)
    slow = LayerTree.__new__(LayerTree)
    slow._build(entries)
    assert fast.sizes == slow.sizes
    assert fast.nodes == slow.nodes
    assert fast.parents == slow.parents
    assert sorted(fast.leaves()) == sorted(slow.leaves())
    assert not fast.whiteouts


@pytest.mark.parametrize("path", [
    "root/.ssh/id_rsa", "home/u/.ssh/id_ed25519", "etc/ssl/private/server.key", "app/cert.pem", "a/b.p12",
    "app/.env", "app/.env.production", "srv/.env.local", "root/.aws/credentials",
    "root/.config/gcloud/access_tokens.db", "root/.kube/config", "root/.docker/config.json", "root/.npmrc",
    "root/.pypirc", "root/.netrc",
    "root/.git-credentials", "app/service-account.json", "root/.config/gcloud/legacy_credentials/u/adc.json",
    "root/.azure/accessTokens.json", "x/_netrc", "y/.dockercfg",
])
def test_secret_hint_passes_every_candidate(path: str) -> None:
    assert secret_candidate(path)
    assert path.endswith(SECRET_HINT.endings) or any(part in path for part in SECRET_HINT.contains)


def test_secret_hint_is_necessary_on_random_names() -> None:
    rnd = random.Random(5)
    alphabet = "abcdefgijklmnoprstuvwxyz._-/" + "envgcloudjsonrckeypem"
    for _ in range(20000):
        path = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 24)))
        if secret_candidate(path):
            assert path.endswith(SECRET_HINT.endings) or any(part in path for part in SECRET_HINT.contains), path


@pytest.mark.parametrize("seed", range(12))
def test_union_weighs_whiteouts_as_the_stacked_tree(seed: int) -> None:
    rnd = random.Random(seed)
    layers = []
    for _ in range(3):  # files, directories and files over each other's paths, implied parents, no whiteouts
        entries = []
        for _ in range(30):
            path = "/".join(rnd.choice("abc") for _ in range(rnd.randrange(1, 4)))
            kind = rnd.choice([EntryType.FILE, EntryType.DIR])
            entries.append(TarEntry(path, kind, size=rnd.randrange(1, 9) if kind is EntryType.FILE else 0))
        layers.append(list({e.path: e for e in entries}.values()) if seed % 2 else entries)  # odd: unique paths
    trees = [LayerTree(entries) for entries in layers]
    stacked = Stacked(trees[0])
    for tree in trees[1:]:
        stacked.stack(tree)
    paths = {"", "zz", "a/zz", *(p for t in trees for p in t.sizes)}
    assert Union(trees).deleted_sizes(paths) == {p: stacked.deleted_size(p) for p in paths}


@pytest.mark.parametrize("alphabet", ["ab-./", "a\u00e9\udc80\U0010ffff/", "ab\x00\x01/"])
def test_dive_order_sorts_as_dfs_key(alphabet: str) -> None:
    rnd = random.Random(len(alphabet) * 7 + ord(alphabet[-2]))
    for _ in range(200):
        paths = set()
        for _ in range(rnd.randrange(1, 40)):
            parts = ["".join(rnd.choice(alphabet.rstrip("/")) for _ in range(rnd.randrange(1, 4)))
                     for _ in range(rnd.randrange(1, 4))]
            paths.add("/".join(parts))
        assert dive_order(paths) == sorted(paths, key=dfs_key)


def test_json_text_is_what_json_dumps_writes(tmp_path: Path) -> None:
    odd = ["caf\u00e9 \u2603", 'quote"back\\slash', "tab\there", "bytes\udcff\udc80", "deep/er/still/here"]
    layers = [[Member.dir("d"), *(Member.file(f"d/{name}", b"x" * i, mode=0o4755) for i, name in enumerate(odd)),
               Member.symlink("d/link", "caf\u00e9 \u2603"), Member.hardlink("d/hard", "d/tab\there")],
              [Member.whiteout("d/deep"), Member.file("d/tab\there", b"yy")], []]
    report = analyze(build_image(tmp_path, layers)[1])
    text = dumps(report)
    assert json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n" == text
    assert [len(layer["fileList"]) for layer in json.loads(text)["layer"]] == [11, 3, 0]  # 3 implied parents
