"""`--output json`: dive's `--json` export (same keys, same values, same order of files) plus dockyard's fields.

dive's export is `{"layer": [{index, id, digestId, sizeBytes, command, fileList}], "image": {sizeBytes,
inefficientBytes, efficiencyScore, fileReference}}`. Every one of those keys is here with dive's meaning, except
`id`, which dive takes from the archive member name of the layer (a legacy layer ID, or just `blobs` for newer
archives) and which is the layer digest's hex here. Added keys never change the meaning of dive's.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from typing import Any, TextIO

from dockyard.analyze.ci import Evaluation
from dockyard.analyze.divecompat import LayerTree, dive_order
from dockyard.analyze.model import Finding, Report
from dockyard.layers.tarformat import EntryType, TarEntry

_TYPE_FLAGS = {EntryType.FILE: 48, EntryType.HARDLINK: 49, EntryType.SYMLINK: 50, EntryType.CHAR: 51,
               EntryType.BLOCK: 52, EntryType.DIR: 53, EntryType.FIFO: 54}
_GO_TYPE_BITS = {EntryType.DIR: 1 << 31, EntryType.SYMLINK: 1 << 27, EntryType.CHAR: 1 << 26 | 1 << 21,
                 EntryType.BLOCK: 1 << 26, EntryType.FIFO: 1 << 25}


def go_file_mode(entry: TarEntry) -> int:
    """The entry's mode as Go's `os.FileMode` (what dive exports): permission, setuid/setgid/sticky, type bits."""
    mode = entry.mode & 0o777
    if entry.mode & 0o4000:
        mode |= 1 << 23
    if entry.mode & 0o2000:
        mode |= 1 << 22
    if entry.mode & 0o1000:
        mode |= 1 << 20
    return mode | _GO_TYPE_BITS.get(entry.type, 0)


#: One `fileList` item as `json.dumps(indent=2)` writes it in the document (items 8 spaces deep).
_ITEM = ("        {\n          \"path\": %s,\n          \"typeFlag\": %d,\n          \"linkName\": %s,\n"
         "          \"size\": %d,\n          \"fileMode\": %d,\n          \"uid\": %d,\n          \"gid\": %d,\n"
         "          \"isDir\": %s\n        }")
_EMPTY_ITEM = _ITEM % ('""', 0, '""', 0, 0, 0, 0, "false")
_encode = json.encoder.encode_basestring  # what json.dumps uses for strings with ensure_ascii=False
_BATCH = 4096  # fileList items written at once


def _file_list_text(entries: tuple[TarEntry, ...]) -> Iterator[str]:
    """dive's `fileList` for a layer, as JSON text at its place in the document, in pieces: every node of its tree
    (implied parents with an empty payload), children first, siblings sorted. Text straight away: 50,000 dicts for
    `json.dumps` to walk would take several times longer."""
    paths = dive_order(LayerTree(entries).sizes)
    if not paths:
        yield "[]"
        return
    last = {e.path: e for e in entries}
    modes: dict[tuple[int, EntryType], int] = {}
    yield "[\n"
    for start in range(0, len(paths), _BATCH):
        items = []
        for path in paths[start : start + _BATCH]:
            e = last.get(path)
            if e is None:
                items.append(_EMPTY_ITEM)
                continue
            mode = modes.get((e.mode, e.type))
            if mode is None:
                mode = modes[e.mode, e.type] = go_file_mode(e)
            items.append(_ITEM % (_encode(e.path), _TYPE_FLAGS[e.type], _encode(e.linkname), e.size, mode, e.uid,
                                  e.gid, "true" if e.type is EntryType.DIR else "false"))
        yield (",\n" if start else "") + ",\n".join(items)
    yield "\n      ]"


def _number(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else x


def _finding(f: Finding) -> dict[str, Any]:
    return {"kind": str(f.kind), "severity": str(f.severity), "title": f.title, "bytes": f.bytes, "fix": f.fix,
            "count": f.count, "items": [{"path": "/" + i.path, "layer": i.layer, "bytes": i.bytes, "detail": i.detail}
                                        for i in f.items]}


def _to_json(report: Report, evaluation: Evaluation | None, file_lists: list[str]) -> dict[str, Any]:
    layers = []
    for layer, file_list, delta in zip(report.layers, file_lists, report.deltas, strict=True):
        layers.append({
            "index": layer.index, "id": layer.digest.encoded,
            "digestId": str(layer.diff_id) if layer.diff_id else "", "sizeBytes": layer.size,
            "command": layer.command, "fileList": file_list,
            "digest": str(layer.digest), "mediaType": layer.media_type, "compressedSizeBytes": layer.compressed_size,
            "comment": layer.comment, "entries": layer.entries, "base": layer.base,
            "added": {"files": layer.added_files, "bytes": layer.added_bytes},
            "modified": {"files": layer.modified_files, "bytes": layer.modified_bytes},
            "removed": {"files": layer.removed_files, "bytes": layer.removed_bytes,
                        "paths": [{"path": "/" + r.path.lstrip("."), "files": r.files, "bytes": r.bytes,
                                   "opaque": r.opaque} for r in delta.removals]},
            "reclaimableBytes": layer.reclaimable_bytes,
        })
    d = report.dive
    image = {
        "sizeBytes": d.size_bytes, "inefficientBytes": d.wasted_bytes, "efficiencyScore": d.efficiency,
        "fileReference": [{"count": i.count, "sizeBytes": i.cumulative_size, "file": i.path}
                          for i in d.inefficiencies],
        "userSizeBytes": d.user_size_bytes, "wastedUserPercent": _number(d.wasted_user_percent),
        "reference": report.reference, "digest": str(report.digest), "mediaType": report.media_type,
        "platform": report.platform, "created": report.created, "compressedSizeBytes": report.compressed_size,
    }
    r, b = report.reclaim, report.base
    out: dict[str, Any] = {
        "layer": layers,
        "image": image,
        "reclaimable": {
            "addedBytes": r.added_bytes, "visibleBytes": r.visible_bytes, "reclaimableBytes": r.reclaimable_bytes,
            "paths": [{"path": "/" + w.path, "bytes": w.bytes, "copies": w.copies, "layers": list(w.layers),
                       "fate": w.fate, "finalLayer": w.final_layer, "metadataOnly": w.metadata_only}
                      for w in r.paths],
        },
        "base": {"source": b.source, "name": b.base_name, "digest": b.base_digest, "layers": b.layers,
                 "baseBytes": b.base_bytes, "appBytes": b.app_bytes, "baseReclaimableBytes": b.base_reclaimable,
                 "appReclaimableBytes": b.app_reclaimable, "note": b.note},
        "findings": [_finding(f) for f in report.findings],
    }
    if evaluation is not None:
        out["ci"] = {"pass": evaluation.passed, "misconfigured": evaluation.misconfigured,
                     "rules": [{"rule": x.rule, "status": str(x.status), "message": x.message}
                               for x in evaluation.results]}
    return out


def _pieces(report: Report, evaluation: Evaluation | None) -> Iterator[str]:
    """The document as `json.dumps(..., indent=2, ensure_ascii=False)` writes it, plus a final newline, in pieces:
    the file lists, most of it, are written in batches and never held whole."""
    nonce = os.urandom(8).hex()  # placeholders no string from the image can spell
    marks = [f"\0{nonce}:{i}\0" for i in range(len(report.entries))]
    text = json.dumps(_to_json(report, evaluation, marks), indent=2, ensure_ascii=False)
    start = 0
    for mark, entries in zip(marks, report.entries, strict=True):
        quoted = json.dumps(mark)
        at = text.index(quoted, start)
        yield text[start:at]
        yield from _file_list_text(entries)
        start = at + len(quoted)
    yield text[start:] + "\n"


def dumps(report: Report, evaluation: Evaluation | None = None) -> str:
    """The report as JSON text (dive's export plus dockyard's fields; the CI verdict when given)."""
    return "".join(_pieces(report, evaluation))


def write_json(report: Report, out: TextIO, evaluation: Evaluation | None = None) -> None:
    """Write `dumps(report, evaluation)` to `out`, piece by piece."""
    for piece in _pieces(report, evaluation):
        out.write(piece)
