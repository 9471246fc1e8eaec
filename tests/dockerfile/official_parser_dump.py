"""Dump the official BuildKit parser's view (PyPI `dockerfile`, Go parser via cgo) of Dockerfiles as JSON.

Run with an interpreter that has `dockerfile` installed (the reference-tools venv): `python official_parser_dump.py
FILE...` prints `{basename: [command, ...]}`, or `{basename: {"error": message}}` for a file it rejects;
with `--hashes` first, `{basename: sha256 of the compact sorted JSON}` (the golden file of the parity test).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import dockerfile  # type: ignore[import-not-found]


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def main(paths: list[str]) -> None:
    hashes = paths[:1] == ["--hashes"]
    paths = paths[1:] if hashes else paths
    out: dict[str, object] = {}
    for name in paths:
        try:
            commands = dockerfile.parse_file(name)
        except dockerfile.GoParseError as err:
            out[Path(name).name] = {"error": str(err)}
            continue
        out[Path(name).name] = [
            {"cmd": c.cmd, "sub_cmd": c.sub_cmd, "json": c.json, "original": c.original,
             "start_line": c.start_line, "end_line": c.end_line, "flags": list(c.flags), "value": list(c.value),
             "heredocs": [[h.name, h.file_descriptor, h.content] for h in c.heredocs]}
            for c in commands
        ]
    if hashes:
        out = {name: hashlib.sha256(canonical(value).encode()).hexdigest() for name, value in out.items()}
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
