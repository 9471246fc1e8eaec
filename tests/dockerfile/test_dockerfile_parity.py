"""Parser parity with BuildKit: its own test cases (expected AST dumps) and its parser on real Dockerfiles.

The official parser is the PyPI `dockerfile` package (BuildKit v0.12.5's Go parser through cgo) in the
reference-tools venv. Its output on the corpus is also pinned as hashes in
`tests/assets/dockerfile_parser/official-parser-v0.12.5.sha256.json`, so parity is checked even without it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from dockyard.dockerfile import DockerfileSyntaxError, Node, parse, parse_nodes
from dockyard.testing.peers import TOOLS_BIN, missing_peer

ASSETS = Path(__file__).parents[1] / "assets"
TESTFILES = ASSETS / "dockerfile_parser" / "testfiles"
NEGATIVE = ASSETS / "dockerfile_parser" / "testfiles-negative"
CORPUS = sorted((ASSETS / "dockerfiles").iterdir())
GOLDEN = ASSETS / "dockerfile_parser" / "official-parser-v0.12.5.sha256.json"
DUMPER = Path(__file__).with_name("official_parser_dump.py")

#: Hand-written corners, compared with the official parser when it is installed.
EDGE_CASES = {
    "heredoc-run": "FROM a\nRUN <<EOF cat > /x\nhello $X\nEOF\n",
    "heredoc-two-quoted": "FROM a\nCOPY <<\"EOF\" <<-'E2' /dst/\nx\nEOF\n\ty\n\tE2\n",
    "heredoc-fd": "FROM a\nRUN 3<<EOF cat <&3\nz\nEOF\n",
    "heredoc-terminator-indented": "FROM a\nRUN <<EOF\nx\n EOF\nEOF\n",
    "heredoc-in-mount-run": "FROM a\nRUN --mount=type=secret,id=x \\\n  --mount=type=bind,from=b,target=/b <<A <<B\n"
                            "a\nA\nb\nB\n",
    "heredoc-not-a-word": "FROM a\nRUN echo $'x' \"<<EOF\"\nRUN echo ${X:-<<EOF}\n",
    "heredoc-exec-form": "FROM a\nRUN [\"sh\", \"-c\", \"<<EOF\"]\nRUN x\n",
    "backtick-escape": "# escape=`\nFROM a\nRUN dir `\n  c:\\ `\n  # comment\n\n  x\n",
    "escaped-backslash-at-eol": "FROM a\nRUN echo \\\\\nRUN echo x \\  \n y\n",
    "continuation-in-quotes": "FROM a\nRUN echo \"a \\\\\n  b\"\n",
    "bom-and-directives": "\ufeff# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a AS b\n",
    "env-forms": "FROM a\nENV a=1 b=\"2 3\" c='4' \\\n  d=5\nLABEL \"x y\"=\"z\" w=\nENV legacy value with spaces\n",
    "json-trailing-garbage": "FROM a\nCMD [\"a\"] x\nSHELL [ \"bin/sh\" ] ]\n",
    "json-fallbacks": "FROM a\nCMD ['a']\nENTRYPOINT [\"a\",\nVOLUME [\"/a\" \"/b\"]\nCOPY [\"a b\", \"c\"]\n",
    "flags": "FROM --platform=$BUILDPLATFORM a\nRUN --mount=type=cache,target=/x --network=none echo\n"
             "COPY --from=b --chown=1:1 --chmod=755 --link a b/\nADD --checksum=sha256:abc https://x/y /z\n",
    "healthcheck": "FROM a\nHEALTHCHECK NONE\nHEALTHCHECK --interval=1s CMD curl x\nSTOPSIGNAL SIGTERM\n",
    "crlf": "FROM a\r\nRUN a \\\r\n b\r\n",
    "indented": "  FROM a\n\t# indented comment\n  RUN x\n",
    "onbuild": "FROM a\nONBUILD ADD . /app\nONBUILD RUN [\"x\"]\nMAINTAINER me <me@x>\n",
    "lowercase": "from a as B\nrun echo\ncopy . .\n",
    "unknown-instruction": "FROM a\nFOO bar\n",
    "args": "ARG A=\"x y\" B C='d'\nFROM a\nARG D\nEXPOSE 80/tcp 443\nVOLUME /c /d\n",
    "unterminated-heredoc": "FROM a\nRUN <<EOF\nunterminated\n",
    "env-without-value": "FROM a\nENV A\n",
    "duplicate-directive": "# syntax = x\n# syntax = y\nFROM a\n",
    "bad-escape-directive": "# escape=x\nFROM a\n",
    "empty": "",
    "comments-only": "# a\n\n# b\n",
}


def as_official(node: Node) -> dict[str, object]:
    """Our node in the shape of the `dockerfile` package's `Command` (v0.12.5 has no ENV/LABEL separators, and
    its C binding cuts strings at a NUL character: BuildKit's own `json` case keeps `\x00`, so do we)."""
    sub = node.sub
    values = [v.split("\x00", 1)[0] for v in (sub.values if sub else node.values)]
    if (sub or node).keyword.lower() in ("env", "label"):
        values = [v for i, v in enumerate(values) if i % 3 != 2]
    original = node.original
    if node.heredocs:
        original += "\n" + "".join(h.content + h.name + "\n" for h in node.heredocs)
    return {"cmd": node.keyword, "sub_cmd": sub.keyword if sub else None, "json": (sub or node).json,
            "original": original, "start_line": node.start_line, "end_line": node.end_line,
            "flags": list(node.flags), "value": values, "heredocs": [[h.name, h.fd, h.content] for h in node.heredocs]}


def ours(text: str) -> list[dict[str, object]] | dict[str, str]:
    try:
        return [as_official(n) for n in parse_nodes(text).nodes]
    except DockerfileSyntaxError as err:
        return {"error": err.reason}


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("case", sorted(p.name for p in TESTFILES.iterdir()))
def test_dockerfile_buildkit_testfile_dump(case: str) -> None:
    """Every positive BuildKit parser case renders exactly its expected `result` AST."""
    text = (TESTFILES / case / "Dockerfile").read_bytes().decode()
    assert parse_nodes(text).dump() == (TESTFILES / case / "result").read_text()


def test_dockerfile_buildkit_testfiles_count() -> None:
    assert len(list(TESTFILES.iterdir())) == 33
    assert len(list(NEGATIVE.iterdir())) == 4


@pytest.mark.parametrize("case", sorted(p.name for p in NEGATIVE.iterdir()))
def test_dockerfile_buildkit_negative_cases_error(case: str) -> None:
    with pytest.raises(DockerfileSyntaxError) as info:
        parse((NEGATIVE / case / "Dockerfile").read_text())
    assert info.value.line is not None


def test_dockerfile_corpus_matches_pinned_official_output() -> None:
    """Our parse of the 29 real Dockerfiles hashes to what the official parser produced (see GOLDEN)."""
    golden = json.loads(GOLDEN.read_text())
    assert sorted(golden) == [p.name for p in CORPUS]
    for path in CORPUS:
        digest = hashlib.sha256(canonical(ours(path.read_text())).encode()).hexdigest()
        assert digest == golden[path.name], path.name


def _official(paths: list[Path]) -> dict[str, object]:
    python = TOOLS_BIN / "python"
    usable = python.exists() and subprocess.run([str(python), "-c", "import dockerfile"], check=False,
                                                capture_output=True).returncode == 0
    if not usable:
        missing_peer("the `dockerfile` package (official BuildKit parser) is not in the tools venv "
                     "(.venv-tools/bin/pip install dockerfile==3.4.0)")
    out = subprocess.run([str(python), str(DUMPER), *map(str, paths)], capture_output=True, check=True, text=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.peer("dockerfile")
def test_dockerfile_parity_with_official_parser(tmp_path: Path) -> None:
    """Live: the official parser and ours agree on the corpus, BuildKit's test cases and the edge cases."""
    files = list(CORPUS)
    for name, text in EDGE_CASES.items():
        files.append(tmp_path / f"{name}.Dockerfile")
        files[-1].write_text(text)
    for case in sorted(TESTFILES.iterdir()):
        files.append(tmp_path / f"testfile-{case.name}.Dockerfile")
        files[-1].write_bytes((case / "Dockerfile").read_bytes())
    official = _official(files)
    mismatches = []
    for path in files:
        theirs, mine = official[path.name], ours(path.read_text())
        if isinstance(theirs, dict) or isinstance(mine, dict):
            if not (isinstance(theirs, dict) and isinstance(mine, dict)):
                mismatches.append((path.name, theirs, mine))
        elif theirs != mine:
            mismatches.append((path.name, theirs, mine))
    assert not mismatches
