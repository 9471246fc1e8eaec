"""Findings: what makes an image big or unsafe, each with its bytes, the paths behind it and a concrete fix."""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

from dockyard.analyze.apply import Merged
from dockyard.analyze.final import Final
from dockyard.analyze.model import Finding, FindingItem, FindingKind, Reclaim, Severity
from dockyard.analyze.patterns import PATTERNS
from dockyard.analyze.probes import Probes, SecretKind

#: Items kept per finding (the largest); the count says how many there are in all.
TOP = 20
_BYTES = itemgetter(2)
#: Paths under these hold vendored test fixtures: a private key there is very likely a sample.
_VENDORED = ("usr/lib/python", "usr/local/lib/python", "node_modules/", "usr/share/doc/", "site-packages/",
             "dist-packages/", "usr/share/ca-certificates/", "etc/ssl/")


def findings(merged: Merged, final: Final, reclaimed: Reclaim, probes: Probes) -> tuple[Finding, ...]:
    """All findings, safety first, then by bytes."""
    out: list[Finding] = []
    out.extend(_secrets(probes, merged))
    out.extend(_permissions(final))
    out.extend(_waste(reclaimed))
    out.extend(_bloat(final))
    out.extend(_unstripped(probes, merged))
    top = final.largest
    if top:
        out.append(Finding(FindingKind.LARGEST_FILES, Severity.INFO, f"the {len(top)} largest files",
                           sum(f.bytes for f in top), "check that each of these is needed at run time",
                           len(top), tuple(top)))
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


def _secrets(probes: Probes, merged: Merged) -> list[Finding]:
    if not probes.secrets:
        return []
    by_kind: dict[SecretKind, list[FindingItem]] = {}
    for hit in probes.secrets:
        gone = merged.lookup(hit.path) is None
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


def _permissions(final: Final) -> list[Finding]:
    out = [
        _finding(FindingKind.SETUID, Severity.MEDIUM, "setuid/setgid executables",
                 "remove the bits where not needed (`chmod u-s,g-s FILE`) and run as a non-root USER", final.setuid,
                 size=False),
        _finding(FindingKind.WORLD_WRITABLE, Severity.MEDIUM, "world-writable files and directories",
                 "drop the write bit for others (`chmod o-w PATH`), or add the sticky bit to shared directories",
                 final.writable, size=False),
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


def _bloat(final: Final) -> list[Finding]:
    groups = final.bloat
    out = []
    for pattern in PATTERNS:
        rows = groups.get(pattern.name)
        if rows:  # thousands of files in some images: items only for the ones listed
            severity = Severity.MEDIUM if pattern.kind is FindingKind.TOOLCHAIN else Severity.LOW
            rows.sort(key=lambda r: (-r[2], r[0]))
            top = tuple(FindingItem(path, layer, size) for path, layer, size in rows[:TOP])
            out.append(Finding(pattern.kind, severity, pattern.title, sum(map(_BYTES, rows)), pattern.fix,
                               len(rows), top))
    return out


def _unstripped(probes: Probes, merged: Merged) -> list[Finding]:
    if not probes.elves:
        return []
    items = [FindingItem(e.path, e.layer, e.strippable,
                         f"{e.symtab_bytes} B symbols, {e.debug_bytes} B debug info of {e.size} B")
             for e in probes.elves if _shows(merged, e.path, e.layer)]
    found = _finding(FindingKind.UNSTRIPPED, Severity.LOW, "unstripped ELF binaries (symbols, debug sections)",
                     "strip them (`strip --strip-unneeded`, Go: `-ldflags='-s -w'`, Rust: `strip = true`), or "
                     "install release builds without debug symbols", items)
    return [found] if found is not None else []


def _shows(merged: Merged, path: str, layer: int) -> bool:
    """True when the final filesystem shows `path` as that layer put it."""
    node = merged.lookup(path)
    return node is not None and node.layer == layer
