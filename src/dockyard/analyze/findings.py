"""Findings: what makes an image big or unsafe, each with its bytes, the paths behind it and a concrete fix."""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from dockyard.analyze.model import Finding, FindingItem, FindingKind, Reclaim, Severity
from dockyard.analyze.patterns import PATTERNS, Classifier
from dockyard.analyze.probes import Probes, SecretKind
from dockyard.analyze.reclaim import Visible
from dockyard.layers.tarformat import EntryType

#: Items kept per finding (the largest); the count says how many there are in all.
TOP = 20
_FILE, _DIR, _SYMLINK = EntryType.FILE, EntryType.DIR, EntryType.SYMLINK
#: Paths under these hold vendored test fixtures: a private key there is very likely a sample.
_VENDORED = ("usr/lib/python", "usr/local/lib/python", "node_modules/", "usr/share/doc/", "site-packages/",
             "dist-packages/", "usr/share/ca-certificates/", "etc/ssl/")


def findings(final: Visible, reclaimed: Reclaim, probes: Probes, *, largest: int = 10) -> tuple[Finding, ...]:
    """All findings, safety first, then by bytes."""
    out: list[Finding] = []
    out.extend(_secrets(probes, final))
    out.extend(_permissions(final))
    out.extend(_waste(reclaimed))
    out.extend(_bloat(final))
    out.extend(_unstripped(probes, final))
    top = heapq.nlargest(largest, ((p, n.layer, n.entry.size) for p, n in final.paths
                                   if n.entry is not None and n.entry.type is _FILE and n.entry.size),
                         key=lambda f: f[2])
    if top:
        out.append(Finding(FindingKind.LARGEST_FILES, Severity.INFO, f"the {len(top)} largest files",
                           sum(f[2] for f in top), "check that each of these is needed at run time",
                           len(top), tuple(FindingItem(p, lyr, size) for p, lyr, size in top)))
    order = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2, Severity.INFO: 3}
    out.sort(key=lambda f: (f.kind is FindingKind.LARGEST_FILES, order[f.severity], -f.bytes))
    return tuple(out)


def _finding(kind: FindingKind, severity: Severity, title: str, fix: str, items: Iterable[FindingItem],
             *, size: bool = True) -> Finding | None:
    ranked = sorted(items, key=lambda i: (-i.bytes, i.path))
    if not ranked:
        return None
    total = sum(i.bytes for i in ranked) if size else 0
    return Finding(kind, severity, title, total, fix, len(ranked), tuple(ranked[:TOP]))


def _secrets(probes: Probes, final: Visible) -> list[Finding]:
    if not probes.secrets:
        return []
    present = {p for p, _ in final.paths}
    by_kind: dict[SecretKind, list[FindingItem]] = {}
    for hit in probes.secrets:
        gone = hit.path not in present
        detail = f"{hit.kind}; deleted later, still in layer {hit.layer}'s blob" if gone else str(hit.kind)
        by_kind.setdefault(hit.kind, []).append(FindingItem(hit.path, hit.layer, hit.size, detail))
    out = []
    for kind, items in sorted(by_kind.items()):
        real = [i for i in items if not i.path.startswith(_VENDORED) and "/test" not in i.path]
        sample = [i for i in items if i not in real]
        fix = ("keep it out of the build context (.dockerignore) and pass secrets with "
               "`RUN --mount=type=secret,...`; rebuild without it and rotate the credential: deleting it in a later "
               "layer does not remove it from the image")
        for group, severity, title in ((real, Severity.HIGH, f"{kind} left in the image"),
                                       (sample, Severity.LOW, f"{kind} in vendored or test files")):
            found = _finding(FindingKind.SECRET, severity, title, fix, group, size=False)
            if found is not None:
                out.append(found)
    return out


def _permissions(final: Visible) -> list[Finding]:
    setuid, writable = [], []
    for path, node in final.paths:
        e = node.entry
        if e is None or e.type is _SYMLINK:
            continue
        if e.mode & 0o6000 and e.type is _FILE:
            bits = "+".join(name for bit, name in ((0o4000, "setuid"), (0o2000, "setgid")) if e.mode & bit)
            setuid.append(FindingItem(path, node.layer, e.size, f"{bits} {e.mode:04o}"))
        if e.mode & 0o002 and not (e.type is _DIR and e.mode & 0o1000):
            writable.append(FindingItem(path, node.layer, e.size, f"{e.type} {e.mode:04o}"))
    out = [
        _finding(FindingKind.SETUID, Severity.MEDIUM, "setuid/setgid executables",
                 "remove the bits where not needed (`chmod u-s,g-s FILE`) and run as a non-root USER", setuid,
                 size=False),
        _finding(FindingKind.WORLD_WRITABLE, Severity.MEDIUM, "world-writable files and directories",
                 "drop the write bit for others (`chmod o-w PATH`), or add the sticky bit to shared directories",
                 writable, size=False),
    ]
    return [f for f in out if f is not None]


def _waste(reclaimed: Reclaim) -> list[Finding]:
    over = [FindingItem(w.path, w.layers[-1], w.bytes, (
        f"{w.copies} dead cop{'y' if w.copies == 1 else 'ies'}, final copy from layer {w.final_layer}"
        + ("; same size, other permissions: chmod/chown-only" if w.metadata_only else "")))
        for w in reclaimed.paths if w.fate == "overwritten" and w.bytes]
    gone = [FindingItem(w.path, w.layers[-1], w.bytes,
                        f"deleted later; {w.copies} dead cop" + ("y" if w.copies == 1 else "ies"))
            for w in reclaimed.paths if w.fate == "deleted" and w.bytes]
    chmod = any(w.metadata_only for w in reclaimed.paths)
    out = [
        _finding(FindingKind.OVERWRITTEN, Severity.LOW, "files overwritten by later layers",
                 "create each file once, in its final form: set permissions with `COPY --chmod`/`--chown` instead of "
                 "a later `RUN chmod`/`chown`" if chmod else
                 "write each file once: merge the RUN steps that rewrite it, or order COPY steps so it is not "
                 "copied twice", over),
        _finding(FindingKind.DELETED, Severity.LOW, "files deleted by later layers (their bytes stay in the image)",
                 "delete files in the same RUN that creates them (`RUN build && rm -rf tmp`), or build in a "
                 "separate stage and `COPY --from` only what you need", gone),
    ]
    return [f for f in out if f is not None]


def _bloat(final: Visible) -> list[Finding]:
    groups: dict[str, list[FindingItem]] = {}
    classify = Classifier().classify
    for path, node in final.paths:
        e = node.entry
        if e is None or e.type is not _FILE:
            continue
        pattern = classify(path)
        if pattern is not None:
            groups.setdefault(pattern.name, []).append(FindingItem(path, node.layer, e.size))
    out = []
    for pattern in PATTERNS:
        items = groups.get(pattern.name)
        if items:
            severity = Severity.MEDIUM if pattern.kind is FindingKind.TOOLCHAIN else Severity.LOW
            found = _finding(pattern.kind, severity, pattern.title, pattern.fix, items)
            if found is not None:
                out.append(found)
    return out


def _unstripped(probes: Probes, final: Visible) -> list[Finding]:
    if not probes.elves:
        return []
    shown = {(p, n.layer) for p, n in final.paths}
    items = [FindingItem(e.path, e.layer, e.strippable,
                         f"{e.symtab_bytes} B symbols, {e.debug_bytes} B debug info of {e.size} B")
             for e in probes.elves if (e.path, e.layer) in shown]
    found = _finding(FindingKind.UNSTRIPPED, Severity.LOW, "unstripped ELF binaries (symbols, debug sections)",
                     "strip them (`strip --strip-unneeded`, Go: `-ldflags='-s -w'`, Rust: `strip = true`), or "
                     "install release builds without debug symbols", items)
    return [found] if found is not None else []
