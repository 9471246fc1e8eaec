"""Findings: secrets (even deleted later), permissions, caches, docs, locales, toolchains, unstripped ELF."""

from __future__ import annotations

import struct
from pathlib import Path

from analyze_helpers import build_image  # type: ignore[import-not-found]

from dockyard.analyze import FindingKind, Severity, analyze
from dockyard.analyze.ci import Status, evaluate
from dockyard.analyze.ciconfig import CiRules
from dockyard.analyze.patterns import classify
from dockyard.analyze.probes import secret_candidate
from dockyard.layers.members import Member

F, D, W = Member.file, Member.dir, Member.whiteout
KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def elf(debug: int = 3000, symtab: int = 480, strtab: int = 100) -> bytes:
    """A little-endian ELF64 executable with .text, .debug_info, .symtab, .strtab and .shstrtab sections."""
    names = b"\0.text\0.debug_info\0.symtab\0.strtab\0.shstrtab\0"
    body = [(b".text", 1, 2000), (b".debug_info", 1, debug), (b".symtab", 2, symtab), (b".strtab", 3, strtab),
            (b".shstrtab", 3, len(names))]
    offset, blobs, headers = 64, [], [bytes(64)]
    for name, kind, size in body:
        data = names if name == b".shstrtab" else bytes([7]) * size
        link = 4 if name == b".symtab" else 0
        headers.append(struct.pack("<IIQQQQIIQQ", names.index(name + b"\0"), kind, 0, 0, offset, len(data), link, 0,
                                   1, 0))
        blobs.append(data)
        offset += len(data)
    head = bytearray(64)
    head[:8] = b"\x7fELF\x02\x01\x01\x00"
    struct.pack_into("<HHIQQQIHHHHHH", head, 16, 2, 62, 1, 0, 0, offset, 0, 64, 0, 0, 64, len(headers), 5)
    return bytes(head) + b"".join(blobs) + b"".join(headers)


def test_analyze_findings(tmp_path: Path) -> None:
    layers = [
        [D("root"), D("root/.ssh"), F("root/.ssh/id_rsa", KEY, mode=0o600), D("app"), F("app/.env", b"TOKEN=abc\n"),
         D("root/.aws"), F("root/.aws/credentials", b"[default]\naws_secret_access_key = x\n"),
         F("app/.env.example", b"TOKEN=\n"), D("usr"), D("usr/bin"), F("usr/bin/su", b"s" * 100, mode=0o4755),
         D("data", mode=0o777), F("data/shared", b"w", mode=0o666), D("tmp", mode=0o1777),
         D("usr/share"), D("usr/share/doc"), D("usr/share/doc/pkg"), F("usr/share/doc/pkg/README", b"d" * 700),
         D("usr/share/man"), D("usr/share/man/man1"), F("usr/share/man/man1/x.1.gz", b"m" * 300),
         D("usr/share/locale"), D("usr/share/locale/de"), F("usr/share/locale/de/x.mo", b"l" * 200),
         F("usr/bin/gcc-12", b"g" * 900), D("usr/include"), F("usr/include/stdio.h", b"h" * 50),
         D("var"), D("var/lib"), D("var/lib/apt"), D("var/lib/apt/lists"),
         F("var/lib/apt/lists/deb_Packages", b"p" * 5000), F("var/lib/apt/lists/lock", b""),
         D("usr/local"), D("usr/local/bin"), F("usr/local/bin/app", elf(), mode=0o755)],
        [D("root"), D("root/.ssh"), W("root/.ssh/id_rsa"), F("big.iso", b"i" * 10000)],
    ]
    _, image = build_image(tmp_path, layers)
    report = analyze(image)
    by_kind = {}
    for f in report.findings:
        by_kind.setdefault(f.kind, []).append(f)
    secrets = {i.path: i for f in by_kind[FindingKind.SECRET] for i in f.items}
    assert set(secrets) == {"root/.ssh/id_rsa", "app/.env", "root/.aws/credentials"}
    assert "deleted later" in secrets["root/.ssh/id_rsa"].detail and secrets["root/.ssh/id_rsa"].layer == 0
    assert all(f.severity is Severity.HIGH for f in by_kind[FindingKind.SECRET])
    assert [i.path for i in by_kind[FindingKind.SETUID][0].items] == ["usr/bin/su"]
    assert {i.path for i in by_kind[FindingKind.WORLD_WRITABLE][0].items} == {"data", "data/shared"}
    cache = by_kind[FindingKind.PACKAGE_CACHE][0]
    assert cache.bytes == 5000 and [i.path for i in cache.items] == ["var/lib/apt/lists/deb_Packages"]
    assert sorted(f.bytes for f in by_kind[FindingKind.DOCS]) == [300, 700]
    assert by_kind[FindingKind.LOCALES][0].bytes == 200
    assert by_kind[FindingKind.TOOLCHAIN][0].bytes == 950
    unstripped = by_kind[FindingKind.UNSTRIPPED][0]
    assert unstripped.items[0].path == "usr/local/bin/app" and unstripped.bytes == 3000 + 480 + 100
    assert report.findings[-1].kind is FindingKind.LARGEST_FILES
    assert report.findings[-1].items[0].path == "big.iso"
    deleted = by_kind[FindingKind.DELETED][0]
    assert deleted.items[0].path == "root/.ssh/id_rsa" and deleted.bytes == len(KEY)

    gate = evaluate(report, CiRules({"forbidSecrets": "true", "maxLayers": "1", "maxSize": "1MB",
                                     "maxReclaimable": "10"}))
    results = {r.rule: r for r in gate.results}
    assert results["forbidSecrets"].status is Status.FAIL and "/root/.ssh/id_rsa (layer 0)" in \
        results["forbidSecrets"].message
    assert results["maxLayers"].status is Status.FAIL
    assert results["maxSize"].status is Status.PASS
    assert results["maxReclaimable"].status is Status.FAIL
    assert not gate.passed


def test_analyze_vendored_keys_are_low(tmp_path: Path) -> None:
    layers = [[F("usr/lib/python3/dist-packages/pkg/tests/key.pem", KEY), F("srv/tls.key", KEY),
               F("etc/ssl/certs/ca.pem", b"-----BEGIN CERTIFICATE-----\n")]]
    report = analyze(build_image(tmp_path, layers)[1])
    found = {(i.path, f.severity) for f in report.secrets for i in f.items}
    assert found == {("usr/lib/python3/dist-packages/pkg/tests/key.pem", Severity.LOW), ("srv/tls.key", Severity.HIGH)}


def test_analyze_classify_and_candidates() -> None:
    assert classify("var/cache/apt/archives/libc6_2.36_amd64.deb") is not None
    assert classify("var/cache/apt/archives/lock") is None
    assert classify("root/.cache/pip/http/abc") is not None
    assert classify("usr/bin/make") is not None and classify("usr/bin/maker") is None
    assert classify("usr/lib/x86_64-linux-gnu/libc.so.6") is None
    for path in ("root/.ssh/id_ed25519", "app/.env", "app/.env.production", "home/u/.docker/config.json",
                 "root/.npmrc", "root/.config/gcloud/application_default_credentials.json", "root/.kube/config"):
        assert secret_candidate(path), path
    for path in ("app/.env.example", "usr/share/doc/readme", "etc/environment", "root/.bashrc"):
        assert not secret_candidate(path), path
